// The Internet checksum the textbook way (RFC 1071: sum 16-bit words, fold
// the carries, complement), the harness's own: not the reference model's
// OnesComplementSum and not the XDP program's incremental update. The frame
// builder, the validator and the checksum-offload repair use it, so a wrong
// checksum needs two independent implementations to agree to go unnoticed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace xdpturn {

// Continues `sum` (of an even-length prefix) over more bytes, folded.
std::uint32_t textbook_sum(std::span<const std::uint8_t> bytes, std::uint32_t sum);
std::uint16_t textbook_checksum(std::span<const std::uint8_t> bytes);

// The IPv4 UDP pseudo-header of RFC 768, summed: the source and destination
// addresses as the IPv4 header holds them (its bytes 12-19), a zero byte,
// protocol 17 and the UDP length.
std::uint32_t textbook_udp_pseudo_header_sum(std::span<const std::uint8_t> ipv4_header, std::size_t udp_length);

// The IPv6 pseudo-header of RFC 8200 Section 8.1, summed: the 128-bit
// source and destination addresses as the IPv6 header holds them (its bytes
// 8-39), the upper-layer length in 32 bits, three zero bytes and next
// header 17.
std::uint32_t textbook_udp6_pseudo_header_sum(std::span<const std::uint8_t> ipv6_header, std::size_t udp_length);

// The 32-bit sum a UDP checksum is computed from, before any fold: the
// pseudo-header and the datagram of an untagged frame of either family, its
// checksum field counted as zero.
std::uint32_t udp_sum_before_folding(std::span<const std::uint8_t> frame);

}  // namespace xdpturn
