// Checks one fixed case against its expectations with both engines; shared
// by the Boost tests and `xdpturn cases`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness/cases/fixed_cases.hpp"
#include "harness/compare/differential.hpp"

namespace xdpturn {

struct FixedCaseOutcome {
    std::optional<Comparison> comparison;  // absent when the XDP side could not run
    std::string xdp_refusal;               // why BPF_PROG_TEST_RUN did not take the frame
    std::vector<std::string> problems;     // each unmet expectation, with its diff
    // The case could not be set up (its table does not fit the program's
    // maps): an environment or input error, never a disagreement.
    std::optional<std::string> setup_error;
    bool passed() const { return problems.empty(); }
};

FixedCaseOutcome check_fixed_case(DifferentialEngine& engine, const FixedCase& c);

// Writes input, expected, reference and XDP frames of a case to a pcap.
Status write_case_pcap(const std::string& path, const FixedCase& c, const FixedCaseOutcome& outcome);

}  // namespace xdpturn
