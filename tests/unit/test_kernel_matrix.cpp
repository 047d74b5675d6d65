// What the kernel matrix (docs/kernels.md) reads from kernels: releases and
// the verifier's statistics, as 5.10 to 6.18 print them.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE kernel_matrix
#include <boost/test/unit_test.hpp>

#include "harness/xdp/kernel_facts.hpp"
#include "harness/xdp/verifier_stats.hpp"

using namespace xdpturn;

BOOST_AUTO_TEST_CASE(releases_of_debian_and_other_kernels) {
    const auto debian = parse_kernel_release("5.10.0-46-amd64");
    BOOST_TEST_REQUIRE(debian.has_value());
    BOOST_TEST(debian->major == 5);
    BOOST_TEST(debian->minor == 10);
    const auto upstream = parse_kernel_release("6.18.44-fc-v1300");
    BOOST_TEST_REQUIRE(upstream.has_value());
    BOOST_TEST((*upstream >= KernelVersion{5, 18}));
    // 5.9 is older than 5.18, though "5.9" > "5.18" as text.
    BOOST_TEST((*parse_kernel_release("5.9.0") < KernelVersion{5, 18}));
    BOOST_TEST(!parse_kernel_release("linux").has_value());
}

BOOST_AUTO_TEST_CASE(the_statistics_line_is_read_whole) {
    const std::string log =
        "func#0 @0\n"
        "processed 120235 insns (limit 1000000) max_states_per_insn 4 total_states 1876 peak_states 512 "
        "mark_read 41\nverification time 81234 usec\n";
    const auto stats = parse_verifier_stats(log);
    BOOST_TEST_REQUIRE(stats.has_value());
    BOOST_TEST(stats->instructions_processed == 120235u);
    BOOST_TEST(stats->instruction_limit == 1000000u);
    BOOST_TEST(stats->max_states_per_instruction == 4u);
    BOOST_TEST(stats->total_states == 1876u);
    BOOST_TEST(stats->peak_states == 512u);
}

// 7.2 prints the count twice, the first time on a line of its own.
BOOST_AUTO_TEST_CASE(the_statistics_line_after_a_bare_count) {
    const std::string log =
        "\nstack depth 96+0+0+0 max 96\ninsns processed 396494\n"
        "processed 396494 insns (limit 1000000) max_states_per_insn 11 total_states 8378 peak_states 582 "
        "mark_read 0\n";
    const auto stats = parse_verifier_stats(log);
    BOOST_TEST_REQUIRE(stats.has_value());
    BOOST_TEST(stats->instructions_processed == 396494u);
    BOOST_TEST(stats->total_states == 8378u);
    BOOST_TEST(stats->peak_states == 582u);
}

BOOST_AUTO_TEST_CASE(a_log_without_statistics_gives_none) {
    BOOST_TEST(!parse_verifier_stats("").has_value());
    BOOST_TEST(!parse_verifier_stats("math between pkt pointer and register\n").has_value());
    BOOST_TEST(!parse_verifier_stats("processed 12 insns (limit 1000000)\n").has_value());
}
