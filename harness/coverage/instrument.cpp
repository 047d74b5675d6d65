#include "harness/coverage/instrument.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <optional>
#include <string>

namespace xdpturn::coverage {

namespace {

using RegisterSet = std::uint16_t;                // bit r: register r
constexpr RegisterSet usable_registers = 0x03ff;  // r0..r9; r10 is the read-only frame pointer
constexpr RegisterSet helper_arguments = 0x003e;  // r1..r5, also clobbered by every call
constexpr RegisterSet everything = 0xffff;
constexpr int frame_pointer = BPF_REG_10;
constexpr int deepest_stack_offset = -512;

RegisterSet bit(int reg) {
    return static_cast<RegisterSet>(1u << reg);
}

bool is_wide(const bpf_insn& insn) {
    return insn.code == (BPF_LD | BPF_IMM | BPF_DW);
}
bool is_jump_class(const bpf_insn& insn) {
    return BPF_CLASS(insn.code) == BPF_JMP || BPF_CLASS(insn.code) == BPF_JMP32;
}
bool is_exit(const bpf_insn& insn) {
    return is_jump_class(insn) && BPF_OP(insn.code) == BPF_EXIT;
}
bool is_call(const bpf_insn& insn) {
    return is_jump_class(insn) && BPF_OP(insn.code) == BPF_CALL;
}
bool is_always_jump(const bpf_insn& insn) {
    return is_jump_class(insn) && BPF_OP(insn.code) == BPF_JA;
}
bool is_conditional(const bpf_insn& insn) {
    return is_jump_class(insn) && !is_exit(insn) && !is_call(insn) && !is_always_jump(insn);
}
// The 32-bit "gotol" keeps its offset in imm.
bool offset_in_imm(const bpf_insn& insn) {
    return is_always_jump(insn) && BPF_CLASS(insn.code) == BPF_JMP32;
}
bool is_local_call(const bpf_insn& insn) {
    return is_call(insn) && insn.src_reg == BPF_PSEUDO_CALL;
}
bool is_function_address(const bpf_insn& insn) {
    return is_wide(insn) && insn.src_reg == BPF_PSEUDO_FUNC;
}
// A tail call that succeeds never comes back: what follows is a new block.
bool is_tail_call(const bpf_insn& insn) {
    return is_call(insn) && insn.src_reg == 0 && insn.imm == BPF_FUNC_tail_call;
}
// Jumps, local calls and function addresses: relative to the next instruction.
bool is_relative(const bpf_insn& insn) {
    return (is_jump_class(insn) && (is_always_jump(insn) || is_conditional(insn))) || is_local_call(insn) ||
           is_function_address(insn);
}
std::int64_t relative_target(const bpf_insn& insn, std::size_t index) {
    const bool imm = offset_in_imm(insn) || is_local_call(insn) || is_function_address(insn);
    return static_cast<std::int64_t>(index) + 1 + (imm ? insn.imm : insn.off);
}

struct Effects {
    RegisterSet uses = 0;
    RegisterSet defines = 0;
    RegisterSet clobbers = 0;  // left uninitialised (calls)
};

Effects effects_of_store(const bpf_insn& insn) {
    Effects effects{static_cast<RegisterSet>(bit(insn.dst_reg) | bit(insn.src_reg)), 0, 0};
    if (BPF_MODE(insn.code) != BPF_ATOMIC) return effects;
    if (insn.imm == BPF_CMPXCHG) {
        effects.uses |= bit(BPF_REG_0);
        effects.defines |= bit(BPF_REG_0);
    } else if ((insn.imm & BPF_FETCH) != 0) {
        effects.defines |= bit(insn.src_reg);
    }
    return effects;
}

Effects effects_of_alu(const bpf_insn& insn) {
    const RegisterSet source = BPF_SRC(insn.code) == BPF_X ? bit(insn.src_reg) : RegisterSet{0};
    switch (BPF_OP(insn.code)) {
        case BPF_MOV: return {source, bit(insn.dst_reg), 0};
        case BPF_NEG:
        case BPF_END: return {bit(insn.dst_reg), bit(insn.dst_reg), 0};
        default: return {static_cast<RegisterSet>(bit(insn.dst_reg) | source), bit(insn.dst_reg), 0};
    }
}

Effects effects_of_jump(const bpf_insn& insn) {
    if (is_call(insn)) return {helper_arguments, bit(BPF_REG_0), helper_arguments};
    if (is_exit(insn)) return {bit(BPF_REG_0), 0, 0};
    if (is_always_jump(insn)) return {};
    const RegisterSet source = BPF_SRC(insn.code) == BPF_X ? bit(insn.src_reg) : RegisterSet{0};
    return {static_cast<RegisterSet>(bit(insn.dst_reg) | source), 0, 0};
}

Effects effects_of(const bpf_insn& insn) {
    switch (BPF_CLASS(insn.code)) {
        case BPF_LD:
            if (is_wide(insn)) return {0, bit(insn.dst_reg), 0};
            // Legacy packet loads read the context in r6 and act like a call.
            return {static_cast<RegisterSet>(bit(BPF_REG_6) |
                                             (BPF_MODE(insn.code) == BPF_IND ? bit(insn.src_reg) : RegisterSet{0})),
                    bit(BPF_REG_0), helper_arguments};
        case BPF_LDX: return {bit(insn.src_reg), bit(insn.dst_reg), 0};
        case BPF_ST: return {bit(insn.dst_reg), 0, 0};
        case BPF_STX: return effects_of_store(insn);
        case BPF_ALU:
        case BPF_ALU64: return effects_of_alu(insn);
        default: return effects_of_jump(insn);
    }
}

// The control flow of one program: instruction starts, successors, functions.
class FlowGraph {
  public:
    FlowGraph(std::span<const bpf_insn> insns, std::vector<std::uint32_t> starts)
        : insns_(insns), starts_(std::move(starts)), heads_(insns.size(), false) {}

