#include "harness/cases/expected_output.hpp"

namespace xdpturn {

namespace {

constexpr std::size_t ip_checksum_at = 14 + 10;
constexpr std::size_t udp_checksum_at = 14 + 20 + 6;

std::uint16_t field16(const std::vector<std::uint8_t>& frame, std::size_t offset) {
    return static_cast<std::uint16_t>((frame[offset] << 8) | frame[offset + 1]);
}

}  // namespace

FrameSpec expected_relayed_frame(const FrameSpec& in, const BindingTarget& target) {
    FrameSpec out;
    out.eth_destination = in.eth_source;
    out.eth_source = in.eth_destination;
    out.tos = in.tos;
    out.identification = in.identification;
    out.reserved_flag = in.reserved_flag;
    out.dont_fragment = in.dont_fragment;
    out.ttl = in.ttl;
    out.ip_source = in.ip_destination;
    out.ip_destination = target.peer.address;
    out.udp_source = target.allocation_port;
    out.udp_destination = target.peer.port;
    out.udp_checksum = in.udp_checksum;  // zero stays zero, an error stays the same error
    out.channel_data = false;
    out.raw_udp_payload = in.application_data;
    return out;
}

void make_relayed_udp_checksum_zero(FrameSpec& in, const BindingTarget& target) {
    if (in.application_data.size() < 2) return;
    // The last word that starts at an even offset of the datagram: data
    // starts at an even offset, so an even index into the data.
    const std::size_t at = (in.application_data.size() - 2) & ~std::size_t{1};
    in.application_data[at] = in.application_data[at + 1] = 0;
    FrameSpec out = expected_relayed_frame(in, target);
    out.udp_checksum = {ChecksumMode::valid, 0};
    // With the word zero the datagram sums to S and its checksum is ~S;
    // adding ~S as the word makes it sum to 0xFFFF, so the checksum computes
    // to zero.
    const std::uint16_t fix = field16(build_frame(out), udp_checksum_at);
    in.application_data[at] = static_cast<std::uint8_t>(fix >> 8);
    in.application_data[at + 1] = static_cast<std::uint8_t>(fix & 0xFF);
}

void make_relayed_ip_checksum_zero(FrameSpec& in, const BindingTarget& target) {
    in.identification = 0;
    in.identification = field16(build_frame(expected_relayed_frame(in, target)), ip_checksum_at);
}

}  // namespace xdpturn
