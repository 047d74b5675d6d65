// A replay run as a library call: captured frames through both engines, in
// capture order, with bindings given or learned, checksums classified and
// optionally repaired, the relay's own datagrams as a third oracle, and
// optional output captures. `xdpturn replay` parses options into
// ReplayOptions and prints the ReplayResult; `xdpturn bench` calls it too.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/compare/differential.hpp"
#include "harness/replay/binding_learner.hpp"

namespace xdpturn {

struct ReplayOptions {
    std::vector<std::string> captures;
    DatapathConfig config;
    BindingTable bindings;  // the table at the start
    ProgramSource program;
    unsigned jobs = 1;
    bool learn = false;           // learn bindings from the capture's STUN traffic
    bool fix_checksums = false;   // repair partial (offloaded) UDP checksums first
    std::string out_path;         // XDP_TX outputs to this pcap
    std::string mismatches_path;  // input, reference and XDP output of each disagreement
    std::string per_packet_path;  // one JSON entry per frame, a line each
    std::size_t keep_disagreements = 5;
    bool progress = false;  // a progress line on stderr
    // The captures were taken on the far side of a live relay's link: check
    // the live program's outputs in them against the reference instead of
    // running a program here (live_verifier.hpp).
    bool live = false;
};

struct ReplayDisagreement {
    std::string capture;
    std::uint64_t index = 0;
    std::string diff;
};

struct LinkTypeSeen {
    std::string capture;
    std::string link_type;
    std::string synthesised;  // what of the Ethernet header was made up, if anything
};

// One capture's share of the run, for reports per capture (JUnit).
struct CaptureTally {
    std::string capture;
    std::uint64_t frames_read = 0;
    std::uint64_t compared = 0;
    std::uint64_t disagreed = 0;
    std::string first_diff;   // of its first disagreement
    std::string input_error;  // why it could not be read (whole or in part)
};

struct ReplayResult {
    std::uint64_t frames_read = 0;
    std::uint64_t compared = 0;
    std::uint64_t agreed = 0;
    std::uint64_t disagreed = 0;
    std::map<std::string, std::uint64_t> skipped;  // reason -> frames
    ReasonTally reference;
    ReasonTally xdp;
    // Under the conformance oracle: frames per class (a disagreement is a
    // defect class).
    bool conformance = false;
    ConformanceTally classes{};
    std::map<std::string, std::uint64_t> reference_verdicts;
    std::map<std::string, std::uint64_t> xdp_verdicts;
    std::map<std::string, std::uint64_t> udp_checksums;  // state -> frames
    std::uint64_t checksums_repaired = 0;
    std::vector<std::string> input_errors;
    std::vector<ReplayDisagreement> first_disagreements;
    std::vector<LinkTypeSeen> link_types;
    std::vector<CaptureTally> per_capture;  // in the order given

    // With learning: what was learned, and the table at the end.
    LearnerStats learned;
    std::uint64_t bindings_learned = 0;
    BindingTable final_table;

    // With `live`: outputs the reference expects, and what became of them.
    // Each differed or missing one is also a disagreement.
    std::uint64_t live_expected = 0;
    std::uint64_t live_matched = 0;
    std::uint64_t live_differed = 0;
    std::uint64_t live_missing = 0;
    std::uint64_t live_given_up = 0;
    std::uint64_t live_in_flight = 0;  // inputs not judged: a ChannelBind for them in flight

    // The third oracle.
    std::uint64_t oracle_expected = 0;
    std::uint64_t oracle_matched = 0;
    std::uint64_t oracle_dropped = 0;

    double seconds = 0;
    EngineCost cost;
    long peak_rss_kib = 0;
    // The program's reason counters against the reasons it recorded (not
    // live): empty when they match.
    std::string counter_mismatch;

    double frames_per_second() const { return seconds > 0 ? static_cast<double>(compared) / seconds : 0; }
    // Frames per second per job over the bare call rate on the same frames.
    double ratio_to_bare_per_job(unsigned jobs) const {
        const double bare = cost.test_run_calls_per_second();
        return bare > 0 ? frames_per_second() / jobs / bare : 0;
    }
};

// An Error is an environment or output error (BPF unavailable, an output
// file that cannot be written); unreadable captures are input_errors.
Result<ReplayResult> run_replay(const ReplayOptions& options);

// The words for a UDP checksum state, as the report counts them.
inline constexpr const char* partial_checksum_state = "partial (checksum offload)";

}  // namespace xdpturn
