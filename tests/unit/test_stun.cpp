// The STUN codec against the RFC 5769 test vectors, malformed input, and a
// build/parse round trip of every TURN attribute.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE stun
#include <boost/test/unit_test.hpp>

#include <string>

#include "relay/turn/stun.hpp"

using namespace xdpturn;
using namespace xdpturn::stun;

namespace {

std::vector<std::uint8_t> hex(const std::string& text) {
    std::vector<std::uint8_t> bytes;
    for (std::size_t i = 0; i + 1 < text.size();) {
        if (text[i] == ' ') {
            ++i;
            continue;
        }
        bytes.push_back(static_cast<std::uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
        i += 2;
    }
    return bytes;
}

Bytes text_bytes(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// RFC 5769 Section 2.1: Binding request, short-term credentials.
const std::vector<std::uint8_t> sample_request =
    hex("00010058 2112a442 b7e7a701 bc34d686 fa87dfae 80220010 5354554e 20746573 7420636c 69656e74"
        " 00240004 6e0001ff 80290008 932ff9b1 51263b36 00060009 6576746a 3a683676 59202020"
        " 00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2 80280004 e57a3bcf");
// Section 2.2: Binding success response, IPv4 XOR-MAPPED-ADDRESS.
const std::vector<std::uint8_t> sample_ipv4_response =
    hex("0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220"
        " 00200008 0001a147 e112a643 00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7"
        " 80280004 c07d4c96");
// Section 2.3: the same with an IPv6 address.
const std::vector<std::uint8_t> sample_ipv6_response =
    hex("01010048 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220"
        " 00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9 00080014 a382954e 4be67bf1"
        " 1784c97c 8292c275 bfe3ed41 80280004 c8fb0b4c");
const std::string short_term_password = "VOkJxbRl1RmTxUk/WvJxBt";

}  // namespace

BOOST_AUTO_TEST_CASE(rfc5769_request_parses_and_verifies) {
    auto message = parse(sample_request);
    BOOST_TEST_REQUIRE(message.ok(), (message.ok() ? "" : message.error().message));
    BOOST_TEST(message->is(Method::binding, Class::request));
    BOOST_TEST(as_text(*message->find(attribute::username)) == "evtj:h6vY");
    BOOST_TEST(as_text(*message->find(attribute::software)) == "STUN test client");
    BOOST_TEST(integrity_valid(*message, text_bytes(short_term_password)));
    BOOST_TEST(!integrity_valid(*message, text_bytes("VOkJxbRl1RmTxUk/WvJxBr")));
    BOOST_TEST(fingerprint_valid(*message));
}

BOOST_AUTO_TEST_CASE(rfc5769_ipv4_response_address_and_exact_encoding) {
    auto message = parse(sample_ipv4_response);
    BOOST_TEST_REQUIRE(message.ok());
    BOOST_TEST(message->is(Method::binding, Class::success));
    auto mapped = decode_xor_address(*message->find(attribute::xor_mapped_address), message->transaction);
    BOOST_TEST_REQUIRE(mapped.ok());
    BOOST_TEST(mapped->to_string() == "192.0.2.1:32853");
    BOOST_TEST(integrity_valid(*message, text_bytes(short_term_password)));
    BOOST_TEST(fingerprint_valid(*message));

    // Building the same message gives the same bytes, MAC and CRC included.
    const std::vector<std::uint8_t> built = MessageBuilder(Method::binding, Class::success, message->transaction)
                                                .padding_byte(0x20)
                                                .add_text(attribute::software, "test vector")
                                                .add_xor_address(attribute::xor_mapped_address, *mapped)
                                                .finish(text_bytes(short_term_password), true);
    BOOST_TEST(built == sample_ipv4_response);
}

BOOST_AUTO_TEST_CASE(rfc5769_ipv6_response_address) {
    auto message = parse(sample_ipv6_response);
    BOOST_TEST_REQUIRE(message.ok());
    auto mapped = decode_xor_address(*message->find(attribute::xor_mapped_address), message->transaction);
    BOOST_TEST_REQUIRE(mapped.ok());
    BOOST_TEST(mapped->to_string() == "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
    BOOST_TEST(integrity_valid(*message, text_bytes(short_term_password)));
    BOOST_TEST(fingerprint_valid(*message));
}

BOOST_AUTO_TEST_CASE(any_flipped_byte_breaks_integrity_or_fingerprint) {
    for (std::size_t i = 20; i < sample_ipv4_response.size(); ++i) {
        auto changed = sample_ipv4_response;
        changed[i] ^= 0x01;
        auto message = parse(changed);
        if (!message) continue;  // some flips make it malformed: also fine
        BOOST_TEST(!(integrity_valid(*message, text_bytes(short_term_password)) && fingerprint_valid(*message)),
                   "byte " << i);
    }
}

BOOST_AUTO_TEST_CASE(long_term_key_is_md5_of_user_realm_password) {
    // Expected value from Python's hashlib.md5(b"user:example.org:pass").
    const auto key = long_term_key("user", "example.org", "pass");
    BOOST_TEST(std::vector<std::uint8_t>(key.begin(), key.end()) == hex("abca35356f4b00fbc33e2d8c2c43b9d6"));
}

BOOST_AUTO_TEST_CASE(malformed_messages_are_rejected_with_a_reason) {
    auto expect_error = [](std::vector<std::uint8_t> bytes, const std::string& reason) {
        auto message = parse(bytes);
        BOOST_TEST_REQUIRE(!message.ok(), "accepted: " << reason);
        BOOST_TEST(message.error().message.find(reason) != std::string::npos, message.error().message);
    };
    expect_error(std::vector<std::uint8_t>(sample_request.begin(), sample_request.begin() + 19), "shorter than");
    auto bad_bits = sample_request;
    bad_bits[0] |= 0x40;
    expect_error(bad_bits, "first two bits");
    auto bad_cookie = sample_request;
    bad_cookie[4] ^= 1;
    expect_error(bad_cookie, "magic cookie");
    auto odd_length = sample_request;
    odd_length[3] = 0x57;
    expect_error(odd_length, "multiple of 4");
    auto cut = sample_request;
    cut.resize(cut.size() - 4);
    expect_error(cut, "disagrees");
    auto overlong_attribute = sample_request;
    overlong_attribute[22] = 0x01;  // SOFTWARE length 0x0110
    expect_error(overlong_attribute, "runs past");
    // An attribute after FINGERPRINT.
    auto after_fingerprint = sample_request;
    after_fingerprint.insert(after_fingerprint.end(), {0x80, 0x22, 0x00, 0x00});
    after_fingerprint[3] = static_cast<std::uint8_t>(after_fingerprint.size() - 20);
    expect_error(after_fingerprint, "after FINGERPRINT");
}

BOOST_AUTO_TEST_CASE(turn_attributes_round_trip) {
    const TransactionId transaction{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    TransportAddress peer6;
    peer6.ipv6 = true;
    peer6.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
    peer6.port = 6000;
    const auto key = long_term_key("alice", "xdpturn", "secret");
    const auto bytes = MessageBuilder(Method::channel_bind, Class::request, transaction)
                           .add_channel_number(0x4001)
                           .add_xor_address(attribute::xor_peer_address, TransportAddress::v4(0xCB007109, 6000))
                           .add_xor_address(attribute::xor_relayed_address, peer6)
                           .add_u32(attribute::lifetime, 600)
                           .add_requested_transport(transport_udp)
                           .add_text(attribute::username, "alice")
                           .add_text(attribute::realm, "xdpturn")
                           .add_text(attribute::nonce, "abcdef")
                           .add_error(438, "Stale Nonce")
                           .finish(Bytes(key), true);
    auto message = parse(bytes);
    BOOST_TEST_REQUIRE(message.ok());
    BOOST_TEST(message->is(Method::channel_bind, Class::request));
    BOOST_TEST(*decode_channel_number(*message->find(attribute::channel_number)) == 0x4001);
    BOOST_TEST(decode_xor_address(*message->find(attribute::xor_peer_address), transaction)->to_string() ==
               "203.0.113.9:6000");
    BOOST_TEST(decode_xor_address(*message->find(attribute::xor_relayed_address), transaction)->to_string() ==
               "[2001:db8::9]:6000");
    BOOST_TEST(*decode_u32(*message->find(attribute::lifetime)) == 600u);
    BOOST_TEST(*decode_requested_transport(*message->find(attribute::requested_transport)) == transport_udp);
    auto error = decode_error_code(*message->find(attribute::error_code));
    BOOST_TEST_REQUIRE(error.ok());
    BOOST_TEST(error->code == 438);
    BOOST_TEST(error->reason == "Stale Nonce");
    BOOST_TEST(integrity_valid(*message, Bytes(key)));
    BOOST_TEST(fingerprint_valid(*message));
}

BOOST_AUTO_TEST_CASE(message_type_encoding_matches_rfc_8489) {
    // Binding request 0x0001, success 0x0101, error 0x0111; Allocate request
    // 0x0003, ChannelBind success 0x0109, Data indication 0x0017.
    BOOST_TEST(encode_type(0x001, Class::request) == 0x0001);
    BOOST_TEST(encode_type(0x001, Class::success) == 0x0101);
    BOOST_TEST(encode_type(0x001, Class::error) == 0x0111);
    BOOST_TEST(encode_type(0x003, Class::request) == 0x0003);
    BOOST_TEST(encode_type(0x009, Class::success) == 0x0109);
    BOOST_TEST(encode_type(0x007, Class::indication) == 0x0017);
}
