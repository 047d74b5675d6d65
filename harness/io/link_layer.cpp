#include "harness/io/link_layer.hpp"

#include <pcap/dlt.h>

#include <algorithm>

#include "harness/frames/layout.hpp"

namespace xdpturn {

namespace {

using layout::ethernet_bytes;
using layout::ethertype_ipv4;
using layout::ethertype_ipv6;
// Linux cooked capture headers (tcpdump -i any).
constexpr std::size_t cooked_v1_bytes = 16;  // type, ARPHRD, address length, address[8], protocol
constexpr std::size_t cooked_v2_bytes = 20;  // protocol, reserved, ifindex, ARPHRD, type, address length, address[8]
constexpr std::size_t loopback_family_bytes = 4;
// BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 is 24,
// 28 or 30 depending on the capturing system.
constexpr std::uint32_t bsd_af_inet = 2;
constexpr std::uint32_t bsd_af_inet6[] = {24, 28, 30};

void build_ethernet(std::vector<std::uint8_t>& out, std::uint16_t ether_type, Bytes source_mac, Bytes network) {
    out.assign(ethernet_bytes, 0);  // destination MAC: zero
    std::copy(source_mac.begin(), source_mac.end(), out.begin() + 6);
    store_be16(out, layout::ethertype_at, ether_type);
    out.insert(out.end(), network.begin(), network.end());
}

Result<std::uint16_t> ether_type_of_family(std::uint32_t family) {
    if (family == bsd_af_inet) return ethertype_ipv4;
    if (std::find(std::begin(bsd_af_inet6), std::end(bsd_af_inet6), family) != std::end(bsd_af_inet6))
        return ethertype_ipv6;
    return Error{"loopback address family " + std::to_string(family) + " is neither IPv4 nor IPv6"};
}

}  // namespace

Result<LinkAdapter> LinkAdapter::for_link_type(int link_type) {
    switch (link_type) {
        case DLT_EN10MB: return LinkAdapter(Kind::ethernet, "Ethernet", "");
        case DLT_LINUX_SLL:
            return LinkAdapter(Kind::linux_cooked_v1, "Linux cooked v1",
                               "Ethernet header from the cooked header: zero destination MAC, the cooked source "
                               "address as source MAC, the cooked protocol as EtherType");
        case DLT_LINUX_SLL2:
            return LinkAdapter(Kind::linux_cooked_v2, "Linux cooked v2",
                               "Ethernet header from the cooked header: zero destination MAC, the cooked source "
                               "address as source MAC, the cooked protocol as EtherType");
        case DLT_RAW:
        case DLT_IPV4:
        case DLT_IPV6:
            return LinkAdapter(Kind::raw_ip, "raw IP",
                               "Ethernet header with zero MACs and the EtherType of the IP version");
        case DLT_NULL:
            return LinkAdapter(Kind::bsd_loopback_host, "BSD loopback",
                               "Ethernet header with zero MACs and the EtherType of the address family");
        case DLT_LOOP:
            return LinkAdapter(Kind::bsd_loopback_network, "OpenBSD loopback",
                               "Ethernet header with zero MACs and the EtherType of the address family");
        default: break;
    }
    return Error{"link type " + std::to_string(link_type) +
                 " is not supported (Ethernet, Linux cooked v1/v2, raw IP and BSD loopback are)"};
}

Result<Bytes> LinkAdapter::to_ethernet(Bytes captured, std::vector<std::uint8_t>& scratch) const {
    static constexpr std::uint8_t no_mac[6] = {};
    switch (kind_) {
        case Kind::ethernet: return captured;
        case Kind::linux_cooked_v1:
        case Kind::linux_cooked_v2: {
            const bool v2 = kind_ == Kind::linux_cooked_v2;
            const std::size_t header = v2 ? cooked_v2_bytes : cooked_v1_bytes;
            if (captured.size() < header) return Error{"shorter than its Linux cooked header"};
            const std::uint16_t protocol = load_be16(captured, v2 ? 0 : 14);
            const std::size_t address_length = captured[v2 ? 11 : 5];
            const Bytes address = captured.subspan(v2 ? 12 : 6, 6);
            build_ethernet(scratch, protocol, address_length == 6 ? address : Bytes(no_mac), captured.subspan(header));
            return Bytes(scratch);
        }
        case Kind::raw_ip: {
            if (captured.empty()) return Error{"empty raw IP frame"};
            const int version = captured[0] >> 4;
            if (version != 4 && version != 6) return Error{"raw frame is neither IPv4 nor IPv6"};
            build_ethernet(scratch, version == 4 ? ethertype_ipv4 : ethertype_ipv6, Bytes(no_mac), captured);
            return Bytes(scratch);
        }
        case Kind::bsd_loopback_host:
        case Kind::bsd_loopback_network: {
            if (captured.size() < loopback_family_bytes) return Error{"shorter than its loopback header"};
            std::uint32_t family = load_be32(captured, 0);
            // DLT_NULL stores the family in the capturing host's byte order:
            // a value above 255 was written little-endian.
            if (kind_ == Kind::bsd_loopback_host && family > 0xFF)
                family = (family >> 24) | ((family >> 8) & 0xFF00) | ((family << 8) & 0xFF0000) | (family << 24);
            auto ether_type = ether_type_of_family(family);
            if (!ether_type) return ether_type.error();
            build_ethernet(scratch, *ether_type, Bytes(no_mac), captured.subspan(loopback_family_bytes));
            return Bytes(scratch);
        }
    }
    return Error{"unknown link kind"};
}

}  // namespace xdpturn
