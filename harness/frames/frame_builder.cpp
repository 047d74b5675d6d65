#include "harness/frames/frame_builder.hpp"

#include "harness/frames/layout.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "relay/net/bytes.hpp"

#include <algorithm>
#include <cstring>
#include <span>

namespace xdpturn {

namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    put16(out, static_cast<std::uint16_t>(value >> 16));
    put16(out, static_cast<std::uint16_t>(value & 0xFFFF));
}

// One's-complement addition of an error term to a checksum field value.
std::uint16_t add_error(std::uint16_t value, std::uint16_t error) {
    std::uint32_t sum = std::uint32_t{value} + error;
    while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

}  // namespace

std::vector<std::uint8_t> pattern_bytes(std::size_t count, std::uint8_t seed) {
    std::vector<std::uint8_t> bytes(count);
    std::uint64_t state = 0x9E3779B97F4A7C15ull ^ seed;
    for (std::size_t i = 0; i < count; i += sizeof(state)) {
        state ^= state << 13;  // xorshift64
        state ^= state >> 7;
        state ^= state << 17;
        std::memcpy(bytes.data() + i, &state, std::min(sizeof(state), count - i));
    }
    return bytes;
}

namespace {

// Appends the IPv4 header and its options.
void put_ipv4_header(std::vector<std::uint8_t>& frame, const FrameSpec& spec, std::size_t udp_length) {
    const std::size_t ip_at = frame.size();
    const auto header_length = static_cast<std::uint16_t>(20 + spec.ip_options.size());
    const std::uint8_t ihl = spec.ihl.value_or(static_cast<std::uint8_t>(header_length / 4));
    frame.push_back(static_cast<std::uint8_t>((spec.ip_version.value_or(4) << 4) | (ihl & 0x0F)));
    frame.push_back(spec.tos);
    put16(frame, spec.total_length.value_or(static_cast<std::uint16_t>(header_length + udp_length)));
    put16(frame, spec.identification);
    put16(frame, static_cast<std::uint16_t>((spec.reserved_flag ? 0x8000 : 0) | (spec.dont_fragment ? 0x4000 : 0) |
                                            (spec.more_fragments ? 0x2000 : 0) | (spec.fragment_offset & 0x1FFF)));
    frame.push_back(spec.ttl);
    frame.push_back(spec.protocol);
    put16(frame, 0);  // header checksum, below
    put32(frame, spec.ip_source.v4().value);
    put32(frame, spec.ip_destination.v4().value);
    frame.insert(frame.end(), spec.ip_options.begin(), spec.ip_options.end());
    const std::uint16_t ip_valid = textbook_checksum(std::span(frame).subspan(ip_at, header_length));
    switch (spec.ip_checksum.mode) {
        case ChecksumMode::valid: store_be16(frame, ip_at + 10, ip_valid); break;
        case ChecksumMode::zero: break;
        case ChecksumMode::offset: store_be16(frame, ip_at + 10, add_error(ip_valid, spec.ip_checksum.error)); break;
        case ChecksumMode::fixed: store_be16(frame, ip_at + 10, spec.ip_checksum.error); break;
    }
}

// Appends the IPv6 header and the extension header bytes.
void put_ipv6_header(std::vector<std::uint8_t>& frame, const FrameSpec& spec, std::size_t udp_length) {
    const std::size_t extensions = spec.extension_headers.size();
    const std::uint32_t first_word = (std::uint32_t{spec.ip_version.value_or(6)} << 28) |
                                     (std::uint32_t{spec.tos} << 20) | (spec.flow_label & 0xFFFFF);
    put32(frame, first_word);
    put16(frame, spec.total_length.value_or(static_cast<std::uint16_t>(extensions + udp_length)));
    frame.push_back(spec.protocol);
    frame.push_back(spec.ttl);
    frame.insert(frame.end(), spec.ip_source.bytes().begin(), spec.ip_source.bytes().end());
    frame.insert(frame.end(), spec.ip_destination.bytes().begin(), spec.ip_destination.bytes().end());
    frame.insert(frame.end(), spec.extension_headers.begin(), spec.extension_headers.end());
}

}  // namespace

std::vector<std::uint8_t> build_frame(const FrameSpec& spec) {
    const bool ipv6 = spec.ipv6_header.value_or(!spec.ip_source.is_v4());
    const std::size_t udp_payload_bytes =
        spec.channel_data ? 4 + spec.application_data.size() + spec.padding.size() : spec.raw_udp_payload.size();
    const auto real_udp_length = static_cast<std::uint16_t>(8 + udp_payload_bytes);

    std::vector<std::uint8_t> frame;
    frame.reserve(14 + 4 * spec.vlan_tags.size() + 60 + real_udp_length + spec.trailer.size());
    frame.insert(frame.end(), spec.eth_destination.begin(), spec.eth_destination.end());
    frame.insert(frame.end(), spec.eth_source.begin(), spec.eth_source.end());
    for (std::uint16_t tci : spec.vlan_tags) {
        put16(frame, 0x8100);
        put16(frame, tci);
    }
    put16(frame, spec.ether_type.value_or(ipv6 ? layout::ethertype_ipv6 : layout::ethertype_ipv4));

    const std::size_t ip_at = frame.size();
    if (ipv6)
        put_ipv6_header(frame, spec, real_udp_length);
    else
        put_ipv4_header(frame, spec, real_udp_length);

    const std::size_t udp_at = frame.size();
    const std::uint16_t udp_length_field = spec.udp_length.value_or(real_udp_length);
    put16(frame, spec.udp_source);
    put16(frame, spec.udp_destination);
    put16(frame, udp_length_field);
    put16(frame, 0);  // checksum, below
    if (spec.channel_data) {
        put16(frame, spec.channel);
        put16(frame, spec.channel_length.value_or(static_cast<std::uint16_t>(spec.application_data.size())));
        frame.insert(frame.end(), spec.application_data.begin(), spec.application_data.end());
        frame.insert(frame.end(), spec.padding.begin(), spec.padding.end());
    } else {
        frame.insert(frame.end(), spec.raw_udp_payload.begin(), spec.raw_udp_payload.end());
    }
    // The checksum covers the pseudo-header (with the length field as sent)
    // and the datagram as it is really carried.
    const std::span<const std::uint8_t> ip_header = std::span(frame).subspan(ip_at);
    const std::uint32_t pseudo_header = ipv6 ? textbook_udp6_pseudo_header_sum(ip_header, udp_length_field)
                                             : textbook_udp_pseudo_header_sum(ip_header, udp_length_field);
    std::uint16_t udp_valid =
        static_cast<std::uint16_t>(~textbook_sum(std::span(frame).subspan(udp_at), pseudo_header) & 0xFFFF);
    if (udp_valid == 0) udp_valid = 0xFFFF;
    switch (spec.udp_checksum.mode) {
        case ChecksumMode::valid: store_be16(frame, udp_at + 6, udp_valid); break;
        case ChecksumMode::zero: break;
        case ChecksumMode::offset: store_be16(frame, udp_at + 6, add_error(udp_valid, spec.udp_checksum.error)); break;
        case ChecksumMode::fixed: store_be16(frame, udp_at + 6, spec.udp_checksum.error); break;
    }

    frame.insert(frame.end(), spec.trailer.begin(), spec.trailer.end());
    if (spec.truncate_to && *spec.truncate_to < frame.size()) frame.resize(*spec.truncate_to);
    return frame;
}

}  // namespace xdpturn
