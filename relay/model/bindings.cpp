#include "relay/model/bindings.hpp"

#include <cstdio>

namespace xdpturn {

Result<ChannelRange> parse_channel_range(const std::string& text) {
    const auto dash = text.find('-');
    if (dash == std::string::npos) return Error{"expected LO-HI channel range, got '" + text + "'"};
    auto low = parse_number(std::string_view(text).substr(0, dash), 0xFFFF);
    auto high = parse_number(std::string_view(text).substr(dash + 1), 0xFFFF);
    if (!low) return low.error();
    if (!high) return high.error();
    return checked_channel_range(*low, *high);
}

Result<ChannelRange> checked_channel_range(std::uint32_t min, std::uint32_t max) {
    auto hex = [](std::uint32_t value) {
        char text[16];
        std::snprintf(text, sizeof(text), "0x%04X", value);
        return std::string(text);
    };
    if (min > max) return Error{"channel range " + hex(min) + "-" + hex(max) + " has LO above HI"};
    if (min < widest_channels.min || max > widest_channels.max)
        return Error{"channel range " + hex(min) + "-" + hex(max) + " is not inside 0x4000-0x7FFF (RFC 8656 allows " +
                     "0x4000-0x4FFF, RFC 5766 0x4000-0x7FFF; other numbers are STUN, DTLS, RTP, ...)"};
    return ChannelRange{static_cast<std::uint16_t>(min), static_cast<std::uint16_t>(max)};
}

bool is_unspecified(const IpAddress& address) {
    return address == IpAddress{Ipv4Address{}} || address == IpAddress::from_bytes({});
}

Result<DatapathConfig> checked_config(const DatapathConfig& config) {
    if (config.relay_ports.min > config.relay_ports.max)
        return Error{"relay port range " + std::to_string(config.relay_ports.min) + "-" +
                     std::to_string(config.relay_ports.max) + " has LO above HI"};
    if (config.relay_ports.contains(config.turn_port))
        return Error{"the TURN port " + std::to_string(config.turn_port) + " lies inside the relay port range " +
                     std::to_string(config.relay_ports.min) + "-" + std::to_string(config.relay_ports.max) +
                     ": a datagram to it would be both TURN traffic and a peer's data"};
    if (config.mtu < minimum_ipv4_mtu)
        return Error{"MTU " + std::to_string(config.mtu) + " is below IPv4's minimum of " +
                     std::to_string(minimum_ipv4_mtu)};
    // All zero means "none" to the XDP program: neither 0.0.0.0's mapped
    // form nor :: may be a relay address.
    if (config.relay_ipv4 && (!config.relay_ipv4->is_v4() || is_unspecified(*config.relay_ipv4)))
        return Error{"the relay's IPv4 address " + to_string(*config.relay_ipv4) + " is no usable IPv4 address"};
    if (config.relay_ipv6 && (config.relay_ipv6->is_v4() || is_unspecified(*config.relay_ipv6)))
        return Error{"the relay's IPv6 address " + to_string(*config.relay_ipv6) + " is no usable IPv6 address"};
    return config;
}

std::optional<std::string> conflicting_peer_bindings(const BindingTable& table) {
    std::unordered_map<PeerKey, BindingKey, PeerKeyHash> owners;
    for (const auto& [key, target] : table) {
        const auto [owner, added] = owners.emplace(peer_key_of(target), key);
        if (added) continue;
        return "peer " + to_string(target.peer) + " on allocation port " + std::to_string(target.allocation_port) +
               " is bound twice: to " + to_string(owner->second.client) + " channel " +
               std::to_string(owner->second.channel) + " and to " + to_string(key.client) + " channel " +
               std::to_string(key.channel);
    }
    return std::nullopt;
}

}  // namespace xdpturn
