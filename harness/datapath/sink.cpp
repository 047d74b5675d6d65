#include "harness/datapath/sink.hpp"

#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "harness/datapath/generator.hpp"
#include "harness/datapath/sockets.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn::datapath {

namespace {

constexpr std::size_t receive_batch = 64;
constexpr std::size_t datagram_room = 2048;
constexpr std::uint64_t window_bits = 1024;

}  // namespace

std::uint64_t DelayHistogram::upper_bound(std::size_t bucket) {
    constexpr std::uint64_t sub_buckets = 1ull << DATAPATH_DELAY_SUB_BITS;
    if (bucket < sub_buckets) return bucket;
    const std::uint64_t shift = (bucket >> DATAPATH_DELAY_SUB_BITS) - 1;
    const std::uint64_t mantissa = sub_buckets + (bucket & (sub_buckets - 1));
    return ((mantissa + 1) << shift) - 1;
}

DelayHistogram DelayHistogram::from_buckets(std::span<const std::uint64_t> buckets, std::uint64_t max) {
    DelayHistogram histogram;
    for (std::size_t i = 0; i < buckets.size() && i < histogram.buckets_.size(); ++i) {
        histogram.buckets_[i] = buckets[i];
        histogram.count_ += buckets[i];
    }
    histogram.max_ = max;
    return histogram;
}

void DelayHistogram::add(std::uint64_t nanoseconds) {
    ++buckets_[datapath_delay_bucket(nanoseconds)];
    ++count_;
    max_ = std::max(max_, nanoseconds);
}

std::uint64_t DelayHistogram::percentile(double fraction) const {
    if (count_ == 0) return 0;
    const auto wanted = static_cast<std::uint64_t>(fraction * static_cast<double>(count_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < buckets_.size(); ++bucket) {
        seen += buckets_[bucket];
        if (seen >= wanted) return std::min(upper_bound(bucket), max_);
    }
    return max_;
}

SocketSink::SocketSink(std::vector<SinkSocket> sockets, std::size_t flow_count, std::size_t steps,
                       std::size_t payload_bytes, int cpu)
    : sockets_(std::move(sockets)), tracks_(flow_count), tallies_(steps), payload_bytes_(payload_bytes), cpu_(cpu) {}

SocketSink::~SocketSink() {
    stop();
    if (epoll_ >= 0) close(epoll_);
}

Status SocketSink::start() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return Error{std::string("epoll: ") + std::strerror(errno)};
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        epoll_event event{EPOLLIN, {.u64 = i}};
        if (epoll_ctl(epoll_, EPOLL_CTL_ADD, sockets_[i].fd, &event) != 0)
            return Error{std::string("epoll_ctl: ") + std::strerror(errno)};
    }
    thread_ = std::thread([this] { run(); });
    if (cpu_ >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(static_cast<unsigned>(cpu_), &set);
        pthread_setaffinity_np(thread_.native_handle(), sizeof(set), &set);
    }
    return ok_status();
}

void SocketSink::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

Result<StepTally> SocketSink::tally(std::size_t step) const {
    std::lock_guard lock(mutex_);
    return tallies_.at(step);
}

void SocketSink::run() {
    std::array<epoll_event, 64> ready{};
    while (!stopping_) {
        const int count = epoll_wait(epoll_, ready.data(), static_cast<int>(ready.size()), 50);
        for (int i = 0; i < count; ++i) drain(sockets_[ready[static_cast<std::size_t>(i)].data.u64]);
    }
}

