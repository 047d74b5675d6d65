#include "harness/cli/check_report.hpp"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "harness/check/properties.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/foreign/target_description.hpp"

namespace xdpturn::cli {

namespace {

// The classes the target's frames of one row fell in, the largest first.
std::string row_classes(const ConformanceTally& classes) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < conformance_count; ++i)
        if (classes[i] > 0) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return classes[a] > classes[b]; });
    std::string text;
    for (std::size_t i : order)
        text += (text.empty() ? "" : ", ") + std::string(name(static_cast<Conformance>(i))) + " " +
                std::to_string(classes[i]);
    return text;
}

// Under the conformance oracle the target records no reasons: each row
// shows the classes of what it did with that row's frames instead.
void print_coverage_by_class(const CheckResult& result) {
    std::cout << "\n"
              << std::left << std::setw(20) << "contract row" << std::right << std::setw(12) << "reference"
              << "   target\n";
    for (Reason reason : all_reasons) {
        const auto row = static_cast<std::size_t>(reason);
        std::cout << std::left << std::setw(20) << name(reason) << std::right << std::setw(12)
                  << result.reference_reasons[reason] << "   ";
        if (!reachable_through_test_run(reason))
            std::cout << "(not reachable through BPF_PROG_TEST_RUN)";
        else if (result.reference_reasons[reason] == 0)
            std::cout << "NO HITS";
        else
            std::cout << row_classes(result.classes_by_row[row]);
        std::cout << "\n";
    }
}

void print_coverage(const CheckResult& result) {
    if (result.conformance && result.xdp_reasons.total() == 0) return print_coverage_by_class(result);
    std::cout << "\n"
              << std::left << std::setw(20) << "contract row" << std::right << std::setw(12) << "reference"
              << std::setw(12) << "xdp"
              << "\n";
    for (Reason reason : all_reasons) {
        std::cout << std::left << std::setw(20) << name(reason) << std::right << std::setw(12)
                  << result.reference_reasons[reason] << std::setw(12) << result.xdp_reasons[reason];
        if (!reachable_through_test_run(reason))
            std::cout << "   (not reachable through BPF_PROG_TEST_RUN)";
        else if (result.reference_reasons[reason] == 0 || result.xdp_reasons[reason] == 0)
            std::cout << "   NO HITS";
        std::cout << "\n";
    }
}

// The distribution of boundary classes, as RapidCheck's classify prints it.
void print_boundaries(const CheckResult& result) {
    std::cout << "\n"
              << std::left << std::setw(28) << "boundary class" << std::right << std::setw(12) << "cases"
              << std::setw(10) << "share"
              << "\n";
    for (std::size_t i = 0; i < boundary_count; ++i) {
        const double share = result.cases_run > 0 ? 100.0 * static_cast<double>(result.boundary_hits[i]) /
                                                        static_cast<double>(result.cases_run)
                                                  : 0;
        std::cout << std::left << std::setw(28) << name(static_cast<Boundary>(i)) << std::right << std::setw(12)
                  << result.boundary_hits[i] << std::setw(9) << std::fixed << std::setprecision(2) << share << "%"
                  << (result.boundary_hits[i] == 0 ? "   NO CASE" : "") << "\n";
    }
    std::cout.unsetf(std::ios::fixed);
}

// One line per defect group: its cases, and the counterexample saved for it.
void print_defect_groups(const CheckResult& result) {
    std::cout << "\nDEFECTS: " << result.defects.size()
              << " group(s) (a class in a contract row, with the fields that differ):\n";
    for (const CheckFailure& defect : result.defects) {
        const auto counted = result.defect_groups.find(defect.group);
        std::cout << "  " << std::right << std::setw(8) << (counted == result.defect_groups.end() ? 0 : counted->second)
                  << "  " << std::left << (defect.group.empty() ? defect.property : defect.group)
                  << "\n            first: case " << defect.case_index
                  << (defect.saved ? ", " + defect.saved->pcap : std::string()) << "\n";
    }
}

