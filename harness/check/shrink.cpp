#include "harness/check/shrink.hpp"

#include <sstream>

#include "harness/check/case_blocks.hpp"
#include "harness/check/properties.hpp"

namespace xdpturn {

namespace {

std::string show(const GeneratedCase& c) {
    std::ostringstream text;
    showValue(c, text);
    return text.str();
}

// Runs candidates of one failing case against a table that stays fixed
// underneath the candidates' own entries.
class Shrinker {
  public:
    Shrinker(const CheckOptions& options, BindingTable background, std::optional<Conformance> defect)
        : options_(options),
          defect_(defect),
          background_(std::move(background)),
          engine_(options.program, CounterCheck::last_reason_only) {}

    GeneratedCase with_background(GeneratedCase c) const {
        LaidTable table(background_);
        table.lay(c.bindings);
        c.bindings = table.table();
        return c;
    }

    PropertyCheck evaluate(const std::vector<std::uint32_t>& choices) {
        ++runs_;
        const GeneratedCase c = with_background(interpret_choices(choices));
        return check_case_alone(engine_, c, frame_of(c), comparison_);
    }
    bool still_fails(const std::vector<std::uint32_t>& choices) {
        const PropertyCheck checked = evaluate(choices);
        if (!checked || !*checked) return false;  // a candidate the harness cannot run does not fail
        const PropertyFailure& found = **checked;
        return !defect_ || (found.property == Property::conformance && found.defect == *defect_);
    }
    bool out_of_runs() const { return runs_ >= options_.max_shrink_runs; }

    // Steps down the shrink tree while a smaller case still fails.
    void shrink_choices(rc::Shrinkable<std::vector<std::uint32_t>>& shrinkable, std::uint64_t& steps) {
        for (bool smaller = true; smaller && !out_of_runs();) {
            smaller = false;
            auto shrinks = shrinkable.shrinks();
            while (auto candidate = shrinks.next()) {
                if (out_of_runs()) break;
                if (still_fails(candidate->value())) {
                    shrinkable = std::move(*candidate);
                    ++steps;
                    smaller = true;
                    break;
                }
            }
        }
    }

    // Tries the case without the table it met, then with only the entries of
    // the frame's own client address.
    void shrink_background(const std::vector<std::uint32_t>& choices, std::uint64_t& steps) {
        if (background_.empty()) return;
        const GeneratedCase shrunk = interpret_choices(choices);
        BindingTable same_client;
        for (const auto& entry : background_)
            if (entry.first.client.address == shrunk.spec.ip_source) same_client.insert(entry);
        for (BindingTable& smaller_table : std::array{BindingTable{}, std::move(same_client)}) {
            BindingTable kept = std::exchange(background_, std::move(smaller_table));
            if (still_fails(choices)) {
                ++steps;
                return;
            }
            background_ = std::move(kept);
        }
    }

    std::uint64_t runs() const { return runs_; }
    DifferentialEngine& engine() { return engine_; }
    Comparison& comparison() { return comparison_; }

  private:
    const CheckOptions& options_;
    std::optional<Conformance> defect_;
    BindingTable background_;
    DifferentialEngine engine_;
    Comparison comparison_;
    std::uint64_t runs_ = 0;
};

}  // namespace

Result<CheckFailure> shrink_and_save(const CheckOptions& options, std::uint64_t case_index,
                                     std::optional<Conformance> defect) {
    CheckFailure failure;
    failure.case_index = case_index;
    Shrinker shrinker(options, table_met_by(options.seed, case_index, options.cases), defect);
    auto shrinkable = shrinkable_choices(case_choices(options.seed, case_index));
    if (!shrinker.still_fails(shrinkable.value()))
        return Error{"case " + std::to_string(case_index) + " failed once and then passed"};
    if (options.shrink) shrinker.shrink_choices(shrinkable, failure.shrink_steps);
    failure.choices = shrinkable.value();
    if (options.shrink) shrinker.shrink_background(failure.choices, failure.shrink_steps);

    // Run the final case once more so the comparison describes it.
    const GeneratedCase final_case = shrinker.with_background(interpret_choices(failure.choices));
    const std::vector<std::uint8_t> frame = frame_of(final_case);
    const PropertyCheck checked = check_case_alone(shrinker.engine(), final_case, frame, shrinker.comparison());
    if (!checked) return checked.error();
    if (!*checked) return Error{"the shrunk case stopped failing when run again"};
    const PropertyFailure& found = **checked;
    failure.shrink_runs = shrinker.runs();
    failure.property = found.label();
    failure.details = found.details;
    failure.shown_case = show(final_case);
    const std::string stem = options.counterexample_dir + "/seed-" + std::to_string(options.seed) + "-case-" +
                             std::to_string(case_index) + (defect ? "-" + std::string(name(*defect)) : "");
    auto saved = write_counterexample(stem, final_case, frame, shrinker.comparison(),
                                      {options.seed, case_index, failure.property, options.program.describe()});
    if (saved)
        failure.saved = *saved;
    else
        failure.save_error = saved.error().message;
    return failure;
}

}  // namespace xdpturn
