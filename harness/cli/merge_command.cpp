// `xdpturn merge`: the reports of the shards of one property campaign
// (`xdpturn check --shard K/N --report F`), joined into the report of the
// whole run: tallies summed, the coverage gate over the summed counts, the
// failure with the lowest case index (the one the whole run would shrink and
// save), and the same JSON and JUnit reports `check` writes. Reports of
// replay shards (`xdpturn replay --shard K/N --report F`) merge the same way
// into what `replay` prints and writes (replay_merge.cpp).
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>

#include "harness/cli/check_report.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/cli/replay_report.hpp"
#include "harness/io/strict_json.hpp"
#include "relay/net/file_input.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* check_schema = "xdpturn/check/1";
constexpr const char* replay_schema = "xdpturn/replay/1";

Result<nlohmann::json> read_report(const std::string& path) {
    auto parsed = read_json_strictly(path, "report", report_file_limit);
    if (!parsed) return parsed.error();
    nlohmann::json document = std::move(parsed).value();
    if (!document.is_object()) return Error{"'" + path + "' is not a JSON object"};
    const std::string schema = document.value("schema", "");
    if (schema != check_schema && schema != replay_schema)
        return Error{"'" + path + "' is not a report of `xdpturn check` or `xdpturn replay` (schema " +
                     std::string(check_schema) + " or " + replay_schema + ")"};
    return document;
}

// Counts are whole numbers, never negative: nlohmann reads -1 as 2^64 - 1
// into an unsigned, and a doubled or forged count would pass as a sum.
Status counts_are_whole(const nlohmann::json& value, const std::string& where) {
    if (value.is_number_integer() && !value.is_number_unsigned())
        return Error{where + " is negative (" + value.dump() + ")"};
    if (value.is_number_float() && !(value.get<double>() >= 0 && value.get<double>() < 1e15))
        return Error{where + " is out of range (" + value.dump() + ")"};
    if (value.is_object())
        for (const auto& [key, member] : value.items())
            if (auto checked = counts_are_whole(member, where + "." + key); !checked) return checked;
    if (value.is_array())
        for (std::size_t i = 0; i < value.size(); ++i)
            if (auto checked = counts_are_whole(value[i], where + "[" + std::to_string(i) + "]"); !checked)
                return checked;
    return ok_status();
}

// What a report of one shard can hold: the members its command writes,
// its index within its count, no more cases run than asked, no more frames
// compared than read.
Status plausible(const nlohmann::json& report, const std::string& path) {
    if (auto whole = counts_are_whole(report, "'" + path + "': "); !whole) return whole;
    const bool check = report.at("schema") == check_schema;
    const Status known = check ? only_members(report,
                                              {"schema",
                                               "program",
                                               "target",
                                               "target_object",
                                               "oracle",
                                               "seed",
                                               "cases_requested",
                                               "shard",
                                               "cases_run",
                                               "jobs",
                                               "seconds",
                                               "cases_per_second",
                                               "test_run_calls_per_second",
                                               "bare_loop_calls_per_second",
                                               "bare_loop_calls_per_second_without_probes",
                                               "ratio_to_bare_rate_per_job",
                                               "ratio_to_bare_rate_all_jobs",
                                               "seconds_in_test_run",
                                               "seconds_in_map_updates",
                                               "map_entries_changed",
                                               "nanoseconds_per_case",
                                               "coverage",
                                               "uncovered_rows",
                                               "variations",
                                               "boundaries",
                                               "uncovered_boundaries",
                                               "counter_mismatch",
                                               "counters_match_verdicts",
                                               "failure",
                                               "classes",
                                               "defect_groups",
                                               "description_hints",
                                               "defects",
                                               "claimed_paths",
                                               "source_coverage",
                                               "merged_from"},
                                              "'" + path + "'")
                               : only_members(report, {"schema",          "captures",      "modes",
                                                       "per_capture",     "program",       "oracle",
                                                       "relay",           "bindings",      "frames_read",
                                                       "frames_compared", "skipped",       "input_errors",
                                                       "reasons",         "classes",       "verdicts",
                                                       "agreements",      "disagreements", "first_disagreements",
                                                       "link_types",      "udp_checksums", "checksums_repaired",
                                                       "relay_output",    "learned",       "live",
                                                       "timing",          "per_packet",    "source_coverage",
                                                       "merged_from"},
                                              "'" + path + "'");
    if (!known) return known;
    if (check) {
        const std::uint64_t index = report.at("shard").at("index").get<std::uint64_t>();
        const std::uint64_t count = report.at("shard").at("count").get<std::uint64_t>();
        if (count == 0 || count > 4096 || index == 0 || index > count)
            return Error{"'" + path + "': shard " + std::to_string(index) + " of " + std::to_string(count) +
                         " is not a shard (1 <= K <= N <= 4096)"};
        if (report.at("cases_run").get<std::uint64_t>() > report.at("cases_requested").get<std::uint64_t>())
            return Error{"'" + path + "': more cases run than requested"};
    } else if (report.at("frames_compared").get<std::uint64_t>() > report.at("frames_read").get<std::uint64_t>() ||
               report.at("agreements").get<std::uint64_t>() + report.at("disagreements").get<std::uint64_t>() !=
                   report.at("frames_compared").get<std::uint64_t>()) {
        return Error{"'" + path + "': its frame counts do not add up"};
    }
    return ok_status();
}

