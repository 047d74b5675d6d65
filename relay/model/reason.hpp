// Verdicts and reason codes: the values come from the shared ABI header, the
// names are the ones docs/datapath.md and the reports use.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

extern "C" {
#include "bpf/xdpturn_abi.h"
}

namespace xdpturn {

// The XDP actions a frame can end with (values of enum xdp_action).
enum class Verdict : std::uint32_t { aborted = 0, drop = 1, pass = 2, tx = 3, redirect = 4 };

enum class Reason : std::uint32_t {
    short_ethernet = XDPTURN_REASON_SHORT_ETHERNET,
    vlan_tagged = XDPTURN_REASON_VLAN_TAGGED,
    not_ip = XDPTURN_REASON_NOT_IP,
    short_ipv4 = XDPTURN_REASON_SHORT_IPV4,
    ipv4_version = XDPTURN_REASON_IPV4_VERSION,
    ipv4_options = XDPTURN_REASON_IPV4_OPTIONS,
    ipv4_fragment = XDPTURN_REASON_IPV4_FRAGMENT,
    not_udp = XDPTURN_REASON_NOT_UDP,
    short_udp = XDPTURN_REASON_SHORT_UDP,
    wrong_port = XDPTURN_REASON_WRONG_PORT,
    ipv4_length = XDPTURN_REASON_IPV4_LENGTH,
    udp_length = XDPTURN_REASON_UDP_LENGTH,
    ipv4_checksum = XDPTURN_REASON_IPV4_CHECKSUM,
    short_channel = XDPTURN_REASON_SHORT_CHANNEL,
    channel_range = XDPTURN_REASON_CHANNEL_RANGE,
    channel_length = XDPTURN_REASON_CHANNEL_LENGTH,
    channel_padding = XDPTURN_REASON_CHANNEL_PADDING,
    no_binding = XDPTURN_REASON_NO_BINDING,
    relayed = XDPTURN_REASON_RELAYED,
    rewrite_failed = XDPTURN_REASON_REWRITE_FAILED,
    hairpin = XDPTURN_REASON_HAIRPIN,
    no_channel = XDPTURN_REASON_NO_CHANNEL,
    too_big = XDPTURN_REASON_TOO_BIG,
    encapsulated = XDPTURN_REASON_ENCAPSULATED,
    short_ipv6 = XDPTURN_REASON_SHORT_IPV6,
    ipv6_version = XDPTURN_REASON_IPV6_VERSION,
    ipv6_extension = XDPTURN_REASON_IPV6_EXTENSION,
    ipv6_length = XDPTURN_REASON_IPV6_LENGTH,
    ipv6_zero_checksum = XDPTURN_REASON_IPV6_ZERO_CHECKSUM,
    other_family = XDPTURN_REASON_OTHER_FAMILY,
};

inline constexpr std::size_t reason_count = XDPTURN_REASON_COUNT;

inline constexpr std::array<std::string_view, reason_count> reason_names = {
    "short_ethernet",
    "vlan_tagged",
    "not_ip",
    "short_ipv4",
    "ipv4_version",
    "ipv4_options",
    "ipv4_fragment",
    "not_udp",
    "short_udp",
    "wrong_port",
    "ipv4_length",
    "udp_length",
    "ipv4_checksum",
    "short_channel",
    "channel_range",
    "channel_length",
    "channel_padding",
    "no_binding",
    "relayed",
    "rewrite_failed",
    "hairpin",
    "no_channel",
    "too_big",
    "encapsulated",
    "short_ipv6",
    "ipv6_version",
    "ipv6_extension",
    "ipv6_length",
    "ipv6_zero_checksum",
    "other_family",
};

constexpr std::string_view name(Reason reason) {
    const auto index = static_cast<std::size_t>(reason);
    return index < reason_count ? reason_names[index] : std::string_view{"unknown"};
}

std::string_view name(Verdict verdict);
std::optional<Reason> reason_from_index(std::uint32_t index);

// How many frames ended at each reason: what an engine's counters hold, and
// what the drivers count per engine.
struct ReasonTally {
    std::array<std::uint64_t, reason_count> counts{};

    void add(Reason reason, std::uint64_t times = 1) { counts[static_cast<std::size_t>(reason)] += times; }
    std::uint64_t operator[](Reason reason) const { return counts[static_cast<std::size_t>(reason)]; }
    std::uint64_t total() const {
        std::uint64_t sum = 0;
        for (std::uint64_t count : counts) sum += count;
        return sum;
    }
    ReasonTally& operator+=(const ReasonTally& other) {
        for (std::size_t i = 0; i < reason_count; ++i) counts[i] += other.counts[i];
        return *this;
    }
    friend bool operator==(const ReasonTally&, const ReasonTally&) = default;
};

// Every reason, in ABI order, for loops over a tally.
inline constexpr auto all_reasons = [] {
    std::array<Reason, reason_count> reasons{};
    for (std::size_t i = 0; i < reason_count; ++i) reasons[i] = static_cast<Reason>(i);
    return reasons;
}();

// Reasons no input frame can reach when the program is correct: the rows
// before it rule out every failure of the rewrite helpers (docs/datapath.md), and
// BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header.
constexpr bool reachable_through_test_run(Reason reason) {
    return reason != Reason::rewrite_failed && reason != Reason::short_ethernet;
}

}  // namespace xdpturn
