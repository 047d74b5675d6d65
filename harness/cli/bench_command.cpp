// `xdpturn bench`: speed, reported as rates and as ratios measured in one run
// (the machines are shared and noisy, so absolute numbers vary; ratios less).
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/differential.hpp"
#include "harness/fixed_cases.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int run_bench(int argc, char** argv) {
    po::options_description options("xdpturn bench: measure the engines\n\noptions");
    std::uint64_t iterations = 200000;
    std::string report;
    options.add_options()("help,h", "show this help")("iterations", po::value(&iterations)->default_value(iterations),
                                                      "frames per measurement")(
        "report", po::value(&report), "write the measurements as JSON to this file");
    const auto parsed = parse_options("bench", argc, argv, options);
    if (!parsed) return exit_usage;
    const po::variables_map& args = *parsed;
    if (args.count("help")) {
        std::cout << options;
        return exit_equal;
    }
    if (iterations == 0) {
        std::cerr << "xdpturn bench: --iterations must be positive\n";
        return exit_usage;
    }

    nlohmann::json results = nlohmann::json::object();
    std::cout << std::left << std::setw(44) << "measurement" << std::right << std::setw(14) << "per second"
              << std::setw(14) << "ns each"
              << "\n";
    auto print = [&](const std::string& label, double per_second) {
        std::cout << std::left << std::setw(44) << label << std::right << std::setw(14) << std::fixed
                  << std::setprecision(0) << per_second << std::setw(14) << std::setprecision(1) << 1e9 / per_second
                  << "\n";
        results[label] = {{"per_second", per_second}, {"ns_each", 1e9 / per_second}};
    };

    // The reference model alone, on a relayed frame and on a passed one.
    for (const char* name : {"relayed/basic", "relayed/padding_3", "no_binding/other_channel"}) {
        const FixedCase& c = *find_fixed_case(name);
        const ReferenceModel model(c.config, c.bindings);
        std::vector<std::uint8_t> out;
        std::uint64_t relayed = 0;
        const auto start = Clock::now();
        for (std::uint64_t i = 0; i < iterations; ++i) relayed += model.decide(c.frame, out).verdict == Verdict::tx;
        const double elapsed = seconds_since(start);
        if (relayed > iterations) return exit_usage;  // keeps the loop observable
        print(std::string("reference model, ") + name, static_cast<double>(iterations) / elapsed);
    }

    // The bare BPF_PROG_TEST_RUN call rate, and the full differential
    // comparison (both engines, map sync, byte comparison) on the same frame.
    const FixedCase& c = *find_fixed_case("relayed/basic");
    DifferentialEngine engine(ProgramSource{}, CounterCheck::last_reason_only);
    auto program = engine.program_for(c.config);
    if (!program) {
        std::cerr << "xdpturn bench: cannot run the XDP program: " << program.error().message << "\n";
        return exit_usage;
    }
    TestRunner runner(**program);
    XdpRun run;
    const auto bare_start = Clock::now();
    for (std::uint64_t i = 0; i < iterations; ++i) {
        if (auto ran = runner.run(c.frame, CounterCheck::last_reason_only, run); !ran) {
            std::cerr << "xdpturn bench: " << ran.error().message << "\n";
            return exit_usage;
        }
    }
    const double bare_rate = static_cast<double>(iterations) / seconds_since(bare_start);
    print("BPF_PROG_TEST_RUN, repeat=1", bare_rate);

    Comparison comparison;
    const auto compare_start = Clock::now();
    for (std::uint64_t i = 0; i < iterations; ++i) {
        const Status compared = engine.compare(c.config, c.bindings, c.frame, comparison);
        if (!compared || !comparison.agree) {
            std::cerr << "xdpturn bench: the engines disagree on " << c.name << "\n";
            return exit_disagreement;
        }
    }
    const double compare_rate = static_cast<double>(iterations) / seconds_since(compare_start);
    print("differential comparison (both engines)", compare_rate);
    const double ratio = compare_rate / bare_rate;
    std::cout << "\ndifferential rate / bare BPF_PROG_TEST_RUN rate: " << std::setprecision(2) << ratio << "\n";
    results["differential_over_bare_ratio"] = ratio;

    if (!report.empty() && !write_report("bench", report, results)) return exit_usage;
    return exit_equal;
}

}  // namespace xdpturn::cli
