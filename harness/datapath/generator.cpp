#include "harness/datapath/generator.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath_generator.skel.h"
#include "harness/frames/layout.hpp"
#include "harness/xdp/bpf_object_tools.hpp"
#include "harness/xdp/kernel_facts.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn::datapath {

namespace {

using Clock = std::chrono::steady_clock;

// The socket generator's datagrams per sendmmsg: a millisecond of the
// rate, at most one batch; as fast as it goes, a whole batch.
constexpr std::uint64_t socket_batch = 32;
// The packet generator's frames per sendmmsg.
constexpr std::size_t packet_batch = 64;
std::uint64_t socket_chunk(std::uint64_t rate) {
    if (rate == 0) return socket_batch;
    return std::clamp<std::uint64_t>(rate / 1000, 1, socket_batch);
}

// Calls `send(n)` with the frames due at `rate`, a chunk at a time, until
// `duration` is over.
template <class Send>
Result<Offered> paced(std::uint64_t rate, std::chrono::nanoseconds duration, std::uint64_t chunk, Send send) {
    Offered offered;
    const auto start = Clock::now();
    for (;;) {
        const auto elapsed = Clock::now() - start;
        if (elapsed >= duration) break;
        if (rate != 0) {
            const auto owed =
                static_cast<std::uint64_t>(static_cast<double>(rate) * std::chrono::duration<double>(elapsed).count());
            if (owed < offered.frames + chunk) {
                // Until a whole chunk is owed.
                const double wait = static_cast<double>(offered.frames + chunk - owed) / static_cast<double>(rate);
                std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, 0.001)));
                continue;
            }
        }
        auto sent = send(chunk);
        if (!sent) return sent.error();
        offered.frames += *sent;
    }
    offered.elapsed = Clock::now() - start;
    return offered;
}

}  // namespace

std::uint64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(now.tv_nsec);
}

Result<std::unique_ptr<LiveGenerator>> LiveGenerator::open(int ifindex, std::span<const Flow> flows,
                                                           const MacAddress& source, const MacAddress& destination,
                                                           std::size_t payload_bytes) {
    if (flows.empty() || flows.size() > DATAPATH_MAX_FLOWS)
        return Error{"the live generator takes 1 to " + std::to_string(DATAPATH_MAX_FLOWS) + " flows"};
    auto generator = std::unique_ptr<LiveGenerator>(new LiveGenerator());
    generator->skeleton_ = datapath_generator_bpf__open();
    if (!generator->skeleton_) return Error{"cannot open the load generator's BPF object"};
    if (auto loaded = load_object(generator->skeleton_->obj, "the load generator"); !loaded) return loaded.error();
    generator->ifindex_ = ifindex;
    generator->flow_count_ = static_cast<std::uint32_t>(flows.size());
    generator->frame_ = initial_frame(payload_bytes);
    const int flows_fd = bpf_map__fd(generator->skeleton_->maps.flows);
    for (const Flow& flow : flows) {
        const datapath_flow entry = flow_template(flow, source, destination, payload_bytes);
        if (bpf_map_update_elem(flows_fd, &flow.id, &entry, BPF_ANY) != 0)
            return Error{"cannot write the generator's flow " + std::to_string(flow.id) + ": " + std::strerror(errno)};
    }
    return generator;
}

Status LiveGenerator::probe() {
    // Before 5.18 the kernel ignores the live-frames flag: the call succeeds
    // and sends nothing, so no call can tell. The version does.
    if (const KernelFacts* facts = kernel_facts(); facts != nullptr && !facts->live_frames)
        return Error{"kernel " + facts->release + " ignores the live-frames test-run flag (5.18 and later send)"};
    // Before any schedule the program aborts the run: nothing is sent.
    if (auto probed = inject(1); !probed)
        return Error{"the kernel refuses live-frames test runs here (" + probed.error().message + ")"};
    return ok_status();
}

LiveGenerator::~LiveGenerator() {
    datapath_generator_bpf__destroy(skeleton_);
}

Status LiveGenerator::inject(std::uint64_t frames) {
    xdp_md context{};
    context.data_end = static_cast<__u32>(frame_.size());
    context.ingress_ifindex = static_cast<__u32>(ifindex_);
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame_.data(), .data_size_in = static_cast<__u32>(frame_.size()),
                .ctx_in = &context, .ctx_size_in = sizeof(context), .repeat = static_cast<int>(frames),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
    if (bpf_prog_test_run_opts(program_fd(), &options) != 0) {
        // The program loaded, so EPERM here is the kernel's word on live
        // frames, not a missing privilege to load.
        if (errno == EPERM) return Error{"live-frames test run: EPERM, though the program loaded"};
        return Error{std::string("live-frames test run: ") + explain_errno(errno)};
    }
    return ok_status();
}

