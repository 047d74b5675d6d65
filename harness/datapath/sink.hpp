// The sinks at the clients and the peers. Each checks that every datagram
// the relay delivers is the right payload for its flow (the flow its
// addresses and channel say, intact, not seen before) and measures its
// one-way delay from the generator's timestamp (CLOCK_MONOTONIC on both
// ends: one clock):
//  - xdp: a program on the load side's interface (bpf/bench/datapath_sink.bpf.c),
//    cheap enough never to be the bottleneck;
//  - socket: the clients' and peers' own sockets, as applications receive.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "harness/datapath/flows.hpp"

namespace xdpturn::datapath {

// Delays in log-linear buckets (datapath_delay_bucket: 16 per power of two,
// about 6% wide): a fixed size however many datagrams arrive.
class DelayHistogram {
  public:
    void add(std::uint64_t nanoseconds);
    // From the XDP sink's buckets (datapath_delay_bucket's).
    static DelayHistogram from_buckets(std::span<const std::uint64_t> buckets, std::uint64_t max);
    // The delay below which `fraction` of the samples lie (a bucket's upper
    // bound); 0 without samples.
    std::uint64_t percentile(double fraction) const;
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }

  private:
    static std::uint64_t upper_bound(std::size_t bucket);

    std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(DATAPATH_DELAY_BUCKETS, 0);
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

struct StepTally {
    std::array<std::uint64_t, direction_count> delivered{};  // distinct, intact
    std::uint64_t duplicates = 0;
    std::uint64_t reordered = 0;
    std::uint64_t corrupt = 0;     // a payload not as sent
    std::uint64_t wrong_flow = 0;  // intact, but on another flow's socket, source or channel
    std::uint64_t late = 0;        // arrived after its flow's next step had begun
    std::string first_problem;
    DelayHistogram delay;
};

// What arrives on one socket, and from whom.
struct SinkSocket {
    int fd = -1;
    bool channel_data = false;  // a client's socket: ChannelData from the relay
    TransportAddress source;    // the relay's address it comes from
    std::vector<std::pair<std::uint16_t, std::uint32_t>> channel_flows;  // channel -> flow (channel_data)
    std::uint32_t flow = 0;                                              // the flow of a peer's socket
};

class Sink {
  public:
    virtual ~Sink() = default;
    virtual Status start() = 0;
    virtual void stop() = 0;
    virtual Result<StepTally> tally(std::size_t step) const = 0;
};

class SocketSink final : public Sink {
  public:
    // On a thread of its own, pinned to `cpu` when >= 0.
    SocketSink(std::vector<SinkSocket> sockets, std::size_t flow_count, std::size_t steps, std::size_t payload_bytes,
               int cpu);
    ~SocketSink() override;
    SocketSink(const SocketSink&) = delete;
    SocketSink& operator=(const SocketSink&) = delete;

    Status start() override;
    void stop() override;
    Result<StepTally> tally(std::size_t step) const override;

  private:
    struct FlowTrack {
        std::uint32_t step = 0;
        bool seen = false;
        std::uint64_t highest = 0;
        std::array<std::uint64_t, 16> window{};  // the last 1024 sequence numbers, one bit each
    };
    void run();
    void drain(const SinkSocket& socket);
    void take(const SinkSocket& socket, std::span<const std::uint8_t> datagram, const TransportAddress& from,
              std::uint64_t now);
    bool first_time(FlowTrack& track, std::uint64_t seq, StepTally& tally);

    std::vector<SinkSocket> sockets_;
    std::vector<FlowTrack> tracks_;
    std::vector<StepTally> tallies_;
    std::size_t payload_bytes_;
    int cpu_;
    mutable std::mutex mutex_;
    std::atomic<bool> stopping_{false};
    int epoll_ = -1;
    std::thread thread_;
};

}  // namespace xdpturn::datapath
