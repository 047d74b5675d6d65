// The variations a generated case can carry, as one table: a row per
// variation with its name, how often it is drawn, when it applies, the
// function that applies it and the contract rows (reasons) it aims at. The
// generator (generators.cpp) draws from the weights and calls the rows'
// functions; reports name variations from here. Adding a variation is one
// enum value and one row, and a compile-time check keeps the two in step.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "relay/model/reason.hpp"

namespace xdpturn {

struct GeneratedCase;
class Chooser;

// The variations a case can carry, each aimed at one or more contract rows.
enum class Variation : std::uint8_t {
    ether_type,                 // not_ip (and the other version's header behind an EtherType)
    vlan_tag,                   // vlan_tagged
    ethernet_trailer,           // bytes after the IP packet (relayed, cut off)
    truncated,                  // short_ipv4, short_ipv6, short_udp (cut inside the headers)
    ip_version,                 // ipv4_version, ipv6_version
    ip_options,                 // ipv4_options (real option bytes, IHL 6..15); ipv6_extension (real headers)
    ip_ihl_below_5,             // ipv4_options (invalid IHL); ipv6_extension (Next Header alone)
    fragment,                   // ipv4_fragment; ipv6_extension (a fragment header)
    protocol,                   // not_udp
    wrong_port,                 // wrong_port
    total_length,               // ipv4_length, ipv6_length (and udp_length when it stays consistent)
    udp_length,                 // udp_length
    ip_checksum,                // ipv4_checksum (IPv6 has none: no change)
    udp_checksum_zero,          // relayed, checksum 0 kept; ipv6_zero_checksum
    udp_checksum_wrong,         // relayed, error carried
    short_channel,              // short_channel
    stun_message,               // channel_range (STUN first bytes)
    channel_length,             // channel_length / channel_padding (Length vs data)
    excess_padding,             // channel_padding
    relayed_udp_checksum_zero,  // relayed: the new UDP checksum computes to 0 (sent as 0xFFFF)
    relayed_ip_checksum_zero,   // relayed: the new IPv4 header checksum is 0x0000
    hairpin,                    // hairpin (the binding's peer is the relay's own address)
    peer_near_miss,             // no_channel (peer address, peer port or allocation port off by one)
    mtu_boundary,               // too_big / encapsulated (output within a byte or two of the MTU)
    udp_checksum_ffff,          // relayed, the input's checksum computed to 0 and was sent as 0xFFFF
    sum_folds_twice,            // a checksum's sum carries out of its first fold
    other_family,        // other_family, or relayed across families (the binding's far end is of the other family)
    no_checksum_across,  // relayed into IPv6 with a checksum made (IPv4 without one, its far end IPv6)
    ip_checksum_ffff,    // relayed: the input's IPv4 header checksum computed to 0 and was sent as 0xFFFF
};
inline constexpr std::size_t variation_count = 29;

// When a variation applies: before the data and the binding table are
// chosen, or to the finished frame and table (those that measure the frame
// or aim at its binding).
enum class VariationStage : std::uint8_t { before_data, finished_frame };

struct VariationRow {
    Variation variation;
    std::string_view name;
    std::uint32_t weight;  // relative to the other rows' weights
    VariationStage stage;
    // Changes the case; reads its parameters from `choose`, a stream of its own.
    void (*apply)(GeneratedCase& c, Chooser& choose);
    std::uint64_t aims;  // bit r set: aimed at the contract row of Reason r
};

// Every row, in Variation's order.
std::span<const VariationRow> variation_rows();
const VariationRow& row_of(Variation variation);
// The rows' weights, in Variation's order, for Chooser::weighted.
std::span<const std::uint32_t> variation_weights();
std::string_view name(Variation variation);
bool aims_at(const VariationRow& row, Reason reason);

}  // namespace xdpturn
