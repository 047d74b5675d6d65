// The independent frame validator must reject each kind of broken output.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE frame_validator
#include <boost/test/unit_test.hpp>

#include "harness/cases/fixed_cases.hpp"
#include "harness/frames/frame_validator.hpp"

using namespace xdpturn;

namespace {

const FixedCase& named(const char* name) {
    return *find_fixed_case(name);
}

std::string problem_with(const FixedCase& c, std::vector<std::uint8_t> output) {
    const auto problem = validate_output(c.frame, output, c.expected.reason);
    return problem ? *problem : std::string("valid");
}

}  // namespace

BOOST_AUTO_TEST_CASE(expected_outputs_are_valid) {
    for (const FixedCase& c : fixed_cases())
        if (c.expected.verdict == Verdict::tx) BOOST_TEST(problem_with(c, c.expected_output) == "valid", c.name);
}

BOOST_AUTO_TEST_CASE(each_broken_output_is_named) {
    const FixedCase& c = named("relayed/basic");
    auto broken = [&](std::size_t offset, std::uint8_t flip) {
        auto output = c.expected_output;
        output[offset] ^= flip;
        return problem_with(c, output);
    };
    BOOST_TEST(broken(14 + 10, 1).find("IPv4 header checksum") != std::string::npos);
    BOOST_TEST(broken(14 + 20 + 6, 1).find("UDP checksum does not verify") != std::string::npos);
    BOOST_TEST(broken(14 + 20 + 8 + 3, 1).find("application data") != std::string::npos);
    BOOST_TEST(broken(14 + 9, 1).find("protocol") != std::string::npos);
    BOOST_TEST(broken(14 + 6, 0x20).find("fragment") != std::string::npos);

    auto longer = c.expected_output;
    longer.push_back(0);
    BOOST_TEST(problem_with(c, longer).find("total length") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_carried_checksum_error_must_stay_the_same) {
    const FixedCase& c = named("relayed/udp_checksum_wrong");
    BOOST_TEST(problem_with(c, c.expected_output) == "valid");
    auto repaired = c.expected_output;
    repaired[14 + 20 + 6] ^= 0x01;
    BOOST_TEST(problem_with(c, repaired).find("error differs") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(zero_checksum_rules) {
    const FixedCase& none = named("relayed/udp_checksum_zero");
    BOOST_TEST(problem_with(none, none.expected_output) == "valid");
    auto invented = none.expected_output;
    invented[14 + 20 + 7] = 1;
    BOOST_TEST(problem_with(none, invented).find("no UDP checksum") != std::string::npos);

    const FixedCase& computed_zero = named("relayed/computed_zero_udp_checksum");
    auto sent_as_zero = computed_zero.expected_output;
    sent_as_zero[14 + 20 + 6] = sent_as_zero[14 + 20 + 7] = 0;
    BOOST_TEST(problem_with(computed_zero, sent_as_zero).find("is 0 (none)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(each_broken_encapsulation_is_named) {
    const FixedCase& c = named("encapsulated/basic");
    auto broken = [&](std::size_t offset, std::uint8_t flip) {
        auto output = c.expected_output;
        output[offset] ^= flip;
        return problem_with(c, output);
    };
    BOOST_TEST(broken(14 + 8, 1).find("TTL") != std::string::npos);
    BOOST_TEST(broken(14 + 20 + 8, 0x80).find("not a channel number") != std::string::npos);
    BOOST_TEST(broken(14 + 20 + 8 + 3, 4).find("Length") != std::string::npos);
    BOOST_TEST(broken(14 + 20 + 8 + 4, 1).find("peer's 20 bytes") != std::string::npos);
    BOOST_TEST(broken(14 + 20 + 6, 1).find("UDP checksum does not verify") != std::string::npos);

    // Padding to a multiple of 4 is allowed by RFC 8656 but not by this
    // contract: the output ends where the data ends.
    const FixedCase& odd = named("encapsulated/odd_length_no_padding");
    auto padded = odd.expected_output;
    padded.push_back(0);
    BOOST_TEST(problem_with(odd, padded).find("total length") != std::string::npos);
}

// Over IPv6 the offsets move by 20 bytes and the rules change: no header
// checksum, the whole first word (version, traffic class, flow label) and
// the hop limit kept, the 128-bit pseudo-header in the UDP checksum.
BOOST_AUTO_TEST_CASE(each_broken_ipv6_output_is_named) {
    const FixedCase& c = named("relayed/ipv6_class_flow_hop_kept");
    auto broken = [&](std::size_t offset, std::uint8_t flip) {
        auto output = c.expected_output;
        output[offset] ^= flip;
        return problem_with(c, output);
    };
    BOOST_TEST(broken(12, 0xFF).find("EtherType is neither") != std::string::npos);
    BOOST_TEST(broken(14 + 3, 1).find("flow label") != std::string::npos);
    BOOST_TEST(broken(14 + 1, 0x10).find("traffic class") != std::string::npos);
    BOOST_TEST(broken(14 + 7, 1).find("hop limit") != std::string::npos);
    BOOST_TEST(broken(14 + 6, 1).find("Next Header") != std::string::npos);
    // A changed address bit anywhere in the 128 bits breaks the checksum.
    BOOST_TEST(broken(14 + 24, 0x01).find("UDP checksum does not verify") != std::string::npos);
    BOOST_TEST(broken(14 + 40 + 6, 1).find("UDP checksum does not verify") != std::string::npos);
    BOOST_TEST(broken(14 + 40 + 8 + 3, 1).find("application data") != std::string::npos);
    auto longer = c.expected_output;
    longer.push_back(0);
    BOOST_TEST(problem_with(c, longer).find("payload length") != std::string::npos);

    const FixedCase& encapsulated = named("encapsulated/ipv6_basic");
    auto zeroed = encapsulated.expected_output;
    zeroed[14 + 40 + 6] = zeroed[14 + 40 + 7] = 0;
    BOOST_TEST(problem_with(encapsulated, zeroed).find("is 0 (none)") != std::string::npos);
    auto lengthened = encapsulated.expected_output;
    lengthened[14 + 40 + 8 + 3] ^= 4;
    BOOST_TEST(problem_with(encapsulated, lengthened).find("Length") != std::string::npos);
}

// Across families the output's header is of the other family, built from
// the input's: each carried-over field, and each one that must not be
// inherited, is named when wrong.
BOOST_AUTO_TEST_CASE(each_broken_output_across_families_is_named) {
    const FixedCase& to_v6 = named("relayed/ipv4_client_ipv6_peer");
    const FixedCase& to_v4 = named("relayed/ipv6_client_ipv4_peer");
    BOOST_TEST(problem_with(to_v6, to_v6.expected_output) == "valid");
    BOOST_TEST(problem_with(to_v4, to_v4.expected_output) == "valid");
    auto broken = [](const FixedCase& c, std::size_t offset, std::uint8_t flip) {
        auto output = c.expected_output;
        output[offset] ^= flip;
        return problem_with(c, output);
    };
    BOOST_TEST(broken(to_v6, 14 + 1, 0x10).find("traffic class") != std::string::npos);
    BOOST_TEST(broken(to_v6, 14 + 3, 0x01).find("flow label") != std::string::npos);
    BOOST_TEST(broken(to_v6, 14 + 7, 0x01).find("hop limit") != std::string::npos);
    BOOST_TEST(broken(to_v6, 14 + 8, 0x01).find("UDP checksum") != std::string::npos);
    BOOST_TEST(broken(to_v4, 14 + 5, 0x01).find("identification") != std::string::npos);
    BOOST_TEST(broken(to_v4, 14 + 8, 0x01).find("TTL") != std::string::npos);
    BOOST_TEST(broken(to_v4, 14 + 20 + 6, 0x01).find("UDP checksum") != std::string::npos);

    // An IPv4 input without a checksum gets a valid one in IPv6: neither
    // 0 nor a wrong one will do.
    const FixedCase& made = named("relayed/ipv4_no_checksum_to_ipv6");
    BOOST_TEST(problem_with(made, made.expected_output) == "valid");
    auto kept_zero = made.expected_output;
    kept_zero[14 + 40 + 6] = kept_zero[14 + 40 + 7] = 0;
    BOOST_TEST(problem_with(made, kept_zero).find("without one") != std::string::npos);
    BOOST_TEST(broken(made, 14 + 40 + 7, 0x01).find("does not verify") != std::string::npos);
}
