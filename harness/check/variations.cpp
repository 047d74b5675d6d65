#include "harness/check/variations.hpp"

#include <algorithm>
#include <array>
#include <concepts>

#include "harness/cases/expected_output.hpp"
#include "harness/check/boundaries.hpp"
#include "harness/check/generator_parts.hpp"
#include "harness/check/generators.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

bool is_from_peer(const FrameSpec& s, const DatapathConfig& config) {
    return s.udp_destination != config.turn_port && !s.channel_data;
}

// The binding the frame was made for: the client's key for ChannelData, the
// reverse lookup for a peer's datagram.
const std::pair<const BindingKey, BindingTarget>* own_binding(const GeneratedCase& c) {
    const FrameSpec& s = c.spec;
    if (!is_from_peer(s, c.config)) {
        const auto found = c.bindings.find(BindingKey{Endpoint{s.ip_source, s.udp_source}, s.channel});
        return found == c.bindings.end() ? nullptr : &*found;
    }
    for (const auto& entry : c.bindings)
        if (entry.second.peer == Endpoint{s.ip_source, s.udp_source} &&
            entry.second.allocation_port == s.udp_destination)
            return &entry;
    return nullptr;
}

// The real IPv4 options a sender may put in: NOPs, record route, timestamp,
// sometimes ending with end-of-options.
std::vector<std::uint8_t> pick_options(Chooser& choose, std::size_t words) {
    std::vector<std::uint8_t> options;
    const std::size_t bytes = words * 4;
    while (options.size() < bytes) {
        const std::size_t room = bytes - options.size();
        const std::uint32_t kind = choose.below(3);
        if (kind == 1 && room >= 7) {  // record route with room for 1..9 addresses
            const std::size_t addresses = std::min<std::size_t>((room - 3) / 4, choose.range<std::size_t>(1, 9));
            options.push_back(7);
            options.push_back(static_cast<std::uint8_t>(3 + 4 * addresses));
            options.push_back(4);
            options.resize(options.size() + 4 * addresses, 0);
        } else if (kind == 2 && room >= 8) {  // timestamp, one slot
            options.insert(options.end(), {68, 8, 5, 0, 0, 0, 0, 0});
        } else {
            options.push_back(1);  // NOP
        }
    }
    if (choose.coin()) options.back() = 0;  // end of options list
    return options;
}

// One or two real IPv6 extension headers before UDP (RFC 8200 Section 4):
// hop-by-hop or destination options padded with PadN, or a routing header
// with no segments left. Each is 8 bytes.
void add_extension_headers(FrameSpec& s, Chooser& choose) {
    const std::size_t count = choose.range<std::size_t>(1, 2);
    std::vector<std::uint8_t> types;
    for (std::size_t i = 0; i < count; ++i) types.push_back(choose.one_of<std::uint8_t>({0, 60, 43}));
    s.protocol = types.front();
    s.extension_headers.clear();
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t next = i + 1 < count ? types[i + 1] : 17;
        if (types[i] == 43)
            s.extension_headers.insert(s.extension_headers.end(), {next, 0, 0, 0, 0, 0, 0, 0});
        else
            s.extension_headers.insert(s.extension_headers.end(), {next, 0, 1, 4, 0, 0, 0, 0});
    }
}

// The bytes the frame carries across: a client's application data, or a
// peer's whole UDP payload.
std::vector<std::uint8_t>& carried(FrameSpec& s);

std::vector<std::uint8_t>& carried(FrameSpec& s) {
    return s.channel_data ? s.application_data : s.raw_udp_payload;
}

