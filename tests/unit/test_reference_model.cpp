// The reference model alone (no BPF): every fixed case's expected verdict,
// reason and exact output; the checksum and ChannelData building blocks.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE reference_model
#include <boost/test/unit_test.hpp>

#include "harness/cases/fixed_cases.hpp"
#include "harness/compare/comparator.hpp"
#include "harness/frames/frame_builder.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "relay/model/channel_data.hpp"
#include "relay/model/reference_model.hpp"
#include "relay/net/checksum.hpp"

using namespace xdpturn;

BOOST_AUTO_TEST_CASE(every_fixed_case_decided_as_expected) {
    for (const FixedCase& c : fixed_cases()) {
        BOOST_TEST_CONTEXT(c.name << ": " << c.description) {
            const ReferenceModel model(c.config, c.bindings);
            std::vector<std::uint8_t> relayed;
            const Decision decision = model.decide(c.frame, relayed);
            BOOST_TEST(std::string(name(decision.verdict)) == std::string(name(c.expected.verdict)));
            BOOST_TEST(std::string(name(decision.reason)) == std::string(name(c.expected.reason)));
            const std::vector<std::uint8_t>& output = decision.verdict == Verdict::pass ? c.frame : relayed;
            const FrameDiff diff = compare_frames(c.expected_output, output, DissectOptions{c.config.turn_port});
            BOOST_TEST(diff.equal(), "output differs:\n" << diff.render("expected", "reference"));
        }
    }
}

BOOST_AUTO_TEST_CASE(every_reachable_contract_row_has_a_fixed_case) {
    std::array<int, reason_count> cases{};
    for (const FixedCase& c : fixed_cases()) ++cases[static_cast<std::size_t>(c.expected.reason)];
    for (std::size_t i = 0; i < reason_count; ++i) {
        const Reason reason = static_cast<Reason>(i);
        if (reason == Reason::rewrite_failed) continue;  // no frame reaches it (docs/datapath.md)
        BOOST_TEST(cases[i] > 0, "contract row " << name(reason) << " has no fixed case");
    }
}

BOOST_AUTO_TEST_CASE(rfc1071_numeric_example) {
    // RFC 1071 Section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
    const std::uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    BOOST_TEST(OnesComplementSum{}.add(bytes).value() == 0xddf2);
    BOOST_TEST(checksum_from_sum(0xddf2) == 0x220d);
}

BOOST_AUTO_TEST_CASE(sum_over_split_ranges_equals_sum_over_whole) {
    const auto bytes = pattern_bytes(101, 3);
    for (std::size_t split = 0; split <= bytes.size(); ++split) {
        const Bytes all(bytes);
        OnesComplementSum split_sum;
        split_sum.add(all.first(split)).add(all.subspan(split));
        BOOST_TEST(split_sum.value() == OnesComplementSum{}.add(all).value());
    }
}

BOOST_AUTO_TEST_CASE(reference_checksum_agrees_with_textbook_loop) {
    for (std::size_t size = 1; size < 200; size += 7) {
        const auto bytes = pattern_bytes(size, static_cast<std::uint8_t>(size));
        BOOST_TEST(checksum_from_sum(OnesComplementSum{}.add(bytes).value()) == textbook_checksum(bytes));
    }
}

BOOST_AUTO_TEST_CASE(mod_65535_treats_both_zeros_alike) {
    BOOST_TEST(add_mod_65535(0xFFFF, 0x1234) == 0x1234);
    BOOST_TEST(add_mod_65535(0xFFFF, 0xFFFF) == 0);
    BOOST_TEST(add_mod_65535(0x8000, 0x8000) == 1);
}

