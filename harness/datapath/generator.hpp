// The load generators of the data-path benchmark. Both offer a rate for a
// step's duration and say what they actually sent:
//  - live: BPF_PROG_TEST_RUN in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES,
//    as xdp-trafficgen) on the load side's veth, with a program that writes
//    each flow's frame and sends it with XDP_TX: millions of frames a second
//    from one core, no socket in the way;
//  - packet: the same frames written in user space and sent in batches
//    through a packet socket that bypasses the queueing discipline
//    (AF_PACKET, PACKET_QDISC_BYPASS, as pktgen-like tools do): no UDP, IP or
//    route lookup per frame, where the kernel refuses live frames;
//  - socket: sendmmsg from the clients' and peers' own sockets, the way a
//    real client sends, for comparison.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "harness/datapath/flows.hpp"
#include "harness/datapath/sockets.hpp"

struct datapath_generator_bpf;

namespace xdpturn::datapath {

// CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(), in nanoseconds.
std::uint64_t monotonic_ns();

struct Offered {
    std::uint64_t frames = 0;
    std::array<std::uint64_t, direction_count> per_direction{};
    std::chrono::nanoseconds elapsed{0};
};

class Generator {
  public:
    virtual ~Generator() = default;
    // Offers `rate` frames a second (0: as fast as it can) for `duration`,
    // every frame's payload marked with `step`.
    virtual Result<Offered> run_step(std::uint32_t step, std::uint64_t rate, std::chrono::nanoseconds duration) = 0;
};

class LiveGenerator final : public Generator {
  public:
    // On the interface with index `ifindex` in this network namespace.
    static Result<std::unique_ptr<LiveGenerator>> open(int ifindex, std::span<const Flow> flows,
                                                       const MacAddress& source, const MacAddress& destination,
                                                       std::size_t payload_bytes);
    ~LiveGenerator() override;
    // Whether this kernel takes live-frames runs at all: some refuse them
    // (EPERM, though the program loads). One run, before any schedule.
    Status probe();
    Result<Offered> run_step(std::uint32_t step, std::uint64_t rate, std::chrono::nanoseconds duration) override;

    // The step's schedule, from `start_ns` (CLOCK_MONOTONIC) for `duration`;
    // run_step's first part, and what a test sets before running the
    // program itself (program_fd) with BPF_PROG_TEST_RUN.
    Status schedule(std::uint32_t step, std::uint64_t rate, std::uint64_t start_ns, std::chrono::nanoseconds duration);
    int program_fd() const;

  private:
    LiveGenerator() = default;
    Status inject(std::uint64_t frames);

    datapath_generator_bpf* skeleton_ = nullptr;
    int ifindex_ = 0;
    std::uint32_t flow_count_ = 0;
    std::vector<std::uint8_t> frame_;
};

class PacketGenerator final : public Generator {
  public:
    // On the interface with index `ifindex` in this network namespace.
    static Result<std::unique_ptr<PacketGenerator>> open(int ifindex, std::span<const Flow> flows,
                                                         const MacAddress& source, const MacAddress& destination,
                                                         std::size_t payload_bytes);
    PacketGenerator(const PacketGenerator&) = delete;
    PacketGenerator& operator=(const PacketGenerator&) = delete;
    ~PacketGenerator() override;
    Result<Offered> run_step(std::uint32_t step, std::uint64_t rate, std::chrono::nanoseconds duration) override;

  private:
    // A flow's frame: its headers, its checksum's fixed part.
    struct FlowFrame {
        const Flow* flow = nullptr;
        std::vector<std::uint8_t> frame;
        std::uint64_t checksum_partial = 0;
    };
    PacketGenerator() = default;
    // Up to a batch of frames, one flow after another; how many the
    // interface took.
    Result<std::uint64_t> send_batch(std::uint32_t step, std::uint64_t frames,
                                     std::array<std::uint64_t, direction_count>& per_direction);

    int fd_ = -1;
    std::vector<FlowFrame> flows_;
    std::vector<std::uint64_t> next_seq_;
    std::size_t payload_bytes_ = 0;
    std::size_t next_flow_ = 0;
};

// Where each flow's datagrams leave from: the client's or the peer's socket.
struct FlowSocket {
    const Flow* flow = nullptr;
    int fd = -1;
};

class SocketGenerator final : public Generator {
  public:
    SocketGenerator(std::vector<FlowSocket> flows, std::size_t payload_bytes);
    Result<Offered> run_step(std::uint32_t step, std::uint64_t rate, std::chrono::nanoseconds duration) override;

  private:
    Result<std::uint64_t> send_batch(FlowSocket& flow, std::uint32_t step, std::uint64_t frames);

    std::vector<FlowSocket> flows_;
    std::vector<std::uint64_t> next_seq_;
    std::size_t payload_bytes_;
    std::size_t next_flow_ = 0;
};

}  // namespace xdpturn::datapath
