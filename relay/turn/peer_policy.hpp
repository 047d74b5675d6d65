// Which peers the relay sends to (RFC 8656 Section 21, "Security
// Considerations": a relay must not become a way into networks its clients
// cannot reach). A peer is judged by what its address *reaches*: an IPv6
// address that embeds an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64,
// 6to4, Teredo) is judged by the IPv4 address inside as well. The ranges are
// those of the IANA special-purpose address registries (RFC 6890 and its
// successors) that are not globally reachable, IPv6 outside global unicast
// (2000::/3), and the relay's own listening and relayed transport addresses
// (a loop, and an amplifier). --allow-peer opens a range for tests; the
// relay's own addresses stay refused. docs/relay.md has the table.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "relay/net/address.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn::turn {

using stun::TransportAddress;

// A range of addresses, "ADDRESS/PREFIX" (IPv4 or IPv6).
struct Cidr {
    TransportAddress base;  // port unused
    int prefix = 0;
    bool contains(const TransportAddress& address) const;
};
Result<Cidr> parse_cidr(const std::string& text);

// How an IPv6 range carries an IPv4 address (RFC 4291, 6052, 3056, 4380).
enum class Embedding { none, last_32_bits, sixto4, teredo };

struct SpecialRange {
    const char* cidr;
    const char* name;    // as the registry or its RFC names it
    const char* source;  // the RFC
    bool refused;        // refused by default (not globally reachable)
    Embedding embedding = Embedding::none;
};

// Every range the policy knows, IPv4 first: the table docs/relay.md shows.
std::span<const SpecialRange> special_ranges();

class PeerPolicy {
  public:
    // `own` are the relay's listening addresses (an unspecified one stands
    // for loopback and the relayed addresses, the host's addresses the
    // policy knows); `relayed_bases` the relayed addresses, whose ports in
    // `relayed_ports` are the allocations'.
    PeerPolicy(std::vector<Cidr> allowed, std::vector<TransportAddress> own,
               std::vector<TransportAddress> relayed_bases, PortRange relayed_ports);

    // Why `peer` is refused, or nothing when the relay may send to it.
    std::optional<std::string> refusal(const TransportAddress& peer) const;
    // `address` is one of the relay's listening transport addresses (an
    // unspecified listener's port on loopback or a relayed address).
    bool is_listener(const TransportAddress& address) const;

  private:
    bool is_own(const TransportAddress& peer) const;
    bool is_local(const TransportAddress& address) const;
    bool allowed(const TransportAddress& address) const;
    std::optional<std::string> refused_range(const TransportAddress& address) const;

    std::vector<Cidr> allowed_;
    std::vector<TransportAddress> own_;
    std::vector<TransportAddress> relayed_bases_;
    PortRange relayed_ports_;
};

// The IPv4 addresses an IPv6 address embeds, as the range it is in says.
std::vector<TransportAddress> embedded_ipv4(const TransportAddress& address);

}  // namespace xdpturn::turn
