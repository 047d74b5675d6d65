// The pieces of replay that the coturn corpus does not reach on its own:
// every link type, every UDP checksum state, and the learner's deletion and
// expiry rules; and the judging of live captures.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE replay_parts
#include <pcap/dlt.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "harness/cases/fixed_cases.hpp"
#include "harness/frames/frame_builder.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "harness/io/capture_reader.hpp"
#include "harness/io/link_layer.hpp"
#include "harness/replay/binding_learner.hpp"
#include "harness/replay/checksum_offload.hpp"
#include "harness/replay/live_verifier.hpp"
#include "relay/turn/stun.hpp"

using namespace xdpturn;

namespace {

const std::vector<std::uint8_t>& ethernet_frame() {
    return find_fixed_case("relayed/basic")->frame;
}

std::vector<std::uint8_t> network_part() {
    return std::vector<std::uint8_t>(ethernet_frame().begin() + 14, ethernet_frame().end());
}

std::vector<std::uint8_t> convert(int link_type, const std::vector<std::uint8_t>& captured) {
    auto adapter = LinkAdapter::for_link_type(link_type);
    BOOST_TEST_REQUIRE(adapter.ok());
    std::vector<std::uint8_t> scratch;
    auto ethernet = adapter->to_ethernet(captured, scratch);
    BOOST_TEST_REQUIRE(ethernet.ok(), (ethernet.ok() ? "" : ethernet.error().message));
    return {ethernet->begin(), ethernet->end()};
}

void expect_ipv4_payload(const std::vector<std::uint8_t>& converted) {
    BOOST_TEST_REQUIRE(converted.size() == ethernet_frame().size());
    BOOST_TEST(load_be16(converted, 12) == 0x0800);
    BOOST_TEST(std::equal(converted.begin() + 14, converted.end(), ethernet_frame().begin() + 14));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ethernet_frames_pass_through) {
    BOOST_TEST(convert(DLT_EN10MB, ethernet_frame()) == ethernet_frame());
}

BOOST_AUTO_TEST_CASE(linux_cooked_v1_and_v2) {
    std::vector<std::uint8_t> v1 = {0, 0, 0, 1, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0, 0x08, 0x00};
    const auto network = network_part();
    v1.insert(v1.end(), network.begin(), network.end());
    const auto from_v1 = convert(DLT_LINUX_SLL, v1);
    expect_ipv4_payload(from_v1);
    BOOST_TEST(from_v1[6] == 0xaa);  // source MAC from the cooked address

    std::vector<std::uint8_t> v2 = {0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0};
    v2.insert(v2.end(), network.begin(), network.end());
    expect_ipv4_payload(convert(DLT_LINUX_SLL2, v2));
}

BOOST_AUTO_TEST_CASE(raw_ip_and_bsd_loopback) {
    expect_ipv4_payload(convert(DLT_RAW, network_part()));
    std::vector<std::uint8_t> little_endian_family = {2, 0, 0, 0};  // DLT_NULL from an x86 host
    std::vector<std::uint8_t> big_endian_family = {0, 0, 0, 2};
    for (auto header : {little_endian_family, big_endian_family}) {
        const auto network = network_part();
        header.insert(header.end(), network.begin(), network.end());
        expect_ipv4_payload(convert(DLT_NULL, header));
    }
    std::vector<std::uint8_t> ipv6_family = {0, 0, 0, 30};
    ipv6_family.resize(44, 0x60);
    BOOST_TEST(load_be16(convert(DLT_LOOP, ipv6_family), 12) == 0x86DD);
}

BOOST_AUTO_TEST_CASE(unsupported_and_short_frames_say_why) {
    auto unknown = LinkAdapter::for_link_type(147);
    BOOST_TEST_REQUIRE(!unknown.ok());
    BOOST_TEST(unknown.error().message.find("not supported") != std::string::npos);
    auto cooked = LinkAdapter::for_link_type(DLT_LINUX_SLL);
    std::vector<std::uint8_t> scratch;
    BOOST_TEST(!cooked->to_ethernet(std::vector<std::uint8_t>(10, 0), scratch).ok());
    auto null = LinkAdapter::for_link_type(DLT_NULL);
    std::vector<std::uint8_t> unknown_family = {0, 0, 0, 7, 0x45};
    BOOST_TEST(!null->to_ethernet(unknown_family, scratch).ok());
}

BOOST_AUTO_TEST_CASE(udp_checksum_states) {
    BOOST_TEST((classify_udp_checksum(ethernet_frame()) == UdpChecksumState::valid));
    BOOST_TEST((classify_udp_checksum(find_fixed_case("relayed/udp_checksum_zero")->frame) == UdpChecksumState::none));
    BOOST_TEST(
        (classify_udp_checksum(find_fixed_case("relayed/udp_checksum_wrong")->frame) == UdpChecksumState::wrong));
    BOOST_TEST((classify_udp_checksum(find_fixed_case("not_udp/tcp")->frame) == UdpChecksumState::not_applicable));

    // A partial checksum, as checksum offload leaves it: the folded
    // pseudo-header sum. Repair makes it valid again.
    std::vector<std::uint8_t> frame = ethernet_frame();
    const std::size_t udp_length = load_be16(frame, 14 + 20 + 4);
    const std::uint8_t protocol_and_length[] = {0, 17, static_cast<std::uint8_t>(udp_length >> 8),
                                                static_cast<std::uint8_t>(udp_length)};
    const auto pseudo = static_cast<std::uint16_t>(
        textbook_sum(protocol_and_length, textbook_sum(Bytes(frame).subspan(14 + 12, 8), 0)));
    store_be16(frame, 14 + 20 + 6, pseudo);
    BOOST_TEST((classify_udp_checksum(frame) == UdpChecksumState::partial));
    BOOST_TEST(repair_udp_checksum(frame));
    BOOST_TEST(frame == ethernet_frame());
}

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

// Checksum offload leaves IPv6 UDP checksums partial too; the repair uses
// the IPv6 pseudo-header.
BOOST_AUTO_TEST_CASE(ipv6_partial_checksums_are_repaired) {
    const std::vector<std::uint8_t> valid = find_fixed_case("relayed/ipv6_basic")->frame;
    BOOST_TEST((classify_udp_checksum(valid) == UdpChecksumState::valid));
    std::vector<std::uint8_t> frame = valid;
    const std::size_t udp_at = 14 + 40;
    const std::size_t udp_length = load_be16(frame, udp_at + 4);
    const auto pseudo =
        static_cast<std::uint16_t>(textbook_udp6_pseudo_header_sum(Bytes(frame).subspan(14), udp_length));
    store_be16(frame, udp_at + 6, pseudo);
    BOOST_TEST((classify_udp_checksum(frame) == UdpChecksumState::partial));
    BOOST_TEST(repair_udp_checksum(frame));
    BOOST_TEST(frame == valid);
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

namespace {

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// A minimal little-endian pcapng file: Section Header, Interface Description
// (Ethernet) and one Enhanced Packet block per frame.
std::vector<std::uint8_t> pcapng_of(const std::vector<std::vector<std::uint8_t>>& frames) {
    std::vector<std::uint8_t> file;
    put_le32(file, 0x0A0D0D0A);  // SHB
    put_le32(file, 28);
    put_le32(file, 0x1A2B3C4D);  // byte-order magic
    put_le32(file, 0x00000001);  // version 1.0
    put_le32(file, 0xFFFFFFFF);  // section length: unknown
    put_le32(file, 0xFFFFFFFF);
    put_le32(file, 28);
    put_le32(file, 0x00000001);  // IDB
    put_le32(file, 20);
    put_le32(file, 1);  // link type Ethernet, reserved
    put_le32(file, 65535);
    put_le32(file, 20);
    for (const auto& frame : frames) {
        const auto padded = static_cast<std::uint32_t>((frame.size() + 3) & ~std::size_t{3});
        put_le32(file, 0x00000006);  // EPB
        put_le32(file, 32 + padded);
        put_le32(file, 0);  // interface
        put_le32(file, 0);  // timestamp high
        put_le32(file, 1000000);
        put_le32(file, static_cast<std::uint32_t>(frame.size()));
        put_le32(file, static_cast<std::uint32_t>(frame.size()));
        file.insert(file.end(), frame.begin(), frame.end());
        file.resize(file.size() + (padded - frame.size()), 0);
        put_le32(file, 32 + padded);
    }
    return file;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pcapng_files_are_read_like_pcap) {
    const std::string path = std::string(XDPTURN_ARTIFACT_DIR) + "/two-frames.pcapng";
    std::filesystem::create_directories(XDPTURN_ARTIFACT_DIR);
    const auto& relayed = find_fixed_case("relayed/padding_1")->frame;
    {
        std::ofstream out(path, std::ios::binary);
        const auto bytes = pcapng_of({ethernet_frame(), relayed});
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    auto reader = CaptureReader::open(path);
    BOOST_TEST_REQUIRE(reader.ok(), (reader.ok() ? "" : reader.error().message));
    BOOST_TEST(reader->link_type() == DLT_EN10MB);
    for (const auto* expected : {&ethernet_frame(), &relayed}) {
        auto frame = reader->next();
        BOOST_TEST_REQUIRE(frame.ok());
        BOOST_TEST_REQUIRE(frame->has_value());
        BOOST_TEST(std::vector<std::uint8_t>((*frame)->bytes.begin(), (*frame)->bytes.end()) == *expected);
    }
    auto end = reader->next();
    BOOST_TEST(end.ok());
    BOOST_TEST(!end->has_value());
}

// replay --live: a far-side capture is judged by the outputs that follow
// each input the reference relays.
namespace {

struct LiveRun {
    explicit LiveRun(const FixedCase& c) : verifier(c.config), table(c.bindings) {}
    void feed(const std::vector<std::uint8_t>& frame) { verifier.observe(frame, 0, index++, table, settled); }
    std::vector<LiveOutcome::Kind> kinds() {
        verifier.finish(settled);
        std::vector<LiveOutcome::Kind> result;
        for (const LiveOutcome& outcome : settled) result.push_back(outcome.kind);
        return result;
    }
    LiveVerifier verifier;
    BindingTable table;
    std::uint64_t index = 0;
    std::vector<LiveOutcome> settled;
};

using Kind = LiveOutcome::Kind;

}  // namespace

BOOST_AUTO_TEST_CASE(live_outputs_are_matched_exactly_on_their_flow) {
    for (const char* name : {"relayed/basic", "encapsulated/basic"}) {
        const FixedCase& c = *find_fixed_case(name);
        LiveRun exact(c);
        exact.feed(c.frame);
        exact.feed(c.expected_output);
        BOOST_TEST((exact.kinds() == std::vector{Kind::matched}), name);

        LiveRun wrong(c);
        wrong.feed(c.frame);
        auto changed = c.expected_output;
        changed[14 + 8] -= 1;  // TTL
        wrong.feed(changed);
        BOOST_TEST((wrong.kinds() == std::vector{Kind::differed}), name);
        BOOST_TEST(wrong.settled.front().explanation.find("ipv4.ttl") != std::string::npos);

        LiveRun none(c);
        none.feed(c.frame);
        BOOST_TEST((none.kinds() == std::vector{Kind::missing}), name);
    }
}

BOOST_AUTO_TEST_CASE(live_user_space_answers_on_the_client_flow_are_not_outputs) {
    // A STUN answer from the TURN port to the client comes between the
    // peer's datagram and its ChannelData: it is not the program's output.
    const FixedCase& c = *find_fixed_case("encapsulated/basic");
    auto stun_answer = c.expected_output;
    stun_answer[14 + 20 + 8] = 0x01;  // first bits 00: STUN
    LiveRun run(c);
    run.feed(c.frame);
    run.feed(stun_answer);
    run.feed(c.expected_output);
    BOOST_TEST((run.kinds() == std::vector{Kind::matched}));
}

BOOST_AUTO_TEST_CASE(live_frames_passed_to_user_space_expect_nothing) {
    const FixedCase& c = *find_fixed_case("no_channel/other_peer_port");
    LiveRun run(c);
    run.feed(c.frame);
    BOOST_TEST(run.kinds().empty());
    BOOST_TEST(run.verifier.expected() == 0u);
}
