#include "harness/frames/udp_view.hpp"

#include <algorithm>

namespace xdpturn {

namespace {

using layout::ip_at;

// The UDP header at `udp_at`, if its length fits the frame.
std::optional<UdpView> udp_at_offset(Bytes frame, std::size_t udp_at, bool ipv6, const IpAddress& source,
                                     const IpAddress& destination) {
    if (frame.size() < udp_at + layout::udp_bytes) return std::nullopt;
    const std::size_t udp_length = load_be16(frame, udp_at + 4);
    if (udp_length < layout::udp_bytes || udp_at + udp_length > frame.size()) return std::nullopt;
    return UdpView{ipv6,
                   udp_at,
                   udp_length,
                   Endpoint{source, load_be16(frame, udp_at)},
                   Endpoint{destination, load_be16(frame, udp_at + 2)},
                   frame.subspan(udp_at + layout::udp_bytes, udp_length - layout::udp_bytes)};
}

std::optional<UdpView> find_ipv6_udp(Bytes frame) {
    if (frame.size() < ip_at + layout::ipv6_bytes || (frame[ip_at] >> 4) != 6 || frame[ip_at + 6] != 17)
        return std::nullopt;
    Ipv6Bytes source{};
    Ipv6Bytes destination{};
    std::copy_n(frame.begin() + ip_at + 8, source.size(), source.begin());
    std::copy_n(frame.begin() + ip_at + 24, destination.size(), destination.begin());
    return udp_at_offset(frame, ipv6_layout.udp_at, true, IpAddress::from_bytes(source),
                         IpAddress::from_bytes(destination));
}

}  // namespace

std::optional<UdpView> find_udp(Bytes frame) {
    const std::uint16_t ethertype = layout::ethertype_of(frame);
    if (ethertype == layout::ethertype_ipv6) return find_ipv6_udp(frame);
    if (frame.size() < ip_at + layout::ipv4_bytes || ethertype != layout::ethertype_ipv4 || (frame[ip_at] >> 4) != 4)
        return std::nullopt;
    const std::size_t header = std::size_t{frame[ip_at] & 0x0Fu} * 4;
    if (header < layout::ipv4_bytes || frame[ip_at + 9] != 17 || ipv4_is_fragment(frame.subspan(ip_at)))
        return std::nullopt;
    return udp_at_offset(frame, ip_at + header, false, Ipv4Address{load_be32(frame, ip_at + 12)},
                         Ipv4Address{load_be32(frame, ip_at + 16)});
}

}  // namespace xdpturn