// The frame's binding gets a far end of the other family: the peer of a
// client's channel, or the client of a peer's. The new end is a function of
// the old key, so that two cases of a shared block that move the same
// binding move it alike (one peer on one allocation has one channel).
void move_far_end_across(GeneratedCase& c) {
    FrameSpec& s = c.spec;
    const auto* own = own_binding(c);
    if (own == nullptr) return;
    const BindingKey key = own->first;
    BindingTarget target = own->second;
    const std::uint64_t bits = hash_value(key.client.address) ^ (std::uint64_t{key.client.port} << 16) ^ key.channel;
    c.bindings.erase(key);
    if (!is_from_peer(s, c.config)) {
        target.peer.address = address_like(other_family_address(target.peer.address), bits);
        c.bindings.emplace(key, target);
        return;
    }
    BindingKey moved = key;
    moved.client.address = address_like(other_family_address(key.client.address), bits);
    // On a neighbouring allocation port: other cases of the block may bind
    // this peer on the old one to the old client.
    const auto& ports = c.config.relay_ports;
    const int step = target.allocation_port < ports.max ? 1 : -1;
    target.allocation_port = static_cast<std::uint16_t>(target.allocation_port + step);
    s.udp_destination = target.allocation_port;
    c.bindings.emplace(moved, target);
}

// One function per variation, in the table's order. Each reads its
// parameters from its own stream of choices and changes the case in place;
// one that finds nothing to aim at (no binding, the wrong family) leaves
// the case as it is.

void vary_ether_type(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    // Another protocol, or the other IP version's EtherType over
    // this version's header.
    const std::uint16_t own = ipv6 ? layout::ethertype_ipv6 : layout::ethertype_ipv4;
    const std::uint16_t other = ipv6 ? layout::ethertype_ipv4 : layout::ethertype_ipv6;
    // The program compares the EtherType as its register holds it: the
    // values one off there are about 256 off here.
    const std::uint16_t compared =
        choose.one_of<std::uint16_t>({layout::ethertype_ipv4, layout::ethertype_ipv6, 0x8100, 0x88A8});
    s.ether_type = choose.one_of<std::uint16_t>({0x0806, other, 0x88A8, 0x88CC, 0x8100, 0x86DE,
                                                 choose.range<std::uint16_t>(0, 0xFFFF),
                                                 wire_neighbour(compared, choose.one_of({-1, 1}))});
    if (s.ether_type == own) s.ether_type = 0x0801;
}

void vary_vlan_tag(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    s.vlan_tags.resize(choose.range<std::size_t>(1, 3));
    for (auto& tag : s.vlan_tags) tag = choose.range<std::uint16_t>(0, 0xFFFF);
}

void vary_ethernet_trailer(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const std::size_t wanted =
        choose.one_of<std::size_t>({0, choose.range<std::size_t>(1, 4), choose.range<std::size_t>(5, 30)});
    const std::uint8_t fill = choose.one_of<std::uint8_t>({0x00, 0xFF, 0x5A});
    s.trailer.clear();
    const std::size_t unpadded = build_frame(s).size();
    // No further than BPF_PROG_TEST_RUN takes linear: a variation before
    // this one (mtu_boundary) may have filled the frame to it.
    const std::size_t bytes = std::min(wanted, test_run_max_frame - std::min(test_run_max_frame, unpadded));
    s.trailer.assign(bytes, fill);
    // The minimum Ethernet frame: senders pad short frames to 60 bytes.
    if (bytes == 0 && unpadded < 60) s.trailer.assign(60 - unpadded, 0);
}

void vary_truncated(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Anywhere inside the headers, up to the channel header.
    s.truncate_to =
        choose.range<std::size_t>(test_run_min_frame, layout::ethernet_bytes + ip_header_bytes(s) + udp_channel_bytes);
}

void vary_ip_version(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    s.ip_version = ipv6 ? choose.one_of<std::uint8_t>({4, 0, 15, choose.range<std::uint8_t>(0, 15)})
                        : choose.one_of<std::uint8_t>({6, 0, 15, choose.range<std::uint8_t>(0, 15)});
}

void vary_ip_options(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    if (ipv6)
        add_extension_headers(s, choose);
    else
        s.ip_options = pick_options(choose, choose.range<std::size_t>(1, 10));
}

