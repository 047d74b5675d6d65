#include "harness/frames/dissect.hpp"

#include "harness/frames/udp_view.hpp"

#include <algorithm>
#include <cstdio>

namespace xdpturn {

namespace {

class FieldCursor {
  public:
    FieldCursor(Bytes frame, Dissection& out) : frame_(frame), out_(out) {}

    // Adds the field if the frame holds all of it; false when cut short.
    bool take(std::string name, std::size_t length) {
        if (offset_ + length > frame_.size()) return false;
        out_.fields.push_back({std::move(name), offset_, length});
        offset_ += length;
        out_.payload_offset = offset_;
        return true;
    }
    std::size_t offset() const { return offset_; }

  private:
    Bytes frame_;
    Dissection& out_;
    std::size_t offset_ = 0;
};

using layout::ethertype_ipv4;
using layout::ethertype_ipv6;
constexpr std::uint8_t ip_udp = 17;

// The IPv4 header and options; true if a UDP header follows.
bool take_ipv4(Bytes frame, FieldCursor& cursor) {
    const std::size_t ip_start = cursor.offset();
    if (!cursor.take("ipv4.version_ihl", 1) || !cursor.take("ipv4.tos", 1) || !cursor.take("ipv4.total_length", 2) ||
        !cursor.take("ipv4.identification", 2) || !cursor.take("ipv4.flags_fragment", 2) ||
        !cursor.take("ipv4.ttl", 1) || !cursor.take("ipv4.protocol", 1) || !cursor.take("ipv4.checksum", 2) ||
        !cursor.take("ipv4.source", 4) || !cursor.take("ipv4.destination", 4))
        return false;
    const std::size_t header_length = std::size_t{frame[ip_start] & 0x0Fu} * 4;
    if (header_length > 20 && !cursor.take("ipv4.options", header_length - 20)) return false;
    const bool fragment = ipv4_is_fragment(frame.subspan(ip_start));
    return frame[ip_start + 9] == ip_udp && !fragment && header_length >= 20;
}

// The fixed IPv6 header; true if UDP follows it directly.
bool take_ipv6(Bytes frame, FieldCursor& cursor) {
    const std::size_t ip_start = cursor.offset();
    if (!cursor.take("ipv6.version_class_flow", 4) || !cursor.take("ipv6.payload_length", 2) ||
        !cursor.take("ipv6.next_header", 1) || !cursor.take("ipv6.hop_limit", 1) || !cursor.take("ipv6.source", 16) ||
        !cursor.take("ipv6.destination", 16))
        return false;
    return frame[ip_start + 6] == ip_udp;
}

}  // namespace

Dissection dissect(Bytes frame, const DissectOptions& options) {
    Dissection result;
    FieldCursor cursor(frame, result);
    if (!cursor.take("eth.destination", 6) || !cursor.take("eth.source", 6) || !cursor.take("eth.type", 2))
        return result;
    const std::uint16_t ether_type = load_be16(frame, layout::ethertype_at);
    if (ether_type == ethertype_ipv4 && !take_ipv4(frame, cursor)) return result;
    if (ether_type == ethertype_ipv6 && !take_ipv6(frame, cursor)) return result;
    if (ether_type != ethertype_ipv4 && ether_type != ethertype_ipv6) return result;

    const std::size_t udp_start = cursor.offset();
    if (!cursor.take("udp.source_port", 2) || !cursor.take("udp.destination_port", 2) ||
        !cursor.take("udp.length", 2) || !cursor.take("udp.checksum", 2))
        return result;
    // ChannelData goes to the TURN port from clients and comes from it to them.
    const auto turn_port = options.channel_data_port;
    if (turn_port && (load_be16(frame, udp_start) == *turn_port || load_be16(frame, udp_start + 2) == *turn_port)) {
        if (cursor.take("channel.number", 2)) cursor.take("channel.length", 2);
    }
    return result;
}

std::string render_field(const FrameField& field, Bytes frame) {
    const Bytes bytes = frame.subspan(field.offset, field.length);
    char text[96];
    if (field.name.starts_with("eth.") && field.length == 6) {
        std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3],
                      bytes[4], bytes[5]);
    } else if (field.length == 4 && (field.name == "ipv4.source" || field.name == "ipv4.destination")) {
        std::snprintf(text, sizeof(text), "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
    } else if (field.length == 16 && field.name.starts_with("ipv6.")) {
        Ipv6Bytes address{};
        std::copy(bytes.begin(), bytes.end(), address.begin());
        return to_string(IpAddress::from_bytes(address));
    } else if (field.length == 1) {
        std::snprintf(text, sizeof(text), "%u (0x%02x)", bytes[0], bytes[0]);
    } else if (field.length == 2) {
        const unsigned value = load_be16(bytes, 0);
        std::snprintf(text, sizeof(text), "%u (0x%04x)", value, value);
    } else {
        std::string hex;
        for (std::uint8_t byte : bytes) {
            std::snprintf(text, sizeof(text), "%02x", byte);
            hex += text;
        }
        return hex;
    }
    return text;
}

}  // namespace xdpturn
