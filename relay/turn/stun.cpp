#include "relay/turn/stun.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace xdpturn::stun {

namespace {

constexpr std::size_t attribute_header_bytes = 4;
constexpr std::size_t sha1_bytes = 20;
constexpr std::uint8_t family_ipv4 = 0x01;
constexpr std::uint8_t family_ipv6 = 0x02;

std::size_t padded(std::size_t length) {
    return (length + 3) & ~std::size_t{3};
}

std::string hex16(std::uint16_t value) {
    char text[8];
    std::snprintf(text, sizeof(text), "0x%04x", value);
    return text;
}

// The message type interleaves method bits M0-M11 with class bits C0, C1
// (RFC 8489 Section 5): M11..M7 C1 M6..M4 C0 M3..M0.
std::uint16_t method_of(std::uint16_t type) {
    return static_cast<std::uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}

Class class_of(std::uint16_t type) {
    return static_cast<Class>(((type >> 4) & 1) | ((type >> 7) & 2));
}

// The message as it was when an attribute at `offset` (of `attribute_length`
// value bytes) was the last one: the header length field counts up to it.
std::vector<std::uint8_t> prefix_for(Bytes raw, std::size_t offset, std::size_t attribute_length) {
    std::vector<std::uint8_t> prefix(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(offset));
    store_be16(prefix, 2,
               static_cast<std::uint16_t>(offset + attribute_header_bytes + attribute_length - header_bytes));
    return prefix;
}

std::array<std::uint8_t, sha1_bytes> hmac_sha1(Bytes key, Bytes data) {
    std::array<std::uint8_t, sha1_bytes> digest{};
    unsigned int length = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), digest.data(), &length);
    return digest;
}

std::uint32_t crc32_of(Bytes data) {
    return static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), data.data(), static_cast<uInt>(data.size())));
}

}  // namespace

TransportAddress TransportAddress::v4(std::uint32_t host_order_address, std::uint16_t port) {
    TransportAddress address;
    store_be32(address.address, 0, host_order_address);
    address.port = port;
    return address;
}

std::uint32_t TransportAddress::v4_value() const {
    return load_be32(address, 0);
}

Endpoint endpoint_of(const TransportAddress& address) {
    if (!address.ipv6) return Endpoint{Ipv4Address{address.v4_value()}, address.port};
    return Endpoint{IpAddress::from_bytes(address.address), address.port};
}

std::string TransportAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, address.data(), text, sizeof(text));
    return ipv6 ? "[" + std::string(text) + "]:" + std::to_string(port)
                : std::string(text) + ":" + std::to_string(port);
}

const Attribute* Message::find(std::uint16_t type) const {
    for (const Attribute& attribute : attributes)
        if (attribute.type == type) return &attribute;
    return nullptr;
}

bool looks_like_stun(Bytes datagram) {
    return datagram.size() >= header_bytes && (datagram[0] & 0xC0) == 0 && load_be32(datagram, 4) == magic_cookie;
}

std::uint16_t encode_type(std::uint16_t method, Class message_class) {
    const auto c = static_cast<std::uint16_t>(message_class);
    return static_cast<std::uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                                      ((c & 1) << 4) | ((c & 2) << 7));
}

