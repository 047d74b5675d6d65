// The binding-table file: relay configuration and bindings, as written for
// counterexamples and read by `xdpturn replay --bindings`:
//   {"relay": {"turn_port": 3478, "channel_range": [16384, 32767],
//              "relay_ports": [49152, 65535], "mtu": 1500},
//    "bindings": [{"client": "198.51.100.7:50000", "channel": 16384,
//                  "allocation_port": 49152, "peer": "203.0.113.9:6000"}]}
// Every "relay" member is optional; other top-level members are kept for
// people (seed, case index) and ignored when reading. A table that binds one
// peer on one allocation to two channels is refused: no relay makes one.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "relay/model/bindings.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

struct BindingsFile {
    std::optional<std::uint16_t> turn_port;
    std::optional<ChannelRange> channels;
    std::optional<PortRange> relay_ports;
    std::optional<std::uint16_t> mtu;
    std::optional<IpAddress> relay_ipv4;  // "relay_addresses": the relay's own, one per family at most
    std::optional<IpAddress> relay_ipv6;
    BindingTable bindings;
};

// The file's relay settings over `config` (those it names).
void apply_relay_settings(const BindingsFile& file, DatapathConfig& config);

Result<BindingsFile> parse_bindings_json(const std::string& text);
Result<BindingsFile> read_bindings_file(const std::string& path);
nlohmann::json bindings_json(const DatapathConfig& config, const BindingTable& bindings);

}  // namespace xdpturn
