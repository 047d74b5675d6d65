#include "harness/coverage/source_coverage.hpp"
#include "relay/net/file_input.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace xdpturn::coverage {

void SourceCoverage::merge(const SourceCoverage& other) {
    for (const auto& [name, theirs] : other.files) {
        FileCoverage& ours = files[name];
        for (const auto& [line, hits] : theirs.lines) ours.lines[line] += hits;
        for (const auto& [line, jumps] : theirs.branches) {
            auto& mine = ours.branches[line];
            for (const auto& [insn, jump] : jumps) {
                BranchCounts& counts = mine[insn];
                counts.taken += jump.taken;
                counts.fell_through += jump.fell_through;
                counts.reached = counts.reached || jump.reached;
            }
        }
        for (const auto& [line, jumps] : theirs.boundaries)
            for (const auto& [insn, counts] : jumps) {
                BoundaryCounts& mine = ours.boundaries[line][insn];
                for (std::size_t side = 0; side < mine.met.size(); ++side) mine.met[side] += counts.met[side];
                for (std::size_t side = 0; side < mine.met.size(); ++side)
                    mine.measured[side] = mine.measured[side] || counts.measured[side];
            }
        for (const auto& [function, counts] : theirs.functions) {
            FunctionCounts& mine = ours.functions[function];
            mine.line = counts.line;
            mine.hits += counts.hits;
        }
    }
}

