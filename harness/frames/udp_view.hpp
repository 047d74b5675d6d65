// Finds the UDP datagram of an unfragmented IPv4 frame, or of an IPv6 frame
// whose header is followed directly by UDP, for the replay helpers that look
// at captured traffic (checksum repair, learning, the relay-output oracle).
// Tolerant of any bytes: anything else is nothing.
#pragma once

#include <cstddef>
#include <optional>

#include "harness/frames/layout.hpp"
#include "relay/model/bindings.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

struct UdpView {
    bool ipv6 = false;
    std::size_t udp_at = 0;      // offset of the UDP header in the frame
    std::size_t udp_length = 0;  // from the UDP header, checked against the frame
    Endpoint source;
    Endpoint destination;
    Bytes payload;  // the UDP data
};

std::optional<UdpView> find_udp(Bytes frame);

// True when an IPv4 header (at least 8 bytes of it) marks its packet as a
// fragment: More Fragments set or a non-zero offset. Only the first fragment
// carries the UDP header, and not all of the datagram.
inline bool ipv4_is_fragment(Bytes ipv4_header) {
    return (load_be16(ipv4_header, 6) & 0x3FFF) != 0;
}

}  // namespace xdpturn
