#include "harness/check/configurations.hpp"

#include <algorithm>
#include <array>

#include "harness/check/generator_parts.hpp"
#include "relay/net/splitmix.hpp"

namespace xdpturn {

namespace {

constexpr std::uint32_t address_classes = 4, mtu_classes = 4, relay_port_classes = 4, channel_classes = 3,
                        turn_port_classes = 3;

// The raw choice the Chooser reads as class `c` of `classes` (it scales a
// choice onto 0 .. classes-1 by multiplying and shifting; 0 stays 0).
std::uint32_t raw_for(std::uint32_t c, std::uint32_t classes) {
    return static_cast<std::uint32_t>(((std::uint64_t{c} << 32) + classes - 1) / classes);
}

// Multiplication in GF(4) = {0, 1, x, x+1} with x^2 = x + 1; addition is XOR.
std::uint32_t gf4_times(std::uint32_t a, std::uint32_t b) {
    static constexpr std::uint32_t table[4][4] = {{0, 0, 0, 0}, {0, 1, 2, 3}, {0, 2, 3, 1}, {0, 3, 1, 2}};
    return table[a][b];
}

// Row (a, b) of the orthogonal array OA(16, 5, 4, 2): the columns a, b and
// a + k*b for k = 1, x, x+1. Any two columns are independent linear forms
// over GF(4), so every pair of levels of any two columns meets exactly
// once. A dimension of three classes folds level 3 onto level 0.
std::array<std::uint32_t, 5> array_row(std::uint32_t row) {
    const std::uint32_t a = row / 4, b = row % 4;
    return {a, b, a ^ b, a ^ gf4_times(2, b), a ^ gf4_times(3, b)};
}

std::uint16_t mtu_of(MtuClass mtu, Chooser& values) {
    switch (mtu) {
        case MtuClass::ethernet: return ethernet_mtu;
        // From the smallest IPv4 allows: the MTU rows decide most frames.
        case MtuClass::small:
            return values.one_of<std::uint16_t>({minimum_ipv4_mtu, values.range<std::uint16_t>(minimum_ipv4_mtu, 600)});
        case MtuClass::mid: return values.one_of<std::uint16_t>({1280, 9000, values.range<std::uint16_t>(1280, 9000)});
        case MtuClass::large: return values.one_of<std::uint16_t>({0xFFFF, values.range<std::uint16_t>(9001, 0xFFFF)});
    }
    return ethernet_mtu;
}

// A narrow range holds the port a program comparing the TURN port as its
// register holds it meets one below (its wire neighbour, mostly 256 off),
// and never the TURN port itself: a frame to it then reaches that test.
PortRange narrow_relay_ports(std::uint16_t turn_port, Chooser& values) {
    const std::uint16_t neighbour = std::max<std::uint16_t>(1, wire_neighbour(turn_port, -1));
    const auto width = values.one_of<std::uint32_t>({0, 1, 255, values.range<std::uint32_t>(0, 4096)});
    const auto before = std::min<std::uint32_t>(
        neighbour - 1u, values.one_of<std::uint32_t>({0, values.range<std::uint32_t>(0, width)}));
    PortRange ports{static_cast<std::uint16_t>(neighbour - before),
                    static_cast<std::uint16_t>(std::min<std::uint32_t>(0xFFFF, neighbour - before + width))};
    if (ports.contains(turn_port)) {
        if (neighbour < turn_port)
            ports.max = static_cast<std::uint16_t>(turn_port - 1);
        else
            ports.min = static_cast<std::uint16_t>(turn_port + 1);
    }
    return ports;
}

PortRange relay_ports_of(RelayPortClass ports, std::uint16_t turn_port, Chooser& values) {
    switch (ports) {
        case RelayPortClass::dynamic: return dynamic_relay_ports;
        case RelayPortClass::middle: return PortRange{20000, 60000};
        case RelayPortClass::wide: return PortRange{values.one_of<std::uint16_t>({1, 1024, 1025}), 0xFFFF};
        case RelayPortClass::narrow: return narrow_relay_ports(turn_port, values);
    }
    return dynamic_relay_ports;
}

ChannelRange channels_of(ChannelClass channels, Chooser& values) {
    switch (channels) {
        case ChannelClass::rfc8656: return rfc8656_channels;
        case ChannelClass::rfc5766: return rfc5766_channels;
        case ChannelClass::narrow: {
            const auto low = values.range<std::uint16_t>(rfc5766_channels.min, rfc5766_channels.max);
            const auto width = values.one_of<std::uint32_t>({0, 1, values.range<std::uint32_t>(0, 0x3FFF)});
            return ChannelRange{low,
                                static_cast<std::uint16_t>(std::min<std::uint32_t>(rfc5766_channels.max, low + width))};
        }
    }
    return rfc8656_channels;
}

// The TURN port may not be an allocation port: an "other" port moves just
// outside the relay ports; 3478 and 443 stay, and the bottom of the range
// moves to just above them (an end at an interesting value; the ports just
// above the TURN port, its wire neighbour among them, stay relay ports).
void separate_turn_port(DatapathConfig& config, TurnPortClass turn) {
    PortRange& ports = config.relay_ports;
    if (!ports.contains(config.turn_port)) return;
    if (turn == TurnPortClass::other && (ports.max < 0xFFFF || ports.min > 1)) {
        config.turn_port = static_cast<std::uint16_t>(ports.max < 0xFFFF ? ports.max + 1 : ports.min - 1);
    } else if (ports.min == ports.max) {
        ports = PortRange{static_cast<std::uint16_t>(ports.min + 1), static_cast<std::uint16_t>(ports.max + 1)};
    } else if (config.turn_port == ports.max) {
        ports.max = static_cast<std::uint16_t>(config.turn_port - 1);
    } else {
        ports.min = static_cast<std::uint16_t>(config.turn_port + 1);
    }
}

constexpr std::uint32_t ipv6_relay_addresses = std::size(relay_addresses6) + std::size(relay_addresses6_next_to_none);

std::size_t ipv6_relay_address_of(std::span<const std::uint32_t> choices) {
    constexpr std::size_t at = 5;
    return choices.size() > at ? Chooser(choices.subspan(at, 1)).below(ipv6_relay_addresses) : 0;
}

}  // namespace

ConfigClasses classes_of(std::span<const std::uint32_t> choices) {
    Chooser choose(choices.first(std::min(choices.size(), config_choices_per_case)));
    ConfigClasses classes;
    classes.addresses = static_cast<RelayAddresses>(choose.below(address_classes));
    classes.mtu = static_cast<MtuClass>(choose.below(mtu_classes));
    classes.relay_ports = static_cast<RelayPortClass>(choose.below(relay_port_classes));
    classes.channels = static_cast<ChannelClass>(choose.below(channel_classes));
    classes.turn_port = static_cast<TurnPortClass>(choose.below(turn_port_classes));
    return classes;
}

DatapathConfig interpret_config(std::span<const std::uint32_t> choices) {
    const ConfigClasses classes = classes_of(choices);
    // The last choice seeds the values within the classes (the one before
    // it picks the IPv6 relay address).
    constexpr std::size_t values_at = config_choices_per_case - 1;
    Chooser values =
        Chooser(choices.size() > values_at ? choices.subspan(values_at, 1) : std::span<const std::uint32_t>{}).sub();

    DatapathConfig config;
    // The IPv6 relay address has a choice of its own, so that each run's
    // pool holds every one (the pool's rows cycle through them).
    const std::size_t v4 = values.weighted({6, 1, 1}), v6 = ipv6_relay_address_of(choices);
    if (classes.addresses == RelayAddresses::ipv4 || classes.addresses == RelayAddresses::both)
        config.relay_ipv4 = IpAddress{Ipv4Address{relay_addresses[v4]}};
    const std::size_t usual = std::size(relay_addresses6);
    if (classes.addresses == RelayAddresses::ipv6 || classes.addresses == RelayAddresses::both)
        config.relay_ipv6 =
            IpAddress::from_bytes(v6 < usual ? relay_addresses6[v6] : relay_addresses6_next_to_none[v6 - usual]);
    config.mtu = mtu_of(classes.mtu, values);
    config.turn_port = classes.turn_port == TurnPortClass::standard ? 3478
                       : classes.turn_port == TurnPortClass::tls    ? 443
                                                                    : values.range<std::uint16_t>(1, 0xFFFF);
    config.relay_ports = relay_ports_of(classes.relay_ports, config.turn_port, values);
    config.channels = channels_of(classes.channels, values);
    separate_turn_port(config, classes.turn_port);
    return config;
}

std::vector<std::vector<std::uint32_t>> config_pool(std::uint64_t seed) {
    constexpr std::uint32_t classes[] = {address_classes, mtu_classes, relay_port_classes, channel_classes,
                                         turn_port_classes};
    std::vector<std::vector<std::uint32_t>> pool;
    std::uint64_t state = splitmix64_mix(seed ^ 0xC0F16C0F16ull);
    for (std::uint32_t row = 0; row < config_pool_size; ++row) {
        const auto levels = array_row(row);
        std::vector<std::uint32_t> choices;
        for (std::size_t d = 0; d < levels.size(); ++d)
            choices.push_back(raw_for(levels[d] < classes[d] ? levels[d] : 0, classes[d]));
        choices.push_back(raw_for(row % ipv6_relay_addresses, ipv6_relay_addresses));
        const auto values = static_cast<std::uint32_t>(splitmix64_next(state) >> 32);
        choices.push_back(row == 0 ? 0 : values);
        pool.push_back(std::move(choices));
    }
    return pool;
}

}  // namespace xdpturn
