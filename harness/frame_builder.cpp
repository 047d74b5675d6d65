#include "harness/frame_builder.hpp"

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

void set16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t value) {
    out[at] = static_cast<std::uint8_t>(value >> 8);
    out[at + 1] = static_cast<std::uint8_t>(value & 0xFF);
}

// One's-complement addition of an error term to a checksum field value.
std::uint16_t add_error(std::uint16_t value, std::uint16_t error) {
    std::uint32_t sum = std::uint32_t{value} + error;
    while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

}  // namespace

std::uint16_t textbook_checksum(const std::vector<std::uint8_t>& bytes) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const std::uint16_t high = bytes[i];
        const std::uint16_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += static_cast<std::uint32_t>((high << 8) | low);
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

std::vector<std::uint8_t> pattern_bytes(std::size_t count, std::uint8_t seed) {
    std::vector<std::uint8_t> bytes(count);
    std::uint32_t state = 0x9E3779B9u ^ seed;
    for (auto& byte : bytes) {
        state = state * 1664525u + 1013904223u;
        byte = static_cast<std::uint8_t>(state >> 24);
    }
    return bytes;
}

std::vector<std::uint8_t> build_frame(const FrameSpec& spec) {
    std::vector<std::uint8_t> udp_payload;
    if (spec.channel_data) {
        put16(udp_payload, spec.channel);
        put16(udp_payload, spec.channel_length.value_or(static_cast<std::uint16_t>(spec.application_data.size())));
        udp_payload.insert(udp_payload.end(), spec.application_data.begin(), spec.application_data.end());
        udp_payload.insert(udp_payload.end(), spec.padding.begin(), spec.padding.end());
    } else {
        udp_payload = spec.raw_udp_payload;
    }

    const auto real_udp_length = static_cast<std::uint16_t>(8 + udp_payload.size());
    const auto header_length = static_cast<std::uint16_t>(20 + spec.ip_options.size());
    const auto real_total_length = static_cast<std::uint16_t>(header_length + real_udp_length);

    std::vector<std::uint8_t> ip;
    const std::uint8_t ihl = spec.ihl.value_or(static_cast<std::uint8_t>(header_length / 4));
    ip.push_back(static_cast<std::uint8_t>((spec.ip_version << 4) | (ihl & 0x0F)));
    ip.push_back(spec.tos);
    put16(ip, spec.total_length.value_or(real_total_length));
    put16(ip, spec.identification);
    put16(ip, static_cast<std::uint16_t>((spec.reserved_flag ? 0x8000 : 0) | (spec.dont_fragment ? 0x4000 : 0) |
                                         (spec.more_fragments ? 0x2000 : 0) | (spec.fragment_offset & 0x1FFF)));
    ip.push_back(spec.ttl);
    ip.push_back(spec.protocol);
    put16(ip, 0);
    put32(ip, spec.ip_source.value);
    put32(ip, spec.ip_destination.value);
    ip.insert(ip.end(), spec.ip_options.begin(), spec.ip_options.end());
    const std::uint16_t ip_valid = textbook_checksum(ip);
    switch (spec.ip_checksum.mode) {
        case ChecksumMode::valid: set16(ip, 10, ip_valid); break;
        case ChecksumMode::zero: set16(ip, 10, 0); break;
        case ChecksumMode::offset: set16(ip, 10, add_error(ip_valid, spec.ip_checksum.error)); break;
    }

    std::vector<std::uint8_t> udp;
    put16(udp, spec.udp_source);
    put16(udp, spec.udp_destination);
    const std::uint16_t udp_length_field = spec.udp_length.value_or(real_udp_length);
    put16(udp, udp_length_field);
    put16(udp, 0);
    udp.insert(udp.end(), udp_payload.begin(), udp_payload.end());
    // The checksum covers the pseudo-header (with the length field as sent)
    // and the datagram as it is really carried.
    std::vector<std::uint8_t> covered;
    put32(covered, spec.ip_source.value);
    put32(covered, spec.ip_destination.value);
    put16(covered, 17);
    put16(covered, udp_length_field);
    covered.insert(covered.end(), udp.begin(), udp.end());
    std::uint16_t udp_valid = textbook_checksum(covered);
    if (udp_valid == 0) udp_valid = 0xFFFF;
    switch (spec.udp_checksum.mode) {
        case ChecksumMode::valid: set16(udp, 6, udp_valid); break;
        case ChecksumMode::zero: set16(udp, 6, 0); break;
        case ChecksumMode::offset: set16(udp, 6, add_error(udp_valid, spec.udp_checksum.error)); break;
    }

    std::vector<std::uint8_t> frame;
    frame.insert(frame.end(), spec.eth_destination.begin(), spec.eth_destination.end());
    frame.insert(frame.end(), spec.eth_source.begin(), spec.eth_source.end());
    for (std::uint16_t tci : spec.vlan_tags) {
        put16(frame, 0x8100);
        put16(frame, tci);
    }
    put16(frame, spec.ether_type);
    frame.insert(frame.end(), ip.begin(), ip.end());
    frame.insert(frame.end(), udp.begin(), udp.end());
    frame.insert(frame.end(), spec.trailer.begin(), spec.trailer.end());
    if (spec.truncate_to && *spec.truncate_to < frame.size()) frame.resize(*spec.truncate_to);
    return frame;
}

}  // namespace xdpturn
