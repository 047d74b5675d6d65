// The sans-IO TURN core: authentication, allocations, permissions, channel
// bindings, relaying both ways, lifetimes and cooldowns, quotas, the peer
// policy, and the property that the binding events, applied in order, give
// exactly the bindings the XDP maps should hold.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE turn_core
#include <rapidcheck/boost_test.h>
#include <rapidcheck/state.h>
#include <boost/test/unit_test.hpp>

#include <functional>

#include "turn_client.hpp"

using namespace xdpturn;
using namespace xdpturn::turn;
using namespace std::chrono_literals;
using stun::Class;
using stun::Method;
namespace attribute = stun::attribute;

using namespace xdpturn::testing;

BOOST_AUTO_TEST_CASE(allocate_is_challenged_then_granted) {
    Core core(test_config());
    Client client(core, TransportAddress::v4(0xC6336407, 40000));
    Reply challenge = client.send(stun::MessageBuilder(Method::allocate, Class::request, {1}).finish());
    BOOST_TEST(challenge.error == 401);
    BOOST_TEST(challenge.message->find(attribute::realm) != nullptr);
    BOOST_TEST(challenge.message->find(attribute::nonce) != nullptr);

    Reply granted = client.allocate();
    BOOST_TEST_REQUIRE(granted.message.has_value());
    BOOST_TEST(granted.message->is(Method::allocate, Class::success));
    const auto key = stun::long_term_key("alice", "xdpturn", "secret");
    BOOST_TEST(stun::integrity_valid(*granted.message, Bytes(key)));
    BOOST_TEST(stun::fingerprint_valid(*granted.message));
    auto relayed =
        stun::decode_xor_address(*granted.message->find(attribute::xor_relayed_address), granted.message->transaction);
    BOOST_TEST(relayed->port >= 50000);
    BOOST_TEST(relayed->port <= 50009);
    BOOST_TEST(*stun::decode_u32(*granted.message->find(attribute::lifetime)) == 600u);
    BOOST_TEST(core.allocations() == 1u);
    BOOST_TEST(client.allocate().error == 437);  // one allocation per 5-tuple
}

BOOST_AUTO_TEST_CASE(relay_address_family) {
    CoreConfig config = test_config();
    TransportAddress relay6;
    relay6.ipv6 = true;
    relay6.address[15] = 1;  // ::1
    config.relay_address6 = relay6;
    Core core(config);
    TransportAddress client6 = relay6;
    client6.port = 40000;
    auto family = [](std::uint8_t value) { return std::vector<std::uint8_t>{value, 0, 0, 0}; };
    auto allocate = [&](Client& client, std::optional<std::uint8_t> wanted) {
        return client.request(Method::allocate, [&](stun::MessageBuilder& b) {
            b.add_requested_transport(stun::transport_udp);
            if (wanted) b.add(attribute::requested_address_family, family(*wanted));
        });
    };
    auto relayed_family_ipv6 = [](const Reply& reply) {
        return stun::decode_xor_address(*reply.message->find(attribute::xor_relayed_address),
                                        reply.message->transaction)
            ->ipv6;
    };
    Client asks_ipv6(core, client6);
    BOOST_TEST(relayed_family_ipv6(allocate(asks_ipv6, 0x02)));
    client6.port = 40001;
    Client silent(core, client6);
    BOOST_TEST(!relayed_family_ipv6(allocate(silent, std::nullopt)));  // RFC 8656: IPv4 unless asked
    client6.port = 40002;
    Client unknown(core, client6);
    BOOST_TEST(allocate(unknown, 0x07).error == 440);

    config.keep_client_family = true;  // coturn's "keep"
    Core keeping(config);
    Client kept(keeping, client6);
    BOOST_TEST(relayed_family_ipv6(allocate(kept, std::nullopt)));
    // An IPv6 allocation takes IPv6 peers only.
    BOOST_TEST(asks_ipv6.bind(0x4000, peer).error == 443);
}

