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

std::size_t ip_header_bytes(bool ipv6) {
    return ipv6 ? Ipv6Header::bytes : Ipv4Header::bytes;
}

// The UDP checksum of the relayed datagram. A zero input checksum means the
// sender computed none, and the relay computes none either (RFC 768; over
// IPv6 a zero never gets this far). A wrong input checksum is not repaired:
// the output carries the same error (its residual sum equals the input's),
// so the receiver's stack discards it exactly as the relay's own stack
// would have discarded the input.
// The families may differ (RFC 6156): each pseudo-header is its own
// header's. Into IPv6, where a checksum is mandatory (RFC 8200 Section
// 8.1), an IPv4 datagram without one gets a valid one.
std::uint16_t relayed_udp_checksum(IpFamily in_family, const IpAddress& in_source, const IpAddress& in_destination,
                                   Bytes in_datagram, IpFamily out_family, const Endpoint& out_source,
                                   const Endpoint& out_destination, Bytes out_datagram_with_zero_checksum,
                                   std::uint16_t in_checksum) {
    if (in_checksum == 0 && out_family == IpFamily::v4) return 0;

    OnesComplementSum out_sum;
    add_udp_pseudo_header(out_sum, out_family, out_source.address, out_destination.address,
                          static_cast<std::uint16_t>(out_datagram_with_zero_checksum.size()));
    out_sum.add(out_datagram_with_zero_checksum);
    std::uint16_t checksum = checksum_from_sum(out_sum.value());

    // The input's error, which the output keeps (none for a datagram that
    // had no checksum at all).
    if (in_checksum != 0) {
        OnesComplementSum in_residual;
        add_udp_pseudo_header(in_residual, in_family, in_source, in_destination,
                              static_cast<std::uint16_t>(in_datagram.size()));
        in_residual.add(in_datagram);  // a valid datagram sums to 0xFFFF ("zero")
        checksum = add_mod_65535(checksum, in_residual.value());
    }
    // A computed zero is sent as 0xFFFF: 0 on the wire means "no checksum".
    return checksum == 0 ? 0xFFFF : checksum;
}

IpFamily family_of(bool ipv6) {
    return ipv6 ? IpFamily::v6 : IpFamily::v4;
}

}  // namespace

IpAddress ReferenceModel::Received::source() const {
    return std::visit([](const auto& header) { return IpAddress{header.source}; }, ip);
}

IpAddress ReferenceModel::Received::destination() const {
    return std::visit([](const auto& header) { return IpAddress{header.destination}; }, ip);
}

Decision ReferenceModel::decide(Bytes frame, std::vector<std::uint8_t>& relayed) const {
    relayed.clear();

    if (frame.size() < EthernetHeader::bytes) return pass(Reason::short_ethernet);
    const EthernetHeader eth = EthernetHeader::read(frame);
    if (eth.ether_type == EthernetHeader::type_vlan || eth.ether_type == EthernetHeader::type_qinq)
        return pass(Reason::vlan_tagged);
    if (eth.ether_type == EthernetHeader::type_ipv4) return decide_ipv4(frame, eth, relayed);
    if (eth.ether_type == EthernetHeader::type_ipv6) return decide_ipv6(frame, eth, relayed);
    return pass(Reason::not_ip);
}

Decision ReferenceModel::decide_ipv4(Bytes frame, const EthernetHeader& eth, std::vector<std::uint8_t>& relayed) const {
    const std::size_t udp_offset = ip_offset + Ipv4Header::bytes;
    if (frame.size() < udp_offset) return pass(Reason::short_ipv4);
    const Ipv4Header ip = Ipv4Header::read(frame.subspan(ip_offset));
    if (ip.version != 4) return pass(Reason::ipv4_version);
    if (ip.ihl != ihl_without_options) return pass(Reason::ipv4_options);
    if (ip.more_fragments || ip.fragment_offset != 0) return pass(Reason::ipv4_fragment);
    if (ip.protocol != Ipv4Header::protocol_udp) return pass(Reason::not_udp);

    if (frame.size() < udp_offset + UdpHeader::bytes) return pass(Reason::short_udp);
    const UdpHeader udp = UdpHeader::read(frame.subspan(udp_offset));
    if (udp.destination_port != config_.turn_port && !config_.relay_ports.contains(udp.destination_port))
        return pass(Reason::wrong_port);

    const std::size_t ip_bytes_in_frame = frame.size() - ip_offset;
    if (ip.total_length < Ipv4Header::bytes + UdpHeader::bytes || ip.total_length > ip_bytes_in_frame)
        return pass(Reason::ipv4_length);
    if (udp.length != ip.total_length - Ipv4Header::bytes) return pass(Reason::udp_length);
    if (OnesComplementSum{}.add(frame.subspan(ip_offset, Ipv4Header::bytes)).value() != 0xFFFF)
        return pass(Reason::ipv4_checksum);

    return decide_path(Received{eth, ip, udp, frame.subspan(udp_offset, udp.length)}, relayed);
}

