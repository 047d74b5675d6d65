// Runs replayed frames through both engines on one or more jobs, and hands
// the results back in capture order. Everything that depends on order (the
// binding table as learned so far, the report, the relay-output oracle)
// stays with the caller: each frame carries the table in force for it, and
// `merge` sees the frames in the order they were pushed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/compare/differential.hpp"
#include "harness/compare/skip_reason.hpp"
#include "harness/xdp/cpu_pin.hpp"

namespace xdpturn {

struct ReplayFrame {
    std::uint32_t capture = 0;                  // index into the caller's capture list
    std::uint64_t index = 0;                    // within its capture, from 0
    std::vector<std::uint8_t> bytes;            // the Ethernet frame
    SkipReason skip = SkipReason::none;         // why it is not compared
    std::string skip_detail;                    // the link layer's reason, for SkipReason::link_layer
    std::shared_ptr<const BindingTable> table;  // the binding table in force for it

    // Results, filled by the pipeline.
    Decision reference;
    Decision xdp;
    bool xdp_reason_known = true;
    bool agree = false;
    std::optional<Conformance> conformance;  // under the conformance oracle
    // The engine sent the frame on: XDP_TX, XDP_REDIRECT, or (a target)
    // the rewritten frame handed to the stack.
    bool forwarded = false;
    std::vector<std::uint8_t> reference_output;  // kept on disagreement
    std::vector<std::uint8_t> xdp_output;        // kept when forwarded and on disagreement
    std::string diff;                            // on disagreement
};

class ReplayPipeline {
  public:
    using Merge = std::function<void(ReplayFrame&)>;

    ReplayPipeline(unsigned jobs, ProgramSource source, DatapathConfig config, Merge merge);
    ~ReplayPipeline();

    // Loads a program for each job: an error when BPF is unavailable.
    Status start();
    // Queues a frame (with one job: runs and merges it at once).
    Status push(ReplayFrame frame);
    // Waits for every frame and merges the rest.
    Status finish();

    EngineCost cost() const;
    // After finish(): each job's program counters against the reasons it
    // recorded for the frames it ran; empty when they match (or the
    // program keeps no counters of our reasons). Once per run, not per
    // frame: the property run finds the frame a miscount happens on.
    Result<std::string> counter_mismatch();

  private:
    static constexpr std::size_t batch_frames = 256;
    struct Batch {
        std::uint64_t sequence = 0;
        std::vector<ReplayFrame> frames;
    };
    struct Worker {
        DifferentialEngine engine;
        const BindingTable* applied = nullptr;
        std::shared_ptr<const BindingTable> held;  // keeps `applied` alive
        Comparison comparison;
        ReasonTally recorded;  // the XDP reasons of the frames it ran
        explicit Worker(const ProgramSource& source) : engine(source, CounterCheck::last_reason_only) {}
    };

    Status process(Worker& worker, ReplayFrame& frame);
    void work(Worker& worker);
    Status submit_batch();
    void merge_ready(bool wait_for_all);

    unsigned jobs_;
    ProgramSource source_;
    DatapathConfig config_;
    Merge merge_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::thread> threads_;
    // With one job every frame runs on one CPU, in the capture's order: what
    // a frame leaves in the program's per-CPU state is what the next meets,
    // so a counterexample of a state leak replays as it was found.
    std::optional<CpuPin> one_cpu_;

    Batch filling_;
    std::uint64_t next_sequence_ = 0;  // of the next batch submitted
    std::uint64_t next_merge_ = 0;     // of the next batch to merge
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Batch> queued_;
    std::map<std::uint64_t, Batch> done_;
    bool closing_ = false;
    std::string error_;
};

}  // namespace xdpturn
