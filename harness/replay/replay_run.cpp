#include "harness/replay/replay_run.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "harness/io/capture_reader.hpp"
#include "harness/io/decision_json.hpp"
#include "harness/io/link_layer.hpp"
#include "harness/io/pcap_out.hpp"
#include "harness/replay/capture_oracle.hpp"
#include "harness/replay/checksum_offload.hpp"
#include "harness/replay/live_verifier.hpp"
#include "harness/replay/replay_pipeline.hpp"

namespace xdpturn {

namespace {

const char* checksum_state_name(UdpChecksumState state) {
    switch (state) {
        case UdpChecksumState::not_applicable: return "not UDP";
        case UdpChecksumState::none: return "none (0)";
        case UdpChecksumState::valid: return "valid";
        case UdpChecksumState::partial: return partial_checksum_state;
        case UdpChecksumState::wrong: return "wrong";
    }
    return "?";
}

// For progress only: a file that cannot be sized counts as empty.
std::uint64_t file_size_or_zero(const std::string& path) {
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    return error ? 0 : static_cast<std::uint64_t>(size);
}

// One run: reads the captures in order, feeds the pipeline, and merges its
// results (in capture order) into the result, the outputs and the oracle.
class ReplayRun {
  public:
    explicit ReplayRun(const ReplayOptions& options)
        : options_(options), learner_(options.config.turn_port, options.bindings), live_(options.config) {}

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
        table_ = std::make_shared<const BindingTable>(options_.bindings);
        for (const std::string& capture : options_.captures)
            result_.per_capture.push_back(CaptureTally{capture, 0, 0, 0, {}, {}});
        const auto start = started_ = std::chrono::steady_clock::now();
        for (const std::string& capture : options_.captures) total_bytes_ += file_size_or_zero(capture);
        for (std::uint32_t capture = 0; capture < options_.captures.size(); ++capture) {
            if (auto read = read_capture(capture); !read) return read.error();
            finished_bytes_ += file_size_or_zero(options_.captures[capture]);
            current_bytes_ = 0;
        }
        if (options_.live) {
            live_.finish(settled_);
            settle_live();
        } else if (auto finished = pipeline.finish(); !finished) {
            return finished.error();
        }
        if (per_packet_.is_open() && !per_packet_.flush())
            keep_first_error(Error{"cannot write '" + options_.per_packet_path + "'"});
        if (!write_error_.empty()) return Error{write_error_};
        // Whole now: the pcaps go in place (a run that failed left the old ones).
        for (std::optional<PcapWriter>* writer : {&out_, &mismatches_})
            if (*writer)
                if (auto closed = (*writer)->close(); !closed) return closed.error();
        if (options_.progress) std::cerr << "\r" << std::string(90, ' ') << "\r";
        result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result_.cost = pipeline.cost();
        finish_result();
        return std::move(result_);
    }

