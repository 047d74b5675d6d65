#include "relay/turn/peer_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace xdpturn::turn {

namespace {

// IANA IPv4 and IPv6 Special-Purpose Address Registries: the entries not
// globally reachable are refused. Within global unicast, the IPv6 ranges
// that embed IPv4 are judged by the address inside.
constexpr SpecialRange ranges[] = {
    {"0.0.0.0/8", "\"this network\"", "RFC 791", true},
    {"10.0.0.0/8", "private use", "RFC 1918", true},
    {"100.64.0.0/10", "shared address space (carrier-grade NAT)", "RFC 6598", true},
    {"127.0.0.0/8", "loopback", "RFC 1122", true},
    {"169.254.0.0/16", "link local (cloud metadata services live here)", "RFC 3927", true},
    {"172.16.0.0/12", "private use", "RFC 1918", true},
    {"192.0.0.0/24", "IETF protocol assignments", "RFC 6890", true},
    {"192.0.0.9/32", "Port Control Protocol anycast (globally reachable)", "RFC 7723", false},
    {"192.0.0.10/32", "TURN anycast (globally reachable)", "RFC 8155", false},
    {"192.0.2.0/24", "documentation (TEST-NET-1)", "RFC 5737", true},
    {"192.88.99.0/24", "6to4 relay anycast (deprecated)", "RFC 7526", true},
    {"192.168.0.0/16", "private use", "RFC 1918", true},
    {"198.18.0.0/15", "benchmarking", "RFC 2544", true},
    {"198.51.100.0/24", "documentation (TEST-NET-2)", "RFC 5737", true},
    {"203.0.113.0/24", "documentation (TEST-NET-3)", "RFC 5737", true},
    {"224.0.0.0/4", "multicast", "RFC 5771", true},
    {"240.0.0.0/4", "reserved, and the limited broadcast address", "RFC 1112, RFC 919", true},
    {"::/128", "unspecified", "RFC 4291", true},
    {"::1/128", "loopback", "RFC 4291", true},
    {"::ffff:0:0/96", "IPv4-mapped: the relay's IPv6 sockets (IPV6_V6ONLY) never deliver to it", "RFC 4291", true,
     Embedding::last_32_bits},
    {"::ffff:0:0:0/96", "IPv4-translated (SIIT): reaches the IPv4 address inside", "RFC 6145", false,
     Embedding::last_32_bits},
    {"::/96", "IPv4-compatible (deprecated): reaches the IPv4 address inside", "RFC 4291", false,
     Embedding::last_32_bits},
    {"64:ff9b::/96", "NAT64 well-known prefix: reaches the IPv4 address inside", "RFC 6052", false,
     Embedding::last_32_bits},
    {"64:ff9b:1::/48", "NAT64 local-use prefix", "RFC 8215", true},
    {"100::/64", "discard-only", "RFC 6666", true},
    {"100:0:0:1::/64", "dummy IPv6 prefix", "RFC 9780", true},
    {"2001::/23", "IETF protocol assignments", "RFC 2928", true},
    {"2001::/32", "Teredo: reaches its server and its client's IPv4 address", "RFC 4380", false, Embedding::teredo},
    {"2001:1::1/128", "Port Control Protocol anycast (globally reachable)", "RFC 7723", false},
    {"2001:1::2/128", "TURN anycast (globally reachable)", "RFC 8155", false},
    {"2001:1::3/128", "DNS-SD service registration protocol anycast (globally reachable)", "RFC 9665", false},
    {"2001:3::/32", "AMT (globally reachable)", "RFC 7450", false},
    {"2001:4:112::/48", "AS112-v6 (globally reachable)", "RFC 7535", false},
    {"2001:2::/48", "benchmarking", "RFC 5180", true},
    {"2001:10::/28", "ORCHID (deprecated)", "RFC 4843", true},
    {"2001:20::/28", "ORCHIDv2 (globally reachable)", "RFC 7343", false},
    {"2001:30::/28", "drone remote ID protocol entity tags (globally reachable)", "RFC 9374", false},
    {"2001:db8::/32", "documentation", "RFC 3849", true},
    {"2002::/16", "6to4: reaches the IPv4 address inside", "RFC 3056", false, Embedding::sixto4},
    {"3fff::/20", "documentation", "RFC 9637", true},
    {"5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602", true},
    {"fc00::/7", "unique local", "RFC 4193", true},
    {"fe80::/10", "link local", "RFC 4291", true},
    {"fec0::/10", "site local (deprecated)", "RFC 3879", true},
    {"ff00::/8", "multicast", "RFC 4291", true},
};

const std::vector<std::pair<Cidr, const SpecialRange*>>& parsed_ranges() {
    static const auto parsed = [] {
        std::vector<std::pair<Cidr, const SpecialRange*>> list;
        for (const SpecialRange& range : ranges) list.emplace_back(*parse_cidr(range.cidr), &range);
        return list;
    }();
    return parsed;
}

const Cidr& mapped() {
    static const Cidr cidr = *parse_cidr("::ffff:0:0/96");
    return cidr;
}

const Cidr& global_unicast() {
    static const Cidr cidr = *parse_cidr("2000::/3");
    return cidr;
}

TransportAddress ipv4_at(const TransportAddress& address, std::size_t byte, bool inverted = false) {
    TransportAddress inside;
    for (std::size_t i = 0; i < 4; ++i)
        inside.address[i] =
            inverted ? static_cast<std::uint8_t>(~address.address[byte + i]) : address.address[byte + i];
    return inside;
}

bool same_ip(const TransportAddress& a, const TransportAddress& b) {
    return a.ipv6 == b.ipv6 && a.address == b.address;
}

bool unspecified(const TransportAddress& address) {
    return std::all_of(address.address.begin(), address.address.end(), [](std::uint8_t byte) { return byte == 0; });
}

}  // namespace

