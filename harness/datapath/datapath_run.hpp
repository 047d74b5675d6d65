// One relay under the benchmark's load: the clients' and peers' sockets,
// the bindings made by TURN signalling, then a ladder of offered rates,
// each step's delivery checked by the sink and its cost read off the
// kernel. The result is the relay's part of the report (JSON).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "relay/net/result.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn::datapath {

// automatic: live where the kernel takes live-frames runs, else packet
// where a packet socket can be had, else socket.
enum class GeneratorKind { live, packet, socket, automatic };
enum class SinkKind { xdp, socket };

struct LoadOptions {
    std::string relay_name;                       // the report's name for it: user, xdp, coturn
    pid_t relay_pid = 0;                          // for its CPU time and its namespace's UDP counters
    std::vector<pid_t> relay_kernel_threads;      // its interface's NAPI threads: its receive path's CPU time
    int relay_cpu = -1;                           // the core the relay has to itself: its softirq time
    std::optional<std::uint32_t> xdp_program_id;  // the relay's XDP program, for its run-time statistics
    stun::TransportAddress server;                // the relay's TURN address
    stun::TransportAddress first_client;          // clients on consecutive ports from here
    stun::TransportAddress first_peer;            // peers likewise
    std::string user = "user", password = "pass";
    unsigned clients = 16;
    unsigned channels_per_client = 4;  // each to a peer of its own
    std::uint16_t first_channel = 0x4000;
    std::string interface;        // the load side's end of the veth pair
    std::string relay_interface;  // the relay's end, in its namespace: veth's drop counters
    GeneratorKind generator = GeneratorKind::live;
    SinkKind sink = SinkKind::xdp;
    std::vector<std::uint64_t> rates;  // frames a second per step; 0: as fast as it goes
    std::chrono::milliseconds step_duration{2000};
    std::chrono::milliseconds drain{300};  // after a step, for the last datagrams
    std::size_t payload_bytes = 100;
    int generator_cpu = 0, sink_cpu = 1;  // -1: not pinned
};

// Runs the ladder; the JSON holds one entry per step. An error is the
// benchmark's own failure (signalling refused, no such interface), not a
// relay's loss, which the JSON reports.
Result<nlohmann::json> run_load(const LoadOptions& options);

}  // namespace xdpturn::datapath
