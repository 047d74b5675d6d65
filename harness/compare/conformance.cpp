#include "harness/compare/conformance.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "harness/compare/comparator.hpp"
#include "harness/frames/layout.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "harness/xdp/prog_test_run.hpp"
#include "relay/model/reference_model.hpp"

namespace xdpturn {

namespace {

constexpr std::array<std::string_view, conformance_count> conformance_names = {"untouched_pass",
                                                                               "not_offloaded",
                                                                               "conformant_forward",
                                                                               "conformant_drop",
                                                                               "not_judged",
                                                                               "forwarded_without_checksum",
                                                                               "passed_modified",
                                                                               "forwarded_wrong_bytes",
                                                                               "forwarded_not_relayed",
                                                                               "forwarded_wrong_way",
                                                                               "dropped_relayable",
                                                                               "dropped_for_user_space",
                                                                               "aborted"};

using layout::ethernet_bytes;
using layout::ipv4_bytes;
using layout::ipv6_bytes;

bool is_ipv4(Bytes frame) {
    return frame.size() >= ethernet_bytes + ipv4_bytes && layout::ethertype_of(frame) == layout::ethertype_ipv4;
}
bool is_ipv6(Bytes frame) {
    return frame.size() >= ethernet_bytes + ipv6_bytes && layout::ethertype_of(frame) == layout::ethertype_ipv6;
}

// Where the IP packet ends: bytes after it (an Ethernet trailer) carry
// nothing, and receivers ignore them.
std::size_t ip_packet_end(Bytes frame) {
    std::size_t end = frame.size();
    // IPv4's total length counts its header; IPv6's payload length does not.
    if (is_ipv4(frame)) end = ethernet_bytes + load_be16(frame, layout::ip_at + 2);
    if (is_ipv6(frame)) end = ethernet_bytes + ipv6_bytes + load_be16(frame, layout::ip_at + 4);
    return std::min(end, frame.size());
}

IpAddress destination_of(Bytes frame) {
    if (is_ipv4(frame)) {
        return Ipv4Address{load_be32(frame, ipv4_layout.addresses_at() + ipv4_layout.address_bytes())};
    }
    const std::size_t destination_at = ipv6_layout.addresses_at() + ipv6_layout.address_bytes();
    Ipv6Bytes bytes{};
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(destination_at), bytes.size(), bytes.begin());
    return IpAddress::from_bytes(bytes);
}

void refresh_ipv4_checksum(std::vector<std::uint8_t>& frame) {
    store_be16(frame, ethernet_bytes + 10, 0);
    store_be16(frame, ethernet_bytes + 10,
               textbook_checksum(std::span<const std::uint8_t>(frame).subspan(ethernet_bytes, ipv4_bytes)));
}

// The UDP checksum computed afresh over the whole datagram; IPv4's "no
// checksum" (0) stays 0.
void refresh_udp_checksum(std::vector<std::uint8_t>& frame) {
    const std::size_t udp = layout_of(frame).udp_at;
    const std::size_t length = load_be16(frame, udp + 4);
    if (is_ipv4(frame) && load_be16(frame, udp + 6) == 0) return;
    store_be16(frame, udp + 6, 0);
    const std::span<const std::uint8_t> bytes(frame);
    const std::uint32_t pseudo =
        is_ipv4(frame) ? textbook_udp_pseudo_header_sum(bytes.subspan(ethernet_bytes, ipv4_bytes), length)
                       : textbook_udp6_pseudo_header_sum(bytes.subspan(ethernet_bytes, ipv6_bytes), length);
    const auto sum = static_cast<std::uint16_t>(textbook_sum(bytes.subspan(udp, length), pseudo));
    const auto checksum = static_cast<std::uint16_t>(~sum);
    store_be16(frame, udp + 6, checksum == 0 ? 0xFFFF : checksum);
}

void decrement_ttl(std::vector<std::uint8_t>& frame) {
    if (is_ipv4(frame)) {
        --frame[ethernet_bytes + 8];
        refresh_ipv4_checksum(frame);
    } else if (is_ipv6(frame)) {
        --frame[ethernet_bytes + 7];
    }
}

// The reference's ChannelData output padded by `count` bytes taken from
// the target's (RFC 8656 Section 12.5: over UDP the message may be padded
// to a multiple of four), lengths and checksums following.
std::vector<std::uint8_t> padded(std::vector<std::uint8_t> expected, Bytes target, std::size_t count) {
    expected.insert(expected.end(), target.end() - static_cast<std::ptrdiff_t>(count), target.end());
    const std::size_t udp = layout_of(expected).udp_at;
    store_be16(expected, udp + 4, static_cast<std::uint16_t>(load_be16(expected, udp + 4) + count));
    if (is_ipv4(expected)) {
        store_be16(expected, ethernet_bytes + 2,
                   static_cast<std::uint16_t>(load_be16(expected, ethernet_bytes + 2) + count));
        refresh_ipv4_checksum(expected);
    } else {
        store_be16(expected, ethernet_bytes + 4,
                   static_cast<std::uint16_t>(load_be16(expected, ethernet_bytes + 4) + count));
    }
    refresh_udp_checksum(expected);
    return expected;
}

// How the description says a relayed frame leaves, and with which MACs.
struct ExpectedWay {
    Verdict verdict = Verdict::tx;
    enum class Link { reference, input, fib } link = Link::reference;
    FibExpectation fib;
    bool discarded = false;  // the route says drop
    std::string why;
};

ExpectedWay expected_way(const ConformanceInput& in) {
    ExpectedWay way;
    switch (in.description.forwarding) {
        case Forwarding::tx: way.why = "the description says XDP_TX"; return way;
        case Forwarding::pass:
            way.verdict = Verdict::pass;
            way.link = ExpectedWay::Link::input;
            way.why = "the description says XDP_PASS of the rewritten frame";
            return way;
        case Forwarding::fib_redirect: break;
    }
    const Bytes output = in.reference.output;
    way.fib = in.environment->expect(destination_of(output), ip_packet_end(output) - ethernet_bytes);
    switch (way.fib.kind) {
        case FibExpectation::Kind::forwarded:
            way.verdict = Verdict::redirect;
            way.link = ExpectedWay::Link::fib;
            way.why = "the FIB lookup succeeds: XDP_REDIRECT with the neighbour's MACs";
            break;
        case FibExpectation::Kind::not_forwarded:
            way.verdict = Verdict::pass;
            way.link = ExpectedWay::Link::input;
            way.why = "the FIB lookup fails (local, no neighbour or MTU): the stack routes it";
            break;
        case FibExpectation::Kind::discarded:
            way.verdict = Verdict::drop;
            way.discarded = true;
            way.why = "the route to " + to_string(destination_of(output)) + " discards";
            break;
    }
    return way;
}

std::vector<std::uint8_t> expected_frame(const ConformanceInput& in, const ExpectedWay& way) {
    std::vector<std::uint8_t> expected = in.reference.output;
    if (way.link == ExpectedWay::Link::input) std::copy(in.input.begin(), in.input.begin() + 12, expected.begin());
    if (way.link == ExpectedWay::Link::fib) {
        std::copy(way.fib.destination.begin(), way.fib.destination.end(), expected.begin());
        std::copy(way.fib.source.begin(), way.fib.source.end(), expected.begin() + 6);
    }
    if (in.description.decrements_ttl) decrement_ttl(expected);
    expected.resize(ip_packet_end(expected));  // as the target's output is cut
    return expected;
}

std::string verdict_text(Verdict verdict) {
    return std::string(name(verdict));
}

// A defect whose bytes differ from `expected`: the field diff, and the
// fields' names.
ConformanceVerdict differing(Conformance conformance, std::string preamble, Bytes expected, Bytes actual,
                             const ConformanceInput& in, const char* expected_label) {
    const FrameDiff diff = compare_frames(expected, actual, DissectOptions{in.config.turn_port});
    ConformanceVerdict verdict{conformance, std::move(preamble) + diff.render(expected_label, "target"), {}};
    for (const FieldDifference& difference : diff.differences) verdict.fields.push_back(difference.field);
    std::sort(verdict.fields.begin(), verdict.fields.end());
    verdict.fields.erase(std::unique(verdict.fields.begin(), verdict.fields.end()), verdict.fields.end());
    return verdict;
}

// The relay's frame but for an IPv4 UDP checksum of 0 where the relay sends
// one: RFC 768 lets a sender leave it out, so it is a policy (a program that
// never sends checksums), not wrong bytes.
std::optional<ConformanceVerdict> without_checksum(const std::vector<std::uint8_t>& expected, Bytes output) {
    if (!is_ipv4(expected) || expected.size() != output.size()) return std::nullopt;
    const std::size_t checksum_at = ipv4_layout.udp_at + 6;
    if (output.size() < checksum_at + 2 || load_be16(output, checksum_at) != 0) return std::nullopt;
    const std::uint16_t sent = load_be16(expected, checksum_at);
    for (std::size_t i = 0; i < output.size(); ++i)
        if (expected[i] != output[i] && i != checksum_at && i != checksum_at + 1) return std::nullopt;
    char relay_sends[8];
    std::snprintf(relay_sends, sizeof(relay_sends), "0x%04x", sent);
    return ConformanceVerdict{Conformance::forwarded_without_checksum,
                              std::string("UDP checksum 0 (none) where the relay sends ") + relay_sends +
                                  ": legal over IPv4 (RFC 768), but the datagram loses its integrity check"};
}

ConformanceVerdict judge_forward(const ConformanceInput& in, Bytes output) {
    const ExpectedWay way = expected_way(in);
    const Verdict verdict = in.target.decision.verdict;
    if (way.verdict != verdict || (verdict == Verdict::pass && !in.description.fib_failure_passes_rewritten &&
                                   in.description.forwarding == Forwarding::fib_redirect))
        return {Conformance::forwarded_wrong_way, verdict_text(verdict) + ", but " + way.why};
    const std::vector<std::uint8_t> expected = expected_frame(in, way);
    if (std::equal(expected.begin(), expected.end(), output.begin(), output.end()))
        return {Conformance::conformant_forward, {}};
    const bool channel_data = in.reference.decision.reason == Reason::encapsulated;
    const std::size_t extra = output.size() > expected.size() ? output.size() - expected.size() : 0;
    if (channel_data && extra >= 1 && extra <= 3) {
        const std::size_t udp = layout_of(expected).udp_at;
        const bool to_four = (load_be16(expected, udp + 4) - 8 + extra) % 4 == 0;
        const std::vector<std::uint8_t> with_padding = padded(expected, output, extra);
        if (to_four && std::equal(with_padding.begin(), with_padding.end(), output.begin(), output.end()))
            return {Conformance::conformant_forward, {}};
        if (auto policy = without_checksum(with_padding, output); to_four && policy) return *policy;
        if (to_four) return differing(Conformance::forwarded_wrong_bytes, "", with_padding, output, in, "relay");
    }
    if (auto policy = without_checksum(expected, output)) return *policy;
    return differing(Conformance::forwarded_wrong_bytes, "", expected, output, in, "relay");
}

// A UDP datagram whose length field is below its header or beyond the IP
// payload: the stack's UDP receive drops it (RFC 768's length).
bool bad_udp_length(Bytes datagram) {
    if (datagram.size() < 8) return true;
    const std::size_t length = load_be16(datagram, 4);
    return length < 8 || length > datagram.size();
}

// A frame the stack itself drops on receipt, so a target may drop it too:
// behind at most two VLAN tags, an IPv4 header cut short, of another
// version, with an IHL below 5, a total length outside the header and the
// frame, or a header checksum that fails (RFC 1122 3.2.1); an IPv6 header
// cut short, of another version, or with a payload beyond the frame; a
// whole UDP datagram whose length is impossible.
bool stack_discards(Bytes frame) {
    std::size_t at = 12;
    for (int tags = 0;
         tags < 2 && frame.size() >= at + 6 && (load_be16(frame, at) == 0x8100 || load_be16(frame, at) == 0x88A8);
         ++tags)
        at += 4;
    if (frame.size() < at + 2) return false;
    const std::uint16_t ether_type = load_be16(frame, at);
    const Bytes ip = frame.subspan(at + 2);
    if (ether_type == layout::ethertype_ipv4) {
        if (ip.size() < ipv4_bytes || (ip[0] >> 4) != 4 || (ip[0] & 0x0F) < 5) return true;
        const std::size_t header = std::size_t{ip[0] & 0x0Fu} * 4;
        const std::size_t total = load_be16(ip, 2);
        if (total < header || total > ip.size() || header > ip.size() || textbook_checksum(ip.first(header)) != 0)
            return true;
        const bool first_fragment = (load_be16(ip, 6) & 0x1FFF) == 0;
        return ip[9] == 17 && first_fragment && (load_be16(ip, 6) & 0x2000) == 0 &&
               bad_udp_length(ip.subspan(header, total - header));
    }
    if (ether_type == layout::ethertype_ipv6) {
        if (ip.size() < ipv6_bytes || (ip[0] >> 4) != 6 || ipv6_bytes + load_be16(ip, 4) > ip.size()) return true;
        return ip[6] == 17 && bad_udp_length(ip.subspan(ipv6_bytes, load_be16(ip, 4)));
    }
    return false;
}

// The relay hands a hairpin (the peer is one of its own allocations) and a
// datagram too big for the link to user space, which sends it through the
// stack: a target that passes the rewritten frame up does the same. The
// relay's rewrite with those two rules lifted is what the stack must get.
std::optional<EngineOutcome> rewrite_for_the_stack(const ConformanceInput& in) {
    const Reason reason = in.reference.decision.reason;
    if (in.table == nullptr || (reason != Reason::hairpin && reason != Reason::too_big)) return std::nullopt;
    DatapathConfig lifted = in.config;
    if (reason == Reason::too_big) lifted.mtu = 0xFFFF;
    if (reason == Reason::hairpin) lifted.relay_ports = PortRange{in.config.turn_port, in.config.turn_port};
    EngineOutcome rewrite;
    rewrite.decision = ReferenceModel(lifted, *in.table).decide(in.input, rewrite.output);
    if (rewrite.decision.verdict != Verdict::tx) return std::nullopt;
    return rewrite;
}

// A frame that needed to grow but had no tailroom under the test run.
bool no_room_to_grow(Bytes input) {
    return input.size() + 8 > test_run_max_frame;
}

}  // namespace

