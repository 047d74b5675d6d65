// libFuzzer target: the differential engine as an oracle. The input is split
// into a small binding table, a configuration and a frame; the reference
// model and the XDP program (BPF_PROG_TEST_RUN) must agree on verdict,
// reason and bytes, or the target aborts with the diff. Needs BPF (root).
// XDPTURN_FUZZ_OBJECT=FILE.bpf.o fuzzes another object (a planted bug).
#include <cstdlib>
#include <iostream>
#include <memory>

#include "differential_input.hpp"
#include "harness/compare/differential.hpp"
#include "harness/xdp/prog_test_run.hpp"

using namespace xdpturn;

namespace {

DifferentialEngine& engine() {
    static std::unique_ptr<DifferentialEngine> instance = [] {
        const char* object = std::getenv("XDPTURN_FUZZ_OBJECT");
        return std::make_unique<DifferentialEngine>(
            object != nullptr ? ProgramSource::object_file(object) : ProgramSource{}, CounterCheck::last_reason_only);
    }();
    return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::DifferentialInput input;
    if (!fuzz::decode_differential_input(Bytes(data, size), input)) return 0;
    if (input.frame.size() < test_run_min_frame || input.frame.size() > test_run_max_frame) return 0;
    static Comparison comparison;
    Status compared = engine().set_table(input.config, input.bindings);
    if (compared) compared = engine().compare(input.config, input.frame, comparison);
    if (!compared) {
        std::cerr << "harness error: " << compared.error().message << "\n";
        std::abort();
    }
    if (!comparison.agree) {
        std::cerr << "the engines disagree:\n" << comparison.explain();
        std::abort();
    }
    return 0;
}
