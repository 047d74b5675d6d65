// What `xdpturn check` prints and writes about a property run, shared with
// `xdpturn merge`, which reports merged shards the same way.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "harness/check/check_run.hpp"
#include "harness/io/junit.hpp"

namespace xdpturn::cli {

nlohmann::json result_json(const CheckOptions& options, const CheckResult& result);
JUnitSuite result_junit(const CheckOptions& options, const CheckResult& result, bool require_coverage);
void print_speed(const CheckOptions& options, const CheckResult& result);
// `replay_options`: what the printed replay command needs besides the
// counterexample (" --object FILE", " --target FILE.json ...").
void print_failure(const CheckOptions& options, const CheckFailure& failure, const std::string& replay_options);
// The coverage table, the counters, the uncovered rows, the conformance
// classes and the failure or defects; returns the exit status they call for.
int print_outcome(const CheckOptions& options, const CheckResult& result, bool require_coverage,
                  const std::string& replay_options);

}  // namespace xdpturn::cli
