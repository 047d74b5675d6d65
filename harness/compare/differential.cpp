#include "harness/compare/differential.hpp"

#include <tuple>

namespace xdpturn {

Result<DifferentialEngine::Loaded*> DifferentialEngine::loaded_for(const DatapathConfig& config) {
    auto found = programs_.find(config);
    if (found != programs_.end()) return found->second.get();
    auto program =
        source_.object_path ? XdpProgram::load_file(*source_.object_path, config) : XdpProgram::load_builtin(config);
    if (!program) return program.error();
    auto loaded = std::make_unique<Loaded>(std::move(program).value());
    Loaded* raw = loaded.get();
    programs_.emplace(config, std::move(loaded));
    return raw;
}

Result<XdpProgram*> DifferentialEngine::program_for(const DatapathConfig& config) {
    auto loaded = loaded_for(config);
    if (!loaded) return loaded.error();
    return &(*loaded)->program;
}

Status DifferentialEngine::compare(const DatapathConfig& config, const BindingTable& bindings, Bytes frame,
                                   Comparison& result) {
    auto loaded = loaded_for(config);
    if (!loaded) return loaded.error();
    if (auto synced = (*loaded)->sync.apply(bindings); !synced) return synced.error();
    return run_both(**loaded, config, frame, result);
}

Status DifferentialEngine::compare_overlaid(const DatapathConfig& config, const BindingTable& bindings, Bytes frame,
                                            Comparison& result) {
    auto loaded = loaded_for(config);
    if (!loaded) return loaded.error();
    if (auto synced = (*loaded)->sync.overlay(bindings); !synced) return synced.error();
    return run_both(**loaded, config, frame, result);
}

Status DifferentialEngine::set_table(const DatapathConfig& config, const BindingTable& bindings) {
    auto loaded = loaded_for(config);
    if (!loaded) return loaded.error();
    return (*loaded)->sync.apply(bindings);
}

DifferentialEngine::SyscallTime DifferentialEngine::syscall_time() const {
    SyscallTime total;
    for (const auto& [config, loaded] : programs_) {
        total.test_run_ns += loaded->runner.syscall_nanoseconds();
        total.test_runs += loaded->runner.syscalls();
        total.map_ns += loaded->sync.syscall_nanoseconds();
        total.map_entries += loaded->sync.entries_changed();
    }
    return total;
}

Status DifferentialEngine::replace_layer(const DatapathConfig& config, const BindingTable& previous,
                                         const BindingTable& next) {
    auto loaded = loaded_for(config);
    if (!loaded) return loaded.error();
    return (*loaded)->sync.replace_layer(previous, next);
}

Status DifferentialEngine::run_both(Loaded& loaded, const DatapathConfig& config, Bytes frame, Comparison& result) {
    // The reference looks bindings up in the map's own mirror: both engines
    // see exactly the same table.
    const ReferenceModel model(config, loaded.sync.written());
    result.reference.decision = model.decide(frame, result.reference.output);
    if (result.reference.decision.verdict == Verdict::pass) result.reference.output.assign(frame.begin(), frame.end());

    if (auto ran = loaded.runner.run(frame, check_, run_); !ran) return ran.error();
    result.xdp.decision = Decision{run_.verdict, run_.reason};
    result.xdp.output.assign(run_.output.begin(), run_.output.end());

    const bool same_decision = result.reference.decision == result.xdp.decision;
    // A dropped frame has no output to compare; any other verdict does. The
    // field-by-field diff is only worked out when the bytes differ.
    const bool compare_bytes = result.reference.decision.verdict != Verdict::drop;
    const bool same_bytes = !compare_bytes || result.reference.output == result.xdp.output;
    result.output_diff =
        same_bytes ? FrameDiff{}
                   : compare_frames(result.reference.output, result.xdp.output, DissectOptions{config.turn_port});
    result.agree = same_decision && same_bytes;
    return ok_status();
}

Result<Comparison> DifferentialEngine::compare(const DatapathConfig& config, const BindingTable& bindings,
                                               Bytes frame) {
    Comparison result;
    if (auto compared = compare(config, bindings, frame, result); !compared) return compared.error();
    return result;
}

std::string Comparison::explain() const {
    if (agree) return {};
    std::string text;
    auto describe = [](const Decision& d) {
        return std::string(name(d.verdict)) + " / " + std::string(name(d.reason));
    };
    if (!(reference.decision == xdp.decision))
        text += "  decision: reference " + describe(reference.decision) + ", xdp " + describe(xdp.decision) + "\n";
    if (!output_diff.equal()) text += output_diff.render("reference", "xdp");
    return text;
}

}  // namespace xdpturn
