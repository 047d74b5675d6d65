// replay --live: a far-side capture is judged by the outputs that follow
// each input the reference relays.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE live_verifier
#include <boost/test/unit_test.hpp>

#include "harness/cases/fixed_cases.hpp"
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
