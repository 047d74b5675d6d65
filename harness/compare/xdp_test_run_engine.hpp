// The XDP program as an engine under test: loaded once per configuration,
// its binding map kept by MapSync, each frame run by BPF_PROG_TEST_RUN.
#pragma once

#include "harness/compare/engine.hpp"
#include "harness/compare/program_source.hpp"
#include "harness/xdp/map_sync.hpp"
#include "harness/xdp/prog_test_run.hpp"
#include "harness/xdp/xdp_program.hpp"

namespace xdpturn {

class XdpTestRunEngine final : public EngineUnderTest {
  public:
    static Result<std::unique_ptr<XdpTestRunEngine>> load(const ProgramSource& source, const DatapathConfig& config,
                                                          CounterCheck check);

    Status set_table(const BindingTable& table) override { return sync_.apply(table); }
    Status overlay(const BindingTable& entries) override { return sync_.overlay(entries); }
    Status replace_layer(const BindingTable& previous, const BindingTable& next) override {
        return sync_.replace_layer(previous, next);
    }
    const BindingTable& table() const override { return sync_.written(); }
    Status run(Bytes frame, EngineOutcome& outcome) override;
    Result<ReasonTally> counters() const override { return program_.read_counters(); }
    Status reset_state() override { return program_.reset_state(); }
    EngineCost cost() const override;

    XdpProgram& program() { return program_; }

  private:
    XdpTestRunEngine(XdpProgram&& program, CounterCheck check)
        : program_(std::move(program)), sync_(program_), runner_(program_), check_(check) {}

    XdpProgram program_;
    MapSync sync_;
    ProgTestRunner runner_;
    CounterCheck check_;
    XdpRun run_;
};

// A factory of XdpTestRunEngines for DifferentialEngine.
EngineFactory xdp_test_run_engines(ProgramSource source, CounterCheck check);

}  // namespace xdpturn
