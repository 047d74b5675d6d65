#include "harness/frames/frame_validator.hpp"

#include <algorithm>
#include <vector>

#include "harness/frames/layout.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "harness/frames/udp_view.hpp"
#include "relay/model/bindings.hpp"

namespace xdpturn {

namespace {

// Offsets, written out as the RFCs draw the headers (harness/frames/layout.hpp).
// The output's family is the far end's: the input's, or across families
// (RFC 6156) the other one.
using layout::ethernet_bytes;
using layout::ip_at;
constexpr std::size_t ipv4_ttl_at = ip_at + 8;
constexpr std::size_t ipv6_hop_limit_at = ip_at + 7;

// The UDP checksum residual: textbook_checksum over pseudo-header and datagram
// with its checksum field in place; 0 for a valid one. 0xFFFF and 0x0000 are
// both "zero" in one's complement, so the result is normalised to 0..0xFFFE.
unsigned udp_residual(const FrameLayout& layout, Bytes frame, std::size_t udp_length) {
    const std::uint32_t pseudo_header = layout.ipv6 ? textbook_udp6_pseudo_header_sum(frame.subspan(ip_at), udp_length)
                                                    : textbook_udp_pseudo_header_sum(frame.subspan(ip_at), udp_length);
    const std::uint32_t sum = textbook_sum(frame.subspan(layout.udp_at, udp_length), pseudo_header);
    const unsigned residual = ~sum & 0xFFFF;
    return residual == 0xFFFF ? 0 : residual;
}

// The fields an output carries over from an input of the other family:
// TOS and traffic class, TTL and hop limit (one byte each).
std::uint8_t traffic_class_of(const FrameLayout& layout, Bytes frame) {
    return layout.ipv6 ? static_cast<std::uint8_t>((frame[ip_at] << 4) | (frame[ip_at + 1] >> 4)) : frame[ip_at + 1];
}
std::uint8_t hop_limit_of(const FrameLayout& layout, Bytes frame) {
    return frame[layout.ipv6 ? ipv6_hop_limit_at : ipv4_ttl_at];
}

// Across families: TOS/traffic class and TTL/hop limit carried over, the
// IPv6 flow label 0, the IPv4 identification 0 with DF set.
std::optional<std::string> check_across_fields(const FrameLayout& in, Bytes input, const FrameLayout& out,
                                               Bytes output) {
    if (traffic_class_of(out, output) != traffic_class_of(in, input))
        return "output traffic class/TOS " + std::to_string(traffic_class_of(out, output)) + " is not the input's " +
               std::to_string(traffic_class_of(in, input));
    if (hop_limit_of(out, output) != hop_limit_of(in, input))
        return "output hop limit/TTL " + std::to_string(hop_limit_of(out, output)) + " is not the input's " +
               std::to_string(hop_limit_of(in, input));
    if (out.ipv6 && ((output[ip_at + 1] & 0x0F) != 0 || load_be16(output, ip_at + 2) != 0))
        return "output flow label is not 0 (the IPv4 input had none)";
    if (!out.ipv6 && (load_be16(output, ip_at + 4) != 0 || load_be16(output, ip_at + 6) != 0x4000))
        return "output identification and flags are not 0 and DF (the IPv6 input expects no fragmentation)";
    return std::nullopt;
}

// An Ethernet + 20-byte IPv4 + UDP frame whose lengths end at the frame's
// end and whose header checksum verifies, with the input's TTL.
std::optional<std::string> check_ipv4_header(Bytes input, Bytes output, bool same_family) {
    if (output[ip_at] != 0x45) return "output IPv4 version/IHL is not 4/5";
    const unsigned total_length = load_be16(output, ip_at + 2);
    if (total_length != output.size() - ethernet_bytes)
        return "output IPv4 total length " + std::to_string(total_length) + " does not end at the frame's end (" +
               std::to_string(output.size() - ethernet_bytes) + " bytes)";
    if (ipv4_is_fragment(output.subspan(ip_at))) return "output is marked as a fragment";
    if (output[ip_at + 9] != 17) return "output protocol is not UDP";
    // The relay forwards at the frame level: it is not a router.
    if (same_family && input.size() > ipv4_ttl_at && output[ipv4_ttl_at] != input[ipv4_ttl_at])
        return "output TTL " + std::to_string(output[ipv4_ttl_at]) + " is not the input's " +
               std::to_string(input[ipv4_ttl_at]);
    if (textbook_checksum(output.subspan(ip_at, layout::ipv4_bytes)) != 0)
        return "output IPv4 header checksum does not verify";
    if (load_be16(output, ipv4_layout.udp_at + 4) != total_length - layout::ipv4_bytes)
        return "output UDP length disagrees with the IPv4 total length";
    return std::nullopt;
}

// An Ethernet + IPv6 + UDP frame, no extension headers, whose payload
// length ends at the frame's end, with the input's version, traffic class,
// flow label and hop limit.
std::optional<std::string> check_ipv6_header(Bytes input, Bytes output, bool same_family) {
    if (same_family && input.size() < ip_at + layout::ipv6_bytes) return "input too short for an IPv6 header";
    if (output[ip_at] >> 4 != 6) return "output IPv6 version is not 6";
    if (same_family && !std::equal(output.begin() + ip_at, output.begin() + ip_at + 4, input.begin() + ip_at))
        return "output IPv6 version, traffic class or flow label is not the input's";
    const unsigned payload_length = load_be16(output, ip_at + 4);
    if (payload_length != output.size() - ethernet_bytes - layout::ipv6_bytes)
        return "output IPv6 payload length " + std::to_string(payload_length) + " does not end at the frame's end (" +
               std::to_string(output.size() - ethernet_bytes - layout::ipv6_bytes) + " bytes)";
    if (output[ip_at + 6] != 17) return "output Next Header is not UDP";
    if (same_family && output[ipv6_hop_limit_at] != input[ipv6_hop_limit_at])
        return "output hop limit " + std::to_string(output[ipv6_hop_limit_at]) + " is not the input's " +
               std::to_string(input[ipv6_hop_limit_at]);
    if (load_be16(output, ipv6_layout.udp_at + 4) != payload_length)
        return "output UDP length is not the payload length";
    return std::nullopt;
}

// The output's EtherType says its family; its headers must be valid ones of
// that family.
std::optional<std::string> check_headers(const FrameLayout& in, Bytes input, const FrameLayout& out, Bytes output) {
    const unsigned ether_type = layout::ethertype_of(output);
    if (ether_type != layout::ethertype_ipv4 && ether_type != layout::ethertype_ipv6)
        return "output EtherType is neither IPv4 nor IPv6";
    if (output.size() < out.udp_data_at()) return "output shorter than Ethernet + IP + UDP headers";
    const bool same_family = in.ipv6 == out.ipv6;
    // The named field first: a changed IPv4 field breaks its checksum too.
    if (!same_family)
        if (auto problem = check_across_fields(in, input, out, output)) return problem;
    return out.ipv6 ? check_ipv6_header(input, output, same_family) : check_ipv4_header(input, output, same_family);
}

// Zero stays zero (no checksum), anything else keeps the input's error,
// whatever the two pseudo-headers' families.
std::optional<std::string> check_udp_checksum(const FrameLayout& in, Bytes input, const FrameLayout& out,
                                              Bytes output) {
    const unsigned in_checksum = load_be16(input, in.udp_at + 6);
    const unsigned out_checksum = load_be16(output, out.udp_at + 6);
    if (in_checksum == 0) {
        if (in.ipv6) return "input had no UDP checksum, which IPv6 does not allow";
        if (out.ipv6) {
            // Mandatory over IPv6: one computed in full, valid.
            if (out_checksum == 0) return "an IPv4 input without a UDP checksum became IPv6 without one";
            if (udp_residual(out, output, load_be16(output, out.udp_at + 4)) != 0)
                return "output UDP checksum does not verify (made for IPv6 from an IPv4 input without one)";
            return std::nullopt;
        }
        if (out_checksum != 0) return "input had no UDP checksum (0) but the output has one";
        return std::nullopt;
    }
    if (out_checksum == 0) return "output UDP checksum is 0 (none) although the input had one";
    const unsigned in_residual = udp_residual(in, input, load_be16(input, in.udp_at + 4));
    const unsigned out_residual = udp_residual(out, output, load_be16(output, out.udp_at + 4));
    if (in_residual != out_residual)
        return in_residual == 0 ? std::string("output UDP checksum does not verify")
                                : "output UDP checksum error differs from the input's error";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_relayed_frame(Bytes input, Bytes output) {
    const FrameLayout in = layout_of(input);
    const FrameLayout out = layout_of(output);
    if (auto problem = check_headers(in, input, out, output)) return problem;
    // The input: an IP header without options or extensions, ChannelData.
    if (input.size() < in.channel_data_at()) return "input too short to have been relayed";
    const unsigned length = load_be16(input, in.udp_data_at() + 2);
    if (in.channel_data_at() + length > input.size()) return "input Length exceeds the input frame";
    const unsigned udp_length = load_be16(output, out.udp_at + 4);
    if (udp_length != 8 + length)
        return "output UDP length " + std::to_string(udp_length) + " is not 8 + Length (" + std::to_string(length) +
               ")";
    if (!std::equal(output.begin() + static_cast<std::ptrdiff_t>(out.udp_data_at()), output.end(),
                    input.begin() + static_cast<std::ptrdiff_t>(in.channel_data_at()),
                    input.begin() + static_cast<std::ptrdiff_t>(in.channel_data_at() + length)))
        return "output data is not the input's " + std::to_string(length) + " bytes of application data";
    return check_udp_checksum(in, input, out, output);
}

std::optional<std::string> validate_encapsulated_frame(Bytes input, Bytes output) {
    const FrameLayout in = layout_of(input);
    const FrameLayout out = layout_of(output);
    if (auto problem = check_headers(in, input, out, output)) return problem;
    // The input: an IP header without options or extensions and a UDP
    // datagram of any content.
    if (input.size() < in.udp_data_at()) return "input too short to have been encapsulated";
    const unsigned in_udp_length = load_be16(input, in.udp_at + 4);
    if (in_udp_length < 8 || in.udp_at + in_udp_length > input.size()) return "input UDP length exceeds the frame";
    const unsigned data_length = in_udp_length - 8;
    const unsigned udp_length = load_be16(output, out.udp_at + 4);
    if (output.size() < out.channel_data_at()) return "output has no room for a ChannelData header";
    const unsigned channel = load_be16(output, out.udp_data_at());
    const unsigned length = load_be16(output, out.udp_data_at() + 2);
    // The widest range any configuration accepts (RFC 5766's).
    if (!widest_channels.contains(static_cast<std::uint16_t>(channel)))
        return "output channel number " + std::to_string(channel) + " is not a channel number";
    if (length != data_length)
        return "output ChannelData Length " + std::to_string(length) + " is not the peer's " +
               std::to_string(data_length) + " bytes";
    if (udp_length != 8 + 4 + data_length)
        return "output UDP length " + std::to_string(udp_length) + " is not 8 + 4 + the peer's data (" +
               std::to_string(data_length) + ")";
    if (!std::equal(output.begin() + static_cast<std::ptrdiff_t>(out.channel_data_at()), output.end(),
                    input.begin() + static_cast<std::ptrdiff_t>(in.udp_data_at()),
                    input.begin() + static_cast<std::ptrdiff_t>(in.udp_data_at() + data_length)))
        return "output data is not the peer's " + std::to_string(data_length) + " bytes";
    return check_udp_checksum(in, input, out, output);
}

std::optional<std::string> validate_output(Bytes input, Bytes output, Reason reason) {
    if (reason == Reason::encapsulated) return validate_encapsulated_frame(input, output);
    return validate_relayed_frame(input, output);
}

}  // namespace xdpturn