std::string_view name(Conformance conformance) {
    return conformance_names[static_cast<std::size_t>(conformance)];
}

bool relay_discards(Reason reason) {
    switch (reason) {
        case Reason::short_ipv4:
        case Reason::ipv4_version:
        case Reason::ipv4_length:
        case Reason::ipv4_checksum:
        case Reason::short_udp:
        case Reason::udp_length:
        case Reason::short_ipv6:
        case Reason::ipv6_version:
        case Reason::ipv6_length:
        case Reason::ipv6_zero_checksum:
        case Reason::short_channel:
        case Reason::channel_length: return true;
        default: return false;
    }
}

namespace {

ConformanceVerdict judge_frame(const ConformanceInput& in) {
    const bool relays = in.reference.decision.verdict == Verdict::tx;
    const Verdict verdict = in.target.decision.verdict;
    const std::string relay_says = "the relay: " + to_string(in.reference.decision);
    if (verdict != Verdict::pass && verdict != Verdict::drop && verdict != Verdict::tx && verdict != Verdict::redirect)
        return {Conformance::aborted,
                "the program returned " + std::to_string(static_cast<std::uint32_t>(verdict)) + "; " + relay_says};
    const Bytes output = in.target.output;
    if (verdict == Verdict::pass && std::equal(output.begin(), output.end(), in.input.begin(), in.input.end()))
        return {relays ? Conformance::not_offloaded : Conformance::untouched_pass, {}};
    if (verdict == Verdict::drop) {
        if (relays) {
            if (in.description.forwarding == Forwarding::fib_redirect && expected_way(in).discarded)
                return {Conformance::conformant_drop, {}};
            return {Conformance::dropped_relayable, "XDP_DROP; " + relay_says};
        }
        if (in.reference.decision.verdict == Verdict::drop || relay_discards(in.reference.decision.reason) ||
            stack_discards(in.input))
            return {Conformance::conformant_drop, {}};
        // Handed to user space, whose datagram the route would discard.
        if (auto rewrite = rewrite_for_the_stack(in);
            rewrite && in.description.forwarding == Forwarding::fib_redirect) {
            const ConformanceInput lifted{in.config,      in.input,       *rewrite, in.target,
                                          in.description, in.environment, in.table};
            if (expected_way(lifted).discarded) return {Conformance::conformant_drop, {}};
        }
        return {Conformance::dropped_for_user_space, "XDP_DROP; " + relay_says + " (user space must see it)"};
    }
    if (!relays && verdict == Verdict::pass)
        if (auto rewrite = rewrite_for_the_stack(in)) {
            const ConformanceInput lifted{in.config,      in.input,       *rewrite, in.target,
                                          in.description, in.environment, in.table};
            if (expected_way(lifted).verdict == Verdict::pass)
                return judge_forward(lifted, output.first(ip_packet_end(output)));
        }
    if (!relays) {
        if (verdict == Verdict::pass)
            return differing(Conformance::passed_modified, "XDP_PASS of a changed frame; " + relay_says + "\n",
                             in.input, output, in, "input");
        return differing(Conformance::forwarded_not_relayed, verdict_text(verdict) + "; " + relay_says + "\n", in.input,
                         output, in, "input");
    }
    return judge_forward(in, output.first(ip_packet_end(output)));
}

}  // namespace

ConformanceVerdict judge_conformance(const ConformanceInput& in) {
    ConformanceVerdict verdict = judge_frame(in);
    if (is_defect(verdict.conformance) && in.target.decision.verdict != Verdict::drop && no_room_to_grow(in.input))
        return {Conformance::not_judged, "a frame of " + std::to_string(in.input.size()) +
                                             " bytes has no tailroom under BPF_PROG_TEST_RUN; it would be " +
                                             std::string(name(verdict.conformance))};
    return verdict;
}

}  // namespace xdpturn