// How many cases fell in each class of the conformance oracle.
void print_classes(const CheckResult& result, bool strict_checksums) {
    std::cout << "\n"
              << std::left << std::setw(28) << "conformance class" << std::right << std::setw(12) << "cases"
              << "\n";
    for (std::size_t i = 0; i < conformance_count; ++i) {
        const auto conformance = static_cast<Conformance>(i);
        std::cout << std::left << std::setw(28) << name(conformance) << std::right << std::setw(12) << result.classes[i]
                  << (is_defect(conformance, strict_checksums) && result.classes[i] > 0 ? "   DEFECT" : "") << "\n";
    }
    if (result.claimed_relayable == 0) return;
    const std::uint64_t offloaded = result.claimed_relayable - result.claimed_not_offloaded;
    std::cout << "\non the paths the target claims, the relay relayed " << result.claimed_relayable
              << " frames; the target offloaded " << offloaded << " of them:\n";
    for (std::size_t path = 0; path < claimable_paths; ++path) {
        const PathTally& tally = result.paths[path];
        if (tally.relayed == 0) continue;
        const std::uint64_t taken = tally.relayed - tally.not_offloaded;
        std::cout << "  " << std::left << std::setw(32) << path_name(path) << std::right << std::setw(8) << taken
                  << " of " << tally.relayed << "\n";
    }
    // Per path: a mistake in one map's description (one direction, one
    // family) must not hide behind the paths that work. A key that reads
    // the same in both byte orders (channel 0x4444) can still match a
    // description with a byte-order mistake: warn below one in ten, not
    // only at none.
    for (std::size_t path = 0; path < claimable_paths; ++path) {
        const PathTally& tally = result.paths[path];
        const std::uint64_t taken = tally.relayed - tally.not_offloaded;
        if (tally.relayed > 0 && taken * 10 < tally.relayed)
            std::cout << "warning: on " << path_name(path) << " the target offloaded "
                      << (taken == 0 ? std::string("none") : "fewer than one in ten (" + std::to_string(taken) + ")")
                      << " of the " << tally.relayed
                      << " frames the relay relayed: do its description's offsets, byte orders and host addresses "
                         "match the program?\n";
    }
    for (const std::string& hint : result.description_hints) std::cout << "hint: " << hint << "\n";
}

nlohmann::json failure_json(const CheckFailure& failure) {
    nlohmann::json json = {{"case_index", failure.case_index},
                           {"property", failure.property},
                           {"details", failure.details},
                           {"case", failure.shown_case},
                           {"shrink_steps", failure.shrink_steps},
                           {"frames", failure.frames},
                           {"shrink_runs", failure.shrink_runs},
                           {"pcap", failure.saved ? failure.saved->pcap : ""},
                           {"bindings", failure.saved ? failure.saved->json : ""},
                           {"pcapng", failure.saved ? failure.saved->pcapng : ""}};
    if (!failure.group.empty()) json["group"] = failure.group;
    return json;
}

std::string format_ratio(double ratio) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(2) << ratio;
    return text.str();
}

}  // namespace

// A case's time, phase by phase: generating cases (choices, specs, block
// plans), building frames, writing the maps, BPF_PROG_TEST_RUN, the
// reference model, classifying boundaries, and the rest (comparing outputs,
// validating frames, the properties, tallies). `jobs` ran for the run's
// seconds each (a merged campaign: its shards' jobs together).
std::vector<std::pair<std::string, double>> time_per_case(const CheckResult& result, unsigned jobs) {
    const double cases = result.cases_run > 0 ? static_cast<double>(result.cases_run) : 1;
    const EngineCost& c = result.cost;
    const double busy_ns = result.seconds * 1e9 * static_cast<double>(std::max(1u, jobs));
    const double known = static_cast<double>(c.generate_ns + c.build_ns + c.map_ns + c.test_run_ns + c.reference_ns +
                                             c.classify_ns + c.load_ns);
    return {{"generating", static_cast<double>(c.generate_ns) / cases},
            {"building frames", static_cast<double>(c.build_ns) / cases},
            {"map updates", static_cast<double>(c.map_ns) / cases},
            {"BPF_PROG_TEST_RUN", static_cast<double>(c.test_run_ns) / cases},
            {"reference model", static_cast<double>(c.reference_ns) / cases},
            {"classifying", static_cast<double>(c.classify_ns) / cases},
            {"loading programs", static_cast<double>(c.load_ns) / cases},
            {"comparing and checking", std::max(0.0, busy_ns - known) / cases}};
}

