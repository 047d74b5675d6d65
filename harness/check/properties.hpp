// The properties every generated case must satisfy, checked in one place for
// the RapidCheck tests and `xdpturn check`:
//   agreement  both engines give the same verdict and reason, and the same bytes;
//   unchanged  an XDP_PASS leaves the frame byte-identical to the input;
//   valid      every XDP_TX output is a valid frame on its own (frame_validator).
// The fourth, that the reason counters moved as the verdicts say, is checked
// over whole runs (counter totals against the verdict tally).
#pragma once

#include <optional>
#include <string>

#include "harness/check/generators.hpp"
#include "harness/compare/differential.hpp"

namespace xdpturn {

struct PropertyFailure {
    std::string property;  // "agreement", "unchanged", "valid", or "harness"
    std::string details;
};

// How the case's binding table reaches the map.
enum class TableMode {
    exact,     // the map holds exactly the case's table
    overlaid,  // the case's entries are laid over what the map holds
};

std::optional<PropertyFailure> check_properties(DifferentialEngine& engine, const GeneratedCase& c,
                                                const std::vector<std::uint8_t>& frame, Comparison& comparison,
                                                TableMode mode = TableMode::exact);

}  // namespace xdpturn
