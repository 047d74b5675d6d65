#include "relay/net/headers.hpp"

#include <algorithm>

#include "relay/net/checksum.hpp"

namespace xdpturn {

namespace {
constexpr std::uint16_t flag_reserved = 0x8000;
constexpr std::uint16_t flag_dont_fragment = 0x4000;
constexpr std::uint16_t flag_more_fragments = 0x2000;
constexpr std::uint16_t fragment_offset_mask = 0x1FFF;
}  // namespace

EthernetHeader EthernetHeader::read(Bytes frame) {
    EthernetHeader header;
    std::copy_n(frame.begin(), 6, header.destination.begin());
    std::copy_n(frame.begin() + 6, 6, header.source.begin());
    header.ether_type = load_be16(frame, 12);
    return header;
}

void EthernetHeader::write(MutableBytes frame) const {
    std::copy(destination.begin(), destination.end(), frame.begin());
    std::copy(source.begin(), source.end(), frame.begin() + 6);
    store_be16(frame, 12, ether_type);
}

Ipv4Header Ipv4Header::read(Bytes header) {
    Ipv4Header ip;
    ip.version = header[0] >> 4;
    ip.ihl = header[0] & 0x0F;
    ip.tos = header[1];
    ip.total_length = load_be16(header, 2);
    ip.identification = load_be16(header, 4);
    const std::uint16_t flags_and_offset = load_be16(header, 6);
    ip.reserved_flag = flags_and_offset & flag_reserved;
    ip.dont_fragment = flags_and_offset & flag_dont_fragment;
    ip.more_fragments = flags_and_offset & flag_more_fragments;
    ip.fragment_offset = flags_and_offset & fragment_offset_mask;
    ip.ttl = header[8];
    ip.protocol = header[9];
    ip.header_checksum = load_be16(header, 10);
    ip.source = Ipv4Address{load_be32(header, 12)};
    ip.destination = Ipv4Address{load_be32(header, 16)};
    return ip;
}

void Ipv4Header::write(MutableBytes header) const {
    header[0] = static_cast<std::uint8_t>((version << 4) | (ihl & 0x0F));
    header[1] = tos;
    store_be16(header, 2, total_length);
    store_be16(header, 4, identification);
    const auto flags =
        static_cast<std::uint16_t>((reserved_flag ? flag_reserved : 0) | (dont_fragment ? flag_dont_fragment : 0) |
                                   (more_fragments ? flag_more_fragments : 0));
    store_be16(header, 6, static_cast<std::uint16_t>(flags | (fragment_offset & fragment_offset_mask)));
    header[8] = ttl;
    header[9] = protocol;
    store_be16(header, 10, header_checksum);
    store_be32(header, 12, source.value);
    store_be32(header, 16, destination.value);
}

Ipv6Header Ipv6Header::read(Bytes header) {
    Ipv6Header ip;
    const std::uint32_t first_word = load_be32(header, 0);
    ip.version = static_cast<std::uint8_t>(first_word >> 28);
    ip.traffic_class = static_cast<std::uint8_t>(first_word >> 20);
    ip.flow_label = first_word & 0xFFFFF;
    ip.payload_length = load_be16(header, 4);
    ip.next_header = header[6];
    ip.hop_limit = header[7];
    Ipv6Bytes address{};
    std::copy_n(header.begin() + 8, address.size(), address.begin());
    ip.source = IpAddress::from_bytes(address);
    std::copy_n(header.begin() + 24, address.size(), address.begin());
    ip.destination = IpAddress::from_bytes(address);
    return ip;
}

void Ipv6Header::write(MutableBytes header) const {
    store_be32(header, 0,
               (std::uint32_t{version} << 28) | (std::uint32_t{traffic_class} << 20) | (flow_label & 0xFFFFF));
    store_be16(header, 4, payload_length);
    header[6] = next_header;
    header[7] = hop_limit;
    std::copy(source.bytes().begin(), source.bytes().end(), header.begin() + 8);
    std::copy(destination.bytes().begin(), destination.bytes().end(), header.begin() + 24);
}

bool is_ipv6_extension_header(std::uint8_t next_header) {
    switch (next_header) {
        case 0:    // hop-by-hop options
        case 43:   // routing
        case 44:   // fragment
        case 50:   // encapsulating security payload
        case 51:   // authentication header
        case 60:   // destination options
        case 135:  // mobility
        case 139:  // host identity protocol
        case 140:  // shim6
        case 253:  // experimentation and testing
        case 254: return true;
        default: return false;
    }
}

UdpHeader UdpHeader::read(Bytes header) {
    return UdpHeader{load_be16(header, 0), load_be16(header, 2), load_be16(header, 4), load_be16(header, 6)};
}

void UdpHeader::write(MutableBytes header) const {
    store_be16(header, 0, source_port);
    store_be16(header, 2, destination_port);
    store_be16(header, 4, length);
    store_be16(header, 6, checksum);
}

void add_udp_pseudo_header(OnesComplementSum& sum, IpFamily header, const IpAddress& source,
                           const IpAddress& destination, std::uint16_t udp_length) {
    if (header == IpFamily::v4) {
        sum.add32(source.v4().value).add32(destination.v4().value).add16(Ipv4Header::protocol_udp).add16(udp_length);
        return;
    }
    sum.add(source.bytes()).add(destination.bytes()).add32(udp_length).add32(Ipv6Header::next_header_udp);
}

}  // namespace xdpturn
