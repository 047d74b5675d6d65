// The differential target's input format, shared with fuzz_to_replay:
//   byte 0      number of bindings (mod 4); with 3, the frame's own key is bound too
//   byte 1      configuration: bit 0 RFC 5766 range, bit 1 TURN port 443;
//               bit 2: the frame's own key is a peer's (source address and
//               port, destination port as the allocation), not a client's
//   16 bytes    per binding: client address, port, channel; allocation port,
//               peer address, peer port (all big-endian)
//   the rest    the Ethernet frame
#pragma once

#include "relay/model/bindings.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn::fuzz {

struct DifferentialInput {
    DatapathConfig config;
    BindingTable bindings;
    Bytes frame;
};

inline bool decode_differential_input(Bytes data, DifferentialInput& input) {
    constexpr std::size_t binding_bytes = 16;
    if (data.size() < 2) return false;
    const std::size_t count = data[0] % 4;
    input.config.channels = (data[1] & 1) ? rfc5766_channels : rfc8656_channels;
    input.config.turn_port = (data[1] & 2) ? 443 : 3478;
    input.bindings.clear();
    std::size_t at = 2;
    // Entries that would bind a peer already bound (to another key) are left
    // out: the harness refuses such tables, as no relay makes them.
    auto bind = [&](const BindingKey& key, const BindingTarget& target) {
        for (const auto& [other_key, other_target] : input.bindings)
            if (!(other_key == key) && peer_key_of(other_target) == peer_key_of(target)) return;
        input.bindings.insert_or_assign(key, target);
    };
    for (std::size_t i = 0; i < count && at + binding_bytes <= data.size(); ++i, at += binding_bytes) {
        const Bytes entry = data.subspan(at, binding_bytes);
        bind(BindingKey{Endpoint{Ipv4Address{load_be32(entry, 0)}, load_be16(entry, 4)}, load_be16(entry, 6)},
             BindingTarget{load_be16(entry, 8), Endpoint{Ipv4Address{load_be32(entry, 10)}, load_be16(entry, 14)}});
    }
    input.frame = data.subspan(at);
    // The frame's own key, so the relay paths are reachable.
    constexpr std::size_t udp_at = 14 + 20;
    if (count == 3 && (data[1] & 4) && input.frame.size() >= udp_at + 4)
        bind(BindingKey{Endpoint{Ipv4Address{0xC6336407}, 50000}, 0x4000},
             BindingTarget{load_be16(input.frame, udp_at + 2),
                           Endpoint{Ipv4Address{load_be32(input.frame, 26)}, load_be16(input.frame, udp_at)}});
    else if (count == 3 && input.frame.size() >= 46)
        bind(BindingKey{Endpoint{Ipv4Address{load_be32(input.frame, 26)}, load_be16(input.frame, 34)},
                        load_be16(input.frame, 42)},
             BindingTarget{49152, Endpoint{Ipv4Address{0xCB007109}, 6000}});
    return true;
}

}  // namespace xdpturn::fuzz
