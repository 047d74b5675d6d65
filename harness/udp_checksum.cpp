#include "harness/udp_checksum.hpp"

#include <optional>

#include "harness/frame_builder.hpp"

namespace xdpturn {

namespace {

constexpr std::size_t ip_at = 14;

struct UdpLocation {
    std::size_t udp_at = 0;
    std::size_t udp_length = 0;
};

// An unfragmented IPv4 UDP datagram whose UDP length fits the frame.
std::optional<UdpLocation> locate(Bytes frame) {
    if (frame.size() < ip_at + 20 || load_be16(frame, 12) != 0x0800 || (frame[ip_at] >> 4) != 4) return std::nullopt;
    const std::size_t header = std::size_t{frame[ip_at] & 0x0Fu} * 4;
    if (header < 20 || frame[ip_at + 9] != 17 || (load_be16(frame, ip_at + 6) & 0x3FFF) != 0) return std::nullopt;
    const std::size_t udp_at = ip_at + header;
    if (frame.size() < udp_at + 8) return std::nullopt;
    const std::size_t udp_length = load_be16(frame, udp_at + 4);
    if (udp_length < 8 || udp_at + udp_length > frame.size()) return std::nullopt;
    return UdpLocation{udp_at, udp_length};
}

std::uint32_t pseudo_header_sum(Bytes frame, std::size_t udp_length) {
    const std::uint8_t protocol_and_length[] = {0, 17, static_cast<std::uint8_t>(udp_length >> 8),
                                                static_cast<std::uint8_t>(udp_length & 0xFF)};
    return textbook_sum(protocol_and_length, textbook_sum(frame.subspan(ip_at + 12, 8), 0));
}

}  // namespace

UdpChecksumState classify_udp_checksum(Bytes frame) {
    const auto udp = locate(frame);
    if (!udp) return UdpChecksumState::not_applicable;
    const std::uint16_t field = load_be16(frame, udp->udp_at + 6);
    if (field == 0) return UdpChecksumState::none;
    const std::uint32_t pseudo = pseudo_header_sum(frame, udp->udp_length);
    const std::uint32_t total = textbook_sum(frame.subspan(udp->udp_at, udp->udp_length), pseudo);
    if (total == 0xFFFF) return UdpChecksumState::valid;
    // Linux leaves ~csum_tcpudp_magic(...): the folded pseudo-header sum.
    if (field == pseudo || (pseudo == 0xFFFF && field == 0)) return UdpChecksumState::partial;
    return UdpChecksumState::wrong;
}

bool repair_udp_checksum(std::vector<std::uint8_t>& frame) {
    const auto udp = locate(frame);
    if (!udp) return false;
    store_be16(frame, udp->udp_at + 6, 0);
    const std::uint32_t total =
        textbook_sum(Bytes(frame).subspan(udp->udp_at, udp->udp_length), pseudo_header_sum(frame, udp->udp_length));
    std::uint16_t checksum = static_cast<std::uint16_t>(~total & 0xFFFF);
    if (checksum == 0) checksum = 0xFFFF;
    store_be16(frame, udp->udp_at + 6, checksum);
    return true;
}

}  // namespace xdpturn
