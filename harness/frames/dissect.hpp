// Splits a frame into named header fields for diffs and reports. This is a
// presentation layer, tolerant of any bytes: it names what is there and stops
// where a header is cut short; it decides nothing about relaying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relay/net/bytes.hpp"

namespace xdpturn {

struct FrameField {
    std::string name;  // "eth.source", "ipv4.ttl", "udp.checksum", "channel.number", ...
    std::size_t offset = 0;
    std::size_t length = 0;
};

struct Dissection {
    std::vector<FrameField> fields;
    std::size_t payload_offset = 0;  // first byte not covered by a named field
};

struct DissectOptions {
    // UDP datagrams to or from this port carry ChannelData (the relay's TURN port).
    std::optional<std::uint16_t> channel_data_port;
};

Dissection dissect(Bytes frame, const DissectOptions& options);

// A field's bytes rendered for people: MACs, dotted quads, decimal and hex.
std::string render_field(const FrameField& field, Bytes frame);

}  // namespace xdpturn
