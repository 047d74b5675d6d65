#include "harness/datapath/veth_counters.hpp"

#include "harness/datapath/generator.hpp"

#include <array>
#include <fstream>
#include <sstream>

namespace xdpturn::datapath {

namespace {

// The columns of `interface` in /proc/PID/net/dev: receive bytes packets
// errs drop fifo frame compressed multicast, then transmit bytes packets
// errs drop ...
using DevRow = std::array<std::uint64_t, 12>;
constexpr std::size_t rx_packets_column = 1;
constexpr std::size_t tx_dropped_column = 11;

Result<DevRow> dev_row(const std::string& proc_net_dev, const std::string& interface) {
    std::ifstream file(proc_net_dev);
    std::string line;
    while (std::getline(file, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream name_field(line.substr(0, colon));
        std::string name;
        name_field >> name;
        if (name != interface) continue;
        std::istringstream fields(line.substr(colon + 1));
        DevRow values{};
        for (auto& value : values) fields >> value;
        return values;
    }
    return Error{"no interface '" + interface + "' in " + proc_net_dev};
}

}  // namespace

VethDrops operator-(const VethDrops& later, const VethDrops& earlier) {
    return {later.into_relay - earlier.into_relay, later.out_of_relay - earlier.out_of_relay,
            later.relay_received - earlier.relay_received};
}

// A live-frames generator counts the frames its program sent; a kernel
// that ignores the live-frames flag (before 5.18) lets the program run and
// sends nothing. What the relay's side of the veth received, or veth
// dropped on the way in, says whether they left: far fewer than counted is
// an environment error, not a relay's loss.
Status live_frames_arrived(const Offered& offered, const VethDrops& veth, const std::string& relay_interface) {
    constexpr std::uint64_t least_checked = 1000;
    constexpr std::uint64_t most_missing_share = 2;  // half
    const std::uint64_t arrived = veth.relay_received + veth.into_relay;
    if (offered.frames < least_checked || arrived >= offered.frames / most_missing_share) return ok_status();
    return Error{"the live-frames generator counted " + std::to_string(offered.frames) + " frames sent, but " +
                 relay_interface + " received " + std::to_string(veth.relay_received) + " and veth dropped " +
                 std::to_string(veth.into_relay) + " on the way: this kernel did not send what the generator " +
                 "claims (use --generator socket)"};
}

Result<VethDrops> read_veth_drops(const std::string& load_interface, const std::string& relay_interface, pid_t relay) {
    auto load = dev_row("/proc/self/net/dev", load_interface);
    if (!load) return load.error();
    auto relay_side = dev_row("/proc/" + std::to_string(relay) + "/net/dev", relay_interface);
    if (!relay_side) return relay_side.error();
    return VethDrops{(*load)[tx_dropped_column], (*relay_side)[tx_dropped_column], (*relay_side)[rx_packets_column]};
}

}  // namespace xdpturn::datapath
