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

}  // namespace xdpturn
