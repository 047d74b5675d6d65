// Classifies and repairs the UDP checksum of captured IPv4 and IPv6 frames. Captures
// taken on the sending host carry "partial" checksums (checksum offload):
// the field holds only the folded pseudo-header sum, which the NIC would
// have completed. Replaying such frames as they are would make every
// incremental update faithfully carry a wrong value.
#pragma once

#include <cstdint>
#include <vector>

#include "relay/net/bytes.hpp"

namespace xdpturn {

enum class UdpChecksumState {
    not_applicable,  // not a UDP datagram that fits the frame (udp_view.hpp)
    none,            // 0: the sender computed none
    valid,
    partial,  // the pseudo-header sum only: left for offload
    wrong,
};

UdpChecksumState classify_udp_checksum(Bytes ethernet_frame);

// Writes the correct checksum into a UDP frame; false if not applicable.
bool repair_udp_checksum(std::vector<std::uint8_t>& ethernet_frame);

}  // namespace xdpturn