nlohmann::json time_per_case_json(const CheckResult& result, unsigned jobs) {
    nlohmann::json phases = nlohmann::json::object();
    for (const auto& [phase, ns] : time_per_case(result, jobs)) phases[phase] = ns;
    return phases;
}

nlohmann::json result_json(const CheckOptions& options, const CheckResult& result) {
    nlohmann::json coverage = nlohmann::json::object();
    for (Reason reason : all_reasons) {
        nlohmann::json row{{"reference", result.reference_reasons[reason]}, {"xdp", result.xdp_reasons[reason]}};
        if (result.conformance) row["classes"] = classes_json(result.classes_by_row[static_cast<std::size_t>(reason)]);
        coverage[std::string(name(reason))] = std::move(row);
    }
    nlohmann::json variations = nlohmann::json::object();
    for (std::size_t i = 0; i < result.variation_hits.size(); ++i)
        variations[std::string(name(static_cast<Variation>(i)))] = result.variation_hits[i];
    nlohmann::json uncovered = nlohmann::json::array();
    for (Reason reason : result.uncovered_rows()) uncovered.push_back(name(reason));
    nlohmann::json boundaries = nlohmann::json::object();
    for (std::size_t i = 0; i < boundary_count; ++i)
        boundaries[std::string(name(static_cast<Boundary>(i)))] = result.boundary_hits[i];
    nlohmann::json uncovered_boundaries = nlohmann::json::array();
    for (Boundary boundary : result.uncovered_boundaries()) uncovered_boundaries.push_back(name(boundary));
    nlohmann::json document = {
        {"program", options.program.describe()},
        {"seed", options.seed},
        {"cases_requested", options.cases},
        {"shard", {{"index", options.shard + 1}, {"count", options.shards}}},
        {"cases_run", result.cases_run},
        {"jobs", options.jobs},
        {"seconds", result.seconds},
        {"cases_per_second", result.cases_per_second()},
        {"test_run_calls_per_second", result.test_run_calls_per_second()},
        {"bare_loop_calls_per_second", result.bare_calls_per_second},
        {"ratio_to_bare_rate_per_job", result.ratio_to_bare(options.jobs)},
        {"ratio_to_bare_rate_all_jobs", result.ratio_to_bare(1)},
        {"seconds_in_test_run", static_cast<double>(result.cost.test_run_ns) / 1e9},
        {"seconds_in_map_updates", static_cast<double>(result.cost.map_ns) / 1e9},
        {"map_entries_changed", result.cost.map_entries},
        {"nanoseconds_per_case", time_per_case_json(result, options.jobs)},
        {"bare_loop_calls_per_second_without_probes", result.bare_calls_per_second_without_probes},
        {"coverage", coverage},
        {"uncovered_rows", uncovered},
        {"variations", variations},
        {"boundaries", boundaries},
        {"uncovered_boundaries", uncovered_boundaries},
        {"counters_match_verdicts", result.counter_mismatch.empty()},
        {"counter_mismatch", result.counter_mismatch},
        {"oracle", result.conformance ? "conformance" : "exact"},
        {"failure", nullptr}};
    if (result.failure) document["failure"] = failure_json(*result.failure);
    if (options.program.target) {  // for merge's replay hints
        document["target"] = options.program.target->path;
        if (options.program.object_path) document["target_object"] = *options.program.object_path;
    }
    if (result.conformance) {
        nlohmann::json classes = classes_json(result.classes);
        document["defect_groups"] = result.defect_groups;
        nlohmann::json defects = nlohmann::json::array();
        for (const CheckFailure& defect : result.defects) defects.push_back(failure_json(defect));
        document["classes"] = classes;
        document["defects"] = defects;
        nlohmann::json per_path = nlohmann::json::object();
        for (std::size_t path = 0; path < claimable_paths; ++path)
            if (result.paths[path].relayed > 0)
                per_path[path_name(path)] = {{"relayed_by_reference", result.paths[path].relayed},
                                             {"not_offloaded", result.paths[path].not_offloaded}};
        document["claimed_paths"] = {{"relayed_by_reference", result.claimed_relayable},
                                     {"not_offloaded", result.claimed_not_offloaded},
                                     {"per_path", per_path}};
        document["description_hints"] = result.description_hints;
    }
    return document;
}

