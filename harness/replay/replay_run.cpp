#include "harness/replay/replay_run.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "harness/io/decision_json.hpp"
#include "harness/io/pcap_out.hpp"
#include "harness/io/pcapng_out.hpp"
#include "harness/replay/capture_oracle.hpp"
#include "harness/replay/live_verifier.hpp"
#include "harness/replay/replay_input.hpp"
#include "harness/replay/replay_pipeline.hpp"

namespace xdpturn {

namespace {

// The tally side of one run: the input side (replay_input) reads the
// captures and feeds the pipeline, or in live mode the judge; this merges
// what comes back (in capture order) into the result, the outputs and the
// relay-output oracle.
class ReplayRun {
  public:
    explicit ReplayRun(const ReplayOptions& options)
        : options_(options),
          input_(options, result_),
          live_(options.config, options.program.target, options.program.strict_checksums) {}

    Result<ReplayResult> run() {
        if (auto opened = open_outputs(); !opened) return opened.error();
        ReplayPipeline pipeline(options_.jobs, options_.program, options_.config,
                                [this](ReplayFrame& frame) { merge(frame); });
        if (options_.live) {
            sink_ = [this](ReplayFrame frame) { return judge_live(frame); };
        } else {
            if (auto started = pipeline.start(); !started)
                return Error{"cannot run the XDP program: " + started.error().message};
            sink_ = [&pipeline](ReplayFrame frame) { return pipeline.push(std::move(frame)); };
        }
        for (const std::string& capture : options_.captures)
            result_.per_capture.push_back(CaptureTally{capture, 0, 0, 0, {}, {}});
        const auto start = started_ = std::chrono::steady_clock::now();
        if (auto read = input_.read_all(sink_); !read) return read.error();
        if (options_.live) {
            live_.finish(settled_);
            settle_live();
        } else if (auto finished = pipeline.finish(); !finished) {
            return finished.error();
        } else if (auto counted = pipeline.counter_mismatch(); !counted) {
            return counted.error();
        } else {
            result_.counter_mismatch = std::move(counted).value();
        }
        if (per_packet_.is_open() && !per_packet_.flush())
            keep_first_error(Error{"cannot write '" + options_.per_packet_path + "'"});
        if (!write_error_.empty()) return Error{write_error_};
        // Whole now: the pcaps go in place (a run that failed left the old ones).
        for (std::optional<PcapWriter>* writer : {&out_, &mismatches_})
            if (*writer)
                if (auto closed = (*writer)->close(); !closed) return closed.error();
        if (commented_mismatches_)
            if (auto closed = commented_mismatches_->close(); !closed) return closed.error();
        if (options_.progress) std::cerr << "\r" << std::string(90, ' ') << "\r";
        result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result_.cost = pipeline.cost();
        finish_result();
        return std::move(result_);
    }

  private:
    Status open_outputs() {
        // Mismatches named .pcapng: each frame with a comment saying what it is.
        if (options_.mismatches_path.ends_with(".pcapng")) {
            auto created = PcapngWriter::create(options_.mismatches_path);
            if (!created) return created.error();
            commented_mismatches_.emplace(std::move(created).value());
        }
        for (auto [path, writer] : {std::pair{&options_.out_path, &out_}, {&options_.mismatches_path, &mismatches_}}) {
            if (path->empty() || (writer == &mismatches_ && commented_mismatches_)) continue;
            auto created = PcapWriter::create(*path);
            if (!created) return created.error();
            writer->emplace(std::move(created).value());
        }
        if (!options_.per_packet_path.empty()) {
            per_packet_.open(options_.per_packet_path);
            if (!per_packet_) return Error{"cannot write '" + options_.per_packet_path + "'"};
        }
        return ok_status();
    }

    // Counts a skipped frame; true if it was one.
    bool skipped(const ReplayFrame& frame, const std::string& path) {
        if (frame.skip == SkipReason::none) return false;
        const std::string why = skip_text(frame.skip, frame.skip_detail);
        ++result_.skipped[why];
        if (per_packet_.is_open())
            per_packet_ << nlohmann::json{{"capture", path}, {"index", frame.index}, {"skipped", why}}.dump() << "\n";
        return true;
    }

    // Live mode: the reference decides the frame, the capture shows what the
    // live program did with it, later on.
    Status judge_live(const ReplayFrame& frame) {
        if (skipped(frame, options_.captures[frame.capture])) return ok_status();
        ++result_.compared;
        ++result_.per_capture[frame.capture].compared;
        live_.observe(frame.bytes, frame.capture, frame.index, *frame.table, settled_,
                      !input_.bind_in_flight(frame.bytes));
        settle_live();
        return ok_status();
    }

    void settle_live() {
        for (const LiveOutcome& outcome : settled_) {
            if (outcome.conformance) {
                result_.conformance = true;
                ++result_.classes[static_cast<std::size_t>(*outcome.conformance)];
            }
            if (outcome.kind == LiveOutcome::Kind::matched) {
                ++result_.live_matched;
                continue;
            }
            ++(outcome.kind == LiveOutcome::Kind::differed ? result_.live_differed : result_.live_missing);
            ++result_.disagreed;
            CaptureTally& capture = result_.per_capture[outcome.capture];
            if (capture.disagreed++ == 0) capture.first_diff = outcome.explanation;
            if (result_.first_disagreements.size() < options_.keep_disagreements)
                result_.first_disagreements.push_back(
                    {options_.captures[outcome.capture], outcome.input_index, outcome.explanation});
        }
        settled_.clear();
    }

