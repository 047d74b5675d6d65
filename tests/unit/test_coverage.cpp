// The coverage probes (harness/coverage/instrument.hpp) on hand-written
// instruction sequences, and the lcov tracefile and the gate on hand-made
// coverage: nothing here needs the kernel. That the probes count exactly in
// the kernel is tests/bpf/test_coverage_probes.cpp's.
#define BOOST_TEST_MODULE coverage
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <set>

#include "harness/coverage/instrument.hpp"
#include "harness/coverage/source_coverage.hpp"
#include "harness/io/output_files.hpp"

using namespace xdpturn::coverage;

namespace {

constexpr int fake_map_fd = 42;
constexpr std::size_t probe_slots = 4;  // ld_imm64 (two slots), mov, atomic add; no spills

bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst;
    i.src_reg = src;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn mov(std::uint8_t dst, std::int32_t imm) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn add_reg(std::uint8_t dst, std::uint8_t src) {
    return insn(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0);
}
bpf_insn jeq(std::uint8_t dst, std::int32_t imm, std::int16_t off) {
    return insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm);
}
bpf_insn exit_insn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}
bpf_insn store(std::int16_t off, std::uint8_t src) {
    return insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, src, off, 0);
}

bool is_probe_start(const bpf_insn& i) {
    return i.code == (BPF_LD | BPF_IMM | BPF_DW) && i.src_reg == BPF_PSEUDO_MAP_VALUE && i.imm == fake_map_fd;
}

// The counter a probe starting at `at` adds to.
std::size_t counter_of(const std::vector<bpf_insn>& insns, std::size_t at) {
    return static_cast<std::size_t>(insns[at + 1].imm) / 8;
}

BtfRecords lines_at(std::initializer_list<std::uint32_t> offsets) {
    BtfRecords records;
    records.size = sizeof(bpf_line_info);
    for (std::uint32_t offset : offsets) {
        bpf_line_info info{};
        info.insn_off = offset;
        info.line_col = (offset + 100) << 10;  // line 100 + offset: tells the records apart
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(&info);
        records.bytes.insert(records.bytes.end(), bytes, bytes + sizeof(info));
    }
    return records;
}

}  // namespace

// r0 = 0; if r1 == 0 goto L; r0 = 1; L: exit
// Blocks [0,2) [2,3) [3,4); the jump's fall-through edge gets its own probe
// between the jump and the next block's, and the jump is moved to land on
// the probe of its target's block, past the edge probe.
BOOST_AUTO_TEST_CASE(a_branch_gets_block_and_edge_probes_and_its_jump_lands_on_the_block_probe) {
    const std::vector<bpf_insn> program = {mov(0, 0), jeq(1, 0, 1), mov(0, 1), exit_insn()};
    auto plan = plan_probes(program, {}, Comparisons::left_out);
    BOOST_REQUIRE(plan.ok());
    BOOST_TEST(plan->blocks.size() == 3u);
    BOOST_TEST(plan->branches.size() == 1u);
    BOOST_TEST(plan->branches[0].jump == 1u);
    BOOST_TEST(plan->branches[0].block == 0u);

    auto done = instrument(program, {}, lines_at({0, 2, 3}), fake_map_fd, Comparisons::left_out);
    BOOST_REQUIRE(done.ok());
    const auto& out = done->insns;
    // probe(block 0), mov, jump, probe(edge), probe(block 1), mov, probe(block 2), exit
    BOOST_REQUIRE(out.size() == program.size() + 4 * probe_slots);
    BOOST_TEST(is_probe_start(out[0]));
    BOOST_TEST(counter_of(out, 0) == 0u);
    const std::size_t jump_at = probe_slots + 1;
    BOOST_TEST(out[jump_at].code == (BPF_JMP | BPF_JEQ | BPF_K));
    BOOST_TEST(is_probe_start(out[jump_at + 1]));
    BOOST_TEST(counter_of(out, jump_at + 1) == 3u);  // the edge: after the three blocks
    BOOST_TEST(counter_of(out, jump_at + 1 + probe_slots) == 1u);
    const std::size_t target = jump_at + 1 + 2 * probe_slots + 1;  // past the edge, block 1 and its mov
    BOOST_TEST(is_probe_start(out[target]));
    BOOST_TEST(counter_of(out, target) == 2u);
    BOOST_TEST(jump_at + 1 + static_cast<std::size_t>(out[jump_at].off) == target);
    BOOST_TEST(out.back().code == (BPF_JMP | BPF_EXIT));
    // Line records move with the probes in front of their instruction.
    BOOST_TEST(done->lines.insn_offset(0) == 0u);
    BOOST_TEST(done->lines.insn_offset(1) == jump_at + 1 + probe_slots);
    BOOST_TEST(done->lines.insn_offset(2) == target);
}

