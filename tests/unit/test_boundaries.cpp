// Each boundary class means what its name says: the fixed case built to sit
// on a boundary falls in its class, and a plain case falls in none of the
// classes it is not built for.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE boundaries
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "harness/cases/fixed_cases.hpp"
#include "harness/check/boundaries.hpp"
#include "harness/frames/folded_sums.hpp"

using namespace xdpturn;

namespace {

std::vector<Boundary> classes_of(const char* case_name) {
    const FixedCase& c = *find_fixed_case(case_name);
    std::vector<std::uint8_t> output;
    const Decision decision = ReferenceModel(c.config, c.bindings).decide(c.frame, output);
    return classify(c.config, c.frame, decision, output);
}

bool falls_in(const char* case_name, Boundary boundary) {
    const auto classes = classes_of(case_name);
    return std::find(classes.begin(), classes.end(), boundary) != classes.end();
}

}  // namespace

BOOST_AUTO_TEST_CASE(fixed_cases_on_a_boundary_fall_in_its_class) {
    const std::pair<const char*, Boundary> expected[] = {
        {"relayed/udp_checksum_zero", Boundary::udp_checksum_none_in},
        {"relayed/udp_checksum_wrong", Boundary::udp_checksum_error_in},
        {"relayed/computed_zero_udp_checksum", Boundary::udp_checksum_ffff_out},
        {"encapsulated/computed_zero_udp_checksum", Boundary::udp_checksum_ffff_out},
        {"relayed/ipv4_checksum_0000", Boundary::ip_checksum_0000_out},
        {"relayed/ipv4_header_checksum_ffff", Boundary::ip_checksum_ffff_in},
        {"relayed/sum_folds_twice", Boundary::sum_folds_twice},
        {"relayed/ipv4_update_folds_twice", Boundary::ipv4_update_carries},
        {"relayed/ipv6_to_ipv4_header_folds_twice", Boundary::ipv4_header_made_carries},
        {"relayed/ipv6_update_folds_twice", Boundary::udp_update_carries},
        {"relayed/udp_update_folds_twice_padded", Boundary::udp_update_carries_padded},
        {"relayed/ipv4_no_checksum_to_ipv6_folds_twice", Boundary::udp_made_carries},
        {"relayed/length_0", Boundary::data_empty},
        {"encapsulated/length_0", Boundary::data_empty},
        {"encapsulated/odd_length_no_padding", Boundary::data_odd},
        {"relayed/padding_1", Boundary::padding_1},
        {"relayed/padding_2", Boundary::padding_2},
        {"relayed/padding_3", Boundary::padding_3},
        {"relayed/ethernet_trailer", Boundary::ethernet_trailer},
        {"relayed/largest_frame", Boundary::largest_frame},
        {"relayed/basic", Boundary::channel_at_min},
        {"relayed/channel_0x4fff", Boundary::channel_at_max},
        {"channel_range/0x3fff", Boundary::channel_below_min},
        {"channel_range/0x5000_rfc8656", Boundary::channel_above_max},
        {"encapsulated/basic", Boundary::allocation_port_at_min},
        {"encapsulated/allocation_port_65535", Boundary::allocation_port_at_max},
        {"wrong_port/below_relay_ports", Boundary::allocation_port_below_min},
        {"wrong_port/above_relay_ports", Boundary::allocation_port_above_max},
        {"encapsulated/exactly_mtu", Boundary::output_at_mtu},
        {"too_big/one_over_mtu", Boundary::output_mtu_plus_1},
        {"udp_length/below_8", Boundary::udp_length_below_8},
        {"encapsulated/length_0", Boundary::total_length_28},
        {"ipv4_length/beyond_frame", Boundary::total_length_one_over},
        {"channel_length/0xffff", Boundary::channel_length_ffff},
        {"channel_length/one_over", Boundary::channel_length_one_over},
        {"channel_padding/4_bytes", Boundary::padding_4},
        {"relayed/ipv6_basic", Boundary::ipv6_relayed},
        {"encapsulated/ipv6_basic", Boundary::ipv6_encapsulated},
        {"relayed/ipv4_client_ipv6_peer", Boundary::ipv4_to_ipv6},
        {"encapsulated/ipv4_peer_ipv6_client", Boundary::ipv4_to_ipv6},
        {"relayed/ipv6_client_ipv4_peer", Boundary::ipv6_to_ipv4},
        {"encapsulated/ipv6_peer_ipv4_client", Boundary::ipv6_to_ipv4},
        {"relayed/ipv4_no_checksum_to_ipv6", Boundary::udp_checksum_made},
        {"encapsulated/ipv4_no_checksum_to_ipv6", Boundary::udp_checksum_made},
        {"relayed/ipv4_no_checksum_to_ipv6_computed_zero", Boundary::udp_checksum_made_ffff},
        {"relayed/ipv6_peer_ipv4_translated", Boundary::near_v4_mapped_out},
        {"relayed/peer_on_relay_host_below_relay_ports", Boundary::hairpin_port_below_min},
        {"relayed/ipv4_to_ipv6_at_mtu", Boundary::output_at_mtu},
        {"encapsulated/ipv4_to_ipv6_at_mtu", Boundary::output_at_mtu},
    };
    for (const auto& [case_name, boundary] : expected)
        BOOST_TEST(falls_in(case_name, boundary), case_name << " is not in " << name(boundary));
}

