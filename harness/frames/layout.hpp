// Where the headers of a harness frame sit: Ethernet, then IPv4 without
// options or IPv6 without extension headers, then UDP, then on a client's
// side the 4-byte ChannelData header (RFC 8656 section 12.4). Every part of
// the harness that reads or writes frames at fixed offsets (the validator,
// the boundary classes, the conformance oracle, the UDP view, the property
// run, the replay run, the benchmark's flows, the link layers) takes them
// from here, so "Ethernet is 14 bytes" is written once.
//
// Independent of relay/net on purpose: the reference model finds its
// headers its own way, from the RFCs, and a harness that borrowed its
// offsets would agree with it by construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace xdpturn::layout {

inline constexpr std::size_t ethernet_bytes = 14;
inline constexpr std::size_t ethertype_at = 12;
inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t ethertype_ipv6 = 0x86DD;
inline constexpr std::size_t ip_at = ethernet_bytes;
inline constexpr std::size_t ipv4_bytes = 20;  // no options
inline constexpr std::size_t ipv6_bytes = 40;  // no extension headers
inline constexpr std::size_t udp_bytes = 8;
inline constexpr std::size_t channel_header_bytes = 4;

// The EtherType of a frame long enough to have one; 0 otherwise.
constexpr std::uint16_t ethertype_of(std::span<const std::uint8_t> frame) {
    if (frame.size() < ethernet_bytes) return 0;
    return static_cast<std::uint16_t>((frame[ethertype_at] << 8) | frame[ethertype_at + 1]);
}

}  // namespace xdpturn::layout

namespace xdpturn {

// The offsets of one frame's headers. The fields past the IP header move
// with its size: 20 bytes for IPv4, 40 for IPv6.
struct FrameLayout {
    bool ipv6 = false;
    std::size_t udp_at = layout::ip_at + layout::ipv4_bytes;

    static constexpr std::size_t ip_at = layout::ip_at;
    constexpr std::size_t ip_header_bytes() const { return udp_at - ip_at; }
    constexpr std::size_t udp_data_at() const { return udp_at + layout::udp_bytes; }
    constexpr std::size_t channel_data_at() const { return udp_data_at() + layout::channel_header_bytes; }
    // The source and destination addresses, one after the other.
    constexpr std::size_t addresses_at() const { return ip_at + (ipv6 ? 8 : 12); }
    constexpr std::size_t address_bytes() const { return ipv6 ? 16 : 4; }
};

inline constexpr FrameLayout ipv4_layout{false, layout::ip_at + layout::ipv4_bytes};
inline constexpr FrameLayout ipv6_layout{true, layout::ip_at + layout::ipv6_bytes};

// The layout the frame's EtherType announces: IPv6 for 0x86DD, IPv4 for
// anything else (callers that must tell "not IP" apart check the EtherType).
constexpr FrameLayout layout_of(std::span<const std::uint8_t> frame) {
    return layout::ethertype_of(frame) == layout::ethertype_ipv6 ? ipv6_layout : ipv4_layout;
}
constexpr FrameLayout layout_of_family(bool ipv6) {
    return ipv6 ? ipv6_layout : ipv4_layout;
}

}  // namespace xdpturn
