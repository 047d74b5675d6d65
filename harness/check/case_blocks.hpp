// How a property run lays its cases out. Case i is generated from (seed, i)
// alone. Cases run in blocks of consecutive indices and one job runs a whole
// block, so what a case meets depends on (seed, index) alone, never on the
// number of jobs. One block in `isolated_one_in` runs every case on exactly
// its own table (empty tables, exact near misses); the others share one
// table per block: the background plus the block's layer.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
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

// A binding table that cases are laid over one after another. A table may
// never bind one peer on one allocation to two channels (RFC 8656 Section
// 12; the map sync refuses it), yet two cases of a block can each bind the
// same peer key to a client of their own: the case being laid wins, and the
// entry it displaces goes, as when a relay's binding expires and the peer is
// bound anew.
class LaidTable {
  public:
    explicit LaidTable(BindingTable table);

    // Lays `entries` over the table; returns the entries they displaced.
    BindingTable lay(const BindingTable& entries);
    // The key holding this peer key, if any.
    const BindingKey* owner(const PeerKey& peer) const;
    const BindingTable& table() const { return table_; }

  private:
    BindingTable table_;
    std::unordered_map<PeerKey, BindingKey, PeerKeyHash> owners_;
};

// How a shared block runs. Each configuration's map starts the block as the
// background plus its layer: the union of the block's case tables less the
// background, the first case to name a key (or a peer key) giving its
// value. Each case is then laid over the map in turn; `displaced[k]` is what
// case k's entries displace when it runs.
using LayerByConfig = std::map<DatapathConfig, BindingTable, DatapathConfigLess>;
struct BlockPlan {
    LayerByConfig layers;
    std::vector<BindingTable> displaced;
};
BlockPlan plan_block(const std::vector<GeneratedCase>& cases);

// The background with a layer on top: what a shared map holds as its block
// starts.
BindingTable with_layer(const BindingTable& layer);

// The table case `index` met: empty in an isolated block (the case's own
// entries go on top); in a shared one the background and the block's layer
// with the entries of the earlier cases laid over it.
BindingTable table_met_by(std::uint64_t seed, std::uint64_t index, std::uint64_t total_cases);

}  // namespace xdpturn