// Probes use registers that are dead where they sit: here r0 is written
// before it is read and r2..r9 are never read, so nothing is saved.
BOOST_AUTO_TEST_CASE(probes_use_dead_registers_and_leave_live_ones_alone) {
    const std::vector<bpf_insn> program = {mov(0, 7), add_reg(0, 1), exit_insn()};
    auto done = instrument(program, {}, lines_at({0}), fake_map_fd, Comparisons::left_out);
    BOOST_REQUIRE(done.ok());
    const bpf_insn& load = done->insns[0];
    const bpf_insn& one = done->insns[2];
    BOOST_TEST(load.dst_reg != 1);  // r1 (the context) is read below
    BOOST_TEST(one.dst_reg != 1);
    BOOST_TEST(done->insns.size() == program.size() + probe_slots);
}

// When every register a probe could use is live, two that are certainly
// initialised are spilled below the deepest stack slot the function uses,
// and restored after the probe.
BOOST_AUTO_TEST_CASE(probes_spill_below_the_stack_when_no_register_is_free) {
    std::vector<bpf_insn> program;
    for (std::uint8_t r = 0; r <= 9; ++r) program.push_back(mov(r, r));
    program.push_back(store(-16, 3));
    program.push_back(jeq(1, 0, 0));  // a jump to the next instruction: a new block with r0..r9 live
    for (std::uint8_t r = 1; r <= 9; ++r) program.push_back(add_reg(0, r));
    program.push_back(exit_insn());
    auto done = instrument(program, {}, lines_at({0}), fake_map_fd, Comparisons::left_out);
    BOOST_REQUIRE(done.ok());
    std::vector<std::int16_t> spill_offsets;
    for (const bpf_insn& i : done->insns)
        if (i.code == (BPF_STX | BPF_MEM | BPF_DW) && i.dst_reg == BPF_REG_10 && i.off != -16)
            spill_offsets.push_back(i.off);
    BOOST_REQUIRE(!spill_offsets.empty());
    for (std::int16_t off : spill_offsets) BOOST_TEST(off < -16);
}

BOOST_AUTO_TEST_CASE(a_jump_out_of_its_function_is_refused) {
    const std::vector<bpf_insn> program = {jeq(1, 0, 5), exit_insn()};
    auto plan = plan_probes(program, {}, Comparisons::left_out);
    BOOST_REQUIRE(!plan.ok());
    BOOST_TEST(plan.error().message.find("not an instruction of its function") != std::string::npos);
}

