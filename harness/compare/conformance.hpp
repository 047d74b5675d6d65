// The conformance oracle: how a program without our reason codes is judged.
// Each frame's outcome is put in a class against the reference relay (RFC
// 8656) and the target's description (docs/targets.md):
//   untouched_pass      passed, unchanged, where the reference does not relay
//   not_offloaded       passed, unchanged, where the reference relays: allowed
//   conformant_forward  the reference's IP and UDP headers and payload, the
//                       link layer and TTL as described, padding as the RFC
//                       allows
//   conformant_drop     dropped where a relay discards (a malformed datagram,
//                       or a route that says so)
//   not_judged          changed a frame so large that BPF_PROG_TEST_RUN left
//                       it no room to grow (a limit of the test, not of NICs)
//   forwarded_without_checksum
//                       the relay's bytes but for an IPv4 UDP checksum of 0
//                       ("none") where the relay sends one: legal (RFC 768),
//                       but the datagram loses its integrity check. A policy,
//                       reported; a defect only with --strict-checksums
// and everything else is a defect:
//   passed_modified        XDP_PASS of a changed frame the relay would not send
//   forwarded_wrong_bytes  forwarded, but not the bytes the relay sends
//   forwarded_not_relayed  forwarded (or passed rewritten) where the relay
//                          would not relay
//   forwarded_wrong_way    relayed, but not the way the description says
//                          (the action or the link layer)
//   dropped_relayable      dropped where the relay forwards
//   dropped_for_user_space dropped a frame user space must see
//   aborted                XDP_ABORTED
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/compare/engine.hpp"
#include "harness/foreign/fib_environment.hpp"
#include "harness/foreign/target_description.hpp"

namespace xdpturn {

enum class Conformance : std::uint8_t {
    untouched_pass,
    not_offloaded,
    conformant_forward,
    conformant_drop,
    not_judged,
    forwarded_without_checksum,
    passed_modified,
    forwarded_wrong_bytes,
    forwarded_not_relayed,
    forwarded_wrong_way,
    dropped_relayable,
    dropped_for_user_space,
    aborted,
};

inline constexpr std::size_t conformance_count = 13;
std::string_view name(Conformance conformance);
// `strict_checksums`: a datagram sent without the checksum the relay sends
// is a defect too (--strict-checksums).
inline bool is_defect(Conformance conformance, bool strict_checksums = false) {
    return conformance >= Conformance::passed_modified ||
           (strict_checksums && conformance == Conformance::forwarded_without_checksum);
}

struct ConformanceVerdict {
    ConformanceVerdict(Conformance c = Conformance::untouched_pass, std::string why = {},
                       std::vector<std::string> differing = {})
        : conformance(c), detail(std::move(why)), fields(std::move(differing)) {}

    Conformance conformance = Conformance::untouched_pass;
    std::string detail;  // for a defect: what is wrong, with a field diff where bytes differ
    // Where bytes were compared: the fields that differ, sorted, one each
    // (FieldDifference names). Defects of one class with other fields are
    // likely other root causes (check groups them so).
    std::vector<std::string> fields;
};

// Reasons for which a relay discards the datagram (malformed; RFC 8656
// Section 12.5 for ChannelData, RFC 768/791/8200 for the headers): a target
// may drop these.
bool relay_discards(Reason reason);

struct ConformanceInput {
    const DatapathConfig& config;
    Bytes input;
    const EngineOutcome& reference;
    const EngineOutcome& target;
    const TargetDescription& description;
    const FibEnvironment* environment = nullptr;  // fib_redirect targets
    // The table both decided against: for the relay's own rewrite of a
    // frame it hands to user space (hairpin, too big) that a target
    // rewrites and passes to the stack.
    const BindingTable* table = nullptr;
};

ConformanceVerdict judge_conformance(const ConformanceInput& in);

using ConformanceTally = std::array<std::uint64_t, conformance_count>;

}  // namespace xdpturn
