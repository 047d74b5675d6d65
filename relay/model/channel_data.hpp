// The ChannelData rules (RFC 8656 Section 12.4 and 12.5, over UDP): one
// implementation, used by the frame-level reference model and, later, by the
// relay core, so the oracle is the relay's own behaviour.
#pragma once

#include <cstdint>
#include <vector>

#include "relay/model/bindings.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

inline constexpr std::size_t channel_header_bytes = 4;
// Over UDP a sender MAY pad to a multiple of 4; more excess than that is not
// padding but a malformed message, left to user space.
inline constexpr std::size_t max_channel_padding = 3;

enum class ChannelDataStatus {
    ok,
    too_short,       // no room for the 4-byte header
    out_of_range,    // channel number outside the configured range (STUN, other protocols)
    length_exceeds,  // Length claims more data than the datagram holds
    excess_padding,  // more than max_channel_padding bytes after the data
};

struct ChannelDataMessage {
    ChannelDataStatus status = ChannelDataStatus::too_short;
    std::uint16_t channel = 0;
    std::uint16_t length = 0;
    Bytes application_data;  // exactly `length` bytes when status == ok
};

// `datagram` is the UDP payload, as bounded by the UDP length field.
ChannelDataMessage parse_channel_data(Bytes datagram, const ChannelRange& accepted);

// The ChannelData message carrying `data` on `channel`, as this relay sends
// it over UDP: Length = data size, no padding (RFC 8656 Section 12.5 lets a
// UDP sender leave it out, and every receiver must accept that).
std::vector<std::uint8_t> encode_channel_data(std::uint16_t channel, Bytes data);

}  // namespace xdpturn