void vary_ip_ihl_below_5(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    // IPv6 has no IHL; its counterpart is a Next Header that names
    // an extension header (with no such header behind it).
    if (ipv6)
        s.protocol = choose.one_of<std::uint8_t>({0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254});
    else
        s.ihl = choose.range<std::uint8_t>(0, 4);
}

void vary_fragment(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    const bool more = choose.coin();
    // 256 alone: the flags-and-offset field then reads 1 in a register
    // that holds it as it sits in memory.
    auto offset = more ? choose.one_of<std::uint16_t>({0, 1, 185})
                       : choose.one_of<std::uint16_t>(
                             {256, choose.range<std::uint16_t>(1, 0x1FFF), choose.range<std::uint16_t>(1, 0x1FFF)});
    if (!more && offset == 0) offset = 1;
    if (ipv6) {
        // A fragment header (RFC 8200 Section 4.5) before UDP.
        s.protocol = 44;
        s.extension_headers = {17,
                               0,
                               static_cast<std::uint8_t>(offset >> 5),
                               static_cast<std::uint8_t>(((offset & 0x1F) << 3) | (more ? 1 : 0)),
                               0,
                               0,
                               0,
                               1};
    } else {
        s.more_fragments = more;
        s.fragment_offset = offset;
    }
}

void vary_protocol(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Next to UDP (17) as well: a test of the protocol off by one meets them.
    s.protocol = choose.one_of<std::uint8_t>({6, 1, 47, 136, 58, 59, 16, 18, 255, choose.range<std::uint8_t>(0, 255)});
    if (s.protocol == 17) s.protocol = 16;
}

void vary_wrong_port(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Anywhere, or just outside the relay ports.
    const auto& relay = c.config.relay_ports;
    const auto port = choose.one_of<std::uint16_t>(
        {choose.range<std::uint16_t>(0, 0xFFFF), static_cast<std::uint16_t>(relay.min - 1),
         static_cast<std::uint16_t>(relay.max + 1), static_cast<std::uint16_t>(c.config.turn_port - 1),
         static_cast<std::uint16_t>(c.config.turn_port + 1), wire_neighbour(c.config.turn_port, -1),
         wire_neighbour(c.config.turn_port, 1)});
    s.udp_destination = port == c.config.turn_port ? static_cast<std::uint16_t>(port + 1) : port;
}

void vary_total_length(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    // IPv4's total length counts its header, IPv6's payload length
    // does not: `header` is what the field counts besides UDP.
    const int header = ipv6 ? 0 : static_cast<int>(layout::ipv4_bytes);
    const auto real = static_cast<int>(build_frame(s).size() - layout::ethernet_bytes - s.trailer.size() -
                                       4 * s.vlan_tags.size() - (ipv6 ? layout::ipv6_bytes : 0));
    const int delta = choose.range(-40, 40);
    // Mostly near the real length; on purpose the largest value, the
    // smallest valid one (a bare UDP header), one past the frame's
    // end, and too small for a UDP header.
    switch (choose.weighted({8, 1, 1, 1, 1})) {
        case 1: s.total_length = 0xFFFF; break;
        case 4: s.total_length = static_cast<std::uint16_t>(header + choose.range(0, 7)); break;
        case 2: s.total_length = static_cast<std::uint16_t>(header + 8); break;
        case 3: s.total_length = static_cast<std::uint16_t>(real + static_cast<int>(s.trailer.size()) + 1); break;
        default: s.total_length = static_cast<std::uint16_t>(std::clamp(real + delta, 0, 0xFFFF));
    }
    // Sometimes keep UDP consistent with the new length, so the IP
    // length rule alone decides.
    if (choose.coin()) s.udp_length = static_cast<std::uint16_t>(std::max(0, real + delta - header));
}

