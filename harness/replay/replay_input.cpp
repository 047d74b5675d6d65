#include "harness/replay/replay_input.hpp"

#include <filesystem>

#include "harness/io/capture_reader.hpp"
#include "harness/replay/checksum_offload.hpp"

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

}  // namespace

ReplayInput::ReplayInput(const ReplayOptions& options, ReplayResult& result)
    : options_(options),
      result_(result),
      learner_(options.config.turn_port, options.bindings),
      table_(std::make_shared<const BindingTable>(options.bindings)) {
    for (const std::string& capture : options_.captures) total_bytes_ += file_size_or_zero(capture);
}

Status ReplayInput::read_all(const Sink& sink) {
    for (std::uint32_t capture = 0; capture < options_.captures.size(); ++capture) {
        if (auto read = read_capture(capture, sink); !read) return read.error();
        finished_bytes_ += file_size_or_zero(options_.captures[capture]);
        current_bytes_ = 0;
    }
    return ok_status();
}

void ReplayInput::finish() {
    result_.learned = learner_.stats();
    result_.bindings_learned = learner_.bindings_learned();
    result_.final_table = learner_.table();
}

Status ReplayInput::read_capture(std::uint32_t capture, const Sink& sink) {
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
        if (auto pushed = sink(prepare(capture, index, **captured, *adapter)); !pushed) return pushed;
    }
}

// The frame as the engines will see it, or why it is skipped.
ReplayFrame ReplayInput::prepare(std::uint32_t capture, std::uint64_t index, const CapturedFrame& captured,
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

}  // namespace xdpturn
