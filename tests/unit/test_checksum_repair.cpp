// Every UDP checksum state replay tells apart, and the repair of the
// partial checksums that checksum offload leaves in captures, in both
// families.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE checksum_repair
#include <boost/test/unit_test.hpp>

#include "harness/cases/fixed_cases.hpp"
#include "harness/frames/sent_to.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "harness/replay/checksum_offload.hpp"

using namespace xdpturn;

namespace {

const std::vector<std::uint8_t>& ethernet_frame() {
    return find_fixed_case("relayed/basic")->frame;
}

}  // namespace

BOOST_AUTO_TEST_CASE(udp_checksum_states) {
    BOOST_TEST((classify_udp_checksum(ethernet_frame()) == UdpChecksumState::valid));
    BOOST_TEST((classify_udp_checksum(find_fixed_case("relayed/udp_checksum_zero")->frame) == UdpChecksumState::none));
    BOOST_TEST(
        (classify_udp_checksum(find_fixed_case("relayed/udp_checksum_wrong")->frame) == UdpChecksumState::wrong));
    BOOST_TEST((classify_udp_checksum(find_fixed_case("not_udp/tcp")->frame) == UdpChecksumState::not_applicable));

    // A partial checksum, as checksum offload leaves it: the folded
    // pseudo-header sum. Repair makes it valid again.
    std::vector<std::uint8_t> frame = ethernet_frame();
    const std::size_t udp_length = load_be16(frame, 14 + 20 + 4);
    const std::uint8_t protocol_and_length[] = {0, 17, static_cast<std::uint8_t>(udp_length >> 8),
                                                static_cast<std::uint8_t>(udp_length)};
    const auto pseudo = static_cast<std::uint16_t>(
        textbook_sum(protocol_and_length, textbook_sum(Bytes(frame).subspan(14 + 12, 8), 0)));
    store_be16(frame, 14 + 20 + 6, pseudo);
    BOOST_TEST((classify_udp_checksum(frame) == UdpChecksumState::partial));
    BOOST_TEST(repair_udp_checksum(frame));
    BOOST_TEST(frame == ethernet_frame());
}

// Checksum offload leaves IPv6 UDP checksums partial too; the repair uses
// the IPv6 pseudo-header.
BOOST_AUTO_TEST_CASE(ipv6_partial_checksums_are_repaired) {
    const std::vector<std::uint8_t> valid = find_fixed_case("relayed/ipv6_basic")->frame;
    BOOST_TEST((classify_udp_checksum(valid) == UdpChecksumState::valid));
    std::vector<std::uint8_t> frame = valid;
    const std::size_t udp_at = 14 + 40;
    const std::size_t udp_length = load_be16(frame, udp_at + 4);
    const auto pseudo =
        static_cast<std::uint16_t>(textbook_udp6_pseudo_header_sum(Bytes(frame).subspan(14), udp_length));
    store_be16(frame, udp_at + 6, pseudo);
    BOOST_TEST((classify_udp_checksum(frame) == UdpChecksumState::partial));
    BOOST_TEST(repair_udp_checksum(frame));
    BOOST_TEST(frame == valid);
}

// A frame moved to another destination (a target whose key holds a
// wildcard takes it as sent to the host's address): both checksums stay
// valid, a wrong one stays wrong by as much, and "no checksum" stays 0.
BOOST_AUTO_TEST_CASE(a_frame_sent_elsewhere_keeps_its_checksums_true) {
    const IpAddress elsewhere = Ipv4Address{0x0A0000FE};  // 10.0.0.254
    auto moved = sent_to(ethernet_frame(), elsewhere);
    BOOST_REQUIRE(moved.has_value());
    BOOST_TEST(load_be32(*moved, 14 + 16) == 0x0A0000FEu);
    BOOST_TEST(textbook_checksum(Bytes(*moved).subspan(14, 20)) == 0u, "the IPv4 header checksum");
    BOOST_TEST((classify_udp_checksum(*moved) == UdpChecksumState::valid));
    BOOST_TEST(!sent_to(*moved, elsewhere).has_value(), "already there");
    BOOST_TEST(!sent_to(ethernet_frame(), IpAddress::from_bytes(Ipv6Bytes{0x20, 0x01})).has_value(), "other family");

    const auto wrong = sent_to(find_fixed_case("relayed/udp_checksum_wrong")->frame, elsewhere);
    BOOST_REQUIRE(wrong.has_value());
    BOOST_TEST((classify_udp_checksum(*wrong) == UdpChecksumState::wrong));
    const auto none = sent_to(find_fixed_case("relayed/udp_checksum_zero")->frame, elsewhere);
    BOOST_REQUIRE(none.has_value());
    BOOST_TEST(load_be16(*none, 14 + 20 + 6) == 0u);

    const FixedCase& ipv6 = *find_fixed_case("relayed/ipv6_basic");
    Ipv6Bytes other{0x20, 0x01, 0x0D, 0xB8, 0xFF, 0xFF};
    other[15] = 0xFE;
    const auto moved6 = sent_to(ipv6.frame, IpAddress::from_bytes(other));
    BOOST_REQUIRE(moved6.has_value());
    BOOST_TEST((classify_udp_checksum(*moved6) == UdpChecksumState::valid));
}
