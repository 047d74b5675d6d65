// What values each register may hold before each instruction of a BPF
// program, as far as a simple forward analysis sees: an unsigned interval
// and the bits known to be zero. The comparison probes (instrument.hpp) use
// it to leave out the boundaries no input can meet: a 16-bit field is
// never 0 - 1, a flag of 0 or 1 is never 2, a version nibble compared as
// its byte's high four bits (0x40) is never 0x3F or 0x41.
#pragma once

#include <linux/bpf.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace xdpturn::coverage {

struct ValueRange {
    std::uint64_t low = 0;
    std::uint64_t high = UINT64_MAX;
    std::uint64_t zeros = 0;  // bits no value has set
    bool operator==(const ValueRange&) const = default;
    bool holds(std::uint64_t value) const { return value >= low && value <= high && (value & zeros) == 0; }
    bool constant() const { return low == high; }
};

using RegisterRanges = std::array<ValueRange, MAX_BPF_REG>;

// `successors[i]`: the instructions control goes to after instruction i;
// `starts`: where functions begin (the program's context arrives in r1 of
// the first; nothing is known of a subprogram's arguments).
std::vector<RegisterRanges> register_ranges(std::span<const bpf_insn> insns,
                                            const std::vector<std::vector<std::uint32_t>>& successors,
                                            std::span<const std::uint32_t> starts);

}  // namespace xdpturn::coverage
