// What the fixed-case files share: the table cases are added to, in the
// contract's terms (pass, relay, encapsulate), and the IPv6 cases' entry
// points. Internal to harness/cases.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/cases/expected_output.hpp"
#include "harness/cases/fixed_cases.hpp"
#include "harness/frames/frame_builder.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

class CaseTable {
  public:
    CaseTable() : config_(fixed_case_config()), bindings_(fixed_case_bindings()) {}

    void pass(std::string name, std::string description, Reason reason, const FrameSpec& spec) {
        pass_bytes(std::move(name), std::move(description), reason, build_frame(spec));
    }

    void pass_bytes(std::string name, std::string description, Reason reason, std::vector<std::uint8_t> frame) {
        FixedCase c{std::move(name),  std::move(description),          config_, bindings_,
                    std::move(frame), Decision{Verdict::pass, reason}, {},      false};
        c.expected_output = c.frame;
        c.refused_by_test_run = c.frame.size() < test_run_min_frame;
        cases_.push_back(std::move(c));
    }

    void relay(std::string name, std::string description, const FrameSpec& in, const BindingTarget& target) {
        relay_expecting(std::move(name), std::move(description), in, expected_relayed_frame(in, target, config_));
    }

    void relay_expecting(std::string name, std::string description, const FrameSpec& in, const FrameSpec& out) {
        cases_.push_back(FixedCase{std::move(name), std::move(description), config_, bindings_, build_frame(in),
                                   Decision{Verdict::tx, Reason::relayed}, build_frame(out), false});
    }

    void encapsulate(std::string name, std::string description, const FrameSpec& in, const BindingKey& client) {
        cases_.push_back(FixedCase{std::move(name), std::move(description), config_, bindings_, build_frame(in),
                                   Decision{Verdict::tx, Reason::encapsulated},
                                   build_frame(expected_encapsulated_frame(in, client, config_)), false});
    }

    // Cases added inside `body` use this configuration and binding table.
    void with(DatapathConfig config, BindingTable bindings, const std::function<void()>& body) {
        std::swap(config_, config);
        std::swap(bindings_, bindings);
        body();
        std::swap(config_, config);
        std::swap(bindings_, bindings);
    }

    std::vector<FixedCase> take() { return std::move(cases_); }

  private:
    DatapathConfig config_;
    BindingTable bindings_;
    std::vector<FixedCase> cases_;
};

template <class Change>
FrameSpec changed(FrameSpec spec, Change change) {
    change(spec);
    return spec;
}

// ChannelData from `from` to `to` on `channel`, carrying `data_bytes` bytes.
FrameSpec channel_data_frame(const Endpoint& from, const Endpoint& to, std::uint16_t channel, std::size_t data_bytes);

// A datagram of `data_bytes` bytes from the peer of `target` to its
// allocation port on `relay_address`.
FrameSpec peer_datagram_frame(const BindingTarget& target, const IpAddress& relay_address, std::size_t data_bytes,
                              std::uint8_t seed);

// 2001:db8:GROUP3::LAST, from the documentation prefix (RFC 3849), as a
// constant: namespace-scope addresses must not wait for dynamic
// initialization (fixed_cases() may run during another file's).
constexpr IpAddress documentation_v6(std::uint8_t group3, std::uint8_t last) {
    return IpAddress::from_bytes(Ipv6Bytes{0x20, 0x01, 0x0D, 0xB8, 0, group3, 0, 0, 0, 0, 0, 0, 0, 0, 0, last});
}

inline constexpr Endpoint client6{documentation_v6(0x0C, 0x07), 50000};  // [2001:db8:c::7]:50000
inline constexpr Endpoint relay6{documentation_v6(0x01, 0x01), 3478};    // [2001:db8:1::1]:3478
inline constexpr IpAddress relay4_address{Ipv4Address{0xC0000201}};      // 192.0.2.1, the IPv4 cases' relay

// Bindings across families, each way: an IPv4 client with an IPv6 peer, an
// IPv6 client with an IPv4 peer (RFC 6156 allocations), and an IPv4 client
// whose IPv6 peer is an allocation of the relay's own IPv6 address.
inline constexpr Endpoint client4{Ipv4Address{0xC6336407}, 50000};  // the IPv4 cases' client
inline constexpr BindingKey client4_to_v6{client4, 0x4005};
inline constexpr BindingTarget to_peer_v6_of_v4{49163, Endpoint{documentation_v6(0x09, 0x0A), 6004}};
inline constexpr BindingKey client6_to_v4{client6, 0x4001};
inline constexpr BindingTarget to_peer_v4_of_v6{49164, Endpoint{Ipv4Address{0xCB00710E}, 6005}};  // 203.0.113.14
inline constexpr BindingKey client4_to_hairpin6{client4, 0x4006};
inline constexpr BindingTarget to_hairpin_v6_of_v4{49165, Endpoint{relay6.address, 49201}};

inline FrameSpec channel_frame6(std::uint16_t channel = 0x4000, std::size_t data_bytes = 20) {
    return channel_data_frame(client6, relay6, channel, data_bytes);
}

// A datagram from `target`'s peer, to the relay's address of its family.
inline FrameSpec peer_frame6(const BindingTarget& target, std::size_t data_bytes = 20) {
    return peer_datagram_frame(target, target.peer.address.is_v4() ? relay4_address : relay6.address, data_bytes, 0x66);
}

// The IPv6 rows and paths (fixed_cases_ipv6.cpp), and the bindings they
// add to the shared table.
void add_ipv6_cases(CaseTable& t);
void add_ipv6_bindings(BindingTable& table);

// Bindings across families relayed (fixed_cases_across.cpp), under a
// configuration with a relay address of each family.
void add_across_cases(CaseTable& t);

}  // namespace xdpturn