Result<Message> parse(Bytes datagram) {
    if (datagram.size() < header_bytes) return Error{"shorter than a STUN header"};
    if ((datagram[0] & 0xC0) != 0) return Error{"first two bits are not zero"};
    if (load_be32(datagram, 4) != magic_cookie) return Error{"no magic cookie"};
    const std::size_t length = load_be16(datagram, 2);
    if (length % 4 != 0) return Error{"message length is not a multiple of 4"};
    if (header_bytes + length != datagram.size()) return Error{"message length disagrees with the datagram"};

    Message message;
    const std::uint16_t type = load_be16(datagram, 0);
    message.method = method_of(type);
    message.message_class = class_of(type);
    std::copy_n(datagram.begin() + 8, message.transaction.size(), message.transaction.begin());
    message.raw = datagram;

    bool seen_integrity = false;
    bool seen_fingerprint = false;
    for (std::size_t offset = header_bytes; offset < datagram.size();) {
        if (datagram.size() - offset < attribute_header_bytes) return Error{"attribute header cut short"};
        const std::uint16_t attribute_type = load_be16(datagram, offset);
        const std::size_t value_length = load_be16(datagram, offset + 2);
        const std::size_t value_offset = offset + attribute_header_bytes;
#ifdef XDPTURN_PLANT_STUN_OFF_BY_ONE
        // Planted bug (fuzz/ only): lets an attribute run 4 bytes past the end.
        if (padded(value_length) > datagram.size() - value_offset + 4)
#else
        if (padded(value_length) > datagram.size() - value_offset)
#endif
            return Error{"attribute " + hex16(attribute_type) + " runs past the message"};
        // Nothing follows FINGERPRINT; after MESSAGE-INTEGRITY, anything but
        // FINGERPRINT and MESSAGE-INTEGRITY-SHA256 is ignored (RFC 8489
        // Sections 14.5, 14.7): it is not covered by the integrity check.
        if (seen_fingerprint) return Error{"attribute after FINGERPRINT"};
        if (seen_integrity && attribute_type != attribute::fingerprint &&
            attribute_type != attribute::message_integrity_sha256) {
            offset = value_offset + padded(value_length);
            continue;
        }
        if (attribute_type == attribute::message_integrity) {
            if (value_length != sha1_bytes) return Error{"MESSAGE-INTEGRITY is not 20 bytes"};
            seen_integrity = true;
        }
        if (attribute_type == attribute::fingerprint) {
            if (value_length != 4) return Error{"FINGERPRINT is not 4 bytes"};
            seen_fingerprint = true;
        }
        message.attributes.push_back({attribute_type, datagram.subspan(value_offset, value_length), offset});
        offset = value_offset + padded(value_length);
    }
    return message;
}

Result<TransportAddress> decode_xor_address(const Attribute& attribute, const TransactionId& transaction) {
    const Bytes value = attribute.value;
    if (value.size() < 4) return Error{"address attribute too short"};
    TransportAddress address;
    const std::uint8_t family = value[1];
    if (family == family_ipv4) {
        if (value.size() != 8) return Error{"IPv4 address attribute is not 8 bytes"};
    } else if (family == family_ipv6) {
        if (value.size() != 20) return Error{"IPv6 address attribute is not 20 bytes"};
        address.ipv6 = true;
    } else {
        return Error{"unknown address family " + std::to_string(family)};
    }
    address.port = static_cast<std::uint16_t>(load_be16(value, 2) ^ (magic_cookie >> 16));
    // The address is xored with the cookie, then (IPv6) the transaction ID.
    std::array<std::uint8_t, 16> mask{};
    store_be32(mask, 0, magic_cookie);
    std::copy(transaction.begin(), transaction.end(), mask.begin() + 4);
    const std::size_t bytes = address.ipv6 ? 16 : 4;
    for (std::size_t i = 0; i < bytes; ++i) address.address[i] = value[4 + i] ^ mask[i];
    return address;
}

Result<std::uint32_t> decode_u32(const Attribute& attribute) {
    if (attribute.value.size() != 4) return Error{"attribute is not 4 bytes"};
    return load_be32(attribute.value, 0);
}

Result<std::uint16_t> decode_channel_number(const Attribute& attribute) {
    if (attribute.value.size() != 4) return Error{"CHANNEL-NUMBER is not 4 bytes"};
    return load_be16(attribute.value, 0);
}

Result<std::uint8_t> decode_requested_transport(const Attribute& attribute) {
    if (attribute.value.size() != 4) return Error{"REQUESTED-TRANSPORT is not 4 bytes"};
    return attribute.value[0];
}

Result<ErrorCode> decode_error_code(const Attribute& attribute) {
    const Bytes value = attribute.value;
    if (value.size() < 4) return Error{"ERROR-CODE too short"};
    const int error_class = value[2] & 0x07;
    const int number = value[3];
    if (error_class < 3 || error_class > 6 || number > 99) return Error{"ERROR-CODE out of range"};
    return ErrorCode{error_class * 100 + number,
                     std::string(reinterpret_cast<const char*>(value.data()) + 4, value.size() - 4)};
}

std::string_view as_text(const Attribute& attribute) {
    return {reinterpret_cast<const char*>(attribute.value.data()), attribute.value.size()};
}

std::array<std::uint8_t, 16> long_term_key(std::string_view username, std::string_view realm,
                                           std::string_view password) {
    const std::string input = std::string(username) + ":" + std::string(realm) + ":" + std::string(password);
    std::array<std::uint8_t, 16> key{};
    unsigned int length = 0;
    EVP_Digest(input.data(), input.size(), key.data(), &length, EVP_md5(), nullptr);
    return key;
}