namespace {

SourceCoverage sample() {
    SourceCoverage coverage;
    FileCoverage& file = coverage.files["/src/prog.c"];
    file.lines = {{10, 5}, {11, 0}, {12, 3}};
    file.branches[10][7] = {2, 3, true};
    file.branches[12][9] = {0, 0, false};
    file.functions["prog"] = {10, 5};
    return coverage;
}

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("xdpturn_test_coverage_" + name)).string();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_tracefile_reads_back_as_written_and_merges_by_adding) {
    const std::string path = temp_path("roundtrip.info");
    BOOST_REQUIRE(xdpturn::write_text_file(path, lcov_text(sample(), "test")).ok());
    auto read = read_lcov_file(path);
    BOOST_REQUIRE(read.ok());
    const FileCoverage& file = read->files.at("/src/prog.c");
    BOOST_TEST(file.lines.at(10) == 5u);
    BOOST_TEST(file.lines.at(11) == 0u);
    BOOST_TEST(file.branches.at(10).at(7).taken == 2u);
    BOOST_TEST(file.branches.at(10).at(7).fell_through == 3u);
    BOOST_TEST(!file.branches.at(12).at(9).reached);
    BOOST_TEST(file.functions.at("prog").hits == 5u);
    read->merge(sample());
    BOOST_TEST(read->files.at("/src/prog.c").lines.at(10) == 10u);
    BOOST_TEST(read->files.at("/src/prog.c").branches.at(10).at(7).fell_through == 6u);
    const Totals totals = read->totals();
    BOOST_TEST(totals.lines_found == 3u);
    BOOST_TEST(totals.lines_hit == 2u);
    BOOST_TEST(totals.branches_found == 4u);
    BOOST_TEST(totals.branches_hit == 2u);
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(a_malformed_tracefile_is_an_error_with_its_place) {
    const std::string path = temp_path("bad.info");
    std::ofstream(path) << "SF:/x.c\nDA:ten,1\nend_of_record\n";
    auto read = read_lcov_file(path);
    BOOST_REQUIRE(!read.ok());
    BOOST_TEST(read.error().message.find(":2:") != std::string::npos);
    std::filesystem::remove(path);
}

// The gate: an unreached line and branch fail it; a marker with a reason
// excludes them; a marker without one fails it; a marker over code that all
// ran is listed as stale; a branch direction taken fewer times than the
// threshold is listed as rare.
BOOST_AUTO_TEST_CASE(the_gate_fails_unreached_code_unless_a_marker_explains_it) {
    const std::string source = temp_path("prog.c");
    auto coverage_of = [&](std::initializer_list<std::pair<const std::uint32_t, std::uint64_t>> lines) {
        SourceCoverage coverage;
        FileCoverage& file = coverage.files[source];
        file.lines = lines;
        file.branches[2][0] = {0, 400, true};  // never taken
        file.branches[3][1] = {150, 7, true};  // fell through 7 times: rare below 100
        return coverage;
    };
    std::ofstream(source) << "int a;\nif (x)\nif (y)\nreturn 1;\n";
    auto failing = run_gate(coverage_of({{1, 4}, {2, 4}, {3, 4}, {4, 0}}), {"prog.c", 100});
    BOOST_REQUIRE(failing.ok());
    BOOST_TEST(!failing->passed());
    BOOST_TEST(failing->unreached.size() == 2u);  // line 4, and line 2's jump
    BOOST_TEST(failing->rare.size() == 1u);

    std::ofstream(source) << "int a;\nif (x) /* LCOV_EXCL_BR_LINE: x is never 0 here */\nif (y)\n"
                             "return 1; /* LCOV_EXCL_LINE: y is never 0 either */\n";
    auto passing = run_gate(coverage_of({{1, 4}, {2, 4}, {3, 4}, {4, 0}}), {"prog.c", 100});
    BOOST_REQUIRE(passing.ok());
    BOOST_TEST(passing->passed());
    BOOST_TEST(passing->exclusions.size() == 2u);
    BOOST_TEST(passing->stale.empty());

    auto stale = run_gate(coverage_of({{1, 4}, {2, 4}, {3, 4}, {4, 9}}), {"prog.c", 100});
    BOOST_REQUIRE(stale.ok());
    BOOST_TEST(stale->stale.size() == 1u);  // line 4 ran after all

    std::ofstream(source) << "int a;\nif (x) /* LCOV_EXCL_BR_LINE */\nif (y)\nreturn 1; /* LCOV_EXCL_LINE: y */\n";
    auto unexplained = run_gate(coverage_of({{1, 4}, {2, 4}, {3, 4}, {4, 0}}), {"prog.c", 100});
    BOOST_REQUIRE(unexplained.ok());
    BOOST_TEST(!unexplained->passed());
    BOOST_TEST(unexplained->unexplained.size() == 1u);
    std::filesystem::remove(source);
}

// Ranges: START/STOP exclude lines and branches, BR_START/BR_STOP only
// branches; a STOP without its START, or a range never closed, is an error.
BOOST_AUTO_TEST_CASE(exclusion_ranges_cover_their_lines_and_must_be_closed) {
    const std::string source = temp_path("ranges.c");
    SourceCoverage coverage;
    FileCoverage& file = coverage.files[source];
    file.lines = {{2, 0}, {3, 0}, {6, 5}};
    file.branches[6][0] = {0, 5, true};
    std::ofstream(source) << "/* LCOV_EXCL_START: never */\na;\nb;\n/* LCOV_EXCL_STOP */\n"
                             "/* LCOV_EXCL_BR_START: never taken */\nif (c)\n/* LCOV_EXCL_BR_STOP */\n";
    auto gate = run_gate(coverage, {"ranges.c", 1});
    BOOST_REQUIRE(gate.ok());
    BOOST_TEST(gate->passed());
    BOOST_TEST(gate->exclusions.size() == 2u);
    BOOST_TEST(gate->exclusions[1].branches_only);

    std::ofstream(source) << "a;\n/* LCOV_EXCL_BR_STOP */\n";
    auto unopened = run_gate(coverage, {"ranges.c", 1});
    BOOST_REQUIRE(!unopened.ok());
    BOOST_TEST(unopened.error().message.find("LCOV_EXCL_BR_STOP without START") != std::string::npos);

    std::ofstream(source) << "/* LCOV_EXCL_START: open */\na;\n";
    auto unclosed = run_gate(coverage, {"ranges.c", 1});
    BOOST_REQUIRE(!unclosed.ok());
    BOOST_TEST(unclosed.error().message.find("never closed") != std::string::npos);
    std::filesystem::remove(source);
}

BOOST_AUTO_TEST_CASE(the_gate_needs_the_source_in_the_data) {
    auto gate = run_gate(sample(), {"missing.c", 100});
    BOOST_REQUIRE(!gate.ok());
    BOOST_TEST(gate.error().message.find("missing.c") != std::string::npos);
}

namespace {

bpf_insn load(std::uint8_t size, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
    return insn(BPF_LDX | BPF_MEM | size, dst, src, off, 0);
}
// A program that ends each test: r0 = 0; exit.
void finish(std::vector<bpf_insn>& program) {
    program.push_back(mov(0, 0));
    program.push_back(exit_insn());
}
std::array<bool, sides> sides_of(const std::vector<bpf_insn>& program) {
    auto plan = plan_probes(program, {});
    BOOST_REQUIRE(plan.ok());
    BOOST_REQUIRE(plan->comparisons.size() == 1u);
    return plan->comparisons[0].measured;
}
constexpr std::array<bool, sides> all_sides{true, true, true};
constexpr std::array<bool, sides> only_at{false, true, false};

}  // namespace

// A 16-bit field compared with 5: 4, 5 and 6 can all occur. Compared with 0
// it is never 0 - 1 (a wide register holds 0..65535): only at and above.
BOOST_AUTO_TEST_CASE(a_comparison_measures_the_sides_its_operand_can_take) {
    std::vector<bpf_insn> greater = {load(BPF_H, 2, 1, 0), insn(BPF_JMP | BPF_JGT | BPF_K, 2, 0, 0, 5)};
    finish(greater);
    BOOST_TEST(sides_of(greater) == all_sides);

    std::vector<bpf_insn> zero = {load(BPF_H, 2, 1, 0), jeq(2, 0, 0)};
    finish(zero);
    BOOST_TEST((sides_of(zero) == std::array<bool, sides>{false, true, true}));

    // The version nibble as its byte's high four bits: 0x3F and 0x41 have
    // low bits the mask cleared.
    std::vector<bpf_insn> nibble = {load(BPF_B, 2, 1, 0), insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xF0),
                                    jeq(2, 0x40, 0)};
    finish(nibble);
    BOOST_TEST(sides_of(nibble) == only_at);

    // A flag of 0 or 1 kept on the stack and read back.
    std::vector<bpf_insn> flag = {load(BPF_B, 2, 1, 0), insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 1), store(-8, 2),
                                  load(BPF_DW, 3, BPF_REG_10, -8), jeq(3, 1, 0)};
    finish(flag);
    BOOST_TEST((sides_of(flag) == std::array<bool, sides>{true, true, false}));
}

