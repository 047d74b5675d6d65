// Keeps the calling thread on one CPU for a while. A program's per-CPU
// scratch carries state from one frame to the next on the same CPU only, so
// a sequence of frames is reproducible when every frame of it runs on one
// CPU (BPF_PROG_TEST_RUN runs a frame on the caller's CPU).
#pragma once

#include <sched.h>

#include <optional>

namespace xdpturn {

class CpuPin {
  public:
    // `slot`: the slot-th CPU the thread may run on (modulo their number);
    // none: the CPU it is on now. A thread that cannot be pinned runs as
    // before (the pin is then a no-op, and says so through pinned()).
    explicit CpuPin(std::optional<unsigned> slot = std::nullopt);
    ~CpuPin();
    CpuPin(const CpuPin&) = delete;
    CpuPin& operator=(const CpuPin&) = delete;

    bool pinned() const { return pinned_; }

  private:
    cpu_set_t previous_{};
    bool pinned_ = false;
};

}  // namespace xdpturn
