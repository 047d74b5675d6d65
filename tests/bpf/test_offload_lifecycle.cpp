// The offload can never outlive or outrun its TURN state (issue 23, item 5).
// RapidCheck's stateful testing drives the sans-IO TURN core, the relay's
// map sync and the real XDP program (BPF_PROG_TEST_RUN) through random
// sequences of Allocate, CreatePermission, ChannelBind, Refresh (LIFETIME 0
// included), Send, time passing past each lifetime, a map too small for
// every binding, and a relay restart. A model written from RFC 8656's
// lifetimes says which channel bindings are live: an allocation whose
// lifetime has not run out, a channel bound less than 600 s ago, a
// permission for its peer's IP refreshed less than 300 s ago. After every
// command:
//   - the kernel's two maps hold exactly the live bindings (both
//     directions, both families, across families), or as many of them as
//     fit when the map is full, never one that is not live;
//   - a frame for every binding ever made that is not in the maps (both
//     directions) is passed to user space, and one for every binding the
//     maps hold is relayed.
// The model learns from the core only what the core decides at will (which
// relayed port, whether a request was refused), never what is live.
// The same property must fail when the relay's shell skips the deletions.
#include <rapidcheck.h>
#include <rapidcheck/state.h>
#include <boost/test/unit_test.hpp>

#include <bpf/bpf.h>

#include <map>
#include <memory>
#include <set>

#include "../unit/turn_client.hpp"
#include "harness/frames/frame_builder.hpp"
#include "harness/xdp/map_sync.hpp"
#include "harness/xdp/prog_test_run.hpp"

using namespace xdpturn;
using namespace xdpturn::testing;

