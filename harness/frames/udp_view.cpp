#include "harness/frames/udp_view.hpp"

#include <algorithm>

namespace xdpturn {

namespace {

constexpr std::size_t ip_at = UdpView::ip_at;

// The UDP header at `udp_at`, if its length fits the frame.
std::optional<UdpView> udp_at_offset(Bytes frame, std::size_t udp_at, bool ipv6, const IpAddress& source,
                                     const IpAddress& destination) {
    if (frame.size() < udp_at + 8) return std::nullopt;
    const std::size_t udp_length = load_be16(frame, udp_at + 4);
    if (udp_length < 8 || udp_at + udp_length > frame.size()) return std::nullopt;
    return UdpView{ipv6,
                   udp_at,
                   udp_length,
                   Endpoint{source, load_be16(frame, udp_at)},
                   Endpoint{destination, load_be16(frame, udp_at + 2)},
                   frame.subspan(udp_at + 8, udp_length - 8)};
}

std::optional<UdpView> find_ipv6_udp(Bytes frame) {
    if (frame.size() < ip_at + 40 || (frame[ip_at] >> 4) != 6 || frame[ip_at + 6] != 17) return std::nullopt;
    Ipv6Bytes source{};
    Ipv6Bytes destination{};
    std::copy_n(frame.begin() + ip_at + 8, source.size(), source.begin());
    std::copy_n(frame.begin() + ip_at + 24, destination.size(), destination.begin());
    return udp_at_offset(frame, ip_at + 40, true, IpAddress::from_bytes(source), IpAddress::from_bytes(destination));
}

}  // namespace

std::optional<UdpView> find_udp(Bytes frame) {
    if (frame.size() >= ip_at && load_be16(frame, 12) == 0x86DD) return find_ipv6_udp(frame);
    if (frame.size() < ip_at + 20 || load_be16(frame, 12) != 0x0800 || (frame[ip_at] >> 4) != 4) return std::nullopt;
    const std::size_t header = std::size_t{frame[ip_at] & 0x0Fu} * 4;
    if (header < 20 || frame[ip_at + 9] != 17 || ipv4_is_fragment(frame.subspan(ip_at))) return std::nullopt;
    return udp_at_offset(frame, ip_at + header, false, Ipv4Address{load_be32(frame, ip_at + 12)},
                         Ipv4Address{load_be32(frame, ip_at + 16)});
}

}  // namespace xdpturn