Decision ReferenceModel::decide_ipv6(Bytes frame, const EthernetHeader& eth, std::vector<std::uint8_t>& relayed) const {
    const std::size_t udp_offset = ip_offset + Ipv6Header::bytes;
    if (frame.size() < udp_offset) return pass(Reason::short_ipv6);
    const Ipv6Header ip = Ipv6Header::read(frame.subspan(ip_offset));
    if (ip.version != 6) return pass(Reason::ipv6_version);
    if (is_ipv6_extension_header(ip.next_header)) return pass(Reason::ipv6_extension);
    if (ip.next_header != Ipv6Header::next_header_udp) return pass(Reason::not_udp);

    if (frame.size() < udp_offset + UdpHeader::bytes) return pass(Reason::short_udp);
    const UdpHeader udp = UdpHeader::read(frame.subspan(udp_offset));
    if (udp.destination_port != config_.turn_port && !config_.relay_ports.contains(udp.destination_port))
        return pass(Reason::wrong_port);

    const std::size_t payload_bytes_in_frame = frame.size() - udp_offset;
    if (ip.payload_length < UdpHeader::bytes || ip.payload_length > payload_bytes_in_frame)
        return pass(Reason::ipv6_length);
    if (udp.length != ip.payload_length) return pass(Reason::udp_length);
    // Mandatory over IPv6 (RFC 8200 Section 8.1): a zero marks a malformed
    // datagram, which the relay must not turn into a valid one.
    if (udp.checksum == 0) return pass(Reason::ipv6_zero_checksum);

    return decide_path(Received{eth, ip, udp, frame.subspan(udp_offset, udp.length)}, relayed);
}

Decision ReferenceModel::decide_path(const Received& in, std::vector<std::uint8_t>& relayed) const {
    return in.udp.destination_port == config_.turn_port ? decide_from_client(in, relayed)
                                                        : decide_from_peer(in, relayed);
}

Decision ReferenceModel::decide_from_client(const Received& in, std::vector<std::uint8_t>& relayed) const {
    const ChannelDataMessage message = parse_channel_data(in.datagram.subspan(UdpHeader::bytes), config_.channels);
    if (message.status != ChannelDataStatus::ok) return pass(reason_for(message.status));

    const auto binding = bindings_->find(BindingKey{Endpoint{in.source(), in.udp.source_port}, message.channel});
    if (binding == bindings_->end()) return pass(Reason::no_binding);
    const BindingTarget& target = binding->second;
    const bool out_ipv6 = !target.peer.address.is_v4();
    const auto from = output_source(in, out_ipv6);
    if (!from) return pass(Reason::other_family);
    // The peer is an allocation of this relay (the address the relay sends
    // from, a relay port): only the relay's own sockets can deliver to it, a
    // frame sent to the wire cannot.
    if (target.peer.address == *from && config_.relay_ports.contains(target.peer.port)) return pass(Reason::hairpin);
    // Within a family the datagram only shrinks; into IPv6 it grows.
    if (out_ipv6 != in.ipv6() &&
        ip_header_bytes(out_ipv6) + UdpHeader::bytes + message.application_data.size() > config_.mtu)
        return pass(Reason::too_big);

    build_output(in, Endpoint{*from, target.allocation_port}, target.peer, message.application_data, relayed);
    return {Verdict::tx, Reason::relayed};
}

Decision ReferenceModel::decide_from_peer(const Received& in, std::vector<std::uint8_t>& relayed) const {
    // The channel bound to this peer on this allocation: a plain search of
    // the bindings, as a relay with a handful of channels would do it.
    const PeerKey wanted{Endpoint{in.source(), in.udp.source_port}, in.udp.destination_port};
    const auto binding = std::find_if(bindings_->begin(), bindings_->end(),
                                      [&](const auto& entry) { return peer_key_of(entry.second) == wanted; });
    // No channel: user space sends a Data indication if the peer has a
    // permission, and discards the datagram if not. A binding whose number
    // this relay does not accept is no channel either: the client would
    // take the message for STUN, DTLS or RTP (RFC 7983).
    if (binding == bindings_->end() || !config_.channels.contains(binding->first.channel))
        return pass(Reason::no_channel);
    const BindingKey& client = binding->first;
    const bool out_ipv6 = !client.client.address.is_v4();
    const auto from = output_source(in, out_ipv6);
    if (!from) return pass(Reason::other_family);

    const std::vector<std::uint8_t> message =
        encode_channel_data(client.channel, in.datagram.subspan(UdpHeader::bytes));
    if (ip_header_bytes(out_ipv6) + UdpHeader::bytes + message.size() > config_.mtu) return pass(Reason::too_big);

    build_output(in, Endpoint{*from, config_.turn_port}, client.client, message, relayed);
    return {Verdict::tx, Reason::encapsulated};
}