// A null test of a helper's result is a pointer's: only "at".
BOOST_AUTO_TEST_CASE(a_null_test_measures_only_at) {
    std::vector<bpf_insn> program = {insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem), jeq(0, 0, 0)};
    finish(program);
    BOOST_TEST(sides_of(program) == only_at);
}

// The packet's end may not be moved by one (the verifier refuses pointer
// arithmetic on it): the probe moves the other operand, on a copy.
BOOST_AUTO_TEST_CASE(a_bounds_test_moves_the_packet_pointer_never_its_end) {
    std::vector<bpf_insn> program = {load(BPF_W, 2, 1, 0), load(BPF_W, 3, 1, 4),
                                     insn(BPF_JMP | BPF_JGT | BPF_X, 3, 2, 0, 0)};  // if data_end > data
    finish(program);
    BOOST_TEST(sides_of(program) == all_sides);
    auto done = instrument(program, {}, lines_at({0}), fake_map_fd);
    BOOST_REQUIRE(done.ok());
    bool copied_data = false;
    for (const bpf_insn& i : done->insns) {
        const bool copy = i.code == (BPF_ALU64 | BPF_MOV | BPF_X);
        BOOST_TEST(!(copy && i.src_reg == 3), "the end of the packet is never copied to be moved");
        copied_data = copied_data || (copy && i.src_reg == 2);
    }
    BOOST_TEST(copied_data);
}

