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

struct Ipv6Header {
    static constexpr std::size_t bytes = 40;  // the fixed header, without extension headers
    static constexpr std::uint8_t next_header_udp = 17;

    std::uint8_t version = 6;
    std::uint8_t traffic_class = 0;  // DSCP and ECN, as IPv4's TOS
    std::uint32_t flow_label = 0;    // 20 bits
    std::uint16_t payload_length = 0;
    std::uint8_t next_header = next_header_udp;
    std::uint8_t hop_limit = 64;
    IpAddress source;  // of the IPv6 family (a mapped IPv4 form is read as IPv4)
    IpAddress destination;

    static Ipv6Header read(Bytes header);  // header.size() >= bytes
    void write(MutableBytes header) const;
};

// Next Header values that name an IPv6 extension header (IANA's "IPv6
// Extension Header Types" registry, RFC 8200 Section 4 and later): hop-by-hop
// options, routing, fragment, ESP, AH, destination options, mobility, HIP,
// shim6 and the two experimental values.
bool is_ipv6_extension_header(std::uint8_t next_header);

struct UdpHeader {
    static constexpr std::size_t bytes = 8;

    std::uint16_t source_port = 0;
    std::uint16_t destination_port = 0;
    std::uint16_t length = 0;
    std::uint16_t checksum = 0;

    static UdpHeader read(Bytes header);  // header.size() >= bytes
    void write(MutableBytes header) const;
};

// The UDP pseudo-header added to a running checksum sum: RFC 768's under
// an IPv4 header, RFC 8200 Section 8.1's (128-bit addresses, 32-bit length)
// under an IPv6 one. The header's family decides, not the addresses': an
// IPv6 header may carry an IPv4-mapped address, and it is summed as the 16
// bytes it is there.
class OnesComplementSum;
enum class IpFamily { v4, v6 };
void add_udp_pseudo_header(OnesComplementSum& sum, IpFamily header, const IpAddress& source,
                           const IpAddress& destination, std::uint16_t udp_length);

}  // namespace xdpturn
