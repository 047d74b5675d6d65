#include "relay/net/address.hpp"

#include <arpa/inet.h>

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

std::string to_string(const Endpoint& endpoint) {
    return to_string(endpoint.address) + ":" + std::to_string(endpoint.port);
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
    auto address = parse_ipv4(text.substr(0, colon));
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
