#include "relay/model/reference_model.hpp"

#include <algorithm>

#include "relay/model/channel_data.hpp"
#include "relay/net/checksum.hpp"
#include "relay/net/headers.hpp"

namespace xdpturn {

std::string to_string(const Decision& decision) {
    return std::string(name(decision.verdict)) + " / " + std::string(name(decision.reason));
}

namespace {

constexpr std::size_t ip_offset = EthernetHeader::bytes;
constexpr std::size_t udp_offset = ip_offset + Ipv4Header::bytes;
constexpr std::size_t udp_payload_offset = udp_offset + UdpHeader::bytes;
constexpr std::uint8_t ihl_without_options = Ipv4Header::bytes / 4;

Decision pass(Reason reason) {
    return {Verdict::pass, reason};
}

Reason reason_for(ChannelDataStatus status) {
    switch (status) {
        case ChannelDataStatus::too_short: return Reason::short_channel;
        case ChannelDataStatus::out_of_range: return Reason::channel_range;
        case ChannelDataStatus::length_exceeds: return Reason::channel_length;
        case ChannelDataStatus::excess_padding: return Reason::channel_padding;
        case ChannelDataStatus::ok: break;
    }
    return Reason::relayed;
}

// The UDP checksum of the relayed datagram. A zero input checksum means the
// sender computed none, and the relay computes none either (RFC 768). A
// wrong input checksum is not repaired: the output carries the same error
// (its residual sum equals the input's), so the peer's stack discards it
// exactly as the relay's own stack would have discarded the input.
std::uint16_t relayed_udp_checksum(const Ipv4Header& in_ip, Bytes in_datagram, const Ipv4Header& out_ip,
                                   Bytes out_datagram_with_zero_checksum, std::uint16_t in_checksum) {
    if (in_checksum == 0) return 0;

    OnesComplementSum in_residual;
    add_udp_pseudo_header(in_residual, in_ip.source, in_ip.destination, static_cast<std::uint16_t>(in_datagram.size()));
    in_residual.add(in_datagram);  // a valid datagram sums to 0xFFFF ("zero")

    OnesComplementSum out_sum;
    add_udp_pseudo_header(out_sum, out_ip.source, out_ip.destination,
                          static_cast<std::uint16_t>(out_datagram_with_zero_checksum.size()));
    out_sum.add(out_datagram_with_zero_checksum);

    const std::uint16_t checksum = add_mod_65535(checksum_from_sum(out_sum.value()), in_residual.value());
    // A computed zero is sent as 0xFFFF: 0 on the wire means "no checksum".
    return checksum == 0 ? 0xFFFF : checksum;
}

}  // namespace

Decision ReferenceModel::decide(Bytes frame, std::vector<std::uint8_t>& relayed) const {
    relayed.clear();

    if (frame.size() < EthernetHeader::bytes) return pass(Reason::short_ethernet);
    const EthernetHeader eth = EthernetHeader::read(frame);
    if (eth.ether_type == EthernetHeader::type_vlan || eth.ether_type == EthernetHeader::type_qinq)
        return pass(Reason::vlan_tagged);
    if (eth.ether_type != EthernetHeader::type_ipv4) return pass(Reason::not_ipv4);

    if (frame.size() < udp_offset) return pass(Reason::short_ipv4);
    const Ipv4Header ip = Ipv4Header::read(frame.subspan(ip_offset));
    if (ip.version != 4) return pass(Reason::ipv4_version);
    if (ip.ihl != ihl_without_options) return pass(Reason::ipv4_options);
    if (ip.more_fragments || ip.fragment_offset != 0) return pass(Reason::ipv4_fragment);
    if (ip.protocol != Ipv4Header::protocol_udp) return pass(Reason::not_udp);

    if (frame.size() < udp_payload_offset) return pass(Reason::short_udp);
    const UdpHeader udp = UdpHeader::read(frame.subspan(udp_offset));
    if (udp.destination_port != config_.turn_port) return pass(Reason::wrong_port);

    const std::size_t ip_bytes_in_frame = frame.size() - ip_offset;
    if (ip.total_length < Ipv4Header::bytes + UdpHeader::bytes || ip.total_length > ip_bytes_in_frame)
        return pass(Reason::ipv4_length);
    if (udp.length != ip.total_length - Ipv4Header::bytes) return pass(Reason::udp_length);
    if (OnesComplementSum{}.add(frame.subspan(ip_offset, Ipv4Header::bytes)).value() != 0xFFFF)
        return pass(Reason::ipv4_checksum);

    const Bytes in_datagram = frame.subspan(udp_offset, udp.length);
    const ChannelDataMessage message = parse_channel_data(in_datagram.subspan(UdpHeader::bytes), config_.channels);
    if (message.status != ChannelDataStatus::ok) return pass(reason_for(message.status));

    const auto binding = bindings_->find(BindingKey{Endpoint{ip.source, udp.source_port}, message.channel});
    if (binding == bindings_->end()) return pass(Reason::no_binding);
    const BindingTarget& target = binding->second;

    // Build the datagram the relay sends to the peer, from scratch.
    const std::size_t out_udp_length = UdpHeader::bytes + message.application_data.size();
    relayed.resize(udp_offset + out_udp_length);
    const MutableBytes out{relayed};

    EthernetHeader out_eth = eth;
    std::swap(out_eth.source, out_eth.destination);
    out_eth.write(out);

    Ipv4Header out_ip = ip;  // keeps TOS, identification, DF and reserved flag, TTL
    out_ip.total_length = static_cast<std::uint16_t>(Ipv4Header::bytes + out_udp_length);
    out_ip.source = ip.destination;  // the address the frame arrived on
    out_ip.destination = target.peer.address;
    out_ip.header_checksum = 0;
    out_ip.write(out.subspan(ip_offset));
    out_ip.header_checksum =
        checksum_from_sum(OnesComplementSum{}.add(out.subspan(ip_offset, Ipv4Header::bytes)).value());
    out_ip.write(out.subspan(ip_offset));

    const UdpHeader out_udp_unchecked{target.allocation_port, target.peer.port,
                                      static_cast<std::uint16_t>(out_udp_length), 0};
    out_udp_unchecked.write(out.subspan(udp_offset));
    std::copy(message.application_data.begin(), message.application_data.end(),
              out.begin() + static_cast<std::ptrdiff_t>(udp_payload_offset));

    UdpHeader out_udp = out_udp_unchecked;
    out_udp.checksum = relayed_udp_checksum(ip, in_datagram, out_ip, out.subspan(udp_offset), udp.checksum);
    out_udp.write(out.subspan(udp_offset));
    return {Verdict::tx, Reason::relayed};
}

}  // namespace xdpturn