void print_speed(const CheckOptions& options, const CheckResult& result) {
    std::cout << std::fixed << std::setprecision(0) << "\n"
              << result.cases_run << " cases in " << std::setprecision(2) << result.seconds << " s with "
              << options.jobs << " job(s): " << std::setprecision(0) << result.cases_per_second() << " cases/s\n"
              << "BPF_PROG_TEST_RUN on these frames: " << result.test_run_calls_per_second()
              << " calls/s per thread (a 62-byte frame in a loop: " << result.bare_calls_per_second << ")\n"
              << "ratio to the bare call rate: " << std::setprecision(2) << result.ratio_to_bare(options.jobs)
              << " per job"
              << (options.jobs > 1 ? ", " + format_ratio(result.ratio_to_bare(1)) + " for all jobs together" : "")
              << "\nwhere a case's time goes (per case, summed over jobs):";
    const char* separator = " ";
    for (const auto& [phase, ns] : time_per_case(result, options.jobs)) {
        std::cout << separator << phase << " " << std::setprecision(0) << ns << " ns";
        separator = ", ";
    }
    std::cout << " (" << result.cost.map_entries << " map entries written)\n";
    if (result.bare_calls_per_second > 0 && result.bare_calls_per_second_without_probes > 0)
        std::cout << "coverage probes: the bare call rate is " << result.bare_calls_per_second << " calls/s with them, "
                  << result.bare_calls_per_second_without_probes << " without ("
                  << 1e9 / result.bare_calls_per_second - 1e9 / result.bare_calls_per_second_without_probes
                  << " ns more per call)\n";
}

void print_failure(const CheckOptions& options, const CheckFailure& failure, const std::string& replay_options) {
    std::cout << "\nFAILED: property '" << failure.property << "' at case " << failure.case_index << " (seed "
              << options.seed << "), shrunk in " << failure.shrink_steps << " steps (" << failure.shrink_runs
              << " runs):\n";
    if (!failure.group.empty()) std::cout << "group: " << failure.group << "\n";
    if (failure.frames > 1)
        std::cout << "it passes alone and fails after " << failure.frames - 1
                  << " earlier frame(s) on the same program: state kept from one frame to the next. The "
                     "counterexample holds them all, in order; the failing frame is shown:\n";
    std::cout << failure.shown_case << failure.details << "\n";
    if (failure.saved)
        std::cout << "counterexample: " << failure.saved->pcap << "\n                " << failure.saved->json
                  << "\n                " << failure.saved->pcapng
                  << " (each frame with a comment: Wireshark's packet comments)"
                  << "\nreproduce: xdpturn replay " << failure.saved->pcap << " --bindings " << failure.saved->json
                  << replay_options << "\n";
    else
        std::cout << "(could not save the counterexample: " << failure.save_error << ")\n";
}

