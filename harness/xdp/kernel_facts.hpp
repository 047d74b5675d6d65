// What the running kernel can do for the harness, probed once per process
// (docs/kernels.md). Older kernels differ in ways that would otherwise show
// up as hangs, refusals or runs that silently did nothing: each fact here
// lets a caller adapt, or refuse or skip with a reason it can name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "relay/net/result.hpp"

namespace xdpturn {

struct KernelVersion {
    int major = 0;
    int minor = 0;

    friend auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
};

// uname -r of the running kernel.
std::string running_kernel_release();

// "6.1.0-57-amd64" -> 6.1; nothing for a release it cannot read.
std::optional<KernelVersion> parse_kernel_release(const std::string& release);

// What happens to a test-run frame longer than the linear limit.
enum class OverLimitFrames {
    fragments,  // 5.18 and later: the rest goes into fragments
    refused,    // before: the kernel refuses the frame
};

struct KernelFacts {
    std::string release;
    KernelVersion version;
    // XDP test runs from two threads at once. Before 5.18 every XDP test run
    // patches the XDP dispatcher, and two at once lock 5.10 up: decided by
    // the version, as probing it would risk the lockup.
    bool parallel_test_runs = true;
    // An xdp_md context (ingress_ifindex) passed to an XDP test run; 5.10
    // refuses one with EINVAL. Probed.
    bool xdp_md_context = true;
    std::string xdp_md_context_error;
    // A frame one byte over the linear limit. Probed.
    OverLimitFrames over_limit = OverLimitFrames::fragments;
    // BPF_F_TEST_XDP_LIVE_FRAMES: before 5.18 the flag is ignored silently
    // (the call succeeds and nothing is sent), so the version decides.
    bool live_frames = true;
    // /sys/class/net/DEV/threaded, which the benchmark's split layout needs
    // (5.12 and later).
    bool threaded_napi = true;

    // One line each for what this kernel lacks, and what the harness does
    // about it.
    std::vector<std::string> limitations() const;
};

// Probes the running kernel. Errors only when BPF itself is unusable.
Result<KernelFacts> probe_kernel();

// The facts of this process's kernel, probed on first use; nothing when the
// probe failed (BPF unavailable: the caller's own load says why).
const KernelFacts* kernel_facts();

// The test-run jobs this kernel takes at once: `wanted`, or 1 before 5.18,
// with `note` saying why when it had to be cut.
unsigned test_run_jobs(unsigned wanted, std::string& note);
// The same, the note written to standard error: for the libraries that start
// test-run threads (check, replay), so a cut is never silent.
unsigned test_run_jobs(unsigned wanted);

}  // namespace xdpturn
