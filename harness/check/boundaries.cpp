#include "harness/check/boundaries.hpp"

#include <algorithm>

#include "harness/frames/folded_sums.hpp"
#include "harness/frames/layout.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

using layout::ip_at;

// The IP length field in IPv4's terms (total length, header included), so
// that one set of classes serves both families.
std::size_t ip_total_length(const FrameLayout& at, Bytes frame) {
    return at.ipv6 ? layout::ipv6_bytes + load_be16(frame, ip_at + 4) : load_be16(frame, ip_at + 2);
}

// The IPv6 address at `at` is ::ffff:0:0/96 (an IPv4 address).
bool is_v4_mapped_at(Bytes frame, std::size_t at) {
    static constexpr std::array<std::uint8_t, 12> prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    return std::equal(prefix.begin(), prefix.end(), frame.begin() + static_cast<std::ptrdiff_t>(at));
}

// A second fold is needed when the first one carries.
bool folds_twice(Bytes output) {
    const std::uint32_t sum = udp_sum_before_folding(output);
    return (sum & 0xFFFF) + (sum >> 16) > 0xFFFF;
}

// The sums whose first fold carried, one class each.
void classify_fold_carries(Bytes frame, const Decision& reference, Bytes output, std::vector<Boundary>& classes) {
    const FoldedSums sums = folded_sums(frame, output, reference.reason == Reason::relayed);
    if (sums.ipv4_header && first_fold_carries(*sums.ipv4_header))
        classes.push_back(sums.ipv4_header_in_full ? Boundary::ipv4_header_made_carries
                                                   : Boundary::ipv4_update_carries);
    if (!sums.udp || !first_fold_carries(*sums.udp)) return;
    if (sums.udp_in_full) {
        classes.push_back(Boundary::udp_made_carries);
        return;
    }
    classes.push_back(Boundary::udp_update_carries);
    if (sums.udp_padding_removed) classes.push_back(Boundary::udp_update_carries_padded);
}

// A UDP checksum that is neither 0 nor valid: pseudo-header and datagram,
// checksum included, do not sum to 0xFFFF.
bool checksum_wrong(const FrameLayout& at, Bytes frame) {
    const std::size_t udp_length = load_be16(frame, at.udp_at + 4);
    const std::uint32_t pseudo_header = at.ipv6 ? textbook_udp6_pseudo_header_sum(frame.subspan(ip_at), udp_length)
                                                : textbook_udp_pseudo_header_sum(frame.subspan(ip_at), udp_length);
    return textbook_sum(frame.subspan(at.udp_at, udp_length), pseudo_header) != 0xFFFF;
}

void classify_output(const FrameLayout& at, Bytes frame, const Decision& reference, Bytes output,
                     std::vector<Boundary>& classes) {
    const std::size_t udp_at = at.udp_at;
    // The output's own layout: across families its IP header is the other's.
    const FrameLayout out = layout_of(output);
    const std::uint16_t in_checksum = load_be16(frame, udp_at + 6);
    if (in_checksum == 0) classes.push_back(Boundary::udp_checksum_none_in);
    if (in_checksum == 0xFFFF) classes.push_back(Boundary::udp_checksum_ffff_in);
    if (in_checksum != 0 && checksum_wrong(at, frame)) classes.push_back(Boundary::udp_checksum_error_in);
    if (load_be16(output, out.udp_at + 6) == 0xFFFF) classes.push_back(Boundary::udp_checksum_ffff_out);
    if (!out.ipv6 && load_be16(output, ip_at + 10) == 0) classes.push_back(Boundary::ip_checksum_0000_out);
    if (!at.ipv6 && load_be16(frame, ip_at + 10) == 0xFFFF) classes.push_back(Boundary::ip_checksum_ffff_in);
    if (folds_twice(output)) classes.push_back(Boundary::sum_folds_twice);
    classify_fold_carries(frame, reference, output, classes);
    const std::size_t in_udp_length = load_be16(frame, udp_at + 4);
    const std::size_t carried = reference.reason == Reason::encapsulated
                                    ? in_udp_length - 8
                                    : static_cast<std::size_t>(load_be16(frame, at.udp_data_at() + 2));
    if (carried == 0) classes.push_back(Boundary::data_empty);
    if (carried % 2 == 1) classes.push_back(Boundary::data_odd);
    if (reference.reason == Reason::relayed) {
        const std::size_t padding = in_udp_length - 8 - 4 - carried;
        if (padding >= 1 && padding <= 3)
            classes.push_back(static_cast<Boundary>(static_cast<std::size_t>(Boundary::padding_1) + padding - 1));
    }
    if (frame.size() > ip_at + ip_total_length(at, frame)) classes.push_back(Boundary::ethernet_trailer);
    if (at.ipv6 && out.ipv6)
        classes.push_back(reference.reason == Reason::relayed ? Boundary::ipv6_relayed : Boundary::ipv6_encapsulated);
    if (at.ipv6 != out.ipv6) classes.push_back(at.ipv6 ? Boundary::ipv6_to_ipv4 : Boundary::ipv4_to_ipv6);
    if (in_checksum == 0 && out.ipv6) classes.push_back(Boundary::udp_checksum_made);
    if (in_checksum == 0 && out.ipv6 && load_be16(output, out.udp_at + 6) == 0xFFFF)
        classes.push_back(Boundary::udp_checksum_made_ffff);
    if (out.ipv6 && !is_v4_mapped_at(output, ip_at + 24) &&
        std::all_of(output.begin() + ip_at + 24, output.begin() + ip_at + 32, [](std::uint8_t b) { return b == 0; }))
        classes.push_back(Boundary::near_v4_mapped_out);
}

