#include "harness/frames/frame_validator.hpp"

#include <algorithm>
#include <vector>

#include "harness/frames/ipv4_udp.hpp"
#include "harness/frames/textbook_checksum.hpp"

namespace xdpturn {

namespace {

// Offsets, written out as the RFCs draw the headers.
constexpr std::size_t ethernet_bytes = 14;
constexpr std::size_t ip_at = ethernet_bytes;
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

}  // namespace

std::optional<std::string> validate_relayed_frame(Bytes input, Bytes output) {
    if (output.size() < udp_data_at) return "output shorter than Ethernet + IPv4 + UDP headers";
    if (load_be16(output, 12) != 0x0800) return "output EtherType is not IPv4";
    if (output[ip_at] != 0x45) return "output IPv4 version/IHL is not 4/5";
    const unsigned total_length = load_be16(output, ip_at + 2);
    if (total_length != output.size() - ethernet_bytes)
        return "output IPv4 total length " + std::to_string(total_length) + " does not end at the frame's end (" +
               std::to_string(output.size() - ethernet_bytes) + " bytes)";
    if (ipv4_is_fragment(output.subspan(ip_at))) return "output is marked as a fragment";
    if (output[ip_at + 9] != 17) return "output protocol is not UDP";
    if (textbook_checksum(output.subspan(ip_at, 20)) != 0) return "output IPv4 header checksum does not verify";

    const unsigned udp_length = load_be16(output, udp_at + 4);
    if (udp_length != total_length - 20) return "output UDP length disagrees with the IPv4 total length";

    // The input: a 20-byte IPv4 header (only those are relayed), ChannelData.
    if (input.size() < channel_data_at) return "input too short to have been relayed";
    const unsigned in_udp_length = load_be16(input, udp_at + 4);
    const unsigned length = load_be16(input, udp_data_at + 2);
    if (channel_data_at + length > input.size()) return "input Length exceeds the input frame";
    if (udp_length != 8 + length)
        return "output UDP length " + std::to_string(udp_length) + " is not 8 + Length (" + std::to_string(length) +
               ")";
    if (!std::equal(output.begin() + udp_data_at, output.end(), input.begin() + channel_data_at,
                    input.begin() + channel_data_at + length))
        return "output data is not the input's " + std::to_string(length) + " bytes of application data";

    const unsigned in_checksum = load_be16(input, udp_at + 6);
    const unsigned out_checksum = load_be16(output, udp_at + 6);
    if (in_checksum == 0) {
        if (out_checksum != 0) return "input had no UDP checksum (0) but the output has one";
        return std::nullopt;
    }
    if (out_checksum == 0) return "output UDP checksum is 0 (none) although the input had one";
    const unsigned in_residual = udp_residual(input, in_udp_length);
    const unsigned out_residual = udp_residual(output, udp_length);
    if (in_residual != out_residual)
        return in_residual == 0 ? std::string("output UDP checksum does not verify")
                                : "output UDP checksum error differs from the input's error";
    return std::nullopt;
}

}  // namespace xdpturn