std::optional<CheckFailure> failure_of(const nlohmann::json& failure) {
    if (!failure.is_object()) return std::nullopt;
    CheckFailure found;
    found.case_index = failure.at("case_index").get<std::uint64_t>();
    found.property = failure.at("property").get<std::string>();
    found.details = failure.at("details").get<std::string>();
    found.shown_case = failure.at("case").get<std::string>();
    found.shrink_steps = failure.at("shrink_steps").get<std::uint64_t>();
    found.shrink_runs = failure.at("shrink_runs").get<std::uint64_t>();
    found.frames = failure.value("frames", std::uint64_t{1});
    found.group = failure.value("group", std::string{});
    if (!failure.at("pcap").get<std::string>().empty())
        found.saved =
            CounterexamplePaths{failure.at("pcap").get<std::string>(), failure.at("bindings").get<std::string>(),
                                failure.value("pcapng", std::string{})};
    return found;
}

// Under the conformance oracle: the classes, overall and per row, the
// claimed paths, and each defect class's first case over all shards.
void add_conformance(const nlohmann::json& shard, CheckResult& merged) {
    merged.conformance = true;
    for (std::size_t i = 0; i < conformance_count; ++i) {
        const std::string class_name(name(static_cast<Conformance>(i)));
        merged.classes[i] += shard.at("classes").value(class_name, std::uint64_t{0});
        for (Reason reason : all_reasons) {
            const nlohmann::json& row = shard.at("coverage").at(std::string(name(reason)));
            merged.classes_by_row[static_cast<std::size_t>(reason)][i] +=
                row.value("classes", nlohmann::json::object()).value(class_name, std::uint64_t{0});
        }
    }
    const nlohmann::json groups = shard.value("defect_groups", nlohmann::json::object());
    for (const auto& [group, cases] : groups.items()) merged.defect_groups[group] += cases.get<std::uint64_t>();
    merged.claimed_relayable += shard.at("claimed_paths").at("relayed_by_reference").get<std::uint64_t>();
    merged.claimed_not_offloaded += shard.at("claimed_paths").at("not_offloaded").get<std::uint64_t>();
    const nlohmann::json per_path = shard.at("claimed_paths").value("per_path", nlohmann::json::object());
    for (std::size_t path = 0; path < claimable_paths; ++path)
        if (per_path.contains(path_name(path))) {
            merged.paths[path].relayed += per_path[path_name(path)].at("relayed_by_reference").get<std::uint64_t>();
            merged.paths[path].not_offloaded += per_path[path_name(path)].at("not_offloaded").get<std::uint64_t>();
        }
    for (const nlohmann::json& defect : shard.at("defects")) {
        std::optional<CheckFailure> found = failure_of(defect);
        if (!found) continue;
        auto same = std::find_if(merged.defects.begin(), merged.defects.end(), [&](const CheckFailure& known) {
            return known.property == found->property && known.group == found->group;
        });
        if (same == merged.defects.end())
            merged.defects.push_back(std::move(*found));
        else if (found->case_index < same->case_index)
            *same = std::move(*found);
    }
}

