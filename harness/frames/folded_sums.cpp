#include "harness/frames/folded_sums.hpp"

#include <algorithm>

#include "harness/frames/layout.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

namespace {

using Frame = std::span<const std::uint8_t>;

// ~HC + ~m + m', term by term: a word leaving adds its complement, a word
// joining adds itself.
struct Update {
    std::uint32_t sum = 0;

    void leaves(std::uint16_t word) { sum += static_cast<std::uint16_t>(~word); }
    void joins(std::uint16_t word) { sum += word; }
    void leave_words(Frame frame, std::size_t at, std::size_t bytes) {
        for (std::size_t i = 0; i < bytes; i += 2) leaves(load_be16(frame, at + i));
    }
    void join_words(Frame frame, std::size_t at, std::size_t bytes) {
        for (std::size_t i = 0; i < bytes; i += 2) joins(load_be16(frame, at + i));
    }
};

std::uint16_t udp_length_of(const FrameLayout& at, Frame frame) {
    return load_be16(frame, at.udp_at + 4);
}

// Both addresses, then the UDP length: the pseudo-header words that can
// change (protocol 17 and IPv6's upper length half never do).
void pseudo_header_leaves(Update& u, const FrameLayout& at, Frame frame) {
    u.leave_words(frame, at.addresses_at(), 2 * at.address_bytes());
    u.leaves(udp_length_of(at, frame));
}

void pseudo_header_joins(Update& u, const FrameLayout& at, Frame frame) {
    u.join_words(frame, at.addresses_at(), 2 * at.address_bytes());
    u.joins(udp_length_of(at, frame));
}

// The bytes after the ChannelData message inside the input's datagram, as
// halves of the words they sit in, counted from the UDP header.
bool padding_leaves(Update& u, const FrameLayout& at, Frame frame) {
    const std::size_t udp_length = udp_length_of(at, frame);
    const std::size_t message_end =
        layout::udp_bytes + layout::channel_header_bytes + load_be16(frame, at.udp_data_at() + 2);
    const std::size_t end = std::min(udp_length, frame.size() - at.udp_at);
    for (std::size_t offset = message_end; offset < end; ++offset) {
        const std::uint8_t byte = frame[at.udp_at + offset];
        u.leaves(offset % 2 == 1 ? byte : static_cast<std::uint16_t>(byte << 8));
    }
    return message_end < udp_length;
}

void udp_update(FoldedSums& sums, const FrameLayout& in, Frame input, const FrameLayout& out, Frame output,
                bool channel_leaves) {
    Update u;
    u.sum = static_cast<std::uint16_t>(~load_be16(input, in.udp_at + 6));
    pseudo_header_leaves(u, in, input);
    pseudo_header_joins(u, out, output);
    u.leave_words(input, in.udp_at, 4);  // the ports
    u.leaves(udp_length_of(in, input));
    u.join_words(output, out.udp_at, 4);
    u.joins(udp_length_of(out, output));
    if (channel_leaves) {
        u.leave_words(input, in.udp_data_at(), layout::channel_header_bytes);
        sums.udp_padding_removed = padding_leaves(u, in, input);
    } else {
        u.join_words(output, out.udp_data_at(), layout::channel_header_bytes);
    }
    sums.udp = u.sum;
}

// The words of an IPv4 header the relay rewrites: both addresses (bytes
// 12-19) and the total length (bytes 2-3).
void ipv4_update(FoldedSums& sums, Frame input, Frame output) {
    constexpr std::size_t total_length_at = layout::ip_at + 2;
    constexpr std::size_t checksum_at = layout::ip_at + 10;
    constexpr std::size_t addresses_at = layout::ip_at + 12;
    Update u;
    u.sum = static_cast<std::uint16_t>(~load_be16(input, checksum_at));
    u.leave_words(input, addresses_at, 8);
    u.leaves(load_be16(input, total_length_at));
    u.join_words(output, addresses_at, 8);
    u.joins(load_be16(output, total_length_at));
    sums.ipv4_header = u.sum;
}

std::uint32_t ipv4_header_in_full(Frame output) {
    constexpr std::size_t checksum_at = layout::ip_at + 10;
    Update u;
    u.join_words(output, layout::ip_at, layout::ipv4_bytes);
    return u.sum - load_be16(output, checksum_at);
}

}  // namespace

FoldedSums folded_sums(Frame input, Frame output, bool channel_leaves) {
    FoldedSums sums;
    const FrameLayout in = layout_of(input);
    const FrameLayout out = layout_of(output);
    // Headers cut short have no sums to speak of (nor outputs).
    const std::size_t input_headers = channel_leaves ? in.channel_data_at() : in.udp_data_at();
    const std::size_t output_headers = channel_leaves ? out.udp_data_at() : out.channel_data_at();
    if (input.size() < input_headers || output.size() < output_headers) return sums;
    if (udp_length_of(out, output) > output.size() - out.udp_at) return sums;
    if (!out.ipv6) {
        if (in.ipv6) {
            sums.ipv4_header = ipv4_header_in_full(output);
            sums.ipv4_header_in_full = true;
        } else {
            ipv4_update(sums, input, output);
        }
    }
    const bool checksum_in = in.ipv6 || load_be16(input, in.udp_at + 6) != 0;
    if (checksum_in) {
        udp_update(sums, in, input, out, output, channel_leaves);
    } else if (out.ipv6) {
        sums.udp = udp_sum_before_folding(output);
        sums.udp_in_full = true;
    }
    return sums;
}

}  // namespace xdpturn