void vary_udp_length(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Anywhere small, 0xFFFF, or one off the datagram's true length.
    switch (choose.weighted({6, 1, 2})) {
        case 0: s.udp_length = choose.range<std::uint16_t>(0, 80); return;
        case 1: s.udp_length = std::uint16_t{0xFFFF}; return;
        default: break;
    }
    s.udp_length.reset();
    const std::vector<std::uint8_t> frame = build_frame(s);
    const std::size_t length_at = udp_header_at(s) + 4;
    if (frame.size() < length_at + 2) return;
    const auto length = static_cast<std::uint16_t>(frame[length_at] << 8 | frame[length_at + 1]);
    // One off as a number, or as a register holding the field as it sits
    // in memory (a program may compare it unswapped with the swapped
    // payload length).
    const int delta = choose.one_of({-1, 1});
    s.udp_length = choose.coin() ? static_cast<std::uint16_t>(length + delta) : wire_neighbour(length, delta);
}
void vary_ip_checksum(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Off by one either way now and then: the header's sum lands next to
    // 0xFFFF.
    s.ip_checksum = {ChecksumMode::offset,
                     choose.one_of<std::uint16_t>({1, 0xFFFE, choose.range<std::uint16_t>(1, 0xFFFE)})};
}

void vary_udp_checksum_zero(GeneratedCase& c, Chooser&) {
    FrameSpec& s = c.spec;
    s.udp_checksum = {ChecksumMode::zero, 0};
}

void vary_udp_checksum_wrong(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Now and then 0x0100: one more than "no checksum" in a register that
    // holds the field as it sits in memory.
    s.udp_checksum = choose.weighted({3, 1}) == 0
                         ? ChecksumSpec{ChecksumMode::offset, choose.range<std::uint16_t>(1, 0xFFFE)}
                         : ChecksumSpec{ChecksumMode::fixed, 0x0100};
}

void vary_short_channel(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    s.channel_data = false;
    s.raw_udp_payload.assign(choose.range<std::size_t>(0, 3), 0x40);
}

void vary_stun_message(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // A STUN header: message type with the first two bits 00, length,
    // magic cookie, transaction ID.
    s.channel_data = false;
    s.raw_udp_payload = {static_cast<std::uint8_t>(choose.range(0, 0x3F)),
                         static_cast<std::uint8_t>(choose.range(0, 255)),
                         0x00,
                         0x00,
                         0x21,
                         0x12,
                         0xA4,
                         0x42};
    const auto transaction = pattern_bytes(12, static_cast<std::uint8_t>(choose.range(0, 255)));
    s.raw_udp_payload.insert(s.raw_udp_payload.end(), transaction.begin(), transaction.end());
}

void vary_channel_length(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Measured on the finished data: near it, far from it, one byte
    // more than the datagram holds, or the largest value.
    const int real = static_cast<int>(s.application_data.size());
    const int delta = choose.coin() ? choose.range(-4, 4) : choose.range(-200, 200);
    switch (choose.weighted({6, 1, 1})) {
        case 1: s.channel_length = 0xFFFF; break;
        case 2: s.channel_length = static_cast<std::uint16_t>(real + s.padding.size() + 1); break;
        default: s.channel_length = static_cast<std::uint16_t>(std::clamp(real + delta, 0, 0xFFFF));
    }
}

void vary_excess_padding(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    s.padding.assign(choose.one_of<std::size_t>({4, choose.range<std::size_t>(4, 12)}),
                     choose.one_of<std::uint8_t>({0x00, 0xA5}));
}