bool integrity_valid(const Message& message, Bytes key) {
    const Attribute* integrity = message.find(attribute::message_integrity);
    if (integrity == nullptr) return false;
    const auto expected = hmac_sha1(key, prefix_for(message.raw, integrity->offset, sha1_bytes));
    // Constant-time comparison: the value is a secret-derived MAC.
    unsigned char difference = 0;
    for (std::size_t i = 0; i < sha1_bytes; ++i) difference |= expected[i] ^ integrity->value[i];
    return difference == 0;
}

bool fingerprint_valid(const Message& message) {
    const Attribute* fingerprint = message.find(attribute::fingerprint);
    if (fingerprint == nullptr) return false;
    return (crc32_of(prefix_for(message.raw, fingerprint->offset, 4)) ^ fingerprint_xor) ==
           load_be32(fingerprint->value, 0);
}

MessageBuilder::MessageBuilder(std::uint16_t method, Class message_class, const TransactionId& transaction)
    : message_(header_bytes), transaction_(transaction) {
    store_be16(message_, 0, encode_type(method, message_class));
    store_be32(message_, 4, magic_cookie);
    std::copy(transaction.begin(), transaction.end(), message_.begin() + 8);
}

MessageBuilder& MessageBuilder::padding_byte(std::uint8_t value) {
    padding_ = value;
    return *this;
}

void MessageBuilder::append_attribute(std::uint16_t type, Bytes value) {
    const std::size_t at = message_.size();
    message_.resize(at + attribute_header_bytes + padded(value.size()), padding_);
    store_be16(message_, at, type);
    store_be16(message_, at + 2, static_cast<std::uint16_t>(value.size()));
    std::copy(value.begin(), value.end(), message_.begin() + static_cast<std::ptrdiff_t>(at + attribute_header_bytes));
    store_be16(message_, 2, static_cast<std::uint16_t>(message_.size() - header_bytes));
}

MessageBuilder& MessageBuilder::add(std::uint16_t type, Bytes value) {
    append_attribute(type, value);
    return *this;
}

MessageBuilder& MessageBuilder::add_text(std::uint16_t type, std::string_view text) {
    return add(type, Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

MessageBuilder& MessageBuilder::add_u32(std::uint16_t type, std::uint32_t value) {
    std::array<std::uint8_t, 4> bytes{};
    store_be32(bytes, 0, value);
    return add(type, bytes);
}

MessageBuilder& MessageBuilder::add_xor_address(std::uint16_t type, const TransportAddress& address) {
    std::array<std::uint8_t, 20> value{};
    value[1] = address.ipv6 ? family_ipv6 : family_ipv4;
    store_be16(value, 2, static_cast<std::uint16_t>(address.port ^ (magic_cookie >> 16)));
    std::array<std::uint8_t, 16> mask{};
    store_be32(mask, 0, magic_cookie);
    std::copy(transaction_.begin(), transaction_.end(), mask.begin() + 4);
    const std::size_t bytes = address.ipv6 ? 16 : 4;
    for (std::size_t i = 0; i < bytes; ++i) value[4 + i] = address.address[i] ^ mask[i];
    return add(type, Bytes(value).first(4 + bytes));
}

MessageBuilder& MessageBuilder::add_error(int code, std::string_view reason) {
    std::vector<std::uint8_t> value(4);
    value[2] = static_cast<std::uint8_t>(code / 100);
    value[3] = static_cast<std::uint8_t>(code % 100);
    value.insert(value.end(), reason.begin(), reason.end());
    return add(attribute::error_code, value);
}

MessageBuilder& MessageBuilder::add_channel_number(std::uint16_t channel) {
    return add_u32(attribute::channel_number, std::uint32_t{channel} << 16);
}

MessageBuilder& MessageBuilder::add_requested_transport(std::uint8_t protocol) {
    return add_u32(attribute::requested_transport, std::uint32_t{protocol} << 24);
}

std::vector<std::uint8_t> MessageBuilder::finish(std::optional<Bytes> integrity_key, bool fingerprint) {
    if (integrity_key) {
        const std::size_t at = message_.size();
        const auto digest = hmac_sha1(*integrity_key, prefix_for(message_, at, sha1_bytes));
        append_attribute(attribute::message_integrity, digest);
    }
    if (fingerprint) {
        const std::size_t at = message_.size();
        std::array<std::uint8_t, 4> value{};
        store_be32(value, 0, crc32_of(prefix_for(message_, at, 4)) ^ fingerprint_xor);
        append_attribute(attribute::fingerprint, value);
    }
    return message_;
}

}  // namespace xdpturn::stun