namespace {

// The sides of a comparison its probe measured.
std::vector<std::size_t> measured_sides(const BoundaryCounts& counts) {
    std::vector<std::size_t> sides;
    for (std::size_t side = 0; side < counts.measured.size(); ++side)
        if (counts.measured[side]) sides.push_back(side);
    return sides;
}

void add_totals(Totals& totals, const FileCoverage& file) {
    for (const auto& [line, hits] : file.lines) {
        ++totals.lines_found;
        totals.lines_hit += hits > 0 ? 1 : 0;
    }
    for (const auto& [line, jumps] : file.branches)
        for (const auto& [insn, jump] : jumps) {
            totals.branches_found += 2;
            totals.branches_hit += (jump.taken > 0 ? 1 : 0) + (jump.fell_through > 0 ? 1 : 0);
        }
    for (const auto& [name, counts] : file.functions) {
        ++totals.functions_found;
        totals.functions_hit += counts.hits > 0 ? 1 : 0;
    }
    for (const auto& [line, jumps] : file.boundaries)
        for (const auto& [insn, counts] : jumps)
            for (std::size_t side : measured_sides(counts)) {
                ++totals.boundaries_found;
                totals.boundaries_hit += counts.met[side] > 0 ? 1 : 0;
            }
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Totals SourceCoverage::totals() const {
    Totals totals;
    for (const auto& [name, file] : files) add_totals(totals, file);
    return totals;
}

Totals SourceCoverage::totals(const std::string& file) const {
    Totals totals;
    for (const auto& [name, coverage] : files)
        if (ends_with(name, file)) add_totals(totals, coverage);
    return totals;
}

void write_lcov(std::ostream& out, const SourceCoverage& coverage, const std::string& test_name) {
    for (const auto& [name, file] : coverage.files) {
        Totals totals;
        add_totals(totals, file);
        out << "TN:" << test_name << "\nSF:" << name << "\n";
        for (const auto& [function, counts] : file.functions) out << "FN:" << counts.line << "," << function << "\n";
        for (const auto& [function, counts] : file.functions) out << "FNDA:" << counts.hits << "," << function << "\n";
        out << "FNF:" << totals.functions_found << "\nFNH:" << totals.functions_hit << "\n";
        // Branch 0 is the jump taken, branch 1 the fall-through.
        for (const auto& [line, jumps] : file.branches)
            for (const auto& [insn, jump] : jumps)
                for (int direction = 0; direction < 2; ++direction) {
                    out << "BRDA:" << line << "," << insn << "," << direction << ",";
                    if (!jump.reached)
                        out << "-\n";
                    else
                        out << (direction == 0 ? jump.taken : jump.fell_through) << "\n";
                }
        for (const auto& [line, jumps] : file.boundaries)
            for (const auto& [insn, counts] : jumps)
                for (std::size_t side : measured_sides(counts))
                    out << "BRDA:" << line << "," << boundary_block + insn << "," << side << "," << counts.met[side]
                        << "\n";
        out << "BRF:" << totals.branches_found + totals.boundaries_found
            << "\nBRH:" << totals.branches_hit + totals.boundaries_hit << "\n";
        for (const auto& [line, hits] : file.lines) out << "DA:" << line << "," << hits << "\n";
        out << "LF:" << totals.lines_found << "\nLH:" << totals.lines_hit << "\nend_of_record\n";
    }
}

std::string lcov_text(const SourceCoverage& coverage, const std::string& test_name) {
    std::ostringstream out;
    write_lcov(out, coverage, test_name);
    return out.str();
}

namespace {

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
    return parts;
}

std::optional<std::uint64_t> number(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    try {
        return std::stoull(text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// A boundary record: BRDA:line,boundary_block+jump,side,count.
bool read_boundary(std::uint32_t line, std::uint32_t jump, std::uint64_t side, const std::string& count,
                   FileCoverage& file) {
    auto met = number(count);
    if (side > 2 || (!met && count != "-")) return false;
    BoundaryCounts& counts = file.boundaries[line][jump];
    counts.measured[side] = true;
    if (met) counts.met[side] += *met;
    return true;
}

// One tracefile line into `file`; false when it does not parse.
bool read_record(const std::string& tag, const std::vector<std::string>& fields, FileCoverage& file) {
    if (tag == "DA" && fields.size() >= 2) {
        auto line = number(fields[0]);
        auto hits = number(fields[1]);
        if (!line || !hits) return false;
        file.lines[static_cast<std::uint32_t>(*line)] += *hits;
        return true;
    }
    if (tag == "BRDA" && fields.size() == 4) {
        auto line = number(fields[0]);
        auto block = number(fields[1]);
        auto direction = number(fields[2]);
        if (line && block && direction && *block >= boundary_block && *block <= UINT32_MAX)
            return read_boundary(static_cast<std::uint32_t>(*line), static_cast<std::uint32_t>(*block - boundary_block),
                                 *direction, fields[3], file);
        if (!line || !block || !direction || *direction > 1 || *block > UINT32_MAX) return false;
        BranchCounts& jump = file.branches[static_cast<std::uint32_t>(*line)][static_cast<std::uint32_t>(*block)];
        if (fields[3] == "-") return true;
        auto taken = number(fields[3]);
        if (!taken) return false;
        jump.reached = true;
        (*direction == 0 ? jump.taken : jump.fell_through) += *taken;
        return true;
    }
    if (tag == "FN" && fields.size() >= 2) {
        auto line = number(fields[0]);
        if (!line) return false;
        file.functions[fields[1]].line = static_cast<std::uint32_t>(*line);
        return true;
    }
    if (tag == "FNDA" && fields.size() >= 2) {
        auto hits = number(fields[0]);
        if (!hits) return false;
        file.functions[fields[1]].hits += *hits;
        return true;
    }
    return true;  // TN, FNF, FNH, BRF, BRH, LF, LH and others: totals are recomputed
}

}  // namespace

Result<SourceCoverage> read_lcov_file(const std::string& path) {
    auto text = read_input_file(path, "coverage tracefile", tracefile_limit);
    if (!text) return text.error();
    return parse_lcov(*text, path);
}

Result<SourceCoverage> parse_lcov(const std::string& text, const std::string& path) {
    std::istringstream in(text);
    SourceCoverage coverage;
    SourceCoverage record;
    FileCoverage* file = nullptr;
    std::size_t number_of_line = 0;
    for (std::string text; std::getline(in, text);) {
        ++number_of_line;
        const std::string where = path + ":" + std::to_string(number_of_line);
        if (text.empty()) continue;
        if (text == "end_of_record") {
            coverage.merge(record);
            record = {};
            file = nullptr;
            continue;
        }
        const auto colon = text.find(':');
        if (colon == std::string::npos) return Error{where + ": not an lcov tracefile line: " + text};
        const std::string tag = text.substr(0, colon);
        const std::string rest = text.substr(colon + 1);
        if (tag == "SF") {
            file = &record.files[rest];
            continue;
        }
        if (tag == "TN") continue;
        if (file == nullptr) return Error{where + ": '" + tag + "' before any SF line"};
        if (!read_record(tag, split(rest, ','), *file)) return Error{where + ": cannot read: " + text};
    }
    if (file != nullptr) return Error{path + ": the last record has no end_of_record"};
    return coverage;
}

namespace {

// The reason after a marker: "LCOV_EXCL_BR_LINE: the verifier's bounds check".
std::string reason_after(const std::string& text, std::size_t marker_end) {
    std::size_t at = text.find_first_not_of(" \t", marker_end);
    if (at == std::string::npos || text[at] != ':') return {};
    std::string reason = text.substr(at + 1);
    const auto close = reason.find("*/");
    if (close != std::string::npos) reason.erase(close);
    const auto first = reason.find_first_not_of(" \t");
    const auto last = reason.find_last_not_of(" \t");
    return first == std::string::npos ? std::string() : reason.substr(first, last - first + 1);
}

// A START marker seen and its STOP not yet: lines (or only branches, or
// only boundaries) from `first` on are excluded for `reason`.
struct OpenRange {
    OpenRange(std::string marker, bool only_branches, bool only_boundaries)
        : name(std::move(marker)), branches_only(only_branches), boundaries_only(only_boundaries) {}
    std::string name;  // the marker without _START / _STOP
    bool branches_only;
    bool boundaries_only;
    std::uint32_t first = 0;
    std::string reason;
    bool open = false;

    void start(std::uint32_t line, std::string why) {
        first = line;
        reason = std::move(why);
        open = true;
    }
    Status stop(const std::string& file, std::uint32_t line, std::vector<Exclusion>& found) {
        if (!open) return Error{file + ":" + std::to_string(line) + ": " + name + "_STOP without START"};
        found.push_back({file, first, line, branches_only, reason, boundaries_only});
        open = false;
        return ok_status();
    }
};

Status scan_markers(const std::string& file, std::istream& in, std::vector<Exclusion>& found) {
    OpenRange lines("LCOV_EXCL", false, false), branches("LCOV_EXCL_BR", true, false),
        boundaries("XDPTURN_BOUNDARY_EXCL", false, true);
    std::uint32_t number = 0;
    for (std::string text; std::getline(in, text);) {
        ++number;
        auto marker = [&](const std::string& name) -> std::optional<std::string> {
            const auto at = text.find(name);
            if (at == std::string::npos) return std::nullopt;
            return reason_after(text, at + name.size());
        };
        Status stopped = ok_status();
        if (auto reason = marker("XDPTURN_BOUNDARY_EXCL_LINE"))
            found.push_back({file, number, number, false, *reason, true});
        else if (auto reason = marker("LCOV_EXCL_BR_LINE"))
            found.push_back({file, number, number, true, *reason});
        else if (auto reason = marker("LCOV_EXCL_LINE"))
            found.push_back({file, number, number, false, *reason});
        for (OpenRange* range : {&boundaries, &branches, &lines}) {
            if (auto reason = marker(range->name + "_START")) {
                range->start(number, *reason);
                break;
            }
            if (marker(range->name + "_STOP")) {
                stopped = range->stop(file, number, found);
                break;
            }
        }
        if (!stopped) return stopped;
    }
    if (lines.open || branches.open || boundaries.open) return Error{file + ": an exclusion range is never closed"};
    return ok_status();
}

}  // namespace

Result<std::vector<Exclusion>> find_exclusions(const SourceCoverage& coverage) {
    std::vector<Exclusion> found;
    for (const auto& [name, file] : coverage.files) {
        auto text = read_input_file(name, "source", source_file_limit);
        if (!text) continue;  // a source not at hand has no markers to honour
        std::istringstream in(*text);
        if (auto scanned = scan_markers(name, in, found); !scanned) return scanned.error();
    }
    return found;
}

void apply_exclusions(SourceCoverage& coverage, const std::vector<Exclusion>& exclusions) {
    for (const Exclusion& exclusion : exclusions) {
        auto file = coverage.files.find(exclusion.file);
        if (file == coverage.files.end()) continue;
        for (std::uint32_t line = exclusion.first; line <= exclusion.last; ++line) {
            file->second.boundaries.erase(line);
            if (exclusion.boundaries_only) continue;
            file->second.branches.erase(line);
            if (!exclusion.branches_only) file->second.lines.erase(line);
        }
    }
}

namespace {

std::string source_line(const std::string& file, std::uint32_t wanted) {
    auto whole = read_input_file(file, "source", source_file_limit);
    std::istringstream in(whole ? *whole : std::string());
    std::uint32_t number = 0;
    for (std::string text; std::getline(in, text);)
        if (++number == wanted) {
            const auto first = text.find_first_not_of(" \t");
            return first == std::string::npos ? std::string() : text.substr(first);
        }
    return {};
}

bool excluded(const std::vector<Exclusion>& exclusions, const std::string& file, std::uint32_t line, bool branch) {
    return std::any_of(exclusions.begin(), exclusions.end(), [&](const Exclusion& e) {
        return e.file == file && line >= e.first && line <= e.last && !e.boundaries_only &&
               (branch || !e.branches_only);
    });
}

// Any marker on a line excludes its boundaries.
bool boundary_excluded(const std::vector<Exclusion>& exclusions, const std::string& file, std::uint32_t line) {
    return std::any_of(exclusions.begin(), exclusions.end(),
                       [&](const Exclusion& e) { return e.file == file && line >= e.first && line <= e.last; });
}

// An exclusion that leaves nothing out: every line in it ran and every
// jump in it went both ways.
bool excludes_nothing(const Exclusion& exclusion, const FileCoverage& file) {
    if (exclusion.boundaries_only) {
        for (std::uint32_t line = exclusion.first; line <= exclusion.last; ++line)
            if (auto jumps = file.boundaries.find(line); jumps != file.boundaries.end())
                for (const auto& [insn, counts] : jumps->second)
                    for (std::size_t side : measured_sides(counts))
                        if (counts.met[side] == 0) return false;
        return true;
    }
    for (std::uint32_t line = exclusion.first; line <= exclusion.last; ++line) {
        if (auto hits = file.lines.find(line);
            !exclusion.branches_only && hits != file.lines.end() && hits->second == 0)
            return false;
        if (auto jumps = file.branches.find(line); jumps != file.branches.end())
            for (const auto& [insn, counts] : jumps->second)
                if (counts.taken == 0 || counts.fell_through == 0) return false;
    }
    return true;
}

void check_branches(const std::string& name, std::uint32_t line, const std::map<std::uint32_t, BranchCounts>& jumps,
                    const GateOptions& options, GateReport& report) {
    const std::string where = name + ":" + std::to_string(line);
    for (const auto& [insn, counts] : jumps) {
        const std::string jump = "the jump at instruction " + std::to_string(insn) + " ";
        const std::uint64_t directions[2] = {counts.taken, counts.fell_through};
        const char* named[2] = {"taken", "fell through"};
        for (int d = 0; d < 2; ++d) {
            if (directions[d] == 0)
                report.unreached.push_back({where, jump + "never " + named[d] + ": " + source_line(name, line)});
            else if (directions[d] < options.rare_below)
                report.rare.push_back({where, jump + named[d] + " only " + std::to_string(directions[d]) +
                                                  " times: " + source_line(name, line)});
        }
    }
}

void check_boundaries(const std::string& name, std::uint32_t line, const std::map<std::uint32_t, BoundaryCounts>& jumps,
                      GateReport& report) {
    static constexpr const char* side_names[] = {"one below", "exactly at", "one above"};
    const std::string where = name + ":" + std::to_string(line);
    for (const auto& [insn, counts] : jumps) {
        const std::string comparison = "the comparison at column " + std::to_string(insn) + " ";
        if (!counts.measured[0] && !counts.measured[2])
            report.unmeasured.push_back(
                {where, comparison +
                            "has only \"at\" to meet (a null test, or pointers neither of which may be "
                            "moved by one): " +
                            source_line(name, line)});
        for (std::size_t side : measured_sides(counts))
            if (counts.met[side] == 0)
                report.unmet.push_back({where, comparison + "never met its operands " + side_names[side] +
                                                   " the boundary: " + source_line(name, line)});
    }
}

void check_file(const std::string& name, const FileCoverage& file, const std::vector<Exclusion>& exclusions,
                const GateOptions& options, GateReport& report) {
    for (const auto& [line, jumps] : file.boundaries)
        if (!boundary_excluded(exclusions, name, line)) check_boundaries(name, line, jumps, report);
    for (const auto& [line, hits] : file.lines)
        if (hits == 0 && !excluded(exclusions, name, line, false))
            report.unreached.push_back(
                {name + ":" + std::to_string(line), "line never ran: " + source_line(name, line)});
    for (const auto& [line, jumps] : file.branches)
        if (!excluded(exclusions, name, line, true)) check_branches(name, line, jumps, options, report);
    for (const Exclusion& exclusion : exclusions)
        if (exclusion.file == name && excludes_nothing(exclusion, file))
            report.stale.push_back({name + ":" + std::to_string(exclusion.first),
                                    exclusion.boundaries_only
                                        ? "every comparison here met its boundary: the marker is not needed"
                                        : "every line here ran and every jump went both ways: the marker is not "
                                          "needed"});
}

}  // namespace

namespace {

// A record the gate can trust: it has data, and every line it names is in
// the source (a record of another version of the file, or a forged one,
// would pass or fail the gate for lines that are not there).
Status check_record(const std::string& name, const FileCoverage& file, const std::string& gated) {
    if (file.lines.empty() && file.branches.empty())
        return Error{"the record of " + name + " has no line or branch data: it proves nothing"};
    auto source = read_input_file(name, "source", source_file_limit);
    if (!source) source = read_input_file(gated, "source", source_file_limit);
    if (!source) return Error{source.error().message + ", to check the record of " + name + " against"};
    std::istringstream in(*source);
    std::uint32_t count = 0;
    for (std::string text; std::getline(in, text);) ++count;
    const std::uint32_t last_line = std::max({file.lines.empty() ? 0 : file.lines.rbegin()->first,
                                              file.branches.empty() ? 0 : file.branches.rbegin()->first,
                                              file.boundaries.empty() ? 0 : file.boundaries.rbegin()->first});
    if (last_line > count || file.lines.contains(0) || file.branches.contains(0) || file.boundaries.contains(0))
        return Error{"the record of " + name + " names line " + std::to_string(last_line) + ", but the file has " +
                     std::to_string(count) + " lines: it is not this file's record"};
    return ok_status();
}

}  // namespace

Result<GateReport> run_gate(const SourceCoverage& raw, const GateOptions& options) {
    auto exclusions = find_exclusions(raw);
    if (!exclusions) return exclusions.error();
    GateReport report;
    report.gates_boundaries = options.boundaries;
    bool found = false;
    for (const auto& [name, file] : raw.files) {
        if (!ends_with(name, options.file)) continue;
        found = true;
        if (auto trusted = check_record(name, file, options.file); !trusted) return trusted.error();
        for (const Exclusion& exclusion : *exclusions)
            if (exclusion.file == name) {
                report.exclusions.push_back(exclusion);
                if (exclusion.reason.empty())
                    report.unexplained.push_back({name + ":" + std::to_string(exclusion.first),
                                                  "an exclusion marker without a reason after a colon"});
            }
        check_file(name, file, *exclusions, options, report);
    }
    if (!found) return Error{"the coverage data has no source file ending in '" + options.file + "'"};
    SourceCoverage kept = raw;
    apply_exclusions(kept, *exclusions);
    report.totals = kept.totals(options.file);
    return report;
}

void print_gate(std::ostream& out, const GateReport& report, const GateOptions& options) {
    const Totals& t = report.totals;
    out << "coverage of " << options.file << " (exclusions applied): lines " << t.lines_hit << "/" << t.lines_found
        << ", branches " << t.branches_hit << "/" << t.branches_found << ", functions " << t.functions_hit << "/"
        << t.functions_found << ", comparisons met at their boundaries " << t.boundaries_hit << "/"
        << t.boundaries_found << "; " << report.exclusions.size() << " exclusion(s)\n";
    auto list = [&](const char* heading, const std::vector<GateFinding>& findings) {
        if (findings.empty()) return;
        out << heading << " (" << findings.size() << "):\n";
        for (const GateFinding& finding : findings) out << "  " << finding.where << ": " << finding.what << "\n";
    };
    list("NOT REACHED", report.unreached);
    list("EXCLUSION WITHOUT A REASON", report.unexplained);
    list(report.gates_boundaries ? "NOT MET AT ITS BOUNDARY" : "not met at its boundary (not gated)", report.unmet);
    list("only \"at\" measured", report.unmeasured);
    list(("rarely reached (fewer than " + std::to_string(options.rare_below) + " times)").c_str(), report.rare);
    list("excluded but reached (the marker may be out of date)", report.stale);
    for (const Exclusion& e : report.exclusions)
        out << "  excluded " << e.file << ":" << e.first << (e.last != e.first ? "-" + std::to_string(e.last) : "")
            << (e.branches_only     ? " (branches)"
                : e.boundaries_only ? " (boundaries)"
                                    : "")
            << ": " << e.reason << "\n";
    out << (report.passed() ? "coverage gate passed\n" : "COVERAGE GATE FAILED\n");
}

}  // namespace xdpturn::coverage
