// Instruction-level coverage probes for a BPF program, added before it is
// loaded (docs/coverage.md). The kernel runs the program with the probes, so
// what is measured is the program as the verifier and the JIT see it, not a
// user-space model of it.
//
// A probe adds one to a 64-bit counter in an array map's single value:
//   ra = &counters[k]      (ld_imm64 of the map value, no helper call)
//   rb = 1
//   lock *(u64 *)(ra + 0) += rb
// ra and rb are registers that are dead where the probe sits, found by a
// liveness analysis; where fewer than two are dead, live ones that are
// certainly initialised are spilled below the function's stack and restored.
//
// Each basic block gets a probe at its start. Each conditional jump gets one
// more on its fall-through edge, between the jump and the next block's probe,
// so both directions of every branch are counted exactly:
//   taken = count(block ending in the jump) - count(fall-through).
//
// Each comparing jump also gets a comparison probe just before it, in the
// manner of libFuzzer's value profile and AFL's compare logging: it counts
// whether its operands met exactly, or one apart either way:
//   if a == b goto AT; if a == b - 1 goto BELOW; if a != b + 1 goto END
//   (count above) goto END; AT: (count at) goto END; BELOW: (count below)
// For two registers the +-1 is taken on a copy of one of them, never of a
// pointer the verifier forbids arithmetic on.
#pragma once

#include <linux/bpf.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "relay/net/result.hpp"

namespace xdpturn::coverage {

struct BlockProbe {
    std::uint32_t first = 0;  // original instruction index of the block's start
    std::uint32_t end = 0;    // one past its last instruction
};

struct BranchProbe {
    std::uint32_t jump = 0;   // original index of the conditional jump
    std::uint32_t block = 0;  // index of the block probe of the block it ends
};

// A conditional jump that compares (all but JSET), with three counters:
// its operands met one below, exactly at and one above the boundary (the
// left one against the right one, or against the constant).
enum class Side : std::uint8_t { below, at, above };
inline constexpr std::size_t sides = 3;
struct ComparisonProbe {
    std::uint32_t jump = 0;  // original index of the jump
    // The sides the operands can meet at all, and so are measured. Not one
    // below or above when the left operand's values (as far as a range
    // analysis of the instructions sees) never include that value: a 16-bit
    // field is never 0 - 1, a flag of 0 or 1 never 2. Only "at" for a
    // pointer (a null test) or two pointers neither of which the verifier
    // lets the probe move by one.
    std::array<bool, sides> measured{true, true, true};
};

// What the probes count: counter k is block k for k < blocks.size(), then
// branch k - blocks.size()'s fall-through edge, then three per comparison
// (below, at, above).
struct ProbePlan {
    std::vector<BlockProbe> blocks;
    std::vector<BranchProbe> branches;
    std::vector<ComparisonProbe> comparisons;
    std::vector<std::uint32_t> function_starts;  // original indices, ascending
    std::size_t counters() const { return blocks.size() + branches.size() + sides * comparisons.size(); }
    std::size_t comparison_counter(std::size_t comparison, Side side) const {
        return blocks.size() + branches.size() + sides * comparison + static_cast<std::size_t>(side);
    }
};

// BTF records (func_info, line_info) as libbpf hands them to the kernel:
// `size` bytes each, the first 32 bits the instruction offset.
struct BtfRecords {
    std::vector<std::uint8_t> bytes;
    std::uint32_t size = 0;
    std::size_t count() const { return size == 0 ? 0 : bytes.size() / size; }
    std::uint32_t insn_offset(std::size_t index) const;
    void set_insn_offset(std::size_t index, std::uint32_t offset);
};

struct Instrumented {
    ProbePlan plan;
    std::vector<bpf_insn> insns;
    BtfRecords functions;
    BtfRecords lines;
};

// Which probes go in: block and edge probes always; comparison probes
// unless turned off (the block and edge layout on its own, for tests).
enum class Comparisons : std::uint8_t { probed, left_out };

// The blocks, branches and comparisons of `insns`, whose functions start
// where `functions` says (none: one function).
Result<ProbePlan> plan_probes(std::span<const bpf_insn> insns, const BtfRecords& functions,
                              Comparisons comparisons = Comparisons::probed);

// The instructions with the plan's probes added, counting into the single
// value of the array map `counters_fd`, and the BTF records moved with them.
Result<Instrumented> instrument(std::span<const bpf_insn> insns, const BtfRecords& functions, const BtfRecords& lines,
                                int counters_fd, Comparisons comparisons = Comparisons::probed);

}  // namespace xdpturn::coverage
