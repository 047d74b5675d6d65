#include "harness/check/case_blocks.hpp"

#include <algorithm>

#include "relay/net/splitmix.hpp"

namespace xdpturn {

namespace {

// The run's configurations: a block takes row (block mod 16) of its seed's
// pool, so two jobs (even and odd blocks) each load half of them.
const std::vector<std::uint32_t>& block_config(std::uint64_t seed, std::uint64_t block) {
    thread_local std::uint64_t pool_seed = 0;
    thread_local std::vector<std::vector<std::uint32_t>> pool;
    if (pool.empty() || pool_seed != seed) {
        pool = config_pool(seed);
        pool_seed = seed;
    }
    return pool[block % pool.size()];
}

}  // namespace

std::vector<std::uint32_t> case_choices(std::uint64_t seed, std::uint64_t index) {
    std::vector<std::uint32_t> choices = random_choices(splitmix64_mix(seed ^ splitmix64_mix(index)));
    const std::vector<std::uint32_t>& config = block_config(seed, index / block_cases);
    std::copy(config.begin(), config.end(), choices.begin());
    return choices;
}

bool block_isolated(std::uint64_t seed, std::uint64_t block) {
    return splitmix64_mix(seed ^ splitmix64_mix(block ^ 0xB10C0000B10Cull)) % isolated_one_in == 0;
}

std::vector<GeneratedCase> block_of(std::uint64_t seed, std::uint64_t block, std::uint64_t total_cases) {
    std::vector<GeneratedCase> cases;
    for (std::uint64_t i = block * block_cases; i < std::min((block + 1) * block_cases, total_cases); ++i)
        cases.push_back(interpret_choices(case_choices(seed, i)));
    return cases;
}

LaidTable::LaidTable(BindingTable table) : table_(std::move(table)) {
    for (const auto& [key, target] : table_) owners_.insert_or_assign(peer_key_of(target), key);
}

const BindingKey* LaidTable::owner(const PeerKey& peer) const {
    const auto found = owners_.find(peer);
    return found == owners_.end() ? nullptr : &found->second;
}

BindingTable LaidTable::lay(const BindingTable& entries) {
    // The entries' keys give up the peer keys they held, so that an entry
    // moving to a new peer frees its old one.
    for (const auto& [key, target] : entries)
        if (const auto old = table_.find(key); old != table_.end()) {
            const auto held = owners_.find(peer_key_of(old->second));
            if (held != owners_.end() && held->second == key) owners_.erase(held);
        }
    BindingTable displaced;
    for (const auto& [key, target] : entries) {
        const PeerKey peer = peer_key_of(target);
        if (const auto held = owners_.find(peer); held != owners_.end() && !entries.contains(held->second)) {
            displaced.insert(*table_.find(held->second));
            table_.erase(held->second);
        }
        table_.insert_or_assign(key, target);
        owners_.insert_or_assign(peer, key);
    }
    return displaced;
}

BindingTable with_layer(const BindingTable& layer) {
    BindingTable table = background_bindings();
    table.insert(layer.begin(), layer.end());
    return table;
}

BlockPlan plan_block(const std::vector<GeneratedCase>& cases) {
    BlockPlan plan;
    std::map<DatapathConfig, LaidTable, DatapathConfigLess> starts;
    for (const GeneratedCase& c : cases) {
        LaidTable& start = starts.try_emplace(c.config, background_bindings()).first->second;
        BindingTable& layer = plan.layers[c.config];
        for (const auto& entry : c.bindings) {
            if (start.table().contains(entry.first) || start.owner(peer_key_of(entry.second)) != nullptr) continue;
            layer.insert(entry);
            start.lay({entry});
        }
    }
    for (const GeneratedCase& c : cases) plan.displaced.push_back(starts.at(c.config).lay(c.bindings));
    return plan;
}

BindingTable table_met_by(std::uint64_t seed, std::uint64_t index, std::uint64_t total_cases) {
    const std::uint64_t block = index / block_cases;
    if (block_isolated(seed, block)) return {};
    const std::vector<GeneratedCase> cases = block_of(seed, block, total_cases);
    const DatapathConfig& config = cases[index % block_cases].config;
    LaidTable table(with_layer(plan_block(cases).layers.at(config)));
    for (std::uint64_t k = 0; k < index % block_cases; ++k)
        if (cases[k].config == config) table.lay(cases[k].bindings);
    return table.table();
}

}  // namespace xdpturn
