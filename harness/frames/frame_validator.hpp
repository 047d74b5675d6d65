// Validates an output frame on its own terms, with a parser that is neither
// engine's: header checksums, lengths, and that the datagram carries exactly
// what the input carried (a ChannelData message's application data to the
// peer, a peer's whole datagram inside ChannelData to the client). Used by
// the property tests and fuzz targets to catch bugs both engines might share.
#pragma once

#include <optional>
#include <string>

#include "relay/model/reason.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

// `input` is the ChannelData frame that was relayed, `output` the frame sent
// to the peer. Returns a description of the first problem, or nothing.
std::optional<std::string> validate_relayed_frame(Bytes input, Bytes output);

// `input` is the peer's datagram that was encapsulated, `output` the
// ChannelData frame sent to the client.
std::optional<std::string> validate_encapsulated_frame(Bytes input, Bytes output);

// The check that fits the reason an engine gave for XDP_TX.
std::optional<std::string> validate_output(Bytes input, Bytes output, Reason reason);

}  // namespace xdpturn