// Adds one shard's report to the merged result.
void add_shard(const nlohmann::json& shard, CheckResult& merged) {
    merged.cases_run += shard.at("cases_run").get<std::uint64_t>();
    merged.seconds = std::max(merged.seconds, shard.at("seconds").get<double>());
    merged.cost.test_run_ns += static_cast<std::uint64_t>(shard.at("seconds_in_test_run").get<double>() * 1e9);
    merged.cost.test_runs += static_cast<std::uint64_t>(shard.at("seconds_in_test_run").get<double>() *
                                                        shard.at("test_run_calls_per_second").get<double>());
    merged.cost.map_ns += static_cast<std::uint64_t>(shard.at("seconds_in_map_updates").get<double>() * 1e9);
    merged.cost.map_entries += shard.at("map_entries_changed").get<std::uint64_t>();
    // The phases outside the kernel, per case in the report: back to totals.
    const auto cases = static_cast<double>(shard.at("cases_run").get<std::uint64_t>());
    const nlohmann::json& phases = shard.value("nanoseconds_per_case", nlohmann::json::object());
    auto phase = [&](const char* name) { return static_cast<std::uint64_t>(phases.value(name, 0.0) * cases); };
    merged.cost.generate_ns += phase("generating");
    merged.cost.build_ns += phase("building frames");
    merged.cost.reference_ns += phase("reference model");
    merged.cost.classify_ns += phase("classifying");
    merged.cost.load_ns += phase("loading programs");
    merged.bare_calls_per_second =
        std::max(merged.bare_calls_per_second, shard.at("bare_loop_calls_per_second").get<double>());
    for (Reason reason : all_reasons) {
        const auto& row = shard.at("coverage").at(std::string(name(reason)));
        merged.reference_reasons.add(reason, row.at("reference").get<std::uint64_t>());
        merged.xdp_reasons.add(reason, row.at("xdp").get<std::uint64_t>());
    }
    for (std::size_t i = 0; i < variation_count; ++i)
        merged.variation_hits[i] += shard.at("variations").value(std::string(name(static_cast<Variation>(i))), 0ull);
    for (std::size_t i = 0; i < boundary_count; ++i)
        merged.boundary_hits[i] += shard.at("boundaries").value(std::string(name(static_cast<Boundary>(i))), 0ull);
    merged.counter_mismatch += shard.at("counter_mismatch").get<std::string>();
    if (shard.at("oracle") == "conformance") add_conformance(shard, merged);
    auto failure = failure_of(shard.at("failure"));
    if (failure && (!merged.failure || failure->case_index < merged.failure->case_index)) merged.failure = failure;
}

// What a merged counterexample's replay needs: the target's description
// (the shards name it) or the object.
std::string replay_options_of(const nlohmann::json& shard) {
    const std::string program = shard.at("program").get<std::string>();
    if (shard.contains("target"))
        return " --target " + shard.at("target").get<std::string>() +
               (shard.contains("target_object") ? " --object " + shard.at("target_object").get<std::string>() : "");
    return program == "built-in" ? "" : " --object " + program;
}

// The shards must be of one campaign, each exactly once.
Result<CheckOptions> campaign_of(const std::vector<nlohmann::json>& shards) {
    const nlohmann::json& first = shards.front();
    CheckOptions options;
    options.seed = first.at("seed").get<std::uint64_t>();
    options.cases = first.at("cases_requested").get<std::uint64_t>();
    const std::string program = first.at("program").get<std::string>();
    if (program != "built-in") options.program.object_path = program;
    const std::uint64_t count = first.at("shard").at("count").get<std::uint64_t>();
    std::set<std::uint64_t> seen;
    options.jobs = 0;
    for (const nlohmann::json& shard : shards) {
        if (shard.at("seed") != first.at("seed") || shard.at("cases_requested") != first.at("cases_requested") ||
            shard.at("program") != first.at("program") || shard.at("shard").at("count") != count)
            return Error{"the reports are not of one campaign (seed, cases, program and shard count must agree)"};
        if (!seen.insert(shard.at("shard").at("index").get<std::uint64_t>()).second)
            return Error{"shard " + shard.at("shard").at("index").dump() + " is given twice"};
        options.jobs += shard.at("jobs").get<unsigned>();
    }
    if (seen.size() != count)
        return Error{"only " + std::to_string(seen.size()) + " of the " + std::to_string(count) + " shards are given"};
    return options;
}

