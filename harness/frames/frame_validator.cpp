#include "harness/frames/frame_validator.hpp"

#include <algorithm>
#include <vector>

#include "harness/frames/ipv4_udp.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "relay/model/bindings.hpp"

namespace xdpturn {

namespace {

// Offsets, written out as the RFCs draw the headers.
constexpr std::size_t ethernet_bytes = 14;
constexpr std::size_t ip_at = ethernet_bytes;
constexpr std::size_t ttl_at = ip_at + 8;
constexpr std::size_t udp_at = ip_at + 20;
constexpr std::size_t udp_data_at = udp_at + 8;
constexpr std::size_t channel_data_at = udp_data_at + 4;

// The UDP checksum residual: textbook_checksum over pseudo-header and datagram
// with its checksum field in place; 0 for a valid one. 0xFFFF and 0x0000 are
// both "zero" in one's complement, so the result is normalised to 0..0xFFFE.
unsigned udp_residual(Bytes frame, std::size_t udp_length) {
    const std::uint32_t sum = textbook_sum(frame.subspan(udp_at, udp_length),
                                           textbook_udp_pseudo_header_sum(frame.subspan(ip_at), udp_length));
    const unsigned residual = ~sum & 0xFFFF;
    return residual == 0xFFFF ? 0 : residual;
}

// An Ethernet + 20-byte IPv4 + UDP frame whose lengths end at the frame's
// end and whose header checksum verifies, with the input's TTL.
std::optional<std::string> check_headers(Bytes input, Bytes output) {
    if (output.size() < udp_data_at) return "output shorter than Ethernet + IPv4 + UDP headers";
    if (load_be16(output, 12) != 0x0800) return "output EtherType is not IPv4";
    if (output[ip_at] != 0x45) return "output IPv4 version/IHL is not 4/5";
    const unsigned total_length = load_be16(output, ip_at + 2);
    if (total_length != output.size() - ethernet_bytes)
        return "output IPv4 total length " + std::to_string(total_length) + " does not end at the frame's end (" +
               std::to_string(output.size() - ethernet_bytes) + " bytes)";
    if (ipv4_is_fragment(output.subspan(ip_at))) return "output is marked as a fragment";
    if (output[ip_at + 9] != 17) return "output protocol is not UDP";
    // The relay forwards at the frame level: it is not a router.
    if (input.size() > ttl_at && output[ttl_at] != input[ttl_at])
        return "output TTL " + std::to_string(output[ttl_at]) + " is not the input's " + std::to_string(input[ttl_at]);
    if (textbook_checksum(output.subspan(ip_at, 20)) != 0) return "output IPv4 header checksum does not verify";
    if (load_be16(output, udp_at + 4) != total_length - 20)
        return "output UDP length disagrees with the IPv4 total length";
    return std::nullopt;
}

// Zero stays zero (no checksum), anything else keeps the input's error.
std::optional<std::string> check_udp_checksum(Bytes input, Bytes output) {
    const unsigned in_checksum = load_be16(input, udp_at + 6);
    const unsigned out_checksum = load_be16(output, udp_at + 6);
    if (in_checksum == 0) {
        if (out_checksum != 0) return "input had no UDP checksum (0) but the output has one";
        return std::nullopt;
    }
    if (out_checksum == 0) return "output UDP checksum is 0 (none) although the input had one";
    const unsigned in_residual = udp_residual(input, load_be16(input, udp_at + 4));
    const unsigned out_residual = udp_residual(output, load_be16(output, udp_at + 4));
    if (in_residual != out_residual)
        return in_residual == 0 ? std::string("output UDP checksum does not verify")
                                : "output UDP checksum error differs from the input's error";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_relayed_frame(Bytes input, Bytes output) {
    if (auto problem = check_headers(input, output)) return problem;
    // The input: a 20-byte IPv4 header (only those are relayed), ChannelData.
    if (input.size() < channel_data_at) return "input too short to have been relayed";
    const unsigned length = load_be16(input, udp_data_at + 2);
    if (channel_data_at + length > input.size()) return "input Length exceeds the input frame";
    const unsigned udp_length = load_be16(output, udp_at + 4);
    if (udp_length != 8 + length)
        return "output UDP length " + std::to_string(udp_length) + " is not 8 + Length (" + std::to_string(length) +
               ")";
    if (!std::equal(output.begin() + udp_data_at, output.end(), input.begin() + channel_data_at,
                    input.begin() + channel_data_at + length))
        return "output data is not the input's " + std::to_string(length) + " bytes of application data";
    return check_udp_checksum(input, output);
}

std::optional<std::string> validate_encapsulated_frame(Bytes input, Bytes output) {
    if (auto problem = check_headers(input, output)) return problem;
    // The input: a 20-byte IPv4 header and a UDP datagram of any content.
    if (input.size() < udp_data_at) return "input too short to have been encapsulated";
    const unsigned in_udp_length = load_be16(input, udp_at + 4);
    if (in_udp_length < 8 || udp_at + in_udp_length > input.size()) return "input UDP length exceeds the frame";
    const unsigned data_length = in_udp_length - 8;
    const unsigned udp_length = load_be16(output, udp_at + 4);
    if (output.size() < channel_data_at) return "output has no room for a ChannelData header";
    const unsigned channel = load_be16(output, udp_data_at);
    const unsigned length = load_be16(output, udp_data_at + 2);
    // The widest range any configuration accepts (RFC 5766's).
    if (!widest_channels.contains(static_cast<std::uint16_t>(channel)))
        return "output channel number " + std::to_string(channel) + " is not a channel number";
    if (length != data_length)
        return "output ChannelData Length " + std::to_string(length) + " is not the peer's " +
               std::to_string(data_length) + " bytes";
    if (udp_length != 8 + 4 + data_length)
        return "output UDP length " + std::to_string(udp_length) + " is not 8 + 4 + the peer's data (" +
               std::to_string(data_length) + ")";
    if (!std::equal(output.begin() + channel_data_at, output.end(), input.begin() + udp_data_at,
                    input.begin() + udp_data_at + data_length))
        return "output data is not the peer's " + std::to_string(data_length) + " bytes";
    return check_udp_checksum(input, output);
}

std::optional<std::string> validate_output(Bytes input, Bytes output, Reason reason) {
    if (reason == Reason::encapsulated) return validate_encapsulated_frame(input, output);
    return validate_relayed_frame(input, output);
}

}  // namespace xdpturn