// A relayed datagram sent to the very address it is sent from, on a port
// next to the relay ports: one port further in and it would be a hairpin.
void classify_near_hairpin(const DatapathConfig& config, Bytes output, std::vector<Boundary>& classes) {
    const FrameLayout out = layout_of(output);
    const std::size_t address_bytes = out.address_bytes();
    const std::size_t source_at = out.addresses_at();
    if (!std::equal(output.begin() + source_at, output.begin() + source_at + address_bytes,
                    output.begin() + source_at + address_bytes))
        return;
    const std::uint16_t port = load_be16(output, out.udp_at + 2);
    if (port + 1u == config.relay_ports.min) classes.push_back(Boundary::hairpin_port_below_min);
    if (port == config.relay_ports.max + 1u) classes.push_back(Boundary::hairpin_port_above_max);
}

}  // namespace

std::string_view name(Boundary boundary) {
    static constexpr std::array<std::string_view, boundary_count> names = {
        "udp_checksum_none_in",
        "udp_checksum_ffff_in",
        "udp_checksum_error_in",
        "udp_checksum_ffff_out",
        "ip_checksum_0000_out",
        "sum_folds_twice",
        "data_empty",
        "data_odd",
        "padding_1",
        "padding_2",
        "padding_3",
        "ethernet_trailer",
        "largest_frame",
        "channel_at_min",
        "channel_at_max",
        "channel_below_min",
        "channel_above_max",
        "allocation_port_at_min",
        "allocation_port_at_max",
        "allocation_port_below_min",
        "allocation_port_above_max",
        "output_at_mtu",
        "output_mtu_plus_1",
        "total_length_ffff",
        "udp_length_below_8",
        "total_length_28",
        "total_length_one_over",
        "udp_length_ffff",
        "channel_length_ffff",
        "channel_length_one_over",
        "padding_4",
        "identification_0000",
        "identification_ffff",
        "ipv6_relayed",
        "ipv6_encapsulated",
        "payload_length_8",
        "ipv4_to_ipv6",
        "ipv6_to_ipv4",
        "udp_checksum_made",
        "udp_checksum_made_ffff",
        "near_v4_mapped_out",
        "hairpin_port_below_min",
        "hairpin_port_above_max",
        "ip_checksum_ffff_in",
        "ipv4_update_carries",
        "ipv4_header_made_carries",
        "udp_update_carries",
        "udp_update_carries_padded",
        "udp_made_carries",
    };
    return names[static_cast<std::size_t>(boundary)];
}

