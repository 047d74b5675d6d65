// Proof that the fixed-case tests bite: each deliberately broken build of the
// XDP program (one planted bug from the field notes) fails at least the case
// aimed at it, with a problem report that names the broken field or decision.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <sstream>

#include "case_report.hpp"
#include "harness/cases/fixed_case_check.hpp"

using namespace xdpturn;

namespace {

struct MutantExpectation {
    const char* mutant;
    const char* case_name;   // the case aimed at the bug
    const char* named_text;  // text the problem report must contain
};

const MutantExpectation expectations[] = {
    {"ports_not_in_checksum", "relayed/basic", "udp.checksum"},
    {"channel_header_in_checksum", "relayed/basic", "udp.checksum"},
    {"padding_relayed", "relayed/padding_3", "frame.length"},
    {"range_half_open", "relayed/channel_0x4fff", "xdp decided XDP_PASS / channel_range"},
    {"macs_not_swapped", "relayed/basic", "eth.destination"},
    {"options_not_passed", "ipv4_options/ihl6_nops", "xdp decided"},
    {"zero_checksum_sent", "relayed/computed_zero_udp_checksum", "udp.checksum"},
    {"encap_length_with_header", "encapsulated/basic", "channel.length"},
    {"encap_header_not_in_checksum", "encapsulated/basic", "udp.checksum"},
    {"encap_ttl_decremented", "encapsulated/tos_df_ttl_id_kept", "ipv4.ttl"},
    {"reverse_lookup_by_source_port", "encapsulated/basic", "xdp decided XDP_PASS / no_channel"},
    {"mtu_off_by_one", "encapsulated/exactly_mtu", "xdp decided XDP_PASS / too_big"},
    {"hairpin_relayed", "hairpin/peer_on_this_relay", "xdp decided XDP_TX / relayed"},
    {"ipv6_pseudo_header_short", "relayed/ipv6_basic", "udp.checksum"},
    {"ipv6_hop_limit_decremented", "relayed/ipv6_class_flow_hop_kept", "ipv6.hop_limit"},
    {"ipv6_flow_label_cleared", "relayed/ipv6_class_flow_hop_kept", "ipv6.version_class_flow"},
    {"ipv6_zero_checksum_relayed", "ipv6_zero_checksum/from_client", "xdp decided XDP_TX / relayed"},
    {"across_df_not_set", "relayed/ipv6_client_ipv4_peer", "ipv4.flags_fragment"},
    {"across_hop_limit_default", "relayed/ipv4_client_ipv6_peer", "ipv6.hop_limit"},
    {"across_zero_checksum_kept", "relayed/ipv4_no_checksum_to_ipv6", "udp.checksum"},
    {"across_mtu_unchecked", "too_big/ipv4_to_ipv6_client_path", "xdp decided XDP_TX / relayed"},
    // Seen only after an earlier frame left its headers in the slot: the
    // fixed cases run one after another on one program, so it has.
    {"scratch_not_cleared", "relayed/ipv6_client_ipv4_peer", "ipv4.checksum"},
    {"across_mtu_fixed", "relayed/ipv4_to_ipv6_over_1500_jumbo", "xdp decided XDP_PASS / too_big"},
    {"ipv4_checksum_recomputed", "relayed/ipv4_header_checksum_ffff", "xdp decided XDP_PASS / ipv4_checksum"},
    {"v4_mapped_half_word", "relayed/ipv6_peer_next_to_mapped", "xdp decided XDP_PASS / other_family"},
    {"relay_port_min_excluded", "encapsulated/basic", "xdp decided XDP_PASS / wrong_port"},
    {"fold_once", "relayed/ipv6_update_folds_twice", "udp.checksum"},
    {"ipv4_update_fold_once", "relayed/ipv4_update_folds_twice", "ipv4.checksum"},
    {"udp_update_fold_once", "relayed/udp_update_folds_twice_padded", "udp.checksum"},
    {"made_sum_fold_once", "relayed/ipv4_no_checksum_to_ipv6_folds_twice", "udp.checksum"},
    {"hairpin_counted_as_no_binding", "hairpin/peer_on_this_relay", "counters: the reason counters"},
};

}  // namespace

// A mutant built without an expectation here would be proven by nothing.
BOOST_AUTO_TEST_CASE(every_built_mutant_has_an_aimed_case) {
    std::istringstream built(XDPTURN_MUTANT_NAMES);
    std::string mutant;
    int count = 0;
    while (built >> mutant) {
        ++count;
        const bool expected = std::any_of(std::begin(expectations), std::end(expectations),
                                          [&](const MutantExpectation& e) { return mutant == e.mutant; });
        BOOST_TEST(expected, "mutant " << mutant << " has no aimed fixed case in test_mutants.cpp");
    }
    BOOST_TEST(count == static_cast<int>(std::size(expectations)));
}

BOOST_AUTO_TEST_CASE(every_mutant_is_caught_with_a_named_difference) {
    for (const MutantExpectation& expectation : expectations) {
        BOOST_TEST_CONTEXT("mutant " << expectation.mutant) {
            const std::string object =
                std::string(XDPTURN_MUTANT_DIR) + "/xdpturn_mutant_" + expectation.mutant + ".bpf.o";
            DifferentialEngine engine(ProgramSource::object_file(object));
            const FixedCase* aimed = find_fixed_case(expectation.case_name);
            BOOST_REQUIRE(aimed != nullptr);
            int failed = 0;
            bool aimed_case_named_it = false;
            std::string aimed_report;
            // The cases of the aimed case's configuration, in table order, up
            // to it: every frame that ran on its program before it (each
            // configuration is a program of its own), so that state left by
            // earlier frames still counts, at one program load per mutant
            // (under TCG a load of our program takes about half a second).
            for (const FixedCase& c : fixed_cases()) {
                if (!(c.config == aimed->config)) continue;
                const FixedCaseOutcome outcome = check_fixed_case(engine, c);
                if (!outcome.passed()) ++failed;
                if (&c != aimed) continue;
                if (!outcome.passed())
                    aimed_report =
                        testing::report_failure(c, outcome, std::string("mutant-") + expectation.mutant + "-");
                for (const std::string& problem : outcome.problems)
                    if (problem.find(expectation.named_text) != std::string::npos) aimed_case_named_it = true;
                break;
            }
            BOOST_TEST(failed > 0, "no fixed case caught the mutant");
            BOOST_TEST(aimed_case_named_it, "case " << expectation.case_name << " did not report '"
                                                    << expectation.named_text << "':\n"
                                                    << aimed_report);
            BOOST_TEST_MESSAGE(expectation.mutant << ": " << failed << " fixed case(s) failed; "
                                                  << expectation.case_name << " reported:\n"
                                                  << aimed_report);
        }
    }
}
