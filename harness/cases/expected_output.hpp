// The contract's rewrite rules (docs/datapath.md, rows 20 and 23) stated in
// the tests' own terms, as FrameSpecs: a third statement of them, beside the
// XDP program and the reference model, used to write expected frames.
#pragma once

#include "harness/frames/frame_builder.hpp"
#include "relay/model/bindings.hpp"

namespace xdpturn {

// `config` gives the TURN port, and the relay address an output of the other
// family than its input is sent from.

// Client -> peer: the UDP datagram the ChannelData frame `in` becomes.
FrameSpec expected_relayed_frame(const FrameSpec& in, const BindingTarget& target, const DatapathConfig& config);

// Peer -> client: the ChannelData message to `client` that the peer's
// datagram `in` (a raw UDP payload) becomes, sent from the TURN port.
FrameSpec expected_encapsulated_frame(const FrameSpec& in, const BindingKey& client, const DatapathConfig& config);

// Sets two bytes of the carried data (an even-aligned word) so that the
// output datagram's UDP checksum computes to zero (sent as 0xFFFF).
// Needs at least two bytes of data and a valid input checksum.
void make_relayed_udp_checksum_zero(FrameSpec& in, const BindingTarget& target, const DatapathConfig& config);
void make_encapsulated_udp_checksum_zero(FrameSpec& in, const BindingKey& client, const DatapathConfig& config);

// Sets the IPv4 identification so that the output header checksum is 0x0000.
void make_relayed_ip_checksum_zero(FrameSpec& in, const BindingTarget& target, const DatapathConfig& config);
void make_encapsulated_ip_checksum_zero(FrameSpec& in, const BindingKey& client, const DatapathConfig& config);

// Sets one even-aligned word of the carried data so that the 32-bit sum the
// output's UDP checksum is computed from ends in 0xFFFF with a carry above
// it: folding it once carries again. Needs at least 8 bytes of data and a
// sum of at least 0x20000 (much data, or large words); others stay as they are.
void make_relayed_sum_fold_twice(FrameSpec& in, const BindingTarget& target, const DatapathConfig& config);
void make_encapsulated_sum_fold_twice(FrameSpec& in, const BindingKey& client, const DatapathConfig& config);

// Which of an output's checksums' sums to aim at (harness/frames/folded_sums.hpp).
enum class FoldedSum : std::uint8_t { ipv4_header, udp };

// Raises one term of that sum so that its first fold carries: the data for
// the UDP checksum, the identification for an IPv4 header updated from
// IPv4, TTL and TOS for one made from IPv6. A sum with nothing above its
// low half cannot carry and is left as it is, as is an input whose
// checksum is not computed from that term (a fixed one).
void make_relayed_fold_carry(FrameSpec& in, FoldedSum sum, const BindingTarget& target, const DatapathConfig& config);
void make_encapsulated_fold_carry(FrameSpec& in, FoldedSum sum, const BindingKey& client, const DatapathConfig& config);

// An input whose IPv4 header checksum computes to 0x0000 and is sent as
// 0xFFFF, the other zero of one's complement (RFC 1624), equally valid: the
// identification is chosen to land the sum there. Untagged IPv4 frames
// only; others come back unchanged.
FrameSpec ipv4_header_checksum_ffff(FrameSpec in);

}  // namespace xdpturn
