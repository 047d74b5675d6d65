#include "harness/compare/differential.hpp"

#include <chrono>

#include "harness/compare/target_engine.hpp"

namespace xdpturn {

namespace {
bool judged_by_conformance(const ProgramSource& source) {
    return source.conformance || (source.target && !source.target->has_reasons());
}
}  // namespace

DifferentialEngine::DifferentialEngine(const ProgramSource& source, CounterCheck check)
    : DifferentialEngine(source.target ? target_engines(source) : xdp_test_run_engines(source, check),
                         judged_by_conformance(source), source.strict_checksums) {}

void DifferentialEngine::judge(const DatapathConfig& config, const EngineUnderTest& engine, Bytes frame,
                               Comparison& result) const {
    const auto* target = dynamic_cast<const TargetEngine*>(&engine);
    static const TargetDescription ours = [] {
        TargetDescription description;
        description.name = "xdpturn";
        return description;
    }();
    const ConformanceInput input{config,
                                 frame,
                                 result.reference,
                                 result.xdp,
                                 target != nullptr ? target->description() : ours,
                                 target != nullptr ? target->environment() : nullptr,
                                 &engine.table()};
    result.conformance = judge_conformance(input);
    result.agree = !is_defect(result.conformance->conformance, strict_checksums_);
    result.output_diff = FrameDiff{};
}

Result<EngineUnderTest*> DifferentialEngine::engine_for(const DatapathConfig& config) {
    auto found = engines_.find(config);
    if (found != engines_.end()) return found->second.get();
    const auto started = std::chrono::steady_clock::now();
    auto made = factory_(config);
    load_ns_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
    if (!made) return made.error();
    EngineUnderTest* raw = made->get();
    engines_.emplace(config, std::move(made).value());
    return raw;
}

Status DifferentialEngine::set_table(const DatapathConfig& config, const BindingTable& table) {
    auto engine = engine_for(config);
    if (!engine) return engine.error();
    return (*engine)->set_table(table);
}

Status DifferentialEngine::overlay(const DatapathConfig& config, const BindingTable& entries) {
    auto engine = engine_for(config);
    if (!engine) return engine.error();
    return (*engine)->overlay(entries);
}

Status DifferentialEngine::replace_layer(const DatapathConfig& config, const BindingTable& previous,
                                         const BindingTable& next) {
    auto engine = engine_for(config);
    if (!engine) return engine.error();
    return (*engine)->replace_layer(previous, next);
}

Status DifferentialEngine::reset_state(const DatapathConfig& config) {
    auto found = engine_for(config);
    if (!found) return found.error();
    return (*found)->reset_state();
}

Status DifferentialEngine::reset_state() {
    for (const auto& [config, engine] : engines_)
        if (Status reset = engine->reset_state(); !reset) return reset;
    return ok_status();
}

void DifferentialEngine::forget(const DatapathConfig& config) {
    engines_.erase(config);
}

EngineCost DifferentialEngine::cost() const {
    EngineCost total;
    for (const auto& [config, engine] : engines_) total += engine->cost();
    total.reference_ns += reference_ns_;
    total.load_ns += load_ns_;
    return total;
}

Status DifferentialEngine::compare(const DatapathConfig& config, Bytes frame, Comparison& result) {
    auto found = engine_for(config);
    if (!found) return found.error();
    EngineUnderTest& engine = **found;
    // The reference looks bindings up in the engine's own table: both
    // engines see exactly the same one.
    const auto started = std::chrono::steady_clock::now();
    const ReferenceModel model(config, engine.table());
    const auto taken = engine.as_the_reference_takes(frame);
    result.reference.decision = model.decide(taken ? Bytes(*taken) : frame, result.reference.output);
    if (result.reference.decision.verdict == Verdict::pass) result.reference.output.assign(frame.begin(), frame.end());
    reference_ns_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());

    if (auto ran = engine.run(frame, result.xdp); !ran) return ran.error();
    if (conformance_) {
        judge(config, engine, frame, result);
        return ok_status();
    }
    result.conformance.reset();

    const bool same_decision = result.reference.decision == result.xdp.decision;
    // A dropped frame has no output to compare; any other verdict does. The
    // field-by-field diff is only worked out when the bytes differ.
    const bool compare_bytes = result.reference.decision.verdict != Verdict::drop;
    const bool same_bytes = !compare_bytes || result.reference.output == result.xdp.output;
    result.output_diff =
        same_bytes ? FrameDiff{}
                   : compare_frames(result.reference.output, result.xdp.output, DissectOptions{config.turn_port});
    // The program's counters are its account of its decisions: a frame
    // counted under another reason disagrees with the reference too.
    result.agree = same_decision && same_bytes && result.xdp.miscounted.empty();
    return ok_status();
}

Result<Comparison> DifferentialEngine::compare(const DatapathConfig& config, Bytes frame) {
    Comparison result;
    if (auto compared = compare(config, frame, result); !compared) return compared.error();
    return result;
}

std::string Comparison::explain() const {
    if (agree) return {};
    std::string text;
    if (conformance) return "  " + std::string(name(conformance->conformance)) + ": " + conformance->detail + "\n";
    if (!(reference.decision == xdp.decision))
        text += "  decision: reference " + to_string(reference.decision) + ", xdp " + to_string(xdp.decision) + "\n";
    if (!output_diff.equal()) text += output_diff.render("reference", "xdp");
    if (!xdp.miscounted.empty()) text += "  counters: " + xdp.miscounted + "\n";
    return text;
}

}  // namespace xdpturn
