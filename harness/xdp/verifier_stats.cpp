#include "harness/xdp/verifier_stats.hpp"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "harness/xdp/bpf_object_tools.hpp"

namespace xdpturn {

namespace {

// BPF_LOG_STATS: the verifier's totals only, a few hundred bytes, so the
// buffer cannot overflow (before 6.4 an overflow fails the load).
constexpr __u32 log_level_stats = 4;
constexpr std::size_t stats_log_bytes = 64 * 1024;

Result<BpfObjectPtr> open_object(const std::string& path) {
    BpfObjectPtr object(bpf_object__open_file(path.c_str(), nullptr));
    if (!object) return Error{"cannot open " + path + ": " + explain_errno(errno)};
    // Verification only: a description's pins must not land in /sys/fs/bpf.
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, object.get()) {
        if (bpf_map__set_pin_path(map, nullptr) != 0) return Error{"cannot switch off pinning in " + path};
    }
    return object;
}

// Only `wanted` of the object is loaded.
void load_only(bpf_object* object, const std::string& wanted) {
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, object) {
        bpf_program__set_autoload(program, wanted == bpf_program__name(program));
    }
}

ProgramVerdict verify_program(const std::string& path, const std::string& name, const std::string& section) {
    ProgramVerdict verdict{path, name, section, false, std::nullopt, {}, {}};
    auto object = open_object(path);
    if (!object) {
        verdict.error = object.error().message;
        return verdict;
    }
    load_only(object->get(), name);
    bpf_program* program = bpf_object__find_program_by_name(object->get(), name.c_str());
    std::string log(stats_log_bytes, '\0');
    bpf_program__set_log_level(program, log_level_stats);
    bpf_program__set_log_buf(program, log.data(), log.size());
    std::string libbpf_messages;  // this attempt's; the second one says why
    const bool loaded = [&] {
        const LogCapture quiet(libbpf_messages);
        return bpf_object__load(object->get()) == 0;
    }();
    if (loaded) {
        verdict.loaded = true;
        verdict.stats = parse_verifier_stats(log.c_str());
        if (!verdict.stats) verdict.unread_log = tail_lines(log.c_str(), 3);
        return verdict;
    }
    // Refused: load it again the ordinary way, for the verifier's reasons
    // (libbpf retries a failed load with the full log).
    auto again = open_object(path);
    if (!again) {
        verdict.error = again.error().message;
        return verdict;
    }
    load_only(again->get(), name);
    const Status reloaded = load_object(again->get(), name);
    verdict.error =
        reloaded ? "refused with statistics on, loaded without: " + std::string(log.c_str()) : reloaded.error().message;
    return verdict;
}

}  // namespace

std::optional<VerifierStats> parse_verifier_stats(const std::string& log) {
    // Newer kernels print "insns processed N" on a line of its own before
    // the statistics line, so every "processed " is tried.
    for (auto at = log.find("processed "); at != std::string::npos; at = log.find("processed ", at + 1)) {
        unsigned long long processed = 0, limit = 0, per_insn = 0, total = 0, peak = 0;
        const int read = std::sscanf(log.c_str() + at,
                                     "processed %llu insns (limit %llu) max_states_per_insn %llu total_states %llu "
                                     "peak_states %llu",
                                     &processed, &limit, &per_insn, &total, &peak);
        if (read == 5) return VerifierStats{processed, limit, total, peak, per_insn};
    }
    return std::nullopt;
}

std::vector<ProgramVerdict> verify_object(const std::string& object_path) {
    auto object = open_object(object_path);
    if (!object) return {ProgramVerdict{object_path, "", "", false, std::nullopt, object.error().message, {}}};
    std::vector<ProgramVerdict> verdicts;
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, object->get()) {
        verdicts.push_back(verify_program(object_path, bpf_program__name(program), bpf_program__section_name(program)));
    }
    if (verdicts.empty())
        verdicts.push_back(ProgramVerdict{object_path, "", "", false, std::nullopt, "the object holds no program", {}});
    return verdicts;
}

}  // namespace xdpturn