bool Cidr::contains(const TransportAddress& address) const {
    if (address.ipv6 != base.ipv6) return false;
    int bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
        const std::uint8_t mask = bits >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - bits));
        if ((address.address[i] & mask) != (base.address[i] & mask)) return false;
    }
    return true;
}

Result<Cidr> parse_cidr(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) return Error{"expected ADDRESS/PREFIX, got '" + text + "'"};
    Cidr cidr;
    const std::string address = text.substr(0, slash);
    cidr.base.ipv6 = address.find(':') != std::string::npos;
    if (inet_pton(cidr.base.ipv6 ? AF_INET6 : AF_INET, address.c_str(), cidr.base.address.data()) != 1)
        return Error{"not an address: '" + address + "'"};
    const std::string prefix_text = text.substr(slash + 1);
    const auto prefix = parse_number(prefix_text, cidr.base.ipv6 ? 128 : 32);
    if (!prefix || prefix_text.starts_with("0x")) return Error{"bad prefix in '" + text + "'"};
    cidr.prefix = static_cast<int>(*prefix);
    return cidr;
}

std::span<const SpecialRange> special_ranges() {
    return ranges;
}

std::vector<TransportAddress> embedded_ipv4(const TransportAddress& address) {
    if (!address.ipv6) return {};
    // The most specific range decides how the address is read.
    const SpecialRange* best = nullptr;
    int best_prefix = -1;
    for (const auto& [cidr, range] : parsed_ranges())
        if (range->embedding != Embedding::none && cidr.prefix > best_prefix && cidr.contains(address)) {
            best = range;
            best_prefix = cidr.prefix;
        }
    if (best == nullptr) return {};
    switch (best->embedding) {
        case Embedding::none: return {};
        case Embedding::last_32_bits: return {ipv4_at(address, 12)};
        case Embedding::sixto4: return {ipv4_at(address, 2)};
        // The Teredo server's address in bits 32-63; the client's mapped
        // address, inverted, in the last 32 bits.
        case Embedding::teredo: return {ipv4_at(address, 4), ipv4_at(address, 12, true)};
    }
    return {};
}