// The address an output of this family is sent from: the one the input
// arrived on, or across families (RFC 6156) the relay's configured address
// of the output's family, if it has one.
std::optional<IpAddress> ReferenceModel::output_source(const Received& in, bool out_ipv6) const {
    if (out_ipv6 == in.ipv6()) return in.destination();
    return config_.relay_address(out_ipv6);
}

// The output's IP header, its length and addresses still to be set: the
// input's (every other field kept), or across families one of the output's
// family: traffic class from TOS and back, hop limit from TTL and back, a
// zero flow label; into IPv4, identification 0 and Don't Fragment (the IPv6
// sender expects no fragmentation on the way).
std::variant<Ipv4Header, Ipv6Header> ReferenceModel::output_ip_header(const Received& in, bool out_ipv6) {
    if (out_ipv6 == in.ipv6()) return in.ip;
    if (out_ipv6) {
        const auto& v4 = std::get<Ipv4Header>(in.ip);
        Ipv6Header v6;
        v6.traffic_class = v4.tos;
        v6.flow_label = 0;
        v6.hop_limit = v4.ttl;
        return v6;
    }
    const auto& v6 = std::get<Ipv6Header>(in.ip);
    Ipv4Header v4;
    v4.tos = v6.traffic_class;
    v4.identification = 0;
    v4.dont_fragment = true;
    v4.ttl = v6.hop_limit;
    return v4;
}

// Builds the frame the relay sends, from scratch: the input's Ethernet
// addresses swapped, the output's IP header with new addresses and length,
// a new UDP header and `payload`, with every checksum computed in full.
void ReferenceModel::build_output(const Received& in, const Endpoint& from, const Endpoint& to, Bytes payload,
                                  std::vector<std::uint8_t>& relayed) const {
    const bool out_ipv6 = !to.address.is_v4();
    const std::size_t udp_offset = ip_offset + ip_header_bytes(out_ipv6);
    const std::size_t out_udp_length = UdpHeader::bytes + payload.size();
    relayed.resize(udp_offset + out_udp_length);
    const MutableBytes out{relayed};

    EthernetHeader out_eth = in.eth;
    std::swap(out_eth.source, out_eth.destination);
    out_eth.ether_type = out_ipv6 ? EthernetHeader::type_ipv6 : EthernetHeader::type_ipv4;
    out_eth.write(out);

    const auto out_header = output_ip_header(in, out_ipv6);
    if (out_ipv6) {
        Ipv6Header out_ip = std::get<Ipv6Header>(out_header);
        out_ip.payload_length = static_cast<std::uint16_t>(out_udp_length);
        out_ip.source = from.address;
        out_ip.destination = to.address;
        out_ip.write(out.subspan(ip_offset));
    } else {
        Ipv4Header out_ip = std::get<Ipv4Header>(out_header);
        out_ip.total_length = static_cast<std::uint16_t>(Ipv4Header::bytes + out_udp_length);
        out_ip.source = from.address.v4();
        out_ip.destination = to.address.v4();
        out_ip.header_checksum = 0;
        out_ip.write(out.subspan(ip_offset));
        out_ip.header_checksum =
            checksum_from_sum(OnesComplementSum{}.add(out.subspan(ip_offset, Ipv4Header::bytes)).value());
        out_ip.write(out.subspan(ip_offset));
    }

    const UdpHeader out_udp_unchecked{from.port, to.port, static_cast<std::uint16_t>(out_udp_length), 0};
    out_udp_unchecked.write(out.subspan(udp_offset));
    std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(udp_offset + UdpHeader::bytes));

    UdpHeader out_udp = out_udp_unchecked;
    out_udp.checksum = relayed_udp_checksum(family_of(in.ipv6()), in.source(), in.destination(), in.datagram,
                                            family_of(out_ipv6), from, to, out.subspan(udp_offset), in.udp.checksum);
    out_udp.write(out.subspan(udp_offset));
}

}  // namespace xdpturn
