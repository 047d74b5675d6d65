#include "harness/compare/xdp_test_run_engine.hpp"

namespace xdpturn {

Result<std::unique_ptr<XdpTestRunEngine>> XdpTestRunEngine::load(const ProgramSource& source,
                                                                 const DatapathConfig& config, CounterCheck check) {
    auto program = XdpProgram::load(source.object_path, config);
    if (!program) return program.error();
    return std::unique_ptr<XdpTestRunEngine>(new XdpTestRunEngine(std::move(program).value(), check));
}

Status XdpTestRunEngine::run(Bytes frame, EngineOutcome& outcome) {
    if (auto ran = runner_.run(frame, check_, run_); !ran) return ran.error();
    outcome.decision = Decision{run_.verdict, run_.reason};
    outcome.output.assign(run_.output.begin(), run_.output.end());
    outcome.miscounted = run_.miscounted;
    return ok_status();
}

EngineCost XdpTestRunEngine::cost() const {
    return EngineCost{runner_.syscall_nanoseconds(), runner_.syscalls(), sync_.syscall_nanoseconds(),
                      sync_.entries_changed()};
}

EngineFactory xdp_test_run_engines(ProgramSource source, CounterCheck check) {
    return
        [source = std::move(source), check](const DatapathConfig& config) -> Result<std::unique_ptr<EngineUnderTest>> {
            auto engine = XdpTestRunEngine::load(source, config, check);
            if (!engine) return engine.error();
            return std::unique_ptr<EngineUnderTest>(std::move(engine).value());
        };
}

}  // namespace xdpturn
