// The properties every generated case must satisfy, checked in one place for
// the RapidCheck tests and `xdpturn check`:
//   agreement  both engines give the same verdict and reason, and the same bytes;
//   unchanged  an XDP_PASS leaves the frame byte-identical to the input;
//   valid      every XDP_TX output is a valid frame on its own (frame_validator).
// The fourth, that the reason counters moved as the verdicts say, is checked
// over whole runs (counter totals against the verdict tally).
#pragma once

#include <optional>
#include <string>

#include "harness/check/generators.hpp"
#include "harness/compare/differential.hpp"

namespace xdpturn {

struct PropertyFailure {
    // "agreement", "unchanged", "valid", or "harness"; under the conformance
    // oracle the defect class (compare/conformance.hpp).
    std::string property;
    std::string details;
};

// Compares the case's frame against the engine's table as it stands (the
// caller syncs first) and checks every property.
std::optional<PropertyFailure> check_properties(DifferentialEngine& engine, const GeneratedCase& c,
                                                const std::vector<std::uint8_t>& frame, Comparison& comparison);

// The case on exactly its own table: set_table, then check_properties.
std::optional<PropertyFailure> check_case_alone(DifferentialEngine& engine, const GeneratedCase& c,
                                                const std::vector<std::uint8_t>& frame, Comparison& comparison);

}  // namespace xdpturn
