// STUN message codec (RFC 8489) with the TURN attributes (RFC 8656).
// Parsing never reads outside the datagram: every length is checked against
// what is left before it is used, and malformed input is rejected with the
// reason. Attribute values are views into the parsed datagram.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/net/address.hpp"
#include "relay/net/bytes.hpp"
#include "relay/net/result.hpp"

namespace xdpturn::stun {

inline constexpr std::uint32_t magic_cookie = 0x2112A442;
inline constexpr std::size_t header_bytes = 20;
inline constexpr std::uint32_t fingerprint_xor = 0x5354554E;

enum class Method : std::uint16_t {
    binding = 0x001,
    allocate = 0x003,
    refresh = 0x004,
    send = 0x006,
    data = 0x007,
    create_permission = 0x008,
    channel_bind = 0x009,
};

enum class Class : std::uint8_t { request = 0, indication = 1, success = 2, error = 3 };

// Attribute types (IANA STUN Attributes registry).
namespace attribute {
inline constexpr std::uint16_t mapped_address = 0x0001;
inline constexpr std::uint16_t username = 0x0006;
inline constexpr std::uint16_t message_integrity = 0x0008;
inline constexpr std::uint16_t error_code = 0x0009;
inline constexpr std::uint16_t unknown_attributes = 0x000A;
inline constexpr std::uint16_t channel_number = 0x000C;
inline constexpr std::uint16_t lifetime = 0x000D;
inline constexpr std::uint16_t xor_peer_address = 0x0012;
inline constexpr std::uint16_t data = 0x0013;
inline constexpr std::uint16_t realm = 0x0014;
inline constexpr std::uint16_t nonce = 0x0015;
inline constexpr std::uint16_t xor_relayed_address = 0x0016;
inline constexpr std::uint16_t requested_address_family = 0x0017;
inline constexpr std::uint16_t even_port = 0x0018;
inline constexpr std::uint16_t requested_transport = 0x0019;
inline constexpr std::uint16_t dont_fragment = 0x001A;
inline constexpr std::uint16_t message_integrity_sha256 = 0x001C;
inline constexpr std::uint16_t xor_mapped_address = 0x0020;
inline constexpr std::uint16_t reservation_token = 0x0022;
inline constexpr std::uint16_t software = 0x8022;
inline constexpr std::uint16_t fingerprint = 0x8028;
}  // namespace attribute

inline constexpr std::uint8_t transport_udp = 17;  // REQUESTED-TRANSPORT value

using TransactionId = std::array<std::uint8_t, 12>;

// An IPv4 or IPv6 transport address; IPv4 uses the first four bytes.
struct TransportAddress {
    bool ipv6 = false;
    std::array<std::uint8_t, 16> address{};
    std::uint16_t port = 0;

    static TransportAddress v4(std::uint32_t host_order_address, std::uint16_t port);
    std::uint32_t v4_value() const;  // host order
    std::string to_string() const;
    friend bool operator==(const TransportAddress&, const TransportAddress&) = default;
};

// The same transport address as the data path's Endpoint (either family).
Endpoint endpoint_of(const TransportAddress& address);

struct Attribute {
    std::uint16_t type = 0;
    Bytes value;             // without padding
    std::size_t offset = 0;  // of the attribute header within the message
};

struct Message {
    std::uint16_t method = 0;
    Class message_class = Class::request;
    TransactionId transaction{};
    std::vector<Attribute> attributes;  // in message order
    Bytes raw;                          // the whole message (header + attributes)

    bool is(Method m, Class c) const { return method == static_cast<std::uint16_t>(m) && message_class == c; }
    const Attribute* find(std::uint16_t type) const;  // first occurrence
};

// The first two bits of a STUN message are zero and its cookie is fixed
// (RFC 7983 demultiplexing); this says nothing about validity.
bool looks_like_stun(Bytes datagram);

// Parses one STUN message that fills `datagram` exactly.
Result<Message> parse(Bytes datagram);

std::uint16_t encode_type(std::uint16_t method, Class message_class);

// Attribute values.
Result<TransportAddress> decode_xor_address(const Attribute& attribute, const TransactionId& transaction);
Result<std::uint32_t> decode_u32(const Attribute& attribute);  // LIFETIME
Result<std::uint16_t> decode_channel_number(const Attribute& attribute);
Result<std::uint8_t> decode_requested_transport(const Attribute& attribute);
struct ErrorCode {
    int code = 0;  // 300..699
    std::string reason;
};
Result<ErrorCode> decode_error_code(const Attribute& attribute);
std::string_view as_text(const Attribute& attribute);

// Long-term credential key: MD5(username ":" realm ":" password).
std::array<std::uint8_t, 16> long_term_key(std::string_view username, std::string_view realm,
                                           std::string_view password);

// MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT (CRC-32 xor 0x5354554E)
// checks; false when the attribute is absent.
bool integrity_valid(const Message& message, Bytes key);
bool fingerprint_valid(const Message& message);

// Builds a message: attributes in the order added, then optionally
// MESSAGE-INTEGRITY and FINGERPRINT.
class MessageBuilder {
  public:
    MessageBuilder(std::uint16_t method, Class message_class, const TransactionId& transaction);
    MessageBuilder(Method method, Class message_class, const TransactionId& transaction)
        : MessageBuilder(static_cast<std::uint16_t>(method), message_class, transaction) {}

    // Padding bytes are ignored by receivers; RFC 5769's vectors use 0x20.
    MessageBuilder& padding_byte(std::uint8_t value);
    MessageBuilder& add(std::uint16_t type, Bytes value);
    MessageBuilder& add_text(std::uint16_t type, std::string_view text);
    MessageBuilder& add_u32(std::uint16_t type, std::uint32_t value);
    MessageBuilder& add_xor_address(std::uint16_t type, const TransportAddress& address);
    MessageBuilder& add_error(int code, std::string_view reason);
    MessageBuilder& add_channel_number(std::uint16_t channel);
    MessageBuilder& add_requested_transport(std::uint8_t protocol);

    std::vector<std::uint8_t> finish(std::optional<Bytes> integrity_key = std::nullopt, bool fingerprint = false);

  private:
    void append_attribute(std::uint16_t type, Bytes value);

    std::vector<std::uint8_t> message_;
    TransactionId transaction_;
    std::uint8_t padding_ = 0;
};

}  // namespace xdpturn::stun
