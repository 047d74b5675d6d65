// Nonces bound to the client's 5-tuple (RFC 8489 Section 9.2: a server
// should bind its nonce to the client's transport address). A nonce is the
// time it was issued and an HMAC-SHA256, under a key drawn at random for
// each process, over that time and the client's and the server's transport
// addresses. A request captured from one client and sent again from another
// address, or by a later process, carries a nonce that does not verify
// there, and gets 438 Stale Nonce like any expired one.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relay/turn/stun.hpp"

namespace xdpturn::turn {

class NonceMaker {
  public:
    using Key = std::array<std::uint8_t, 32>;
    // Without a key, one is drawn from OpenSSL's RAND_bytes.
    explicit NonceMaker(std::optional<Key> key = std::nullopt);

    std::string make(const stun::TransportAddress& client, const stun::TransportAddress& server,
                     std::chrono::milliseconds now) const;
    // True when `nonce` was made for this client and server, by this key,
    // no more than `lifetime` before `now`.
    bool valid(std::string_view nonce, const stun::TransportAddress& client, const stun::TransportAddress& server,
               std::chrono::milliseconds now, std::chrono::milliseconds lifetime) const;

  private:
    std::string tag(std::uint64_t issued, const stun::TransportAddress& client,
                    const stun::TransportAddress& server) const;
    Key key_{};
};

}  // namespace xdpturn::turn