// Aimed at the frame's own binding, if it has one: the output's UDP
// checksum (or IPv4 header checksum, `ip`) computes to zero.
void make_output_checksum_zero(GeneratedCase& c, bool ip) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    const auto* own = own_binding(c);
    if (own == nullptr) return;
    if (ip && ipv6) return;  // no header checksum
    if (!ip && s.udp_checksum.mode != ChecksumMode::valid) return;
    if (!is_from_peer(s, c.config)) {
        if (ip)
            make_relayed_ip_checksum_zero(s, own->second, c.config);
        else
            make_relayed_udp_checksum_zero(s, own->second, c.config);
    } else {
        if (ip)
            make_encapsulated_ip_checksum_zero(s, own->first, c.config);
        else
            make_encapsulated_udp_checksum_zero(s, own->first, c.config);
    }
}
void vary_relayed_udp_checksum_zero(GeneratedCase& c, Chooser& choose) {
    make_output_checksum_zero(c, false);
    // Or one next to it: the sum then folds to 0xFFFE, and the output's
    // checksum is 0x0001 (the test for "computed 0" met one below).
    std::vector<std::uint8_t>& data = carried(c.spec);
    if (data.size() < 2 || !choose.coin()) return;
    const std::size_t at = (data.size() - 2) & ~std::size_t{1};
    std::uint32_t word = (std::uint32_t{data[at]} << 8 | data[at + 1]) + 0xFFFE;  // minus one, one's complement
    word = (word & 0xFFFF) + (word >> 16);
    data[at] = static_cast<std::uint8_t>(word >> 8);
    data[at + 1] = static_cast<std::uint8_t>(word);
}
void vary_relayed_ip_checksum_zero(GeneratedCase& c, Chooser&) {
    make_output_checksum_zero(c, true);
}

void vary_hairpin(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // The frame's binding leads back to the address the output
    // would be sent from: the one it arrived on, or across families
    // the relay's address of the peer's family.
    const auto* own = own_binding(c);
    if (own == nullptr) return;
    const bool from_peer = is_from_peer(s, c.config);
    auto& target = c.bindings.at(own->first);
    const bool peer_ipv6 = !target.peer.address.is_v4();
    target.peer.address = peer_ipv6 == !s.ip_destination.is_v4()
                              ? s.ip_destination
                              : c.config.relay_address(peer_ipv6).value_or(s.ip_destination);
    // Mostly another allocation's port; sometimes a port outside the
    // relay ports (a server on the relay's host, not a hairpin):
    // next to them, or anywhere below.
    const auto& ports = c.config.relay_ports;
    switch (choose.weighted({3, 1, 5, 1, 2})) {
        case 0:
            if (!ports.contains(target.peer.port))
                target.peer.port =
                    static_cast<std::uint16_t>(ports.min + target.peer.port % (ports.max - ports.min + 1u));
            break;
        case 4:  // at either end of the relay ports, or one inside
            target.peer.port =
                choose.one_of<std::uint16_t>({ports.min, ports.max, static_cast<std::uint16_t>(ports.min + 1),
                                              static_cast<std::uint16_t>(ports.max - 1)});
            if (!ports.contains(target.peer.port)) target.peer.port = ports.min;
            break;
        case 1: target.peer.port = static_cast<std::uint16_t>(ports.min - 1); break;
        case 2:
            if (ports.max < 0xFFFF) target.peer.port = static_cast<std::uint16_t>(ports.max + 1);
            break;
        default:
            if (ports.contains(target.peer.port))
                target.peer.port = static_cast<std::uint16_t>(ports.min - 1 - target.peer.port % ports.min);
    }
    // Now and then not quite the relay's address: one off in either 64-bit
    // word as a register holds it (same_address compares the words). Only
    // an IPv6 address has such neighbours of its own family.
    if (peer_ipv6 && choose.coin()) {
        target.peer.address = word_neighbour(target.peer.address, choose.below(2), choose.one_of({-1, 1}));
        if (!ports.contains(target.peer.port)) target.peer.port = ports.min;
    }
    if (from_peer) s.ip_source = target.peer.address;
}

void vary_udp_checksum_ffff(GeneratedCase& c, Chooser&) {
    FrameSpec& s = c.spec;
    // One even-aligned word of the data chosen so that the input's
    // checksum computes to 0, which the sender writes as 0xFFFF.
    std::vector<std::uint8_t>& data = carried(s);
    if (data.size() < 2 || s.udp_checksum.mode != ChecksumMode::valid) return;
    const std::size_t at = (data.size() - 2) & ~std::size_t{1};
    data[at] = data[at + 1] = 0;
    const std::vector<std::uint8_t> built = build_frame(s);
    // The checksum field, counted from the start: the frame may be
    // cut short or carry a trailer.
    const std::size_t checksum_at = udp_header_at(s) + 6;
    if (built.size() < checksum_at + 2) return;
    data[at] = built[checksum_at];
    data[at + 1] = built[checksum_at + 1];
}

