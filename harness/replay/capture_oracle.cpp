#include "harness/replay/capture_oracle.hpp"

#include <string_view>

#include "harness/frames/udp_view.hpp"

namespace xdpturn {

// UDP source port, destination address and port, and payload of an IPv4 UDP
// frame, hashed; 0 for anything else. The source address is left out: the
// relay may send from another local address than the one the XDP program
// copies from the arriving frame.
std::uint64_t CaptureOracle::key_of(Bytes frame) {
    const auto udp = find_udp(frame);
    if (!udp) return 0;
    const std::string_view payload(reinterpret_cast<const char*>(udp->payload.data()), udp->payload.size());
    const std::uint64_t where =
        hash_value(udp->destination.address) ^ ((std::uint64_t{udp->source.port} << 16) | udp->destination.port);
    const std::uint64_t key = std::hash<std::string_view>{}(payload) ^ (where * 0x9E3779B97F4A7C15ull);
    return key == 0 ? 1 : key;
}

void CaptureOracle::expect(Bytes xdp_output) {
    const std::uint64_t key = key_of(xdp_output);
    if (key == 0) return;
    ++expected_;
    ++pending_[key];
    order_.push_back(key);
    if (order_.size() > max_pending) {
        const auto oldest = pending_.find(order_.front());
        if (oldest != pending_.end() && --oldest->second == 0) pending_.erase(oldest);
        order_.pop_front();
        ++dropped_;
    }
}

bool CaptureOracle::observe(Bytes captured_frame) {
    if (pending_.empty()) return false;
    const std::uint64_t key = key_of(captured_frame);
    if (key == 0) return false;
    const auto found = pending_.find(key);
    if (found == pending_.end()) return false;
    if (--found->second == 0) pending_.erase(found);
    ++matched_;
    return true;
}

}  // namespace xdpturn
