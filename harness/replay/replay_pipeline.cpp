#include "harness/replay/replay_pipeline.hpp"

#include <algorithm>

#include "harness/xdp/kernel_facts.hpp"

namespace xdpturn {

ReplayPipeline::ReplayPipeline(unsigned jobs, ProgramSource source, DatapathConfig config, Merge merge)
    : jobs_(test_run_jobs(std::max(1u, jobs))), source_(std::move(source)), config_(config), merge_(std::move(merge)) {}

ReplayPipeline::~ReplayPipeline() {
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    changed_.notify_all();
    for (std::thread& thread : threads_)
        if (thread.joinable()) thread.join();
}

Status ReplayPipeline::start() {
    if (jobs_ == 1) one_cpu_.emplace();
    for (unsigned i = 0; i < jobs_; ++i) {
        auto worker = std::make_unique<Worker>(source_);
        if (auto loaded = worker->engine.engine_for(config_); !loaded) return loaded.error();
        workers_.push_back(std::move(worker));
    }
    if (jobs_ > 1)
        for (auto& worker : workers_) threads_.emplace_back([this, raw = worker.get()] { work(*raw); });
    return ok_status();
}

Status ReplayPipeline::process(Worker& worker, ReplayFrame& frame) {
    if (frame.skip != SkipReason::none) return ok_status();
    if (frame.table.get() != worker.applied) {
        if (auto set = worker.engine.set_table(config_, *frame.table); !set) return set;
        worker.applied = frame.table.get();
        worker.held = frame.table;
    }
    Comparison& comparison = worker.comparison;
    if (auto compared = worker.engine.compare(config_, frame.bytes, comparison); !compared) return compared;
    frame.reference = comparison.reference.decision;
    frame.xdp = comparison.xdp.decision;
    frame.xdp_reason_known = comparison.xdp.reason_known;
    if (comparison.xdp.reason_known) worker.recorded.add(comparison.xdp.decision.reason);
    frame.agree = comparison.agree;
    if (comparison.conformance) frame.conformance = comparison.conformance->conformance;
    const Verdict verdict = comparison.xdp.decision.verdict;
    const bool rewritten_for_the_stack = verdict == Verdict::pass && frame.conformance &&
                                         (*frame.conformance == Conformance::conformant_forward ||
                                          *frame.conformance == Conformance::forwarded_wrong_bytes);
    frame.forwarded = verdict == Verdict::tx || verdict == Verdict::redirect || rewritten_for_the_stack;
    if (frame.forwarded || !comparison.agree) frame.xdp_output = comparison.xdp.output;
    if (!comparison.agree) {
        frame.reference_output = comparison.reference.output;
        frame.diff = comparison.explain();
    }
    return ok_status();
}

Status ReplayPipeline::push(ReplayFrame frame) {
    if (jobs_ == 1) {
        if (auto processed = process(*workers_.front(), frame); !processed) return processed;
        merge_(frame);
        return ok_status();
    }
    filling_.frames.push_back(std::move(frame));
    if (filling_.frames.size() < batch_frames) return ok_status();
    return submit_batch();
}

Status ReplayPipeline::submit_batch() {
    if (filling_.frames.empty()) return ok_status();
    filling_.sequence = next_sequence_++;
    {
        std::unique_lock lock(mutex_);
        queued_.push_back(std::move(filling_));
        changed_.notify_all();
    }
    filling_ = Batch{};
    // Bounded memory: at most two batches per job are in flight.
    while (true) {
        merge_ready(false);
        std::unique_lock lock(mutex_);
        if (!error_.empty()) return Error{error_};
        if (next_sequence_ - next_merge_ <= 2 * jobs_) return ok_status();
        changed_.wait(lock);
    }
}

void ReplayPipeline::work(Worker& worker) {
    while (true) {
        Batch batch;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return closing_ || !queued_.empty(); });
            if (queued_.empty()) return;
            batch = std::move(queued_.front());
            queued_.erase(queued_.begin());
        }
        std::string error;
        for (ReplayFrame& frame : batch.frames) {
            if (auto processed = process(worker, frame); !processed) {
                error = processed.error().message;
                break;
            }
        }
        {
            std::lock_guard lock(mutex_);
            if (!error.empty() && error_.empty()) error_ = error;
            done_.emplace(batch.sequence, std::move(batch));
        }
        changed_.notify_all();
    }
}

void ReplayPipeline::merge_ready(bool wait_for_all) {
    while (true) {
        Batch batch;
        {
            std::unique_lock lock(mutex_);
            if (wait_for_all)
                changed_.wait(lock, [&] {
                    return done_.count(next_merge_) > 0 || next_merge_ == next_sequence_ || !error_.empty();
                });
            if (!error_.empty()) return;  // never merge a half-processed batch
            const auto ready = done_.find(next_merge_);
            if (ready == done_.end()) return;
            batch = std::move(ready->second);
            done_.erase(ready);
            ++next_merge_;
        }
        changed_.notify_all();
        for (ReplayFrame& frame : batch.frames) merge_(frame);
    }
}

Status ReplayPipeline::finish() {
    if (jobs_ == 1) return ok_status();
    if (auto submitted = submit_batch(); !submitted) return submitted;
    while (next_merge_ < next_sequence_) {
        merge_ready(true);
        std::lock_guard lock(mutex_);
        if (!error_.empty()) return Error{error_};
    }
    return ok_status();
}

Result<std::string> ReplayPipeline::counter_mismatch() {
    if (source_.target && !source_.target->has_reasons()) return std::string{};
    std::string mismatch;
    for (const auto& worker : workers_) {
        auto engine = worker->engine.engine_for(config_);
        if (!engine) return engine.error();
        auto counters = (*engine)->counters();
        if (!counters) return counters.error();
        for (Reason reason : all_reasons)
            if ((*counters)[reason] != worker->recorded[reason])
                mismatch += "counter " + std::string(name(reason)) + " is " + std::to_string((*counters)[reason]) +
                            " but " + std::to_string(worker->recorded[reason]) + " frames ended there\n";
    }
    return mismatch;
}

EngineCost ReplayPipeline::cost() const {
    EngineCost total;
    for (const auto& worker : workers_) total += worker->engine.cost();
    return total;
}

}  // namespace xdpturn
