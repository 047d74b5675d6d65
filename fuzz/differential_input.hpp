// The differential target's input format, shared with fuzz_to_replay:
//   byte 0      number of bindings (mod 4); with 3, the frame's own key is bound too
//   byte 1      configuration: bit 0 RFC 5766 range, bit 1 TURN port 443;
//               bit 2: the frame's own key is a peer's (source address and
//               port, destination port as the allocation), not a client's;
//               bit 3: the binding entries hold IPv6 addresses;
//               bit 4: the relay has an address of each family (so bindings
//               across families are relayed); bit 5: the frame's own key is
//               bound across families (its far end of the other family)
//   per binding client address, port, channel; allocation port, peer
//               address, peer port (all big-endian): 16 bytes with IPv4
//               addresses, 40 with IPv6 ones
//   the rest    the Ethernet frame
#pragma once

#include <algorithm>

#include "harness/frames/udp_view.hpp"
#include "relay/model/bindings.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn::fuzz {

struct DifferentialInput {
    DatapathConfig config;
    BindingTable bindings;
    Bytes frame;
};

// An address of `bytes.size()` (4 or 16) bytes.
inline IpAddress address_at(Bytes bytes) {
    if (bytes.size() == 4) return Ipv4Address{load_be32(bytes, 0)};
    Ipv6Bytes address{};
    std::copy(bytes.begin(), bytes.end(), address.begin());
    return IpAddress::from_bytes(address);
}

// A far end for the frame's own key, of the frame's family or `across`.
inline IpAddress far_end_like(const IpAddress& frame_address, bool across, std::uint32_t v4, const char* v6) {
    return frame_address.is_v4() != across ? IpAddress{Ipv4Address{v4}} : *parse_ip(v6);
}

// Bit 4 of the configuration byte: the relay's own address of each family.
inline void configure_relay_addresses(DatapathConfig& config, bool configured) {
    config.relay_ipv4.reset();
    config.relay_ipv6.reset();
    if (!configured) return;
    config.relay_ipv4 = IpAddress{Ipv4Address{0xC0000201}};
    config.relay_ipv6 = *parse_ip("2001:db8:1::1");
}

// The binding that makes `frame` reach a relay path, whichever family it
// is: a client's key (source, channel) bound to a peer, or, `as_peer`, a
// client bound to the frame's source on its destination port. Nothing when
// the frame holds no UDP datagram.
inline std::optional<std::pair<BindingKey, BindingTarget>> own_binding(Bytes frame, bool as_peer, bool across) {
    const auto udp = find_udp(frame);
    if (!udp) return std::nullopt;
    const IpAddress& source = udp->source.address;
    if (as_peer)
        return std::pair{BindingKey{Endpoint{far_end_like(source, across, 0xC6336407, "2001:db8:c::7"), 50000}, 0x4000},
                         BindingTarget{udp->destination.port, udp->source}};
    if (udp->payload.size() < 2) return std::nullopt;
    return std::pair{BindingKey{udp->source, load_be16(udp->payload, 0)},
                     BindingTarget{49152, Endpoint{far_end_like(source, across, 0xCB007109, "2001:db8:9::9"), 6000}}};
}

inline bool decode_differential_input(Bytes data, DifferentialInput& input) {
    if (data.size() < 2) return false;
    const std::size_t count = data[0] % 4;
    const std::size_t address_bytes = (data[1] & 8) ? 16 : 4;
    const std::size_t binding_bytes = 2 * address_bytes + 8;
    input.config.channels = (data[1] & 1) ? rfc5766_channels : rfc8656_channels;
    input.config.turn_port = (data[1] & 2) ? 443 : 3478;
    configure_relay_addresses(input.config, data[1] & 16);
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
        const std::size_t ports_at = address_bytes;
        const std::size_t peer_at = address_bytes + 6;
        bind(BindingKey{Endpoint{address_at(entry.subspan(0, address_bytes)), load_be16(entry, ports_at)},
                        load_be16(entry, ports_at + 2)},
             BindingTarget{load_be16(entry, ports_at + 4), Endpoint{address_at(entry.subspan(peer_at, address_bytes)),
                                                                    load_be16(entry, peer_at + address_bytes)}});
    }
    input.frame = data.subspan(at);
    if (count == 3)
        if (const auto own = own_binding(input.frame, data[1] & 4, data[1] & 32)) bind(own->first, own->second);
    return true;
}

}  // namespace xdpturn::fuzz
