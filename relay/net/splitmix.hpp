// SplitMix64 (Steele, Lea and Flood, 2014): a one-word generator whose
// output function is also a good 64-bit mixer. Used wherever a value must be
// spread over 64 bits deterministically: seeds of generated cases, their
// choice streams, and the relay core's hashing.
#pragma once

#include <cstdint>

namespace xdpturn {

// The output function of one step from `state` (its state is then `state`
// plus the golden-ratio increment).
constexpr std::uint64_t splitmix64_mix(std::uint64_t state) {
    std::uint64_t z = state + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// One step of the generator: advances `state` and returns the next value.
constexpr std::uint64_t splitmix64_next(std::uint64_t& state) {
    const std::uint64_t value = splitmix64_mix(state);
    state += 0x9E3779B97F4A7C15ull;
    return value;
}

}  // namespace xdpturn
