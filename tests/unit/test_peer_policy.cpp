// The peer policy: every special-purpose class refused by what it reaches,
// embedded IPv4 unwrapped, the relay's own addresses refused, and
// --allow-peer opening a range (issue 10, items 2 and 3).
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE peer_policy
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include <fstream>
#include <iterator>
#include <string>

#include "relay/turn/peer_policy.hpp"

using namespace xdpturn;
using namespace xdpturn::turn;

namespace {

TransportAddress address(const std::string& text, std::uint16_t port = 9) {
    TransportAddress parsed;
    parsed.ipv6 = text.find(':') != std::string::npos;
    BOOST_REQUIRE(inet_pton(parsed.ipv6 ? AF_INET6 : AF_INET, text.c_str(), parsed.address.data()) == 1);
    parsed.port = port;
    return parsed;
}

const TransportAddress listener = address("192.0.2.1", 3478);
const TransportAddress relay = address("192.0.2.1", 0);

PeerPolicy default_policy(std::vector<Cidr> allowed = {}) {
    return PeerPolicy(std::move(allowed), {listener, address("::", 3478)}, {relay}, PortRange{49152, 65535});
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_class_that_reaches_a_forbidden_range_is_refused) {
    const PeerPolicy policy = default_policy();
    for (const char* text :
         {// IPv4 special-purpose ranges
          "0.1.2.3", "10.1.2.3", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.16.0.1", "192.0.0.8", "192.0.0.170",
          "192.0.2.7", "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.1", "203.0.113.5",
          "224.0.0.1", "240.0.0.1", "255.255.255.255",
          // IPv4-mapped, IPv4-translated and IPv4-compatible forms of them
          "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:0:127.0.0.1", "::ffff:0:10.0.0.1", "::127.0.0.1",
          "::10.0.0.1",
          // NAT64: the well-known prefix embedding forbidden IPv4, the local one
          "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::8.8.8.8",
          // 6to4 and Teredo embedding forbidden IPv4 (Teredo's client is inverted)
          "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2001:0:7f00:1::1", "2001:0:808:808::f5ff:fffe",
          // IPv6 special-purpose and non-global ranges
          "::", "::1", "100::1", "100:0:0:1::1", "2001:2::1", "2001:10::1", "2001:db8::1", "3fff::1",
          // 2001::/23 outside the blocks the registry marks globally reachable
          "2001:1::4", "2001:5::1", "2001:1ff::1",
          // IPv4-mapped: an IPv6 socket never delivers to it, even globally reachable
          "::ffff:8.8.8.8", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "5f00::1", "4000::1"}) {
        const auto refusal = policy.refusal(address(text));
        BOOST_TEST(refusal.has_value(), text << " is allowed");
        if (refusal) BOOST_TEST_MESSAGE(text << ": " << *refusal);
    }
}

BOOST_AUTO_TEST_CASE(globally_reachable_peers_are_allowed_in_every_form) {
    const PeerPolicy policy = default_policy();
    for (const char* text : {"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450::1", "64:ff9b::808:808",
                             "2002:808:808::1", "2001:0:808:808::f7f7:f7f7",
                             // the registry's globally reachable blocks inside refused ones
                             "192.0.0.9", "192.0.0.10", "2001:1::1", "2001:1::2", "2001:1::3", "2001:3::1",
                             "2001:4:112::1", "2001:20::1", "2001:30::1"})
        BOOST_TEST(!policy.refusal(address(text)).has_value(),
                   text << ": " << policy.refusal(address(text)).value_or(""));
}

BOOST_AUTO_TEST_CASE(the_relays_own_addresses_are_never_peers) {
    // Even with the whole range opened, as the interop tests open loopback.
    const PeerPolicy policy = default_policy({*parse_cidr("192.0.2.0/24"), *parse_cidr("::/0")});
    BOOST_TEST(policy.refusal(listener).has_value());                           // the listener itself
    BOOST_TEST(policy.refusal(address("192.0.2.1", 50000)).has_value());        // a relayed port
    BOOST_TEST(policy.refusal(address("::ffff:192.0.2.1", 3478)).has_value());  // the listener, mapped
    BOOST_TEST(policy.refusal(address("::1", 3478)).has_value());               // [::]:3478 listens on loopback
    BOOST_TEST(!policy.refusal(address("2001:db8::5", 3478)).has_value());      // another host's port 3478
    BOOST_TEST(!policy.refusal(address("192.0.2.1", 3480)).has_value());        // another port of the host
    BOOST_TEST(!policy.refusal(address("192.0.2.9", 50000)).has_value());       // another host
}

BOOST_AUTO_TEST_CASE(allow_peer_opens_a_range_and_what_is_reached_through_it) {
    const PeerPolicy policy = default_policy({*parse_cidr("127.0.0.0/8")});
    BOOST_TEST(!policy.refusal(address("127.0.0.1", 3480)).has_value());
    BOOST_TEST(!policy.refusal(address("64:ff9b::7f00:1", 3480)).has_value());
    BOOST_TEST(policy.refusal(address("::ffff:127.0.0.1", 3480)).has_value());  // never deliverable
    BOOST_TEST(policy.refusal(address("10.0.0.1")).has_value());
}

BOOST_AUTO_TEST_CASE(cidrs_parse_strictly) {
    BOOST_TEST(parse_cidr("10.0.0.0/8").ok());
    BOOST_TEST(parse_cidr("::/0").ok());
    for (const char* bad : {"127.0.0.0/8x", "127.0.0.0/33", "::/129", "10.0.0.0", "10.0.0/8", "10.0.0.0/-1", "::/0x8"})
        BOOST_TEST(!parse_cidr(bad).ok(), bad);
}

BOOST_AUTO_TEST_CASE(the_documented_table_is_the_policy_table) {
    // docs/relay.md has a row per range, "| `CIDR` | refused |" or
    // "| `CIDR` | judged by ... |"; this keeps the page and the code together.
    std::ifstream file(std::string(XDPTURN_SOURCE_DIR) + "/docs/relay.md");
    const std::string page((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    BOOST_TEST_REQUIRE(!page.empty());
    for (const SpecialRange& range : special_ranges()) {
        BOOST_TEST(parse_cidr(range.cidr).ok(), range.cidr);
        const std::string row = std::string("| `") + range.cidr + "` | " + (range.refused ? "refused" : "judged by");
        BOOST_TEST(page.find(row) != std::string::npos, "docs/relay.md lacks the row " << row);
    }
}
