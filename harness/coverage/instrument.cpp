#include "harness/coverage/instrument.hpp"

#include "harness/coverage/bpf_insns.hpp"
#include "harness/coverage/value_ranges.hpp"

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

RegisterSet bit(int reg) {
    return static_cast<RegisterSet>(1u << reg);
}

bool is_exit(const bpf_insn& insn) {
    return is_jump_class(insn) && BPF_OP(insn.code) == BPF_EXIT;
}
bool is_always_jump(const bpf_insn& insn) {
    return is_jump_class(insn) && BPF_OP(insn.code) == BPF_JA;
}
bool is_conditional(const bpf_insn& insn) {
    return is_jump_class(insn) && !is_exit(insn) && !is_call(insn) && !is_always_jump(insn);
}
// A conditional jump that compares two values (JSET tests bits: no boundary).
bool is_comparison(const bpf_insn& insn) {
    return is_conditional(insn) && BPF_OP(insn.code) != BPF_JSET;
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

// What a register or an 8-byte stack slot may hold, as far as the
// comparison probes care: the context, or a pointer the verifier forbids
// arithmetic on (the packet's end, a map, a result not yet tested for null).
struct PointerKinds {
    RegisterSet context = 0;
    RegisterSet fixed = 0;
    std::uint64_t context_slots = 0;  // slot k: r10 - 8 * (k + 1)
    std::uint64_t fixed_slots = 0;
    bool operator==(const PointerKinds&) const = default;
    PointerKinds& operator|=(const PointerKinds& other) {
        context |= other.context;
        fixed |= other.fixed;
        context_slots |= other.context_slots;
        fixed_slots |= other.fixed_slots;
        return *this;
    }
};

constexpr std::int16_t xdp_md_data_end = 4;  // offsetof(struct xdp_md, data_end)

std::optional<unsigned> stack_slot(std::int16_t offset) {
    if (offset >= 0 || offset < deepest_stack_offset || offset % 8 != 0) return std::nullopt;
    return static_cast<unsigned>(-offset / 8 - 1);
}

void set_register(PointerKinds& kinds, int reg, bool context, bool fixed) {
    kinds.context = static_cast<RegisterSet>((kinds.context & ~bit(reg)) | (context ? bit(reg) : 0));
    kinds.fixed = static_cast<RegisterSet>((kinds.fixed & ~bit(reg)) | (fixed ? bit(reg) : 0));
}

void transfer_load(const bpf_insn& insn, PointerKinds& kinds) {
    const auto slot =
        insn.src_reg == frame_pointer && BPF_SIZE(insn.code) == BPF_DW ? stack_slot(insn.off) : std::nullopt;
    if (slot) {
        set_register(kinds, insn.dst_reg, (kinds.context_slots >> *slot) & 1, (kinds.fixed_slots >> *slot) & 1);
        return;
    }
    const bool data_end =
        (kinds.context & bit(insn.src_reg)) != 0 && BPF_SIZE(insn.code) == BPF_W && insn.off == xdp_md_data_end;
    set_register(kinds, insn.dst_reg, false, data_end);
}

void transfer_store(const bpf_insn& insn, PointerKinds& kinds) {
    if (insn.dst_reg != frame_pointer) return;
    const auto slot = stack_slot(insn.off);
    if (!slot) return;
    const std::uint64_t mask = std::uint64_t{1} << *slot;
    kinds.context_slots &= ~mask;
    kinds.fixed_slots &= ~mask;
    const bool spill =
        BPF_CLASS(insn.code) == BPF_STX && BPF_MODE(insn.code) == BPF_MEM && BPF_SIZE(insn.code) == BPF_DW;
    if (!spill) return;
    if ((kinds.context & bit(insn.src_reg)) != 0) kinds.context_slots |= mask;
    if ((kinds.fixed & bit(insn.src_reg)) != 0) kinds.fixed_slots |= mask;
}

void transfer_alu(const bpf_insn& insn, PointerKinds& kinds) {
    const bool wide = BPF_CLASS(insn.code) == BPF_ALU64;
    const int op = BPF_OP(insn.code);
    if (wide && op == BPF_MOV && BPF_SRC(insn.code) == BPF_X && insn.off == 0) {
        set_register(kinds, insn.dst_reg, (kinds.context & bit(insn.src_reg)) != 0,
                     (kinds.fixed & bit(insn.src_reg)) != 0);
    } else if (!(wide && (op == BPF_ADD || op == BPF_SUB))) {  // a pointer plus or minus stays one
        set_register(kinds, insn.dst_reg, false, false);
    }
}

PointerKinds transfer(const bpf_insn& insn, PointerKinds kinds) {
    switch (BPF_CLASS(insn.code)) {
        case BPF_LDX: transfer_load(insn, kinds); break;
        case BPF_ST:
        case BPF_STX: transfer_store(insn, kinds); break;
        case BPF_ALU:
        case BPF_ALU64: transfer_alu(insn, kinds); break;
        case BPF_LD: {
            const bool map = is_wide(insn) && (insn.src_reg == BPF_PSEUDO_MAP_FD ||
                                               insn.src_reg == BPF_PSEUDO_MAP_IDX || insn.src_reg == BPF_PSEUDO_BTF_ID);
            set_register(kinds, is_wide(insn) ? static_cast<int>(insn.dst_reg) : static_cast<int>(BPF_REG_0), false,
                         map);
            if (!is_wide(insn)) kinds.fixed &= static_cast<RegisterSet>(~helper_arguments);
            break;
        }
        default:
            if (is_call(insn)) {
                kinds.context &= static_cast<RegisterSet>(~helper_arguments);
                kinds.fixed &= static_cast<RegisterSet>(~helper_arguments);
                set_register(kinds, BPF_REG_0, false, true);  // maybe NULL, maybe a map's
            }
    }
    return kinds;
}

// Registers that may hold a pointer the verifier forbids arithmetic on, at
// each instruction: the program's context comes in r1; a subprogram's
// arguments may be anything.
std::vector<RegisterSet> no_arithmetic_registers(const FlowGraph& graph) {
    const std::size_t n = graph.insns().size();
    std::vector<PointerKinds> in(n);
    for (std::uint32_t start : graph.starts())
        in[start] =
            start == 0 ? PointerKinds{bit(BPF_REG_1), 0, 0, 0} : PointerKinds{helper_arguments, helper_arguments, 0, 0};
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t k = 0; k < n; k += graph.width(k)) {
            const PointerKinds out = transfer(graph.insns()[k], in[k]);
            for (std::uint32_t s : graph.successors(k)) {
                PointerKinds merged = in[s];
                merged |= out;
                changed = changed || !(merged == in[s]);
                in[s] = merged;
            }
        }
    }
    std::vector<RegisterSet> fixed(n);
    for (std::size_t k = 0; k < n; ++k) fixed[k] = static_cast<RegisterSet>(in[k].fixed | in[k].context);
    return fixed;
}

