#include "harness/xdp/cpu_pin.hpp"

#include <pthread.h>

namespace xdpturn {

namespace {

// The CPU a pin picks among those allowed now.
std::optional<int> chosen_cpu(const cpu_set_t& allowed, std::optional<unsigned> slot) {
    if (!slot) {
        const int current = sched_getcpu();
        return current >= 0 ? std::optional<int>(current) : std::nullopt;
    }
    const int count = CPU_COUNT(&allowed);
    if (count == 0) return std::nullopt;
    int wanted = static_cast<int>(*slot % static_cast<unsigned>(count));
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &allowed) && wanted-- == 0) return cpu;
    return std::nullopt;
}

}  // namespace

CpuPin::CpuPin(std::optional<unsigned> slot) {
    if (pthread_getaffinity_np(pthread_self(), sizeof(previous_), &previous_) != 0) return;
    const std::optional<int> cpu = chosen_cpu(previous_, slot);
    if (!cpu) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(*cpu, &one);
    pinned_ = pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
}

CpuPin::~CpuPin() {
    if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof(previous_), &previous_);
}

}  // namespace xdpturn