PeerPolicy::PeerPolicy(std::vector<Cidr> allowed, std::vector<TransportAddress> own,
                       std::vector<TransportAddress> relayed_bases, PortRange relayed_ports)
    : allowed_(std::move(allowed)),
      own_(std::move(own)),
      relayed_bases_(std::move(relayed_bases)),
      relayed_ports_(relayed_ports) {}

// An unspecified listener listens on every address of the host; of those
// the policy knows loopback and the relayed addresses. (Another host's port
// of the same number is a peer like any other.)
bool PeerPolicy::is_local(const TransportAddress& address) const {
    const bool loopback = address.ipv6 ? std::all_of(address.address.begin(), address.address.begin() + 15,
                                                     [](std::uint8_t byte) { return byte == 0; }) &&
                                             address.address[15] == 1
                                       : address.address[0] == 127;
    return loopback || std::any_of(relayed_bases_.begin(), relayed_bases_.end(),
                                   [&](const TransportAddress& base) { return same_ip(base, address); });
}

bool PeerPolicy::is_listener(const TransportAddress& address) const {
    return std::any_of(own_.begin(), own_.end(), [&](const TransportAddress& listener) {
        return listener.ipv6 == address.ipv6 && listener.port == address.port &&
               (same_ip(listener, address) || (unspecified(listener) && is_local(address)));
    });
}

bool PeerPolicy::is_own(const TransportAddress& peer) const {
    if (is_listener(peer)) return true;
    for (const TransportAddress& base : relayed_bases_)
        if (same_ip(base, peer) && peer.port >= relayed_ports_.min && peer.port <= relayed_ports_.max) return true;
    return false;
}

bool PeerPolicy::allowed(const TransportAddress& address) const {
    return std::any_of(allowed_.begin(), allowed_.end(), [&](const Cidr& cidr) { return cidr.contains(address); });
}

namespace {
// The most specific range decides: a globally reachable block inside a
// refused one (TURN anycast in 2001::/23) is reachable.
const SpecialRange* most_specific(const TransportAddress& address) {
    const SpecialRange* best = nullptr;
    int best_prefix = -1;
    for (const auto& [cidr, range] : parsed_ranges())
        if (cidr.prefix > best_prefix && cidr.contains(address)) {
            best = range;
            best_prefix = cidr.prefix;
        }
    return best;
}
}  // namespace

std::optional<std::string> PeerPolicy::refused_range(const TransportAddress& address) const {
    if (const SpecialRange* range = most_specific(address); range != nullptr && range->refused)
        return std::string(range->cidr) + ", " + range->name + " (" + range->source + ")";
    if (address.ipv6 && !global_unicast().contains(address) && embedded_ipv4(address).empty())
        return "outside IPv6 global unicast 2000::/3 (RFC 4291)";
    return std::nullopt;
}

std::optional<std::string> PeerPolicy::refusal(const TransportAddress& peer) const {
    // The relay's own addresses, in any form, whatever is opened.
    std::vector<TransportAddress> inside = embedded_ipv4(peer);
    for (TransportAddress& address : inside) address.port = peer.port;
    if (is_own(peer)) return "the relay's own listening or relayed transport address";
    for (const TransportAddress& address : inside)
        if (is_own(address)) return "embeds the relay's own address";
    // A peer the relay could bind but never deliver to, whatever is opened.
    if (mapped().contains(peer)) return "::ffff:0:0/96, IPv4-mapped: the relay's IPv6 sockets never deliver to it";
    // An opened range opens what it names, and what is reached through it.
    if (allowed(peer)) return std::nullopt;
    if (auto refused = refused_range(peer)) return refused;
    for (const TransportAddress& address : inside) {
        if (allowed(address)) continue;
        if (auto refused = refused_range(address)) return "embeds " + address.to_string() + ": " + *refused;
    }
    return std::nullopt;
}

}  // namespace xdpturn::turn