    Status build() {
        for (std::size_t i = 0; i < insns_.size(); i += width(i)) heads_[i] = true;
        successors_.assign(insns_.size(), {});
        for (std::size_t i = 0; i < insns_.size(); i += width(i))
            if (auto linked = link(i); !linked) return linked;
        return ok_status();
    }

    std::span<const bpf_insn> insns() const { return insns_; }
    const std::vector<std::uint32_t>& starts() const { return starts_; }
    bool is_head(std::size_t i) const { return heads_[i]; }
    std::size_t width(std::size_t i) const { return is_wide(insns_[i]) ? 2 : 1; }
    const std::vector<std::uint32_t>& successors(std::size_t i) const { return successors_[i]; }
    std::size_t function_end(std::size_t i) const {
        auto next = std::upper_bound(starts_.begin(), starts_.end(), i);
        return next == starts_.end() ? insns_.size() : *next;
    }
    std::size_t function_start(std::size_t i) const {
        return *(std::upper_bound(starts_.begin(), starts_.end(), i) - 1);
    }

  private:
    Status link(std::size_t i) {
        const bpf_insn& insn = insns_[i];
        const std::size_t next = i + width(i);
        const std::size_t end = function_end(i);
        if (is_relative(insn)) {
            const std::int64_t target = relative_target(insn, i);
            const bool local = is_local_call(insn) || is_function_address(insn);
            const bool inside = local ? std::binary_search(starts_.begin(), starts_.end(), target)
                                      : target >= static_cast<std::int64_t>(function_start(i)) &&
                                            target < static_cast<std::int64_t>(end);
            if (!inside || !heads_[static_cast<std::size_t>(target)])
                return Error{"instruction " + std::to_string(i) + " refers to " + std::to_string(target) +
                             ", which is not an instruction of its function"};
            if (!local) successors_[i].push_back(static_cast<std::uint32_t>(target));
        }
        if (is_exit(insn) || is_always_jump(insn)) return ok_status();
        if (next >= end) return Error{"instruction " + std::to_string(i) + " runs off the end of its function"};
        successors_[i].push_back(static_cast<std::uint32_t>(next));
        return ok_status();
    }

    std::span<const bpf_insn> insns_;
    std::vector<std::uint32_t> starts_;
    std::vector<bool> heads_;  // false for the second half of a wide load
    std::vector<std::vector<std::uint32_t>> successors_;
};

// Registers read before they are written on some path from each instruction.
std::vector<RegisterSet> live_registers(const FlowGraph& graph) {
    const std::size_t n = graph.insns().size();
    std::vector<RegisterSet> live(n, 0);
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t k = n; k-- > 0;) {
            if (!graph.is_head(k)) continue;
            RegisterSet after = 0;
            for (std::uint32_t s : graph.successors(k)) after |= live[s];
            const Effects effects = effects_of(graph.insns()[k]);
            const auto before =
                static_cast<RegisterSet>(effects.uses | (after & ~(effects.defines | effects.clobbers)));
            changed = changed || before != live[k];
            live[k] = before;
        }
    }
    return live;
}

