// --coverage FILE on the verifying commands (cases, check, replay): the XDP
// program's source coverage, written as an lcov tracefile when the command
// ends and summed up in its JSON report (docs/coverage.md).
#pragma once

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace xdpturn::cli {

void add_coverage_option(boost::program_options::options_description& options, std::string& path);

// Starts the recorder when `path` is set, before any program is loaded;
// prints why it cannot and returns false.
bool start_coverage(const std::string& command, const std::string& path);

// The coverage so far, for a JSON report; null when --coverage is not given.
nlohmann::json coverage_summary();

// Called with the command's exit status when it ends: writes the tracefile
// and prints the totals. A file that cannot be written makes the status 2.
int finish_coverage(int status);

}  // namespace xdpturn::cli
