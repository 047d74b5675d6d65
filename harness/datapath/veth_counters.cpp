#include "harness/datapath/veth_counters.hpp"

#include <fstream>
#include <sstream>

namespace xdpturn::datapath {

namespace {

// The transmit drop column of `interface` in /proc/PID/net/dev.
Result<std::uint64_t> tx_dropped(const std::string& proc_net_dev, const std::string& interface) {
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
        std::uint64_t values[12] = {};
        for (auto& value : values) fields >> value;
        // receive: bytes packets errs drop fifo frame compressed multicast,
        // then transmit: bytes packets errs drop.
        return values[11];
    }
    return Error{"no interface '" + interface + "' in " + proc_net_dev};
}

}  // namespace

VethDrops operator-(const VethDrops& later, const VethDrops& earlier) {
    return {later.into_relay - earlier.into_relay, later.out_of_relay - earlier.out_of_relay};
}

Result<VethDrops> read_veth_drops(const std::string& load_interface, const std::string& relay_interface, pid_t relay) {
    auto into = tx_dropped("/proc/self/net/dev", load_interface);
    if (!into) return into.error();
    auto out = tx_dropped("/proc/" + std::to_string(relay) + "/net/dev", relay_interface);
    if (!out) return out.error();
    return VethDrops{*into, *out};
}

}  // namespace xdpturn::datapath
