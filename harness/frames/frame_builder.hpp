// Builds test frames from a description: every header field settable, every
// length and checksum either computed or forced. Fixed cases, generators and
// expected outputs are written as FrameSpecs. Its checksums come from
// textbook_checksum.hpp, not from the reference model or the BPF program.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "relay/model/bindings.hpp"

namespace xdpturn {

enum class ChecksumMode {
    valid,   // the correct value (for UDP: 0 replaced by 0xFFFF)
    zero,    // 0x0000 (UDP: "no checksum")
    offset,  // the correct value plus `error` in one's-complement arithmetic
    fixed,   // `error` itself, whatever the correct value (0xFFFF where 0 is computed: the other zero)
};

struct ChecksumSpec {
    ChecksumMode mode = ChecksumMode::valid;
    std::uint16_t error = 0;  // for ChecksumMode::offset, 1..0xFFFE
};

struct FrameSpec {
    std::array<std::uint8_t, 6> eth_destination{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    std::array<std::uint8_t, 6> eth_source{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    std::vector<std::uint16_t> vlan_tags;     // 802.1Q TCIs, outermost first
    std::optional<std::uint16_t> ether_type;  // forces it; else 0x0800 or 0x86DD by family

    // The family of ip_source picks the header: IPv4 (20 bytes and options)
    // or IPv6 (40 bytes and extension headers). Fields of the other family
    // are ignored; tos and ttl serve as IPv6's traffic class and hop limit,
    // protocol as its Next Header.
    std::optional<std::uint8_t> ip_version;  // forces the version nibble
    std::optional<bool> ipv6_header;         // forces the header: IPv4-mapped addresses in IPv6
    std::vector<std::uint8_t> ip_options;    // appended after the 20 bytes; IHL follows
    std::optional<std::uint8_t> ihl;         // forces the IHL nibble
    std::uint8_t tos = 0;
    std::uint16_t identification = 0x1234;
    bool reserved_flag = false;
    bool dont_fragment = false;
    bool more_fragments = false;
    std::uint16_t fragment_offset = 0;
    std::uint8_t ttl = 64;
    std::uint8_t protocol = 17;
    IpAddress ip_source{Ipv4Address{0xC6336407}};       // 198.51.100.7
    IpAddress ip_destination{Ipv4Address{0xC0000201}};  // 192.0.2.1, the relay
    std::optional<std::uint16_t> total_length;          // forces the field (IPv6: Payload Length)
    ChecksumSpec ip_checksum;                           // IPv4 only
    std::uint32_t flow_label = 0;                       // IPv6 only, 20 bits
    std::vector<std::uint8_t> extension_headers;        // IPv6 only: bytes between its header and UDP

    std::uint16_t udp_source = 50000;
    std::uint16_t udp_destination = 3478;
    std::optional<std::uint16_t> udp_length;  // forces the field
    ChecksumSpec udp_checksum;

    // UDP payload: a ChannelData message, or raw bytes when !channel_data.
    bool channel_data = true;
    std::uint16_t channel = 0x4000;
    std::optional<std::uint16_t> channel_length;  // forces Length
    std::vector<std::uint8_t> application_data;
    std::vector<std::uint8_t> padding;  // bytes after the data, inside UDP
    std::vector<std::uint8_t> raw_udp_payload;

    std::vector<std::uint8_t> trailer;       // bytes after the IPv4 packet
    std::optional<std::size_t> truncate_to;  // cuts the finished frame
};

std::vector<std::uint8_t> build_frame(const FrameSpec& spec);

// `count` bytes of a deterministic, non-repeating pattern starting at `seed`.
std::vector<std::uint8_t> pattern_bytes(std::size_t count, std::uint8_t seed = 0);

}  // namespace xdpturn