// One of the sums the relay folds (folded_sums.hpp) made to carry out of
// its first fold, for the case's own binding.
void aim_fold_carry(GeneratedCase& c, FoldedSum sum) {
    const auto* own = own_binding(c);
    if (own == nullptr) return;
    if (is_from_peer(c.spec, c.config))
        make_encapsulated_fold_carry(c.spec, sum, own->first, c.config);
    else
        make_relayed_fold_carry(c.spec, sum, own->second, c.config);
}

// One sum's first fold made to carry: the output's UDP sum taken in full
// (the textbook's), or one the relay folds: the UDP checksum's, updated or
// made in full, or the IPv4 header's.
void vary_sum_folds_twice(GeneratedCase& c, Chooser& choose) {
    const std::size_t aim = choose.below(3);
    if (aim != 0) return aim_fold_carry(c, aim == 1 ? FoldedSum::udp : FoldedSum::ipv4_header);
    FrameSpec& s = c.spec;
    const auto* own = own_binding(c);
    if (own == nullptr) return;
    if (is_from_peer(s, c.config))
        make_encapsulated_sum_fold_twice(s, own->first, c.config);
    else
        make_relayed_sum_fold_twice(s, own->second, c.config);
}

void vary_peer_near_miss(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    switch (choose.below(3)) {
        case 0: s.udp_source = static_cast<std::uint16_t>(s.udp_source + choose.one_of({1, -1})); break;
        case 1: s.ip_source = next_to(s.ip_source, choose.one_of<std::uint32_t>({1, 0xFFFFFFFF})); break;
        default: s.udp_destination = static_cast<std::uint16_t>(s.udp_destination + choose.one_of({1, -1}));
    }
}

void vary_mtu_boundary(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // Land the output's IP packet on the MTU, one below or one or
    // two above: for a peer's datagram it is IP + 8 + 4 + data, for
    // ChannelData relayed across families IP + 8 + data (4 -> 6
    // grows; 6 -> 4 from a frame over the MTU). The output's IP
    // header is of the far end's family. ChannelData relayed within
    // its family only shrinks: there the input lands on the MTU.
    const bool to_peer = !is_from_peer(s, c.config);
    // Half the time a peer of the input's family is moved to the
    // other: the outputs across families have their own MTU test
    // (row 36).
    if (const auto* bound = own_binding(c);
        to_peer && bound != nullptr && bound->second.peer.address.is_v4() == s.ip_source.is_v4() && choose.coin())
        move_far_end_across(c);
    const auto* own = own_binding(c);
    const IpAddress far = own == nullptr ? s.ip_source : to_peer ? own->second.peer.address : own->first.client.address;
    const std::size_t out_ip = layout_of_family(!far.is_v4()).ip_header_bytes();
    const bool across = to_peer && out_ip != ip_header_bytes(s);
    const std::size_t headers = to_peer && !across ? ip_header_bytes(s) + udp_channel_bytes
                                : across           ? out_ip + layout::udp_bytes
                                                   : out_ip + udp_channel_bytes;
    const std::size_t data = c.config.mtu - headers + choose.range<std::size_t>(0, 3) - 1;
    const std::size_t frame_without_data = build_frame(s).size() - carried(s).size();
    if (frame_without_data + data > test_run_max_frame) return;
    carried(s) = pattern_bytes(data, static_cast<std::uint8_t>(choose.range(0, 255)));
}

void vary_ip_checksum_ffff(GeneratedCase& c, Chooser&) {
    c.spec = ipv4_header_checksum_ffff(c.spec);
}

void vary_other_family(GeneratedCase& c, Chooser& choose) {
    move_far_end_across(c);
    // Now and then the IPv4 header made from an IPv6 one sums to a carry
    // out of its first fold: only across families is a header made.
    if (choose.below(3) == 0) aim_fold_carry(c, FoldedSum::ipv4_header);
}

