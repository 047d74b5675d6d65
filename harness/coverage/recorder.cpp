#include "harness/coverage/recorder.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include "harness/coverage/instrument.hpp"

namespace xdpturn::coverage {

struct SourceLine {
    std::uint32_t file = 0;  // index into ProgramRecord::files
    std::uint32_t line = 0;
    std::uint32_t column = 0;
};

// One instrumented load: its counters map and what each counter means.
struct ProgramRecord {
    std::string name;
    int counters_fd = -1;
    ProbePlan plan;
    std::vector<std::string> files;
    std::vector<std::optional<SourceLine>> line_of;                // by original instruction
    std::vector<std::pair<std::uint32_t, std::string>> functions;  // start, name
    std::size_t insns_before = 0;
    BtfRecords moved_functions;  // what the kernel gets, kept alive until it has loaded
    BtfRecords moved_lines;

    ProgramRecord() = default;
    ProgramRecord(const ProgramRecord&) = delete;
    ProgramRecord& operator=(const ProgramRecord&) = delete;
    ~ProgramRecord() {
        if (counters_fd >= 0) close(counters_fd);
    }
};

namespace {

constexpr long xdp_frags = 1;

struct RecorderState {
    std::mutex mutex;
    bool started = false;
    std::vector<std::unique_ptr<ProgramRecord>> programs;
    std::size_t largest_after = 0;
};

RecorderState& state() {
    static RecorderState instance;
    return instance;
}

thread_local LoadScope* current_scope = nullptr;
thread_local bool suspended = false;

int prepare_load(bpf_program* program, bpf_prog_load_opts* options, long cookie) {
    // What libbpf's own XDP handler would do for these sections.
    if ((cookie & xdp_frags) != 0) options->prog_flags |= BPF_F_XDP_HAS_FRAGS;
    if (current_scope == nullptr || suspended) return 0;
    return current_scope->prepare(program, options);
}

BtfRecords copy_records(const void* data, std::uint32_t size, std::uint32_t count) {
    BtfRecords records;
    records.size = size;
    if (data != nullptr && size >= sizeof(std::uint32_t))
        records.bytes.assign(static_cast<const std::uint8_t*>(data),
                             static_cast<const std::uint8_t*>(data) + std::size_t{size} * count);
    return records;
}

// Which source line each original instruction belongs to, from the line
// records (each holds from its instruction to the next record's).
void map_lines(ProgramRecord& record, const btf* types, const BtfRecords& lines, std::size_t insn_count) {
    record.line_of.assign(insn_count, std::nullopt);
    for (std::size_t k = 0; k < lines.count(); ++k) {
        bpf_line_info info{};
        std::memcpy(&info, lines.bytes.data() + k * lines.size, std::min<std::size_t>(sizeof(info), lines.size));
        const char* file = btf__name_by_offset(types, info.file_name_off);
        const std::string name = file != nullptr ? file : "?";
        auto known = std::find(record.files.begin(), record.files.end(), name);
        if (known == record.files.end()) known = record.files.insert(record.files.end(), name);
        const std::size_t end = k + 1 < lines.count() ? lines.insn_offset(k + 1) : insn_count;
        for (std::size_t i = info.insn_off; i < std::min(end, insn_count); ++i)
            record.line_of[i] =
                SourceLine{static_cast<std::uint32_t>(known - record.files.begin()),
                           BPF_LINE_INFO_LINE_NUM(info.line_col), BPF_LINE_INFO_LINE_COL(info.line_col)};
    }
}

void name_functions(ProgramRecord& record, const btf* types, const BtfRecords& functions) {
    for (std::size_t k = 0; k < functions.count(); ++k) {
        bpf_func_info info{};
        std::memcpy(&info, functions.bytes.data() + k * functions.size,
                    std::min<std::size_t>(sizeof(info), functions.size));
        const btf_type* type = btf__type_by_id(types, info.type_id);
        const char* name = type != nullptr ? btf__name_by_offset(types, type->name_off) : nullptr;
        record.functions.emplace_back(info.insn_off, name != nullptr ? name : "function_" + std::to_string(k));
    }
    if (record.functions.empty()) record.functions.emplace_back(0, "main");
}

// The source view of one program's counters.
SourceCoverage to_source(const ProgramRecord& record, const std::vector<std::uint64_t>& counts) {
    SourceCoverage coverage;
    auto at = [&](std::uint32_t insn) -> std::pair<FileCoverage*, std::uint32_t> {
        const auto& line = record.line_of[insn];
        if (!line) return {nullptr, 0};
        return {&coverage.files[record.files[line->file]], line->line};
    };
    for (std::size_t b = 0; b < record.plan.blocks.size(); ++b) {
        const BlockProbe& block = record.plan.blocks[b];
        for (std::uint32_t i = block.first; i < block.end; ++i)
            if (auto [file, line] = at(i); file != nullptr && line != 0) {
                std::uint64_t& hits = file->lines[line];
                hits = std::max(hits, counts[b]);  // a line runs as often as its busiest block
            }
    }
    for (std::size_t k = 0; k < record.plan.branches.size(); ++k) {
        const BranchProbe& branch = record.plan.branches[k];
        auto [file, line] = at(branch.jump);
        if (file == nullptr) continue;
        const std::uint64_t reached = counts[branch.block];
        const std::uint64_t fell = counts[record.plan.blocks.size() + k];
        file->branches[line][branch.jump] = {reached - std::min(reached, fell), fell, reached > 0};
    }
    // A comparison is counted by its place in the source (line and
    // column): every inlined copy of it adds to the same counts, so a
    // side met in any copy is met (an off-by-one in the source is in all).
    for (std::size_t k = 0; k < record.plan.comparisons.size(); ++k) {
        const ComparisonProbe& comparison = record.plan.comparisons[k];
        auto [file, line] = at(comparison.jump);
        if (file == nullptr) continue;
        BoundaryCounts& boundary = file->boundaries[line][record.line_of[comparison.jump]->column];
        for (Side side : {Side::below, Side::at, Side::above}) {
            const auto s = static_cast<std::size_t>(side);
            boundary.measured[s] = boundary.measured[s] || comparison.measured[s];
            boundary.met[s] += counts[record.plan.comparison_counter(k, side)];
        }
    }
    for (const auto& entry : record.functions) {
        const std::uint32_t start = entry.first;
        const std::string& name = entry.second;
        auto block = std::find_if(record.plan.blocks.begin(), record.plan.blocks.end(),
                                  [start](const BlockProbe& b) { return b.first == start; });
        auto [file, line] = at(start);
        if (file == nullptr || block == record.plan.blocks.end()) continue;
        FunctionCounts& function = file->functions[name];
        function.line = line;
        function.hits += counts[static_cast<std::size_t>(block - record.plan.blocks.begin())];
    }
    return coverage;
}

Result<std::vector<std::uint64_t>> read_counts(const ProgramRecord& record) {
    std::vector<std::uint64_t> counts(std::max<std::size_t>(1, record.plan.counters()));
    const std::uint32_t key = 0;
    if (bpf_map_lookup_elem(record.counters_fd, &key, counts.data()) != 0)
        return Error{"cannot read the coverage counters of " + record.name + ": " + std::strerror(errno)};
    return counts;
}

}  // namespace

Status Recorder::start() {
    RecorderState& s = state();
    std::lock_guard lock(s.mutex);
    if (s.started) return ok_status();
    for (auto [section, cookie] : {std::pair{"xdp", 0L}, std::pair{"xdp.frags", xdp_frags}}) {
        LIBBPF_OPTS(libbpf_prog_handler_opts, handler, .cookie = cookie, .prog_prepare_load_fn = prepare_load);
        if (libbpf_register_prog_handler(section, BPF_PROG_TYPE_XDP, BPF_XDP, &handler) < 0)
            return Error{std::string("cannot register a libbpf program handler for SEC(\"") + section + "\")"};
    }
    s.started = true;
    return ok_status();
}

bool Recorder::active() {
    RecorderState& s = state();
    std::lock_guard lock(s.mutex);
    return s.started;
}

Result<SourceCoverage> Recorder::collect() {
    RecorderState& s = state();
    std::lock_guard lock(s.mutex);
    SourceCoverage total;
    for (const auto& record : s.programs) {
        auto counts = read_counts(*record);
        if (!counts) return counts.error();
        total.merge(to_source(*record, *counts));
    }
    return total;
}

RecorderStats Recorder::stats() {
    RecorderState& s = state();
    std::lock_guard lock(s.mutex);
    RecorderStats stats;
    stats.programs = s.programs.size();
    for (const auto& record : s.programs)
        if (record->plan.counters() >= stats.counters) {
            stats.counters = record->plan.counters();
            stats.insns_before = record->insns_before;
        }
    stats.insns_after = s.largest_after;
    return stats;
}

Recorder::Suspend::Suspend() : previous_(std::exchange(suspended, true)) {}
Recorder::Suspend::~Suspend() {
    suspended = previous_;
}

LoadScope::LoadScope(bpf_object* object) : object_(object), previous_(std::exchange(current_scope, this)) {}

LoadScope::~LoadScope() {
    current_scope = previous_;
}

void LoadScope::loaded() {
    RecorderState& s = state();
    std::lock_guard lock(s.mutex);
    for (auto& record : pending_) s.programs.push_back(std::move(record));
    pending_.clear();
}

int LoadScope::prepare(bpf_program* program, bpf_prog_load_opts* options) {
    auto record = std::make_unique<ProgramRecord>();
    record->name = bpf_program__name(program);
    const std::span<const bpf_insn> insns(bpf_program__insns(program), bpf_program__insn_cnt(program));
    record->insns_before = insns.size();
    const BtfRecords functions = copy_records(options->func_info, options->func_info_rec_size, options->func_info_cnt);
    const BtfRecords lines = copy_records(options->line_info, options->line_info_rec_size, options->line_info_cnt);
    const btf* types = bpf_object__btf(object_);
    auto fail = [&](const std::string& why) {
        error_ = "cannot add coverage probes to program '" + record->name + "': " + why;
        return -EINVAL;
    };
    if (lines.count() == 0 || types == nullptr) return fail("it has no BTF line information (build it with clang -g)");
    auto plan = plan_probes(insns, functions);
    if (!plan) return fail(plan.error().message);
    const auto value_size = static_cast<std::uint32_t>(std::max<std::size_t>(1, plan->counters()) * 8);
    record->counters_fd =
        bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdpturn_cov", sizeof(std::uint32_t), value_size, 1, nullptr);
    if (record->counters_fd < 0) return fail(std::string("cannot create its counters map: ") + std::strerror(errno));
    auto instrumented = instrument(insns, functions, lines, record->counters_fd);
    if (!instrumented) return fail(instrumented.error().message);
    map_lines(*record, types, lines, insns.size());
    name_functions(*record, types, functions);
    record->plan = std::move(instrumented->plan);
    record->moved_functions = std::move(instrumented->functions);
    record->moved_lines = std::move(instrumented->lines);
    if (bpf_program__set_insns(program, instrumented->insns.data(), instrumented->insns.size()) != 0)
        return fail("libbpf refused the new instructions");
    if (record->moved_functions.count() > 0) options->func_info = record->moved_functions.bytes.data();
    options->line_info = record->moved_lines.bytes.data();
    {
        RecorderState& s = state();
        std::lock_guard lock(s.mutex);
        s.largest_after = std::max(s.largest_after, instrumented->insns.size());
    }
    pending_.push_back(std::move(record));
    return 0;
}

}  // namespace xdpturn::coverage
