// The contract's rewrite rules (docs/datapath.md, row 19) stated in the
// tests' own terms, as a FrameSpec: a third statement of them, beside the
// XDP program and the reference model, used to write expected frames.
#pragma once

#include "harness/frames/frame_builder.hpp"
#include "relay/model/bindings.hpp"

namespace xdpturn {

FrameSpec expected_relayed_frame(const FrameSpec& in, const BindingTarget& target);

// Sets two bytes of the application data (an even-aligned word) so that the
// relayed datagram's UDP checksum computes to zero (sent as 0xFFFF).
// Needs at least two bytes of data and a valid input checksum.
void make_relayed_udp_checksum_zero(FrameSpec& in, const BindingTarget& target);

// Sets the IPv4 identification so that the relayed header checksum is 0x0000.
void make_relayed_ip_checksum_zero(FrameSpec& in, const BindingTarget& target);

}  // namespace xdpturn
