// The client's half of TURN's long-term credentials (RFC 8489 Section 9.2,
// RFC 8656 Section 7): requests go out unsigned until the server challenges
// with a realm and a nonce (401), then signed with the long-term key; a
// stale nonce (438) is taken and the request signed again. Sans-IO, like
// the core: the caller sends the bytes and hands back what came. The
// benchmark's signalling, the hostile-client suite and the unit tests'
// client of the core all speak through it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "relay/turn/stun.hpp"

namespace xdpturn::turn {

class ClientSession {
  public:
    using Attributes = std::function<void(stun::MessageBuilder&)>;
    // `tag`: the last four bytes of every transaction ID, so that clients
    // of one test or one benchmark never share one.
    ClientSession(std::string user, std::string password, std::array<std::uint8_t, 4> tag = {});

    // A request of `method` with the caller's attributes, in a new
    // transaction: signed (USERNAME, REALM, NONCE, MESSAGE-INTEGRITY and
    // FINGERPRINT) once a challenge gave a realm and nonce, unsigned before.
    std::vector<std::uint8_t> request(stun::Method method, const Attributes& attributes);
    // The transaction of the latest request.
    const stun::TransactionId& transaction() const { return transaction_; }
    // A transaction ID of this session's sequence, for a message the caller
    // builds itself.
    stun::TransactionId next_transaction();

    // Takes the realm and nonce of a challenge (an error response 401 or
    // 438 that carries both): true when the request should go again,
    // signed with them; false for any other answer.
    bool take_challenge(const stun::Message& answer);

    bool signs() const { return !nonce_.empty(); }
    // As if the nonce had never come: the next request goes unsigned.
    void forget_nonce() { nonce_.clear(); }
    const std::string& user() const { return user_; }

  private:
    std::string user_, password_, realm_, nonce_;
    std::array<std::uint8_t, 4> tag_;
    std::uint64_t counter_ = 0;
    stun::TransactionId transaction_{};
};

}  // namespace xdpturn::turn
