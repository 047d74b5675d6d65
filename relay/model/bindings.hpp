// The data path's configuration (what the XDP program is loaded with) and
// the binding table, in host byte order. This is the user-space view;
// harness/xdp/map_sync converts it to the ABI's wire order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "relay/net/address.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

// Inclusive channel number range accepted by the relay.
struct ChannelRange {
    std::uint16_t min = 0x4000;
    std::uint16_t max = 0x4FFF;
    bool contains(std::uint16_t channel) const { return channel >= min && channel <= max; }
    friend bool operator==(const ChannelRange&, const ChannelRange&) = default;
};

inline constexpr ChannelRange rfc8656_channels{0x4000, 0x4FFF};
inline constexpr ChannelRange rfc5766_channels{0x4000, 0x7FFF};

// The widest range any configuration may accept: RFC 5766's 0x4000-0x7FFF.
// Outside it, first bytes belong to STUN (0-3), ZRTP, DTLS and RTP (RFC
// 7983), and a relay taking them for channel numbers would misread them.
inline constexpr ChannelRange widest_channels{0x4000, 0x7FFF};

// A range within widest_channels, or why not.
Result<ChannelRange> checked_channel_range(std::uint32_t min, std::uint32_t max);

// "LO-HI", each bound decimal or 0x-prefixed hex, inclusive, within
// widest_channels.
Result<ChannelRange> parse_channel_range(const std::string& text);

// The range IANA leaves for dynamic ports (RFC 6335), which coturn and most
// relays allocate relayed (allocation) ports from by default.
inline constexpr PortRange dynamic_relay_ports{49152, 65535};

// The smallest MTU every IPv4 link must carry (RFC 791), and Ethernet's.
inline constexpr std::uint16_t minimum_ipv4_mtu = 68;
inline constexpr std::uint16_t ethernet_mtu = 1500;

struct DatapathConfig {
    std::uint16_t turn_port = 3478;
    ChannelRange channels = rfc8656_channels;
    PortRange relay_ports = dynamic_relay_ports;  // allocation ports: where peers send
    // The largest IPv4 packet (total length) the relay sends out.
    std::uint16_t mtu = ethernet_mtu;
    // The relay's own address of each family: the source of an output of
    // the other family than its input (an RFC 6156 allocation). Without
    // one, such bindings go to user space.
    std::optional<IpAddress> relay_ipv4;
    std::optional<IpAddress> relay_ipv6;
    // The relay address an output of this family is sent from across
    // families, if configured.
    const std::optional<IpAddress>& relay_address(bool ipv6) const { return ipv6 ? relay_ipv6 : relay_ipv4; }
    friend bool operator==(const DatapathConfig&, const DatapathConfig&) = default;
};

// 0.0.0.0 or ::: all zero in the program's .rodata, where it means "no
// relay address of this family".
bool is_unspecified(const IpAddress& address);

// The configuration, or why it cannot work: the TURN port must not be an
// allocation port (a frame to it would be both), the MTU at least 68.
Result<DatapathConfig> checked_config(const DatapathConfig& config);

// An order on configurations, for maps keyed by them.
struct DatapathConfigLess {
    bool operator()(const DatapathConfig& a, const DatapathConfig& b) const {
        return std::tie(a.turn_port, a.channels.min, a.channels.max, a.relay_ports.min, a.relay_ports.max, a.mtu,
                        a.relay_ipv4, a.relay_ipv6) < std::tie(b.turn_port, b.channels.min, b.channels.max,
                                                               b.relay_ports.min, b.relay_ports.max, b.mtu,
                                                               b.relay_ipv4, b.relay_ipv6);
    }
};

struct BindingKey {
    Endpoint client;
    std::uint16_t channel = 0;
    friend bool operator==(const BindingKey&, const BindingKey&) = default;
};

struct BindingTarget {
    std::uint16_t allocation_port = 0;
    Endpoint peer;
    friend bool operator==(const BindingTarget&, const BindingTarget&) = default;
};

struct BindingKeyHash {
    std::size_t operator()(const BindingKey& key) const noexcept {
        const std::uint64_t packed = (std::uint64_t{key.client.port} << 16) | key.channel;
        return hash_value(key.client.address) ^ std::hash<std::uint64_t>{}(packed);
    }
};

using BindingTable = std::unordered_map<BindingKey, BindingTarget, BindingKeyHash>;

// One change to a binding table, in the order the TURN core made it: a
// binding created or refreshed (a target), or removed (none). What the
// relay's map sync applies, one map update or delete each.
struct BindingChange {
    BindingKey key;
    std::optional<BindingTarget> target;
};

// A binding seen from the peer's side: the datagram's source and the
// allocation port it was sent to.
struct PeerKey {
    Endpoint peer;
    std::uint16_t allocation_port = 0;
    friend bool operator==(const PeerKey&, const PeerKey&) = default;
};

inline PeerKey peer_key_of(const BindingTarget& target) {
    return PeerKey{target.peer, target.allocation_port};
}

struct PeerKeyHash {
    std::size_t operator()(const PeerKey& key) const noexcept {
        const std::uint64_t packed = (std::uint64_t{key.peer.port} << 16) | key.allocation_port;
        return hash_value(key.peer.address) ^ std::hash<std::uint64_t>{}(packed);
    }
};

// Two bindings with one peer on one allocation would send the peer's data
// to two channels; a TURN server never makes them (RFC 8656 Section 12:
// a channel is bound to one peer, a peer to one channel). Names the first
// such pair, or nothing.
std::optional<std::string> conflicting_peer_bindings(const BindingTable& table);

}  // namespace xdpturn
