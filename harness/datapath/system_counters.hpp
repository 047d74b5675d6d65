// What the kernel counts while a step runs: a relay process's CPU time, the
// CPU time of the relay's receive path (its interface's NAPI threads and
// the softirq time of the relay's core), UDP receive-buffer drops in a
// network namespace and an XDP program's run-time statistics
// (kernel.bpf_stats_enabled).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relay/net/result.hpp"

namespace xdpturn::datapath {

struct CounterSample {
    std::uint64_t process_cpu_ns = 0;   // the relay's user + system time, all threads
    std::uint64_t kernel_ns = 0;        // the relay's NAPI threads, and softirqs on its core
    std::uint64_t relay_udp_drops = 0;  // UDP RcvbufErrors in the relay's namespace
    std::uint64_t sink_udp_drops = 0;   // the same in ours
};

// The offload's program over a window of a step, with run-time statistics
// on only for that window.
struct XdpCost {
    std::uint64_t runs = 0;
    std::uint64_t run_ns = 0;
    std::chrono::milliseconds window{0};
};

// The differences between two samples.
CounterSample operator-(const CounterSample& later, const CounterSample& earlier);

struct XdpProgramInfo {
    std::string name;
    std::uint32_t id = 0;
    std::uint32_t verified_instructions = 0;
    std::uint32_t translated_instructions = 0;
};

class SystemCounters {
  public:
    // `kernel_threads`: the relay interface's NAPI threads; `relay_cpu`: the
    // core the relay has to itself, or -1.
    static Result<SystemCounters> open(pid_t relay, std::vector<pid_t> kernel_threads, int relay_cpu,
                                       std::optional<std::uint32_t> xdp_program_id);
    SystemCounters(SystemCounters&& other) noexcept;
    SystemCounters& operator=(SystemCounters&&) = delete;
    ~SystemCounters();

    Result<CounterSample> sample() const;
    // The XDP program's runs and run time during `window` from now. The
    // statistics cost every BPF program a clock read or two per run (the
    // generator's and the sink's too), so they are on for this window only:
    // BPF_ENABLE_STATS turns them on while its descriptor is open, and the
    // kernel turns them off when it closes, even when the holder dies.
    Result<XdpCost> sample_xdp(std::chrono::milliseconds window) const;
    const std::optional<XdpProgramInfo>& xdp_program() const { return program_info_; }

  private:
    SystemCounters() = default;
    pid_t relay_ = 0;
    std::vector<pid_t> kernel_threads_;
    int relay_cpu_ = -1;
    int program_fd_ = -1;
    std::optional<XdpProgramInfo> program_info_;
};

}  // namespace xdpturn::datapath
