// A TURN client over a real UDP socket (RFC 8656, long-term credentials):
// the benchmark makes its bindings the way a client does, with Allocate,
// CreatePermission and ChannelBind, so each relay sets up its own data path
// (its maps, for the offload) from its own signalling.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "harness/datapath/sockets.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn::datapath {

class TurnClient {
  public:
    TurnClient(const UdpSocket& socket, stun::TransportAddress server, std::string user, std::string password)
        : socket_(socket), server_(server), user_(std::move(user)), password_(std::move(password)) {}

    // The relayed transport address.
    Result<stun::TransportAddress> allocate();
    Status permit(const stun::TransportAddress& peer);
    Status bind(std::uint16_t channel, const stun::TransportAddress& peer);

  private:
    // A request with credentials, challenged once for realm and nonce (401,
    // or 438 when the nonce went stale); the success response's bytes (a
    // parsed stun::Message only points into them).
    Result<std::vector<std::uint8_t>> request(stun::Method method,
                                              const std::function<void(stun::MessageBuilder&)>& attributes);
    // Sends and waits for the response with the same transaction,
    // retransmitting (RFC 8489's 500 ms, doubled) up to seven times.
    Result<std::vector<std::uint8_t>> exchange(const std::vector<std::uint8_t>& message,
                                               const stun::TransactionId& transaction);
    stun::TransactionId next_transaction();

    const UdpSocket& socket_;
    stun::TransportAddress server_;
    std::string user_, password_, realm_, nonce_;
    std::uint64_t transactions_ = 0;
};

}  // namespace xdpturn::datapath
