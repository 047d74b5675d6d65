#include "harness/check/generator_parts.hpp"

#include <array>

namespace xdpturn {

// An address of the same family as `like`, its bits from `bits`: an IPv4
// address, or an IPv6 one, mostly in 2001:db8::/32 (RFC 3849,
// documentation). Three in sixteen start with zeros as an IPv4-mapped address
// does, then differs: in its second 32 bits (::1:0:0:0/64), or in the
// third (::/96, the deprecated IPv4-compatible form, and ::ffff:0:0/96).
IpAddress address_like(const IpAddress& like, std::uint64_t bits) {
    if (like.is_v4()) return Ipv4Address{static_cast<std::uint32_t>(bits)};
    Ipv6Bytes bytes{0x20, 0x01, 0x0D, 0xB8};
    for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(bits >> (8 * (i - 8)));
    switch ((bits >> 40) & 0xF) {
        case 0: bytes = {0, 0, 0, 0, 0, 1}; break;
        case 1: bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; break;
        case 2: bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0}; break;
        default: return IpAddress::from_bytes(bytes);
    }
    for (std::size_t i = 12; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(bits >> (8 * (i - 12)) | 1);
    return IpAddress::from_bytes(bytes);
}

// An address of the other family, to make address_like switch families.
IpAddress other_family_address(const IpAddress& address) {
    return address.is_v4() ? IpAddress::from_bytes(Ipv6Bytes{0x20, 0x01, 0x0D, 0xB8}) : IpAddress{Ipv4Address{}};
}

// `address` with `delta` added to its last 32 bits: a neighbour, of the
// same family.
IpAddress next_to(const IpAddress& address, std::uint32_t delta) {
    Ipv6Bytes bytes = address.bytes();
    std::uint32_t low = 0;
    for (std::size_t i = 12; i < 16; ++i) low = (low << 8) | bytes[i];
    low += delta;
    for (std::size_t i = 12; i < 16; ++i) bytes[i] = static_cast<std::uint8_t>(low >> (8 * (15 - i)));
    return IpAddress::from_bytes(bytes);
}

IpAddress with_half_of(const IpAddress& base, const IpAddress& other, bool keep_prefix) {
    if (base.is_v4() != other.is_v4()) return other;
    Ipv6Bytes bytes = other.bytes();
    const Ipv6Bytes& kept = base.bytes();
    // In the 16-byte form an IPv4 address is its last four bytes.
    const std::size_t split = base.is_v4() ? 15 : 8;
    const std::size_t first = keep_prefix ? (base.is_v4() ? 12 : 0) : split;
    const std::size_t end = keep_prefix ? split : 16;
    std::copy(kept.begin() + static_cast<std::ptrdiff_t>(first), kept.begin() + static_cast<std::ptrdiff_t>(end),
              bytes.begin() + static_cast<std::ptrdiff_t>(first));
    return IpAddress::from_bytes(bytes);
}

std::uint16_t wire_neighbour(std::uint16_t host_value, int delta) {
    const auto swap = [](std::uint16_t v) { return static_cast<std::uint16_t>((v << 8) | (v >> 8)); };
    return swap(static_cast<std::uint16_t>(swap(host_value) + delta));
}

IpAddress word_neighbour(const IpAddress& address, unsigned word, int delta) {
    Ipv6Bytes bytes = address.bytes();
    std::uint64_t value = 0;
    for (unsigned i = 0; i < 8; ++i) value |= std::uint64_t{bytes[8 * word + i]} << (8 * i);
    value += static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
    for (unsigned i = 0; i < 8; ++i) bytes[8 * word + i] = static_cast<std::uint8_t>(value >> (8 * i));
    return IpAddress::from_bytes(bytes);
}

IpAddress structured_ipv6(std::uint32_t v4, std::uint32_t form) {
    // The mapped prefix's three words as they sit in memory, and each one's
    // register neighbours (little-endian): 0 +- 1 and 0x0000ffff's.
    static constexpr std::array<std::array<std::uint8_t, 12>, structured_forms> prefixes = {{
        {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF},
        {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF},
        {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0xFF, 0xFF},
        {0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0xFF, 0xFF},
        {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xFF, 0xFF},
        {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFE, 0xFF},
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},           // IPv4-compatible (RFC 4291, deprecated)
        {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0},     // IPv4-translated (RFC 2765)
        {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0},  // NAT64's well-known prefix (RFC 6052)
    }};
    Ipv6Bytes bytes{};
    const auto& prefix = prefixes[form % structured_forms];
    std::copy(prefix.begin(), prefix.end(), bytes.begin());
    for (unsigned i = 0; i < 4; ++i) bytes[12 + i] = static_cast<std::uint8_t>(v4 >> (8 * (3 - i)));
    return IpAddress::from_bytes(bytes);
}

}  // namespace xdpturn
