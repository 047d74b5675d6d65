// The frame-level reference model: what the relay does with one Ethernet
// frame, decided from the RFCs and docs/datapath.md the obvious way: parse
// every header, test the contract rows in order, and build a relayed frame
// from scratch with its checksums computed in full.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "relay/model/bindings.hpp"
#include "relay/model/reason.hpp"
#include "relay/net/bytes.hpp"
#include "relay/net/headers.hpp"

namespace xdpturn {

struct Decision {
    Verdict verdict = Verdict::pass;
    Reason reason = Reason::short_ethernet;
    friend bool operator==(const Decision&, const Decision&) = default;
};

// "XDP_TX / relayed": how messages and diffs name a decision.
std::string to_string(const Decision& decision);

class ReferenceModel {
  public:
    ReferenceModel(DatapathConfig config, const BindingTable& bindings) : config_(config), bindings_(&bindings) {}

    // Decides `frame`. For XDP_TX, `relayed` receives the frame to send (its
    // storage is reused across calls); for XDP_PASS the frame goes up
    // unchanged and `relayed` is left empty.
    Decision decide(Bytes frame, std::vector<std::uint8_t>& relayed) const;

    const DatapathConfig& config() const { return config_; }

  private:
    // The headers of a frame that passed the rows both directions share,
    // and its UDP datagram (as bounded by the UDP length).
    struct Received {
        EthernetHeader eth;
        std::variant<Ipv4Header, Ipv6Header> ip;
        UdpHeader udp;
        Bytes datagram;

        bool ipv6() const { return std::holds_alternative<Ipv6Header>(ip); }
        IpAddress source() const;
        IpAddress destination() const;
    };
    Decision decide_ipv4(Bytes frame, const EthernetHeader& eth, std::vector<std::uint8_t>& relayed) const;
    Decision decide_ipv6(Bytes frame, const EthernetHeader& eth, std::vector<std::uint8_t>& relayed) const;
    Decision decide_path(const Received& in, std::vector<std::uint8_t>& relayed) const;
    Decision decide_from_client(const Received& in, std::vector<std::uint8_t>& relayed) const;
    Decision decide_from_peer(const Received& in, std::vector<std::uint8_t>& relayed) const;
    std::optional<IpAddress> output_source(const Received& in, bool out_ipv6) const;
    static std::variant<Ipv4Header, Ipv6Header> output_ip_header(const Received& in, bool out_ipv6);
    void build_output(const Received& in, const Endpoint& from, const Endpoint& to, Bytes payload,
                      std::vector<std::uint8_t>& relayed) const;

    DatapathConfig config_;
    const BindingTable* bindings_;
};

}  // namespace xdpturn
