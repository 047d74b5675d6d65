// Replay reports of shards joined into the report of the whole run: counts
// summed; captures, per-capture tallies and disagreements in shard order.
// Each shard learned bindings from its own captures only, so the merged
// counts equal a single run's whenever no capture's bindings come from
// another capture (true of captures that each hold their own STUN traffic,
// as the bundled corpus does).
#include <set>
#include "harness/cli/replay_report.hpp"

#include "harness/io/bindings_json.hpp"

namespace xdpturn::cli {

namespace {

using Json = nlohmann::json;

void add_counts(const Json& from, std::map<std::string, std::uint64_t>& into) {
    for (const auto& [key, value] : from.items()) into[key] += value.get<std::uint64_t>();
}

// The settings every shard must share: program, relay configuration, modes.
Status same_campaign(const Json& first, const Json& shard) {
    for (const char* member : {"program", "relay", "modes"})
        if (shard.at(member) != first.at(member))
            return Error{std::string("the reports are not of one replay run: their \"") + member + "\" differ"};
    return ok_status();
}

Status read_settings(const Json& first, ReplayOptions& options) {
    auto relay = parse_bindings_json(Json{{"relay", first.at("relay")}}.dump());
    if (!relay) return Error{"the reports' \"relay\": " + relay.error().message};
    apply_relay_settings(*relay, options.config);
    const std::string program = first.at("program").get<std::string>();
    if (program != "built-in") options.program.object_path = program;
    options.learn = first.at("modes").at("learn").get<bool>();
    options.fix_checksums = first.at("modes").at("fix_checksums").get<bool>();
    options.live = first.at("modes").at("live").get<bool>();
    options.jobs = 0;
    options.keep_disagreements = 0;
    return ok_status();
}

void add_tallies(const Json& shard, ReplayResult& result) {
    result.frames_read += shard.at("frames_read").get<std::uint64_t>();
    result.compared += shard.at("frames_compared").get<std::uint64_t>();
    result.agreed += shard.at("agreements").get<std::uint64_t>();
    result.disagreed += shard.at("disagreements").get<std::uint64_t>();
    add_counts(shard.at("skipped"), result.skipped);
    add_counts(shard.at("udp_checksums"), result.udp_checksums);
    add_counts(shard.at("verdicts").at("reference"), result.reference_verdicts);
    add_counts(shard.at("verdicts").at("xdp"), result.xdp_verdicts);
    result.checksums_repaired += shard.at("checksums_repaired").get<std::uint64_t>();
    for (Reason reason : all_reasons) {
        const Json& row = shard.at("reasons").at(std::string(name(reason)));
        result.reference.add(reason, row.at("reference").get<std::uint64_t>());
        result.xdp.add(reason, row.at("xdp").get<std::uint64_t>());
    }
    const Json& oracle = shard.at("relay_output");
    result.oracle_expected += oracle.at("xdp_outputs").get<std::uint64_t>();
    result.oracle_matched += oracle.at("matched_in_capture").get<std::uint64_t>();
    result.oracle_dropped += oracle.at("expectations_dropped").get<std::uint64_t>();
    if (const auto live = shard.find("live"); live != shard.end()) {
        result.live_expected += live->at("expected_outputs").get<std::uint64_t>();
        result.live_matched += live->at("exact").get<std::uint64_t>();
        result.live_differed += live->at("different").get<std::uint64_t>();
        result.live_missing += live->at("missing").get<std::uint64_t>();
        result.live_given_up += live->at("not_checked").get<std::uint64_t>();
        result.live_in_flight += live->value("in_flight", std::uint64_t{0});
    }
    result.seconds = std::max(result.seconds, shard.at("timing").at("seconds").get<double>());
    result.peak_rss_kib = std::max(result.peak_rss_kib, shard.at("timing").at("peak_rss_kib").get<long>());
}

void add_lists(const Json& shard, ReplayOptions& options, ReplayResult& result) {
    for (const Json& capture : shard.at("captures")) options.captures.push_back(capture.get<std::string>());
    options.jobs += shard.at("timing").at("jobs").get<unsigned>();
    for (const Json& error : shard.at("input_errors")) result.input_errors.push_back(error.get<std::string>());
    for (const Json& shown : shard.at("first_disagreements")) {
        result.first_disagreements.push_back({shown.at("capture").get<std::string>(),
                                              shown.at("index").get<std::uint64_t>(),
                                              shown.at("diff").get<std::string>()});
        ++options.keep_disagreements;
    }
    for (const Json& seen : shard.at("link_types"))
        result.link_types.push_back({seen.at("capture").get<std::string>(), seen.at("link_type").get<std::string>(),
                                     seen.at("synthesised").get<std::string>()});
    for (const Json& capture : shard.at("per_capture"))
        result.per_capture.push_back(
            CaptureTally{capture.at("capture").get<std::string>(), capture.at("frames_read").get<std::uint64_t>(),
                         capture.at("compared").get<std::uint64_t>(), capture.at("disagreed").get<std::uint64_t>(),
                         capture.at("first_diff").get<std::string>(), capture.at("input_error").get<std::string>()});
    if (const auto learned = shard.find("learned"); learned != shard.end()) {
        result.learned.stun_messages += learned->at("stun_messages").get<std::uint64_t>();
        result.learned.malformed_stun += learned->at("malformed_stun").get<std::uint64_t>();
        result.learned.allocations += learned->at("allocations").get<std::uint64_t>();
        result.learned.channel_binds += learned->at("channel_binds").get<std::uint64_t>();
        result.learned.allocations_deleted += learned->at("allocations_deleted").get<std::uint64_t>();
        result.learned.allocations_expired += learned->at("allocations_expired").get<std::uint64_t>();
        result.learned.bindings_expired += learned->at("bindings_expired").get<std::uint64_t>();
        result.learned.without_allocation += learned->at("without_allocation").get<std::uint64_t>();
        result.learned.unmatched_responses += learned->at("unmatched_responses").get<std::uint64_t>();
        result.bindings_learned += learned->at("distinct_bindings").get<std::uint64_t>();
        if (auto live = parse_bindings_json(Json{{"bindings", learned->at("live_at_end")}}.dump()))
            result.final_table.insert(live->bindings.begin(), live->bindings.end());
    }
}

}  // namespace

Result<MergedReplay> merge_replay_reports(const std::vector<nlohmann::json>& shards) {
    MergedReplay merged;
    try {
        if (auto read = read_settings(shards.front(), merged.options); !read) return read.error();
        std::set<std::string> captures;
        for (const Json& shard : shards) {
            if (auto same = same_campaign(shards.front(), shard); !same) return same.error();
            // A capture in two reports would count twice (the same report given twice, say).
            for (const Json& capture : shard.at("captures"))
                if (!captures.insert(capture.get<std::string>()).second)
                    return Error{"capture '" + capture.get<std::string>() + "' is in two of the reports"};
            add_tallies(shard, merged.result);
            add_lists(shard, merged.options, merged.result);
        }
    } catch (const Json::exception& error) {
        return Error{std::string("a report lacks a field of xdpturn/replay/1: ") + error.what()};
    }
    return merged;
}

}  // namespace xdpturn::cli