BOOST_AUTO_TEST_CASE(a_plain_relayed_frame_sits_on_no_checksum_or_length_boundary) {
    for (Boundary boundary :
         {Boundary::udp_checksum_none_in, Boundary::udp_checksum_ffff_in, Boundary::udp_checksum_error_in,
          Boundary::udp_checksum_ffff_out, Boundary::ip_checksum_0000_out, Boundary::data_empty, Boundary::data_odd,
          Boundary::padding_1, Boundary::ethernet_trailer, Boundary::largest_frame, Boundary::output_at_mtu,
          Boundary::ipv4_update_carries, Boundary::udp_update_carries})
        BOOST_TEST(!falls_in("encapsulated/channel_0x4fff", boundary), name(boundary));
}

// Within a family a relayed frame is no case across families, and an IPv4
// frame without a checksum relayed as IPv4 has none made.
BOOST_AUTO_TEST_CASE(a_frame_within_its_family_sits_on_no_family_boundary) {
    for (const char* case_name : {"relayed/basic", "relayed/udp_checksum_zero", "relayed/ipv6_basic"})
        for (Boundary boundary : {Boundary::ipv4_to_ipv6, Boundary::ipv6_to_ipv4, Boundary::udp_checksum_made})
            BOOST_TEST(!falls_in(case_name, boundary), case_name << " is in " << name(boundary));
    BOOST_TEST(!falls_in("relayed/ipv4_client_ipv6_peer", Boundary::ipv6_relayed));
}

namespace {

// One's complement folds to 16 bits with every carry added back.
std::uint16_t fold_fully(std::uint32_t sum) {
    while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// 0x0000 and 0xFFFF are the same number in one's complement.
bool same_ones_complement(std::uint16_t a, std::uint16_t b) {
    return a == b || (a == 0 && b == 0xFFFF) || (a == 0xFFFF && b == 0);
}

std::uint16_t be16_at(const std::vector<std::uint8_t>& frame, std::size_t at) {
    return static_cast<std::uint16_t>((frame[at] << 8) | frame[at + 1]);
}

}  // namespace

// The folded sums are the ones the outputs' checksums come from: every
// relayed or encapsulated fixed case's checksums are their complements.
// A term missing from a sum, or a word taken whole where half belongs,
// makes some case's checksum differ.
BOOST_AUTO_TEST_CASE(folded_sums_are_the_sums_the_output_checksums_come_from) {
    int udp_sums = 0, header_sums = 0;
    for (const FixedCase& c : fixed_cases()) {
        if (c.expected.verdict != Verdict::tx || c.frame[12] == 0x81) continue;  // no VLAN-tagged output
        const FoldedSums sums = folded_sums(c.frame, c.expected_output, c.expected.reason == Reason::relayed);
        const std::size_t udp_at = c.expected_output[12] == 0x86 ? 54 : 34;
        BOOST_TEST_CONTEXT(c.name) {
            if (sums.udp) {
                ++udp_sums;
                BOOST_TEST(same_ones_complement(static_cast<std::uint16_t>(~fold_fully(*sums.udp)),
                                                be16_at(c.expected_output, udp_at + 6)));
            }
            if (sums.ipv4_header) {
                ++header_sums;
                BOOST_TEST(same_ones_complement(static_cast<std::uint16_t>(~fold_fully(*sums.ipv4_header)),
                                                be16_at(c.expected_output, 24)));
            }
        }
    }
    BOOST_TEST(udp_sums > 30);
    BOOST_TEST(header_sums > 30);
}

// A valid IPv4 header's sum never carries out of its first fold: ten words
// sum to at most 0x9FFF6, and a carry would leave 1-9 after the second
// fold, never the 0xFFFF a valid header folds to. So a program that
// folds its header check once is right; the header's carries that matter
// are those of the update and of a header made in full.
BOOST_AUTO_TEST_CASE(a_valid_ipv4_header_sum_never_carries) {
    for (std::uint32_t high = 0; high <= 9; ++high)
        for (std::uint32_t low = 0; low <= 0xFFFF; ++low) {
            const std::uint32_t sum = (high << 16) | low;
            if (first_fold_carries(sum)) BOOST_REQUIRE(fold_fully(sum) != 0xFFFF);
        }
}