// Registers written on every path to each instruction (only those can be
// spilled: the verifier refuses to store an uninitialised register).
std::vector<RegisterSet> initialised_registers(const FlowGraph& graph) {
    const std::size_t n = graph.insns().size();
    std::vector<RegisterSet> in(n, everything);
    for (std::uint32_t start : graph.starts())
        in[start] = start == 0 ? static_cast<RegisterSet>(bit(BPF_REG_1) | bit(frame_pointer)) : bit(frame_pointer);
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t k = 0; k < n; k += graph.width(k)) {
            const Effects effects = effects_of(graph.insns()[k]);
            const auto out = static_cast<RegisterSet>((in[k] | effects.defines) & ~effects.clobbers);
            for (std::uint32_t s : graph.successors(k)) {
                const auto merged = static_cast<RegisterSet>(in[s] & out);
                changed = changed || merged != in[s];
                in[s] = merged;
            }
        }
    }
    return in;
}

// The lowest stack offset a function touches, from r10-relative accesses and
// pointers made as r10 plus a constant.
int stack_floor(const FlowGraph& graph, std::size_t start, std::size_t end, const std::vector<bool>& leaders) {
    int lowest = 0;
    std::array<std::optional<int>, 11> frame_offset{};
    auto base_offset = [&](int reg) -> std::optional<int> {
        return reg == frame_pointer ? std::optional<int>(0) : frame_offset[static_cast<std::size_t>(reg)];
    };
    for (std::size_t i = start; i < end; i += graph.width(i)) {
        const bpf_insn& insn = graph.insns()[i];
        if (leaders[i]) frame_offset.fill(std::nullopt);
        const int cls = BPF_CLASS(insn.code);
        const int base = cls == BPF_LDX ? insn.src_reg : insn.dst_reg;
        if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX)
            if (auto offset = base_offset(base)) lowest = std::min(lowest, *offset + insn.off);
        const Effects effects = effects_of(insn);
        std::optional<int> derived;
        if (insn.code == (BPF_ALU64 | BPF_MOV | BPF_X)) derived = base_offset(insn.src_reg);
        if (insn.code == (BPF_ALU64 | BPF_ADD | BPF_K) && frame_offset[insn.dst_reg])
            derived = *frame_offset[insn.dst_reg] + insn.imm;
        for (int reg = 0; reg < frame_pointer; ++reg)
            if (((effects.defines | effects.clobbers) & bit(reg)) != 0)
                frame_offset[static_cast<std::size_t>(reg)].reset();
        if (derived && (effects.defines & bit(insn.dst_reg)) != 0) {
            frame_offset[insn.dst_reg] = derived;
            lowest = std::min(lowest, *derived);
        }
    }
    return lowest;
}

std::vector<bool> find_leaders(const FlowGraph& graph) {
    const auto insns = graph.insns();
    std::vector<bool> leaders(insns.size(), false);
    for (std::uint32_t start : graph.starts()) leaders[start] = true;
    for (std::size_t i = 0; i < insns.size(); i += graph.width(i)) {
        const bpf_insn& insn = insns[i];
        const std::size_t next = i + graph.width(i);
        const bool ends_block = is_exit(insn) || is_always_jump(insn) || is_conditional(insn) || is_tail_call(insn);
        if (ends_block && next < graph.function_end(i)) leaders[next] = true;
        if (is_relative(insn)) leaders[static_cast<std::size_t>(relative_target(insn, i))] = true;
    }
    return leaders;
}

std::vector<std::uint32_t> function_starts(const BtfRecords& functions, std::size_t insn_count) {
    std::vector<std::uint32_t> starts{0};
    for (std::size_t k = 0; k < functions.count(); ++k) starts.push_back(functions.insn_offset(k));
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    while (!starts.empty() && starts.back() >= insn_count) starts.pop_back();
    return starts;
}

// Two registers a probe may use, and which of them it must save first.
struct ProbeRegisters {
    std::array<std::uint8_t, 2> regs{};
    std::array<bool, 2> saved{};
};

std::optional<ProbeRegisters> choose_registers(RegisterSet live, RegisterSet initialised) {
    ProbeRegisters chosen;
    std::size_t taken = 0;
    auto take = [&](RegisterSet pool, bool save) {
        for (std::uint8_t reg = 0; reg < frame_pointer && taken < 2; ++reg)
            if ((pool & bit(reg)) != 0) {
                chosen.regs[taken] = reg;
                chosen.saved[taken++] = save;
            }
    };
    take(static_cast<RegisterSet>(~live & usable_registers), false);
    take(static_cast<RegisterSet>(live & initialised & usable_registers), true);
    if (taken < 2) return std::nullopt;
    return chosen;
}

bpf_insn make(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    bpf_insn insn{};
    insn.code = code;
    insn.dst_reg = dst & 0xf;
    insn.src_reg = src & 0xf;
    insn.off = off;
    insn.imm = imm;
    return insn;
}