namespace {

const TransportAddress relay4 = TransportAddress::v4(0xC0000201, 3478);  // 192.0.2.1
TransportAddress v6(std::uint8_t last, std::uint16_t port, std::uint8_t subnet = 1) {
    TransportAddress address;
    address.ipv6 = true;
    address.address = {0x20, 0x01, 0x0d, 0xb8, 0, subnet, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
    address.port = port;
    return address;
}
const TransportAddress relay6 = v6(1, 3478);  // 2001:db8:1::1

// Two IPv4 and two IPv6 clients; two peers of each family.
constexpr int client_count = 4;
constexpr int peer_count = 4;
TransportAddress client_address(int index) {
    return index < 2 ? TransportAddress::v4(0xC6336407 + static_cast<std::uint32_t>(index), 40000)
                     : v6(static_cast<std::uint8_t>(7 + index), 40000, 3);
}
TransportAddress peer_address(int index) {
    const auto port = static_cast<std::uint16_t>(6000 + 1000 * (index % 2));
    return index < 2 ? TransportAddress::v4(0xCB007109 + static_cast<std::uint32_t>(index), port)
                     : v6(static_cast<std::uint8_t>(9 + index), port, 2);
}
constexpr std::uint16_t first_channel = 0x4000;
constexpr int channel_count = 3;

CoreConfig lifecycle_config() {
    CoreConfig config = test_config();
    config.relay_address = relay4;
    config.relay_address6 = relay6;
    config.relay_address6->port = 0;
    config.relay_address.port = 0;
    config.keep_client_family = true;
    config.listening = {relay4, relay6};
    config.allowed_peers = {*parse_cidr("203.0.113.0/24"), *parse_cidr("2001:db8:2::/48")};
    return config;
}

DatapathConfig program_config(const CoreConfig& core) {
    DatapathConfig config;
    config.turn_port = 3478;
    config.relay_ports = PortRange{core.port_min, core.port_max};
    config.relay_ipv4 = endpoint_of(relay4).address;
    config.relay_ipv6 = endpoint_of(relay6).address;
    return config;
}

// What RFC 8656 keeps of one allocation.
struct ModelAllocation {
    bool relayed_ipv6 = false;
    std::uint16_t port = 0;  // chosen by the relay
    Time expires{};
    std::map<int, Time> permissions;                         // peer index (one IP each) -> expiry
    std::map<std::uint16_t, std::pair<int, Time>> channels;  // number -> peer index, expiry
};

// The model: allocations by client index, and the time.
struct Model {
    Time now{};
    std::map<int, ModelAllocation> allocations;
    std::set<std::pair<int, std::uint16_t>> ever_bound;  // (client, channel)

    bool alive(int client) const {
        const auto allocation = allocations.find(client);
        return allocation != allocations.end() && allocation->second.expires > now;
    }
    BindingTable live() const {
        BindingTable table;
        for (const auto& [client, allocation] : allocations) {
            if (allocation.expires <= now) continue;
            for (const auto& [number, channel] : allocation.channels) {
                const auto permission = allocation.permissions.find(channel.first);
                if (channel.second <= now || permission == allocation.permissions.end() || permission->second <= now)
                    continue;
                table.emplace(BindingKey{endpoint_of(client_address(client)), number},
                              BindingTarget{allocation.port, endpoint_of(peer_address(channel.first))});
            }
        }
        return table;
    }
};

// The relay: its core, the program its map sync keeps, and its clients.
struct Relay {
    bool skip_deletes = false;  // the planted defect: a shell that drops removals
    std::size_t capacity = XDPTURN_MAX_BINDINGS;
    CoreConfig config = lifecycle_config();
    std::unique_ptr<Core> core;
    std::unique_ptr<XdpProgram> program;
    std::unique_ptr<MapSync> sync;
    std::map<int, std::unique_ptr<Client>> clients;
    Model model;

    void start() {
        sync.reset();
        program.reset();
        core = std::make_unique<Core>(config);
        auto loaded = XdpProgram::load_builtin(program_config(config));
        RC_ASSERT(loaded.ok());
        program = std::make_unique<XdpProgram>(std::move(loaded).value());
        sync = std::make_unique<MapSync>(*program, capacity);
        clients.clear();
        const Time now = model.now;
        model = Model{};
        model.now = now;
    }
    Client& client(int index) {
        auto& slot = clients[index];
        if (!slot) {
            slot = std::make_unique<Client>(*core, client_address(index));
            slot->to_server = client_address(index).ipv6 ? relay6 : relay4;
        }
        slot->now = model.now;
        slot->forget_nonce();  // a fresh one each time: time may have run past its hour
        return *slot;
    }
    void feed(const std::vector<BindingEvent>& events) {
        std::vector<BindingChange> changes = binding_changes(events);
        if (skip_deletes) std::erase_if(changes, [](const BindingChange& change) { return !change.target; });
        const auto applied = sync->apply_changes(changes);
        RC_ASSERT(applied.ok());
    }
};

using Command = rc::state::Command<Model, Relay>;

// The invariant, checked after every command on the relay's own model.
void check_offload(Relay& relay) {
    const BindingTable live = relay.model.live();
    BindingTable in_kernel;
    xdpturn_binding_key key{}, next{};
    const int bindings = relay.program->bindings_fd();
    for (void* previous = nullptr; bpf_map_get_next_key(bindings, previous, &next) == 0; previous = &key) {
        key = next;
        xdpturn_binding_value value{};
        RC_ASSERT(bpf_map_lookup_elem(bindings, &key, &value) == 0);
        const xdpturn_peer_value as_reverse{{}, key.client_port, key.channel};
        xdpturn_peer_value reverse_value = as_reverse;
        std::memcpy(reverse_value.client_addr, key.client_addr, sizeof(key.client_addr));
        const BindingKey binding = from_abi(reverse_value);
        const auto wanted = live.find(binding);
        RC_ASSERT(wanted != live.end());  // nothing the model calls dead
        RC_ASSERT(to_abi(wanted->second).allocation_port == value.allocation_port);
        RC_ASSERT(std::memcmp(to_abi(wanted->second).peer_addr, value.peer_addr, sizeof(value.peer_addr)) == 0);
        RC_ASSERT(to_abi(wanted->second).peer_port == value.peer_port);
        // ... and its reverse entry, the peer -> client direction.
        const xdpturn_peer_key peer_key = to_abi(peer_key_of(wanted->second));
        xdpturn_peer_value reverse{};
        RC_ASSERT(bpf_map_lookup_elem(relay.program->channels_fd(), &peer_key, &reverse) == 0);
        RC_ASSERT(from_abi(reverse) == binding);
        in_kernel.emplace(binding, wanted->second);
    }
    RC_ASSERT(in_kernel.size() == std::min(live.size(), relay.sync->capacity()));
    std::size_t reverse_entries = 0;
    xdpturn_peer_key peer_key{}, next_peer{};
    for (void* previous = nullptr; bpf_map_get_next_key(relay.program->channels_fd(), previous, &next_peer) == 0;
         previous = &peer_key) {
        peer_key = next_peer;
        ++reverse_entries;
    }
    RC_ASSERT(reverse_entries == in_kernel.size());

    // Frames: every binding ever made, both directions.
    ProgTestRunner runner(*relay.program);
    XdpRun run;
    for (const auto& [client, number] : relay.model.ever_bound) {
        const BindingKey binding{endpoint_of(client_address(client)), number};
        FrameSpec to_peer;
        to_peer.ip_source = binding.client.address;
        to_peer.ip_destination = endpoint_of(client_address(client).ipv6 ? relay6 : relay4).address;
        to_peer.udp_source = binding.client.port;
        to_peer.channel = number;
        to_peer.application_data = {1, 2, 3, 4};
        RC_ASSERT(runner.run(build_frame(to_peer), CounterCheck::last_reason_only, run).ok());
        const auto offloaded = in_kernel.find(binding);
        RC_ASSERT((run.verdict == Verdict::tx) == (offloaded != in_kernel.end()));
    }
    for (const auto& [client, allocation] : relay.model.allocations)
        for (int peer = 0; peer < peer_count; ++peer) {
            const TransportAddress from = peer_address(peer);
            if (from.ipv6 != allocation.relayed_ipv6) continue;
            FrameSpec to_client;
            to_client.ip_source = endpoint_of(from).address;
            to_client.ip_destination = endpoint_of(allocation.relayed_ipv6 ? relay6 : relay4).address;
            to_client.udp_source = from.port;
            to_client.udp_destination = allocation.port;
            to_client.channel_data = false;
            to_client.raw_udp_payload = {9, 8, 7};
            RC_ASSERT(runner.run(build_frame(to_client), CounterCheck::last_reason_only, run).ok());
            // A key of its own: clang 14 cannot capture a structured binding.
            const PeerKey peer_key{endpoint_of(from), allocation.port};
            const bool bound = std::any_of(in_kernel.begin(), in_kernel.end(),
                                           [&](const auto& entry) { return peer_key_of(entry.second) == peer_key; });
            RC_ASSERT((run.verdict == Verdict::tx) == bound);
        }
}

void run_and_check(Relay& relay, const Reply& reply) {
    relay.feed(reply.output.events);
    check_offload(relay);
}

bool succeeded(const Reply& reply) {
    return reply.message && reply.message->message_class == Class::success;
}

struct Allocate : Command {
    int client = *rc::gen::inRange(0, client_count);
    bool other_family = *rc::gen::arbitrary<bool>();
    void apply(Model&) const override {}
    void run(const Model&, Relay& relay) const override {
        const bool relayed_ipv6 = client_address(client).ipv6 != other_family;
        const std::vector<std::uint8_t> family{static_cast<std::uint8_t>(relayed_ipv6 ? 0x02 : 0x01), 0, 0, 0};
        const Reply reply = relay.client(client).request(Method::allocate, [&](stun::MessageBuilder& b) {
            b.add_requested_transport(stun::transport_udp).add(attribute::requested_address_family, family);
        });
        // A live allocation is never made twice (437); a dead one is gone.
        RC_ASSERT(succeeded(reply) == !relay.model.alive(client));
        if (succeeded(reply)) {
            const auto relayed = stun::decode_xor_address(*reply.message->find(attribute::xor_relayed_address),
                                                          reply.message->transaction);
            RC_ASSERT(relayed.ok() && relayed->ipv6 == relayed_ipv6);
            relay.model.allocations[client] =
                ModelAllocation{relayed_ipv6, relayed->port, relay.model.now + default_allocation_lifetime, {}, {}};
        }
        run_and_check(relay, reply);
    }
    void show(std::ostream& os) const override {
        os << "Allocate(client " << client << (other_family ? ", other family)" : ")");
    }
};

struct Permit : Command {
    int client = *rc::gen::inRange(0, client_count);
    int peer = *rc::gen::inRange(0, peer_count);
    void apply(Model&) const override {}
    void run(const Model&, Relay& relay) const override {
        const Reply reply = relay.client(client).permit(peer_address(peer));
        const bool alive = relay.model.alive(client);
        RC_ASSERT(!succeeded(reply) || alive);
        if (succeeded(reply)) {
            ModelAllocation& allocation = relay.model.allocations.at(client);
            RC_ASSERT(allocation.relayed_ipv6 == peer_address(peer).ipv6);
            allocation.permissions[peer] = relay.model.now + permission_lifetime;
        }
        run_and_check(relay, reply);
    }
    void show(std::ostream& os) const override {
        os << "CreatePermission(client " << client << ", peer " << peer << ")";
    }
};

struct Bind : Command {
    int client = *rc::gen::inRange(0, client_count);
    std::uint16_t number = static_cast<std::uint16_t>(first_channel + *rc::gen::inRange(0, channel_count));
    int peer = *rc::gen::inRange(0, peer_count);
    void apply(Model&) const override {}
    void run(const Model&, Relay& relay) const override {
        const Reply reply = relay.client(client).bind(number, peer_address(peer));
        RC_ASSERT(!succeeded(reply) || relay.model.alive(client));
        if (succeeded(reply)) {
            ModelAllocation& allocation = relay.model.allocations.at(client);
            RC_ASSERT(allocation.relayed_ipv6 == peer_address(peer).ipv6);
            allocation.channels[number] = {peer, relay.model.now + channel_lifetime};
            allocation.permissions[peer] = relay.model.now + permission_lifetime;
            relay.model.ever_bound.insert({client, number});
        }
        run_and_check(relay, reply);
    }
    void show(std::ostream& os) const override {
        os << "ChannelBind(client " << client << ", 0x" << std::hex << number << std::dec << ", peer " << peer << ")";
    }
};

struct Refresh : Command {
    int client = *rc::gen::inRange(0, client_count);
    std::uint32_t lifetime = *rc::gen::element<std::uint32_t>(0, 1, 600, 3600, 7200);
    void apply(Model&) const override {}
    void run(const Model&, Relay& relay) const override {
        const Reply reply = relay.client(client).refresh(lifetime);
        RC_ASSERT(succeeded(reply) == relay.model.alive(client));
        if (succeeded(reply)) {
            if (lifetime == 0) {
                relay.model.allocations.erase(client);
            } else {
                const Time granted = std::clamp<Time>(std::chrono::seconds(lifetime), default_allocation_lifetime,
                                                      max_allocation_lifetime);
                relay.model.allocations.at(client).expires = relay.model.now + granted;
            }
        }
        run_and_check(relay, reply);
    }
    void show(std::ostream& os) const override { os << "Refresh(client " << client << ", " << lifetime << " s)"; }
};

// A Send indication changes no binding; it reaches a peer with a permission.
struct Send : Command {
    int client = *rc::gen::inRange(0, client_count);
    int peer = *rc::gen::inRange(0, peer_count);
    void apply(Model&) const override {}
    void run(const Model&, Relay& relay) const override {
        const Reply reply =
            relay.client(client).send(stun::MessageBuilder(Method::send, Class::indication, {5})
                                          .add_xor_address(attribute::xor_peer_address, peer_address(peer))
                                          .add(attribute::data, std::vector<std::uint8_t>{1, 2})
                                          .finish());
        const auto allocation = relay.model.allocations.find(client);
        const bool permitted = relay.model.alive(client) && allocation->second.permissions.contains(peer) &&
                               allocation->second.permissions.at(peer) > relay.model.now;
        RC_ASSERT(reply.output.datagrams.size() == (permitted ? 1u : 0u));
        run_and_check(relay, reply);
    }
    void show(std::ostream& os) const override { os << "Send(client " << client << ", peer " << peer << ")"; }
};

// Time passes to just before or just past a lifetime.
struct Wait : Command {
    Time step = *rc::gen::element<Time>(1s, 299s, 301s, 599s, 601s, 3601s);
    void apply(Model&) const override {}
    void run(const Model&, Relay& relay) const override {
        relay.model.now += step;
        const Output output = relay.core->on_tick(relay.model.now);
        std::erase_if(relay.model.allocations,
                      [&](const auto& entry) { return entry.second.expires <= relay.model.now; });
        relay.feed(output.events);
        check_offload(relay);
    }
    void show(std::ostream& os) const override { os << "Wait(" << step.count() / 1000 << " s)"; }
};

// The relay process dies and starts again: no allocation survives, and the
// new program's maps start empty.
struct Restart : Command {
    void apply(Model&) const override {}
    void run(const Model&, Relay& relay) const override {
        relay.start();
        check_offload(relay);
    }
    void show(std::ostream& os) const override { os << "Restart"; }
};

// One sequence: a map of any size down to one binding, then the commands.
void lifecycle_property(bool skip_deletes) {
    Relay relay;
    relay.skip_deletes = skip_deletes;
    relay.capacity = *rc::gen::element<std::size_t>(1, 2, 3, XDPTURN_MAX_BINDINGS);
    relay.start();
    rc::state::check(Model{}, relay,
                     rc::state::gen::execOneOfWithArgs<Allocate, Allocate, Permit, Bind, Bind, Bind, Refresh, Send,
                                                       Wait, Wait, Restart>());
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_maps_hold_exactly_the_live_bindings) {
    BOOST_TEST(rc::check("the kernel's maps follow the TURN state", [] { lifecycle_property(false); }));
}

// The proof that the property can fail: a shell that skips deletions
// leaves dead bindings in the kernel, relaying for nobody.
BOOST_AUTO_TEST_CASE(a_skipped_deletion_is_caught) {
    BOOST_TEST(!rc::check("a shell that drops removals is caught", [] { lifecycle_property(true); }));
}

namespace {

BindingTable numbered_bindings(std::uint16_t first, std::uint16_t count) {
    BindingTable table;
    for (std::uint16_t i = 0; i < count; ++i)
        table.emplace(BindingKey{endpoint_of(client_address(0)), static_cast<std::uint16_t>(first_channel + first + i)},
                      BindingTarget{50000, Endpoint{IpAddress(Ipv4Address{0xCB007100u + first + i}), 6000}});
    return table;
}

std::size_t entries(int map_fd) {
    std::size_t count = 0;
    std::array<std::uint8_t, 64> key{}, next{};
    for (void* previous = nullptr; bpf_map_get_next_key(map_fd, previous, next.data()) == 0; previous = key.data()) {
        key = next;
        ++count;
    }
    return count;
}

}  // namespace

// Issue 23, item 4: a table too large for the maps is refused only after
// the deletes it implies reached the kernel.
BOOST_AUTO_TEST_CASE(deletes_reach_the_kernel_even_when_the_rest_does_not_fit) {
    auto program = XdpProgram::load_builtin(program_config(lifecycle_config()));
    BOOST_TEST_REQUIRE(program.ok());
    MapSync sync(*program, 2);
    BOOST_TEST_REQUIRE(sync.apply(numbered_bindings(0, 2)).ok());
    BOOST_TEST(!sync.apply(numbered_bindings(2, 3)).ok());
    BOOST_TEST(entries(program->bindings_fd()) == 0u);
    BOOST_TEST(entries(program->channels_fd()) == 0u);
}

// Issue 23, items 3 and 4: one change costs one entry of each map, whatever
// the table's size; a binding that does not fit waits in user space and
// moves in when a delete makes room.
BOOST_AUTO_TEST_CASE(each_change_is_one_map_update_and_full_maps_hold_new_bindings_back) {
    auto program = XdpProgram::load_builtin(program_config(lifecycle_config()));
    BOOST_TEST_REQUIRE(program.ok());
    MapSync sync(*program, 1000);
    std::vector<BindingChange> many;
    for (const auto& [key, target] : numbered_bindings(0, 999)) many.push_back({key, target});
    BOOST_TEST_REQUIRE(sync.apply_changes(many).ok());
    const std::uint64_t before = sync.entries_changed();
    const BindingTable two_more = numbered_bindings(999, 2);
    std::vector<BindingChange> added;
    for (const auto& [key, target] : two_more) added.push_back({key, target});
    BOOST_TEST_REQUIRE(sync.apply_changes(std::span(added).first(1)).ok());
    BOOST_TEST(sync.entries_changed() - before == 2u);  // its binding and its reverse
    BOOST_TEST_REQUIRE(sync.apply_changes(std::span(added).last(1)).ok());
    BOOST_TEST(sync.held_back().size() == 1u);
    BOOST_TEST(entries(program->bindings_fd()) == 1000u);
    // A delete makes room: the held-back binding moves in.
    const BindingChange removal{many.front().key, std::nullopt};
    BOOST_TEST_REQUIRE(sync.apply_changes(std::span(&removal, 1)).ok());
    BOOST_TEST(sync.held_back().empty());
    BOOST_TEST(entries(program->bindings_fd()) == 1000u);
    BOOST_TEST(entries(program->channels_fd()) == 1000u);
    BOOST_TEST(sync.held_back_count() == 1u);
}
