#include "relay/net/address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace xdpturn {

std::string to_string(Ipv4Address address) {
    char text[INET_ADDRSTRLEN];
    const in_addr raw{htonl(address.value)};
    inet_ntop(AF_INET, &raw, text, sizeof(text));
    return text;
}

Result<Ipv4Address> parse_ipv4(const std::string& text) {
    in_addr raw{};
    if (inet_pton(AF_INET, text.c_str(), &raw) != 1) return Error{"not an IPv4 address: '" + text + "'"};
    return Ipv4Address{ntohl(raw.s_addr)};
}

namespace {
constexpr std::size_t mapped_prefix_bytes = 12;  // ::ffff: before the IPv4 address
constexpr Ipv6Bytes v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
}  // namespace

bool IpAddress::is_v4() const {
    return std::equal(bytes_.begin(), bytes_.begin() + mapped_prefix_bytes, v4_mapped_prefix.begin());
}

Ipv4Address IpAddress::v4() const {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | bytes_[mapped_prefix_bytes + i];
    return Ipv4Address{value};
}

std::string to_string(const IpAddress& address) {
    if (address.is_v4()) return to_string(address.v4());
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, address.bytes().data(), text, sizeof(text));
    return text;
}

Result<IpAddress> parse_ip(const std::string& text) {
    if (text.find(':') == std::string::npos) {
        auto v4 = parse_ipv4(text);
        if (!v4) return v4.error();
        return IpAddress{*v4};
    }
    Ipv6Bytes bytes{};
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return Error{"not an IPv6 address: '" + text + "'"};
    return IpAddress::from_bytes(bytes);
}

std::string to_string(const Endpoint& endpoint) {
    if (endpoint.address.is_v4()) return to_string(endpoint.address) + ":" + std::to_string(endpoint.port);
    return "[" + to_string(endpoint.address) + "]:" + std::to_string(endpoint.port);
}

Result<std::uint32_t> parse_number(std::string_view text, std::uint32_t max) {
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
        base = 16;
    }
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value > max)
        return Error{"not a number from 0 to " + std::to_string(max) + ": '" + std::string(text) + "'"};
    return value;
}

Result<Endpoint> parse_endpoint(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return Error{"expected ADDRESS:PORT, got '" + text + "'"};
    std::string host = text.substr(0, colon);
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    // An IPv6 address needs brackets, or its last group would read as the port.
    if (!bracketed && host.find(':') != std::string::npos)
        return Error{"expected [IPV6]:PORT for an IPv6 endpoint, got '" + text + "'"};
    auto address = parse_ip(host);
    if (!address) return address.error();
    auto port = parse_number(std::string_view(text).substr(colon + 1), 0xFFFF);
    if (!port) return Error{"bad port in '" + text + "': " + port.error().message};
    return Endpoint{*address, static_cast<std::uint16_t>(*port)};
}

Result<PortRange> parse_port_range(const std::string& text) {
    const auto dash = text.find('-');
    if (dash == std::string::npos) return Error{"expected a port range LO-HI, got '" + text + "'"};
    auto low = parse_number(std::string_view(text).substr(0, dash), 0xFFFF);
    auto high = parse_number(std::string_view(text).substr(dash + 1), 0xFFFF);
    if (!low) return Error{"port range '" + text + "': " + low.error().message};
    if (!high) return Error{"port range '" + text + "': " + high.error().message};
    if (*low == 0) return Error{"port range '" + text + "' starts at port 0, which no socket can be bound to"};
    if (*low > *high) return Error{"port range '" + text + "' has LO above HI"};
    return PortRange{static_cast<std::uint16_t>(*low), static_cast<std::uint16_t>(*high)};
}

}  // namespace xdpturn
