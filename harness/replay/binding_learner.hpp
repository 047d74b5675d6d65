// Learns the relay's channel bindings from the STUN control traffic of a
// capture, in capture order (replay --learn):
//   - Allocate success responses give a client its allocation (the port of
//     XOR-RELAYED-ADDRESS) and a lifetime;
//   - ChannelBind requests are matched to their success responses by
//     transaction ID, and bind (client, CHANNEL-NUMBER) to XOR-PEER-ADDRESS
//     for 600 seconds (a repeated bind refreshes it);
//   - Refresh success responses extend the allocation, or delete it and its
//     bindings with lifetime 0;
//   - allocations and bindings expire by the capture's timestamps.
// Clients, allocations and peers of either family go into the table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "relay/model/bindings.hpp"
#include "relay/net/bytes.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn {

struct LearnerStats {
    std::uint64_t stun_messages = 0;
    std::uint64_t malformed_stun = 0;
    std::uint64_t allocations = 0;
    std::uint64_t channel_binds = 0;
    std::uint64_t allocations_deleted = 0;
    std::uint64_t allocations_expired = 0;
    std::uint64_t bindings_expired = 0;
    std::uint64_t without_allocation = 0;  // channel binds granted on an allocation the capture never showed
    std::uint64_t unmatched_responses = 0;
};

class BindingLearner {
  public:
    static constexpr std::uint64_t channel_lifetime_us = 600ull * 1000000;
    static constexpr std::uint64_t default_allocation_lifetime_us = 600ull * 1000000;

    BindingLearner(std::uint16_t turn_port, BindingTable seed) : turn_port_(turn_port), table_(std::move(seed)) {}

    // Observes one Ethernet frame captured at `time_us`; returns true when the
    // binding table changed.
    bool observe(Bytes frame, std::uint64_t time_us);

    const BindingTable& table() const { return table_; }

    // A ChannelBind that would change the table was requested for this
    // client key (or for this peer on this allocation port) within the last
    // few seconds and is not answered yet. Between request and answer the
    // relay may or may not have bound it: a frame on it cannot be judged.
    bool bind_in_flight(const BindingKey& key, std::uint64_t now_us) const;
    bool bind_in_flight(const PeerKey& peer, std::uint64_t now_us) const;
    // The same for the key a frame of either family would be looked up by:
    // a client's ChannelData to the TURN port, a peer's datagram otherwise.
    bool bind_in_flight(Bytes frame, std::uint64_t now_us) const;
    static constexpr std::uint64_t in_flight_window_us = 5ull * 1000000;
    // A client gives a STUN transaction up after 39.5 s (RFC 8489 Section
    // 6.2.1); requests unanswered for longer are forgotten once this many
    // are pending, so a capture of unanswered requests keeps memory flat.
    static constexpr std::uint64_t transaction_timeout_us = 40ull * 1000000;
    static constexpr std::size_t forget_above = 4096;
    const LearnerStats& stats() const { return stats_; }
    std::uint64_t bindings_learned() const { return learned_; }

  private:
    struct Allocation {
        std::uint16_t relayed_port = 0;
        std::uint64_t expires_us = 0;
    };
    struct PendingBind {
        BindingKey key;
        BindingTarget target;  // its allocation port filled in when the bind succeeds
        std::uint64_t requested_us = 0;
    };
    // The binding a pending bind would make, if it is an IPv4 one whose
    // allocation is known and the table lacks it.
    std::optional<std::pair<BindingKey, BindingTarget>> change_of(const PendingBind& bind, std::uint64_t now_us) const;
    struct TransactionHash {
        std::size_t operator()(const stun::TransactionId& id) const noexcept {
            std::uint64_t value = 0;
            for (std::uint8_t byte : id) value = value * 131 + byte;
            return std::hash<std::uint64_t>{}(value);
        }
    };
    struct EndpointLess {
        bool operator()(const Endpoint& a, const Endpoint& b) const {
            return std::tie(a.address, a.port) < std::tie(b.address, b.port);
        }
    };

    bool expire(std::uint64_t now);
    void forget_unanswered(std::uint64_t now_us);
    bool handle(const stun::Message& message, const Endpoint& client, bool from_server, std::uint64_t now);
    bool remove_allocation(const Endpoint& client);

    std::uint16_t turn_port_;
    BindingTable table_;
    std::unordered_map<BindingKey, std::uint64_t, BindingKeyHash> binding_expiry_;  // learned ones only
    std::map<Endpoint, Allocation, EndpointLess> allocations_;
    std::unordered_map<stun::TransactionId, PendingBind, TransactionHash> pending_binds_;
    LearnerStats stats_;
    std::uint64_t learned_ = 0;
    // The earliest expiry of anything learned: expire() scans only then.
    std::uint64_t next_expiry_us_ = UINT64_MAX;
};

}  // namespace xdpturn
