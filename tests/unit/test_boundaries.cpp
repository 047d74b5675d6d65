// Each boundary class means what its name says: the fixed case built to sit
// on a boundary falls in its class, and a plain case falls in none of the
// classes it is not built for.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE boundaries
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "harness/cases/fixed_cases.hpp"
#include "harness/check/boundaries.hpp"

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
          Boundary::padding_1, Boundary::ethernet_trailer, Boundary::largest_frame, Boundary::output_at_mtu})
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
