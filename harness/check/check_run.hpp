// `xdpturn check`: a property run outside the test framework, with case
// counts, seeds and jobs of its own. Case i is generated from (seed, i)
// alone (case_blocks.hpp), so a run is reproduced by its seed whatever
// --jobs says. A failing case is shrunk and saved (shrink.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/check/boundaries.hpp"
#include "harness/check/counterexample.hpp"
#include "harness/check/generators.hpp"
#include "harness/check/properties.hpp"
#include "harness/compare/differential.hpp"

namespace xdpturn {

struct CheckOptions {
    std::uint64_t cases = 100000;
    std::uint64_t seed = 0;
    unsigned jobs = 1;
    ProgramSource program;
    std::string counterexample_dir = "xdpturn-counterexamples";
    bool shrink = true;
    std::uint64_t max_shrink_runs = 20000;
    bool progress = false;  // a progress line on stderr
    // A target left to user space on a path it claims: try its fields in
    // the other byte order (description_hints.hpp).
    bool description_hints = true;
    // One slice of a campaign split across machines: shard `shard` (from 0)
    // of `shards` runs the blocks whose number is `shard` modulo `shards`.
    // The shards of a run together run exactly its cases, and the failing
    // case with the lowest index, shrunk alike, is found by its shard.
    std::uint64_t shard = 0;
    std::uint64_t shards = 1;
};

struct CheckFailure {
    std::uint64_t case_index = 0;
    std::string property;
    std::string details;                 // of the shrunk case
    std::string shown_case;              // the shrunk case, field by field
    std::vector<std::uint32_t> choices;  // the shrunk case's choice sequence
    // A case that fails only after other frames ran on the same program (a
    // state leak): the frames of the shrunk sequence, the failing one last.
    // 1 for a case that fails alone.
    std::uint64_t frames = 1;
    // Under the conformance oracle: the defect group (DefectGroup::key).
    std::string group;
    std::uint64_t shrink_steps = 0;
    std::uint64_t shrink_runs = 0;
    std::optional<CounterexamplePaths> saved;
    std::string save_error;
};

// A path a target can claim to offload: a direction, and the families in
// and out. Index: 4 * to the client + 2 * IPv6 in + IPv6 out.
inline constexpr std::size_t claimable_paths = 8;
std::string path_name(std::size_t path);  // "client -> peer, IPv4 -> IPv6"
// The path the reference relayed `input` on.
std::size_t path_of(Bytes input, const EngineOutcome& reference);
// Whether the target's description claims it.
bool claims_path(const TargetDescription& target, std::size_t path);

struct PathTally {
    std::uint64_t relayed = 0;        // by the reference, on a path the target claims
    std::uint64_t not_offloaded = 0;  // of those, left to user space by the target
};

// What a run counts, case by case: each job keeps one, and the run adds
// them up.
struct CheckTally {
    std::uint64_t cases_run = 0;
    ReasonTally reference_reasons;
    ReasonTally xdp_reasons;
    std::array<std::uint64_t, variation_count> variation_hits{};
    BoundaryTally boundary_hits{};
    ConformanceTally classes{};  // under the conformance oracle
    // ... and per contract row (the reference's reason): what the target
    // did with the frames of each row.
    std::array<ConformanceTally, reason_count> classes_by_row{};
    // Cases per defect group (DefectGroup::key): defects of one class
    // with other rows or fields, likely other causes.
    std::map<std::string, std::uint64_t> defect_groups;
    // Frames the reference relays on paths the target claims to offload
    // (its description's families and directions), and how many of them
    // the target did not touch: all of them untouched points at a
    // description that does not match the program.
    std::uint64_t claimed_relayable = 0;
    std::uint64_t claimed_not_offloaded = 0;
    // The same per path: a mistake in one map's description leaves one
    // direction or family without offloads while the others hide it.
    std::array<PathTally, claimable_paths> paths{};

    CheckTally& operator+=(const CheckTally& other);
};

struct CheckResult : CheckTally {
    double seconds = 0;
    double bare_calls_per_second = 0;  // one thread, a 62-byte frame in a loop, same run
    // With --coverage, the same loop on the program without probes: the probes' cost.
    double bare_calls_per_second_without_probes = 0;
    EngineCost cost;  // inside the syscalls of the run itself, summed over jobs
    std::optional<CheckFailure> failure;
    // Under the conformance oracle the run does not stop at a defect: every
    // case is classified, and the first case of each defect group is
    // shrunk (keeping its group) and saved.
    bool conformance = false;
    std::vector<CheckFailure> defects;
    std::string counter_mismatch;  // empty when the BPF counters match the verdicts
    // A target that offloads little on a path it claims: the description
    // changes that would explain it (a field read in the other byte order).
    std::vector<std::string> description_hints;

    double cases_per_second() const { return seconds > 0 ? static_cast<double>(cases_run) / seconds : 0; }
    // The bare BPF_PROG_TEST_RUN rate on this run's own frames: calls over
    // the time spent inside the calls (per thread).
    double test_run_calls_per_second() const { return cost.test_run_calls_per_second(); }
    // Cases per second per job over that rate: 1.0 would mean the run costs
    // nothing besides the one BPF_PROG_TEST_RUN call each case needs.
    double ratio_to_bare(unsigned jobs) const {
        const double bare = test_run_calls_per_second();
        return bare > 0 ? cases_per_second() / jobs / bare : 0;
    }
    // Reachable contract rows no case hit, in either engine.
    std::vector<Reason> uncovered_rows() const;
    // Boundary classes no case fell in.
    std::vector<Boundary> uncovered_boundaries() const;
};

Result<CheckResult> run_check(const CheckOptions& options);

}  // namespace xdpturn
