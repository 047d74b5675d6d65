// Saves a failing generated case so that it can be looked at and replayed:
// a pcap with the input frame (or the frames of a failing sequence), the
// reference output and the XDP output, the same as pcapng with a comment
// on each frame (which it is, the verdicts, the fields that differ), and a
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
    std::string pcapng;  // the same frames, each with a comment saying what it is and what went wrong
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

// A case that fails only after other frames ran on the same program: the
// frames in the order they ran, the failing one last, then its two outputs.
// `c.bindings` is the one table all of them run against.
Result<CounterexamplePaths> write_counterexample(const std::string& stem, const GeneratedCase& c,
                                                 const std::vector<std::vector<std::uint8_t>>& inputs,
                                                 const Comparison& comparison, const CounterexampleOrigin& origin);

}  // namespace xdpturn