void vary_no_checksum_across(GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    // An IPv4 frame without a checksum whose far end is (made) IPv6.
    const auto* own = own_binding(c);
    if (own == nullptr || !s.ip_source.is_v4()) return;
    const IpAddress& far = is_from_peer(s, c.config) ? own->first.client.address : own->second.peer.address;
    if (far.is_v4()) move_far_end_across(c);
    s.udp_checksum = {ChecksumMode::zero, 0};
    // Now and then the checksum the relay computes in full is 0, or its
    // sum carries out of its first fold.
    const auto* moved = own_binding(c);
    const std::size_t aim = choose.weighted({6, 2, 1});
    if (moved == nullptr || aim == 0) return;
    if (aim == 2) return aim_fold_carry(c, FoldedSum::udp);
    if (is_from_peer(s, c.config))
        make_encapsulated_udp_checksum_zero(s, moved->first, c.config);
    else
        make_relayed_udp_checksum_zero(s, moved->second, c.config);
}

constexpr std::uint64_t aims(std::same_as<Reason> auto... reasons) {
    return ((std::uint64_t{1} << static_cast<unsigned>(reasons)) | ...);
}

// How often each variation is drawn: the paths that need several things at
// once (a hairpin's port at either end of the relay ports, a checksum
// computed in full into IPv6, a cross-family output at the MTU, a port next
// to the relay ports) get more, so that every branch of the program runs
// at least 100 times in the default property run (docs/coverage.md: rarely
// reached branches). Variations that measure the finished frame or its
// binding run after the data and the table are in place.
constexpr std::array<VariationRow, variation_count> rows = {{
    {Variation::ether_type, "ether_type", 2, VariationStage::before_data, vary_ether_type,
     aims(Reason::not_ip, Reason::ipv4_version, Reason::ipv6_version)},
    {Variation::vlan_tag, "vlan_tag", 2, VariationStage::before_data, vary_vlan_tag, aims(Reason::vlan_tagged)},
    {Variation::ethernet_trailer, "ethernet_trailer", 2, VariationStage::finished_frame, vary_ethernet_trailer,
     aims(Reason::relayed, Reason::encapsulated)},
    {Variation::truncated, "truncated", 2, VariationStage::before_data, vary_truncated,
     aims(Reason::short_ipv4, Reason::short_ipv6, Reason::short_udp)},
    {Variation::ip_version, "ip_version", 2, VariationStage::before_data, vary_ip_version,
     aims(Reason::ipv4_version, Reason::ipv6_version)},
    {Variation::ip_options, "ip_options", 2, VariationStage::before_data, vary_ip_options,
     aims(Reason::ipv4_options, Reason::ipv6_extension)},
    {Variation::ip_ihl_below_5, "ip_ihl_below_5", 2, VariationStage::before_data, vary_ip_ihl_below_5,
     aims(Reason::ipv4_options, Reason::ipv6_extension)},
    {Variation::fragment, "fragment", 2, VariationStage::before_data, vary_fragment,
     aims(Reason::ipv4_fragment, Reason::ipv6_extension)},
    {Variation::protocol, "protocol", 2, VariationStage::before_data, vary_protocol, aims(Reason::not_udp)},
    {Variation::wrong_port, "wrong_port", 4, VariationStage::before_data, vary_wrong_port, aims(Reason::wrong_port)},
    {Variation::total_length, "total_length", 3, VariationStage::finished_frame, vary_total_length,
     aims(Reason::ipv4_length, Reason::ipv6_length, Reason::udp_length)},
    {Variation::udp_length, "udp_length", 2, VariationStage::finished_frame, vary_udp_length, aims(Reason::udp_length)},
    {Variation::ip_checksum, "ip_checksum", 2, VariationStage::before_data, vary_ip_checksum,
     aims(Reason::ipv4_checksum)},
    {Variation::udp_checksum_zero, "udp_checksum_zero", 2, VariationStage::before_data, vary_udp_checksum_zero,
     aims(Reason::relayed, Reason::ipv6_zero_checksum)},
    {Variation::udp_checksum_wrong, "udp_checksum_wrong", 2, VariationStage::before_data, vary_udp_checksum_wrong,
     aims(Reason::relayed, Reason::encapsulated)},
    {Variation::short_channel, "short_channel", 2, VariationStage::before_data, vary_short_channel,
     aims(Reason::short_channel)},
    {Variation::stun_message, "stun_message", 2, VariationStage::before_data, vary_stun_message,
     aims(Reason::channel_range)},
    {Variation::channel_length, "channel_length", 2, VariationStage::finished_frame, vary_channel_length,
     aims(Reason::channel_length, Reason::channel_padding)},
    {Variation::excess_padding, "excess_padding", 2, VariationStage::before_data, vary_excess_padding,
     aims(Reason::channel_padding)},
    {Variation::relayed_udp_checksum_zero, "relayed_udp_checksum_zero", 2, VariationStage::finished_frame,
     vary_relayed_udp_checksum_zero, aims(Reason::relayed, Reason::encapsulated)},
    {Variation::relayed_ip_checksum_zero, "relayed_ip_checksum_zero", 2, VariationStage::finished_frame,
     vary_relayed_ip_checksum_zero, aims(Reason::relayed, Reason::encapsulated)},
    {Variation::hairpin, "hairpin", 10, VariationStage::finished_frame, vary_hairpin, aims(Reason::hairpin)},
    {Variation::peer_near_miss, "peer_near_miss", 2, VariationStage::before_data, vary_peer_near_miss,
     aims(Reason::no_channel, Reason::no_binding)},
    {Variation::mtu_boundary, "mtu_boundary", 4, VariationStage::finished_frame, vary_mtu_boundary,
     aims(Reason::too_big, Reason::relayed, Reason::encapsulated)},
    {Variation::udp_checksum_ffff, "udp_checksum_ffff", 2, VariationStage::finished_frame, vary_udp_checksum_ffff,
     aims(Reason::relayed, Reason::encapsulated)},
    {Variation::sum_folds_twice, "sum_folds_twice", 2, VariationStage::finished_frame, vary_sum_folds_twice,
     aims(Reason::relayed, Reason::encapsulated)},
    {Variation::other_family, "other_family", 2, VariationStage::finished_frame, vary_other_family,
     aims(Reason::other_family, Reason::relayed, Reason::encapsulated)},
    {Variation::no_checksum_across, "no_checksum_across", 12, VariationStage::finished_frame, vary_no_checksum_across,
     aims(Reason::relayed, Reason::encapsulated)},
    {Variation::ip_checksum_ffff, "ip_checksum_ffff", 2, VariationStage::finished_frame, vary_ip_checksum_ffff,
     aims(Reason::relayed, Reason::encapsulated)},
}};

constexpr bool rows_in_enum_order() {
    for (std::size_t i = 0; i < rows.size(); ++i)
        if (static_cast<std::size_t>(rows[i].variation) != i || rows[i].weight == 0) return false;
    return true;
}
static_assert(rows_in_enum_order(), "one row per Variation, in the enum's order, each with a weight");

constexpr std::array<std::uint32_t, variation_count> weights = [] {
    std::array<std::uint32_t, variation_count> out{};
    for (std::size_t i = 0; i < rows.size(); ++i) out[i] = rows[i].weight;
    return out;
}();

}  // namespace

std::span<const VariationRow> variation_rows() {
    return rows;
}

const VariationRow& row_of(Variation variation) {
    return rows[static_cast<std::size_t>(variation)];
}

std::span<const std::uint32_t> variation_weights() {
    return weights;
}

std::string_view name(Variation variation) {
    return row_of(variation).name;
}

bool aims_at(const VariationRow& row, Reason reason) {
    return (row.aims >> static_cast<unsigned>(reason)) & 1u;
}

}  // namespace xdpturn