void emit_probe(std::vector<bpf_insn>& out, const ProbeRegisters& use, int spill_base, int counters_fd,
                std::size_t counter) {
    const std::uint8_t ra = use.regs[0];
    const std::uint8_t rb = use.regs[1];
    for (std::size_t k = 0; k < 2; ++k)
        if (use.saved[k])
            out.push_back(make(BPF_STX | BPF_MEM | BPF_DW, frame_pointer, use.regs[k],
                               static_cast<std::int16_t>(spill_base - 8 * static_cast<int>(k)), 0));
    out.push_back(make(BPF_LD | BPF_IMM | BPF_DW, ra, BPF_PSEUDO_MAP_VALUE, 0, counters_fd));
    out.push_back(make(0, 0, 0, 0, static_cast<std::int32_t>(counter * sizeof(std::uint64_t))));
    out.push_back(make(BPF_ALU64 | BPF_MOV | BPF_K, rb, 0, 0, 1));
    out.push_back(make(BPF_STX | BPF_ATOMIC | BPF_DW, ra, rb, 0, BPF_ADD));
    for (std::size_t k = 0; k < 2; ++k)
        if (use.saved[k])
            out.push_back(make(BPF_LDX | BPF_MEM | BPF_DW, use.regs[k], frame_pointer,
                               static_cast<std::int16_t>(spill_base - 8 * static_cast<int>(k)), 0));
}

// The analysis behind both plan_probes and instrument.
struct Analysis {
    FlowGraph graph;
    std::vector<bool> leaders;
    std::vector<RegisterSet> live;
    std::vector<RegisterSet> initialised;
    ProbePlan plan;
    std::vector<std::int64_t> block_of_leader;  // -1: not a leader
    std::vector<std::int64_t> branch_of_jump;   // -1: not a conditional jump
};

Result<Analysis> analyse(std::span<const bpf_insn> insns, const BtfRecords& functions) {
    if (insns.empty()) return Error{"the program has no instructions"};
    Analysis analysis{FlowGraph(insns, function_starts(functions, insns.size())), {}, {}, {}, {}, {}, {}};
    FlowGraph& graph = analysis.graph;
    if (auto built = graph.build(); !built) return built.error();
    analysis.leaders = find_leaders(graph);
    analysis.live = live_registers(graph);
    analysis.initialised = initialised_registers(graph);
    analysis.plan.function_starts = graph.starts();
    analysis.block_of_leader.assign(insns.size(), -1);
    analysis.branch_of_jump.assign(insns.size(), -1);
    auto& blocks = analysis.plan.blocks;
    for (std::size_t i = 0; i < insns.size(); i += graph.width(i)) {
        if (analysis.leaders[i]) {
            if (!blocks.empty() && blocks.back().end == 0) blocks.back().end = static_cast<std::uint32_t>(i);
            analysis.block_of_leader[i] = static_cast<std::int64_t>(blocks.size());
            blocks.push_back({static_cast<std::uint32_t>(i), 0});
        }
        const std::size_t next = i + graph.width(i);
        if (next == graph.function_end(i)) blocks.back().end = static_cast<std::uint32_t>(next);
        if (is_conditional(insns[i])) {
            analysis.branch_of_jump[i] = static_cast<std::int64_t>(analysis.plan.branches.size());
            analysis.plan.branches.push_back(
                {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(blocks.size() - 1)});
        }
    }
    return analysis;
}

}  // namespace

std::uint32_t BtfRecords::insn_offset(std::size_t index) const {
    std::uint32_t offset = 0;
    std::memcpy(&offset, bytes.data() + index * size, sizeof(offset));
    return offset;
}

void BtfRecords::set_insn_offset(std::size_t index, std::uint32_t offset) {
    std::memcpy(bytes.data() + index * size, &offset, sizeof(offset));
}

Result<ProbePlan> plan_probes(std::span<const bpf_insn> insns, const BtfRecords& functions) {
    auto analysis = analyse(insns, functions);
    if (!analysis) return analysis.error();
    return std::move(analysis->plan);
}

namespace {

// Where each original instruction and each block's probe land once the
// probes are in, the new instructions themselves, and the fix-ups.
class Emitter {
  public:
    Emitter(const Analysis& analysis, int counters_fd) : a_(analysis), fd_(counters_fd) {}

