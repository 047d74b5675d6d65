#include "harness/check/case_blocks.hpp"

#include <algorithm>

#include "relay/net/splitmix.hpp"

namespace xdpturn {

std::vector<std::uint32_t> case_choices(std::uint64_t seed, std::uint64_t index) {
    return random_choices(splitmix64_mix(seed ^ splitmix64_mix(index)));
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

LayerByConfig block_layers(const std::vector<GeneratedCase>& cases) {
    const BindingTable& background = background_bindings();
    LayerByConfig layers;
    for (const GeneratedCase& c : cases) {
        BindingTable& layer = layers[c.config];
        for (const auto& entry : c.bindings)
            if (!background.contains(entry.first)) layer.insert(entry);
    }
    return layers;
}

BindingTable table_met_by(std::uint64_t seed, std::uint64_t index, std::uint64_t total_cases) {
    const std::uint64_t block = index / block_cases;
    if (block_isolated(seed, block)) return {};
    const std::vector<GeneratedCase> cases = block_of(seed, block, total_cases);
    const DatapathConfig& config = cases[index % block_cases].config;
    BindingTable table = background_bindings();
    LayerByConfig layers = block_layers(cases);  // named: the loop below must not outlive it
    for (const auto& entry : layers[config]) table.insert(entry);
    for (std::uint64_t k = 0; k < index % block_cases; ++k)
        if (cases[k].config == config)
            for (const auto& [key, target] : cases[k].bindings) table.insert_or_assign(key, target);
    return table;
}

}  // namespace xdpturn