Result<Offered> LiveGenerator::run_step(std::uint32_t step, std::uint64_t rate, std::chrono::nanoseconds duration) {
    // Frames per test run: a run that is all drops (the step over) takes
    // some tens of milliseconds; one that sends ends with the step.
    constexpr std::uint64_t frames_per_run = 1u << 20;
    // The schedule begins a moment from now, when both threads are running.
    const std::uint64_t start = monotonic_ns() + 2000000;
    const auto end = start + static_cast<std::uint64_t>(duration.count());
    if (auto scheduled = schedule(step, rate, start, duration); !scheduled) return scheduled.error();
    const std::uint32_t zero = 0;
    const int control_fd = bpf_map__fd(skeleton_->maps.control);
    // Setting up and tearing down a run waits for an RCU grace period: a
    // second thread on the same CPU (it inherits this one's) injects
    // meanwhile, so the load has no gaps.
    Status failed = ok_status();
    std::mutex failure;
    auto inject_until_end = [&] {
        while (monotonic_ns() < end) {
            if (auto injected = inject(frames_per_run); !injected) {
                std::lock_guard lock(failure);
                failed = injected;
                return;
            }
        }
    };
    std::thread second(inject_until_end);
    inject_until_end();
    second.join();
    if (!failed) return failed.error();
    datapath_control finished{};
    if (bpf_map_lookup_elem(control_fd, &zero, &finished) != 0)
        return Error{std::string("cannot read the generator's count: ") + std::strerror(errno)};
    Offered offered;
    offered.frames = finished.next_seq;
    offered.elapsed = duration;
    offered.per_direction = frames_per_direction(offered.frames, flow_count_);
    return offered;
}

Status LiveGenerator::schedule(std::uint32_t step, std::uint64_t rate, std::uint64_t start_ns,
                               std::chrono::nanoseconds duration) {
    const std::uint32_t zero = 0;
    datapath_control control{};
    control.rate = rate;
    control.start_ns = start_ns;
    control.end_ns = start_ns + static_cast<std::uint64_t>(duration.count());
    control.flow_count = flow_count_;
    control.step = step;
    if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.control), &zero, &control, BPF_ANY) != 0)
        return Error{std::string("cannot start the generator's step: ") + std::strerror(errno)};
    return ok_status();
}

int LiveGenerator::program_fd() const {
    return bpf_program__fd(skeleton_->progs.datapath_generate);
}

