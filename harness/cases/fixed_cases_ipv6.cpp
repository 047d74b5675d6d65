// The IPv6 rows (docs/datapath.md rows 25-33) and both paths over IPv6, and
// the family rows (34, 35): a binding whose two ends are of different
// families is left to user space.
#include "harness/cases/case_table.hpp"
#include "harness/frames/layout.hpp"

namespace xdpturn {

namespace {

IpAddress v6(const char* text) {
    return *parse_ip(text);
}

constexpr BindingTarget to_peer6{49160, Endpoint{documentation_v6(0x09, 0x09), 6000}};
constexpr BindingTarget to_near_miss6{49161, Endpoint{documentation_v6(0x09, 0x0C), 6002}};
constexpr BindingTarget to_hairpin6{49162, Endpoint{relay6.address, 49200}};
constexpr BindingKey client6_channel{client6, 0x4000};
constexpr BindingKey client6_to_translated{client6, 0x4003};
constexpr BindingKey client6_to_next_to_mapped{client6, 0x4004};

// ::ffff:0:203.0.113.15, an IPv4-translated address (RFC 7915): its first
// 64 bits are zero as an IPv4-mapped address's are, yet it is IPv6.
BindingTarget to_translated6() {
    return BindingTarget{49166, Endpoint{*parse_ip("::ffff:0:203.0.113.15"), 6006}};
}

// ::1:ffff:203.0.113.16: the mapped prefix's last 32 bits (0000:ffff) but
// for one bit of the word's upper half: a test that looks at the lower half
// of that word alone takes it for IPv4.
BindingTarget to_next_to_mapped6() {
    return BindingTarget{49167, Endpoint{*parse_ip("::1:ffff:203.0.113.16"), 6007}};
}

// An extension header of 8 bytes whose Next Header is UDP: its own type
// goes in the IPv6 header's Next Header.
std::vector<std::uint8_t> extension_before_udp(std::uint8_t type) {
    if (type == 44) return {17, 0, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78};  // fragment: offset 0, M set
    return {17, 0, 1, 4, 0, 0, 0, 0};                                    // options header: one PadN option of 4 bytes
}

// Rows 25-33 and the shared rows they lead to.
void add_ipv6_header_cases(CaseTable& t, const FrameSpec& base) {
    t.pass("short_ipv6/53_bytes", "Ethernet header and 39 bytes of IPv6 header", Reason::short_ipv6,
           changed(base, [](FrameSpec& s) { s.truncate_to = 53; }));
    t.pass("ipv6_version/4", "IPv6 EtherType, version nibble 4", Reason::ipv6_version,
           changed(base, [](FrameSpec& s) { s.ip_version = 4; }));
    t.pass("ipv6_version/ipv4_packet", "a whole IPv4 packet behind the IPv6 EtherType", Reason::ipv6_version,
           changed(base, [](FrameSpec& s) {
               s.ip_source = Ipv4Address{0xC6336407};
               s.ip_destination = Ipv4Address{0xC0000201};
               s.ether_type = 0x86DD;
           }));
    struct Extension {
        std::uint8_t type;
        const char* name;
    };
    for (const Extension extension : {Extension{0, "hop_by_hop"}, Extension{43, "routing"}, Extension{44, "fragment"},
                                      Extension{60, "destination_options"}}) {
        t.pass(std::string("ipv6_extension/") + extension.name,
               std::string("a bound ChannelData behind a ") + extension.name + " header", Reason::ipv6_extension,
               changed(base, [extension](FrameSpec& s) {
                   s.protocol = extension.type;
                   s.extension_headers = extension_before_udp(extension.type);
               }));
    }
    t.pass("not_udp/ipv6_tcp", "Next Header 6 (TCP)", Reason::not_udp,
           changed(base, [](FrameSpec& s) { s.protocol = 6; }));
    t.pass("not_udp/ipv6_no_next_header", "Next Header 59: no next header, not an extension", Reason::not_udp,
           changed(base, [](FrameSpec& s) { s.protocol = 59; }));
    t.pass("short_udp/ipv6_61_bytes", "an IPv6 header and 7 bytes of UDP header", Reason::short_udp,
           changed(base, [](FrameSpec& s) { s.truncate_to = ipv6_layout.udp_at + 7; }));
    t.pass("wrong_port/ipv6", "a bound ChannelData to port 3479", Reason::wrong_port,
           changed(base, [](FrameSpec& s) { s.udp_destination = 3479; }));
    t.pass("ipv6_length/over_frame", "Payload Length one byte more than the frame holds", Reason::ipv6_length,
           changed(base, [](FrameSpec& s) { s.total_length = 8 + 4 + 20 + 1; }));
    t.pass("ipv6_length/below_udp_header", "Payload Length 7", Reason::ipv6_length,
           changed(base, [](FrameSpec& s) { s.total_length = 7; }));
    t.pass("ipv6_length/zero_jumbogram", "Payload Length 0, as in a jumbogram without its option", Reason::ipv6_length,
           changed(base, [](FrameSpec& s) { s.total_length = 0; }));
    t.pass("udp_length/ipv6_shorter", "UDP length 4 below Payload Length", Reason::udp_length,
           changed(base, [](FrameSpec& s) { s.udp_length = 8 + 20; }));
    t.pass("ipv6_zero_checksum/from_client", "a bound ChannelData without a UDP checksum", Reason::ipv6_zero_checksum,
           changed(base, [](FrameSpec& s) {
               s.udp_checksum = {ChecksumMode::zero, 0};
           }));
    t.pass("ipv6_zero_checksum/from_peer", "a bound peer's datagram without a UDP checksum", Reason::ipv6_zero_checksum,
           changed(peer_frame6(to_peer6), [](FrameSpec& s) {
               s.udp_checksum = {ChecksumMode::zero, 0};
           }));
}

// Rows 14-20 over IPv6.
void add_ipv6_client_cases(CaseTable& t, const FrameSpec& base) {
    t.pass("channel_range/ipv6_stun", "a STUN message over IPv6", Reason::channel_range,
           changed(base, [](FrameSpec& s) { s.channel = 0x0001; }));
    t.pass("channel_padding/ipv6_4_bytes", "4 bytes after the data", Reason::channel_padding,
           changed(base, [](FrameSpec& s) {
               s.padding = {0, 0, 0, 0};
           }));
    t.pass("no_binding/ipv6_near_miss_port", "the bound IPv6 client from port 50001", Reason::no_binding,
           changed(base, [](FrameSpec& s) { s.udp_source = 50001; }));
    t.pass("no_binding/ipv6_near_miss_address", "2001:db8:c::8, one above the bound client", Reason::no_binding,
           changed(base, [](FrameSpec& s) { s.ip_source = v6("2001:db8:c::8"); }));
    t.pass("hairpin/ipv6", "the IPv6 peer is another allocation on this relay", Reason::hairpin,
           channel_frame6(0x4002));

    t.relay("relayed/ipv6_basic", "20 bytes to the IPv6 peer", base, to_peer6);
    t.relay("relayed/ipv6_length_0", "an empty ChannelData message", channel_frame6(0x4000, 0), to_peer6);
    t.relay("relayed/ipv6_padding_3", "5 bytes and 3 bytes of padding, removed with their checksum share",
            changed(channel_frame6(0x4000, 5),
                    [](FrameSpec& s) {
                        s.padding = {0xAA, 0xBB, 0xCC};
                    }),
            to_peer6);
    t.relay("relayed/ipv6_ethernet_trailer", "junk after the IPv6 packet is cut",
            changed(base, [](FrameSpec& s) { s.trailer = {1, 2, 3, 4, 5, 6}; }), to_peer6);
    t.relay("relayed/ipv6_class_flow_hop_kept", "traffic class, flow label and hop limit are copied",
            changed(base,
                    [](FrameSpec& s) {
                        s.tos = 0xB9;
                        s.flow_label = 0xABCDE;
                        s.ttl = 1;
                    }),
            to_peer6);
    t.relay("relayed/ipv6_udp_checksum_wrong", "a wrong UDP checksum keeps its error",
            changed(base,
                    [](FrameSpec& s) {
                        s.udp_checksum = {ChecksumMode::offset, 0x1234};
                    }),
            to_peer6);
    // An IPv6 header may carry an IPv4-mapped address as its destination:
    // the output is sent from it, and its checksum sums it as 16 bytes of
    // an IPv6 header (a fuzzer found the reference summing it as IPv4).
    t.relay("relayed/ipv6_mapped_arrival_address", "to ::ffff:192.0.2.1 in an IPv6 header",
            changed(base, [](FrameSpec& s) { s.ip_destination = Ipv4Address{0xC0000201}; }), to_peer6);
    t.relay("relayed/ipv6_peer_ipv4_translated",
            "to ::ffff:0:203.0.113.15, IPv6 though it begins as an IPv4-mapped address does", channel_frame6(0x4003),
            to_translated6());
    t.relay("relayed/ipv6_peer_next_to_mapped", "to ::1:ffff:203.0.113.16, one bit from an IPv4-mapped address",
            channel_frame6(0x4004), to_next_to_mapped6());
    FrameSpec zero_sum = base;
    make_relayed_udp_checksum_zero(zero_sum, to_peer6, fixed_case_config());
    t.relay("relayed/ipv6_computed_zero_udp_checksum", "a computed UDP checksum of 0 is sent as 0xFFFF", zero_sum,
            to_peer6);
}

// Rows 21-23 over IPv6.
void add_ipv6_peer_cases(CaseTable& t) {
    const FrameSpec from_peer = peer_frame6(to_peer6);
    t.pass("no_channel/ipv6_other_peer_port", "the bound IPv6 peer from port 6001", Reason::no_channel,
           changed(from_peer, [](FrameSpec& s) { s.udp_source = 6001; }));
    t.pass("no_channel/ipv6_other_peer_address", "port 6000 from 2001:db8:9::8", Reason::no_channel,
           changed(from_peer, [](FrameSpec& s) { s.ip_source = v6("2001:db8:9::8"); }));

    // The output's IPv6 packet is 40 + 8 + 4 + data bytes.
    t.encapsulate("encapsulated/ipv6_exactly_mtu", "an output of exactly 1500 bytes of IPv6",
                  peer_frame6(to_peer6, 1500 - 40 - 8 - 4), client6_channel);
    t.pass("too_big/ipv6_one_over_mtu", "an IPv6 output one byte over the 1500-byte MTU", Reason::too_big,
           peer_frame6(to_peer6, 1500 - 40 - 8 - 4 + 1));

    t.encapsulate("encapsulated/ipv6_basic", "20 bytes from the IPv6 peer on channel 0x4000", from_peer,
                  client6_channel);
    t.encapsulate("encapsulated/ipv6_odd_length", "7 bytes: Length 7 and no padding added", peer_frame6(to_peer6, 7),
                  client6_channel);
    t.encapsulate("encapsulated/ipv6_class_flow_hop_kept", "traffic class, flow label and hop limit are copied",
                  changed(from_peer,
                          [](FrameSpec& s) {
                              s.tos = 0x03;
                              s.flow_label = 0xFFFFF;
                              s.ttl = 255;
                          }),
                  client6_channel);
    t.encapsulate("encapsulated/ipv6_udp_checksum_wrong", "a wrong UDP checksum keeps its error",
                  changed(from_peer,
                          [](FrameSpec& s) {
                              s.udp_checksum = {ChecksumMode::offset, 0x00FF};
                          }),
                  client6_channel);
    t.encapsulate("encapsulated/ipv6_ethernet_trailer", "junk after the IPv6 packet is cut",
                  changed(from_peer, [](FrameSpec& s) { s.trailer = std::vector<std::uint8_t>(9, 0xEE); }),
                  client6_channel);
    t.encapsulate("encapsulated/ipv6_mapped_arrival_address", "to ::ffff:0.0.0.1 in an IPv6 header",
                  changed(from_peer, [](FrameSpec& s) { s.ip_destination = Ipv4Address{0x00000001}; }),
                  client6_channel);
    FrameSpec zero_sum = from_peer;
    make_encapsulated_udp_checksum_zero(zero_sum, client6_channel, fixed_case_config());
    t.encapsulate("encapsulated/ipv6_computed_zero_udp_checksum", "a computed UDP checksum of 0 is sent as 0xFFFF",
                  zero_sum, client6_channel);
}

// Rows 34 and 35: the binding's other end is of the other family.
void add_other_family_cases(CaseTable& t) {
    FrameSpec from_v4_client;
    from_v4_client.ip_source = client4.address;
    from_v4_client.udp_source = client4.port;
    from_v4_client.channel = client4_to_v6.channel;
    from_v4_client.application_data = pattern_bytes(20, 5);
    t.pass("other_family/ipv4_client_ipv6_peer", "ChannelData from an IPv4 client bound to an IPv6 peer",
           Reason::other_family, from_v4_client);
    t.pass("other_family/ipv6_client_ipv4_peer", "ChannelData from an IPv6 client bound to an IPv4 peer",
           Reason::other_family, channel_frame6(client6_to_v4.channel));
    t.pass("other_family/ipv6_peer_ipv4_client", "a datagram from an IPv6 peer bound to an IPv4 client",
           Reason::other_family, peer_frame6(to_peer_v6_of_v4));
    t.pass("other_family/ipv4_peer_ipv6_client", "a datagram from an IPv4 peer bound to an IPv6 client",
           Reason::other_family, peer_frame6(to_peer_v4_of_v6));
    // An IPv6 header whose source is an IPv4-mapped address reads as the
    // IPv4 client: its key finds the IPv4 binding, which is then of the
    // other family. It is never relayed as if it were IPv4.
    t.pass("other_family/ipv4_mapped_source", "IPv6 from ::ffff:198.51.100.7, the IPv4 client's key",
           Reason::other_family, changed(channel_frame6(), [](FrameSpec& s) {
               s.ipv6_header = true;
               s.ip_source = client4.address;
               s.udp_source = client4.port;
           }));
}

}  // namespace

// A frame whose checksum update, as the program sums it, carries out of
// its first fold: found by the property run against a mutant that folds
// once, and kept with the configuration and binding it was found under.
void add_fold_carry_case(CaseTable& t) {
    const BindingTarget peer{60310, Endpoint{v6("2001:db8::f23c:27ef:9509:0"), 2453}};
    FrameSpec frame = channel_frame6(client6_channel.channel, 8);
    frame.application_data = {0xAD, 0x4D, 0xF3, 0x0B, 0xAE, 0x77, 0xB1, 0x2C};
    t.with(DatapathConfig{}, BindingTable{{client6_channel, peer}}, [&] {
        t.relay("relayed/ipv6_update_folds_twice", "an update sum that carries out of its first fold", frame, peer);
    });
}

void add_ipv6_cases(CaseTable& t) {
    const FrameSpec base = channel_frame6();
    add_ipv6_header_cases(t, base);
    add_ipv6_client_cases(t, base);
    add_ipv6_peer_cases(t);
    add_other_family_cases(t);
    add_fold_carry_case(t);
}

void add_ipv6_bindings(BindingTable& table) {
    table.emplace(client6_channel, to_peer6);
    table.emplace(BindingKey{Endpoint{v6("2001:db8:c::8"), 50001}, 0x4001}, to_near_miss6);
    table.emplace(BindingKey{client6, 0x4002}, to_hairpin6);
    table.emplace(client6_to_translated, to_translated6());
    table.emplace(client6_to_next_to_mapped, to_next_to_mapped6());
    table.emplace(client4_to_v6, to_peer_v6_of_v4);
    table.emplace(client6_to_v4, to_peer_v4_of_v6);
}

}  // namespace xdpturn
