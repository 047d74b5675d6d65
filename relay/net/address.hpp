// IPv4 and IPv6 addresses and endpoints, and their text forms.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "relay/net/result.hpp"
#include "relay/net/splitmix.hpp"

namespace xdpturn {

struct Ipv4Address {
    std::uint32_t value = 0;  // host order: 192.0.2.1 is 0xC0000201
    friend bool operator==(Ipv4Address, Ipv4Address) = default;
};

std::string to_string(Ipv4Address address);
Result<Ipv4Address> parse_ipv4(const std::string& text);

using Ipv6Bytes = std::array<std::uint8_t, 16>;  // network order, as on the wire

// An IPv4 or IPv6 address. IPv4 is held in its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d, RFC 4291 Section 2.5.5.2), so every address is 16
// bytes, exactly as the map ABI stores it, and the two families can never
// compare equal. The default is IPv4 0.0.0.0.
// Constant-initializable (constexpr), so that addresses at namespace scope
// are ready before any other static initializer can use them.
class IpAddress {
  public:
    constexpr IpAddress() : IpAddress(Ipv4Address{}) {}
    constexpr IpAddress(Ipv4Address v4)  // NOLINT: an IPv4 address is an IpAddress
        : bytes_{0,
                 0,
                 0,
                 0,
                 0,
                 0,
                 0,
                 0,
                 0,
                 0,
                 0xFF,
                 0xFF,
                 static_cast<std::uint8_t>(v4.value >> 24),
                 static_cast<std::uint8_t>(v4.value >> 16),
                 static_cast<std::uint8_t>(v4.value >> 8),
                 static_cast<std::uint8_t>(v4.value)} {}
    // 16 bytes as on the wire; the IPv4-mapped form is the IPv4 address.
    static constexpr IpAddress from_bytes(const Ipv6Bytes& bytes) {
        IpAddress address;
        address.bytes_ = bytes;
        return address;
    }

    bool is_v4() const;
    Ipv4Address v4() const;  // is_v4() only
    const Ipv6Bytes& bytes() const { return bytes_; }

    // Two 64-bit words each: lookups compare and hash addresses per frame.
    friend bool operator==(const IpAddress& a, const IpAddress& b) {
        return a.word(0) == b.word(0) && a.word(1) == b.word(1);
    }
    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
    std::uint64_t word(std::size_t index) const {  // index 0 or 1, in host order of the bytes' copy
        std::uint64_t word = 0;
        std::memcpy(&word, bytes_.data() + index * sizeof(word), sizeof(word));
        return word;
    }

  private:
    Ipv6Bytes bytes_{};
};

std::string to_string(const IpAddress& address);
// Either family's text form: "192.0.2.1" or "2001:db8::1".
Result<IpAddress> parse_ip(const std::string& text);
// Both 64-bit halves, mixed: every bit counts, in two loads.
inline std::size_t hash_value(const IpAddress& address) {
    return static_cast<std::size_t>(splitmix64_mix(address.word(1) ^ splitmix64_mix(address.word(0))));
}

struct Endpoint {
    IpAddress address;
    std::uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// "192.0.2.1:3478", "[2001:db8::1]:3478".
std::string to_string(const Endpoint& endpoint);
Result<Endpoint> parse_endpoint(const std::string& text);

// Inclusive range of UDP ports, 1-65535 (port 0 means "any" to bind()).
struct PortRange {
    std::uint16_t min = 1;
    std::uint16_t max = 65535;
    bool contains(std::uint16_t port) const { return port >= min && port <= max; }
    friend bool operator==(const PortRange&, const PortRange&) = default;
};
// "LO-HI", each decimal or 0x-prefixed hex.
Result<PortRange> parse_port_range(const std::string& text);

// A number from 0 to `max`, decimal or 0x-prefixed hex, nothing after it.
Result<std::uint32_t> parse_number(std::string_view text, std::uint32_t max);

}  // namespace xdpturn
