// Saves a failing generated case so that it can be looked at and replayed:
// a pcap with the input frame, the reference output and the XDP output, and a
// JSON file with the configuration, the binding table and the seed.
// `xdpturn replay STEM.pcap --bindings STEM.json` reproduces the failure.
#pragma once

#include <cstdint>
#include <string>

#include "harness/check/generators.hpp"
#include "harness/compare/differential.hpp"

namespace xdpturn {

struct CounterexamplePaths {
    std::string pcap;
    std::string json;
};

struct CounterexampleOrigin {
    std::uint64_t seed = 0;
    std::uint64_t case_index = 0;
    std::string property;
    std::string program;
};

Result<CounterexamplePaths> write_counterexample(const std::string& stem, const GeneratedCase& c,
                                                 const std::vector<std::uint8_t>& frame, const Comparison& comparison,
                                                 const CounterexampleOrigin& origin);

}  // namespace xdpturn
