// What the coverage code asks of a single BPF instruction: its kind, and the
// stack it may use. Shared by the instrumentation and its range analysis.
#pragma once

#include <linux/bpf.h>

namespace xdpturn::coverage {

inline constexpr int frame_pointer = BPF_REG_10;
inline constexpr int deepest_stack_offset = -512;

// A 64-bit constant load: two instruction slots.
inline bool is_wide(const bpf_insn& insn) {
    return insn.code == (BPF_LD | BPF_IMM | BPF_DW);
}
inline bool is_jump_class(const bpf_insn& insn) {
    return BPF_CLASS(insn.code) == BPF_JMP || BPF_CLASS(insn.code) == BPF_JMP32;
}
inline bool is_call(const bpf_insn& insn) {
    return is_jump_class(insn) && BPF_OP(insn.code) == BPF_CALL;
}

}  // namespace xdpturn::coverage
