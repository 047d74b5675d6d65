// Bindings across families (RFC 6156), relayed: a configuration with a
// relay address of each family sends an IPv4 client's data to its IPv6
// peer and back, and an IPv6 client's to its IPv4 peer and back, with a new
// IP header of the other family; an IPv4 datagram without a UDP checksum
// gets one made. Row 36 and the hairpin and MTU rows as they apply across
// families (docs/datapath.md, "Across families").
#include "harness/cases/case_table.hpp"

namespace xdpturn {

namespace {

DatapathConfig across_config() {
    DatapathConfig config = fixed_case_config();
    config.relay_ipv4 = relay4_address;
    config.relay_ipv6 = relay6.address;
    return config;
}

BindingTable across_bindings() {
    BindingTable table = fixed_case_bindings();
    table.emplace(client4_to_hairpin6, to_hairpin_v6_of_v4);
    return table;
}

// ChannelData from the IPv4 client on its binding to an IPv6 peer.
FrameSpec channel_frame4_to_v6(std::size_t data_bytes = 20) {
    return channel_data_frame(client4, Endpoint{relay4_address, relay6.port}, client4_to_v6.channel, data_bytes);
}

// Headers whose every carried-over field differs from the defaults: TOS
// (traffic class) with DSCP and ECN bits, TTL (hop limit), and in IPv6 a
// flow label and in IPv4 an identification and no DF, which the other
// family must not inherit.
FrameSpec with_marked_fields(FrameSpec spec) {
    spec.tos = 0xB9;
    spec.ttl = 37;
    spec.flow_label = 0xABCDE;
    spec.identification = 0x4321;
    spec.dont_fragment = false;
    return spec;
}

// 4 -> 6 and 6 -> 4 on both paths.
void add_relayed_across(CaseTable& t) {
    t.relay("relayed/ipv4_client_ipv6_peer", "an IPv4 client's ChannelData to its IPv6 peer",
            with_marked_fields(channel_frame4_to_v6()), to_peer_v6_of_v4);
    t.relay("relayed/ipv6_client_ipv4_peer", "an IPv6 client's ChannelData to its IPv4 peer: DF, identification 0",
            with_marked_fields(channel_frame6(client6_to_v4.channel)), to_peer_v4_of_v6);
    FrameSpec header_made_carries = channel_frame6(client6_to_v4.channel);
    make_relayed_fold_carry(header_made_carries, FoldedSum::ipv4_header, to_peer_v4_of_v6, across_config());
    t.relay("relayed/ipv6_to_ipv4_header_folds_twice",
            "6 -> 4 whose new IPv4 header's sum carries out of its first fold (TTL and TOS chosen)",
            header_made_carries, to_peer_v4_of_v6);
    t.encapsulate("encapsulated/ipv6_peer_ipv4_client", "an IPv6 peer's datagram to its IPv4 client",
                  with_marked_fields(peer_frame6(to_peer_v6_of_v4)), client4_to_v6);
    t.encapsulate("encapsulated/ipv4_peer_ipv6_client", "an IPv4 peer's datagram to its IPv6 client",
                  with_marked_fields(peer_frame6(to_peer_v4_of_v6)), client6_to_v4);
    // The frame's end moves as the head does: padding and a trailer are
    // cut while the header grows (4 -> 6) or shrinks (6 -> 4).
    t.relay("relayed/ipv4_to_ipv6_padding_trailer", "4 -> 6 with 3 bytes of padding and an Ethernet trailer",
            changed(channel_frame4_to_v6(17),
                    [](FrameSpec& s) {
                        s.padding = {0xEE, 0xEE, 0xEE};
                        s.trailer = pattern_bytes(9, 0x31);
                    }),
            to_peer_v6_of_v4);
    t.relay("relayed/ipv6_to_ipv4_trailer", "6 -> 4 with an Ethernet trailer",
            changed(channel_frame6(client6_to_v4.channel, 33), [](FrameSpec& s) { s.trailer = pattern_bytes(5, 9); }),
            to_peer_v4_of_v6);
    t.encapsulate("encapsulated/ipv4_to_ipv6_empty", "4 -> 6, a peer datagram without data",
                  peer_frame6(to_peer_v4_of_v6, 0), client6_to_v4);
    // The checksum's error carries over whatever the pseudo-header's family.
    t.relay("relayed/across_wrong_udp_checksum", "4 -> 6 with a UDP checksum off by 0x0101: the same error out",
            changed(channel_frame4_to_v6(),
                    [](FrameSpec& s) {
                        s.udp_checksum = {ChecksumMode::offset, 0x0101};
                    }),
            to_peer_v6_of_v4);
    t.encapsulate("encapsulated/across_wrong_udp_checksum", "6 -> 4 with a UDP checksum off by 0x8000",
                  changed(peer_frame6(to_peer_v6_of_v4),
                          [](FrameSpec& s) {
                              s.udp_checksum = {ChecksumMode::offset, 0x8000};
                          }),
                  client4_to_v6);
    FrameSpec zero_sum = channel_frame6(client6_to_v4.channel);
    make_relayed_udp_checksum_zero(zero_sum, to_peer_v4_of_v6, across_config());
    t.relay("relayed/across_udp_checksum_ffff", "6 -> 4 whose UDP checksum computes to 0: sent as 0xFFFF", zero_sum,
            to_peer_v4_of_v6);
    // An IPv4 datagram without a checksum stays without one in IPv4.
    t.encapsulate("encapsulated/ipv6_to_ipv4_keeps_checksum", "6 -> 4: an IPv6 peer's checksum is never 0",
                  peer_frame6(to_peer_v6_of_v4, 1), client4_to_v6);
}

// Into IPv6 a UDP checksum is mandatory: an IPv4 datagram without one gets
// one computed in full, over an even and an odd number of data bytes.
void add_checksums_made(CaseTable& t) {
    auto without_checksum = [](FrameSpec s) {
        s.udp_checksum = {ChecksumMode::zero, 0};
        return s;
    };
    t.relay("relayed/ipv4_no_checksum_to_ipv6", "an IPv4 client's ChannelData without a UDP checksum, to an IPv6 peer",
            without_checksum(channel_frame4_to_v6()), to_peer_v6_of_v4);
    t.relay("relayed/ipv4_no_checksum_to_ipv6_odd", "the same with 1451 bytes of data (an odd last byte) and padding",
            changed(without_checksum(channel_frame4_to_v6(1451)),
                    [](FrameSpec& s) {
                        s.padding = {0, 0, 0};
                    }),
            to_peer_v6_of_v4);
    FrameSpec zero_sum = without_checksum(channel_frame4_to_v6());
    make_relayed_udp_checksum_zero(zero_sum, to_peer_v6_of_v4, across_config());
    t.relay("relayed/ipv4_no_checksum_to_ipv6_computed_zero",
            "4 -> 6 whose checksum, computed in full, comes out as 0: sent as 0xFFFF", zero_sum, to_peer_v6_of_v4);
    FrameSpec made_carries = without_checksum(channel_frame4_to_v6());
    make_relayed_fold_carry(made_carries, FoldedSum::udp, to_peer_v6_of_v4, across_config());
    t.relay("relayed/ipv4_no_checksum_to_ipv6_folds_twice",
            "4 -> 6 whose checksum's sum, made in full, carries out of its first fold", made_carries, to_peer_v6_of_v4);
    t.encapsulate("encapsulated/ipv4_no_checksum_to_ipv6",
                  "an IPv4 peer's datagram without a UDP checksum, to an IPv6 client",
                  without_checksum(peer_frame6(to_peer_v4_of_v6, 333)), client6_to_v4);
    t.encapsulate("encapsulated/ipv4_no_checksum_to_ipv6_empty", "the same without data",
                  without_checksum(peer_frame6(to_peer_v4_of_v6, 0)), client6_to_v4);
}

// The MTU and hairpin rows across families.
void add_refused_across(CaseTable& t) {
    // 4 -> 6 adds 20 bytes of header: 40 + 8 + 1452 is the MTU exactly.
    t.relay("relayed/ipv4_to_ipv6_at_mtu", "4 -> 6 whose IPv6 packet is 1500 bytes, the MTU",
            channel_frame4_to_v6(1452), to_peer_v6_of_v4);
    t.pass("too_big/ipv4_to_ipv6_client_path", "4 -> 6 whose IPv6 packet would be 1501 bytes", Reason::too_big,
           channel_frame4_to_v6(1453));
    t.encapsulate("encapsulated/ipv4_to_ipv6_at_mtu", "an IPv4 peer's 1448 bytes: 40 + 8 + 4 + 1448 = 1500",
                  peer_frame6(to_peer_v4_of_v6, 1448), client6_to_v4);
    t.pass("too_big/ipv4_to_ipv6_peer_path", "an IPv4 peer's 1449 bytes: 1501 as IPv6 ChannelData", Reason::too_big,
           peer_frame6(to_peer_v4_of_v6, 1449));
    // 6 -> 4 shrinks: what would not fit as IPv6 fits as IPv4.
    t.encapsulate("encapsulated/ipv6_to_ipv4_fits", "an IPv6 peer's 1468 bytes: 20 + 8 + 4 + 1468 = 1500",
                  peer_frame6(to_peer_v6_of_v4, 1468), client4_to_v6);
    t.pass("hairpin/ipv4_client_to_relay_ipv6", "an IPv4 client's peer is an allocation on the relay's IPv6 address",
           Reason::hairpin,
           channel_data_frame(client4, Endpoint{relay4_address, relay6.port}, client4_to_hairpin6.channel, 20));
}

}  // namespace

void add_across_cases(CaseTable& t) {
    t.with(across_config(), across_bindings(), [&] {
        add_relayed_across(t);
        add_checksums_made(t);
        add_refused_across(t);
    });
    // Relay addresses and a jumbo MTU together: growth across families is
    // measured against the configured MTU, not Ethernet's.
    DatapathConfig jumbo = across_config();
    jumbo.mtu = 9000;
    t.with(jumbo, across_bindings(), [&] {
        t.relay("relayed/ipv4_to_ipv6_over_1500_jumbo", "4 -> 6 whose IPv6 packet is 1501 bytes, under MTU 9000",
                channel_frame4_to_v6(1453), to_peer_v6_of_v4);
    });
}

}  // namespace xdpturn
