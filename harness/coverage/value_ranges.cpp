#include "harness/coverage/value_ranges.hpp"

#include "harness/coverage/bpf_insns.hpp"

#include <algorithm>
#include <bit>
#include <optional>

namespace xdpturn::coverage {

namespace {

constexpr std::uint64_t u32_max = UINT32_MAX;
constexpr int slot_bytes = 4;
constexpr int slot_count = -deepest_stack_offset / slot_bytes;

// Every value up to `high`: its bits above the highest set one are zero.
ValueRange up_to(std::uint64_t high) {
    const unsigned width = static_cast<unsigned>(std::bit_width(high));
    return {0, high, width >= 64 ? 0 : ~((std::uint64_t{1} << width) - 1)};
}
ValueRange exactly(std::uint64_t value) {
    return {value, value, ~value};
}
ValueRange bits_wide(unsigned bits) {
    return bits >= 64 ? ValueRange{} : up_to((std::uint64_t{1} << bits) - 1);
}
ValueRange low_32_bits(const ValueRange& range) {
    return range.high <= u32_max ? range : bits_wide(32);
}
ValueRange hull(const ValueRange& a, const ValueRange& b) {
    return {std::min(a.low, b.low), std::max(a.high, b.high), a.zeros & b.zeros};
}
// A range and zero bits, the zeros kept consistent with the range's top.
ValueRange with_zeros(ValueRange range, std::uint64_t zeros) {
    range.zeros = zeros | up_to(range.high).zeros;
    return range;
}

unsigned size_bytes(const bpf_insn& insn) {
    switch (BPF_SIZE(insn.code)) {
        case BPF_B: return 1;
        case BPF_H: return 2;
        case BPF_W: return 4;
        default: return 8;
    }
}

// The stack in 4-byte slots below r10: what was stored at each slot's
// start, and how wide the store was (0: nothing known).
struct Slot {
    ValueRange range;
    unsigned bytes = 0;
    bool operator==(const Slot&) const = default;
};

struct State {
    RegisterRanges regs{};
    std::array<Slot, slot_count> slots{};
    bool operator==(const State&) const = default;
};

std::optional<int> slot_of(std::int16_t offset) {
    if (offset >= 0 || offset < deepest_stack_offset || offset % slot_bytes != 0) return std::nullopt;
    return -offset / slot_bytes - 1;
}

ValueRange shifted(const ValueRange& left, std::int32_t by, bool to_left, const ValueRange& all) {
    if (by < 0 || by >= 64) return all;
    const unsigned k = static_cast<unsigned>(by);
    if (!to_left) return with_zeros({left.low >> k, left.high >> k, 0}, (left.zeros >> k) | ~(all.high >> k));
    if ((left.high << k) >> k != left.high || (left.high << k) > all.high) return all;
    return with_zeros({left.low << k, left.high << k, 0}, (left.zeros << k) | ((std::uint64_t{1} << k) - 1));
}

ValueRange alu_result(const bpf_insn& insn, const ValueRange& dst, const ValueRange& src) {
    const bool wide = BPF_CLASS(insn.code) == BPF_ALU64;
    const bool constant = BPF_SRC(insn.code) == BPF_K;
    const std::uint64_t k =
        wide ? static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)) : static_cast<std::uint32_t>(insn.imm);
    const ValueRange other = constant ? exactly(k) : (wide ? src : low_32_bits(src));
    const ValueRange left = wide ? dst : low_32_bits(dst);
    const ValueRange all = wide ? ValueRange{} : bits_wide(32);
    switch (BPF_OP(insn.code)) {
        case BPF_MOV: return insn.off == 0 ? other : all;  // off != 0: a sign-extending move
        case BPF_AND: return with_zeros(up_to(std::min(left.high, other.high)), left.zeros | other.zeros);
        case BPF_OR:
        case BPF_XOR: {
            const unsigned width = static_cast<unsigned>(std::bit_width(std::max(left.high, other.high)));
            return with_zeros(bits_wide(width), left.zeros & other.zeros);
        }
        case BPF_RSH: return constant ? shifted(left, insn.imm, false, all) : all;
        case BPF_LSH: return constant ? shifted(left, insn.imm, true, all) : all;
        case BPF_ADD: {
            if (left.high > all.high - other.high) return all;
            return {left.low + other.low, left.high + other.high, up_to(left.high + other.high).zeros};
        }
        case BPF_END: return bits_wide(static_cast<unsigned>(insn.imm));
        default: return all;
    }
}

