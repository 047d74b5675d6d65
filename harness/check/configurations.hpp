// The relay configurations property runs use, across the whole space: relay
// addresses (none, IPv4, IPv6, both), the MTU from the smallest IPv4 allows
// to the largest a total length holds, relay port and channel ranges with
// their ends at interesting values, and the TURN port (3478, 443, other).
//
// A configuration is interpreted from a few choices, as a case is: zeros
// give the simplest (3478, RFC 8656's channels, the dynamic ports, MTU
// 1500, no relay address), so a failing case shrinks toward it. Each
// configuration is a program loaded of its own (the configuration is in
// its .rodata), so a run uses a pool of 16, chosen so that every pair of
// classes of two dimensions meets in one of them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "relay/model/bindings.hpp"

namespace xdpturn {

inline constexpr std::size_t config_choices_per_case = 7;
inline constexpr std::size_t config_pool_size = 16;

// The classes of each dimension, in the order the choices hold them.
enum class RelayAddresses : std::uint8_t { none, ipv4, ipv6, both };
enum class MtuClass : std::uint8_t { ethernet, small, mid, large };
enum class RelayPortClass : std::uint8_t { dynamic, middle, wide, narrow };
enum class ChannelClass : std::uint8_t { rfc8656, rfc5766, narrow };
enum class TurnPortClass : std::uint8_t { standard, tls, other };

struct ConfigClasses {
    RelayAddresses addresses = RelayAddresses::none;
    MtuClass mtu = MtuClass::ethernet;
    RelayPortClass relay_ports = RelayPortClass::dynamic;
    ChannelClass channels = ChannelClass::rfc8656;
    TurnPortClass turn_port = TurnPortClass::standard;
};

// `choices`: config_choices_per_case of them (missing ones count as zero).
ConfigClasses classes_of(std::span<const std::uint32_t> choices);
DatapathConfig interpret_config(std::span<const std::uint32_t> choices);

// The configurations of a run with this seed, as choices: row r of an
// orthogonal array of strength 2 gives the classes (so every pair of
// classes of any two dimensions meets in one row), and the seed the values
// within the classes. Row 0 is the simplest configuration.
std::vector<std::vector<std::uint32_t>> config_pool(std::uint64_t seed);

}  // namespace xdpturn
