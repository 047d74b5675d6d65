// Runs frames through both engines, the reference model and an engine under
// test, and says whether they agree: same verdict, same reason, and the same
// bytes (for XDP_PASS: the input, unchanged). The table both engines decide
// against is the engine under test's own, changed only by the sync calls.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "harness/compare/comparator.hpp"
#include "harness/compare/conformance.hpp"
#include "harness/compare/engine.hpp"
#include "harness/compare/xdp_test_run_engine.hpp"

namespace xdpturn {

struct Comparison {
    EngineOutcome reference;
    EngineOutcome xdp;
    bool agree = false;
    FrameDiff output_diff;  // reference output vs XDP output, when outputs are compared
    // Under the conformance oracle: the frame's class; `agree` is then "not
    // a defect".
    std::optional<ConformanceVerdict> conformance;

    // A readable account of the disagreement (empty when they agree).
    std::string explain() const;
};

// One engine under test per configuration, made on first use.
class DifferentialEngine {
  public:
    explicit DifferentialEngine(EngineFactory factory, bool conformance = false, bool strict_checksums = false)
        : factory_(std::move(factory)), conformance_(conformance), strict_checksums_(strict_checksums) {}
    // The XDP program from `source` under BPF_PROG_TEST_RUN: ours, or a
    // target (judged by the conformance oracle unless it keeps our reasons
    // and the source does not ask for the oracle).
    explicit DifferentialEngine(const ProgramSource& source, CounterCheck check = CounterCheck::exact);

    // True when frames are judged by the conformance oracle.
    bool judges_conformance() const { return conformance_; }

    // The engine under test for a configuration (an error if it cannot be
    // made, e.g. BPF unavailable).
    Result<EngineUnderTest*> engine_for(const DatapathConfig& config);

    // The explicit syncs (see EngineUnderTest).
    Status set_table(const DatapathConfig& config, const BindingTable& table);
    Status overlay(const DatapathConfig& config, const BindingTable& entries);
    Status replace_layer(const DatapathConfig& config, const BindingTable& previous, const BindingTable& next);

    // Compares one frame against the table as it stands. Fills `result`,
    // reusing its buffers across calls.
    Status compare(const DatapathConfig& config, Bytes frame, Comparison& result);
    Result<Comparison> compare(const DatapathConfig& config, Bytes frame);

    // Resets the state of every engine made so far (EngineUnderTest::reset_state).
    Status reset_state();
    // ... of the engine for `config` alone (made if need be): a shrinker
    // runs one configuration at a time.
    Status reset_state(const DatapathConfig& config);
    // Unloads the engine for `config`, if there is one: a shrinker tries
    // many configurations one after another and keeps only the latest few.
    void forget(const DatapathConfig& config);

    // Summed over every engine made so far.
    EngineCost cost() const;

  private:
    // Fills result.conformance and result.agree for a target.
    void judge(const DatapathConfig& config, const EngineUnderTest& engine, Bytes frame, Comparison& result) const;

    EngineFactory factory_;
    bool conformance_ = false;
    bool strict_checksums_ = false;
    std::map<DatapathConfig, std::unique_ptr<EngineUnderTest>, DatapathConfigLess> engines_;
    std::uint64_t reference_ns_ = 0;
    std::uint64_t load_ns_ = 0;
};

}  // namespace xdpturn
