// veth's own counters of a relay's link, where frames are lost that no
// socket counts: a receive ring that was full (XDP frames sent to a peer
// whose NAPI had not caught up) or a dropped skb. veth counts both on the
// sender's tx_dropped (its own drops, its XDP_TX errors and its peer's
// failed XDP transmits into it are added up there), read from
// /proc/PID/net/dev of each side's namespace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "relay/net/result.hpp"

namespace xdpturn::datapath {

struct VethDrops {
    std::uint64_t into_relay = 0;    // the relay's side could not take what the load side sent
    std::uint64_t out_of_relay = 0;  // the load side (the sink) could not take what the relay sent
    // Frames the relay's side received: what the load generator really
    // sent, to check a live-frames generator's own count against.
    std::uint64_t relay_received = 0;
};

VethDrops operator-(const VethDrops& later, const VethDrops& earlier);

// `load_interface` in this namespace, `relay_interface` in the namespace of
// process `relay`.
Result<VethDrops> read_veth_drops(const std::string& load_interface, const std::string& relay_interface, pid_t relay);

struct Offered;

// Whether the frames a live-frames generator counted as sent in a step
// arrived (`veth`: the step's counters): an error naming both counts when
// far fewer did, as when a kernel ignores the live-frames flag.
Status live_frames_arrived(const Offered& offered, const VethDrops& veth, const std::string& relay_interface);

}  // namespace xdpturn::datapath
