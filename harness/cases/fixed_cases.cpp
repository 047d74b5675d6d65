#include "harness/cases/fixed_cases.hpp"

#include <functional>

#include "harness/cases/case_table.hpp"
#include "harness/cases/expected_output.hpp"
#include "harness/frames/frame_builder.hpp"

namespace xdpturn {

namespace {

constexpr Endpoint client{Ipv4Address{0xC6336407}, 50000};                              // 198.51.100.7:50000
constexpr Endpoint relay{Ipv4Address{0xC0000201}, 3478};                                // 192.0.2.1:3478
constexpr BindingTarget to_peer{49152, Endpoint{Ipv4Address{0xCB007109}, 6000}};        // 203.0.113.9:6000
constexpr BindingTarget to_peer_high{49153, Endpoint{Ipv4Address{0xCB00710A}, 6001}};   // 203.0.113.10
constexpr BindingTarget to_peer_5766{49154, Endpoint{Ipv4Address{0xCB00710B}, 40000}};  // 203.0.113.11
constexpr BindingTarget to_near_miss{49155, Endpoint{Ipv4Address{0xCB00710C}, 6002}};   // 203.0.113.12
// A peer at the top of the relay port range, and one that is another
// allocation on this relay (hairpin).
constexpr BindingTarget to_peer_top{65535, Endpoint{Ipv4Address{0xCB00710D}, 6003}};  // 203.0.113.13
constexpr BindingTarget to_hairpin{49156, Endpoint{relay.address, 49200}};
constexpr BindingTarget to_relay_host{49158, Endpoint{relay.address, 3480}};  // a server beside the relay
// At the relay's address one port below the relay ports: one further in and
// it would be a hairpin.
constexpr BindingTarget to_below_relay_ports{49159, Endpoint{relay.address, 49151}};
constexpr BindingKey client_channel{client, 0x4000};
constexpr BindingKey client_channel_high{client, 0x4FFF};
constexpr BindingKey client_channel_top{client, 0x4003};

FrameSpec channel_frame(std::uint16_t channel = 0x4000, std::size_t data_bytes = 20) {
    return channel_data_frame(client, relay, channel, data_bytes);
}

FrameSpec peer_frame(const BindingTarget& target, std::size_t data_bytes = 20) {
    return peer_datagram_frame(target, relay.address, data_bytes, 0x77);
}

// Rows 21-23: datagrams from peers.
void add_peer_cases(CaseTable& t) {
    const FrameSpec from_peer = peer_frame(to_peer);

    // Row 21: near misses of the bound peer key.
    t.pass("no_channel/other_peer_port", "the bound peer's address from port 6001", Reason::no_channel,
           changed(from_peer, [](FrameSpec& s) { s.udp_source = 6001; }));
    t.pass("no_channel/other_peer_address", "port 6000 from 203.0.113.10", Reason::no_channel,
           changed(from_peer, [](FrameSpec& s) { s.ip_source = Ipv4Address{0xCB00710A}; }));
    t.pass("no_channel/other_allocation", "the bound peer to allocation port 49157, where it has no channel",
           Reason::no_channel, changed(from_peer, [](FrameSpec& s) { s.udp_destination = 49157; }));
    t.pass("no_channel/client_port_as_peer", "the client's own address and port as the source", Reason::no_channel,
           changed(from_peer, [](FrameSpec& s) {
               s.ip_source = client.address;
               s.udp_source = client.port;
           }));
    t.with(fixed_case_config(), {},
           [&] { t.pass("no_channel/empty_table", "no channels at all", Reason::no_channel, from_peer); });
    {
        BindingTable bound_too_high = fixed_case_bindings();
        bound_too_high.erase(client_channel_high);
        bound_too_high.emplace(BindingKey{client, 0x5000}, to_peer_high);
        t.with(fixed_case_config(), bound_too_high, [&] {
            t.pass("no_channel/bound_channel_out_of_range", "the peer's binding has channel 0x5000, outside the range",
                   Reason::no_channel, peer_frame(to_peer_high));
        });
    }

    // Row 22 and its boundary with row 23: the output's IPv4 total length
    // is the input's + 4.
    t.encapsulate("encapsulated/exactly_mtu", "an output of exactly 1500 bytes of IPv4",
                  peer_frame(to_peer, 1500 - 20 - 8 - 4), client_channel);
    t.pass("too_big/one_over_mtu", "an output one byte over the 1500-byte MTU", Reason::too_big,
           peer_frame(to_peer, 1500 - 20 - 8 - 4 + 1));
    t.pass("too_big/full_size_datagram", "a 1500-byte datagram from the peer: 1504 out", Reason::too_big,
           peer_frame(to_peer, 1500 - 20 - 8));

    // Row 23: encapsulated, with every rewrite rule exercised.
    t.encapsulate("encapsulated/basic", "20 bytes from the peer on channel 0x4000", from_peer, client_channel);
    t.encapsulate("encapsulated/channel_0x4fff", "the peer bound on channel 0x4FFF", peer_frame(to_peer_high),
                  client_channel_high);
    t.encapsulate("encapsulated/allocation_port_65535", "the top of the relay port range", peer_frame(to_peer_top),
                  client_channel_top);
    t.encapsulate("encapsulated/length_0", "an empty datagram: Length 0", peer_frame(to_peer, 0), client_channel);
    t.encapsulate("encapsulated/odd_length_no_padding", "7 bytes: Length 7 and no padding added",
                  peer_frame(to_peer, 7), client_channel);
    t.encapsulate("encapsulated/ethernet_trailer", "a frame padded to 60 bytes by the peer's NIC",
                  changed(peer_frame(to_peer, 1), [](FrameSpec& s) { s.trailer = std::vector<std::uint8_t>(17, 0); }),
                  client_channel);
    t.encapsulate("encapsulated/udp_checksum_zero", "no UDP checksum in: none out",
                  changed(from_peer,
                          [](FrameSpec& s) {
                              s.udp_checksum = {ChecksumMode::zero, 0};
                          }),
                  client_channel);
    t.encapsulate("encapsulated/udp_checksum_wrong", "a wrong UDP checksum keeps its error",
                  changed(from_peer,
                          [](FrameSpec& s) {
                              s.udp_checksum = {ChecksumMode::offset, 0x4321};
                          }),
                  client_channel);
    t.encapsulate("encapsulated/udp_checksum_wrong_odd_length", "a wrong UDP checksum with odd data",
                  changed(peer_frame(to_peer, 9),
                          [](FrameSpec& s) {
                              s.udp_checksum = {ChecksumMode::offset, 0x00FF};
                          }),
                  client_channel);
    t.encapsulate("encapsulated/tos_df_ttl_id_kept", "TOS, DF, reserved flag, TTL and ID are copied",
                  changed(from_peer,
                          [](FrameSpec& s) {
                              s.tos = 0x2E;
                              s.dont_fragment = true;
                              s.reserved_flag = true;
                              s.ttl = 2;
                              s.identification = 0xCAFE;
                          }),
                  client_channel);
    {
        FrameSpec in = from_peer;
        make_encapsulated_udp_checksum_zero(in, client_channel, fixed_case_config());
        t.encapsulate("encapsulated/computed_zero_udp_checksum", "a computed UDP checksum of 0 is sent as 0xFFFF", in,
                      client_channel);
    }
    {
        FrameSpec in = from_peer;
        make_encapsulated_ip_checksum_zero(in, client_channel, fixed_case_config());
        t.encapsulate("encapsulated/ipv4_checksum_0000", "an encapsulated IPv4 header checksum of 0x0000 stays", in,
                      client_channel);
    }
    DatapathConfig jumbo = fixed_case_config();
    jumbo.mtu = 9000;
    t.with(jumbo, fixed_case_bindings(), [&] {
        t.encapsulate("encapsulated/largest_frame", "a 3520-byte frame grows to 3524 (MTU 9000)",
                      peer_frame(to_peer, 3520 - 42), client_channel);
    });
    DatapathConfig narrow = fixed_case_config();
    narrow.relay_ports = {49152, 49153};
    t.with(narrow, fixed_case_bindings(), [&] {
        t.pass("wrong_port/above_relay_ports", "a bound peer's datagram to 49154, above 49152-49153",
               Reason::wrong_port, peer_frame(to_peer_5766));
        t.encapsulate("encapsulated/relay_port_max", "to 49153, the top of 49152-49153", peer_frame(to_peer_high),
                      client_channel_high);
    });
}

std::vector<FixedCase> make_cases() {
    CaseTable t;
    const FrameSpec base = channel_frame();

    // Row 1: frames shorter than an Ethernet header.
    std::vector<std::uint8_t> short_frame = build_frame(base);
    short_frame.resize(13);
    t.pass_bytes("short_ethernet/13_bytes", "13 bytes: not even an Ethernet header", Reason::short_ethernet,
                 short_frame);

    // Row 2: VLAN-tagged frames go up to the stack, which owns VLAN handling.
    t.pass("vlan_tagged/802.1q", "a bound ChannelData frame inside an 802.1Q tag", Reason::vlan_tagged,
           changed(base, [](FrameSpec& s) { s.vlan_tags = {100}; }));
    t.pass("vlan_tagged/802.1ad", "an 802.1ad (QinQ) outer tag", Reason::vlan_tagged,
           changed(base, [](FrameSpec& s) { s.ether_type = 0x88A8; }));

    // Row 3.
    t.pass("not_ip/arp", "ARP ethertype", Reason::not_ip, changed(base, [](FrameSpec& s) { s.ether_type = 0x0806; }));
    t.pass("not_ip/ipv4_neighbour", "EtherType 0x0801, one above IPv4", Reason::not_ip,
           changed(base, [](FrameSpec& s) { s.ether_type = 0x0801; }));
    t.pass("not_ip/ipv6_neighbour", "EtherType 0x86DE, one above IPv6", Reason::not_ip,
           changed(base, [](FrameSpec& s) { s.ether_type = 0x86DE; }));

    // Row 4.
    t.pass("short_ipv4/33_bytes", "Ethernet header and 19 bytes of IPv4 header", Reason::short_ipv4,
           changed(base, [](FrameSpec& s) { s.truncate_to = 33; }));

    // Row 5.
    t.pass("ipv4_version/6", "IPv4 ethertype but version nibble 6", Reason::ipv4_version,
           changed(base, [](FrameSpec& s) { s.ip_version = 6; }));

    // Row 6: options make the header variable; such frames pass untouched.
    t.pass("ipv4_options/ihl6_nops", "IHL 6 with four NOP options, bound client", Reason::ipv4_options,
           changed(base, [](FrameSpec& s) {
               s.ip_options = {1, 1, 1, 1};
           }));
    t.pass("ipv4_options/ihl15_record_route", "IHL 15: 40 bytes of record-route option", Reason::ipv4_options,
           changed(base, [](FrameSpec& s) {
               s.ip_options = std::vector<std::uint8_t>(40, 0);
               s.ip_options[0] = 7;   // record route
               s.ip_options[1] = 39;  // option length
               s.ip_options[2] = 4;   // pointer
           }));
    t.pass("ipv4_options/ihl4_invalid", "IHL 4, below the minimum header", Reason::ipv4_options,
           changed(base, [](FrameSpec& s) { s.ihl = 4; }));

    // Row 7.
    t.pass("ipv4_fragment/more_fragments", "first fragment (MF set)", Reason::ipv4_fragment,
           changed(base, [](FrameSpec& s) { s.more_fragments = true; }));
    t.pass("ipv4_fragment/offset", "a later fragment (offset 185)", Reason::ipv4_fragment,
           changed(base, [](FrameSpec& s) { s.fragment_offset = 185; }));

    // Row 8.
    t.pass("not_udp/tcp", "protocol 6 (TCP)", Reason::not_udp, changed(base, [](FrameSpec& s) { s.protocol = 6; }));

    // Row 9.
    t.pass("short_udp/41_bytes", "7 bytes of UDP header", Reason::short_udp,
           changed(base, [](FrameSpec& s) { s.truncate_to = 41; }));

    // Row 10.
    t.pass("wrong_port/3479", "UDP destination port 3479", Reason::wrong_port,
           changed(base, [](FrameSpec& s) { s.udp_destination = 3479; }));
    t.pass("wrong_port/from_turn_port", "a datagram from port 3478 to a port that is no allocation's",
           Reason::wrong_port, changed(base, [](FrameSpec& s) {
               s.udp_source = 3478;
               s.udp_destination = 5000;
           }));
    t.pass("wrong_port/below_relay_ports", "a bound peer's datagram to 49151, one below the relay ports",
           Reason::wrong_port, changed(peer_frame(to_peer), [](FrameSpec& s) { s.udp_destination = 49151; }));

    // Row 11.
    t.pass("ipv4_length/below_28", "total length 27: no room for a UDP header", Reason::ipv4_length,
           changed(base, [](FrameSpec& s) { s.total_length = 27; }));
    t.pass("ipv4_length/beyond_frame", "total length one byte past the frame", Reason::ipv4_length,
           changed(base, [](FrameSpec& s) { s.total_length = static_cast<std::uint16_t>(20 + 8 + 4 + 20 + 1); }));

    // Row 12.
    t.pass("udp_length/longer", "UDP length 1 above IPv4 payload", Reason::udp_length,
           changed(base, [](FrameSpec& s) { s.udp_length = 8 + 4 + 20 + 1; }));
    t.pass("udp_length/shorter", "UDP length 1 below IPv4 payload", Reason::udp_length,
           changed(base, [](FrameSpec& s) { s.udp_length = 8 + 4 + 20 - 1; }));
    t.pass("udp_length/below_8", "UDP length 7", Reason::udp_length,
           changed(base, [](FrameSpec& s) { s.udp_length = 7; }));

    // Row 13.
    t.pass("ipv4_checksum/off_by_one", "IPv4 header checksum off by one", Reason::ipv4_checksum,
           changed(base, [](FrameSpec& s) {
               s.ip_checksum = {ChecksumMode::offset, 1};
           }));

    // Rows 11-13 hold for a peer's datagram too.
    t.pass("ipv4_length/from_peer_beyond_frame", "a bound peer's datagram with total length past the frame",
           Reason::ipv4_length, changed(peer_frame(to_peer), [](FrameSpec& s) { s.total_length = 20 + 8 + 20 + 1; }));
    t.pass("udp_length/from_peer", "a bound peer's datagram with UDP length 1 above the IPv4 payload",
           Reason::udp_length, changed(peer_frame(to_peer), [](FrameSpec& s) { s.udp_length = 8 + 20 + 1; }));
    t.pass("ipv4_checksum/from_peer", "a bound peer's datagram with a wrong IPv4 header checksum",
           Reason::ipv4_checksum, changed(peer_frame(to_peer), [](FrameSpec& s) {
               s.ip_checksum = {ChecksumMode::offset, 0x100};
           }));

    // Row 14.
    t.pass("short_channel/3_bytes", "UDP payload of 3 bytes", Reason::short_channel, changed(base, [](FrameSpec& s) {
               s.channel_data = false;
               s.raw_udp_payload = {0x40, 0x00, 0x00};
           }));
    t.pass("short_channel/empty", "empty UDP payload", Reason::short_channel,
           changed(base, [](FrameSpec& s) { s.channel_data = false; }));

    // Row 15: the range is inclusive at both ends; STUN starts with 0b00.
    t.pass("channel_range/0x3fff", "channel 0x3FFF, one below the range", Reason::channel_range, channel_frame(0x3FFF));
    t.pass("channel_range/0x5000_rfc8656", "channel 0x5000, one above RFC 8656's range", Reason::channel_range,
           channel_frame(0x5000));
    t.pass("channel_range/stun_binding_request", "a STUN Binding request to the TURN port", Reason::channel_range,
           changed(base, [](FrameSpec& s) {
               s.channel_data = false;
               s.raw_udp_payload = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
               const auto transaction = pattern_bytes(12, 7);
               s.raw_udp_payload.insert(s.raw_udp_payload.end(), transaction.begin(), transaction.end());
           }));

    // Row 16.
    t.pass("channel_length/one_over", "Length one byte more than the data", Reason::channel_length,
           changed(base, [](FrameSpec& s) { s.channel_length = 21; }));
    t.pass("channel_length/0xffff", "Length 0xFFFF in a small datagram", Reason::channel_length,
           changed(base, [](FrameSpec& s) { s.channel_length = 0xFFFF; }));

    // Row 17.
    t.pass("channel_padding/4_bytes", "4 bytes after Length: more than padding", Reason::channel_padding,
           changed(base, [](FrameSpec& s) {
               s.padding = {0, 0, 0, 0};
           }));
    t.pass("channel_padding/7_bytes", "Length 13 with 7 bytes after it", Reason::channel_padding,
           changed(channel_frame(0x4000, 13), [](FrameSpec& s) { s.padding = std::vector<std::uint8_t>(7, 0xAA); }));

    // Row 18: near misses of the frame's key.
    t.pass("no_binding/other_channel", "bound client, unbound channel 0x4001", Reason::no_binding,
           channel_frame(0x4001));
    t.pass("no_binding/other_port", "bound address and channel, other source port", Reason::no_binding,
           changed(base, [](FrameSpec& s) { s.udp_source = 50001; }));
    t.pass("no_binding/other_address", "bound port and channel, other source address", Reason::no_binding,
           changed(base, [](FrameSpec& s) { s.ip_source = Ipv4Address{0xC6336408}; }));
    t.with(fixed_case_config(), {},
           [&] { t.pass("no_binding/empty_table", "no bindings at all", Reason::no_binding, base); });

    // Row 19.
    t.pass("hairpin/peer_on_this_relay", "bound to a peer at the relay's own address: another allocation",
           Reason::hairpin, channel_frame(0x4002));
    t.relay("relayed/peer_on_relay_host", "a peer at the relay's address on port 3480, not a relay port: no hairpin",
            channel_frame(0x4004), to_relay_host);
    t.relay("relayed/peer_on_relay_host_below_relay_ports",
            "a peer at the relay's address on 49151, one below the relay ports: no hairpin", channel_frame(0x4007),
            to_below_relay_ports);

    // Row 20: relayed, with every rewrite rule exercised.
    t.relay("relayed/basic", "20 bytes on channel 0x4000", base, to_peer);
    // One's complement has two zeros (RFC 1624): a header whose checksum
    // computes to 0x0000 is as valid sent as 0xFFFF.
    t.relay("relayed/ipv4_header_checksum_ffff", "an IPv4 header checksum of 0xFFFF where 0x0000 is computed",
            ipv4_header_checksum_ffff(base), to_peer);
    FrameSpec folds_twice = changed(base, [](FrameSpec& s) { s.application_data.assign(64, 0xFF); });
    make_relayed_sum_fold_twice(folds_twice, to_peer, fixed_case_config());
    t.relay("relayed/sum_folds_twice", "data whose output checksum's sum carries out of its first fold", folds_twice,
            to_peer);
    // The sums the relay itself folds (harness/frames/folded_sums.hpp).
    FrameSpec header_carries = base;
    make_relayed_fold_carry(header_carries, FoldedSum::ipv4_header, to_peer, fixed_case_config());
    t.relay("relayed/ipv4_update_folds_twice", "an IPv4 header checksum update whose sum carries out of its first fold",
            header_carries, to_peer);
    FrameSpec padded_carries =
        changed(channel_frame(0x4000, 21), [](FrameSpec& s) { s.padding = std::vector<std::uint8_t>(3, 0xC3); });
    make_relayed_fold_carry(padded_carries, FoldedSum::udp, to_peer, fixed_case_config());
    t.relay("relayed/udp_update_folds_twice_padded",
            "a UDP checksum update, padding taken out, whose sum carries out of its first fold", padded_carries,
            to_peer);
    t.relay("relayed/channel_0x4fff", "the top of RFC 8656's range", channel_frame(0x4FFF), to_peer_high);
    for (std::size_t padding = 1; padding <= 3; ++padding) {
        t.relay("relayed/padding_" + std::to_string(padding),
                "odd Length with " + std::to_string(padding) + " non-zero padding byte(s), removed",
                changed(channel_frame(0x4000, 24 - padding),
                        [&](FrameSpec& s) { s.padding = std::vector<std::uint8_t>(padding, 0xA5); }),
                to_peer);
    }
    t.relay("relayed/length_0", "Length 0: an empty datagram to the peer", channel_frame(0x4000, 0), to_peer);
    t.relay("relayed/length_0_padding_3", "Length 0 followed by 3 padding bytes",
            changed(channel_frame(0x4000, 0),
                    [](FrameSpec& s) {
                        s.padding = {1, 2, 3};
                    }),
            to_peer);
    t.relay("relayed/ethernet_trailer", "a 47-byte frame padded to 60 by the sender's NIC",
            changed(channel_frame(0x4000, 1), [](FrameSpec& s) { s.trailer = std::vector<std::uint8_t>(13, 0); }),
            to_peer);
    t.relay("relayed/padding_and_trailer", "channel padding and a non-zero Ethernet trailer",
            changed(channel_frame(0x4000, 5),
                    [](FrameSpec& s) {
                        s.padding = {0xEE, 0xEE, 0xEE};
                        s.trailer = {0xDE, 0xAD, 0xBE, 0xEF};
                    }),
            to_peer);
    t.relay("relayed/udp_checksum_zero", "no UDP checksum in: none out",
            changed(base,
                    [](FrameSpec& s) {
                        s.udp_checksum = {ChecksumMode::zero, 0};
                    }),
            to_peer);
    t.relay("relayed/udp_checksum_wrong", "a wrong UDP checksum keeps its error",
            changed(base,
                    [](FrameSpec& s) {
                        s.udp_checksum = {ChecksumMode::offset, 0x1234};
                    }),
            to_peer);
    t.relay("relayed/udp_checksum_wrong_odd_padding", "a wrong UDP checksum with odd data and padding",
            changed(channel_frame(0x4000, 7),
                    [](FrameSpec& s) {
                        s.padding = {0x11};
                        s.udp_checksum = {ChecksumMode::offset, 0x00FF};
                    }),
            to_peer);
    t.relay("relayed/tos_df_ttl_id_kept", "TOS, DF, reserved flag, TTL and ID are copied",
            changed(base,
                    [](FrameSpec& s) {
                        s.tos = 0xB9;
                        s.dont_fragment = true;
                        s.reserved_flag = true;
                        s.ttl = 1;
                        s.identification = 0xBEEF;
                    }),
            to_peer);
    {
        FrameSpec in = base;
        make_relayed_udp_checksum_zero(in, to_peer, fixed_case_config());
        t.relay("relayed/computed_zero_udp_checksum", "a computed UDP checksum of 0 is sent as 0xFFFF", in, to_peer);
    }
    {
        FrameSpec in = base;
        make_relayed_ip_checksum_zero(in, to_peer, fixed_case_config());
        t.relay("relayed/ipv4_checksum_0000", "a relayed IPv4 header checksum of 0x0000 stays 0x0000", in, to_peer);
    }
    t.relay("relayed/largest_frame", "a 3520-byte frame, the largest BPF_PROG_TEST_RUN takes linear",
            channel_frame(0x4000, 3520 - 46), to_peer);
    add_peer_cases(t);
    add_ipv6_cases(t);
    add_across_cases(t);
    DatapathConfig rfc5766_config = fixed_case_config();
    rfc5766_config.channels = rfc5766_channels;
    t.with(rfc5766_config, fixed_case_bindings(), [&] {
        t.relay("relayed/rfc5766_0x7fff", "channel 0x7FFF with RFC 5766's range configured", channel_frame(0x7FFF),
                to_peer_5766);
        t.pass("channel_range/0x8000_rfc5766", "channel 0x8000, above RFC 5766's range", Reason::channel_range,
               channel_frame(0x8000));
    });
    DatapathConfig port_443 = fixed_case_config();
    port_443.turn_port = 443;
    t.with(port_443, fixed_case_bindings(), [&] {
        t.relay("relayed/turn_port_443", "a relay configured for port 443",
                changed(base, [](FrameSpec& s) { s.udp_destination = 443; }), to_peer);
        t.pass("wrong_port/3478_when_443", "port 3478 when the relay listens on 443", Reason::wrong_port, base);
    });
    return t.take();
}

}  // namespace

FrameSpec channel_data_frame(const Endpoint& from, const Endpoint& to, std::uint16_t channel, std::size_t data_bytes) {
    FrameSpec spec;
    spec.ip_source = from.address;
    spec.ip_destination = to.address;
    spec.udp_source = from.port;
    spec.udp_destination = to.port;
    spec.channel = channel;
    spec.application_data = pattern_bytes(data_bytes, static_cast<std::uint8_t>(channel));
    return spec;
}

FrameSpec peer_datagram_frame(const BindingTarget& target, const IpAddress& relay_address, std::size_t data_bytes,
                              std::uint8_t seed) {
    FrameSpec spec;
    spec.eth_destination = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    spec.eth_source = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
    spec.ip_source = target.peer.address;
    spec.ip_destination = relay_address;
    spec.udp_source = target.peer.port;
    spec.udp_destination = target.allocation_port;
    spec.channel_data = false;
    spec.raw_udp_payload = pattern_bytes(data_bytes, seed);
    return spec;
}

DatapathConfig fixed_case_config() {
    DatapathConfig config;
    config.turn_port = relay.port;
    return config;
}

BindingTable fixed_case_bindings() {
    BindingTable table;
    table.emplace(client_channel, to_peer);
    table.emplace(client_channel_high, to_peer_high);
    table.emplace(BindingKey{client, 0x7FFF}, to_peer_5766);
    table.emplace(client_channel_top, to_peer_top);
    table.emplace(BindingKey{client, 0x4002}, to_hairpin);
    table.emplace(BindingKey{client, 0x4004}, to_relay_host);
    table.emplace(BindingKey{client, 0x4007}, to_below_relay_ports);
    // Near misses of the client's own keys, so lookups must match all three fields.
    table.emplace(BindingKey{Endpoint{Ipv4Address{0xC6336408}, 50001}, 0x4001}, to_near_miss);
    add_ipv6_bindings(table);
    return table;
}

const std::vector<FixedCase>& fixed_cases() {
    static const std::vector<FixedCase> cases = make_cases();
    return cases;
}

const FixedCase* find_fixed_case(std::string_view name) {
    for (const FixedCase& c : fixed_cases())
        if (c.name == name) return &c;
    return nullptr;
}

}  // namespace xdpturn