namespace {

// Reasons decided before a whole IP header and UDP header are known.
bool decided_before_udp(Reason reason) {
    switch (reason) {
        case Reason::short_ethernet:
        case Reason::vlan_tagged:
        case Reason::not_ip:
        case Reason::short_ipv4:
        case Reason::short_ipv6: return true;
        default: return false;
    }
}

bool decided_before_udp_header(Reason reason) {
    switch (reason) {
        case Reason::short_udp:
        case Reason::ipv4_version:
        case Reason::ipv4_options:
        case Reason::ipv4_fragment:
        case Reason::not_udp:
        case Reason::ipv6_version:
        case Reason::ipv6_extension: return true;
        default: return false;
    }
}

// Classes of the IP length field: its extremes, the smallest valid value
// (a bare UDP header) and one past the frame.
void classify_ip_length(const FrameLayout& at, Bytes frame, const Decision& reference, std::vector<Boundary>& classes) {
    const std::uint16_t field = load_be16(frame, ip_at + (at.ipv6 ? 4 : 2));
    if (field == 0xFFFF) classes.push_back(Boundary::total_length_ffff);
    if (!at.ipv6 && field == 28) classes.push_back(Boundary::total_length_28);
    if (at.ipv6 && field == 8) classes.push_back(Boundary::payload_length_8);
    const bool length_row = reference.reason == Reason::ipv4_length || reference.reason == Reason::ipv6_length;
    if (length_row && ip_total_length(at, frame) == frame.size() - ip_at + 1)
        classes.push_back(Boundary::total_length_one_over);
}

}  // namespace

std::vector<Boundary> classify(const DatapathConfig& config, Bytes frame, const Decision& reference,
                               Bytes reference_output) {
    std::vector<Boundary> classes;
    if (frame.size() + 48 >= test_run_max_frame) classes.push_back(Boundary::largest_frame);
    // Every later reason has an untagged IP header at offset 14.
    if (decided_before_udp(reference.reason)) return classes;
    const FrameLayout at = layout_of(frame);
    classify_ip_length(at, frame, reference, classes);
    if (decided_before_udp_header(reference.reason) || frame.size() < at.udp_data_at()) return classes;
    const std::size_t udp_at = at.udp_at;
    const std::size_t udp_data_at = at.udp_data_at();
    const std::uint16_t destination = load_be16(frame, udp_at + 2);
    const std::uint16_t udp_length = load_be16(frame, udp_at + 4);
    if (udp_length < 8) classes.push_back(Boundary::udp_length_below_8);
    if (udp_length == 0xFFFF) classes.push_back(Boundary::udp_length_ffff);
    if (reference.reason == Reason::channel_length) {
        const std::uint16_t length = load_be16(frame, udp_data_at + 2);
        if (length == 0xFFFF) classes.push_back(Boundary::channel_length_ffff);
        if (length == udp_length - 8 - 4 + 1) classes.push_back(Boundary::channel_length_one_over);
    }
    if (reference.reason == Reason::channel_padding && udp_length - 8 - 4 - load_be16(frame, udp_data_at + 2) == 4)
        classes.push_back(Boundary::padding_4);
    if (reference.reason == Reason::wrong_port) {
        if (destination + 1u == config.relay_ports.min) classes.push_back(Boundary::allocation_port_below_min);
        if (destination == config.relay_ports.max + 1u) classes.push_back(Boundary::allocation_port_above_max);
    }
    if (reference.reason == Reason::channel_range && frame.size() >= at.channel_data_at()) {
        const std::uint16_t channel = load_be16(frame, udp_data_at);
        if (channel + 1u == config.channels.min) classes.push_back(Boundary::channel_below_min);
        if (channel == config.channels.max + 1u) classes.push_back(Boundary::channel_above_max);
    }
    if (reference.reason == Reason::too_big && ip_total_length(at, frame) + 4u == config.mtu + 1u)
        classes.push_back(Boundary::output_mtu_plus_1);
    if (reference.verdict != Verdict::tx) return classes;
    if (!at.ipv6 && load_be16(frame, ip_at + 4) == 0) classes.push_back(Boundary::identification_0000);
    if (!at.ipv6 && load_be16(frame, ip_at + 4) == 0xFFFF) classes.push_back(Boundary::identification_ffff);
    if (reference.reason == Reason::relayed) {
        const std::uint16_t channel = load_be16(frame, udp_data_at);
        if (channel == config.channels.min) classes.push_back(Boundary::channel_at_min);
        if (channel == config.channels.max) classes.push_back(Boundary::channel_at_max);
    } else {
        if (destination == config.relay_ports.min) classes.push_back(Boundary::allocation_port_at_min);
        if (destination == config.relay_ports.max) classes.push_back(Boundary::allocation_port_at_max);
    }
    if (ip_total_length(layout_of(reference_output), reference_output) == config.mtu)
        classes.push_back(Boundary::output_at_mtu);
    classify_output(at, frame, reference, reference_output, classes);
    if (reference.reason == Reason::relayed) classify_near_hairpin(config, reference_output, classes);
    return classes;
}

}  // namespace xdpturn
