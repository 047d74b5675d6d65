// replay --live: a far-side capture is judged by the outputs that follow
// each input the reference relays, byte for byte for our program and by
// the conformance oracle for a target.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE live_verifier
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "harness/cases/fixed_cases.hpp"
#include "harness/foreign/target_description.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "harness/replay/live_verifier.hpp"

using namespace xdpturn;

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

namespace {

std::shared_ptr<const TargetDescription> live_target(const std::string& forwarding, const std::string& ttl) {
    auto parsed = parse_target_description(nlohmann::json::parse(R"({"name": "live", "program": "p",
            "offloads": {"families": ["ipv4"], "directions": ["client_to_peer", "peer_to_client"]},
            "forwarding": {"action": ")" + forwarding + R"(", "ttl": ")" +
                                                                 ttl + R"("},
            "binding_maps": [{"map": "m", "key": [{"field": "client.port", "offset": 0, "size": 2},
                                                  {"field": "channel", "offset": 2, "size": 2}],
                              "value": [{"field": "peer.port", "offset": 0, "size": 2}]}]})"),
                                           "live.json");
    BOOST_REQUIRE(parsed.ok());
    return std::make_shared<const TargetDescription>(std::move(parsed).value());
}

// The output as a program that decrements TTL and forwards by route sends
// it: TTL - 1 with its header checksum, the route's MACs.
std::vector<std::uint8_t> routed_with_ttl_decremented(std::vector<std::uint8_t> frame) {
    frame[14 + 8] -= 1;
    store_be16(frame, 14 + 10, 0);
    store_be16(frame, 14 + 10, textbook_checksum(Bytes(frame).subspan(14, 20)));
    frame[0] = 0x02;
    frame[5] = 0x77;  // a neighbour the capture cannot check
    return frame;
}

}  // namespace

// replay --live --target: a live program that is not ours is judged as its
// description says. The route's MACs are not judged where the description
// forwards by route; the TTL it describes is.
BOOST_AUTO_TEST_CASE(live_targets_are_judged_by_their_description) {
    const FixedCase& c = *find_fixed_case("relayed/basic");
    const auto routed = routed_with_ttl_decremented(c.expected_output);
    struct Trial {
        std::shared_ptr<const TargetDescription> target;
        const std::vector<std::uint8_t>* output;
        Kind kind;
        Conformance conformance;
        const char* field;
    };
    const Trial trials[] = {
        {live_target("fib_redirect", "decremented"), &routed, Kind::matched, Conformance::conformant_forward, ""},
        {live_target("fib_redirect", "decremented"), &c.expected_output, Kind::differed,
         Conformance::forwarded_wrong_bytes, "ipv4.ttl"},
        {live_target("tx", "decremented"), &routed, Kind::differed, Conformance::forwarded_wrong_bytes,
         "eth.destination"},
        {live_target("tx", "kept"), &c.expected_output, Kind::matched, Conformance::conformant_forward, ""},
    };
    for (const Trial& trial : trials) {
        LiveVerifier verifier(c.config, trial.target, false);
        std::vector<LiveOutcome> settled;
        verifier.observe(c.frame, 0, 0, c.bindings, settled);
        verifier.observe(*trial.output, 0, 1, c.bindings, settled);
        verifier.finish(settled);
        BOOST_REQUIRE_EQUAL(settled.size(), 1u);
        BOOST_TEST((settled.front().kind == trial.kind), name(trial.target->forwarding)
                                                             << ": " << settled.front().explanation);
        BOOST_TEST((settled.front().conformance == trial.conformance));
        BOOST_TEST(settled.front().explanation.find(trial.field) != std::string::npos);
    }
}
