// Finds the UDP datagram of an unfragmented IPv4 frame, for the replay
// helpers that look at captured traffic (checksum repair, learning, the
// relay-output oracle). Tolerant of any bytes: anything else is nothing.
#pragma once

#include <cstddef>
#include <optional>

#include "relay/model/bindings.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

struct Ipv4UdpView {
    static constexpr std::size_t ip_at = 14;
    std::size_t udp_at = 0;      // offset of the UDP header in the frame
    std::size_t udp_length = 0;  // from the UDP header, checked against the frame
    Endpoint source;
    Endpoint destination;
    Bytes payload;  // the UDP data
};

std::optional<Ipv4UdpView> find_ipv4_udp(Bytes frame);

// True when an IPv4 header (at least 8 bytes of it) marks its packet as a
// fragment: More Fragments set or a non-zero offset. Only the first fragment
// carries the UDP header, and not all of the datagram.
inline bool ipv4_is_fragment(Bytes ipv4_header) {
    return (load_be16(ipv4_header, 6) & 0x3FFF) != 0;
}

}  // namespace xdpturn
