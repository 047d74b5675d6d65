// Boundary classes: the values where one's-complement and length arithmetic
// goes wrong, named and counted, in the manner of RapidCheck's classify. A
// case falls in a class by what its frame and the reference's decision show,
// not by what the generator meant to make, so the distribution a run prints
// says which boundaries were really exercised. `check --require-coverage`
// fails when a class got no case.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "relay/model/reference_model.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

enum class Boundary : std::uint8_t {
    udp_checksum_none_in,       // relayed or encapsulated with UDP checksum 0 (none)
    udp_checksum_ffff_in,       // ... with 0xFFFF in (a checksum that computed to 0)
    udp_checksum_error_in,      // ... with a wrong checksum, whose error is carried
    udp_checksum_ffff_out,      // the output's checksum computed to 0, sent as 0xFFFF
    ip_checksum_0000_out,       // the output's IPv4 header checksum is 0x0000
    sum_folds_twice,            // the sum the output's UDP checksum comes from needs a second fold
    data_empty,                 // nothing carried: Length 0, or an empty datagram from a peer
    data_odd,                   // an odd number of bytes carried (a half word at the end)
    padding_1,                  // 1, 2, 3 bytes of channel padding removed
    padding_2,                  //
    padding_3,                  //
    ethernet_trailer,           // bytes after the IPv4 packet, cut from the output
    largest_frame,              // within 48 bytes of the largest frame BPF_PROG_TEST_RUN takes linear
    channel_at_min,             // relayed on the range's first channel
    channel_at_max,             // relayed on the range's last channel
    channel_below_min,          // refused: one below the range
    channel_above_max,          // refused: one above the range
    allocation_port_at_min,     // encapsulated from the relay ports' first port
    allocation_port_at_max,     // encapsulated from the relay ports' last port
    allocation_port_below_min,  // refused: one below the relay ports
    allocation_port_above_max,  // refused: one above the relay ports
    output_at_mtu,              // an output of exactly the MTU
    output_mtu_plus_1,          // refused as one byte over the MTU
    total_length_ffff,          // IPv4 total length (IPv6 payload length) field 0xFFFF
    udp_length_below_8,         // UDP length field 0-7 (no room for its own header)
    total_length_28,            // IPv4 total length 28: a UDP header and nothing else
    total_length_one_over,      // refused: total (payload) length one byte past the frame
    udp_length_ffff,            // UDP length field 0xFFFF
    channel_length_ffff,        // refused: ChannelData Length 0xFFFF
    channel_length_one_over,    // refused: Length one byte more than the datagram holds
    padding_4,                  // refused: 4 bytes after Length, one more than padding
    identification_0000,        // relayed or encapsulated with IPv4 identification 0x0000
    identification_ffff,        // ... with 0xFFFF (summed into the header checksum)
    ipv6_relayed,               // relayed over IPv6, to IPv6
    ipv6_encapsulated,          // encapsulated over IPv6, to IPv6
    payload_length_8,           // IPv6 payload length 8: a UDP header and nothing else
    ipv4_to_ipv6,               // relayed or encapsulated across families, IPv4 in, IPv6 out
    ipv6_to_ipv4,               // ... IPv6 in, IPv4 out
    udp_checksum_made,          // IPv4 in without a UDP checksum, IPv6 out: one computed in full
    udp_checksum_made_ffff,     // ... and that full checksum computed to 0, sent as 0xFFFF
    near_v4_mapped_out,         // sent to an IPv6 address with 64 zero bits first, not v4-mapped (::/64)
    hairpin_port_below_min,     // relayed to the output's own address, one port below the relay ports
    hairpin_port_above_max,     // ... one port above the relay ports
    ip_checksum_ffff_in,        // relayed or encapsulated with an IPv4 header checksum of 0xFFFF in (0 computed)
    // The sums the checksums come from, carrying out of their first fold
    // (harness/frames/folded_sums.hpp):
    ipv4_update_carries,        // the IPv4 header checksum's update (IPv4 in)
    ipv4_header_made_carries,   // the IPv4 header summed in full (IPv6 in)
    udp_update_carries,         // the UDP checksum's update
    udp_update_carries_padded,  // ... taking out channel padding
    udp_made_carries,           // the UDP checksum summed in full (IPv4 in without one, IPv6 out)
};
inline constexpr std::size_t boundary_count = 49;

std::string_view name(Boundary boundary);

// The classes `frame` falls in, given the reference's decision and output
// under `config`.
std::vector<Boundary> classify(const DatapathConfig& config, Bytes frame, const Decision& reference,
                               Bytes reference_output);

using BoundaryTally = std::array<std::uint64_t, boundary_count>;

}  // namespace xdpturn