void SocketSink::drain(const SinkSocket& socket) {
    static thread_local std::vector<std::uint8_t> buffers(receive_batch * datagram_room);
    std::array<iovec, receive_batch> vectors{};
    std::array<mmsghdr, receive_batch> messages{};
    std::array<sockaddr_in, receive_batch> sources{};
    for (std::size_t i = 0; i < receive_batch; ++i) {
        vectors[i] = {buffers.data() + i * datagram_room, datagram_room};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof(sources[i]);
    }
    const int got = recvmmsg(socket.fd, messages.data(), receive_batch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;
    const std::uint64_t now = monotonic_ns();
    std::lock_guard lock(mutex_);
    for (int i = 0; i < got; ++i) {
        const auto index = static_cast<std::size_t>(i);
        take(socket, Bytes(buffers.data() + index * datagram_room, messages[index].msg_len),
             from_sockaddr(&sources[index]), now);
    }
}

bool SocketSink::first_time(FlowTrack& track, std::uint64_t seq, StepTally& tally) {
    if (seq > track.highest) {
        const std::uint64_t shift = seq - track.highest;
        if (shift >= window_bits) {
            track.window.fill(0);
        } else {
            for (std::uint64_t s = track.highest + 1; s < seq; ++s) track.window[(s / 64) % 16] &= ~(1ull << (s % 64));
        }
        track.highest = seq;
    } else if (track.highest - seq >= window_bits) {
        ++tally.reordered;  // too far back to tell a duplicate: counted once
        return true;
    } else if (track.window[(seq / 64) % 16] & (1ull << (seq % 64))) {
        ++tally.duplicates;
        return false;
    } else {
        ++tally.reordered;
    }
    track.window[(seq / 64) % 16] |= 1ull << (seq % 64);
    return true;
}

void SocketSink::take(const SinkSocket& socket, std::span<const std::uint8_t> datagram, const TransportAddress& from,
                      std::uint64_t now) {
    std::span<const std::uint8_t> payload = datagram;
    std::uint32_t expected_flow = socket.flow;
    bool right_place = from == socket.source;
    if (socket.channel_data) {
        // Over UDP a relay may pad ChannelData to four bytes (RFC 8656, 12.5).
        const std::size_t length = datagram.size() >= 4 ? load_be16(datagram, 2) : 0;
        if (datagram.size() < 4 || datagram.size() < 4 + length || datagram.size() > 4 + ((length + 3) & ~3u)) {
            StepTally& tally = tallies_.front();
            ++tally.corrupt;
            if (tally.first_problem.empty()) tally.first_problem = "not a ChannelData message";
            return;
        }
        const std::uint16_t channel = load_be16(datagram, 0);
        right_place = false;
        for (const auto& [bound, flow] : socket.channel_flows)
            if (bound == channel) {
                expected_flow = flow;
                right_place = from == socket.source;
            }
        payload = datagram.subspan(4, length);
    }
    const PayloadCheck checked = check_payload(payload, payload_bytes_);
    if (!checked.fields || checked.fields->step >= tallies_.size() || checked.fields->flow >= tracks_.size()) {
        // Without an intact head the step is unknown: counted in step 0's.
        StepTally& tally = tallies_.front();
        ++tally.corrupt;
        if (tally.first_problem.empty())
            tally.first_problem = checked.problem.empty() ? "step or flow out of range" : checked.problem;
        return;
    }
    const PayloadFields& fields = *checked.fields;
    StepTally& tally = tallies_[fields.step];
    if (!right_place || fields.flow != expected_flow) {
        ++tally.wrong_flow;
        if (tally.first_problem.empty())
            tally.first_problem = "flow " + std::to_string(fields.flow) + " from " + from.to_string() + " where flow " +
                                  std::to_string(expected_flow) + " was expected";
        return;
    }
    FlowTrack& track = tracks_[fields.flow];
    if (fields.step < track.step) {
        ++tally.late;
    } else {
        if (!track.seen || fields.step > track.step)
            track = FlowTrack{fields.step, true, fields.flow_seq, {}};
        else if (!first_time(track, fields.flow_seq, tally))
            return;
        track.window[(fields.flow_seq / 64) % 16] |= 1ull << (fields.flow_seq % 64);
    }
    ++tally.delivered[fields.flow % 2];
    if (fields.sent_ns != 0) tally.delay.add(now > fields.sent_ns ? now - fields.sent_ns : 0);
}

}  // namespace xdpturn::datapath
