#include "harness/check/shrink.hpp"

#include <sstream>

#include "harness/check/case_blocks.hpp"
#include "harness/check/properties.hpp"
#include "harness/xdp/cpu_pin.hpp"

namespace xdpturn {

namespace {

// The choices of each frame of a sequence, in the order they run.
using ChoiceSequence = std::vector<std::vector<std::uint32_t>>;

std::string show(const GeneratedCase& c) {
    std::ostringstream text;
    showValue(c, text);
    return text.str();
}

// Runs candidates of one failing case against a table that stays fixed
// underneath the candidates' own entries.
class Shrinker {
  public:
    Shrinker(const CheckOptions& options, BindingTable background, std::optional<DefectGroup> defect,
             DifferentialEngine& engine)
        : options_(options), defect_(defect), background_(std::move(background)), engine_(engine) {}

    GeneratedCase with_background(GeneratedCase c) const {
        LaidTable table(background_);
        table.lay(c.bindings);
        c.bindings = table.table();
        return c;
    }

    // The case alone: on its table, from the state a fresh load has.
    PropertyCheck evaluate(const std::vector<std::uint32_t>& choices) {
        ++runs_;
        const GeneratedCase c = with_background(interpret_choices(choices));
        keep_recent(c.config);
        if (Status reset = engine_.reset_state(c.config); !reset) return reset.error();
        return check_case_alone(engine_, c, frame_of(c), comparison_);
    }
    bool still_fails(const std::vector<std::uint32_t>& choices) { return counts(evaluate(choices)); }

    // A sequence: from the state a fresh load has, every frame in turn on
    // one table (the background with each frame's entries laid in order).
    // The first frame that fails ends it; `failed_at` says which.
    PropertyCheck evaluate(const ChoiceSequence& sequence, std::size_t& failed_at) {
        ++runs_;
        const std::vector<GeneratedCase> cases = sequence_cases(sequence);
        keep_recent(cases.back().config);
        if (Status reset = engine_.reset_state(cases.back().config); !reset) return reset.error();
        if (Status set = engine_.set_table(cases.back().config, cases.back().bindings); !set) return set.error();
        for (failed_at = 0; failed_at < cases.size(); ++failed_at) {
            PropertyCheck checked =
                check_properties(engine_, cases[failed_at], frame_of(cases[failed_at]), comparison_);
            if (!checked || *checked) return checked;
        }
        return std::optional<PropertyFailure>{};
    }
    bool still_fails(const ChoiceSequence& sequence) {
        std::size_t failed_at = 0;
        return counts(evaluate(sequence, failed_at)) && failed_at + 1 == sequence.size();
    }

    // The frames of a sequence as cases, each with the one table and the
    // one configuration they share (the last frame's).
    std::vector<GeneratedCase> sequence_cases(const ChoiceSequence& sequence) const {
        std::vector<GeneratedCase> cases;
        LaidTable table(background_);
        const std::vector<std::uint32_t>& last = sequence.back();
        const auto config_part = static_cast<std::ptrdiff_t>(std::min(last.size(), config_choices_per_case));
        for (std::vector<std::uint32_t> choices : sequence) {
            // Every frame made for the last frame's configuration.
            if (choices.size() >= static_cast<std::size_t>(config_part))
                std::copy(last.begin(), last.begin() + config_part, choices.begin());
            cases.push_back(interpret_choices(choices));
            table.lay(cases.back().bindings);
        }
        for (GeneratedCase& c : cases) c.bindings = table.table();
        return cases;
    }
    bool out_of_runs() const { return runs_ >= options_.max_shrink_runs; }