Result<std::unique_ptr<PacketGenerator>> PacketGenerator::open(int ifindex, std::span<const Flow> flows,
                                                               const MacAddress& source, const MacAddress& destination,
                                                               std::size_t payload_bytes) {
    if (flows.empty()) return Error{"the packet generator needs flows"};
    std::unique_ptr<PacketGenerator> generator(new PacketGenerator());
    // Protocol 0, in the socket and in the bind: it sends only, and no
    // frame the load side receives (the sink's, on the same core) is
    // copied to it. The kernel reads each frame's protocol from its
    // Ethernet header.
    generator->fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (generator->fd_ < 0) return Error{std::string("packet socket: ") + std::strerror(errno)};
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_ifindex = ifindex;
    if (bind(generator->fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0)
        return Error{std::string("packet socket: bind: ") + std::strerror(errno)};
    const int bypass = 1;
    if (setsockopt(generator->fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &bypass, sizeof(bypass)) != 0)
        return Error{std::string("packet socket: PACKET_QDISC_BYPASS: ") + std::strerror(errno)};
    for (const Flow& flow : flows) {
        // The live generator's template: headers right-aligned before the
        // payload, the checksum's fixed part beside them.
        const datapath_flow made = flow_template(flow, source, destination, payload_bytes);
        generator->flows_.push_back(FlowFrame{&flow, frame_of(made, payload_bytes), made.checksum_partial});
    }
    generator->next_seq_.assign(flows.size(), 0);
    generator->payload_bytes_ = payload_bytes;
    return generator;
}

PacketGenerator::~PacketGenerator() {
    if (fd_ >= 0) close(fd_);
}

Result<std::uint64_t> PacketGenerator::send_batch(std::uint32_t step, std::uint64_t frames,
                                                  std::array<std::uint64_t, direction_count>& per_direction) {
    constexpr std::size_t batch = packet_batch;
    const std::size_t count = std::min<std::uint64_t>(frames, batch);
    const std::size_t frame_bytes = flows_.front().frame.size() + DATAPATH_CHANNEL_HEADER_BYTES;
    static thread_local std::vector<std::uint8_t> buffers;
    buffers.resize(batch * frame_bytes);
    std::array<iovec, batch> vectors{};
    std::array<mmsghdr, batch> messages{};
    std::array<const Flow*, batch> sent_on{};
    const std::uint64_t now = monotonic_ns();
    for (std::size_t i = 0; i < count; ++i) {
        FlowFrame& flow = flows_[next_flow_];
        next_flow_ = (next_flow_ + 1) % flows_.size();
        stamp_frame(flow.frame, flow.checksum_partial, payload_bytes_, flow.flow->id, step, next_seq_[flow.flow->id]++,
                    now);
        std::uint8_t* slot = buffers.data() + i * frame_bytes;
        std::memcpy(slot, flow.frame.data(), flow.frame.size());
        vectors[i] = {slot, flow.frame.size()};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        sent_on[i] = flow.flow;
    }
    const int sent = sendmmsg(fd_, messages.data(), static_cast<unsigned>(count), 0);
    // A full ring is the load's doing, not an error of the benchmark: the
    // frames not taken were not offered, and their sequence numbers go back
    // (latest first), so each flow's numbers stay consecutive.
    if (sent < 0 && errno != ENOBUFS && errno != EAGAIN)
        return Error{std::string("packet socket: ") + std::strerror(errno)};
    const std::size_t taken = sent < 0 ? 0 : static_cast<std::size_t>(sent);
    for (std::size_t i = count; i-- > taken;) --next_seq_[sent_on[i]->id];
    for (std::size_t i = 0; i < taken; ++i) ++per_direction[static_cast<std::size_t>(sent_on[i]->direction)];
    return std::uint64_t{taken};
}

Result<Offered> PacketGenerator::run_step(std::uint32_t step, std::uint64_t rate, std::chrono::nanoseconds duration) {
    std::fill(next_seq_.begin(), next_seq_.end(), 0);
    std::array<std::uint64_t, direction_count> per_direction{};
    const std::uint64_t chunk = rate == 0 ? packet_batch : std::clamp<std::uint64_t>(rate / 1000, 1, packet_batch);
    auto offered =
        paced(rate, duration, chunk, [&](std::uint64_t frames) { return send_batch(step, frames, per_direction); });
    if (!offered) return offered.error();
    offered->per_direction = per_direction;
    return offered;
}

SocketGenerator::SocketGenerator(std::vector<FlowSocket> flows, std::size_t payload_bytes)
    : flows_(std::move(flows)), next_seq_(flows_.size(), 0), payload_bytes_(payload_bytes) {}

Result<std::uint64_t> SocketGenerator::send_batch(FlowSocket& socket, std::uint32_t step, std::uint64_t frames) {
    constexpr std::size_t batch = socket_batch;
    const Flow& flow = *socket.flow;
    const bool channel_data = flow.direction == Direction::to_peer;
    const std::size_t header = channel_data ? DATAPATH_CHANNEL_HEADER_BYTES : 0;
    const std::size_t count = std::min<std::uint64_t>(frames, batch);
    std::vector<std::uint8_t> buffers(count * (header + payload_bytes_));
    std::array<iovec, batch> vectors{};
    std::array<mmsghdr, batch> messages{};
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(flow.to.port);
    to.sin_addr.s_addr = htonl(flow.to.v4_value());
    const std::uint64_t now = monotonic_ns();
    std::uint64_t& seq = next_seq_[flow.id];
    for (std::size_t i = 0; i < count; ++i) {
        std::span<std::uint8_t> datagram(buffers.data() + i * (header + payload_bytes_), header + payload_bytes_);
        if (channel_data) {
            store_be16(datagram, 0, flow.channel);
            store_be16(datagram, 2, static_cast<std::uint16_t>(payload_bytes_));
        }
        write_payload(datagram.subspan(header), flow.id, step, seq + i, now);
        vectors[i] = {datagram.data(), datagram.size()};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &to;
        messages[i].msg_hdr.msg_namelen = sizeof(to);
    }
    const int sent = sendmmsg(socket.fd, messages.data(), static_cast<unsigned>(count), 0);
    if (sent < 0) {
        // A full queue is the load's doing, not an error of the benchmark.
        if (errno == ENOBUFS || errno == EAGAIN) return std::uint64_t{0};
        return Error{"sendmmsg to " + flow.to.to_string() + ": " + std::strerror(errno)};
    }
    seq += static_cast<std::uint64_t>(sent);
    return static_cast<std::uint64_t>(sent);
}

Result<Offered> SocketGenerator::run_step(std::uint32_t step, std::uint64_t rate, std::chrono::nanoseconds duration) {
    std::fill(next_seq_.begin(), next_seq_.end(), 0);
    std::array<std::uint64_t, direction_count> per_direction{};
    auto offered = paced(rate, duration, socket_chunk(rate), [&](std::uint64_t frames) -> Result<std::uint64_t> {
        FlowSocket& socket = flows_[next_flow_];
        next_flow_ = (next_flow_ + 1) % flows_.size();
        auto sent = send_batch(socket, step, frames);
        if (sent) per_direction[static_cast<std::size_t>(socket.flow->direction)] += *sent;
        return sent;
    });
    if (!offered) return offered.error();
    offered->per_direction = per_direction;
    return offered;
}

}  // namespace xdpturn::datapath
