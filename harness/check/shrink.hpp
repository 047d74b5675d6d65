// Shrinks the failing case of a property run and saves it. The case is
// shrunk through RapidCheck's shrink tree one step at a time (the first
// smaller case that still fails, until none does); then the table it met is
// shrunk: first to nothing, else to the entries of the frame's own client.
#pragma once

#include <cstdint>
#include <optional>

#include "harness/check/check_run.hpp"

namespace xdpturn {

// `defect`: under the conformance oracle, shrink only to cases of that very
// defect group (class, row and differing fields); none: to any failure. `counters`: CounterCheck::exact for a
// case the run found by its counters alone (every candidate's counters are
// then checked, which costs two reads of them per frame).
Result<CheckFailure> shrink_and_save(const CheckOptions& options, std::uint64_t case_index,
                                     std::optional<DefectGroup> defect = std::nullopt,
                                     CounterCheck counters = CounterCheck::last_reason_only);
// The same on an engine of the caller's: the defect groups of one run share
// one, so that each group does not load (and, for a target that looks
// routes up, set up a namespace for) its programs again.
Result<CheckFailure> shrink_and_save(const CheckOptions& options, std::uint64_t case_index,
                                     std::optional<DefectGroup> defect, DifferentialEngine& engine);

}  // namespace xdpturn
