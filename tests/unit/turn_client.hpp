// A test client of the sans-IO TURN core: it speaks STUN to a Core as a
// client at one address would, and plays the socket server's part for new
// allocations (RelayOpening). Shared by the core and hardening suites.
#pragma once

#include <boost/test/unit_test.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "relay/turn/client_session.hpp"
#include "relay/turn/turn_core.hpp"

namespace xdpturn::testing {

using namespace xdpturn::turn;
using namespace std::chrono_literals;
using stun::Class;
using stun::Method;
namespace attribute = stun::attribute;

inline const TransportAddress server = TransportAddress::v4(0xC0000201, 3478);  // 192.0.2.1:3478
inline const TransportAddress peer = TransportAddress::v4(0xCB007109, 6000);    // 203.0.113.9:6000
inline const TransportAddress other_peer = TransportAddress::v4(0xCB00710A, 7000);

inline CoreConfig test_config() {
    CoreConfig config;
    config.users = {{"alice", "secret"}, {"bob", "hunter2"}};
    config.relay_address = TransportAddress::v4(0xC0000201, 0);
    config.port_min = 50000;
    config.port_max = 50009;
    // The tests' peers are in a documentation range, which the policy
    // refuses by default.
    config.allowed_peers = {*parse_cidr("203.0.113.0/24")};
    config.nonce_key = NonceMaker::Key{7};
    return config;
}

struct Reply {
    Output output;
    std::optional<stun::Message> message;  // the first datagram, parsed, when it is STUN
    int error = 0;
};

class Client {
  public:
    Client(Core& core, TransportAddress address, std::string user = "alice", std::string password = "secret")
        : core_(core),
          address_(address),
          session_(std::move(user), std::move(password), {0, 0, 0, address.address[3]}) {}

    Time now = 0ms;
    // The server address this client talks to.
    TransportAddress to_server = server;

    // When false, the shell cannot bind new relayed sockets.
    bool sockets_bind = true;
    // The bytes of the latest authenticated request, as a wire capture has them.
    std::vector<std::uint8_t> last_request;

    Reply send(std::vector<std::uint8_t> payload, TransportAddress from) {
        Output output = core_.on_client_datagram(Datagram{from, to_server, std::move(payload)}, now);
        // What the socket server does with a new allocation (RelayOpening).
        for (const RelayOpening& opening : output.relays_opened) {
            if (sockets_bind) {
                output.datagrams.push_back(opening.success);
            } else {
                Output undone = core_.relay_unavailable(opening, now);
                output.datagrams.insert(output.datagrams.end(), undone.datagrams.begin(), undone.datagrams.end());
            }
        }
        Reply reply{std::move(output), std::nullopt, 0};
        if (!reply.output.datagrams.empty()) {
            auto parsed = stun::parse(reply.output.datagrams.front().payload);
            if (parsed) {
                reply.message = *parsed;
                if (const stun::Attribute* error = parsed->find(attribute::error_code))
                    reply.error = stun::decode_error_code(*error)->code;
            }
        }
        return reply;
    }
    Reply send(std::vector<std::uint8_t> payload) { return send(std::move(payload), address_); }

    // An authenticated request: first challenged for a nonce if it has none.
    Reply request(Method method, const ClientSession::Attributes& attributes) {
        if (!session_.signs()) {
            Reply challenge = send(session_.request(method, attributes));
            BOOST_TEST_REQUIRE(challenge.error == 401);
            BOOST_TEST_REQUIRE(session_.take_challenge(*challenge.message));
        }
        last_request = session_.request(method, attributes);
        return send(last_request);
    }

    Reply allocate(std::uint32_t lifetime = 0) {
        return request(Method::allocate, [&](stun::MessageBuilder& b) {
            b.add_requested_transport(stun::transport_udp);
            if (lifetime > 0) b.add_u32(attribute::lifetime, lifetime);
        });
    }
    Reply bind(std::uint16_t channel, const TransportAddress& to) {
        return request(Method::channel_bind, [&](stun::MessageBuilder& b) {
            b.add_channel_number(channel).add_xor_address(attribute::xor_peer_address, to);
        });
    }
    Reply refresh(std::uint32_t lifetime) {
        return request(Method::refresh, [&](stun::MessageBuilder& b) { b.add_u32(attribute::lifetime, lifetime); });
    }
    Reply permit(const TransportAddress& to) {
        return request(Method::create_permission,
                       [&](stun::MessageBuilder& b) { b.add_xor_address(attribute::xor_peer_address, to); });
    }
    void forget_nonce() { session_.forget_nonce(); }
    const TransportAddress& address() const { return address_; }

  private:
    Core& core_;
    TransportAddress address_;
    ClientSession session_;
};

inline std::vector<std::uint8_t> channel_data(std::uint16_t channel, std::vector<std::uint8_t> data) {
    // Sized once, then filled: GCC 12 at -O2 without LTO warns (wrongly,
    // -Warray-bounds) about inserting into a 4-byte vector.
    std::vector<std::uint8_t> message(4 + data.size());
    store_be16(message, 0, channel);
    store_be16(message, 2, static_cast<std::uint16_t>(data.size()));
    std::copy(data.begin(), data.end(), message.begin() + 4);
    return message;
}

}  // namespace xdpturn::testing
