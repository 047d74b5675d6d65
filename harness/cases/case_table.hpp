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
        c.refused_by_test_run = c.frame.size() < 14;
        cases_.push_back(std::move(c));
    }

    void relay(std::string name, std::string description, const FrameSpec& in, const BindingTarget& target) {
        relay_expecting(std::move(name), std::move(description), in, expected_relayed_frame(in, target));
    }

    void relay_expecting(std::string name, std::string description, const FrameSpec& in, const FrameSpec& out) {
        cases_.push_back(FixedCase{std::move(name), std::move(description), config_, bindings_, build_frame(in),
                                   Decision{Verdict::tx, Reason::relayed}, build_frame(out), false});
    }

    void encapsulate(std::string name, std::string description, const FrameSpec& in, const BindingKey& client) {
        cases_.push_back(FixedCase{std::move(name), std::move(description), config_, bindings_, build_frame(in),
                                   Decision{Verdict::tx, Reason::encapsulated},
                                   build_frame(expected_encapsulated_frame(in, client, config_.turn_port)), false});
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

// The IPv6 rows and paths (fixed_cases_ipv6.cpp), and the bindings they
// add to the shared table.
void add_ipv6_cases(CaseTable& t);
void add_ipv6_bindings(BindingTable& table);

}  // namespace xdpturn
