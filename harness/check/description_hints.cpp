#include "harness/check/description_hints.hpp"

#include <unistd.h>

#include <filesystem>
#include <memory>

#include "harness/foreign/target_description.hpp"

namespace xdpturn {

namespace {

// A short run: enough frames on every claimed path to tell "none" from
// "most" (tens of them), few enough blocks that it loads only ten of the
// sixteen configurations, so that trying a dozen fields takes seconds.
constexpr std::uint64_t trial_cases = 640;

struct Offloaded {
    std::uint64_t taken = 0;
    std::uint64_t relayed = 0;
};

Offloaded on_paths(const CheckTally& tally, const std::vector<std::size_t>& paths) {
    Offloaded sum;
    for (std::size_t path : paths) {
        sum.relayed += tally.paths[path].relayed;
        sum.taken += tally.paths[path].relayed - tally.paths[path].not_offloaded;
    }
    return sum;
}

// Where a field sits, for the hint: "turn_server_upstream_map key client.port (offset 8)".
std::string field_place(const EntryLayout& entry, bool key, const FieldLayout& field) {
    return entry.map + " " + (key ? "key " : "value ") + std::string(name(field.source)) + " (offset " +
           std::to_string(field.offset) + ", " + std::to_string(field.size) + " bytes)";
}

// The run of the same seed with one field's byte order flipped.
Result<Offloaded> trial(const CheckOptions& options, const TargetDescription& changed,
                        const std::vector<std::size_t>& paths, const std::string& scratch) {
    CheckOptions trial_options = options;
    trial_options.cases = std::min(options.cases, trial_cases);
    trial_options.shrink = false;
    trial_options.progress = false;
    trial_options.description_hints = false;
    trial_options.shard = 0;
    trial_options.shards = 1;
    trial_options.counterexample_dir = scratch;
    trial_options.program.target = std::make_shared<const TargetDescription>(changed);
    auto result = run_check(trial_options);
    if (!result) return result.error();
    return on_paths(*result, paths);
}

}  // namespace

std::vector<std::size_t> paths_left_to_user_space(const CheckTally& tally) {
    std::vector<std::size_t> left;
    for (std::size_t path = 0; path < claimable_paths; ++path) {
        const PathTally& counted = tally.paths[path];
        if (counted.relayed > 0 && (counted.relayed - counted.not_offloaded) * 10 < counted.relayed)
            left.push_back(path);
    }
    return left;
}

Status for_each_flipped_field(const TargetDescription& description, const FlippedField& visit) {
    for (auto maps : {&TargetDescription::config_maps, &TargetDescription::binding_maps})
        for (std::size_t e = 0; e < (description.*maps).size(); ++e)
            for (bool key : {true, false}) {
                const EntryLayout& entry = (description.*maps)[e];
                const auto& fields = key ? entry.key : entry.value;
                for (std::size_t f = 0; f < fields.size(); ++f) {
                    if (fields[f].source == FieldSource::constant || fields[f].size < 2) continue;
                    TargetDescription changed = description;
                    auto& field = (key ? (changed.*maps)[e].key : (changed.*maps)[e].value)[f];
                    field.order = field.order == ByteOrder::network ? ByteOrder::host : ByteOrder::network;
                    const char* order = field.order == ByteOrder::host ? "host" : "network";
                    if (auto visited = visit(changed, field_place(entry, key, fields[f]), order); !visited)
                        return visited;
                }
            }
    return ok_status();
}

Result<std::vector<std::string>> byte_order_hints(const CheckOptions& options, const CheckResult& result) {
    std::vector<std::string> hints;
    const std::vector<std::size_t> paths = paths_left_to_user_space(result);
    if (!options.program.target || paths.empty()) return hints;
    const std::string scratch =
        (std::filesystem::temp_directory_path() / ("xdpturn-hints-" + std::to_string(getpid()))).string();
    const Status tried_all = for_each_flipped_field(
        *options.program.target, [&](const TargetDescription& changed, const std::string& place, const char* order) {
            auto tried = trial(options, changed, paths, scratch);
            if (!tried) return Status{tried.error()};
            if (tried->relayed > 0 && tried->taken * 2 >= tried->relayed)
                hints.push_back(place + " read in " + order + " byte order, the target offloads " +
                                std::to_string(tried->taken) + " of " + std::to_string(tried->relayed) +
                                " frames on those paths (a 640-case run): the description's byte order for it is "
                                "likely wrong");
            return ok_status();
        });
    std::filesystem::remove_all(scratch);
    if (!tried_all) return tried_all.error();
    return hints;
}

}  // namespace xdpturn
