// Property-based differential tests (RapidCheck in Boost.Test). RC_PARAMS
// works as RapidCheck documents it (max_success, seed, noshrink); the suite
// defaults to max_success=20000 when RC_PARAMS is unset. RapidCheck prints
// the seed of every run ("Using configuration: seed=...").
#include <rapidcheck/boost_test.h>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <map>

#include "harness/check/check_run.hpp"
#include "harness/check/counterexample.hpp"
#include "harness/check/properties.hpp"

using namespace xdpturn;

namespace {

// The program under test: the built-in one, or XDPTURN_TEST_OBJECT (used to
// show that this suite fails on a deliberately broken program).
ProgramSource program_under_test() {
    const char* object = std::getenv("XDPTURN_TEST_OBJECT");
    return object != nullptr && *object != '\0' ? ProgramSource::object_file(object) : ProgramSource{};
}

// State shared by the property and the checks that follow it.
struct PropertyRun {
    DifferentialEngine engine{program_under_test(), CounterCheck::last_reason_only};
    Comparison comparison;
    std::uint64_t cases = 0;
    ReasonTally reference;
    ReasonTally xdp;
    std::map<DatapathConfig, ReasonTally, DatapathConfigLess> xdp_by_config;
};

std::string run_program_name() {
    return program_under_test().describe();
}

PropertyRun& property_run() {
    static PropertyRun run;
    return run;
}

}  // namespace

// Both engines agree (verdict, reason, bytes); XDP_PASS leaves the frame
// unchanged; every XDP_TX output is a valid frame on its own.
RC_BOOST_PROP(engines_agree_pass_is_unchanged_tx_is_valid, ()) {
    const GeneratedCase c = *gen_case();
    const std::vector<std::uint8_t> frame = frame_of(c);
    PropertyRun& run = property_run();
    const PropertyCheck checked = check_case_alone(run.engine, c, frame, run.comparison);
    if (!checked) RC_FAIL("harness error: " + checked.error().message);
    const std::optional<PropertyFailure>& failure = *checked;
    ++run.cases;
    run.reference.add(run.comparison.reference.decision.reason);
    run.xdp.add(run.comparison.xdp.decision.reason);
    run.xdp_by_config[c.config].add(run.comparison.xdp.decision.reason);
    if (!failure) return;
    // Written on every failing run while RapidCheck shrinks: the last one,
    // which stays on disk, is the shrunk case.
    const auto saved = write_counterexample(std::string(XDPTURN_ARTIFACT_DIR) + "/property-counterexample", c, frame,
                                            run.comparison, {0, 0, std::string(failure->label()), run_program_name()});
    RC_FAIL("property '" + std::string(failure->label()) + "' failed:\n" + failure->details +
            (saved ? "\ncounterexample: " + saved->pcap + " and " + saved->json + "\nreproduce: xdpturn replay " +
                         saved->pcap + " --bindings " + saved->json
                   : "\n(could not save the counterexample: " + saved.error().message + ")"));
}

BOOST_AUTO_TEST_CASE(every_reachable_contract_row_was_hit_by_both_engines) {
    const PropertyRun& run = property_run();
    BOOST_TEST_REQUIRE(run.cases > 0u, "the property above ran no case");
    CheckResult coverage;
    coverage.reference_reasons = run.reference;
    coverage.xdp_reasons = run.xdp;
    std::string missing;
    for (Reason reason : coverage.uncovered_rows()) missing += " " + std::string(name(reason));
    BOOST_TEST(missing.empty(), "contract rows without hits in " << run.cases << " cases:" << missing);
    for (Reason reason : all_reasons)
        BOOST_TEST_MESSAGE(name(reason) << ": reference " << run.reference[reason] << ", xdp " << run.xdp[reason]);
}

BOOST_AUTO_TEST_CASE(reason_counters_moved_as_the_verdicts_say) {
    PropertyRun& run = property_run();
    BOOST_TEST_REQUIRE(!run.xdp_by_config.empty());
    for (const auto& [config, tally] : run.xdp_by_config) {
        auto engine = run.engine.engine_for(config);
        BOOST_TEST_REQUIRE(engine.ok());
        auto counters = (*engine)->counters();
        BOOST_TEST_REQUIRE(counters.ok());
        for (Reason reason : all_reasons)
            BOOST_TEST((*counters)[reason] == tally[reason],
                       "counter " << name(reason) << " for turn port " << config.turn_port);
    }
}

BOOST_AUTO_TEST_CASE(the_coverage_gate_reports_a_row_without_hits) {
    CheckResult result;
    result.reference_reasons.counts.fill(1);
    result.xdp_reasons.counts.fill(1);
    BOOST_TEST(result.uncovered_rows().empty());
    result.xdp_reasons.counts[static_cast<std::size_t>(Reason::channel_padding)] = 0;
    const auto missing = result.uncovered_rows();
    BOOST_TEST_REQUIRE(missing.size() == 1u);
    BOOST_TEST((missing[0] == Reason::channel_padding));
    // Rows no frame can reach through BPF_PROG_TEST_RUN are not required.
    result.xdp_reasons.counts[static_cast<std::size_t>(Reason::channel_padding)] = 1;
    result.xdp_reasons.counts[static_cast<std::size_t>(Reason::rewrite_failed)] = 0;
    result.xdp_reasons.counts[static_cast<std::size_t>(Reason::short_ethernet)] = 0;
    BOOST_TEST(result.uncovered_rows().empty());
}

BOOST_AUTO_TEST_CASE(choices_shrink_toward_the_plainest_case) {
    // All-zero choices: the simplest case is a bound, relayed frame with no
    // variation, so shrunk counterexamples read as small departures from it.
    const GeneratedCase plain = interpret_choices({});
    BOOST_TEST(plain.variations.empty());
    BOOST_TEST(plain.spec.application_data.empty());
    BOOST_TEST(plain.bindings.size() == 1u);
    BOOST_TEST(plain.spec.channel == 0x4000);
}
