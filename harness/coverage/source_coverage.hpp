// Coverage of a BPF program's C source: lines, branches and functions with
// their hit counts, as lcov's tracefile format holds them, so genhtml renders
// them and `lcov -a` merges them. Exclusions use lcov's own source markers
// (LCOV_EXCL_LINE, LCOV_EXCL_BR_LINE, LCOV_EXCL_START/STOP,
// LCOV_EXCL_BR_START/STOP); xdpturn asks each one to say why after a colon.
#pragma once

#include <array>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "relay/net/result.hpp"

namespace xdpturn::coverage {

// One conditional jump: how often it jumped and how often it fell through.
// Not reached: the block ending in it never ran (lcov's "-").
struct BranchCounts {
    std::uint64_t taken = 0;
    std::uint64_t fell_through = 0;
    bool reached = false;
};

// One comparing jump's operands: how often they met one below, exactly at
// and one above the boundary (instrument.hpp), for the sides that can
// happen and were measured.
struct BoundaryCounts {
    std::array<std::uint64_t, 3> met{};  // below, at, above
    std::array<bool, 3> measured{};
};
// lcov carries boundaries as branches of their line, numbered from here on
// (block boundary_block + the comparison's column, branch 0 below, 1 at, 2 above),
// so genhtml shows them beside the real branches and `lcov -a` merges them.
inline constexpr std::uint32_t boundary_block = 1000000;

struct FunctionCounts {
    std::uint32_t line = 0;
    std::uint64_t hits = 0;
};

struct FileCoverage {
    std::map<std::uint32_t, std::uint64_t> lines;
    // Per line, its conditional jumps by their index in the program as
    // loaded (lcov's block number): an inlined function has one per copy.
    std::map<std::uint32_t, std::map<std::uint32_t, BranchCounts>> branches;
    // Per line, its comparisons by their column (every inlined copy of one
    // adds to its counts).
    std::map<std::uint32_t, std::map<std::uint32_t, BoundaryCounts>> boundaries;
    std::map<std::string, FunctionCounts> functions;
};

struct Totals {
    std::size_t lines_found = 0, lines_hit = 0;
    std::size_t branches_found = 0, branches_hit = 0;  // each direction of a jump is one branch
    std::size_t functions_found = 0, functions_hit = 0;
    std::size_t boundaries_found = 0, boundaries_hit = 0;  // each measured side of a comparison is one
};

struct SourceCoverage {
    std::map<std::string, FileCoverage> files;

    // Counts of the same object's runs add up line by line and jump by jump.
    void merge(const SourceCoverage& other);
    Totals totals() const;
    Totals totals(const std::string& file) const;
};

void write_lcov(std::ostream& out, const SourceCoverage& coverage, const std::string& test_name);
// The tracefile as text, for a caller to write (harness/io writes outputs whole).
std::string lcov_text(const SourceCoverage& coverage, const std::string& test_name);
Result<SourceCoverage> read_lcov_file(const std::string& path);
// A tracefile's text; `path` names it in errors.
Result<SourceCoverage> parse_lcov(const std::string& text, const std::string& path);

// A marker in the source, the lines it covers and the reason given. Every
// marker excludes the boundaries of its lines too; XDPTURN_BOUNDARY_EXCL_LINE
// and XDPTURN_BOUNDARY_EXCL_START/STOP exclude only those.
struct Exclusion {
    std::string file;
    std::uint32_t first = 0, last = 0;
    bool branches_only = false;
    std::string reason;  // empty: none given
    bool boundaries_only = false;
};

// The markers in every file of `coverage` that can be read.
Result<std::vector<Exclusion>> find_exclusions(const SourceCoverage& coverage);
// Removes what the markers exclude, as lcov's geninfo does when it captures.
void apply_exclusions(SourceCoverage& coverage, const std::vector<Exclusion>& exclusions);

struct GateOptions {
    std::string file;                // the source that must be covered (suffix match)
    std::uint64_t rare_below = 100;  // branch directions taken fewer times are listed as rare
    bool boundaries = false;         // every comparison met at its boundary too
};

struct GateFinding {
    std::string where;  // file:line
    std::string what;
};

struct GateReport {
    std::vector<GateFinding> unreached;    // fail the gate
    std::vector<GateFinding> unexplained;  // markers without a reason: fail the gate
    std::vector<GateFinding> rare;         // reached fewer than rare_below times: listed
    std::vector<GateFinding> stale;        // excluded, yet reached: listed
    std::vector<GateFinding> unmet;        // a side of a comparison never met: fails a boundary gate
    std::vector<GateFinding> unmeasured;   // comparisons only "at" could be measured of: listed
    std::vector<Exclusion> exclusions;
    Totals totals;
    bool gates_boundaries = false;
    bool passed() const { return unreached.empty() && unexplained.empty() && (!gates_boundaries || unmet.empty()); }
};

// `raw` is the coverage before exclusions, as measured.
Result<GateReport> run_gate(const SourceCoverage& raw, const GateOptions& options);
void print_gate(std::ostream& out, const GateReport& report, const GateOptions& options);

}  // namespace xdpturn::coverage
