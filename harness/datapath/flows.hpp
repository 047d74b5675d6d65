// The benchmark's flows and what they carry: which client reaches which
// peer through which relayed address and channel, the frames the live
// generator starts from, and the payload every datagram carries and the
// sink checks (bpf/bench/datapath_load.h has its layout).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "datapath_load.h"
#include "relay/turn/stun.hpp"

namespace xdpturn::datapath {

using stun::TransportAddress;
using MacAddress = std::array<std::uint8_t, 6>;

// One channel binding, made by TURN signalling. Each of its two directions
// is a flow.
struct Binding {
    TransportAddress client;   // the client's socket
    TransportAddress server;   // the relay's TURN address
    TransportAddress relayed;  // XOR-RELAYED-ADDRESS of the client's allocation
    TransportAddress peer;     // the peer's socket
    std::uint16_t channel = 0;
};

enum class Direction { to_peer, to_client };
inline constexpr std::size_t direction_count = 2;

struct Flow {
    std::uint32_t id = 0;  // 2 * binding + direction: flows alternate directions
    Direction direction = Direction::to_peer;
    TransportAddress from, to;        // the datagram into the relay
    TransportAddress delivered_from;  // the relay's source on the way out
    TransportAddress delivered_to;    // the peer's or the client's socket
    std::uint16_t channel = 0;        // to_peer: the channel it is sent on; to_client: the one expected
};

std::vector<Flow> flows_of(std::span<const Binding> bindings);

// Counts of `sent` frames per direction when the generator cycles through
// `flow_count` flows from flow 0 (the alternating order of flows_of).
std::array<std::uint64_t, direction_count> frames_per_direction(std::uint64_t sent, std::uint32_t flow_count);

inline constexpr std::size_t payload_head_bytes = sizeof(datapath_payload);
inline constexpr std::size_t min_payload_bytes = payload_head_bytes;
inline constexpr std::size_t max_payload_bytes = 1400;

// The bytes after the payload's head: a fixed pattern, so corruption shows.
std::uint8_t fill_byte(std::size_t payload_offset);

// The frame a live generator is given: ChannelData-sized, its payload's
// pattern in place (the program writes the headers and the payload's head).
std::vector<std::uint8_t> initial_frame(std::size_t payload_bytes);

// A flow's template for the generator's map: Ethernet, IPv4 and UDP
// headers (and the channel header), and the checksum's fixed part.
datapath_flow flow_template(const Flow& flow, const MacAddress& source, const MacAddress& destination,
                            std::size_t payload_bytes);

// The one's complement sum of `bytes` as 16-bit words in host order, not
// folded (RFC 1071); and its fold, complemented. A checksum summed and
// stored in host order comes out right in either byte order.
std::uint64_t host_order_sum(std::span<const std::uint8_t> bytes);
std::uint16_t folded_complement(std::uint64_t sum);

// A flow's frame as the packet generator sends it: the template's headers
// (from the first byte they take) and room for the payload.
std::vector<std::uint8_t> frame_of(const datapath_flow& made, std::size_t payload_bytes);
// Writes a frame's payload (its head for `seq` sent at `sent_ns`) and its
// UDP checksum: the template's fixed part plus the fields that change per
// frame, as the live generator's program adds them.
void stamp_frame(std::span<std::uint8_t> frame, std::uint64_t checksum_partial, std::size_t payload_bytes,
                 std::uint32_t flow, std::uint32_t step, std::uint64_t seq, std::uint64_t sent_ns);

// A whole payload as the socket generator sends it.
void write_payload(std::span<std::uint8_t> payload, std::uint32_t flow, std::uint32_t step, std::uint64_t flow_seq,
                   std::uint64_t sent_ns);

struct PayloadFields {
    std::uint32_t flow = 0;
    std::uint32_t step = 0;
    std::uint64_t flow_seq = 0;
    std::uint64_t sent_ns = 0;
};

// The payload's head when the payload is intact; otherwise what is wrong.
struct PayloadCheck {
    std::optional<PayloadFields> fields;
    std::string problem;
};
PayloadCheck check_payload(std::span<const std::uint8_t> payload, std::size_t expected_bytes);

}  // namespace xdpturn::datapath
