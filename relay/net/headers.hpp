// The reference relay's packet views: Ethernet, IPv4 and UDP headers read
// into plain values and written back from them. Sizes are named here once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "relay/net/address.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

using MacAddress = std::array<std::uint8_t, 6>;

struct EthernetHeader {
    static constexpr std::size_t bytes = 14;
    static constexpr std::uint16_t type_ipv4 = 0x0800;
    static constexpr std::uint16_t type_ipv6 = 0x86DD;
    static constexpr std::uint16_t type_arp = 0x0806;
    static constexpr std::uint16_t type_vlan = 0x8100;      // IEEE 802.1Q
    static constexpr std::uint16_t type_qinq = 0x88A8;      // IEEE 802.1ad
    static constexpr std::size_t minimum_frame_bytes = 60;  // without FCS

    MacAddress destination{};
    MacAddress source{};
    std::uint16_t ether_type = 0;

    static EthernetHeader read(Bytes frame);  // frame.size() >= bytes
    void write(MutableBytes frame) const;
};

struct Ipv4Header {
    static constexpr std::size_t bytes = 20;  // without options
    static constexpr std::uint8_t protocol_udp = 17;
    static constexpr std::uint8_t protocol_tcp = 6;

    std::uint8_t version = 4;
    std::uint8_t ihl = 5;  // header length in 32-bit words
    std::uint8_t tos = 0;  // DSCP and ECN
    std::uint16_t total_length = 0;
    std::uint16_t identification = 0;
    bool reserved_flag = false;
    bool dont_fragment = false;
    bool more_fragments = false;
    std::uint16_t fragment_offset = 0;  // in 8-byte units
    std::uint8_t ttl = 64;
    std::uint8_t protocol = protocol_udp;
    std::uint16_t header_checksum = 0;
    Ipv4Address source;
    Ipv4Address destination;

    static Ipv4Header read(Bytes header);  // header.size() >= bytes
    void write(MutableBytes header) const;
};

struct UdpHeader {
    static constexpr std::size_t bytes = 8;

    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint16_t length = 0;
    std::uint16_t checksum = 0;

    static UdpHeader read(Bytes header);  // header.size() >= bytes
    void write(MutableBytes header) const;
};

// The IPv4 pseudo-header of RFC 768, added to a running checksum sum.
class OnesComplementSum;
void add_udp_pseudo_header(OnesComplementSum& sum, Ipv4Address source, Ipv4Address destination,
                           std::uint16_t udp_length);

}  // namespace xdpturn
