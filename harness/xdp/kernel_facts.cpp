#include "harness/xdp/kernel_facts.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "harness/xdp/bpf_object_tools.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

// Where the kernel changed what the harness relies on.
constexpr KernelVersion xdp_test_run_without_dispatcher{5, 18};  // and live frames, and fragments

// A file descriptor closed on scope exit.
class OwnedFd {
  public:
    explicit OwnedFd(int fd) : fd_(fd) {}
    ~OwnedFd() {
        if (fd_ >= 0) close(fd_);
    }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// `r0 = XDP_PASS; exit`: the smallest program a test run takes.
Result<int> load_pass_program() {
    const bpf_insn instructions[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = XDP_PASS},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    const int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdpturn_probe", "GPL", instructions, 2, nullptr);
    if (fd < 0) return Error{"cannot load a two-instruction XDP program: " + explain_errno(errno)};
    return fd;
}

// "EINVAL (Invalid argument)": a test run's errno, not a load's.
std::string errno_text(int error) {
    const char* name = strerrorname_np(error);
    return std::string(name ? name : "errno " + std::to_string(error)) + " (" + std::strerror(error) + ")";
}

int test_run(int program_fd, std::size_t frame_bytes, bool with_context) {
    std::vector<std::uint8_t> frame(frame_bytes, 0), output(frame_bytes + test_run_growth_room);
    xdp_md context{};
    context.data_end = static_cast<__u32>(frame_bytes);
    context.ingress_ifindex = 1;  // loopback, in every network namespace
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(), .data_out = output.data(),
                .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(output.size()),
                .repeat = 1);
    if (with_context) {
        options.ctx_in = &context;
        options.ctx_size_in = sizeof(context);
    }
    return bpf_prog_test_run_opts(program_fd, &options) == 0 ? 0 : errno;
}

}  // namespace

std::string running_kernel_release() {
    utsname system{};
    uname(&system);
    return system.release;
}

std::optional<KernelVersion> parse_kernel_release(const std::string& release) {
    KernelVersion version;
    if (std::sscanf(release.c_str(), "%d.%d", &version.major, &version.minor) != 2) return std::nullopt;
    return version;
}

Result<KernelFacts> probe_kernel() {
    KernelFacts facts;
    facts.release = running_kernel_release();
    if (auto version = parse_kernel_release(facts.release)) facts.version = *version;
    const bool modern = facts.version >= xdp_test_run_without_dispatcher;
    facts.parallel_test_runs = modern;
    facts.live_frames = modern;
    facts.threaded_napi = std::filesystem::exists("/sys/class/net/lo/threaded");

    auto loaded = load_pass_program();
    if (!loaded) return loaded.error();
    const OwnedFd program(*loaded);
    if (const int error = test_run(program.get(), 64, false); error != 0)
        return Error{"BPF_PROG_TEST_RUN of an XDP_PASS program fails: " + errno_text(error)};
    if (const int error = test_run(program.get(), 64, true); error != 0) {
        facts.xdp_md_context = false;
        facts.xdp_md_context_error = errno_text(error);
    }
    facts.over_limit = test_run(program.get(), test_run_max_frame + 1, false) == 0 ? OverLimitFrames::fragments
                                                                                   : OverLimitFrames::refused;
    return facts;
}

std::vector<std::string> KernelFacts::limitations() const {
    std::vector<std::string> lines;
    if (!parallel_test_runs)
        lines.push_back(
            "XDP test runs patch the XDP dispatcher (before 5.18), and two at once can lock the "
            "kernel up: one test-run job at a time");
    if (!xdp_md_context)
        lines.push_back("XDP test runs refuse an xdp_md context (" + xdp_md_context_error +
                        "): targets that look routes up (a \"fib\" environment) cannot run");
    if (over_limit == OverLimitFrames::refused)
        lines.push_back("XDP test runs refuse frames over the " + std::to_string(test_run_max_frame) +
                        "-byte linear limit (no fragments before 5.18); the harness refuses them first anyway");
    if (!live_frames)
        lines.push_back(
            "the live-frames test-run flag is ignored before 5.18: the data-path benchmark uses its "
            "socket generator");
    if (!threaded_napi)
        lines.push_back(
            "no threaded NAPI (/sys/class/net/DEV/threaded, 5.12): the benchmark's split layout "
            "cannot run");
    return lines;
}

const KernelFacts* kernel_facts() {
    static std::once_flag once;
    static std::optional<KernelFacts> facts;
    std::call_once(once, [] {
        if (auto probed = probe_kernel()) facts = std::move(*probed);
    });
    return facts ? &*facts : nullptr;
}

unsigned test_run_jobs(unsigned wanted, std::string& note) {
    const KernelFacts* facts = kernel_facts();
    if (wanted <= 1 || facts == nullptr || facts->parallel_test_runs) return wanted;
    note = "kernel " + facts->release + " runs one XDP test run at a time (before 5.18 each one patches the XDP " +
           "dispatcher, and two at once can lock the kernel up): " + std::to_string(wanted) + " jobs cut to 1";
    return 1;
}

unsigned test_run_jobs(unsigned wanted) {
    std::string note;
    const unsigned jobs = test_run_jobs(wanted, note);
    if (!note.empty()) std::cerr << "xdpturn: " << note << "\n";
    return jobs;
}

}  // namespace xdpturn
