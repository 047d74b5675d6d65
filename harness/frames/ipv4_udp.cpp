#include "harness/frames/ipv4_udp.hpp"

namespace xdpturn {

std::optional<Ipv4UdpView> find_ipv4_udp(Bytes frame) {
    constexpr std::size_t ip_at = Ipv4UdpView::ip_at;
    if (frame.size() < ip_at + 20 || load_be16(frame, 12) != 0x0800 || (frame[ip_at] >> 4) != 4) return std::nullopt;
    const std::size_t header = std::size_t{frame[ip_at] & 0x0Fu} * 4;
    if (header < 20 || frame[ip_at + 9] != 17 || ipv4_is_fragment(frame.subspan(ip_at))) return std::nullopt;
    const std::size_t udp_at = ip_at + header;
    if (frame.size() < udp_at + 8) return std::nullopt;
    const std::size_t udp_length = load_be16(frame, udp_at + 4);
    if (udp_length < 8 || udp_at + udp_length > frame.size()) return std::nullopt;
    return Ipv4UdpView{udp_at, udp_length,
                       Endpoint{Ipv4Address{load_be32(frame, ip_at + 12)}, load_be16(frame, udp_at)},
                       Endpoint{Ipv4Address{load_be32(frame, ip_at + 16)}, load_be16(frame, udp_at + 2)},
                       frame.subspan(udp_at + 8, udp_length - 8)};
}

}  // namespace xdpturn
