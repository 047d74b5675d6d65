// The binding learner of replay --learn: binds, refreshes, deletions and
// expiry in both families, binds in flight and the frames on them, and
// requests nobody answers.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE binding_learner
#include <boost/test/unit_test.hpp>

#include "harness/frames/frame_builder.hpp"
#include "harness/replay/binding_learner.hpp"
#include "relay/turn/stun.hpp"

using namespace xdpturn;

namespace {

// A UDP frame between a client and the relay's TURN port (127.0.0.1, or
// ::1 for an IPv6 client).
std::vector<std::uint8_t> stun_frame(const Endpoint& client, bool from_server, std::vector<std::uint8_t> message) {
    const IpAddress server = client.address.is_v4() ? IpAddress{Ipv4Address{0x7F000001}} : *parse_ip("::1");
    FrameSpec spec;
    spec.channel_data = false;
    spec.raw_udp_payload = std::move(message);
    spec.ip_source = from_server ? server : client.address;
    spec.ip_destination = from_server ? client.address : server;
    spec.udp_source = from_server ? 3478 : client.port;
    spec.udp_destination = from_server ? client.port : 3478;
    return build_frame(spec);
}

// A client's allocation on relayed port 49152, as the learner sees it answered.
void allocate_49152(BindingLearner& learner, const Endpoint& client, std::uint64_t now) {
    using namespace stun;
    learner.observe(
        stun_frame(client, true,
                   MessageBuilder(Method::allocate, Class::success, TransactionId{1})
                       .add_xor_address(attribute::xor_relayed_address, TransportAddress::v4(0x7F000001, 49152))
                       .finish()),
        now);
}

}  // namespace

BOOST_AUTO_TEST_CASE(learner_binds_refreshes_deletes_and_expires) {
    using namespace stun;
    const Endpoint client{Ipv4Address{0x7F000001}, 40000};
    const TransactionId allocate_id{1}, bind_id{2}, refresh_id{3};
    BindingLearner learner(3478, {});
    std::uint64_t now = 1'000'000;
    const auto allocate = MessageBuilder(Method::allocate, Class::success, allocate_id)
                              .add_xor_address(attribute::xor_relayed_address, TransportAddress::v4(0x7F000001, 49152))
                              .add_u32(attribute::lifetime, 600)
                              .finish();
    BOOST_TEST(!learner.observe(stun_frame(client, true, allocate), now));
    const auto bind = MessageBuilder(Method::channel_bind, Class::request, bind_id)
                          .add_channel_number(0x4001)
                          .add_xor_address(attribute::xor_peer_address, TransportAddress::v4(0x7F000002, 6000))
                          .finish();
    BOOST_TEST(!learner.observe(stun_frame(client, false, bind), now));  // a request alone binds nothing
    const auto bound = MessageBuilder(Method::channel_bind, Class::success, bind_id).finish();
    BOOST_TEST(learner.observe(stun_frame(client, true, bound), now));
    BOOST_TEST_REQUIRE(learner.table().size() == 1u);
    const auto& [key, target] = *learner.table().begin();
    BOOST_TEST(key.channel == 0x4001);
    BOOST_TEST(target.allocation_port == 49152);
    BOOST_TEST(target.peer.port == 6000);

    // A response nobody asked for binds nothing.
    const auto stray = MessageBuilder(Method::channel_bind, Class::success, TransactionId{9}).finish();
    BOOST_TEST(!learner.observe(stun_frame(client, true, stray), now));
    BOOST_TEST(learner.stats().unmatched_responses == 1u);

    // The channel binding lasts 600 s.
    BOOST_TEST(!learner.observe(stun_frame(client, false, bind), now + 599'000'000));
    BOOST_TEST(learner.observe(stun_frame(client, false, bind), now + 600'000'000));
    BOOST_TEST(learner.table().empty());
    BOOST_TEST(learner.stats().bindings_expired == 1u);

    // Bound again, then deleted with its allocation by Refresh lifetime 0.
    now += 600'000'000;
    learner.observe(stun_frame(client, true, allocate), now);
    learner.observe(stun_frame(client, false, bind), now);
    BOOST_TEST(learner.observe(stun_frame(client, true, bound), now));
    const auto refresh0 =
        MessageBuilder(Method::refresh, Class::success, refresh_id).add_u32(attribute::lifetime, 0).finish();
    BOOST_TEST(learner.observe(stun_frame(client, true, refresh0), now + 1));
    BOOST_TEST(learner.table().empty());
    BOOST_TEST(learner.stats().allocations_deleted == 1u);
}

