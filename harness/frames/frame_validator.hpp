// Validates a relayed frame on its own terms, with a parser that is neither
// engine's: header checksums, lengths, and that the datagram carries exactly
// the input's ChannelData application data. Used by the property tests to
// catch bugs that both engines might share.
#pragma once

#include <optional>
#include <string>

#include "relay/net/bytes.hpp"

namespace xdpturn {

// `input` is the ChannelData frame that was relayed, `output` the frame sent.
// Returns a description of the first problem, or nothing when it is valid.
std::optional<std::string> validate_relayed_frame(Bytes input, Bytes output);

}  // namespace xdpturn
