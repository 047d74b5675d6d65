#include "harness/datapath/system_counters.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include <bpf/bpf.h>

namespace xdpturn::datapath {

namespace {

std::uint64_t ticks_to_ns(std::uint64_t ticks) {
    static const long ticks_per_second = sysconf(_SC_CLK_TCK);
    return ticks * (1000000000ull / static_cast<std::uint64_t>(ticks_per_second));
}

// utime + stime of a whole process (fields 14 and 15 of /proc/PID/stat,
// counted after the command name, which may hold spaces).
Result<std::uint64_t> process_cpu_ns(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto end_of_name = text.rfind(')');
    if (end_of_name == std::string::npos) return Error{"process " + std::to_string(pid) + " is gone"};
    std::istringstream fields(text.substr(end_of_name + 2));
    std::string field;
    std::uint64_t user = 0, system = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14) user = std::stoull(field);
        if (index == 15) system = std::stoull(field);
    }
    return ticks_to_ns(user + system);
}

// The softirq column of /proc/stat's line of one CPU.
std::uint64_t softirq_ns(int cpu) {
    std::ifstream file("/proc/stat");
    const std::string wanted = "cpu" + std::to_string(cpu);
    std::string line;
    while (std::getline(file, line)) {
        std::istringstream fields(line);
        std::string name;
        std::uint64_t values[7] = {};
        fields >> name;
        if (name != wanted) continue;
        for (auto& value : values) fields >> value;
        return ticks_to_ns(values[6]);
    }
    return 0;
}

// Udp: RcvbufErrors in a /proc/.../net/snmp (the namespace of that process).
std::uint64_t udp_receive_buffer_errors(const std::string& path) {
    std::ifstream file(path);
    std::string names, values;
    while (std::getline(file, names)) {
        if (names.rfind("Udp: ", 0) != 0 || !std::getline(file, values)) continue;
        std::istringstream name_fields(names), value_fields(values);
        std::string name, value;
        while (name_fields >> name && value_fields >> value)
            if (name == "RcvbufErrors") return std::stoull(value);
    }
    return 0;
}

}  // namespace

CounterSample operator-(const CounterSample& later, const CounterSample& earlier) {
    return {later.process_cpu_ns - earlier.process_cpu_ns, later.kernel_ns - earlier.kernel_ns,
            later.relay_udp_drops - earlier.relay_udp_drops, later.sink_udp_drops - earlier.sink_udp_drops};
}

Result<SystemCounters> SystemCounters::open(pid_t relay, std::vector<pid_t> kernel_threads, int relay_cpu,
                                            std::optional<std::uint32_t> xdp_program_id) {
    SystemCounters counters;
    counters.relay_ = relay;
    counters.kernel_threads_ = std::move(kernel_threads);
    counters.relay_cpu_ = relay_cpu;
    for (pid_t process : counters.kernel_threads_)
        if (auto cpu = process_cpu_ns(process); !cpu) return cpu.error();
    if (auto cpu = process_cpu_ns(relay); !cpu) return cpu.error();
    if (!xdp_program_id) return counters;
    counters.program_fd_ = bpf_prog_get_fd_by_id(*xdp_program_id);
    if (counters.program_fd_ < 0)
        return Error{"no BPF program with id " + std::to_string(*xdp_program_id) + ": " + std::strerror(errno)};
    bpf_prog_info info{};
    __u32 size = sizeof(info);
    if (bpf_obj_get_info_by_fd(counters.program_fd_, &info, &size) != 0)
        return Error{std::string("cannot read the XDP program's info: ") + std::strerror(errno)};
    counters.program_info_ = XdpProgramInfo{info.name, info.id, info.verified_insns,
                                            info.xlated_prog_len / static_cast<__u32>(sizeof(bpf_insn))};
    return counters;
}

SystemCounters::SystemCounters(SystemCounters&& other) noexcept
    : relay_(other.relay_),
      kernel_threads_(std::move(other.kernel_threads_)),
      relay_cpu_(other.relay_cpu_),
      program_fd_(std::exchange(other.program_fd_, -1)),
      program_info_(std::move(other.program_info_)) {}

SystemCounters::~SystemCounters() {
    if (program_fd_ >= 0) close(program_fd_);
}

Result<CounterSample> SystemCounters::sample() const {
    CounterSample sample;
    auto cpu = process_cpu_ns(relay_);
    if (!cpu) return cpu.error();
    sample.process_cpu_ns = *cpu;
    sample.kernel_ns = relay_cpu_ >= 0 ? softirq_ns(relay_cpu_) : 0;
    for (pid_t thread : kernel_threads_) {
        auto used = process_cpu_ns(thread);
        if (!used) return used.error();
        sample.kernel_ns += *used;
    }
    sample.relay_udp_drops = udp_receive_buffer_errors("/proc/" + std::to_string(relay_) + "/net/snmp");
    sample.sink_udp_drops = udp_receive_buffer_errors("/proc/self/net/snmp");
    return sample;
}

Result<XdpCost> SystemCounters::sample_xdp(std::chrono::milliseconds window) const {
    if (program_fd_ < 0) return Error{"no XDP program to sample"};
    const int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (stats < 0) return Error{std::string("cannot enable BPF run-time statistics: ") + std::strerror(errno)};
    auto read = [this](bpf_prog_info& info) {
        __u32 size = sizeof(info);
        return bpf_obj_get_info_by_fd(program_fd_, &info, &size) == 0;
    };
    bpf_prog_info before{}, after{};
    const bool read_before = read(before);
    std::this_thread::sleep_for(window);
    const bool read_after = read(after);
    close(stats);
    if (!read_before || !read_after)
        return Error{std::string("cannot read the XDP program's statistics: ") + std::strerror(errno)};
    return XdpCost{after.run_cnt - before.run_cnt, after.run_time_ns - before.run_time_ns, window};
}

}  // namespace xdpturn::datapath