    void merge(ReplayFrame& frame) {
        const std::string& path = options_.captures[frame.capture];
        if (!frame.bytes.empty()) oracle_.observe(frame.bytes);
        if (skipped(frame, path)) return;
        tally(frame);
        if (frame.forwarded) {
            oracle_.expect(frame.xdp_output);
            if (out_) keep_first_error(out_->write(frame.xdp_output));
        }
        if (!frame.agree) record_disagreement(frame, path);
        if (options_.progress && result_.compared % 100000 == 0) show_progress();
        if (per_packet_.is_open()) write_per_packet(frame, path);
    }

    // One JSON line a frame. A target without our reasons has only its
    // verdict, and the conformance class the oracle gave the frame.
    void write_per_packet(const ReplayFrame& frame, const std::string& path) {
        nlohmann::json line{{"capture", path},
                            {"index", frame.index},
                            {"reference", decision_json(frame.reference)},
                            {"xdp", frame.xdp_reason_known ? decision_json(frame.xdp)
                                                           : nlohmann::json{{"verdict", name(frame.xdp.verdict)}}},
                            {"agree", frame.agree}};
        if (frame.conformance) line["class"] = name(*frame.conformance);
        per_packet_ << line.dump() << "\n";
    }

    // Frames, disagreements, rate, and the time left by the bytes of the
    // captures read so far; on a terminal only.
    void show_progress() const {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        const double rate = seconds > 0 ? static_cast<double>(result_.compared) / seconds : 0;
        const std::uint64_t done = input_.bytes_done();
        const std::uint64_t total = input_.total_bytes();
        const double left =
            done > 0 && total > done ? seconds * static_cast<double>(total - done) / static_cast<double>(done) : 0;
        std::fprintf(stderr, "\r%llu frames, %llu disagreements, %.0f frames/s, %.0f%% read, %.0f s left   ",
                     static_cast<unsigned long long>(result_.compared),
                     static_cast<unsigned long long>(result_.disagreed), rate,
                     total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0, left);
    }

    // An output that cannot be written fails the run at its end, with the
    // first error (the comparison itself goes on).
    void keep_first_error(const Status& written) {
        if (!written && write_error_.empty()) write_error_ = written.error().message;
    }

    void tally(const ReplayFrame& frame) {
        ++result_.compared;
        CaptureTally& capture = result_.per_capture[frame.capture];
        ++capture.compared;
        if (!frame.agree && capture.disagreed++ == 0) capture.first_diff = frame.diff;
        result_.reference.add(frame.reference.reason);
        if (frame.xdp_reason_known) result_.xdp.add(frame.xdp.reason);
        if (frame.conformance) {
            result_.conformance = true;
            ++result_.classes[static_cast<std::size_t>(*frame.conformance)];
        }
        ++result_.reference_verdicts[std::string(name(frame.reference.verdict))];
        ++result_.xdp_verdicts[std::string(name(frame.xdp.verdict))];
        ++(frame.agree ? result_.agreed : result_.disagreed);
    }

    void record_disagreement(const ReplayFrame& frame, const std::string& path) {
        if (mismatches_)
            for (const auto* bytes : {&frame.bytes, &frame.reference_output, &frame.xdp_output})
                keep_first_error(mismatches_->write(*bytes));
        if (commented_mismatches_) write_commented(frame, path);
        if (result_.first_disagreements.size() < options_.keep_disagreements)
            result_.first_disagreements.push_back({path, frame.index, frame.diff});
    }

    // A disagreement's three frames, each saying what it is and why.
    void write_commented(const ReplayFrame& frame, const std::string& path) {
        const std::string where = path + " frame " + std::to_string(frame.index);
        std::string program = std::string(name(frame.xdp.verdict));
        if (frame.xdp_reason_known) program = to_string(frame.xdp);
        if (frame.conformance) program += ", " + std::string(name(*frame.conformance));
        keep_first_error(commented_mismatches_->write(
            frame.bytes, "input: " + where + "; reference " + to_string(frame.reference) + ", program " + program));
        if (!frame.reference_output.empty())
            keep_first_error(commented_mismatches_->write(
                frame.reference_output, "reference output of " + where + ": " + to_string(frame.reference)));
        if (!frame.xdp_output.empty())
            keep_first_error(commented_mismatches_->write(
                frame.xdp_output, "program output of " + where + ": " + program + "\n" + frame.diff));
    }

    void finish_result() {
        input_.finish();
        if (options_.live) {
            result_.reference = live_.reference();
            result_.live_expected = live_.expected();
            result_.live_given_up = live_.given_up();
            result_.live_in_flight = live_.not_judged();
            result_.agreed = result_.compared - result_.disagreed;
        }
        result_.oracle_expected = oracle_.expected();
        result_.oracle_matched = oracle_.matched();
        result_.oracle_dropped = oracle_.dropped();
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        result_.peak_rss_kib = usage.ru_maxrss;
    }

    const ReplayOptions& options_;
    ReplayResult result_;
    ReplayInput input_;
    CaptureOracle oracle_;
    LiveVerifier live_;
    std::vector<LiveOutcome> settled_;
    ReplayInput::Sink sink_;
    std::optional<PcapWriter> out_, mismatches_;
    std::optional<PcapngWriter> commented_mismatches_;
    std::ofstream per_packet_;
    std::string write_error_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace

Result<ReplayResult> run_replay(const ReplayOptions& options) {
    return ReplayRun(options).run();
}

}  // namespace xdpturn
