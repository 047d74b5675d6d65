// One frame through BPF_PROG_TEST_RUN, repeat = 1 (the kernel does not
// restore the packet between repeats, so repeat > 1 would feed the program
// its own output).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/xdp/xdp_program.hpp"
#include "relay/model/reason.hpp"
#include "relay/net/bytes.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

// BPF_PROG_TEST_RUN refuses XDP input shorter than an Ethernet header, and
// keeps input linear only up to a page minus headroom and shared info (4096 -
// 256 - 320 on x86-64); it puts the rest into fragments, which a program
// without frags support never sees, so the harness refuses larger frames.
inline constexpr std::size_t test_run_min_frame = 14;
inline constexpr std::size_t test_run_max_frame = 3520;
// Output room beyond the input: the program may grow a frame by its headroom.
inline constexpr std::size_t test_run_growth_room = 256;

enum class CounterCheck {
    // Read every reason counter before and after the run: exactly the
    // recorded reason's must move, by one (XdpRun::miscounted says how it
    // did not). Two map reads per reason: for fixed tests, shrinking, and
    // finding the frame a run's counter totals went wrong on.
    exact,
    // Take the reason from the mmapped .bss (no syscall); callers check the
    // counter totals once at the end. For property runs and replay.
    last_reason_only,
};

struct XdpRun {
    Verdict verdict = Verdict::aborted;
    Reason reason = Reason::short_ethernet;
    std::vector<std::uint8_t> output;  // the frame after the program ran
    // CounterCheck::exact: empty when exactly the recorded reason's counter
    // moved, by one; otherwise which counters moved. A program defect, not
    // an error of the run.
    std::string miscounted;
};

class ProgTestRunner {
  public:
    explicit ProgTestRunner(XdpProgram& program) : program_(&program) {}

    // Fills `run` (its output storage is reused). Input errors (frames the
    // kernel refuses) and environment errors come back as Error.
    Status run(Bytes frame, CounterCheck check, XdpRun& run);

    XdpProgram& program() { return *program_; }
    // Time spent inside BPF_PROG_TEST_RUN calls, and how many were made.
    std::uint64_t syscall_nanoseconds() const { return syscall_ns_; }
    std::uint64_t syscalls() const { return syscalls_; }

  private:
    enum class Attempt { complete, output_truncated };
    Result<Attempt> run_once(Bytes frame, XdpRun& run);

    XdpProgram* program_;
    std::uint64_t syscall_ns_ = 0;
    std::uint64_t syscalls_ = 0;
};

// The bare call rate: `calls` BPF_PROG_TEST_RUN calls on one frame in a
// loop, per second. The ceiling for anything that runs frames one call at a
// time, and the denominator of every speed ratio the reports give.
Result<double> bare_test_run_rate(XdpProgram& program, Bytes frame, std::uint64_t calls);

}  // namespace xdpturn
