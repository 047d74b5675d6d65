// `xdpturn cases` as a run, as check_run and replay_run are for theirs:
// every fixed case through the differential engine, and what came of it.
// Under the exact oracle each case is held to its expected decision and to
// agreement (fixed_case_check); under the conformance oracle each is
// classed (docs/targets.md), since the expected decisions are our
// program's. Printing and reports are the command line's (cli/cases_report).
#pragma once

#include <array>
#include <vector>

#include "harness/cases/fixed_case_check.hpp"
#include "harness/cases/fixed_cases.hpp"
#include "harness/compare/differential.hpp"

namespace xdpturn {

struct CaseOutcome {
    const FixedCase* fixed = nullptr;
    // Under the conformance oracle only `comparison` is filled: its
    // `conformance` holds the class.
    FixedCaseOutcome outcome;
};

struct RowTally {
    int cases = 0;
    int passed = 0;
};

struct CasesRun {
    bool conformance = false;
    std::vector<CaseOutcome> outcomes;          // in fixed_cases() order
    std::array<RowTally, reason_count> rows{};  // exact: per expected reason
    ConformanceTally classes{};                 // conformance: per class
    int failed = 0;                             // exact: cases that missed their expectation
    int defects = 0;                            // conformance: cases classed as a defect

    const RowTally& row(Reason reason) const { return rows[static_cast<std::size_t>(reason)]; }
    // Contract rows without a case (exact), rewrite_failed aside: no frame
    // reaches it.
    int rows_without_case() const;
};

// Runs every fixed case. An error (exit 2) when a case cannot be set up,
// e.g. the program's maps cannot take its table: an input error, never a
// list of failed cases.
Result<CasesRun> run_cases(DifferentialEngine& engine);

}  // namespace xdpturn