// The sides a comparison's operands can meet. Against a constant: the
// left's range must hold the constant's neighbour (in the comparison's
// width), and a pointer only meets "at" (a null test). Two registers: all
// three, unless neither may be moved by one.
std::array<bool, sides> sides_to_measure(const bpf_insn& jump, const ValueRange& left, const ValueRange& right,
                                         bool left_is_pointer, bool movable) {
    const bool constant_right = BPF_SRC(jump.code) == BPF_K || right.constant();
    if (!constant_right) return {movable, true, movable};
    if (left_is_pointer || !movable) return {false, true, false};
    const bool narrow = BPF_CLASS(jump.code) == BPF_JMP32;
    const std::uint64_t mask = narrow ? UINT32_MAX : UINT64_MAX;
    // In 32 bits: the low half of the left's values (all of them, if wider).
    const ValueRange range = !narrow || left.high <= mask ? left : ValueRange{0, mask, ~mask};
    const std::uint64_t k = BPF_SRC(jump.code) == BPF_X ? right.low
                            : narrow                    ? static_cast<std::uint32_t>(jump.imm)
                                     : static_cast<std::uint64_t>(static_cast<std::int64_t>(jump.imm));
    return {range.holds((k - 1) & mask), true, range.holds((k + 1) & mask)};
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

// `busy`: registers the probe must not touch at all (a comparison's operands).
std::optional<ProbeRegisters> choose_registers(RegisterSet live, RegisterSet initialised, RegisterSet busy = 0) {
    live |= busy;
    initialised &= static_cast<RegisterSet>(~busy);
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

void save_registers(std::vector<bpf_insn>& out, const ProbeRegisters& use, int spill_base) {
    for (std::size_t k = 0; k < 2; ++k)
        if (use.saved[k])
            out.push_back(make(BPF_STX | BPF_MEM | BPF_DW, frame_pointer, use.regs[k],
                               static_cast<std::int16_t>(spill_base - 8 * static_cast<int>(k)), 0));
}

void restore_registers(std::vector<bpf_insn>& out, const ProbeRegisters& use, int spill_base) {
    for (std::size_t k = 0; k < 2; ++k)
        if (use.saved[k])
            out.push_back(make(BPF_LDX | BPF_MEM | BPF_DW, use.regs[k], frame_pointer,
                               static_cast<std::int16_t>(spill_base - 8 * static_cast<int>(k)), 0));
}

// counters[counter] += 1, with the probe's two registers free to use.
void emit_increment(std::vector<bpf_insn>& out, const ProbeRegisters& use, int counters_fd, std::size_t counter) {
    const std::uint8_t ra = use.regs[0];
    const std::uint8_t rb = use.regs[1];
    out.push_back(make(BPF_LD | BPF_IMM | BPF_DW, ra, BPF_PSEUDO_MAP_VALUE, 0, counters_fd));
    out.push_back(make(0, 0, 0, 0, static_cast<std::int32_t>(counter * sizeof(std::uint64_t))));
    out.push_back(make(BPF_ALU64 | BPF_MOV | BPF_K, rb, 0, 0, 1));
    out.push_back(make(BPF_STX | BPF_ATOMIC | BPF_DW, ra, rb, 0, BPF_ADD));
}

void emit_probe(std::vector<bpf_insn>& out, const ProbeRegisters& use, int spill_base, int counters_fd,
                std::size_t counter) {
    save_registers(out, use, spill_base);
    emit_increment(out, use, counters_fd, counter);
    restore_registers(out, use, spill_base);
}

// Which operand of a comparison of two registers the probe moves by one.
enum class Moved : std::uint8_t { left, right, none };

// Jumps within one probe to labels placed later in it.
class ProbeCode {
  public:
    enum Label : std::uint8_t { below, at, above, end, labels };
    explicit ProbeCode(std::vector<bpf_insn>& out) : out_(out) {}

    void jump(bpf_insn insn, Label label) {
        pending_.emplace_back(out_.size(), label);
        used_[label] = true;
        out_.push_back(insn);
    }
    void place(Label label) { where_[label] = out_.size(); }
    bool used(Label label) const { return used_[label]; }
    void resolve() {
        for (auto [at, label] : pending_)
            out_[at].off = static_cast<std::int16_t>(where_[label] - static_cast<std::int64_t>(at) - 1);
    }

  private:
    std::vector<bpf_insn>& out_;
    std::vector<std::pair<std::size_t, Label>> pending_;
    std::array<std::int64_t, labels> where_{};
    std::array<bool, labels> used_{};
};

// The tests of a comparison probe: each jumps to the side its operands met.
void emit_side_tests(ProbeCode& code, std::vector<bpf_insn>& out, const bpf_insn& jump, std::uint8_t scratch,
                     Moved moved) {
    const auto cls = static_cast<std::uint8_t>(BPF_CLASS(jump.code));
    const auto alu = static_cast<std::uint8_t>(cls == BPF_JMP ? BPF_ALU64 : BPF_ALU);
    code.jump(
        make(static_cast<std::uint8_t>(cls | BPF_JEQ | BPF_SRC(jump.code)), jump.dst_reg, jump.src_reg, 0, jump.imm),
        ProbeCode::at);
    if (BPF_SRC(jump.code) == BPF_K) {
        if (jump.imm != INT32_MIN)
            code.jump(make(cls | BPF_JEQ | BPF_K, jump.dst_reg, 0, 0, jump.imm - 1), ProbeCode::below);
        if (jump.imm != INT32_MAX)
            code.jump(make(cls | BPF_JEQ | BPF_K, jump.dst_reg, 0, 0, jump.imm + 1), ProbeCode::above);
        return;
    }
    if (moved == Moved::none) return;
    // copy + 1 == other: the copied operand is one below the other.
    const std::uint8_t copied = moved == Moved::left ? jump.dst_reg : jump.src_reg;
    const std::uint8_t other = moved == Moved::left ? jump.src_reg : jump.dst_reg;
    const auto left_below = moved == Moved::left ? ProbeCode::below : ProbeCode::above;
    const auto left_above = moved == Moved::left ? ProbeCode::above : ProbeCode::below;
    out.push_back(make(static_cast<std::uint8_t>(alu | BPF_MOV | BPF_X), scratch, copied, 0, 0));
    out.push_back(make(static_cast<std::uint8_t>(alu | BPF_ADD | BPF_K), scratch, 0, 0, 1));
    code.jump(make(static_cast<std::uint8_t>(cls | BPF_JEQ | BPF_X), scratch, other, 0, 0), left_below);
    out.push_back(make(static_cast<std::uint8_t>(alu | BPF_ADD | BPF_K), scratch, 0, 0, -2));
    code.jump(make(static_cast<std::uint8_t>(cls | BPF_JEQ | BPF_X), scratch, other, 0, 0), left_above);
}

// A comparison probe (instrument.hpp): the tests, then one increment per
// side a test jumps to, all ending where the registers are restored.
void emit_comparison(std::vector<bpf_insn>& out, const bpf_insn& jump, const ProbeRegisters& use, int spill_base,
                     int counters_fd, std::size_t first_counter, Moved moved) {
    save_registers(out, use, spill_base);
    ProbeCode code(out);
    emit_side_tests(code, out, jump, use.regs[0], moved);
    code.jump(make(BPF_JMP | BPF_JA, 0, 0, 0, 0), ProbeCode::end);
    for (auto side : {ProbeCode::below, ProbeCode::at, ProbeCode::above}) {
        if (!code.used(side)) continue;
        code.place(side);
        emit_increment(out, use, counters_fd, first_counter + side);
        code.jump(make(BPF_JMP | BPF_JA, 0, 0, 0, 0), ProbeCode::end);
    }
    code.place(ProbeCode::end);
    code.resolve();
    restore_registers(out, use, spill_base);
}

// The analysis behind both plan_probes and instrument.
struct Analysis {
    FlowGraph graph;
    std::vector<bool> leaders;
    std::vector<RegisterSet> live;
    std::vector<RegisterSet> initialised;
    ProbePlan plan;
    std::vector<std::int64_t> block_of_leader;     // -1: not a leader
    std::vector<std::int64_t> branch_of_jump;      // -1: not a conditional jump
    std::vector<std::int64_t> comparison_of_jump;  // -1: not a comparing jump
    std::vector<Moved> moved;                      // by comparison
};

// Which operand a comparison probe may move by one: the left unless the
// verifier forbids arithmetic on it, else the right, else neither.
Moved movable_operand(const bpf_insn& jump, RegisterSet fixed) {
    if (BPF_SRC(jump.code) == BPF_K) return Moved::left;
    if ((fixed & bit(jump.dst_reg)) == 0) return Moved::left;
    if ((fixed & bit(jump.src_reg)) == 0) return Moved::right;
    return Moved::none;
}

Result<Analysis> analyse(std::span<const bpf_insn> insns, const BtfRecords& functions, Comparisons comparisons) {
    if (insns.empty()) return Error{"the program has no instructions"};
    Analysis analysis{FlowGraph(insns, function_starts(functions, insns.size())), {}, {}, {}, {}, {}, {}, {}, {}};
    FlowGraph& graph = analysis.graph;
    if (auto built = graph.build(); !built) return built.error();
    analysis.leaders = find_leaders(graph);
    analysis.live = live_registers(graph);
    analysis.initialised = initialised_registers(graph);
    analysis.plan.function_starts = graph.starts();
    analysis.block_of_leader.assign(insns.size(), -1);
    analysis.branch_of_jump.assign(insns.size(), -1);
    analysis.comparison_of_jump.assign(insns.size(), -1);
    const std::vector<RegisterSet> fixed = no_arithmetic_registers(graph);
    std::vector<std::vector<std::uint32_t>> successors(insns.size());
    for (std::size_t i = 0; i < insns.size(); i += graph.width(i)) successors[i] = graph.successors(i);
    const std::vector<RegisterRanges> ranges = register_ranges(insns, successors, graph.starts());
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
        if (comparisons == Comparisons::probed && is_comparison(insns[i])) {
            analysis.comparison_of_jump[i] = static_cast<std::int64_t>(analysis.plan.comparisons.size());
            const Moved moved = movable_operand(insns[i], fixed[i]);
            analysis.moved.push_back(moved);
            const bool pointer = (fixed[i] & bit(insns[i].dst_reg)) != 0;
            analysis.plan.comparisons.push_back(
                {static_cast<std::uint32_t>(i),
                 sides_to_measure(insns[i], ranges[i][insns[i].dst_reg], ranges[i][insns[i].src_reg], pointer,
                                  moved != Moved::none)});
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

Result<ProbePlan> plan_probes(std::span<const bpf_insn> insns, const BtfRecords& functions, Comparisons comparisons) {
    auto analysis = analyse(insns, functions, comparisons);
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
            if (auto probed = probe_comparison(i, spill_base); !probed) return probed;
            moved_[i] = static_cast<std::uint32_t>(out_.size());
            for (std::size_t k = 0; k < a_.graph.width(i); ++k) out_.push_back(insns[i + k]);
        }
        return ok_status();
    }

    // The comparison probe in front of jump i, if it compares.
    Status probe_comparison(std::size_t i, int spill_base) {
        const std::int64_t comparison = a_.comparison_of_jump[i];
        if (comparison < 0) return ok_status();
        const bpf_insn& jump = a_.graph.insns()[i];
        const auto operands =
            static_cast<RegisterSet>(bit(jump.dst_reg) | (BPF_SRC(jump.code) == BPF_X ? bit(jump.src_reg) : 0));
        auto regs = choose_registers(a_.live[i], a_.initialised[i], operands);
        if (!regs)
            return Error{"no register can be freed for the comparison probe at instruction " + std::to_string(i)};
        if ((regs->saved[0] || regs->saved[1]) && spill_base - 8 < deepest_stack_offset)
            return Error{"no stack left for the comparison probe's spill at instruction " + std::to_string(i)};
        const auto k = static_cast<std::size_t>(comparison);
        emit_comparison(out_, jump, *regs, spill_base, fd_, a_.plan.comparison_counter(k, Side::below), a_.moved[k]);
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
                                int counters_fd, Comparisons comparisons) {
    auto analysis = analyse(insns, functions, comparisons);
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
