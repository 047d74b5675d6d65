#include "harness/cases/expected_output.hpp"

#include <functional>

#include "harness/frames/folded_sums.hpp"
#include "harness/frames/layout.hpp"
#include "harness/frames/textbook_checksum.hpp"

namespace xdpturn {

namespace {

constexpr std::size_t ip_checksum_at = layout::ip_at + 10;  // IPv4 only: IPv6 has no header checksum

std::size_t udp_checksum_at(const FrameSpec& spec) {
    return layout_of_family(!spec.ip_source.is_v4()).udp_at + 6;
}

using ExpectedFrame = std::function<FrameSpec(const FrameSpec&)>;

std::uint16_t field16(const std::vector<std::uint8_t>& frame, std::size_t offset) {
    return static_cast<std::uint16_t>((frame[offset] << 8) | frame[offset + 1]);
}

// What the input carries to the other side: ChannelData's application data
// from a client, the whole UDP payload from a peer.
std::vector<std::uint8_t>& carried_data(FrameSpec& in) {
    return in.channel_data ? in.application_data : in.raw_udp_payload;
}

// The rules both directions share: Ethernet addresses swapped; TOS,
// identification, flags and TTL kept (over IPv6: traffic class, flow label
// and hop limit); the output sent from the address the input arrived on; a
// zero UDP checksum stays zero and an error stays the same error.
// Across families (an output to `to` of the other family): TOS and traffic
// class, TTL and hop limit carry over (FrameSpec keeps both in tos and ttl);
// flow label 0; into IPv4 identification 0 and DF; sent from the relay's
// configured address of the output's family; an IPv4 input without a UDP
// checksum gets a valid one in IPv6, where it is mandatory.
FrameSpec reversed_headers(const FrameSpec& in, const IpAddress& to, const DatapathConfig& config) {
    const bool in_ipv6 = in.ipv6_header.value_or(!in.ip_source.is_v4());  // whatever the addresses
    const bool out_ipv6 = !to.is_v4();
    FrameSpec out;
    out.eth_destination = in.eth_source;
    out.eth_source = in.eth_destination;
    out.tos = in.tos;
    out.ttl = in.ttl;
    out.udp_checksum = in.udp_checksum;
    out.ip_destination = to;
    if (in_ipv6 == out_ipv6) {
        out.identification = in.identification;
        out.reserved_flag = in.reserved_flag;
        out.dont_fragment = in.dont_fragment;
        out.flow_label = in.flow_label;
        out.ipv6_header = in_ipv6;
        out.ip_source = in.ip_destination;
        return out;
    }
    if (out_ipv6 && in.udp_checksum.mode == ChecksumMode::zero) out.udp_checksum = {ChecksumMode::valid, 0};
    out.identification = 0;
    out.dont_fragment = !out_ipv6;
    out.flow_label = 0;
    out.ip_source = config.relay_address(out_ipv6).value_or(IpAddress{});
    return out;
}

void make_udp_checksum_zero(FrameSpec& in, const ExpectedFrame& expected) {
    std::vector<std::uint8_t>& data = carried_data(in);
    if (data.size() < 2) return;
    // The last word that starts at an even offset of the datagram: the data
    // starts at an even offset on both sides, so an even index into it.
    const std::size_t at = (data.size() - 2) & ~std::size_t{1};
    data[at] = data[at + 1] = 0;
    FrameSpec out = expected(in);
    out.udp_checksum = {ChecksumMode::valid, 0};
    // With the word zero the datagram sums to S and its checksum is ~S;
    // adding ~S as the word makes it sum to 0xFFFF, so the checksum computes
    // to zero.
    const std::uint16_t fix = field16(build_frame(out), udp_checksum_at(out));
    data[at] = static_cast<std::uint8_t>(fix >> 8);
    data[at + 1] = static_cast<std::uint8_t>(fix & 0xFF);
}

void make_sum_fold_twice(FrameSpec& in, const ExpectedFrame& expected) {
    std::vector<std::uint8_t>& data = carried_data(in);
    if (data.size() < 8) return;
    const std::uint32_t sum = udp_sum_before_folding(build_frame(expected(in)));
    if (sum < 0x20000) return;  // too small to keep a carry after the change
    const std::size_t at = (data.size() - 2) & ~std::size_t{1};
    const std::uint32_t word = (std::uint32_t{data[at]} << 8) | data[at + 1];
    const std::uint32_t raised = (word + (0xFFFF - (sum & 0xFFFF))) & 0xFFFF;
    data[at] = static_cast<std::uint8_t>(raised >> 8);
    data[at + 1] = static_cast<std::uint8_t>(raised & 0xFF);
}

// Adds `raise` to one term of the chosen sum, in the input: the last
// even-aligned word of the data (which the input's UDP checksum, and so its
// update, or the sum made in full, counts); the identification (which the
// input's header checksum, and so its update, counts); TTL and TOS (which
// the IPv4 header made from an IPv6 one counts, as hop limit and traffic
// class). False when the input has no such term.
bool raise_term(FrameSpec& in, FoldedSum which, bool in_full, std::uint16_t raise) {
    if (which == FoldedSum::udp) {
        std::vector<std::uint8_t>& data = carried_data(in);
        const bool counted =
            in.udp_checksum.mode == ChecksumMode::valid || in.udp_checksum.mode == ChecksumMode::offset || in_full;
        if (data.size() < 2 || !counted) return false;
        const std::size_t at = (data.size() - 2) & ~std::size_t{1};
        const auto word = static_cast<std::uint16_t>(((data[at] << 8) | data[at + 1]) + raise);
        data[at] = static_cast<std::uint8_t>(word >> 8);
        data[at + 1] = static_cast<std::uint8_t>(word & 0xFF);
        return true;
    }
    if (!in_full) {
        if (in.ip_checksum.mode != ChecksumMode::valid) return false;
        in.identification = static_cast<std::uint16_t>(in.identification + raise);
        return true;
    }
    const auto ttl_and_tos = static_cast<std::uint16_t>(((in.ttl << 8) | in.tos) + raise);
    in.ttl = static_cast<std::uint8_t>(ttl_and_tos >> 8);
    in.tos = static_cast<std::uint8_t>(ttl_and_tos & 0xFF);
    return true;
}

// Raises a term until the sum's low half is 0xFFFF: then anything above it
// carries out of the first fold. A few rounds, as a term's change can move
// the input's own checksum across its two zeros.
void make_fold_carry(FrameSpec& in, FoldedSum which, bool channel_leaves, const ExpectedFrame& expected) {
    for (int round = 0; round < 3; ++round) {
        const FoldedSums sums = folded_sums(build_frame(in), build_frame(expected(in)), channel_leaves);
        const std::optional<std::uint32_t> sum = which == FoldedSum::udp ? sums.udp : sums.ipv4_header;
        if (!sum || first_fold_carries(*sum) || *sum <= 0xFFFF) return;  // nothing above the low half: no carry
        const bool in_full = which == FoldedSum::udp ? sums.udp_in_full : sums.ipv4_header_in_full;
        if (!raise_term(in, which, in_full, static_cast<std::uint16_t>(0xFFFF - (*sum & 0xFFFF)))) return;
    }
}

void make_ip_checksum_zero(FrameSpec& in, const ExpectedFrame& expected) {
    in.identification = 0;
    in.identification = field16(build_frame(expected(in)), ip_checksum_at);
}

}  // namespace

FrameSpec expected_relayed_frame(const FrameSpec& in, const BindingTarget& target, const DatapathConfig& config) {
    FrameSpec out = reversed_headers(in, target.peer.address, config);
    out.udp_source = target.allocation_port;
    out.udp_destination = target.peer.port;
    out.channel_data = false;
    out.raw_udp_payload = in.application_data;
    return out;
}

FrameSpec expected_encapsulated_frame(const FrameSpec& in, const BindingKey& client, const DatapathConfig& config) {
    FrameSpec out = reversed_headers(in, client.client.address, config);
    out.udp_source = config.turn_port;
    out.udp_destination = client.client.port;
    out.channel_data = true;
    out.channel = client.channel;
    out.application_data = in.raw_udp_payload;  // Length is its size, no padding
    return out;
}

void make_relayed_udp_checksum_zero(FrameSpec& in, const BindingTarget& target, const DatapathConfig& config) {
    make_udp_checksum_zero(in, [&](const FrameSpec& s) { return expected_relayed_frame(s, target, config); });
}

void make_encapsulated_udp_checksum_zero(FrameSpec& in, const BindingKey& client, const DatapathConfig& config) {
    make_udp_checksum_zero(in, [&](const FrameSpec& s) { return expected_encapsulated_frame(s, client, config); });
}

void make_relayed_ip_checksum_zero(FrameSpec& in, const BindingTarget& target, const DatapathConfig& config) {
    make_ip_checksum_zero(in, [&](const FrameSpec& s) { return expected_relayed_frame(s, target, config); });
}

void make_encapsulated_ip_checksum_zero(FrameSpec& in, const BindingKey& client, const DatapathConfig& config) {
    make_ip_checksum_zero(in, [&](const FrameSpec& s) { return expected_encapsulated_frame(s, client, config); });
}

void make_relayed_sum_fold_twice(FrameSpec& in, const BindingTarget& target, const DatapathConfig& config) {
    make_sum_fold_twice(in, [&](const FrameSpec& s) { return expected_relayed_frame(s, target, config); });
}

void make_encapsulated_sum_fold_twice(FrameSpec& in, const BindingKey& client, const DatapathConfig& config) {
    make_sum_fold_twice(in, [&](const FrameSpec& s) { return expected_encapsulated_frame(s, client, config); });
}

void make_relayed_fold_carry(FrameSpec& in, FoldedSum sum, const BindingTarget& target, const DatapathConfig& config) {
    make_fold_carry(in, sum, true, [&](const FrameSpec& s) { return expected_relayed_frame(s, target, config); });
}

void make_encapsulated_fold_carry(FrameSpec& in, FoldedSum sum, const BindingKey& client,
                                  const DatapathConfig& config) {
    make_fold_carry(in, sum, false, [&](const FrameSpec& s) { return expected_encapsulated_frame(s, client, config); });
}

FrameSpec ipv4_header_checksum_ffff(FrameSpec in) {
    if (!in.ip_source.is_v4() || !in.vlan_tags.empty() || in.ip_checksum.mode != ChecksumMode::valid) return in;
    // With identification 0 the header sums to S and its checksum is ~S;
    // identification ~S makes it sum to 0xFFFF, whose checksum is 0x0000.
    in.identification = 0;
    in.identification = field16(build_frame(in), ip_checksum_at);
    in.ip_checksum = {ChecksumMode::fixed, 0xFFFF};
    return in;
}

}  // namespace xdpturn
