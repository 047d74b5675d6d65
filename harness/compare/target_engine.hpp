// A target (a program not ours) as an engine under test: loaded once per
// configuration as its description says, its binding maps written entry by
// entry, each frame run by BPF_PROG_TEST_RUN. A target that forwards with
// bpf_fib_lookup runs inside the FIB namespace, with the namespace's
// interface as the frame's ingress interface.
#pragma once

#include <memory>

#include "harness/compare/engine.hpp"
#include "harness/compare/program_source.hpp"
#include "harness/foreign/fib_environment.hpp"
#include "harness/foreign/target_program.hpp"
#include "harness/xdp/xdp_program.hpp"

namespace xdpturn {

class TargetEngine final : public EngineUnderTest {
  public:
    static Result<std::unique_ptr<TargetEngine>> load(const ProgramSource& source, const DatapathConfig& config);

    Status set_table(const BindingTable& table) override;
    Status overlay(const BindingTable& entries) override;
    Status replace_layer(const BindingTable& previous, const BindingTable& next) override;
    // The bindings the maps hold: what the reference must decide against.
    const BindingTable& table() const override { return mapped_; }
    Status run(Bytes frame, EngineOutcome& outcome) override;
    Result<ReasonTally> counters() const override { return program_.read_counters(); }
    Status reset_state() override { return program_.reset_state(); }
    EngineCost cost() const override;
    // A frame to an address other than the host's, on a path whose key
    // holds a wildcard: as sent to the host's address.
    std::optional<std::vector<std::uint8_t>> as_the_reference_takes(Bytes frame) const override;

    const TargetDescription& description() const { return program_.description(); }
    // The FIB namespace, for targets that forward with bpf_fib_lookup.
    const FibEnvironment* environment() const { return environment_.get(); }

  private:
    TargetEngine(TargetProgram&& program, std::shared_ptr<FibEnvironment> environment, const DatapathConfig& config)
        : program_(std::move(program)),
          environment_(std::move(environment)),
          config_(config),
          wildcard_to_server_(program_.description().keys_by_wildcard(FieldSource::server_address)),
          wildcard_to_relay_(program_.description().keys_by_wildcard(FieldSource::relay_address)) {}
    // Removes the entries of `candidates` that `keep` lacks.
    Status remove_missing(const BindingTable& candidates, const BindingTable& keep);

    TargetProgram program_;
    std::shared_ptr<FibEnvironment> environment_;
    DatapathConfig config_;
    // Whether a key holds the server's or the relay's address as a wildcard.
    bool wildcard_to_server_ = false;
    bool wildcard_to_relay_ = false;
    BindingTable written_;  // every binding laid, for the layer bookkeeping
    BindingTable mapped_;   // those a TURN server would make (written into the maps)
    std::uint64_t run_ns_ = 0;
    std::uint64_t runs_ = 0;
    std::uint64_t map_ns_ = 0;
};

// A factory of TargetEngines for DifferentialEngine.
EngineFactory target_engines(ProgramSource source);

}  // namespace xdpturn