void store(const bpf_insn& insn, State& state) {
    if (insn.dst_reg != frame_pointer) return;
    const unsigned bytes = size_bytes(insn);
    const auto slot = slot_of(insn.off);
    // Whatever this store overlaps is no longer known.
    for (int s = 0; s < slot_count; ++s) {
        const int start = -(s + 1) * slot_bytes;
        const int end = start + static_cast<int>(std::max(state.slots[s].bytes, 1u));
        if (start < insn.off + static_cast<int>(bytes) && insn.off < end) state.slots[s] = Slot{};
    }
    if (!slot) return;
    const bool from_register = BPF_CLASS(insn.code) == BPF_STX && BPF_MODE(insn.code) == BPF_MEM;
    const bool from_constant = BPF_CLASS(insn.code) == BPF_ST;
    if (!from_register && !from_constant) return;
    const ValueRange value = from_register ? state.regs[insn.src_reg]
                                           : exactly(static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)));
    const ValueRange width = bits_wide(8 * bytes);
    state.slots[*slot] = Slot{value.high <= width.high ? value : width, bytes};
}

void load(const bpf_insn& insn, State& state) {
    const unsigned bytes = size_bytes(insn);
    ValueRange& dst = state.regs[insn.dst_reg];
    if (BPF_MODE(insn.code) != BPF_MEM) {  // sign-extending loads
        dst = ValueRange{};
        return;
    }
    const auto slot = insn.src_reg == frame_pointer ? slot_of(insn.off) : std::nullopt;
    dst = slot && state.slots[*slot].bytes == bytes ? state.slots[*slot].range : bits_wide(8 * bytes);
}

State transfer(std::span<const bpf_insn> insns, std::size_t i, State state) {
    const bpf_insn& insn = insns[i];
    switch (BPF_CLASS(insn.code)) {
        case BPF_LDX: load(insn, state); break;
        case BPF_ST:
        case BPF_STX: store(insn, state); break;
        case BPF_ALU:
        case BPF_ALU64:
            state.regs[insn.dst_reg] = alu_result(insn, state.regs[insn.dst_reg], state.regs[insn.src_reg]);
            break;
        case BPF_LD:
            if (is_wide(insn)) {  // a constant in two halves, or an address
                const bool constant = insn.src_reg == 0 && i + 1 < insns.size();
                state.regs[insn.dst_reg] =
                    constant ? exactly(static_cast<std::uint32_t>(insn.imm) |
                                       std::uint64_t{static_cast<std::uint32_t>(insns[i + 1].imm)} << 32)
                             : ValueRange{};
            } else {
                for (int reg = BPF_REG_0; reg <= BPF_REG_5; ++reg) state.regs[reg] = ValueRange{};
            }
            break;
        default:
            if (is_call(insn))
                for (int reg = BPF_REG_0; reg <= BPF_REG_5; ++reg) state.regs[reg] = ValueRange{};
    }
    return state;
}

State joined(const State& a, const State& b) {
    State merged;
    for (std::size_t r = 0; r < merged.regs.size(); ++r) merged.regs[r] = hull(a.regs[r], b.regs[r]);
    for (std::size_t s = 0; s < merged.slots.size(); ++s)
        merged.slots[s] = a.slots[s].bytes == b.slots[s].bytes && a.slots[s].bytes != 0
                              ? Slot{hull(a.slots[s].range, b.slots[s].range), a.slots[s].bytes}
                              : Slot{};
    return merged;
}

}  // namespace

std::vector<RegisterRanges> register_ranges(std::span<const bpf_insn> insns,
                                            const std::vector<std::vector<std::uint32_t>>& successors,
                                            std::span<const std::uint32_t> starts) {
    const std::size_t n = insns.size();
    // After this many passes a state still changing (a loop's counter) is
    // set to know nothing, so the analysis ends.
    constexpr int passes_before_widening = 16;
    std::vector<State> in(n);
    std::vector<bool> seen(n, false);
    for (std::uint32_t start : starts)
        if (start < n) seen[start] = true;
    for (int pass = 0, changed = 1; changed != 0; ++pass) {
        changed = 0;
        for (std::size_t k = 0; k < n; k += is_wide(insns[k]) ? 2 : 1) {
            if (!seen[k]) continue;
            const State out = transfer(insns, k, in[k]);
            for (std::uint32_t s : successors[k]) {
                State merged = seen[s] ? joined(in[s], out) : out;
                if (seen[s] && merged == in[s]) continue;
                if (pass >= passes_before_widening) merged = State{};
                in[s] = merged;
                seen[s] = true;
                ++changed;
            }
        }
    }
    std::vector<RegisterRanges> ranges(n);
    for (std::size_t k = 0; k < n; ++k) ranges[k] = in[k].regs;
    return ranges;
}

}  // namespace xdpturn::coverage
