#include "harness/xdp/bpf_object_tools.hpp"

#include <bpf/btf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include <bpf/bpf.h>

#include "harness/coverage/recorder.hpp"
#include "harness/xdp/xdp_program.hpp"

namespace xdpturn {

namespace {

// libbpf reports through one global print callback, called on the thread
// that loads: loading collects its messages (the verifier log among them)
// into that thread's sink, so a failure can say why, and loads on several
// threads neither wait for each other nor mix their logs.
thread_local std::string* log_sink = nullptr;

int collect_libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG) return 0;
    if (log_sink == nullptr) return std::vfprintf(stderr, format, args);  // as libbpf's own printer does
    // The verifier's log arrives as one message of many lines: sized first,
    // so nothing of it is cut.
    va_list sizing;
    va_copy(sizing, args);
    const int length = std::vsnprintf(nullptr, 0, format, sizing);
    va_end(sizing);
    if (length <= 0) return length;
    std::string message(static_cast<std::size_t>(length) + 1, '\0');
    std::vsnprintf(message.data(), message.size(), format, args);
    message.resize(static_cast<std::size_t>(length));
    log_sink->append(message);
    return length;
}

}  // namespace

LogCapture::LogCapture(std::string& sink) : previous_(std::exchange(log_sink, &sink)) {
    static std::once_flag installed;
    std::call_once(installed, [] { libbpf_set_print(collect_libbpf_log); });
}

LogCapture::~LogCapture() {
    log_sink = previous_;
}

std::string tail_lines(const std::string& text, std::size_t count) {
    std::size_t position = text.size();
    for (std::size_t lines = 0; position > 0 && lines <= count; --position)
        if (text[position - 1] == '\n') ++lines;
    return text.substr(position);
}

std::string explain_errno(int error) {
    switch (error) {
        case EACCES:
            // The verifier answers EACCES for a program it rejects; for
            // root that is the only way to get it.
            if (geteuid() == 0) return "the verifier rejected the program (see its log below)";
            [[fallthrough]];
        case EPERM:
            return "permission denied: loading BPF programs needs root or CAP_BPF + CAP_NET_ADMIN "
                   "(and CAP_PERFMON on some kernels)";
        case ENOSYS: return "the kernel has no bpf() system call (CONFIG_BPF_SYSCALL off)";
        case EINVAL: return "the kernel rejected the object (see the verifier log below)";
        default: return bpf_error_text(error);
    }
}

void BpfObjectCloser::operator()(bpf_object* object) const {
    bpf_object__close(object);
}

Status load_object(bpf_object* object, const std::string& what) {
    std::string log;
    LogCapture capture(log);
    coverage::LoadScope probes(object);
    if (bpf_object__load(object) != 0) {
        const int error = errno;
        if (!probes.error().empty()) return Error{"cannot load " + what + ": " + probes.error()};
        return Error{"cannot load " + what + ": " + explain_errno(error) +
                     (log.empty() ? std::string() : "\nlibbpf and verifier log (last lines):\n" + tail_lines(log, 30))};
    }
    probes.loaded();
    return ok_status();
}

Result<GlobalVariable> find_global(bpf_object* object, const char* section, const char* variable) {
    const btf* types = bpf_object__btf(object);
    if (types == nullptr) return Error{"the object has no BTF; build it with clang -g"};
    const int section_id = btf__find_by_name_kind(types, section, BTF_KIND_DATASEC);
    if (section_id < 0) return Error{std::string("the object has no ") + section + " section"};
    const btf_type* datasec = btf__type_by_id(types, static_cast<__u32>(section_id));
    const btf_var_secinfo* info = btf_var_secinfos(datasec);
    for (int i = 0; i < btf_vlen(datasec); ++i, ++info) {
        const btf_type* var = btf__type_by_id(types, info->type);
        if (std::strcmp(btf__name_by_offset(types, var->name_off), variable) != 0) continue;
        bpf_map* map = nullptr;
        for (bpf_map* candidate = bpf_object__next_map(object, nullptr); candidate != nullptr;
             candidate = bpf_object__next_map(object, candidate)) {
            if (std::string_view(bpf_map__name(candidate)).ends_with(section)) map = candidate;
        }
        if (map == nullptr) return Error{std::string("no map backs section ") + section};
        return GlobalVariable{map, info->offset, info->size};
    }
    return Error{std::string("the object has no global '") + variable + "' in " + section};
}

