#include "harness/xdp/prog_test_run.hpp"

#include <bpf/bpf.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace xdpturn {

namespace {
// Written into .bss before a run: no program exit path stores this value, so
// a program that returns without recording a reason is caught.
constexpr std::uint32_t no_reason_recorded = 0xFFFFFFFF;
}  // namespace

Result<ProgTestRunner::Attempt> ProgTestRunner::run_once(Bytes frame, XdpRun& run) {
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(), .data_out = run.output.data(),
                .data_size_in = static_cast<__u32>(frame.size()),
                .data_size_out = static_cast<__u32>(run.output.size()), .repeat = 1);
    program_->set_last_reason(no_reason_recorded);
    const auto start = std::chrono::steady_clock::now();
    const int status = bpf_prog_test_run_opts(program_->program_fd(), &options);
    syscall_ns_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
    ++syscalls_;
    if (status == 0) {
        run.output.resize(options.data_size_out);
        run.verdict = static_cast<Verdict>(options.retval);
        return Attempt::complete;
    }
    const int error = errno;
    if (error == ENOSPC && options.data_size_out > run.output.size()) {
        // The kernel copied what fit and says how much it needed.
        run.output.resize(options.data_size_out);
        return Attempt::output_truncated;
    }
    return Error{std::string("BPF_PROG_TEST_RUN failed: ") + bpf_error_text(error)};
}

Status ProgTestRunner::run(Bytes frame, CounterCheck check, XdpRun& run) {
    if (frame.size() < test_run_min_frame)
        return Error{"frame of " + std::to_string(frame.size()) +
                     " bytes is shorter than an Ethernet header; BPF_PROG_TEST_RUN refuses it"};
    if (frame.size() > test_run_max_frame)
        return Error{"frame of " + std::to_string(frame.size()) + " bytes exceeds the " +
                     std::to_string(test_run_max_frame) +
                     "-byte linear limit of BPF_PROG_TEST_RUN for XDP (the kernel would put the rest in "
                     "fragments the program does not see)"};

    run.output.resize(frame.size() + test_run_growth_room);
    run.miscounted.clear();
    Result<ReasonTally> before = ReasonTally{};
    Result<Attempt> attempt = Attempt::output_truncated;
    // A second attempt only when the first output did not fit; counters are
    // read around the attempt whose result is kept.
    for (int tries = 0; tries < 2 && attempt && *attempt == Attempt::output_truncated; ++tries) {
        if (check == CounterCheck::exact) {
            before = program_->read_counters();
            if (!before) return before.error();
        }
        attempt = run_once(frame, run);
    }
    if (!attempt) return attempt.error();
    if (*attempt == Attempt::output_truncated) return Error{"XDP output kept growing between runs"};

    const std::uint32_t recorded = program_->last_reason();
    const auto reason = reason_from_index(recorded);
    if (!reason)
        return Error{"the program ended without recording a valid reason (last_reason = " + std::to_string(recorded) +
                     ")"};
    run.reason = *reason;
    if (check == CounterCheck::last_reason_only) return ok_status();

    auto after = program_->read_counters();
    if (!after) return after.error();
    // Exactly the counter of the recorded reason moved, by exactly one.
    bool exact = true;
    std::string moved;
    for (std::size_t i = 0; i < reason_count; ++i) {
        const std::uint64_t delta = after->counts[i] - before->counts[i];
        const std::uint64_t wanted = static_cast<Reason>(i) == run.reason ? 1 : 0;
        exact = exact && delta == wanted;
        if (delta != 0)
            moved +=
                (moved.empty() ? "" : ", ") + std::string(name(static_cast<Reason>(i))) + " +" + std::to_string(delta);
    }
    if (!exact)
        run.miscounted = "the reason counters did not move exactly once for " + std::string(name(run.reason)) +
                         " (moved: " + (moved.empty() ? "none" : moved) + ")";
    return ok_status();
}

Result<double> bare_test_run_rate(XdpProgram& program, Bytes frame, std::uint64_t calls) {
    ProgTestRunner runner(program);
    XdpRun run;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < calls; ++i)
        if (auto ran = runner.run(frame, CounterCheck::last_reason_only, run); !ran) return ran.error();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return seconds > 0 ? static_cast<double>(calls) / seconds : 0.0;
}

}  // namespace xdpturn