  private:
    Status open_outputs() {
        for (auto [path, writer] : {std::pair{&options_.out_path, &out_}, {&options_.mismatches_path, &mismatches_}}) {
            if (path->empty()) continue;
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

    Status read_capture(std::uint32_t capture) {
        const std::string& path = options_.captures[capture];
        CaptureTally& tally = result_.per_capture[capture];
        auto reader = CaptureReader::open(path);
        if (!reader) {
            result_.input_errors.push_back(tally.input_error = reader.error().message);
            return ok_status();
        }
        auto adapter = LinkAdapter::for_link_type(reader->link_type());
        if (!adapter) {
            tally.input_error = "capture '" + path + "' (" + reader->link_type_name() + "): " + adapter.error().message;
            result_.input_errors.push_back(tally.input_error);
            return ok_status();
        }
        result_.link_types.push_back({path, adapter->name(), adapter->synthesised()});
        for (std::uint64_t index = 0;; ++index) {
            auto captured = reader->next();
            if (!captured) {
                tally.input_error = captured.error().message + " (after " + std::to_string(index) + " frames)";
                result_.input_errors.push_back(tally.input_error);
                return ok_status();
            }
            if (!*captured) return ok_status();
            ++result_.frames_read;
            ++tally.frames_read;
            if (options_.progress && tally.frames_read % 4096 == 0) current_bytes_ = reader->bytes_read();
            if (auto pushed = sink_(prepare(capture, index, **captured, *adapter)); !pushed) return pushed;
        }
    }

    // The frame as the engines will see it, or why it is skipped.
    ReplayFrame prepare(std::uint32_t capture, std::uint64_t index, const CapturedFrame& captured,
                        const LinkAdapter& adapter) {
        ReplayFrame frame;
        frame.capture = capture;
        frame.index = index;
        frame.table = table_;
        if (captured.bytes.size() < captured.original_length) {
            frame.skip = SkipReason::snap_length_cut;
            return frame;
        }
        auto ethernet = adapter.to_ethernet(captured.bytes, converted_);
        if (!ethernet) {
            frame.skip = SkipReason::link_layer;
            frame.skip_detail = ethernet.error().message;
            return frame;
        }
        frame.bytes.assign(ethernet->begin(), ethernet->end());
        const UdpChecksumState checksum = classify_udp_checksum(frame.bytes);
        ++result_.udp_checksums[checksum_state_name(checksum)];
        if (options_.fix_checksums && checksum == UdpChecksumState::partial) {
            repair_udp_checksum(frame.bytes);
            ++result_.checksums_repaired;
        }
        now_us_ = captured.timestamp_us;
        if (options_.learn && learner_.observe(frame.bytes, captured.timestamp_us)) {
            table_ = std::make_shared<const BindingTable>(learner_.table());
            frame.table = table_;
        }
        if (frame.bytes.size() < test_run_min_frame)
            frame.skip = SkipReason::shorter_than_ethernet;
        else if (frame.bytes.size() > test_run_max_frame)
            frame.skip = SkipReason::larger_than_linear;
        return frame;
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
        live_.observe(frame.bytes, frame.capture, frame.index, *frame.table, settled_, !bind_in_flight(frame.bytes));
        settle_live();
        return ok_status();
    }

    // Whether the key the frame would be looked up by (a client's, or a
    // peer's on an allocation) has a ChannelBind in flight: then the capture
    // cannot say whether the relay had bound it when the frame arrived.
    bool bind_in_flight(Bytes frame) const { return options_.learn && learner_.bind_in_flight(frame, now_us_); }

    void settle_live() {
        for (const LiveOutcome& outcome : settled_) {
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
        if (per_packet_.is_open())
            per_packet_ << nlohmann::json{{"capture", path},
                                          {"index", frame.index},
                                          {"reference", decision_json(frame.reference)},
                                          {"xdp", decision_json(frame.xdp)},
                                          {"agree", frame.agree}}
                               .dump()
                        << "\n";
    }

    // Frames, disagreements, rate, and the time left by the bytes of the
    // captures read so far; on a terminal only.
    void show_progress() const {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        const double rate = seconds > 0 ? static_cast<double>(result_.compared) / seconds : 0;
        const std::uint64_t done = finished_bytes_ + current_bytes_;
        const double left = done > 0 && total_bytes_ > done
                                ? seconds * static_cast<double>(total_bytes_ - done) / static_cast<double>(done)
                                : 0;
        std::fprintf(
            stderr, "\r%llu frames, %llu disagreements, %.0f frames/s, %.0f%% read, %.0f s left   ",
            static_cast<unsigned long long>(result_.compared), static_cast<unsigned long long>(result_.disagreed), rate,
            total_bytes_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_bytes_) : 0.0, left);
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
        if (result_.first_disagreements.size() < options_.keep_disagreements)
            result_.first_disagreements.push_back({path, frame.index, frame.diff});
    }

    void finish_result() {
        result_.learned = learner_.stats();
        result_.bindings_learned = learner_.bindings_learned();
        result_.final_table = learner_.table();
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
    BindingLearner learner_;
    CaptureOracle oracle_;
    LiveVerifier live_;
    std::vector<LiveOutcome> settled_;
    std::function<Status(ReplayFrame)> sink_;
    std::uint64_t now_us_ = 0;  // the capture time of the frame being prepared
    std::shared_ptr<const BindingTable> table_;
    std::vector<std::uint8_t> converted_;
    std::optional<PcapWriter> out_, mismatches_;
    std::ofstream per_packet_;
    std::string write_error_;
    std::chrono::steady_clock::time_point started_;
    std::uint64_t total_bytes_ = 0;     // of all the captures
    std::uint64_t finished_bytes_ = 0;  // of the captures read to the end
    std::uint64_t current_bytes_ = 0;   // into the capture being read
};

}  // namespace

Result<ReplayResult> run_replay(const ReplayOptions& options) {
    return ReplayRun(options).run();
}

}  // namespace xdpturn
