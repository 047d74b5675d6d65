// What `xdpturn replay` prints and writes about a replay run; `xdpturn bench
// --replay-megabytes` reports its replay the same way.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/io/junit.hpp"
#include "harness/replay/replay_run.hpp"

namespace xdpturn::cli {

void print_replay(const ReplayOptions& options, const ReplayResult& result);
nlohmann::json replay_report(const ReplayOptions& options, const ReplayResult& result);
// A JUnit test case per capture: failed on a disagreement (with its first
// diff) or an input error.
JUnitSuite replay_junit(const ReplayOptions& options, const ReplayResult& result);
// The exit status the run deserves: 1 on a disagreement, else 2 on an input
// error, else 0.
int replay_exit_status(const ReplayResult& result);

// `xdpturn merge` of replay reports (`replay --shard K/N --report F`): the
// options and result of the whole run, as far as the reports tell them.
struct MergedReplay {
    ReplayOptions options;
    ReplayResult result;
};
Result<MergedReplay> merge_replay_reports(const std::vector<nlohmann::json>& shards);

}  // namespace xdpturn::cli