// The relay's IPv6 address in the offload tests: 2001:db8:1::1.
TransportAddress documentation_relay6() {
    TransportAddress relay6;
    relay6.ipv6 = true;
    relay6.address = {0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return relay6;
}

// The offload relays IPv6 as well: an IPv6 allocation whose relayed address
// is the address its client talks to publishes its channels for the maps,
// with 16-byte addresses; one relayed from another address does not.
BOOST_AUTO_TEST_CASE(ipv6_channels_are_published_for_the_offload) {
    CoreConfig config = test_config();
    const TransportAddress relay6 = documentation_relay6();
    config.relay_address6 = relay6;
    config.keep_client_family = true;
    config.allowed_peers.push_back(*parse_cidr("2001:db8:1::/64"));  // documentation, refused by default
    Core core(config);
    TransportAddress client6 = relay6;
    client6.address[15] = 7;
    client6.port = 40000;
    TransportAddress peer6 = relay6;
    peer6.address[15] = 9;
    peer6.port = 6000;

    Client on_relay_address(core, client6);
    on_relay_address.to_server = relay6;
    on_relay_address.to_server.port = 3478;
    BOOST_TEST_REQUIRE(on_relay_address.allocate().message->is(Method::allocate, Class::success));
    Reply bound = on_relay_address.bind(0x4000, peer6);
    BOOST_TEST_REQUIRE(bound.output.events.size() == 1u);
    const BindingEvent& event = bound.output.events.front();
    BOOST_TEST(!event.key.client.address.is_v4());
    BOOST_TEST((event.key.client == endpoint_of(client6)));
    BOOST_TEST((event.target.peer == endpoint_of(peer6)));
    BOOST_TEST(to_string(event.target.peer) == "[2001:db8:1::9]:6000");

    client6.port = 40001;
    Client on_other_address(core, client6);
    on_other_address.to_server = relay6;
    on_other_address.to_server.address[15] = 2;  // 2001:db8:1::2, not the relayed address
    on_other_address.to_server.port = 3478;
    BOOST_TEST_REQUIRE(on_other_address.allocate().message->is(Method::allocate, Class::success));
    BOOST_TEST(on_other_address.bind(0x4000, peer6).output.events.empty());
    BOOST_TEST(core.live_bindings().size() == 1u);
}

// Across families (RFC 6156) the offload sends from the relay's own address
// of each family: an IPv4 client talking to the relay's IPv4 address, with
// an IPv6 relayed address and peer, publishes its channel; the same client
// talking to another IPv4 address of the host does not (the program would
// answer it from the wrong one).
BOOST_AUTO_TEST_CASE(channels_across_families_are_published_for_the_offload) {
    CoreConfig config = test_config();
    const TransportAddress relay6 = documentation_relay6();
    config.relay_address6 = relay6;
    config.allowed_peers.push_back(*parse_cidr("2001:db8:9::/64"));
    Core core(config);
    TransportAddress peer6 = relay6;
    peer6.address[5] = 9;
    peer6.port = 6000;
    auto allocate_ipv6 = [](Client& client) {
        return client.request(Method::allocate, [](stun::MessageBuilder& b) {
            b.add_requested_transport(stun::transport_udp);
            b.add(attribute::requested_address_family, std::vector<std::uint8_t>{0x02, 0, 0, 0});
        });
    };

    Client on_relay_address(core, TransportAddress::v4(0xC6336407, 40000));
    on_relay_address.to_server = TransportAddress::v4(0xC0000201, 3478);  // the relay's IPv4 address
    BOOST_TEST_REQUIRE(allocate_ipv6(on_relay_address).message->is(Method::allocate, Class::success));
    Reply bound = on_relay_address.bind(0x4000, peer6);
    BOOST_TEST_REQUIRE(bound.output.events.size() == 1u);
    BOOST_TEST(bound.output.events.front().key.client.address.is_v4());
    BOOST_TEST(to_string(bound.output.events.front().target.peer) == "[2001:db8:9::1]:6000");

    Client on_other_address(core, TransportAddress::v4(0xC6336407, 40001));
    on_other_address.to_server = TransportAddress::v4(0xC0000202, 3478);  // another address of the host
    BOOST_TEST_REQUIRE(allocate_ipv6(on_other_address).message->is(Method::allocate, Class::success));
    BOOST_TEST(on_other_address.bind(0x4000, peer6).output.events.empty());
    BOOST_TEST(core.live_bindings().size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_credentials_and_stale_nonces_are_refused) {
    Core core(test_config());
    Client wrong(core, TransportAddress::v4(0xC6336407, 40000), "alice", "wrong");
    BOOST_TEST(wrong.allocate().error == 401);
    Client stranger(core, TransportAddress::v4(0xC6336407, 40001), "mallory", "x");
    BOOST_TEST(stranger.allocate().error == 401);
    Client late(core, TransportAddress::v4(0xC6336407, 40002));
    BOOST_TEST(late.allocate().message->is(Method::allocate, Class::success));
    late.now = 7300s;  // two nonce lifetimes later
    Reply stale = late.refresh(600);
    BOOST_TEST(stale.error == 438);
    BOOST_TEST(stale.message->find(attribute::nonce) != nullptr);
    BOOST_TEST(core.stats().rejected >= 3u);
}

BOOST_AUTO_TEST_CASE(channel_bind_relays_both_ways_and_emits_events) {
    Core core(test_config());
    Client client(core, TransportAddress::v4(0xC6336407, 40000));
    client.allocate();
    Reply bound = client.bind(0x4000, peer);
    BOOST_TEST(bound.message->is(Method::channel_bind, Class::success));
    BOOST_TEST_REQUIRE(bound.output.events.size() == 1u);
    const BindingEvent& event = bound.output.events.front();
    BOOST_TEST((event.kind == BindingEventKind::created));
    BOOST_TEST(event.key.channel == 0x4000);
    BOOST_TEST(event.key.client.port == 40000);
    BOOST_TEST(event.target.peer.port == 6000);
    BOOST_TEST(event.target.allocation_port >= 50000);
    BOOST_TEST(core.live_bindings().size() == 1u);

    Reply relayed = client.send(channel_data(0x4000, {1, 2, 3}));
    BOOST_TEST_REQUIRE(relayed.output.datagrams.size() == 1u);
    BOOST_TEST((relayed.output.datagrams[0].destination == peer));
    BOOST_TEST(relayed.output.datagrams[0].source.port == event.target.allocation_port);
    BOOST_TEST((relayed.output.datagrams[0].payload == std::vector<std::uint8_t>{1, 2, 3}));

    TransportAddress relay = server;
    relay.port = event.target.allocation_port;
    Output back = core.on_peer_datagram(Datagram{peer, relay, {9, 8}}, client.now);
    BOOST_TEST_REQUIRE(back.datagrams.size() == 1u);
    BOOST_TEST((back.datagrams[0].destination == client.address()));
    BOOST_TEST((back.datagrams[0].payload == channel_data(0x4000, {9, 8})));

    // The same binding again refreshes it; another peer on the number is refused.
    BOOST_TEST((client.bind(0x4000, peer).output.events.at(0).kind == BindingEventKind::refreshed));
    BOOST_TEST(client.bind(0x4000, other_peer).error == 400);
    BOOST_TEST(client.bind(0x4001, peer).error == 400);  // the peer is bound to 0x4000
}

BOOST_AUTO_TEST_CASE(channel_range_and_peer_policy) {
    Core core(test_config());
    Client client(core, TransportAddress::v4(0xC6336407, 40000));
    client.allocate();
    BOOST_TEST(client.bind(0x5000, peer).error == 400);  // outside RFC 8656's range
    for (std::uint32_t forbidden : {0x7F000001u, 0x0A000001u, 0xC0A80001u, 0xA9FE0001u, 0xE0000001u, 0xFFFFFFFFu, 0u})
        BOOST_TEST(client.bind(0x4002, TransportAddress::v4(forbidden, 9)).error == 403, std::hex << forbidden);

    CoreConfig open = test_config();
    open.channels = rfc5766_channels;
    open.allowed_peers = {*parse_cidr("127.0.0.0/8")};
    Core lenient(open);
    Client local(lenient, TransportAddress::v4(0x7F000001, 40000));
    local.allocate();
    BOOST_TEST(
        local.bind(0x6635, TransportAddress::v4(0x7F000001, 3480)).message->is(Method::channel_bind, Class::success));
}

BOOST_AUTO_TEST_CASE(send_needs_a_permission_and_peers_answer_with_data_indications) {
    Core core(test_config());
    Client client(core, TransportAddress::v4(0xC6336407, 40000));
    client.allocate();
    auto send = [&] {
        return client.send(stun::MessageBuilder(Method::send, Class::indication, {7})
                               .add_xor_address(attribute::xor_peer_address, peer)
                               .add(attribute::data, std::vector<std::uint8_t>{5, 6})
                               .finish());
    };
    BOOST_TEST(send().output.datagrams.empty());  // no permission yet
    BOOST_TEST(client.permit(peer).message->is(Method::create_permission, Class::success));
    Reply sent = send();
    BOOST_TEST_REQUIRE(sent.output.datagrams.size() == 1u);
    BOOST_TEST((sent.output.datagrams[0].payload == std::vector<std::uint8_t>{5, 6}));

    TransportAddress relay = server;
    relay.port = sent.output.datagrams[0].source.port;
    Output back = core.on_peer_datagram(Datagram{peer, relay, {4}}, client.now);
    BOOST_TEST_REQUIRE(back.datagrams.size() == 1u);
    auto data = stun::parse(back.datagrams[0].payload);
    BOOST_TEST_REQUIRE(data.ok());
    BOOST_TEST(data->is(Method::data, Class::indication));
    // From a peer without permission: discarded.
    BOOST_TEST(core.on_peer_datagram(Datagram{other_peer, relay, {4}}, client.now).datagrams.empty());
}

BOOST_AUTO_TEST_CASE(refresh_zero_deletes_the_allocation_and_its_bindings) {
    Core core(test_config());
    Client client(core, TransportAddress::v4(0xC6336407, 40000));
    client.allocate();
    client.bind(0x4000, peer);
    client.bind(0x4001, other_peer);
    Reply deleted = client.refresh(0);
    BOOST_TEST(deleted.message->is(Method::refresh, Class::success));
    BOOST_TEST(deleted.output.events.size() == 2u);
    for (const BindingEvent& event : deleted.output.events) BOOST_TEST((event.kind == BindingEventKind::removed));
    BOOST_TEST(core.allocations() == 0u);
    BOOST_TEST(core.live_bindings().empty());
}

BOOST_AUTO_TEST_CASE(lifetimes_expiry_and_rebind_cooldown) {
    Core core(test_config());
    Client client(core, TransportAddress::v4(0xC6336407, 40000));
    client.allocate(3600);
    client.bind(0x4000, peer);
    BOOST_TEST(core.on_tick(299s).events.empty());
    // The permission lapses after 300 s: the binding leaves the maps and
    // ChannelData is no longer relayed, though the channel stays bound.
    Output lapsed = core.on_tick(300s);
    BOOST_TEST_REQUIRE(lapsed.events.size() == 1u);
    BOOST_TEST((lapsed.events[0].kind == BindingEventKind::removed));
    client.now = 300s;
    BOOST_TEST(client.send(channel_data(0x4000, {1})).output.datagrams.empty());
    // A new permission brings it back.
    client.now = 301s;
    Reply permitted = client.permit(peer);
    BOOST_TEST_REQUIRE(permitted.output.events.size() == 1u);
    BOOST_TEST((permitted.output.events[0].kind == BindingEventKind::created));
    BOOST_TEST(client.send(channel_data(0x4000, {1})).output.datagrams.size() == 1u);
    // The channel expires after 600 s, and then cools down for 300 s.
    Output expired = core.on_tick(600s);
    BOOST_TEST_REQUIRE(expired.events.size() == 1u);
    BOOST_TEST((expired.events[0].kind == BindingEventKind::removed));
    client.now = 601s;
    BOOST_TEST(client.bind(0x4000, other_peer).error == 400);  // the number is cooling down
    BOOST_TEST(client.bind(0x4001, peer).error == 400);        // and so is the peer
    client.now = 901s;
    BOOST_TEST(client.bind(0x4000, other_peer).message->is(Method::channel_bind, Class::success));
    BOOST_TEST(core.live_bindings().size() == 1u);
    // The allocation itself expires after its lifetime.
    core.on_tick(3601s);
    BOOST_TEST(core.allocations() == 0u);
    BOOST_TEST(core.live_bindings().empty());
}

// The client's half of the credentials (relay/turn/client_session): an
// unsigned request is challenged (401) and the session takes the realm and
// nonce; signed, it succeeds; once the nonce has gone stale (438) the
// session takes the new one and the same request succeeds again. An answer
// that is no challenge is not taken for one.
BOOST_AUTO_TEST_CASE(client_session_follows_challenges_and_stale_nonces) {
    Core core(test_config());
    const TransportAddress address = TransportAddress::v4(0xC6336407, 40000);
    ClientSession session("alice", "secret");
    // The answer's bytes: a parsed message only points into them.
    const auto ask = [&](Time now) {
        const auto request = session.request(
            Method::allocate, [](stun::MessageBuilder& b) { b.add_requested_transport(stun::transport_udp); });
        Output output = core.on_client_datagram(Datagram{address, server, request}, now);
        // A new allocation's success is the socket server's to send (RelayOpening).
        for (const RelayOpening& opening : output.relays_opened) output.datagrams.push_back(opening.success);
        BOOST_TEST_REQUIRE(!output.datagrams.empty());
        return output.datagrams.front().payload;
    };
    const auto error_of = [](const stun::Message& answer) {
        const stun::Attribute* error = answer.find(attribute::error_code);
        return error == nullptr ? 0 : stun::decode_error_code(*error)->code;
    };
    BOOST_TEST(!session.signs());
    const auto challenge = ask(0ms);
    BOOST_TEST(error_of(*stun::parse(challenge)) == 401);
    BOOST_TEST(session.take_challenge(*stun::parse(challenge)));
    BOOST_TEST(session.signs());
    const auto granted = ask(1ms);
    BOOST_TEST(stun::parse(granted)->is(Method::allocate, Class::success));
    BOOST_TEST((stun::parse(granted)->transaction == session.transaction()));
    BOOST_TEST(!session.take_challenge(*stun::parse(granted)));

    const auto stale = ask(2h);
    BOOST_TEST(error_of(*stun::parse(stale)) == 438);
    BOOST_TEST(session.take_challenge(*stun::parse(stale)));
    const auto again = ask(2h + 1ms);
    // Signed with the new nonce, granted anew: the first allocation's 600 s
    // are long over.
    BOOST_TEST(stun::parse(again)->is(Method::allocate, Class::success));
    BOOST_TEST(!session.take_challenge(*stun::parse(again)));
}

BOOST_AUTO_TEST_CASE(other_credentials_on_an_allocation_get_441) {
    Core core(test_config());
    const TransportAddress address = TransportAddress::v4(0xC6336407, 40000);
    Client alice(core, address);
    alice.allocate();
    Client bob(core, address, "bob", "hunter2");  // the same 5-tuple, another user
    BOOST_TEST(bob.bind(0x4000, peer).error == 441);
    BOOST_TEST(bob.refresh(0).error == 441);
    BOOST_TEST(core.allocations() == 1u);
}

BOOST_AUTO_TEST_CASE(quota_and_capacity) {
    CoreConfig config = test_config();
    config.allocations_per_user = 1;
    config.port_max = config.port_min + 1;  // two relayed ports in all
    Core core(config);
    Client first(core, TransportAddress::v4(0xC6336407, 40000));
    Client second(core, TransportAddress::v4(0xC6336407, 40001));
    BOOST_TEST(first.allocate().message->is(Method::allocate, Class::success));
    BOOST_TEST(second.allocate().error == 486);
    Client bob(core, TransportAddress::v4(0xC6336408, 40000), "bob", "hunter2");
    BOOST_TEST(bob.allocate().message->is(Method::allocate, Class::success));
    CoreConfig tiny = test_config();
    tiny.port_max = tiny.port_min;
    Core full(tiny);
    Client a(full, TransportAddress::v4(0xC6336407, 40000)), b(full, TransportAddress::v4(0xC6336407, 40001));
    a.allocate();
    BOOST_TEST(b.allocate().error == 508);
}

// For any sequence of allocations, binds, refreshes and clock steps, the
// events applied in order give exactly the core's live bindings: what the
// XDP maps would hold if map sync applied them (field notes, bug class 14).
// As RapidCheck state-machine commands: the model keeps the clock; what the
// core answers is the core's to say, and the invariant is checked on the
// system after every command.
namespace binding_events {

struct Model {
    Time now = 0ms;
};

struct System {
    Core core{test_config()};
    std::vector<Client> clients;
    BindingTable maps;  // the events applied in order

    System() {
        for (std::uint16_t port : {40000, 40001, 40002})
            clients.emplace_back(core, TransportAddress::v4(0xC6336407, port));
    }
    void apply(const Output& output) {
        for (const BindingEvent& event : output.events) {
            if (event.kind == BindingEventKind::removed)
                maps.erase(event.key);
            else
                maps.insert_or_assign(event.key, event.target);
        }
        RC_ASSERT(maps == core.live_bindings());
    }
};

using Command = rc::state::Command<Model, System>;

// A command one of the three clients sends, at the model's time.
struct ClientCommand : Command {
    std::size_t client = *rc::gen::inRange<std::size_t>(0, 3);
    Client& sender(const Model& model, System& system) const {
        Client& chosen = system.clients[client];
        chosen.now = model.now;
        return chosen;
    }
    void show_as(std::ostream& os, const char* what) const { os << what << " from client " << client; }
};

struct Allocate : ClientCommand {
    unsigned lifetime = *rc::gen::element(0u, 60u, 700u);
    void run(const Model& model, System& system) const override {
        system.apply(sender(model, system).allocate(lifetime).output);
    }
    void show(std::ostream& os) const override { show_as(os, ("Allocate " + std::to_string(lifetime) + " s").c_str()); }
};

struct Bind : ClientCommand {
    std::uint16_t channel = *rc::gen::element<std::uint16_t>(0x4000, 0x4001, 0x4FFF);
    bool other = *rc::gen::arbitrary<bool>();
    void run(const Model& model, System& system) const override {
        system.apply(sender(model, system).bind(channel, other ? other_peer : peer).output);
    }
    void show(std::ostream& os) const override { show_as(os, other ? "ChannelBind (other peer)" : "ChannelBind"); }
};

struct Refresh : ClientCommand {
    unsigned lifetime = *rc::gen::element(0u, 600u);
    void run(const Model& model, System& system) const override {
        system.apply(sender(model, system).refresh(lifetime).output);
    }
    void show(std::ostream& os) const override { show_as(os, ("Refresh " + std::to_string(lifetime) + " s").c_str()); }
};

struct Send : ClientCommand {
    void run(const Model& model, System& system) const override {
        system.apply(sender(model, system).send(channel_data(0x4000, {1})).output);
    }
    void show(std::ostream& os) const override { show_as(os, "ChannelData on 0x4000"); }
};

struct Permit : ClientCommand {
    bool other = *rc::gen::arbitrary<bool>();
    void run(const Model& model, System& system) const override {
        system.apply(sender(model, system).permit(other ? other_peer : peer).output);
    }
    void show(std::ostream& os) const override {
        show_as(os, other ? "CreatePermission (other peer)" : "CreatePermission");
    }
};

struct ForgetNonce : ClientCommand {
    void run(const Model& model, System& system) const override { sender(model, system).forget_nonce(); }
    void show(std::ostream& os) const override { show_as(os, "forget the nonce"); }
};

// The clock moves on: lifetimes and cooldowns end on either side of it.
struct Tick : Command {
    int seconds = *rc::gen::element(1, 299, 301, 601);
    void apply(Model& model) const override { model.now += std::chrono::seconds(seconds); }
    void run(const Model& model, System& system) const override {
        system.apply(system.core.on_tick(model.now + std::chrono::seconds(seconds)));
    }
    void show(std::ostream& os) const override { os << "Tick " << seconds << " s"; }
};

}  // namespace binding_events

RC_BOOST_PROP(binding_events_keep_the_maps_in_sync, ()) {
    using namespace binding_events;
    System system;
    rc::state::check(Model{}, system,
                     rc::state::gen::execOneOfWithArgs<Allocate, Bind, Refresh, Send, Permit, Tick, ForgetNonce>());
}