int merge_replays(const std::vector<nlohmann::json>& shards, const std::vector<std::string>& inputs,
                  const std::string& report, const std::string& junit) {
    auto merged = merge_replay_reports(shards);
    if (!merged) {
        std::cerr << "xdpturn merge: " << merged.error().message << "\n";
        return exit_usage;
    }
    std::cout << "xdpturn merge: " << shards.size() << " replay reports, " << merged->options.captures.size()
              << " captures\n";
    print_replay(merged->options, merged->result);
    nlohmann::json document = replay_report(merged->options, merged->result);
    document["merged_from"] = inputs;
    if (!report.empty() && !write_report("replay", report, document)) return exit_usage;
    if (!junit.empty() && !write_junit_report("merge", junit, {replay_junit(merged->options, merged->result)}))
        return exit_usage;
    return replay_exit_status(merged->result);
}

}  // namespace

int merge_command(int argc, char** argv) {
    po::options_description description(
        "xdpturn merge: the shards of a property campaign, or of a replay, as one run\n\noptions");
    std::vector<std::string> inputs;
    std::string report, junit;
    description.add_options()("help,h", "show this help")("report", po::value(&report), "write the merged JSON report")(
        "junit", po::value(&junit), "write the merged JUnit XML report")(
        "require-coverage", "fail (exit 1) when a reachable contract row got no hits in the merged counts");
    po::options_description hidden;
    hidden.add_options()("input", po::value(&inputs));
    po::positional_options_description positional;
    positional.add("input", -1);
    const auto parsed = parse_options("merge", argc, argv, description, &positional, &hidden);
    if (!parsed) return exit_usage;
    if (parsed->count("help") || inputs.empty()) {
        (inputs.empty() && !parsed->count("help") ? std::cerr : std::cout)
            << "usage: xdpturn merge SHARD-REPORT.json... [options]\n\n"
            << description;
        return parsed->count("help") ? exit_equal : exit_usage;
    }
    if (!outputs_are_safe("merge", {inputs, {report, junit}, {}})) return exit_usage;
    std::vector<nlohmann::json> shards;
    for (const std::string& path : inputs) {
        auto document = read_report(path);
        if (!document) {
            std::cerr << "xdpturn merge: " << document.error().message << "\n";
            return exit_usage;
        }
        Status checked = ok_status();
        try {
            checked = plausible(*document, path);
        } catch (const nlohmann::json::exception& error) {
            checked = Error{"'" + path + "' lacks a member of its schema: " + error.what()};
        }
        if (!checked) {
            std::cerr << "xdpturn merge: " << checked.error().message << "\n";
            return exit_usage;
        }
        shards.push_back(std::move(document).value());
    }
    for (const nlohmann::json& shard : shards)
        if (shard.at("schema") != shards.front().at("schema")) {
            std::cerr << "xdpturn merge: the reports are not all of one command (check or replay)\n";
            return exit_usage;
        }
    if (shards.front().at("schema") == replay_schema) return merge_replays(shards, inputs, report, junit);
    CheckResult merged;
    Result<CheckOptions> options = Error{""};
    try {
        options = campaign_of(shards);
        if (options)
            for (const nlohmann::json& shard : shards) add_shard(shard, merged);
        // In the order the single run lists them: by group.
        std::sort(merged.defects.begin(), merged.defects.end(),
                  [](const CheckFailure& a, const CheckFailure& b) { return a.group < b.group; });
    } catch (const nlohmann::json::exception& error) {
        options = Error{std::string("a report lacks a field of xdpturn/check/1: ") + error.what()};
    }
    if (!options) {
        std::cerr << "xdpturn merge: " << options.error().message << "\n";
        return exit_usage;
    }
    std::cout << "xdpturn merge: " << shards.size() << " shards of " << options->cases << " cases, seed "
              << options->seed << "\n";
    const int status =
        print_outcome(*options, merged, parsed->count("require-coverage") > 0, replay_options_of(shards.front()));
    nlohmann::json document = result_json(*options, merged);
    document["merged_from"] = inputs;
    if (!report.empty() && !write_report("check", report, document)) return exit_usage;
    if (!junit.empty() &&
        !write_junit_report("merge", junit, {result_junit(*options, merged, parsed->count("require-coverage") > 0)}))
        return exit_usage;
    return status;
}

}  // namespace xdpturn::cli
