// IPv4 addresses and endpoints in host byte order, and their text forms.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "relay/net/result.hpp"

namespace xdpturn {

struct Ipv4Address {
    std::uint32_t value = 0;  // host order: 192.0.2.1 is 0xC0000201
    friend bool operator==(Ipv4Address, Ipv4Address) = default;
};

std::string to_string(Ipv4Address address);
Result<Ipv4Address> parse_ipv4(const std::string& text);

struct Endpoint {
    Ipv4Address address;
    std::uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

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
