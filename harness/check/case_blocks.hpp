// How a property run lays its cases out. Case i is generated from (seed, i)
// alone. Cases run in blocks of consecutive indices and one job runs a whole
// block, so what a case meets depends on (seed, index) alone, never on the
// number of jobs. One block in `isolated_one_in` runs every case on exactly
// its own table (empty tables, exact near misses); the others share one
// table per block: the background plus the block's layer.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "harness/check/generators.hpp"

namespace xdpturn {

inline constexpr std::uint64_t block_cases = 64;
inline constexpr std::uint64_t isolated_one_in = 8;

// The choices of case `index` in a run with `seed`.
std::vector<std::uint32_t> case_choices(std::uint64_t seed, std::uint64_t index);

bool block_isolated(std::uint64_t seed, std::uint64_t block);

// The cases of one block, the last block cut at `total_cases`.
std::vector<GeneratedCase> block_of(std::uint64_t seed, std::uint64_t block, std::uint64_t total_cases);

// A shared block's layer per configuration: the union of the block's case
// tables less the background, the first case to name a key giving its value.
// (A later case naming the same key with another value lays its own over it
// when it runs.)
using LayerByConfig = std::map<DatapathConfig, BindingTable, DatapathConfigLess>;
LayerByConfig block_layers(const std::vector<GeneratedCase>& cases);

// The table case `index` met: empty in an isolated block (the case's own
// entries go on top); in a shared one the background and the block's layer
// with the entries of the earlier cases laid over it.
BindingTable table_met_by(std::uint64_t seed, std::uint64_t index, std::uint64_t total_cases);

}  // namespace xdpturn
