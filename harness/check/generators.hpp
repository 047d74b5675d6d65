// RapidCheck generators for structured cases: a relay configuration, a
// binding table and a frame. Each case starts from a valid, bound
// ChannelData frame and varies one or more things at a time, each variation
// aimed at a row of docs/datapath.md, so that every row is reached often.
// Shared by the property tests and `xdpturn check`.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "harness/frames/frame_builder.hpp"
#include "relay/model/bindings.hpp"

namespace xdpturn {

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
    sum_folds_twice,            // the output checksum's sum carries out of its first fold
    other_family,        // other_family, or relayed across families (the binding's far end is of the other family)
    no_checksum_across,  // relayed into IPv6 with a checksum made (IPv4 without one, its far end IPv6)
};
inline constexpr std::size_t variation_count = 28;

std::string_view name(Variation variation);

struct GeneratedCase {
    DatapathConfig config;
    BindingTable bindings;
    FrameSpec spec;
    std::vector<Variation> variations;
};

// The frame a case describes.
std::vector<std::uint8_t> frame_of(const GeneratedCase& c);

// A case is interpreted from a sequence of choices (each a random 32-bit
// number). Zeros, or running out of choices, pick the simplest option, so
// fewer and smaller choices make a simpler case: shrinking works on the
// sequence. The fast path (`xdpturn check`) draws the choices from a plain
// PRNG; RapidCheck generates and shrinks them in the property tests.
inline constexpr std::size_t choices_per_case = 96;
GeneratedCase interpret_choices(std::span<const std::uint32_t> choices);
std::vector<std::uint32_t> random_choices(std::uint64_t seed);
rc::Gen<std::vector<std::uint32_t>> gen_choices();
// A shrink tree over a choice sequence, for cases found outside RapidCheck.
rc::Shrinkable<std::vector<std::uint32_t>> shrinkable_choices(std::vector<std::uint32_t> choices);

// The generator of whole cases, for RC_BOOST_PROP.
rc::Gen<GeneratedCase> gen_case();

// 256 bindings of clients no generated frame comes from: a table with many
// entries (a case may carry part of it; shared blocks of `xdpturn check`
// always hold all of it).
const BindingTable& background_bindings();

// Configurations the generator uses: both channel ranges, two TURN ports,
// each with its own relay port range and MTU. (Each configuration is a
// separately loaded program, so the set is small.)
std::vector<DatapathConfig> generated_configs();

// RapidCheck prints counterexamples with showValue.
void showValue(const GeneratedCase& c, std::ostream& os);

}  // namespace xdpturn