BOOST_AUTO_TEST_CASE(channel_data_rules) {
    const std::vector<std::uint8_t> message = {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c', 0};
    const auto ok = parse_channel_data(message, rfc8656_channels);
    BOOST_TEST(static_cast<int>(ok.status) == static_cast<int>(ChannelDataStatus::ok));
    BOOST_TEST(ok.channel == 0x4001);
    BOOST_TEST(ok.application_data.size() == 3u);

    const auto too_short = parse_channel_data(Bytes(message).first(3), rfc8656_channels);
    BOOST_TEST(static_cast<int>(too_short.status) == static_cast<int>(ChannelDataStatus::too_short));

    std::vector<std::uint8_t> long_claim = message;
    long_claim[3] = 5;
    BOOST_TEST(static_cast<int>(parse_channel_data(long_claim, rfc8656_channels).status) ==
               static_cast<int>(ChannelDataStatus::length_exceeds));

    std::vector<std::uint8_t> excess = message;
    excess.insert(excess.end(), {0, 0, 0});
    BOOST_TEST(static_cast<int>(parse_channel_data(excess, rfc8656_channels).status) ==
               static_cast<int>(ChannelDataStatus::excess_padding));

    std::vector<std::uint8_t> high = message;
    high[0] = 0x7F;
    high[1] = 0xFF;
    BOOST_TEST(static_cast<int>(parse_channel_data(high, rfc8656_channels).status) ==
               static_cast<int>(ChannelDataStatus::out_of_range));
    BOOST_TEST(static_cast<int>(parse_channel_data(high, rfc5766_channels).status) ==
               static_cast<int>(ChannelDataStatus::ok));
}

BOOST_AUTO_TEST_CASE(channel_range_parsing) {
    auto hex = parse_channel_range("0x4000-0x7FFF");
    BOOST_TEST(hex.ok());
    BOOST_TEST((*hex == rfc5766_channels));
    auto decimal = parse_channel_range("16384-20479");
    BOOST_TEST(decimal.ok());
    BOOST_TEST((*decimal == rfc8656_channels));
    BOOST_TEST(!parse_channel_range("0x5000-0x4000").ok());
    BOOST_TEST(!parse_channel_range("16384").ok());
    BOOST_TEST(!parse_channel_range("0x4000-0x1FFFF").ok());
    BOOST_TEST(!parse_channel_range("abc-def").ok());
}

BOOST_AUTO_TEST_CASE(endpoint_parsing) {
    auto endpoint = parse_endpoint("198.51.100.7:50000");
    BOOST_TEST(endpoint.ok());
    BOOST_TEST(endpoint->address.is_v4());
    BOOST_TEST(endpoint->address.v4().value == 0xC6336407u);
    BOOST_TEST(endpoint->port == 50000);
    BOOST_TEST(to_string(*endpoint) == "198.51.100.7:50000");
    BOOST_TEST(!parse_endpoint("198.51.100.7").ok());
    BOOST_TEST(!parse_endpoint("198.51.100.7:70000").ok());
    BOOST_TEST(!parse_endpoint("host:1").ok());
}

// IPv6 endpoints are bracketed, and an IPv4 address is never equal to the
// IPv6 address whose last 32 bits it shares.
BOOST_AUTO_TEST_CASE(ipv6_endpoint_parsing) {
    auto endpoint = parse_endpoint("[2001:db8::7]:50000");
    BOOST_TEST_REQUIRE(endpoint.ok());
    BOOST_TEST(!endpoint->address.is_v4());
    BOOST_TEST(endpoint->address.bytes()[0] == 0x20);
    BOOST_TEST(endpoint->address.bytes()[15] == 0x07);
    BOOST_TEST(to_string(*endpoint) == "[2001:db8::7]:50000");
    BOOST_TEST(!parse_endpoint("2001:db8::7:50000").ok());  // no brackets: the port is ambiguous
    BOOST_TEST(!parse_endpoint("[2001:db8::g]:1").ok());
    BOOST_TEST(!parse_endpoint("[2001:db8::7]:70000").ok());

    const IpAddress v4 = Ipv4Address{0x00000007};
    auto v6 = parse_ip("::7");
    BOOST_TEST_REQUIRE(v6.ok());
    BOOST_TEST(!(v4 == *v6));
    BOOST_TEST(to_string(v4) == "0.0.0.7");
    auto mapped = parse_ip("::ffff:192.0.2.1");
    BOOST_TEST_REQUIRE(mapped.ok());
    BOOST_TEST((*mapped == IpAddress{Ipv4Address{0xC0000201}}));
}
