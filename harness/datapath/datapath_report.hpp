// The benchmark's report from each relay's run: a table for people, one
// JSON document, and a plot (gnuplot) of delivered against offered packets
// per second and of delay, with the offload's ratios to the user-space
// relay and to coturn, measured in the same run.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "relay/net/result.hpp"

namespace xdpturn::datapath {

// The relays' runs (run_load's JSON) with a summary per relay and the
// ratios. "integrity_failures" counts datagrams delivered wrong (corrupt,
// duplicated, on another flow): any is a defect the command reports.
Result<nlohmann::json> summarise(const std::vector<nlohmann::json>& runs);

void print_table(std::ostream& out, const nlohmann::json& report);

// Writes the plot's data and script beside `png` and runs gnuplot; the
// titles begin with `heading` when there is one.
Status plot(const nlohmann::json& report, const std::string& png, const std::string& heading);

}  // namespace xdpturn::datapath