// The probe's tests: against the constant, the constant minus and plus one;
// each jumps to an increment of its own counter, and all end before the
// original jump, which still lands where it did.
BOOST_AUTO_TEST_CASE(a_comparison_probe_tests_each_side_and_counts_it) {
    std::vector<bpf_insn> program = {load(BPF_H, 2, 1, 0), insn(BPF_JMP | BPF_JGT | BPF_K, 2, 0, 1, 5)};
    finish(program);
    auto done = instrument(program, {}, lines_at({0}), fake_map_fd);
    BOOST_REQUIRE(done.ok());
    std::vector<std::int32_t> tested;
    for (const bpf_insn& i : done->insns)
        if (i.code == (BPF_JMP | BPF_JEQ | BPF_K) && i.dst_reg == 2) tested.push_back(i.imm);
    BOOST_TEST((tested == std::vector<std::int32_t>{5, 4, 6}));
    const ProbePlan& plan = done->plan;
    std::set<std::size_t> counted;
    for (std::size_t k = 0; k + 1 < done->insns.size(); ++k)
        if (is_probe_start(done->insns[k])) counted.insert(counter_of(done->insns, k));
    for (Side side : {Side::below, Side::at, Side::above})
        BOOST_TEST(counted.contains(plan.comparison_counter(0, side)));
    const auto original = std::find_if(done->insns.begin(), done->insns.end(),
                                       [](const bpf_insn& i) { return i.code == (BPF_JMP | BPF_JGT | BPF_K); });
    BOOST_REQUIRE(original != done->insns.end());
    const auto at = static_cast<std::size_t>(original - done->insns.begin());
    const std::size_t target = at + 1 + static_cast<std::size_t>(original->off);
    BOOST_TEST(is_probe_start(done->insns[target]), "the jump lands on its target block's probe");
    BOOST_TEST(done->insns[target + probe_slots].code == (BPF_JMP | BPF_EXIT),
               "... and then on the exit it skipped to");
}

// The boundary gate: a measured side never met fails it only when
// boundaries are gated; a boundary marker (or any other marker on the line)
// excludes it; a record naming a line past the source's end is refused; and
// the tracefile carries boundaries through lcov's branch records.
BOOST_AUTO_TEST_CASE(the_boundary_gate_fails_unmet_sides_unless_a_marker_explains_them) {
    const std::string source = temp_path("compare.c");
    auto coverage_at = [&](std::uint32_t line) {
        SourceCoverage coverage;
        FileCoverage& file = coverage.files[source];
        file.lines = {{1, 4}, {2, 4}, {3, 4}};
        BoundaryCounts& compare = file.boundaries[line][5];
        compare.met = {0, 3, 1};  // never one below
        compare.measured = {true, true, true};
        return coverage;
    };
    std::ofstream(source) << "int a;\nif (x > 4)\nreturn 1;\n";
    auto ungated = run_gate(coverage_at(2), {"compare.c", 100});
    BOOST_REQUIRE(ungated.ok());
    BOOST_TEST(ungated->passed());
    BOOST_TEST(ungated->unmet.size() == 1u);  // listed, not gated
    auto gated = run_gate(coverage_at(2), {"compare.c", 100, true});
    BOOST_REQUIRE(gated.ok());
    BOOST_TEST(!gated->passed());
    BOOST_TEST(gated->unmet.size() == 1u);
    BOOST_TEST(gated->totals.boundaries_found == 3u);
    BOOST_TEST(gated->totals.boundaries_hit == 2u);

    auto beyond = run_gate(coverage_at(9), {"compare.c", 100, true});
    BOOST_TEST(!beyond.ok(), "a boundary on line 9 of a 3-line source is another file's record");

    std::ofstream(source) << "int a;\nif (x > 4) /* XDPTURN_BOUNDARY_EXCL_LINE: x is never 3 */\nreturn 1;\n";
    auto excluded = run_gate(coverage_at(2), {"compare.c", 100, true});
    BOOST_REQUIRE(excluded.ok());
    BOOST_TEST(excluded->passed());
    BOOST_TEST(excluded->exclusions.size() == 1u);
    BOOST_TEST(excluded->exclusions[0].boundaries_only);

    auto read = parse_lcov(lcov_text(coverage_at(2), "t"), "round-trip");
    BOOST_REQUIRE(read.ok());
    const BoundaryCounts& back = read->files.at(source).boundaries.at(2).at(5);
    BOOST_TEST((back.met == std::array<std::uint64_t, 3>{0, 3, 1}));
    BOOST_TEST((back.measured == std::array<bool, 3>{true, true, true}));
    std::filesystem::remove(source);
}
