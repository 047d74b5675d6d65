#include "harness/cases/cases_run.hpp"

namespace xdpturn {

namespace {

Status run_exact(DifferentialEngine& engine, CasesRun& run) {
    for (const FixedCase& c : fixed_cases()) {
        FixedCaseOutcome outcome = check_fixed_case(engine, c);
        if (outcome.setup_error)
            return Error{c.name + ": cannot lay its binding table in the program's maps: " + *outcome.setup_error};
        RowTally& tally = run.rows[static_cast<std::size_t>(c.expected.reason)];
        ++tally.cases;
        if (outcome.passed())
            ++tally.passed;
        else
            ++run.failed;
        run.outcomes.push_back({&c, std::move(outcome)});
    }
    return ok_status();
}

Status run_conformance(DifferentialEngine& engine, CasesRun& run) {
    for (const FixedCase& c : fixed_cases()) {
        if (c.refused_by_test_run) continue;
        if (auto set = engine.set_table(c.config, c.bindings); !set) return Error{c.name + ": " + set.error().message};
        auto compared = engine.compare(c.config, c.frame);
        if (!compared) return Error{c.name + ": " + compared.error().message};
        const Conformance conformance = compared->conformance->conformance;
        ++run.classes[static_cast<std::size_t>(conformance)];
        if (!compared->agree) ++run.defects;  // a defect class, or the checksum policy when strict
        FixedCaseOutcome outcome;
        outcome.comparison = std::move(*compared);
        run.outcomes.push_back({&c, std::move(outcome)});
    }
    return ok_status();
}

}  // namespace

int CasesRun::rows_without_case() const {
    int count = 0;
    for (Reason reason : all_reasons)
        if (row(reason).cases == 0 && reason != Reason::rewrite_failed) ++count;
    return count;
}

Result<CasesRun> run_cases(DifferentialEngine& engine) {
    CasesRun run;
    run.conformance = engine.judges_conformance();
    if (auto done = run.conformance ? run_conformance(engine, run) : run_exact(engine, run); !done) return done.error();
    return run;
}

}  // namespace xdpturn