    Result<std::vector<bpf_insn>> emit() {
        const auto insns = a_.graph.insns();
        moved_.assign(insns.size() + 1, 0);
        entry_.assign(insns.size() + 1, 0);
        for (std::uint32_t start : a_.graph.starts())
            if (auto placed = place_function(start); !placed) return placed.error();
        moved_[insns.size()] = entry_[insns.size()] = static_cast<std::uint32_t>(out_.size());
        if (auto fixed = fix_relative(); !fixed) return fixed.error();
        return std::move(out_);
    }
    // The new index a jump to original instruction i goes to.
    std::uint32_t entry(std::size_t i) const { return entry_[i]; }

  private:
    Status place_function(std::uint32_t start) {
        const auto insns = a_.graph.insns();
        const std::size_t end = a_.graph.function_end(start);
        const int floor = stack_floor(a_.graph, start, end, a_.leaders);
        const int spill_base = (floor & ~7) - 8;
        for (std::size_t i = start; i < end; i += a_.graph.width(i)) {
            entry_[i] = static_cast<std::uint32_t>(out_.size());
            const bool after_branch = i > start && a_.branch_of_jump[previous(i)] >= 0;
            if (after_branch || a_.leaders[i]) {
                auto regs = choose_registers(a_.live[i], a_.initialised[i]);
                if (!regs) return Error{"no register can be freed for a probe at instruction " + std::to_string(i)};
                const bool spills = regs->saved[0] || regs->saved[1];
                if (spills && spill_base - 8 < deepest_stack_offset)
                    return Error{"no stack left below offset " + std::to_string(floor) + " for a probe's spill"};
                if (after_branch)
                    emit_probe(out_, *regs, spill_base, fd_,
                               a_.plan.blocks.size() + static_cast<std::size_t>(a_.branch_of_jump[previous(i)]));
                entry_[i] = static_cast<std::uint32_t>(out_.size());
                if (a_.leaders[i])
                    emit_probe(out_, *regs, spill_base, fd_, static_cast<std::size_t>(a_.block_of_leader[i]));
            }
            moved_[i] = static_cast<std::uint32_t>(out_.size());
            for (std::size_t k = 0; k < a_.graph.width(i); ++k) out_.push_back(insns[i + k]);
        }
        return ok_status();
    }

    std::size_t previous(std::size_t i) const {
        // The instruction before i: one back, or two for a wide load's second half.
        return i >= 2 && is_wide(a_.graph.insns()[i - 2]) ? i - 2 : i - 1;
    }

    Status fix_relative() {
        const auto insns = a_.graph.insns();
        for (std::size_t i = 0; i < insns.size(); i += a_.graph.width(i)) {
            if (!is_relative(insns[i])) continue;
            const auto target = static_cast<std::size_t>(relative_target(insns[i], i));
            const std::int64_t distance =
                static_cast<std::int64_t>(entry_[target]) - static_cast<std::int64_t>(moved_[i]) - 1;
            bpf_insn& moved = out_[moved_[i]];
            if (offset_in_imm(insns[i]) || is_local_call(insns[i]) || is_function_address(insns[i])) {
                moved.imm = static_cast<std::int32_t>(distance);
            } else if (distance < INT16_MIN || distance > INT16_MAX) {
                return Error{"the jump at instruction " + std::to_string(i) + " is too long once probes are added"};
            } else {
                moved.off = static_cast<std::int16_t>(distance);
            }
        }
        return ok_status();
    }

    const Analysis& a_;
    int fd_;
    std::vector<bpf_insn> out_;
    std::vector<std::uint32_t> moved_;  // the new index of original instruction i
    std::vector<std::uint32_t> entry_;  // the new index where i's probes (if any) begin
};

// Records move with the probes in front of their instruction, so a function's
// first record stays on its first instruction.
BtfRecords moved_records(const BtfRecords& records, const Emitter& emitter, std::size_t insn_count) {
    BtfRecords moved = records;
    for (std::size_t k = 0; k < moved.count(); ++k) {
        const std::uint32_t offset = records.insn_offset(k);
        if (offset <= insn_count) moved.set_insn_offset(k, emitter.entry(offset));
    }
    return moved;
}

}  // namespace

Result<Instrumented> instrument(std::span<const bpf_insn> insns, const BtfRecords& functions, const BtfRecords& lines,
                                int counters_fd) {
    auto analysis = analyse(insns, functions);
    if (!analysis) return analysis.error();
    Emitter emitter(*analysis, counters_fd);
    auto emitted = emitter.emit();
    if (!emitted) return emitted.error();
    Instrumented result;
    result.plan = std::move(analysis->plan);
    result.insns = std::move(emitted).value();
    result.functions = moved_records(functions, emitter, insns.size());
    result.lines = moved_records(lines, emitter, insns.size());
    return result;
}

}  // namespace xdpturn::coverage
