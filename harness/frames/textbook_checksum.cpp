#include "harness/frames/textbook_checksum.hpp"

#include "harness/frames/layout.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

std::uint32_t textbook_sum(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
    // Add 16-bit big-endian words into a wide total, fold the carries once.
    std::uint64_t total = sum;
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) total += (std::uint32_t{bytes[i]} << 8) | bytes[i + 1];
    if (i < bytes.size()) total += std::uint32_t{bytes[i]} << 8;  // odd length: pad with a zero byte
    while (total > 0xFFFF) total = (total & 0xFFFF) + (total >> 16);
    return static_cast<std::uint32_t>(total);
}

std::uint16_t textbook_checksum(std::span<const std::uint8_t> bytes) {
    return static_cast<std::uint16_t>(~textbook_sum(bytes, 0) & 0xFFFF);
}

std::uint32_t textbook_udp_pseudo_header_sum(std::span<const std::uint8_t> ipv4_header, std::size_t udp_length) {
    const std::uint8_t protocol_and_length[] = {0, 17, static_cast<std::uint8_t>(udp_length >> 8),
                                                static_cast<std::uint8_t>(udp_length & 0xFF)};
    return textbook_sum(protocol_and_length, textbook_sum(ipv4_header.subspan(12, 8), 0));
}

std::uint32_t textbook_udp6_pseudo_header_sum(std::span<const std::uint8_t> ipv6_header, std::size_t udp_length) {
    const std::uint8_t length_zeros_and_next_header[] = {static_cast<std::uint8_t>(udp_length >> 24),
                                                         static_cast<std::uint8_t>(udp_length >> 16),
                                                         static_cast<std::uint8_t>(udp_length >> 8),
                                                         static_cast<std::uint8_t>(udp_length & 0xFF),
                                                         0,
                                                         0,
                                                         0,
                                                         17};
    return textbook_sum(length_zeros_and_next_header, textbook_sum(ipv6_header.subspan(8, 32), 0));
}

std::uint32_t udp_sum_before_folding(std::span<const std::uint8_t> frame) {
    const std::size_t udp_at = layout_of(frame).udp_at;
    // Pseudo-header: protocol, UDP length and both addresses, which end
    // where UDP begins in either family (IPv4 bytes 12-19, IPv6 8-39).
    const std::size_t addresses_at = layout_of(frame).addresses_at();
    std::uint32_t sum = 17u + load_be16(frame, udp_at + 4);
    for (std::size_t at = addresses_at; at < udp_at; at += 2) sum += load_be16(frame, at);
    const std::span<const std::uint8_t> datagram = frame.subspan(udp_at, load_be16(frame, udp_at + 4));
    for (std::size_t i = 0; i + 1 < datagram.size(); i += 2) sum += load_be16(datagram, i);
    if (datagram.size() % 2 == 1) sum += static_cast<std::uint32_t>(datagram.back()) << 8;
    return sum - load_be16(frame, udp_at + 6);
}

}  // namespace xdpturn
