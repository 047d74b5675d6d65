#include "harness/check/boundaries.hpp"

#include "harness/frames/textbook_checksum.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

constexpr std::size_t ip_at = 14;
constexpr std::size_t udp_at = ip_at + 20;
constexpr std::size_t udp_data_at = udp_at + 8;
constexpr std::size_t channel_data_at = udp_data_at + 4;

// A second fold is needed when the first one carries.
bool folds_twice(Bytes output) {
    const std::uint32_t sum = udp_sum_before_folding(output);
    return (sum & 0xFFFF) + (sum >> 16) > 0xFFFF;
}

// A UDP checksum that is neither 0 nor valid: pseudo-header and datagram,
// checksum included, do not sum to 0xFFFF.
bool checksum_wrong(Bytes frame) {
    const std::size_t udp_length = load_be16(frame, udp_at + 4);
    return textbook_sum(frame.subspan(udp_at, udp_length),
                        textbook_udp_pseudo_header_sum(frame.subspan(ip_at), udp_length)) != 0xFFFF;
}

void classify_output(Bytes frame, const Decision& reference, Bytes output, std::vector<Boundary>& classes) {
    const std::uint16_t in_checksum = load_be16(frame, udp_at + 6);
    if (in_checksum == 0) classes.push_back(Boundary::udp_checksum_none_in);
    if (in_checksum == 0xFFFF) classes.push_back(Boundary::udp_checksum_ffff_in);
    if (in_checksum != 0 && checksum_wrong(frame)) classes.push_back(Boundary::udp_checksum_error_in);
    if (load_be16(output, udp_at + 6) == 0xFFFF) classes.push_back(Boundary::udp_checksum_ffff_out);
    if (load_be16(output, ip_at + 10) == 0) classes.push_back(Boundary::ip_checksum_0000_out);
    if (folds_twice(output)) classes.push_back(Boundary::sum_folds_twice);
    const std::size_t in_udp_length = load_be16(frame, udp_at + 4);
    const std::size_t carried = reference.reason == Reason::encapsulated
                                    ? in_udp_length - 8
                                    : static_cast<std::size_t>(load_be16(frame, udp_data_at + 2));
    if (carried == 0) classes.push_back(Boundary::data_empty);
    if (carried % 2 == 1) classes.push_back(Boundary::data_odd);
    if (reference.reason == Reason::relayed) {
        const std::size_t padding = in_udp_length - 8 - 4 - carried;
        if (padding >= 1 && padding <= 3)
            classes.push_back(static_cast<Boundary>(static_cast<std::size_t>(Boundary::padding_1) + padding - 1));
    }
    if (frame.size() > ip_at + load_be16(frame, ip_at + 2)) classes.push_back(Boundary::ethernet_trailer);
}

}  // namespace

std::uint32_t udp_sum_before_folding(Bytes frame) {
    std::uint32_t sum = 17u + load_be16(frame, udp_at + 4);  // pseudo-header: protocol, UDP length
    for (std::size_t at = ip_at + 12; at < udp_at; at += 2) sum += load_be16(frame, at);
    const Bytes datagram = frame.subspan(udp_at, load_be16(frame, udp_at + 4));
    for (std::size_t i = 0; i + 1 < datagram.size(); i += 2) sum += load_be16(datagram, i);
    if (datagram.size() % 2 == 1) sum += static_cast<std::uint32_t>(datagram.back()) << 8;
    return sum - load_be16(frame, udp_at + 6);
}

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
    };
    return names[static_cast<std::size_t>(boundary)];
}

std::vector<Boundary> classify(const DatapathConfig& config, Bytes frame, const Decision& reference,
                               Bytes reference_output) {
    std::vector<Boundary> classes;
    if (frame.size() + 48 >= test_run_max_frame) classes.push_back(Boundary::largest_frame);
    // Every reason from row 5 on has an untagged IPv4 header at offset 14,
    // and from row 10 on a UDP header after it.
    const auto reason = static_cast<std::uint32_t>(reference.reason);
    if (reason < static_cast<std::uint32_t>(Reason::ipv4_version) || reference.reason == Reason::short_ethernet)
        return classes;
    const std::uint16_t total_length = load_be16(frame, ip_at + 2);
    if (total_length == 0xFFFF) classes.push_back(Boundary::total_length_ffff);
    if (total_length == 28) classes.push_back(Boundary::total_length_28);
    if (reference.reason == Reason::ipv4_length && total_length == frame.size() - ip_at + 1)
        classes.push_back(Boundary::total_length_one_over);
    if (reference.reason == Reason::short_udp || reference.reason == Reason::ipv4_options ||
        reference.reason == Reason::ipv4_fragment || reference.reason == Reason::not_udp ||
        reference.reason == Reason::ipv4_version || frame.size() < udp_data_at)
        return classes;
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
    if (reference.reason == Reason::channel_range && frame.size() >= channel_data_at) {
        const std::uint16_t channel = load_be16(frame, udp_data_at);
        if (channel + 1u == config.channels.min) classes.push_back(Boundary::channel_below_min);
        if (channel == config.channels.max + 1u) classes.push_back(Boundary::channel_above_max);
    }
    if (reference.reason == Reason::too_big && load_be16(frame, ip_at + 2) + 4u == config.mtu + 1u)
        classes.push_back(Boundary::output_mtu_plus_1);
    if (reference.verdict != Verdict::tx) return classes;
    if (load_be16(frame, ip_at + 4) == 0) classes.push_back(Boundary::identification_0000);
    if (load_be16(frame, ip_at + 4) == 0xFFFF) classes.push_back(Boundary::identification_ffff);
    if (reference.reason == Reason::relayed) {
        const std::uint16_t channel = load_be16(frame, udp_data_at);
        if (channel == config.channels.min) classes.push_back(Boundary::channel_at_min);
        if (channel == config.channels.max) classes.push_back(Boundary::channel_at_max);
    } else {
        if (destination == config.relay_ports.min) classes.push_back(Boundary::allocation_port_at_min);
        if (destination == config.relay_ports.max) classes.push_back(Boundary::allocation_port_at_max);
        if (load_be16(reference_output, ip_at + 2) == config.mtu) classes.push_back(Boundary::output_at_mtu);
    }
    classify_output(frame, reference, reference_output, classes);
    return classes;
}

}  // namespace xdpturn
