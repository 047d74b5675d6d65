// An engine under test: a data-path program that decides one frame at a time
// against the binding table it holds. The table changes only through the
// explicit sync calls; a run never changes it. Today's implementation is an
// XDP program under BPF_PROG_TEST_RUN (XdpTestRunEngine), or a program not
// ours described by a target file (TargetEngine).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay/model/bindings.hpp"
#include "relay/model/reference_model.hpp"
#include "relay/net/bytes.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

struct EngineOutcome {
    Decision decision;
    std::vector<std::uint8_t> output;  // the frame as it leaves the engine (PASS: the input)
    // False for a program that keeps no reason codes: decision.reason is
    // then meaningless and only the verdict counts.
    bool reason_known = true;
    // The engine counts its reasons and, checked for this frame, they moved
    // otherwise than `decision` says (XdpRun::miscounted); empty otherwise.
    std::string miscounted;
};

// Time an engine spent in the kernel on behalf of a run, for the reports'
// "where the time goes".
struct EngineCost {
    std::uint64_t test_run_ns = 0;
    std::uint64_t test_runs = 0;
    std::uint64_t map_ns = 0;
    std::uint64_t map_entries = 0;
    // Outside the kernel: the reference model deciding, and the driver's own
    // phases (generating cases, building frames, classifying boundaries).
    std::uint64_t reference_ns = 0;
    std::uint64_t generate_ns = 0;
    std::uint64_t build_ns = 0;
    std::uint64_t classify_ns = 0;
    std::uint64_t load_ns = 0;  // loading and verifying programs, once per configuration

    EngineCost& operator+=(const EngineCost& other) {
        test_run_ns += other.test_run_ns;
        test_runs += other.test_runs;
        map_ns += other.map_ns;
        map_entries += other.map_entries;
        reference_ns += other.reference_ns;
        generate_ns += other.generate_ns;
        build_ns += other.build_ns;
        classify_ns += other.classify_ns;
        load_ns += other.load_ns;
        return *this;
    }
    // Calls per second inside the calls: the bare rate on these very frames.
    double test_run_calls_per_second() const {
        return test_run_ns > 0 ? static_cast<double>(test_runs) * 1e9 / static_cast<double>(test_run_ns) : 0;
    }
};

class EngineUnderTest {
  public:
    virtual ~EngineUnderTest() = default;

    // Makes the table exactly `table`.
    virtual Status set_table(const BindingTable& table) = 0;
    // Adds or changes these entries, leaving every other one in place.
    virtual Status overlay(const BindingTable& entries) = 0;
    // Removes what only `previous` had and writes what `next` has.
    virtual Status replace_layer(const BindingTable& previous, const BindingTable& next) = 0;
    // The table as it stands: what the reference must decide against too.
    virtual const BindingTable& table() const = 0;

    // One frame against the table as it stands. Frames the engine cannot
    // take (too short, too long for it) come back as Error.
    virtual Status run(Bytes frame, EngineOutcome& outcome) = 0;
    // Per-reason totals the engine counted since it was made.
    virtual Result<ReasonTally> counters() const = 0;
    // Forgets what earlier frames left in the program besides its counters
    // and tables (per-CPU scratch), so that a sequence of frames run on one
    // CPU from here on is reproducible. Engines that keep nothing do nothing.
    virtual Status reset_state() { return ok_status(); }
    virtual EngineCost cost() const = 0;
    // The frame the reference must decide, when it is not the frame itself:
    // a target whose key holds a wildcard takes a frame sent to any address
    // as sent to the binding's.
    virtual std::optional<std::vector<std::uint8_t>> as_the_reference_takes(Bytes /*frame*/) const {
        return std::nullopt;
    }
};

// Makes the engine for one configuration (configuration is fixed for an
// engine's life, as .rodata is for a loaded XDP program).
using EngineFactory = std::function<Result<std::unique_ptr<EngineUnderTest>>(const DatapathConfig&)>;

}  // namespace xdpturn
