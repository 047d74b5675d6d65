// A TURN client over a real UDP socket (RFC 8656, long-term credentials):
// the benchmark makes its bindings the way a client does, with Allocate,
// CreatePermission and ChannelBind, so each relay sets up its own data path
// (its maps, for the offload) from its own signalling.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "harness/datapath/sockets.hpp"
#include "relay/turn/client_session.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn::datapath {

class TurnClient {
  public:
    TurnClient(const UdpSocket& socket, stun::TransportAddress server, std::string user, std::string password)
        : socket_(socket),
          server_(server),
          session_(std::move(user), std::move(password),
                   {static_cast<std::uint8_t>(socket.local().port >> 8), static_cast<std::uint8_t>(socket.local().port),
                    0, 0}) {}

    // The relayed transport address.
    Result<stun::TransportAddress> allocate();
    Status permit(const stun::TransportAddress& peer);
    Status bind(std::uint16_t channel, const stun::TransportAddress& peer);

  private:
    // A request with credentials (turn::ClientSession), sent again when
    // challenged for realm and nonce (401, or 438 when the nonce went
    // stale); the success response's bytes (a parsed stun::Message only
    // points into them).
    Result<std::vector<std::uint8_t>> request(stun::Method method, const turn::ClientSession::Attributes& attributes);
    // Sends and waits for the response with the same transaction,
    // retransmitting (RFC 8489's 500 ms, doubled) up to seven times.
    Result<std::vector<std::uint8_t>> exchange(const std::vector<std::uint8_t>& message,
                                               const stun::TransactionId& transaction);

    const UdpSocket& socket_;
    stun::TransportAddress server_;
    turn::ClientSession session_;
};

}  // namespace xdpturn::datapath
