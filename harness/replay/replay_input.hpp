// The input side of a replay run: reads the captures in order, turns each
// frame into the Ethernet frame the engines take (io/link_layer), repairs
// partial UDP checksums on request, learns the bindings from the STUN
// traffic (--learn), and hands each frame, with the table it meets, to a
// sink. What it reads is counted in the result's input fields: frames,
// link types, input errors, checksum states, what the learner saw. The
// tally side is replay_run.cpp's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "harness/io/capture_reader.hpp"
#include "harness/io/link_layer.hpp"
#include "harness/replay/binding_learner.hpp"
#include "harness/replay/replay_pipeline.hpp"
#include "harness/replay/replay_run.hpp"

namespace xdpturn {

class ReplayInput {
  public:
    using Sink = std::function<Status(ReplayFrame)>;

    ReplayInput(const ReplayOptions& options, ReplayResult& result);

    // Every capture, frame by frame, to `sink`; stops at the sink's first
    // error. An unreadable capture is an input error of the result, not an
    // error here.
    Status read_all(const Sink& sink);

    // Whether the key the frame would be looked up by (a client's, or a
    // peer's on an allocation) has a ChannelBind in flight at the time of
    // the frame read last: then the capture cannot say whether the relay
    // had bound it when the frame arrived.
    bool bind_in_flight(Bytes frame) const { return options_.learn && learner_.bind_in_flight(frame, now_us_); }

    // The learner's counts and final table, into the result.
    void finish();

    // How far the reading is, for the progress line.
    std::uint64_t total_bytes() const { return total_bytes_; }
    std::uint64_t bytes_done() const { return finished_bytes_ + current_bytes_; }

  private:
    Status read_capture(std::uint32_t capture, const Sink& sink);
    ReplayFrame prepare(std::uint32_t capture, std::uint64_t index, const CapturedFrame& captured,
                        const LinkAdapter& adapter);

    const ReplayOptions& options_;
    ReplayResult& result_;
    BindingLearner learner_;
    std::uint64_t now_us_ = 0;  // the capture time of the frame being prepared
    std::shared_ptr<const BindingTable> table_;
    std::vector<std::uint8_t> converted_;
    std::uint64_t total_bytes_ = 0;     // of all the captures
    std::uint64_t finished_bytes_ = 0;  // of the captures read to the end
    std::uint64_t current_bytes_ = 0;   // into the capture being read
};

}  // namespace xdpturn