// The run as JUnit: a test case per property, one for the counters, and one
// per contract row's coverage (failing without hits only when required).
JUnitSuite result_junit(const CheckOptions& options, const CheckResult& result, bool require_coverage) {
    JUnitSuite suite{"xdpturn check",
                     {{"program", options.program.describe()},
                      {"seed", std::to_string(options.seed)},
                      {"cases", std::to_string(result.cases_run)},
                      {"jobs", std::to_string(options.jobs)}},
                     {}};
    for (Property property : {Property::agreement, Property::unchanged, Property::valid}) {
        JUnitCase test{"check.property", std::string(name(property)), result.seconds};
        if (result.failure && result.failure->property == name(property)) {
            const CheckFailure& failure = *result.failure;
            test.failure = "case " + std::to_string(failure.case_index) + " of seed " + std::to_string(options.seed);
            test.details = failure.shown_case + failure.details + "\n";
            if (failure.saved)
                test.details += "counterexample: " + failure.saved->pcap + " and " + failure.saved->json + "\n";
        }
        suite.cases.push_back(std::move(test));
    }
    for (std::size_t i = 0; result.conformance && i < conformance_count; ++i) {
        const auto conformance = static_cast<Conformance>(i);
        if (!is_defect(conformance, options.program.strict_checksums)) continue;
        JUnitCase test{"check.conformance", std::string(name(conformance))};
        for (const CheckFailure& defect : result.defects)
            if (defect.property == name(conformance)) {
                if (!test.failure)
                    test.failure = std::to_string(result.classes[i]) + " case(s); first: case " +
                                   std::to_string(defect.case_index) + " of seed " + std::to_string(options.seed);
                test.details += (defect.group.empty() ? "" : "group: " + defect.group + "\n") + defect.shown_case +
                                defect.details + "\n";
            }
        suite.cases.push_back(std::move(test));
    }
    JUnitCase counters{"check.counters", "reason counters equal the verdicts"};
    if (!result.counter_mismatch.empty())
        counters.failure = "counters differ", counters.details = result.counter_mismatch;
    suite.cases.push_back(std::move(counters));
    for (Reason reason : all_reasons) {
        JUnitCase row{"check.coverage", std::string(name(reason))};
        const bool hit = result.reference_reasons[reason] > 0 && result.xdp_reasons[reason] > 0;
        if (!reachable_through_test_run(reason))
            row.skipped = "not reachable through BPF_PROG_TEST_RUN";
        else if (!hit && require_coverage)
            row.failure = "no hits in " + std::to_string(result.cases_run) + " cases";
        else if (!hit)
            row.skipped = "no hits (coverage not required)";
        suite.cases.push_back(std::move(row));
    }
    for (std::size_t i = 0; i < boundary_count; ++i) {
        JUnitCase boundary{"check.boundaries", std::string(name(static_cast<Boundary>(i)))};
        if (result.boundary_hits[i] == 0 && require_coverage)
            boundary.failure = "no case in " + std::to_string(result.cases_run);
        else if (result.boundary_hits[i] == 0)
            boundary.skipped = "no case (coverage not required)";
        suite.cases.push_back(std::move(boundary));
    }
    return suite;
}

int print_outcome(const CheckOptions& options, const CheckResult& result, bool require_coverage,
                  const std::string& replay_options) {
    print_coverage(result);
    print_boundaries(result);
    int status = exit_equal;
    if (!result.counter_mismatch.empty()) {
        std::cout << "\nFAILED: the BPF reason counters do not match the verdicts:\n" << result.counter_mismatch;
        status = exit_disagreement;
    }
    const auto uncovered = result.uncovered_rows();
    if (!uncovered.empty()) {
        std::cout << "\n" << (require_coverage ? "FAILED" : "note") << ": contract rows without hits:";
        for (Reason reason : uncovered) std::cout << " " << name(reason);
        std::cout << "\n";
        if (require_coverage) status = exit_disagreement;
    }
    const auto unreached = result.uncovered_boundaries();
    if (!unreached.empty()) {
        std::cout << "\n" << (require_coverage ? "FAILED" : "note") << ": boundary classes without a case:";
        for (Boundary boundary : unreached) std::cout << " " << name(boundary);
        std::cout << "\n";
        if (require_coverage) status = exit_disagreement;
    }
    if (result.conformance) print_classes(result, options.program.strict_checksums);
    for (const CheckFailure& defect : result.defects) print_failure(options, defect, replay_options);
    if (!result.defects.empty()) {
        print_defect_groups(result);
        status = exit_disagreement;
    }
    if (result.failure) {
        print_failure(options, *result.failure, replay_options);
        status = exit_disagreement;
    } else if (result.defects.empty()) {
        std::cout << "\nall " << result.cases_run << " cases passed every property\n";
    }
    return status;
}

}  // namespace xdpturn::cli