    // Steps down the shrink tree while a smaller case still fails.
    void shrink_choices(rc::Shrinkable<std::vector<std::uint32_t>>& shrinkable, std::uint64_t& steps) {
        // The configuration first, each choice to zero once: the tree tries
        // them last (each is a load), and a long shrink may never get there.
        std::vector<std::uint32_t> choices = shrinkable.value();
        if (simplify_configuration(choices, steps)) shrinkable = shrinkable_choices(std::move(choices));
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

    // Each configuration choice set to zero, kept where the case still
    // fails; true when any was.
    bool simplify_configuration(std::vector<std::uint32_t>& choices, std::uint64_t& steps) {
        bool simpler = false;
        for (std::size_t i = 0; i < std::min(choices.size(), config_choices_per_case) && !out_of_runs(); ++i) {
            if (choices[i] == 0) continue;
            std::vector<std::uint32_t> tried = choices;
            tried[i] = 0;
            if (!still_fails(tried)) continue;
            choices = std::move(tried);
            simpler = true;
            ++steps;
        }
        return simpler;
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

    // Drops earlier frames while the last one still fails after the rest:
    // halves of what is left first, then single frames.
    void drop_frames(ChoiceSequence& sequence, std::uint64_t& steps) {
        for (std::size_t chunk = std::max<std::size_t>(1, (sequence.size() - 1) / 2); chunk > 0 && !out_of_runs();
             chunk /= 2) {
            for (std::size_t start = 0; start + 1 < sequence.size() && !out_of_runs();) {
                const std::size_t end = std::min(start + chunk, sequence.size() - 1);
                ChoiceSequence shorter = sequence;
                shorter.erase(shorter.begin() + static_cast<std::ptrdiff_t>(start),
                              shorter.begin() + static_cast<std::ptrdiff_t>(end));
                if (still_fails(shorter)) {
                    sequence = std::move(shorter);
                    ++steps;
                } else {
                    start = end;
                }
            }
        }
    }

    // Shrinks each frame's choices in turn, the others held.
    void shrink_frames(ChoiceSequence& sequence, std::uint64_t& steps) {
        for (std::size_t i = 0; i < sequence.size() && !out_of_runs(); ++i) {
            auto shrinkable = shrinkable_choices(sequence[i]);
            for (bool smaller = true; smaller && !out_of_runs();) {
                smaller = false;
                auto shrinks = shrinkable.shrinks();
                while (auto candidate = shrinks.next()) {
                    if (out_of_runs()) break;
                    ChoiceSequence tried = sequence;
                    tried[i] = candidate->value();
                    if (still_fails(tried)) {
                        shrinkable = std::move(*candidate);
                        sequence = std::move(tried);
                        ++steps;
                        smaller = true;
                        break;
                    }
                }
            }
        }
    }

    std::uint64_t runs() const { return runs_; }
    DifferentialEngine& engine() { return engine_; }
    Comparison& comparison() { return comparison_; }

  private:
    // Candidates that change the configuration load a program each; the
    // case's own stays loaded (it comes back after every rejected one), the
    // oldest of the rest is unloaded.
    void keep_recent(const DatapathConfig& config) {
        constexpr std::size_t programs_kept = 4;
        std::erase(recent_, config);
        recent_.insert(recent_.begin(), config);
        if (recent_.size() > programs_kept) {
            engine_.forget(recent_.back());
            recent_.pop_back();
        }
    }

    // A failure that counts: any, or under the conformance oracle one of the
    // class being shrunk. A candidate the harness cannot run does not fail.
    bool counts(const PropertyCheck& checked) const {
        if (!checked || !*checked) return false;
        const PropertyFailure& found = **checked;
        return !defect_ || (found.property == Property::conformance && found.group == *defect_);
    }

    const CheckOptions& options_;
    std::optional<DefectGroup> defect_;
    BindingTable background_;
    DifferentialEngine& engine_;
    Comparison comparison_;
    std::uint64_t runs_ = 0;
    std::vector<DatapathConfig> recent_;  // most recently used first
};

// The frames that ran on case `index`'s program in its block before it, and
// the case itself: its block's earlier cases of its configuration (each
// configuration is a program of its own, and a run resets every program's
// state as a block starts).
ChoiceSequence block_sequence(const CheckOptions& options, std::uint64_t index) {
    const DatapathConfig config = interpret_choices(case_choices(options.seed, index)).config;
    ChoiceSequence sequence;
    for (std::uint64_t i = index / block_cases * block_cases; i < index; ++i)
        if (auto choices = case_choices(options.seed, i); interpret_choices(choices).config == config)
            sequence.push_back(std::move(choices));
    sequence.push_back(case_choices(options.seed, index));
    return sequence;
}

std::string stem_of(const CheckOptions& options, std::uint64_t case_index, std::optional<DefectGroup> defect) {
    return options.counterexample_dir + "/seed-" + std::to_string(options.seed) + "-case-" +
           std::to_string(case_index) + (defect ? "-" + std::string(name(defect->defect)) : "");
}

// Describes the final case of a failure and saves it with the inputs that ran.
Result<CheckFailure> describe_and_save(const CheckOptions& options, CheckFailure failure,
                                       std::optional<DefectGroup> defect, const PropertyCheck& checked,
                                       const GeneratedCase& final_case,
                                       const std::vector<std::vector<std::uint8_t>>& inputs, Shrinker& shrinker) {
    if (!checked) return checked.error();
    if (!*checked) return Error{"the shrunk case stopped failing when run again"};
    const PropertyFailure& found = **checked;
    failure.shrink_runs = shrinker.runs();
    failure.property = found.label();
    failure.details = found.details;
    failure.shown_case = show(final_case);
    failure.frames = inputs.size();
    if (found.property == Property::conformance) failure.group = found.group.key();
    auto saved =
        write_counterexample(stem_of(options, failure.case_index, defect), final_case, inputs, shrinker.comparison(),
                             {options.seed, failure.case_index, failure.property, options.program.describe()});
    if (saved)
        failure.saved = *saved;
    else
        failure.save_error = saved.error().message;
    return failure;
}

// A case that passes alone: it fails after the frames before it in its
// block, or the run met something outside the block.
Result<CheckFailure> shrink_sequence(const CheckOptions& options, CheckFailure failure,
                                     std::optional<DefectGroup> defect, Shrinker& shrinker) {
    ChoiceSequence sequence = block_sequence(options, failure.case_index);
    if (!shrinker.still_fails(sequence))
        return Error{"case " + std::to_string(failure.case_index) +
                     " failed in the run, yet passes alone and after the frames before it in its block"};
    if (options.shrink) {
        shrinker.drop_frames(sequence, failure.shrink_steps);
        shrinker.shrink_frames(sequence, failure.shrink_steps);
    }
    failure.choices = sequence.back();
    std::size_t failed_at = 0;
    const PropertyCheck checked = shrinker.evaluate(sequence, failed_at);
    const std::vector<GeneratedCase> cases = shrinker.sequence_cases(sequence);
    std::vector<std::vector<std::uint8_t>> inputs;
    for (const GeneratedCase& c : cases) inputs.push_back(frame_of(c));
    if (checked && *checked && failed_at + 1 != cases.size())
        return Error{"the shrunk sequence failed before its last frame when run again"};
    return describe_and_save(options, std::move(failure), defect, checked, cases.back(), inputs, shrinker);
}

}  // namespace

Result<CheckFailure> shrink_and_save(const CheckOptions& options, std::uint64_t case_index,
                                     std::optional<DefectGroup> defect, CounterCheck counters) {
    DifferentialEngine engine(options.program, counters);
    return shrink_and_save(options, case_index, defect, engine);
}

Result<CheckFailure> shrink_and_save(const CheckOptions& options, std::uint64_t case_index,
                                     std::optional<DefectGroup> defect, DifferentialEngine& engine) {
    CheckFailure failure;
    failure.case_index = case_index;
    // Every run of the shrinker on one CPU, as the run's job ran its block:
    // a program's per-CPU state is seen only by frames on the same CPU.
    const CpuPin one_cpu;
    Shrinker shrinker(options, table_met_by(options.seed, case_index, options.cases), defect, engine);
    auto shrinkable = shrinkable_choices(case_choices(options.seed, case_index));
    if (!shrinker.still_fails(shrinkable.value()))
        return shrink_sequence(options, std::move(failure), defect, shrinker);
    if (options.shrink) shrinker.shrink_choices(shrinkable, failure.shrink_steps);
    failure.choices = shrinkable.value();
    if (options.shrink) shrinker.shrink_background(failure.choices, failure.shrink_steps);

    // Run the final case once more so the comparison describes it.
    const GeneratedCase final_case = shrinker.with_background(interpret_choices(failure.choices));
    const std::vector<std::uint8_t> frame = frame_of(final_case);
    const PropertyCheck checked = shrinker.evaluate(failure.choices);
    return describe_and_save(options, std::move(failure), defect, checked, final_case, {frame}, shrinker);
}

}  // namespace xdpturn