// IPv6 clients, allocations and peers are learned as IPv4 ones are, with
// their 16-byte addresses; a bind on an allocation the capture never showed
// is counted, not guessed.
BOOST_AUTO_TEST_CASE(learner_learns_ipv6_bindings) {
    using namespace stun;
    const Endpoint client{*parse_ip("2001:db8:c::7"), 40000};
    TransportAddress relayed;
    relayed.ipv6 = true;
    relayed.address = {0x20, 0x01, 0x0D, 0xB8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    relayed.port = 49152;
    TransportAddress peer = relayed;
    peer.address[15] = 9;
    peer.port = 6000;
    BindingLearner learner(3478, {});
    const std::uint64_t now = 1'000'000;
    const auto bind = MessageBuilder(Method::channel_bind, Class::request, TransactionId{2})
                          .add_channel_number(0x4001)
                          .add_xor_address(attribute::xor_peer_address, peer)
                          .finish();
    const auto bound = MessageBuilder(Method::channel_bind, Class::success, TransactionId{2}).finish();
    learner.observe(stun_frame(client, false, bind), now);
    BOOST_TEST(!learner.observe(stun_frame(client, true, bound), now));
    BOOST_TEST(learner.stats().without_allocation == 1u);

    learner.observe(stun_frame(client, true,
                               MessageBuilder(Method::allocate, Class::success, TransactionId{1})
                                   .add_xor_address(attribute::xor_relayed_address, relayed)
                                   .finish()),
                    now);
    learner.observe(stun_frame(client, false, bind), now);
    BOOST_TEST(learner.observe(stun_frame(client, true, bound), now));
    BOOST_TEST_REQUIRE(learner.table().size() == 1u);
    const auto& [key, target] = *learner.table().begin();
    BOOST_TEST((key == BindingKey{client, 0x4001}));
    BOOST_TEST(to_string(target.peer) == "[2001:db8:1::9]:6000");
    BOOST_TEST(target.allocation_port == 49152);
}

// Between a ChannelBind request and its answer the bind is "in flight":
// for its client key and for its peer on the allocation, for a few seconds,
// and only while it would change the table.
BOOST_AUTO_TEST_CASE(learner_knows_binds_in_flight) {
    using namespace stun;
    const Endpoint client{Ipv4Address{0x7F000001}, 40000};
    const BindingKey key{client, 0x4001};
    const PeerKey peer{Endpoint{Ipv4Address{0x7F000002}, 6000}, 49152};
    BindingLearner learner(3478, {});
    const std::uint64_t now = 1'000'000;
    allocate_49152(learner, client, now);
    const auto bind = MessageBuilder(Method::channel_bind, Class::request, TransactionId{2})
                          .add_channel_number(0x4001)
                          .add_xor_address(attribute::xor_peer_address, TransportAddress::v4(0x7F000002, 6000))
                          .finish();
    BOOST_TEST(!learner.bind_in_flight(key, now));
    learner.observe(stun_frame(client, false, bind), now);
    BOOST_TEST(learner.bind_in_flight(key, now + 1));
    BOOST_TEST(learner.bind_in_flight(peer, now + 1));
    BOOST_TEST(!learner.bind_in_flight(PeerKey{peer.peer, 49153}, now + 1));
    BOOST_TEST(!learner.bind_in_flight(key, now + BindingLearner::in_flight_window_us + 1));
    learner.observe(
        stun_frame(client, true, MessageBuilder(Method::channel_bind, Class::success, TransactionId{2}).finish()),
        now + 2);
    BOOST_TEST(!learner.bind_in_flight(key, now + 2));
    // A refresh of the same binding changes nothing: not in flight.
    learner.observe(stun_frame(client, false, bind), now + 3);
    BOOST_TEST(!learner.bind_in_flight(key, now + 3));
}

// The frames on a bind in flight are known by their lookup key in either
// family: a client's ChannelData by (client, channel), a peer's datagram by
// (peer, allocation port). An IPv4-only reading of the frame (the replay
// run's, once) finds nothing in flight on an IPv6 capture.
BOOST_AUTO_TEST_CASE(learner_knows_frames_on_binds_in_flight_in_both_families) {
    using namespace stun;
    for (const IpAddress& client_address : {IpAddress{Ipv4Address{0x7F000001}}, *parse_ip("::1")}) {
        BOOST_TEST_CONTEXT("client " << (client_address.is_v4() ? "IPv4" : "IPv6")) {
            const Endpoint client{client_address, 40000};
            const bool v4 = client_address.is_v4();
            TransportAddress peer_address = TransportAddress::v4(0x7F000002, 6000);
            IpAddress peer_ip{Ipv4Address{0x7F000002}};
            if (!v4) {
                peer_address.ipv6 = true;
                peer_address.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
                peer_ip = *parse_ip("::2");
            }
            BindingLearner learner(3478, {});
            const std::uint64_t now = 1'000'000;
            allocate_49152(learner, client, now);
            learner.observe(stun_frame(client, false,
                                       MessageBuilder(Method::channel_bind, Class::request, TransactionId{2})
                                           .add_channel_number(0x4001)
                                           .add_xor_address(attribute::xor_peer_address, peer_address)
                                           .finish()),
                            now);
            FrameSpec channel_data;
            channel_data.ip_source = client.address;
            channel_data.ip_destination = v4 ? IpAddress{Ipv4Address{0x7F000001}} : *parse_ip("::1");
            channel_data.udp_source = client.port;
            channel_data.channel = 0x4001;
            channel_data.application_data = {1, 2, 3, 4};
            FrameSpec from_peer = channel_data;
            from_peer.channel_data = false;
            from_peer.raw_udp_payload = {1, 2, 3, 4};
            from_peer.ip_source = peer_ip;
            from_peer.udp_source = 6000;
            from_peer.udp_destination = 49152;
            BOOST_TEST(learner.bind_in_flight(build_frame(channel_data), now + 1));
            BOOST_TEST(learner.bind_in_flight(build_frame(from_peer), now + 1));
            channel_data.channel = 0x4002;
            BOOST_TEST(!learner.bind_in_flight(build_frame(channel_data), now + 1));
            learner.observe(stun_frame(client, true,
                                       MessageBuilder(Method::channel_bind, Class::success, TransactionId{2}).finish()),
                            now + 2);
            BOOST_TEST(!learner.bind_in_flight(build_frame(from_peer), now + 2));
        }
    }
}

// Requests nobody answers do not pile up: once many are pending, those older
// than a STUN transaction's timeout are forgotten, and a late answer to one
// binds nothing.
BOOST_AUTO_TEST_CASE(learner_forgets_unanswered_binds) {
    using namespace stun;
    const Endpoint client{Ipv4Address{0x7F000001}, 40000};
    BindingLearner learner(3478, {});
    const std::uint64_t start = 1'000'000;
    allocate_49152(learner, client, start);
    auto request = [&](std::uint32_t n, std::uint64_t at) {
        TransactionId id{};
        for (std::size_t i = 0; i < 4; ++i) id[i] = static_cast<std::uint8_t>(n >> (8 * i));
        id[4] = 0xAB;
        learner.observe(
            stun_frame(client, false,
                       MessageBuilder(Method::channel_bind, Class::request, id)
                           .add_channel_number(0x4001)
                           .add_xor_address(attribute::xor_peer_address, TransportAddress::v4(0x7F000002, 6000))
                           .finish()),
            at);
        return id;
    };
    const TransactionId first = request(0, start);
    for (std::uint32_t n = 1; n <= BindingLearner::forget_above; ++n)
        request(n, start + BindingLearner::transaction_timeout_us + n);
    learner.observe(stun_frame(client, true, MessageBuilder(Method::channel_bind, Class::success, first).finish()),
                    start + BindingLearner::transaction_timeout_us + 5000);
    BOOST_TEST(learner.table().empty());
    BOOST_TEST(learner.stats().unmatched_responses == 1u);
}
