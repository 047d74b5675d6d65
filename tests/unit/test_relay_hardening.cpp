// The TURN core as an attacker meets it (issue 10): each case failed before
// its fix. Replays from another 5-tuple, ports the shell cannot bind, the
// RFC conformance rules, bounded resources, and no refused peer ever in the
// XDP table.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE relay_hardening
#include <rapidcheck/boost_test.h>
#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include "turn_client.hpp"

using namespace xdpturn;
using namespace xdpturn::turn;
using namespace xdpturn::testing;
using namespace std::chrono_literals;
using stun::Class;
using stun::Method;
namespace attribute = stun::attribute;

namespace {

const TransportAddress victim = TransportAddress::v4(0xC6336407, 40000);
const TransportAddress attacker = TransportAddress::v4(0xC633640B, 40001);

// An authenticated Allocate with attributes of the test's choice, signed as
// the client would sign it, with its nonce.
std::vector<std::uint8_t> signed_request(Method method, const std::string& nonce, stun::TransactionId id,
                                         const std::function<void(stun::MessageBuilder&)>& attributes) {
    stun::MessageBuilder builder(method, Class::request, id);
    attributes(builder);
    builder.add_text(attribute::username, "alice")
        .add_text(attribute::realm, "xdpturn")
        .add_text(attribute::nonce, nonce);
    const auto key = stun::long_term_key("alice", "xdpturn", "secret");
    return builder.finish(Bytes(key), true);
}

std::string nonce_of(Client& client) {
    Reply challenge = client.send(stun::MessageBuilder(Method::allocate, Class::request, {9}).finish());
    return std::string(stun::as_text(*challenge.message->find(attribute::nonce)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_request_replayed_from_another_5_tuple_gets_438) {
    Core core(test_config());
    Client client(core, victim);
    BOOST_TEST_REQUIRE(client.allocate().message->is(Method::allocate, Class::success));
    const std::vector<std::uint8_t> captured_allocate = client.last_request;
    BOOST_TEST_REQUIRE(client.bind(0x4000, peer).message->is(Method::channel_bind, Class::success));
    const std::vector<std::uint8_t> captured_bind = client.last_request;

    Client thief(core, attacker);
    BOOST_TEST(thief.send(captured_allocate, attacker).error == 438);
    BOOST_TEST(thief.send(captured_bind, attacker).error == 438);
    BOOST_TEST(core.allocations() == 1u);
    // ... and the victim's own nonce still works from the victim.
    BOOST_TEST(client.bind(0x4001, other_peer).message->is(Method::channel_bind, Class::success));
}

BOOST_AUTO_TEST_CASE(nonces_are_per_process_and_expire) {
    Core first(test_config());
    CoreConfig other = test_config();
    other.nonce_key.reset();  // a process of its own: a random key
    Core second(other);
    Client client(first, victim);
    BOOST_TEST_REQUIRE(client.allocate().message->is(Method::allocate, Class::success));
    Client same_client_elsewhere(second, victim);
    BOOST_TEST(same_client_elsewhere.send(client.last_request, victim).error == 438);

    Client late(first, attacker);
    const std::string nonce = nonce_of(late);
    late.now = nonce_lifetime + 1s;
    const auto request = signed_request(
        Method::allocate, nonce, {3}, [](stun::MessageBuilder& b) { b.add_requested_transport(stun::transport_udp); });
    BOOST_TEST(late.send(request, attacker).error == 438);
}

BOOST_AUTO_TEST_CASE(an_unbindable_relayed_port_is_never_advertised) {
    Core core(test_config());
    Client client(core, victim);
    client.sockets_bind = false;  // another socket holds the port
    Reply refused = client.allocate();
    BOOST_TEST(refused.error == 508);
    BOOST_TEST(refused.message->find(attribute::xor_relayed_address) == nullptr);
    BOOST_TEST(core.allocations() == 0u);
    client.sockets_bind = true;
    client.forget_nonce();
    Reply granted = client.allocate();
    BOOST_TEST_REQUIRE(granted.message->is(Method::allocate, Class::success));
    const auto relayed =
        stun::decode_xor_address(*granted.message->find(attribute::xor_relayed_address), granted.message->transaction);
    BOOST_TEST(relayed->port == 50001);  // 50000 stays out of use
}

BOOST_AUTO_TEST_CASE(unknown_comprehension_required_attributes_get_420) {
    Core core(test_config());
    Client client(core, victim);
    const std::string nonce = nonce_of(client);
    const auto request = signed_request(Method::allocate, nonce, {4}, [](stun::MessageBuilder& b) {
        b.add_requested_transport(stun::transport_udp).add(0x7777, std::vector<std::uint8_t>{1, 2, 3, 4});
    });
    Reply reply = client.send(request);
    BOOST_TEST(reply.error == 420);
    const stun::Attribute* unknown = reply.message->find(attribute::unknown_attributes);
    BOOST_TEST_REQUIRE(unknown != nullptr);
    BOOST_TEST(load_be16(unknown->value, 0) == 0x7777);
    // Comprehension-optional ones (0x8000 and up) are ignored.
    const auto optional = signed_request(Method::allocate, nonce, {5}, [](stun::MessageBuilder& b) {
        b.add_requested_transport(stun::transport_udp).add(0x8777, std::vector<std::uint8_t>{1, 2, 3, 4});
    });
    BOOST_TEST(client.send(optional).message->is(Method::allocate, Class::success));
}

BOOST_AUTO_TEST_CASE(a_wrong_fingerprint_is_dropped_without_an_answer) {
    Core core(test_config());
    Client client(core, victim);
    std::vector<std::uint8_t> request =
        stun::MessageBuilder(Method::allocate, Class::request, {6}).finish(std::nullopt, true);
    request.back() ^= 1;
    const Reply reply = client.send(request);
    BOOST_TEST(reply.output.datagrams.empty());
}

BOOST_AUTO_TEST_CASE(attributes_after_message_integrity_are_ignored) {
    Core core(test_config());
    Client client(core, victim);
    const std::string nonce = nonce_of(client);
    stun::MessageBuilder builder(Method::allocate, Class::request, {7});
    builder.add_requested_transport(stun::transport_udp)
        .add_text(attribute::username, "alice")
        .add_text(attribute::realm, "xdpturn")
        .add_text(attribute::nonce, nonce);
    const auto key = stun::long_term_key("alice", "xdpturn", "secret");
    std::vector<std::uint8_t> message = builder.finish(Bytes(key), false);
    // SOFTWARE after MESSAGE-INTEGRITY, then a FINGERPRINT over it all.
    const std::uint8_t software[] = {0x80, 0x22, 0x00, 0x04, 'e', 'v', 'i', 'l'};
    message.insert(message.end(), std::begin(software), std::end(software));
    store_be16(message, 2, static_cast<std::uint16_t>(message.size() - 20 + 8));
    const auto crc = static_cast<std::uint32_t>(crc32(0, message.data(), static_cast<uInt>(message.size())));
    const std::uint8_t fingerprint[] = {0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0};
    message.insert(message.end(), std::begin(fingerprint), std::end(fingerprint));
    store_be32(message, message.size() - 4, crc ^ stun::fingerprint_xor);
    BOOST_TEST(client.send(message).message->is(Method::allocate, Class::success));
}

BOOST_AUTO_TEST_CASE(lifetimes_follow_rfc_8656) {
    Core core(test_config());
    Client short_lived(core, victim);
    Reply granted = short_lived.allocate(1);
    BOOST_TEST(*stun::decode_u32(*granted.message->find(attribute::lifetime)) == 600u);  // raised to the default
    BOOST_TEST(*stun::decode_u32(*short_lived.refresh(5).message->find(attribute::lifetime)) == 600u);
    BOOST_TEST(*stun::decode_u32(*short_lived.refresh(7200).message->find(attribute::lifetime)) == 3600u);

    Client three_bytes(core, attacker);
    const std::string nonce = nonce_of(three_bytes);
    const auto request = signed_request(Method::allocate, nonce, {8}, [](stun::MessageBuilder& b) {
        b.add_requested_transport(stun::transport_udp).add(attribute::lifetime, std::vector<std::uint8_t>{0, 0, 1});
    });
    BOOST_TEST(three_bytes.send(request).error == 400);
}

BOOST_AUTO_TEST_CASE(an_exact_allocate_retransmission_gets_the_same_success) {
    Core core(test_config());
    Client client(core, victim);
    Reply first = client.allocate();
    BOOST_TEST_REQUIRE(first.message->is(Method::allocate, Class::success));
    Reply again = client.send(client.last_request);
    BOOST_TEST_REQUIRE(again.message.has_value());
    BOOST_TEST((again.output.datagrams.front().payload == first.output.datagrams.front().payload));
    BOOST_TEST(core.allocations() == 1u);
    BOOST_TEST(client.allocate().error == 437);  // a new transaction is not a retransmission
}

BOOST_AUTO_TEST_CASE(permissions_per_allocation_are_bounded) {
    CoreConfig config = test_config();
    config.allowed_peers = {*parse_cidr("0.0.0.0/0")};
    config.permissions_per_allocation = 16;
    Core core(config);
    Client client(core, victim);
    client.allocate();
    for (std::uint32_t i = 0; i < 16; ++i)
        BOOST_TEST(client.permit(TransportAddress::v4(0x08000000 + i, 9))
                       .message->is(Method::create_permission, Class::success));
    BOOST_TEST(client.permit(TransportAddress::v4(0x08000100, 9)).error == 508);
    BOOST_TEST(client.bind(0x4000, TransportAddress::v4(0x08000200, 9)).error == 508);
    // A peer that already has a permission can still be bound.
    BOOST_TEST(
        client.bind(0x4000, TransportAddress::v4(0x08000003, 9)).message->is(Method::channel_bind, Class::success));
}

BOOST_AUTO_TEST_CASE(self_peering_is_refused_even_where_allow_peer_opens_it) {
    CoreConfig config = test_config();
    config.allowed_peers = {*parse_cidr("192.0.2.0/24")};
    config.listening = {server};
    Core core(config);
    Client client(core, victim);
    client.allocate();
    BOOST_TEST(client.bind(0x4000, server).error == 403);                                   // the listener
    BOOST_TEST(client.bind(0x4001, TransportAddress::v4(0xC0000201, 50005)).error == 403);  // a relayed port
    BOOST_TEST(client.permit(TransportAddress::v4(0xC0000201, 50005)).error == 403);
}

// Whatever a client does, the XDP table never holds a binding to a peer the
// policy refuses: the relay's own addresses and special-purpose ranges.
RC_BOOST_PROP(the_xdp_table_never_holds_a_refused_peer, ()) {
    CoreConfig config = test_config();
    config.listening = {server};
    Core core(config);
    const PeerPolicy policy({*parse_cidr("203.0.113.0/24")}, {server}, {config.relay_address},
                            PortRange{config.port_min, config.port_max});
    Client client(core, victim);
    client.allocate();
    const auto candidates = *rc::gen::container<std::vector<std::uint32_t>>(
        rc::gen::element(0xCB007109u, 0x7F000001u, 0xC0000201u, 0xA9FEA9FEu, 0x0A000001u, 0xCB0071FEu));
    std::uint16_t channel = 0x4000;
    for (std::uint32_t ip : candidates) {
        const auto port = *rc::gen::element<std::uint16_t>(3478, 50003, 6000);
        client.bind(channel++, TransportAddress::v4(ip, port));
    }
    for (const auto& [key, target] : core.live_bindings()) {
        const auto refusal = policy.refusal(TransportAddress::v4(target.peer.address.v4().value, target.peer.port));
        RC_ASSERT(!refusal.has_value());
    }
}

// Undoing an allocation whose socket could not be bound must not drop the
// sockets the same step's expiry closes (it once cleared them all).
BOOST_AUTO_TEST_CASE(undoing_an_allocation_keeps_the_expiry_closes_of_the_same_step) {
    Core core(test_config());
    Client early(core, victim);
    Reply first = early.allocate();  // at 0 s: expires at 600 s
    const TransportAddress expiring =
        *stun::decode_xor_address(*first.message->find(attribute::xor_relayed_address), first.message->transaction);
    Client late(core, attacker);
    late.now = 300s;  // expires at 900 s
    const RelayOpening opening = late.allocate().output.relays_opened.at(0);
    const Output undone = core.relay_unavailable(opening, 700s);
    BOOST_TEST_REQUIRE(undone.relays_closed.size() == 1u);
    BOOST_TEST((undone.relays_closed.front() == expiring));
    BOOST_TEST(core.allocations() == 0u);
}

namespace {

Reply send_indication(Client& client, const TransportAddress& to) {
    return client.send(stun::MessageBuilder(Method::send, Class::indication, {7})
                           .add_xor_address(attribute::xor_peer_address, to)
                           .add(attribute::data, std::vector<std::uint8_t>{5, 6})
                           .finish());
}

TransportAddress relayed_of(const Reply& reply) {
    return *stun::decode_xor_address(*reply.message->find(attribute::xor_relayed_address), reply.message->transaction);
}

}  // namespace

// Issue 23, item 6: a permission names an IP; a Send indication to the
// relay's own listener or another allocation's relayed port went through.
BOOST_AUTO_TEST_CASE(send_indications_obey_the_peer_policy) {
    CoreConfig config = test_config();
    config.allowed_peers = {*parse_cidr("192.0.2.0/24"), *parse_cidr("203.0.113.0/24")};
    config.listening = {server};
    Core core(config);
    Client client(core, victim);
    const TransportAddress other_relayed = relayed_of(Client(core, attacker).allocate());
    client.allocate();
    // The relay's own IP at another port is an allowed peer: the permission holds.
    BOOST_TEST_REQUIRE(
        client.permit(TransportAddress::v4(0xC0000201, 9999)).message->is(Method::create_permission, Class::success));
    BOOST_TEST(send_indication(client, TransportAddress::v4(0xC0000201, 9999)).output.datagrams.size() == 1u);
    BOOST_TEST(send_indication(client, server).output.datagrams.empty());
    BOOST_TEST(send_indication(client, other_relayed).output.datagrams.empty());
}

// ... and what would come of it: an allocation whose client is the relay.
BOOST_AUTO_TEST_CASE(no_allocation_for_a_client_at_the_relays_own_address) {
    CoreConfig config = test_config();
    config.listening = {server};
    Core core(config);
    const TransportAddress relayed = relayed_of(Client(core, victim).allocate());
    Client looped(core, relayed);
    BOOST_TEST(looped.allocate().error == 403);
    Client from_listener(core, server);
    BOOST_TEST(from_listener.allocate().error == 403);
    BOOST_TEST(core.allocations() == 1u);
}

// ... but an unspecified listener's port on another host is a client like
// any other (a NAT may well hand out 3478).
BOOST_AUTO_TEST_CASE(a_remote_client_on_the_listening_port_number_is_served) {
    CoreConfig config = test_config();
    config.listening = {TransportAddress::v4(0, 3478)};  // 0.0.0.0:3478
    Core core(config);
    Client remote(core, TransportAddress::v4(0xC6336409, 3478));
    BOOST_TEST(remote.allocate().message->is(Method::allocate, Class::success));
    Client local(core, TransportAddress::v4(0x7F000001, 3478));  // loopback: the relay itself
    BOOST_TEST(local.allocate().error == 403);
}

// Issue 23, item 7: channels per allocation, per user and of the relay, and
// allocations of the relay, are bounded; expiry gives the room back.
BOOST_AUTO_TEST_CASE(channels_and_allocations_are_bounded) {
    CoreConfig config = test_config();
    config.allowed_peers = {*parse_cidr("0.0.0.0/0")};
    config.channels_per_allocation = 3;
    config.channels_per_user = 5;
    config.max_channels = 7;
    config.max_allocations = 3;
    Core core(config);
    Client first(core, victim), second(core, attacker), third(core, TransportAddress::v4(0xC633640C, 1));
    Client bobs(core, TransportAddress::v4(0xC633640D, 1), "bob", "hunter2");
    for (Client* client : {&first, &second, &bobs}) client->allocate();
    BOOST_TEST(third.allocate().error == 508);  // the relay's allocations
    const auto bind = [](Client& client, std::uint16_t number) {
        return client.bind(number, TransportAddress::v4(0x08000000 + number, 9));
    };
    for (std::uint16_t number = 0x4000; number < 0x4003; ++number)
        BOOST_TEST(bind(first, number).message->is(Method::channel_bind, Class::success));
    BOOST_TEST(bind(first, 0x4003).error == 508);  // per allocation
    // Rebinding a channel it holds takes no more room.
    BOOST_TEST(bind(first, 0x4000).message->is(Method::channel_bind, Class::success));
    BOOST_TEST(bind(second, 0x4000).message->is(Method::channel_bind, Class::success));
    BOOST_TEST(bind(second, 0x4001).message->is(Method::channel_bind, Class::success));
    BOOST_TEST(bind(second, 0x4002).error == 508);  // alice's five
    BOOST_TEST(bind(bobs, 0x4000).message->is(Method::channel_bind, Class::success));
    BOOST_TEST(bind(bobs, 0x4001).message->is(Method::channel_bind, Class::success));
    BOOST_TEST(bind(bobs, 0x4002).error == 508);  // the relay's seven
    BOOST_TEST(core.stats().channels_live == 7u);
    // Deleting an allocation gives its channels back.
    BOOST_TEST(first.refresh(0).message->is(Method::refresh, Class::success));
    BOOST_TEST(core.stats().channels_live == 4u);
    BOOST_TEST(bind(bobs, 0x4002).message->is(Method::channel_bind, Class::success));
    // So does expiry (a channel lives 600 s; refreshes keep the allocations).
    for (Client* client : {&second, &bobs}) {
        client->now = 500s;
        client->refresh(3600);
    }
    core.on_tick(601s);
    BOOST_TEST(core.stats().channels_live == 0u);
}

// Issue 23, item 9: a new address named twice takes one permission.
BOOST_AUTO_TEST_CASE(an_address_named_twice_takes_one_permission) {
    CoreConfig config = test_config();
    config.allowed_peers = {*parse_cidr("0.0.0.0/0")};
    config.permissions_per_allocation = 2;
    Core core(config);
    Client client(core, victim);
    client.allocate();
    const TransportAddress a = TransportAddress::v4(0x08000001, 9), b = TransportAddress::v4(0x08000002, 9);
    Reply reply = client.request(Method::create_permission, [&](stun::MessageBuilder& builder) {
        builder.add_xor_address(attribute::xor_peer_address, a)
            .add_xor_address(attribute::xor_peer_address, a)
            .add_xor_address(attribute::xor_peer_address, b);
    });
    BOOST_TEST(reply.message->is(Method::create_permission, Class::success));
}

// Issue 23, item 9: EVEN-PORT and RESERVATION-TOKEN (RFC 8656 Section 7.2).
BOOST_AUTO_TEST_CASE(even_port_reserves_the_next_port_under_a_token) {
    Core core(test_config());
    Client rtp(core, victim), rtcp(core, attacker), stranger(core, TransportAddress::v4(0xC633640C, 1));
    const std::vector<std::uint8_t> reserve{0x80};
    Reply even = rtp.request(Method::allocate, [&](stun::MessageBuilder& b) {
        b.add_requested_transport(stun::transport_udp).add(attribute::even_port, reserve);
    });
    BOOST_TEST_REQUIRE(even.message->is(Method::allocate, Class::success));
    const std::uint16_t port = relayed_of(even).port;
    BOOST_TEST(port % 2 == 0);
    const stun::Attribute* token = even.message->find(attribute::reservation_token);
    BOOST_TEST_REQUIRE(token != nullptr);
    const std::vector<std::uint8_t> token_bytes(token->value.begin(), token->value.end());
    const auto with_token = [&](Client& client, const std::vector<std::uint8_t>& bytes, bool and_even) {
        return client.request(Method::allocate, [&](stun::MessageBuilder& b) {
            b.add_requested_transport(stun::transport_udp).add(attribute::reservation_token, bytes);
            if (and_even) b.add(attribute::even_port, reserve);
        });
    };
    // The held port is no one else's.
    Reply plain = stranger.allocate();
    BOOST_TEST(relayed_of(plain).port != port + 1);
    BOOST_TEST(with_token(rtcp, token_bytes, true).error == 400);                          // a token beside EVEN-PORT
    BOOST_TEST(with_token(rtcp, std::vector<std::uint8_t>(8, 0xAB), false).error == 508);  // never given
    Reply claimed = with_token(rtcp, token_bytes, false);
    BOOST_TEST_REQUIRE(claimed.message->is(Method::allocate, Class::success));
    BOOST_TEST(relayed_of(claimed).port == port + 1);
    // A reservation lasts 30 s.
    Client late(core, TransportAddress::v4(0xC633640D, 1));
    Reply again = late.request(Method::allocate, [&](stun::MessageBuilder& b) {
        b.add_requested_transport(stun::transport_udp).add(attribute::even_port, reserve);
    });
    const stun::Attribute* second_token = again.message->find(attribute::reservation_token);
    BOOST_TEST_REQUIRE(second_token != nullptr);
    Client later(core, TransportAddress::v4(0xC633640E, 1));
    later.now = 31s;
    BOOST_TEST(
        with_token(later, std::vector<std::uint8_t>(second_token->value.begin(), second_token->value.end()), false)
            .error == 508);
}
