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
// defect class; none: to any failure. `counters`: CounterCheck::exact for a
// case the run found by its counters alone (every candidate's counters are
// then checked, which costs two reads of them per frame).
Result<CheckFailure> shrink_and_save(const CheckOptions& options, std::uint64_t case_index,
                                     std::optional<Conformance> defect = std::nullopt,
                                     CounterCheck counters = CounterCheck::last_reason_only);

}  // namespace xdpturn
