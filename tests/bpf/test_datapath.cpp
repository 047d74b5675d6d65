// The data-path benchmark's own parts (docs/performance.md): the load
// generator's frames, the XDP sink's checks, the socket sink's checks, the
// delay histogram and the report. Each check here is shown catching the
// defect it exists for: a corrupt byte, a bad checksum, a duplicate, a
// datagram on another flow's addresses.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <bpf/bpf.h>

#include "harness/datapath/datapath_report.hpp"
#include "harness/datapath/flows.hpp"
#include "harness/datapath/generator.hpp"
#include "harness/datapath/sink.hpp"
#include "harness/datapath/sockets.hpp"
#include "harness/datapath/veth_counters.hpp"
#include "harness/datapath/xdp_sink.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "relay/net/bytes.hpp"

using namespace xdpturn;
using namespace xdpturn::datapath;

namespace {

constexpr std::size_t payload_bytes = 100;
constexpr std::uint32_t step = 5;
constexpr std::size_t ethernet = 14, ipv4 = 20, udp = 8;
const MacAddress load_mac{0x02, 0, 0, 0, 0, 2}, relay_mac{0x02, 0, 0, 0, 0, 1};

const Binding binding{TransportAddress::v4(0x0A580002, 40000), TransportAddress::v4(0x0A580001, 3478),
                      TransportAddress::v4(0x0A580001, 50000), TransportAddress::v4(0x0A580003, 41000), 0x4001};

// Runs a program once on `frame` (not live): its verdict and output.
std::pair<std::uint32_t, std::vector<std::uint8_t>> run_once(int program, const std::vector<std::uint8_t>& frame) {
    std::vector<std::uint8_t> output(frame.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(), .data_out = output.data(),
                .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(output.size()),
                .repeat = 1);
    BOOST_TEST_REQUIRE(bpf_prog_test_run_opts(program, &options) == 0);
    output.resize(options.data_size_out);
    return {options.retval, output};
}

// The generator's frames for `flows`, in its order, `count` of them.
std::vector<std::vector<std::uint8_t>> generate(const std::vector<Flow>& flows, std::size_t count,
                                                std::uint32_t at_step = step) {
    auto generator = LiveGenerator::open(1, flows, load_mac, relay_mac, payload_bytes);
    BOOST_TEST_REQUIRE(generator.ok(), (generator ? "" : generator.error().message));
    BOOST_TEST_REQUIRE((*generator)->schedule(at_step, 0, monotonic_ns(), std::chrono::seconds(60)).ok());
    std::vector<std::vector<std::uint8_t>> frames;
    for (std::size_t i = 0; i < count; ++i) {
        auto [verdict, frame] = run_once((*generator)->program_fd(), initial_frame(payload_bytes));
        BOOST_TEST_REQUIRE(verdict == XDP_TX);
        frames.push_back(frame);
    }
    return frames;
}

bool ipv4_checksum_right(const std::vector<std::uint8_t>& frame) {
    return textbook_checksum(std::span(frame).subspan(ethernet, ipv4)) == 0;
}

bool udp_checksum_right(const std::vector<std::uint8_t>& frame) {
    const auto segment = std::span(frame).subspan(ethernet + ipv4);
    const std::uint32_t pseudo =
        textbook_udp_pseudo_header_sum(std::span(frame).subspan(ethernet, ipv4), segment.size());
    return textbook_sum(segment, pseudo) == 0xFFFF;
}

// Sets the UDP checksum right again after a test changed the frame.
void repair_udp_checksum(std::vector<std::uint8_t>& frame) {
    store_be16(frame, ethernet + ipv4 + 6, 0);
    const auto segment = std::span(frame).subspan(ethernet + ipv4);
    const std::uint32_t pseudo =
        textbook_udp_pseudo_header_sum(std::span(frame).subspan(ethernet, ipv4), segment.size());
    std::uint16_t checksum = static_cast<std::uint16_t>(~textbook_sum(segment, pseudo));
    store_be16(frame, ethernet + ipv4 + 6, checksum == 0 ? 0xFFFF : checksum);
}

// The frames a relay would deliver for `binding`: the generator makes them
// when its flows start where the relay's outputs start. Flow 0 is the
// relayed datagram to the peer (plain UDP), flow 1 the ChannelData to the
// client.
std::vector<Flow> delivered_as_flows() {
    return {Flow{0, Direction::to_client, binding.relayed, binding.peer, {}, {}, 0},
            Flow{1, Direction::to_peer, binding.server, binding.client, {}, {}, binding.channel}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(load_generator)

// A kernel that ignores the live-frames flag (before 5.18) lets the
// generator count frames that never left: the step is refused as an
// environment error, not reported as the relay's loss.
BOOST_AUTO_TEST_CASE(live_frames_that_did_not_leave_are_an_error) {
    Offered offered;
    offered.frames = 100000;
    const VethDrops none{0, 0, 0};
    const auto refused = live_frames_arrived(offered, none, "relay0");
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().message.find("counted 100000 frames sent, but relay0 received 0") != std::string::npos);
    // Received, or dropped by veth on the way in: they left.
    BOOST_TEST(live_frames_arrived(offered, VethDrops{0, 0, 99000}, "relay0").ok());
    BOOST_TEST(live_frames_arrived(offered, VethDrops{60000, 0, 0}, "relay0").ok());
    // Too few frames to judge.
    offered.frames = 10;
    BOOST_TEST(live_frames_arrived(offered, none, "relay0").ok());
}

BOOST_AUTO_TEST_CASE(frames_have_right_checksums_lengths_and_payloads) {
    const std::vector<Flow> flows = flows_of(std::vector{binding});
    const auto frames = generate(flows, 3);
    // Flow 0 (client -> relay, ChannelData), flow 1 (peer -> relayed
    // address, plain UDP), then flow 0 again with the next sequence number.
    const std::size_t header[] = {DATAPATH_CHANNEL_HEADER_BYTES, 0, DATAPATH_CHANNEL_HEADER_BYTES};
    for (std::size_t i = 0; i < frames.size(); ++i) {
        BOOST_TEST_CONTEXT("frame " << i) {
            const auto& frame = frames[i];
            BOOST_TEST(frame.size() == ethernet + ipv4 + udp + header[i] + payload_bytes);
            BOOST_TEST(ipv4_checksum_right(frame));
            BOOST_TEST(udp_checksum_right(frame));
            BOOST_TEST(load_be16(frame, ethernet + 2) == frame.size() - ethernet);
            BOOST_TEST(load_be16(frame, ethernet + ipv4 + 4) == frame.size() - ethernet - ipv4);
            const Flow& flow = flows[i % 2];
            BOOST_TEST(load_be16(frame, ethernet + ipv4) == flow.from.port);
            BOOST_TEST(load_be16(frame, ethernet + ipv4 + 2) == flow.to.port);
            if (header[i] != 0) {
                BOOST_TEST(load_be16(frame, ethernet + ipv4 + udp) == binding.channel);
                BOOST_TEST(load_be16(frame, ethernet + ipv4 + udp + 2) == payload_bytes);
            }
            const PayloadCheck checked =
                check_payload(std::span(frame).subspan(ethernet + ipv4 + udp + header[i]), payload_bytes);
            BOOST_TEST_REQUIRE(checked.fields.has_value(), checked.problem);
            BOOST_TEST(checked.fields->flow == flow.id);
            BOOST_TEST(checked.fields->step == step);
            BOOST_TEST(checked.fields->flow_seq == i / 2);
        }
    }
}

// The packet generator (where the kernel refuses live frames) sends the
// live generator's frames, written in user space: the same headers, its
// own checksums right by the textbook, its payloads as the sink reads them.
// A checksum missing one per-frame field fails here (tried).
BOOST_AUTO_TEST_CASE(packet_frames_are_the_live_generators_frames) {
    const std::vector<Flow> flows = flows_of(std::vector{binding});
    const auto live = generate(flows, 2);
    for (std::size_t i = 0; i < flows.size(); ++i) {
        BOOST_TEST_CONTEXT("flow " << i) {
            const datapath_flow made = flow_template(flows[i], load_mac, relay_mac, payload_bytes);
            std::vector<std::uint8_t> frame = frame_of(made, payload_bytes);
            stamp_frame(frame, made.checksum_partial, payload_bytes, flows[i].id, step, 7, 0x123456789ABCull);
            BOOST_TEST(frame.size() == live[i].size());
            const std::size_t headers = frame.size() - payload_bytes;
            BOOST_TEST(std::equal(frame.begin(), frame.begin() + ethernet + ipv4 + 6, live[i].begin()));
            BOOST_TEST(std::equal(frame.begin() + ethernet + ipv4 + 8, frame.begin() + headers,
                                  live[i].begin() + ethernet + ipv4 + 8));
            BOOST_TEST(ipv4_checksum_right(frame));
            BOOST_TEST(udp_checksum_right(frame));
            const PayloadCheck checked = check_payload(std::span(frame).subspan(headers), payload_bytes);
            BOOST_TEST_REQUIRE(checked.fields.has_value(), checked.problem);
            BOOST_TEST(checked.fields->flow_seq == 7u);
            BOOST_TEST(checked.fields->sent_ns == 0x123456789ABCull);
        }
    }
}

BOOST_AUTO_TEST_CASE(frames_per_direction_counts_the_alternating_order) {
    BOOST_TEST((frames_per_direction(7, 4) == std::array<std::uint64_t, 2>{4, 3}));
    BOOST_TEST((frames_per_direction(8, 4) == std::array<std::uint64_t, 2>{4, 4}));
    BOOST_TEST((frames_per_direction(0, 4) == std::array<std::uint64_t, 2>{0, 0}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(xdp_sink)

struct SinkFixture {
    SinkFixture() {
        auto opened = XdpSink::open("lo", flows, payload_bytes);
        BOOST_TEST_REQUIRE(opened.ok(), (opened ? "" : opened.error().message));
        sink = std::move(opened).value();
        frames = generate(delivered_as_flows(), 2);
    }
    std::uint32_t take(const std::vector<std::uint8_t>& frame) { return run_once(sink->program_fd(), frame).first; }
    StepTally tally(std::uint32_t at_step = step) {
        auto counted = sink->tally(at_step);
        BOOST_TEST_REQUIRE(counted.ok());
        return *counted;
    }
    std::vector<Flow> flows = flows_of(std::vector{binding});
    std::unique_ptr<XdpSink> sink;
    std::vector<std::vector<std::uint8_t>> frames;  // to the peer, to the client
};

BOOST_FIXTURE_TEST_CASE(counts_each_direction_and_times_it, SinkFixture) {
    BOOST_TEST(take(frames[0]) == XDP_DROP);
    BOOST_TEST(take(frames[1]) == XDP_DROP);
    const StepTally counted = tally();
    BOOST_TEST(counted.delivered[0] == 1u);
    BOOST_TEST(counted.delivered[1] == 1u);
    BOOST_TEST(counted.delay.count() == 2u);
    BOOST_TEST(counted.corrupt + counted.duplicates + counted.wrong_flow == 0u);
}

BOOST_FIXTURE_TEST_CASE(finds_a_duplicate, SinkFixture) {
    take(frames[0]);
    take(frames[0]);
    BOOST_TEST(tally().delivered[0] == 1u);
    BOOST_TEST(tally().duplicates == 1u);
}

BOOST_FIXTURE_TEST_CASE(finds_a_wrong_udp_checksum, SinkFixture) {
    frames[0][ethernet + ipv4 + 7] ^= 0x40;  // the checksum's low byte: every byte it covers intact
    take(frames[0]);
    BOOST_TEST(tally().corrupt == 1u);
    BOOST_TEST(tally().delivered[0] == 0u);
}

BOOST_FIXTURE_TEST_CASE(finds_a_changed_byte_under_a_right_checksum, SinkFixture) {
    // A user-space relay that changes the payload sends it with a checksum
    // the kernel computed: only the pattern shows it.
    frames[1].back() ^= 0x40;
    repair_udp_checksum(frames[1]);
    take(frames[1]);
    BOOST_TEST(tally().corrupt == 1u);
}

BOOST_FIXTURE_TEST_CASE(finds_a_datagram_on_another_flows_addresses, SinkFixture) {
    store_be16(frames[0], ethernet + ipv4, binding.relayed.port + 1);  // from another allocation
    repair_udp_checksum(frames[0]);
    take(frames[0]);
    BOOST_TEST(tally().wrong_flow == 1u);
    store_be16(frames[1], ethernet + ipv4 + udp, binding.channel + 1);  // on another channel
    repair_udp_checksum(frames[1]);
    take(frames[1]);
    BOOST_TEST(tally().wrong_flow == 2u);
}

BOOST_FIXTURE_TEST_CASE(counts_a_previous_steps_datagram_as_late, SinkFixture) {
    take(frames[0]);
    take(generate(delivered_as_flows(), 1, step - 1).front());
    BOOST_TEST(tally(step - 1).late == 1u);
    BOOST_TEST(tally(step - 1).delivered[0] == 1u);
}

BOOST_FIXTURE_TEST_CASE(passes_what_is_not_the_benchmarks, SinkFixture) {
    auto signalling = frames[1];
    store_be32(signalling, ethernet + ipv4 + udp + DATAPATH_CHANNEL_HEADER_BYTES, 0x2112A442);  // not the magic
    BOOST_TEST(take(signalling) == XDP_PASS);
    BOOST_TEST(tally().corrupt == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(socket_sink)

// Loopback sockets: a "relay" that sends, a peer's socket that receives.
BOOST_AUTO_TEST_CASE(finds_duplicates_corruption_and_wrong_sources) {
    const auto relay_address = TransportAddress::v4(0x7F000001, 0);
    auto relay = UdpSocket::bind(relay_address, 1 << 16);
    auto stranger = UdpSocket::bind(relay_address, 1 << 16);
    auto peer = UdpSocket::bind(relay_address, 1 << 20);
    BOOST_TEST_REQUIRE((relay.ok() && stranger.ok() && peer.ok()));
    auto local = [](const UdpSocket& socket) {
        sockaddr_in address{};
        socklen_t size = sizeof(address);
        getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &size);
        return address;
    };
    const sockaddr_in peer_address = local(*peer);
    const sockaddr_in relay_address_bound = local(*relay);
    const TransportAddress relay_source = from_sockaddr(&relay_address_bound);
    SocketSink sink({SinkSocket{peer->fd(), false, relay_source, {}, 0}}, 2, 8, payload_bytes, -1);
    BOOST_TEST_REQUIRE(sink.start().ok());
    auto send = [&](const UdpSocket& from, std::uint64_t seq, bool corrupt) {
        std::vector<std::uint8_t> payload(payload_bytes);
        write_payload(payload, 0, step, seq, monotonic_ns());
        if (corrupt) payload.back() ^= 1;
        sendto(from.fd(), payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&peer_address),
               sizeof(peer_address));
    };
    send(*relay, 0, false);
    send(*relay, 1, false);
    send(*relay, 1, false);     // a duplicate
    send(*relay, 2, true);      // corrupt
    send(*stranger, 3, false);  // from the wrong source
    StepTally counted;
    for (int wait = 0; wait < 100; ++wait) {
        counted = *sink.tally(step);
        if (counted.delivered[0] + counted.duplicates + counted.wrong_flow == 4 && sink.tally(0)->corrupt == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    sink.stop();
    BOOST_TEST(counted.delivered[0] == 2u);
    BOOST_TEST(counted.duplicates == 1u);
    BOOST_TEST(counted.wrong_flow == 1u);
    BOOST_TEST(sink.tally(0)->corrupt == 1u);  // an unreadable head counts in step 0
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(delay_percentiles_are_within_a_bucket) {
    DelayHistogram histogram;
    for (std::uint64_t micros = 1; micros <= 1000; ++micros) histogram.add(micros * 1000);
    const double p50 = static_cast<double>(histogram.percentile(0.5));
    BOOST_TEST(p50 >= 500000.0);
    BOOST_TEST(p50 <= 500000.0 * 1.07);
    BOOST_TEST(histogram.percentile(1.0) == 1000000u);
}

nlohmann::json run_of(const std::string& relay, std::vector<double> delivered, std::uint64_t corrupt = 0) {
    nlohmann::json steps = nlohmann::json::array();
    const double offered[] = {100000, 200000, 400000};
    for (std::size_t i = 0; i < delivered.size(); ++i)
        steps.push_back({{"offered", offered[i]},
                         {"offered_pps", offered[i]},
                         {"delivered_pps", delivered[i]},
                         {"loss", 1.0 - delivered[i] / offered[i]},
                         {"drops", nlohmann::json::object()},
                         {"checked", {{"corrupt", i == 0 ? corrupt : 0}, {"duplicates", 0}, {"wrong_flow", 0}}}});
    return {{"relay", relay}, {"steps", steps}};
}

BOOST_AUTO_TEST_CASE(ratios_compare_peaks_and_loss_free_rates) {
    auto report = summarise({run_of("user", {100000, 150000, 120000}), run_of("xdp", {100000, 200000, 400000})});
    BOOST_TEST_REQUIRE(report.ok());
    const auto& ratio = (*report)["ratios"]["xdp_over_user"];
    BOOST_TEST(ratio["peak_delivered"].get<double>() == 400000.0 / 150000.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(ratio["loss_free"].get<double>() == 4.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST((*report)["relays"][1]["summary"]["peak_is_lower_bound"].get<bool>());
    BOOST_TEST((*report)["integrity_failures"] == 0);
}

// A core's worth: what the relay's cost per packet on its own core at its
// peak would carry. For a relay not saturated, its capacity as its cost
// implies it; where nothing was charged to the relay's core (the shared
// layout's offload), none.
BOOST_AUTO_TEST_CASE(a_cores_worth_comes_from_the_cost_at_the_peak) {
    auto ours = run_of("xdp", {100000, 200000, 400000});
    auto theirs = run_of("pion", {100000, 200000, 300000});
    for (auto* run : {&ours, &theirs})
        for (auto& step : (*run)["steps"]) step["relay_kernel_ns_per_packet"] = 2000.0;
    ours["steps"][2]["relay_kernel_ns_per_packet"] = 800.0;     // the peak: 1.25M a core
    theirs["steps"][2]["relay_kernel_ns_per_packet"] = 900.0;   // its peak
    theirs["steps"][2]["relay_process_ns_per_packet"] = 100.0;  // 1M a core
    auto report = summarise({ours, theirs, run_of("user", {100000, 150000, 120000})});
    BOOST_TEST_REQUIRE(report.ok());
    BOOST_TEST((*report)["relays"][0]["summary"]["core_capacity_pps"].get<double>() == 1.25e6,
               boost::test_tools::tolerance(1e-9));
    BOOST_TEST((*report)["relays"][1]["summary"]["cost_at_peak_ns"].get<double>() == 1000.0);
    BOOST_TEST((*report)["ratios"]["xdp_over_pion"]["core_capacity"].get<double>() == 1.25,
               boost::test_tools::tolerance(1e-9));
    BOOST_TEST((*report)["relays"][2]["summary"]["core_capacity_pps"].is_null());
    BOOST_TEST((*report)["ratios"]["xdp_over_user"]["core_capacity"].is_null());
}

BOOST_AUTO_TEST_CASE(what_the_sink_lost_is_not_the_relays_loss) {
    auto run = run_of("xdp", {100000, 150000, 400000});
    // Step 1 lost 25%, all of it on the way to the sink.
    run["steps"][1]["drops"] = {{"veth_out_of_relay", 50000}};
    auto report = summarise({run});
    BOOST_TEST_REQUIRE(report.ok());
    const auto& summary = (*report)["relays"][0]["summary"];
    BOOST_TEST(summary["loss_free_pps"].get<double>() == 400000.0);
    BOOST_TEST(summary["sink_limited_steps"] == nlohmann::json::array({1}));
    run["steps"][1]["drops"] = nlohmann::json::object();  // the same loss, not the sink's
    report = summarise({run});
    BOOST_TEST((*report)["relays"][0]["summary"]["first_lossy_step"] == 1);
}

BOOST_AUTO_TEST_CASE(a_corrupt_datagram_is_an_integrity_failure) {
    auto report = summarise({run_of("xdp", {100000, 200000, 400000}, 3)});
    BOOST_TEST_REQUIRE(report.ok());
    BOOST_TEST((*report)["integrity_failures"] == 3);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_run_is_refused) {
    BOOST_TEST(!summarise({nlohmann::json{{"relay", "x"}}}).ok());
    auto broken = run_of("x", {100000});
    broken["steps"][0].erase("loss");
    BOOST_TEST(!summarise({broken}).ok());
}

BOOST_AUTO_TEST_SUITE_END()
