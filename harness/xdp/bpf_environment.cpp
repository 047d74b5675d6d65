#include "harness/xdp/bpf_environment.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "harness/xdp/prog_test_run.hpp"
#include "harness/xdp/xdp_program.hpp"

namespace xdpturn {

Status probe_bpf() {
    auto program = XdpProgram::load_builtin(DatapathConfig{});
    if (!program) {
        std::string why = program.error().message;
        if (!std::filesystem::exists("/sys/kernel/btf/vmlinux"))
            why += "\n(note: this kernel exposes no BTF at /sys/kernel/btf/vmlinux)";
        return Error{why};
    }
    ProgTestRunner runner(*program);
    XdpRun run;
    const std::vector<std::uint8_t> frame(64, 0);
    if (auto ran = runner.run(frame, CounterCheck::exact, run); !ran)
        return Error{"the program loads but BPF_PROG_TEST_RUN does not work: " + ran.error().message};
    if (!run.miscounted.empty())
        return Error{"the program loads but does not count what it decides: " + run.miscounted};
    return ok_status();
}

bool bpf_required() {
    const char* value = std::getenv("XDPTURN_REQUIRE_BPF");
    return value != nullptr && std::strcmp(value, "1") == 0;
}

int bpf_tests_gate(const std::string& suite) {
    const Status probe = probe_bpf();
    if (probe) return -1;
    if (bpf_required()) {
        std::cerr << suite << ": FAILED: BPF is required (XDPTURN_REQUIRE_BPF=1) but unavailable:\n"
                  << probe.error().message << "\n";
        return 1;
    }
    std::cerr << suite << ": SKIPPED: BPF is unavailable here, so the XDP side cannot run:\n"
              << probe.error().message << "\n(set XDPTURN_REQUIRE_BPF=1 to make this a failure)\n";
    return ctest_skip_code;
}

}  // namespace xdpturn
