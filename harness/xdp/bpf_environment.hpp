// Whether BPF tests can run here, and what to do when they cannot: skip with
// the reason, or fail when XDPTURN_REQUIRE_BPF=1 (CI) asks for them.
#pragma once

#include <string>

#include "relay/net/result.hpp"

namespace xdpturn {

// Loads the built-in program once and runs one frame through it.
Status probe_bpf();

bool bpf_required();  // XDPTURN_REQUIRE_BPF=1

// For test mains: returns the process exit code to use instead of running
// the BPF tests (77, CTest's skip code, or 1 when BPF is required), or -1
// when BPF works and the tests should run.
int bpf_tests_gate(const std::string& suite);

inline constexpr int ctest_skip_code = 77;

}  // namespace xdpturn