Status set_rodata(bpf_object* object, const char* variable, std::span<const std::uint8_t> value) {
    auto global = find_global(object, ".rodata", variable);
    if (!global) return global.error();
    if (global->size != value.size())
        return Error{std::string("global '") + variable + "' is not " + std::to_string(value.size()) + " bytes"};
    std::size_t size = 0;
    const void* initial = bpf_map__initial_value(global->map, &size);
    if (initial == nullptr || global->offset + value.size() > size) return Error{"cannot read .rodata"};
    std::vector<std::uint8_t> data(static_cast<const std::uint8_t*>(initial),
                                   static_cast<const std::uint8_t*>(initial) + size);
    std::copy(value.begin(), value.end(), data.begin() + static_cast<std::ptrdiff_t>(global->offset));
    if (bpf_map__set_initial_value(global->map, data.data(), data.size()) != 0)
        return Error{"cannot set .rodata before load"};
    return ok_status();
}

namespace {

// Every counter in one batched read (arrays: kernel 5.6 and later): the
// property run reads them after every block, and a read per reason costs a
// syscall each. False when the kernel cannot, or the map is shorter.
bool read_counters_batched(int counters_fd, int cpus, ReasonTally& totals) {
    const auto per_key = static_cast<std::size_t>(cpus);
    std::vector<std::uint32_t> keys(reason_count);
    std::vector<std::uint64_t> values(reason_count * per_key);
    std::uint32_t count = reason_count;
    std::uint32_t next = 0;
    LIBBPF_OPTS(bpf_map_batch_opts, options);
    const int status = bpf_map_lookup_batch(counters_fd, nullptr, &next, keys.data(), values.data(), &count, &options);
    if ((status != 0 && errno != ENOENT) || count != reason_count) return false;
    for (std::size_t i = 0; i < count; ++i) {
        if (keys[i] >= reason_count) return false;
        for (std::size_t cpu = 0; cpu < per_key; ++cpu) totals.counts[keys[i]] += values[i * per_key + cpu];
    }
    return true;
}

}  // namespace

Result<ReasonTally> sum_reason_counters(int counters_fd, int cpus) {
    ReasonTally totals{};
    if (read_counters_batched(counters_fd, cpus, totals)) return totals;
    totals = ReasonTally{};
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
    for (std::uint32_t reason = 0; reason < reason_count; ++reason) {
        if (bpf_map_lookup_elem(counters_fd, &reason, per_cpu.data()) != 0)
            return Error{std::string("cannot read reason counters: ") + std::strerror(errno)};
        for (std::uint64_t value : per_cpu) totals.counts[reason] += value;
    }
    return totals;
}

namespace {

bool is_array(bpf_map_type type) {
    return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

bool is_hash(bpf_map_type type) {
    return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_PERCPU_HASH ||
           type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

bool is_per_cpu(bpf_map_type type) {
    return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
           type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

Status zero_array(const StateMap& map) {
    const std::vector<std::uint8_t> zeros(map.value_bytes, 0);
    for (std::uint32_t key = 0; key < map.entries; ++key)
        if (bpf_map_update_elem(map.fd, &key, zeros.data(), BPF_ANY) != 0) return Error{explain_errno(errno)};
    return ok_status();
}

// Deletes the first key until none is left: deleting while walking with
// get_next_key can skip entries.
Status empty_hash(const StateMap& map) {
    std::vector<std::uint8_t> key(map.key_bytes);
    while (bpf_map_get_next_key(map.fd, nullptr, key.data()) == 0)
        if (bpf_map_delete_elem(map.fd, key.data()) != 0 && errno != ENOENT) return Error{explain_errno(errno)};
    return errno == ENOENT ? ok_status() : Status{Error{explain_errno(errno)}};
}

}  // namespace

std::vector<StateMap> state_maps(bpf_object* object, std::span<const std::string> kept, int cpus) {
    std::vector<StateMap> found;
    const bpf_map* map = nullptr;
    bpf_object__for_each_map(map, object) {
        const bpf_map_type type = bpf_map__type(map);
        if (bpf_map__is_internal(map) || (!is_array(type) && !is_hash(type))) continue;
        if (std::find(kept.begin(), kept.end(), bpf_map__name(map)) != kept.end()) continue;
        // Per-CPU values: each CPU's rounded up to 8 bytes (bpf(2)).
        const std::size_t value = bpf_map__value_size(map);
        const std::size_t bytes = is_per_cpu(type) ? (value + 7) / 8 * 8 * static_cast<std::size_t>(cpus) : value;
        found.push_back({bpf_map__fd(map), type, bpf_map__max_entries(map), bpf_map__key_size(map), bytes});
    }
    return found;
}

Status reset_state_maps(std::span<const StateMap> maps, const std::string& origin) {
    for (const StateMap& map : maps) {
        const Status reset = is_array(map.type) ? zero_array(map) : empty_hash(map);
        if (!reset) return Error{"cannot reset a state map of " + origin + ": " + reset.error().message};
    }
    return ok_status();
}

}  // namespace xdpturn
