// `xdpturn bench`: speed, reported as rates and as ratios measured in one run
// (the machines are shared and noisy, so absolute numbers vary; ratios less).
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "harness/cases/fixed_cases.hpp"
#include "harness/cli/bounded.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/cli/replay_report.hpp"
#include "harness/compare/differential.hpp"
#include "harness/io/output_files.hpp"
#include "harness/io/pcap_out.hpp"
#include "harness/replay/replay_run.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Writes a capture of `megabytes` MiB, cycling through the fixed cases of the
// common configuration, then replays it with their bindings.
int bench_replay(std::uint64_t megabytes, const std::string& work_dir, const std::string& report) {
    const std::string capture = work_dir + "/large.pcap";
    if (auto made = ensure_directory(work_dir); !made) {
        std::cerr << "xdpturn bench: " << made.error().message << "\n";
        return exit_usage;
    }
    {
        auto writer = PcapWriter::create(capture);
        if (!writer) {
            std::cerr << "xdpturn bench: " << writer.error().message << "\n";
            return exit_usage;
        }
        std::vector<const FixedCase*> cases;
        for (const FixedCase& c : fixed_cases())
            if (c.config == fixed_case_config() && c.bindings == fixed_case_bindings() && !c.refused_by_test_run &&
                c.frame.size() <= test_run_max_frame)
                cases.push_back(&c);
        const std::uint64_t limit = megabytes << 20;
        std::uint64_t written = 24;  // pcap file header
        for (std::size_t i = 0; written < limit; ++i) {
            const FixedCase& c = *cases[i % cases.size()];
            if (auto ok = writer->write(c.frame); !ok) {
                std::cerr << "xdpturn bench: " << ok.error().message << "\n";
                return exit_usage;
            }
            written += 16 + c.frame.size();  // record header and frame
        }
        if (auto closed = writer->close(); !closed) {
            std::cerr << "xdpturn bench: " << closed.error().message << "\n";
            return exit_usage;
        }
    }
    std::cout << "replaying " << capture << " (" << megabytes << " MiB)\n";
    ReplayOptions options;
    options.captures = {capture};
    options.config = fixed_case_config();
    options.bindings = fixed_case_bindings();
    options.keep_disagreements = 0;
    auto result = run_replay(options);
    if (!result) {
        std::cerr << "xdpturn bench: " << result.error().message << "\n";
        return exit_usage;
    }
    print_replay(options, *result);
    if (!report.empty() && !write_report("replay", report, replay_report(options, *result))) return exit_usage;
    return replay_exit_status(*result);
}

// Frames per second the reference model decides, alone.
double reference_model_rate(const FixedCase& c, std::uint64_t iterations) {
    const ReferenceModel model(c.config, c.bindings);
    std::vector<std::uint8_t> out;
    std::uint64_t relayed = 0;
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < iterations; ++i) relayed += model.decide(c.frame, out).verdict == Verdict::tx;
    const double elapsed = seconds_since(start);
    // Uses the count, so the loop cannot be optimised away.
    return relayed <= iterations ? static_cast<double>(iterations) / elapsed : 0;
}

}  // namespace

int bench_command(int argc, char** argv) {
    po::options_description options("xdpturn bench: measure the engines\n\noptions");
    Bounded<1, 10000000000ull> iterations{200000};
    std::string report;
    Bounded<1, 65536> replay_megabytes{1};
    std::string work_dir = "xdpturn-bench";
    options.add_options()("help,h", "show this help")("iterations", po::value(&iterations)->default_value(iterations),
                                                      "frames per measurement")(
        "report", po::value(&report), "write the measurements as JSON to this file")(
        "replay-megabytes", po::value(&replay_megabytes),
        "instead: write a capture of this many MiB of fixed-case frames and replay it (frames/s, ratio to the "
        "bare call rate, peak memory)")("work-dir", po::value(&work_dir)->default_value(work_dir),
                                        "where --replay-megabytes writes its capture");
    const auto parsed = parse_options("bench", argc, argv, options);
    if (!parsed) return exit_usage;
    const po::variables_map& args = *parsed;
    if (args.count("help")) {
        std::cout << options;
        return exit_equal;
    }
    if (args.count("replay-megabytes")) return bench_replay(replay_megabytes.value, work_dir, report);

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
    for (const char* name : {"relayed/basic", "relayed/padding_3", "no_binding/other_channel"})
        print(std::string("reference model, ") + name, reference_model_rate(*find_fixed_case(name), iterations.value));

    // The bare BPF_PROG_TEST_RUN call rate, and the full differential
    // comparison (both engines, map sync, byte comparison) on the same frame.
    const FixedCase& c = *find_fixed_case("relayed/basic");
    auto program = XdpProgram::load(std::nullopt, c.config);
    if (!program) {
        std::cerr << "xdpturn bench: cannot run the XDP program: " << program.error().message << "\n";
        return exit_usage;
    }
    auto bare_rate = bare_test_run_rate(*program, c.frame, iterations.value);
    if (!bare_rate) {
        std::cerr << "xdpturn bench: " << bare_rate.error().message << "\n";
        return exit_usage;
    }
    print("BPF_PROG_TEST_RUN, repeat=1", *bare_rate);

    DifferentialEngine engine(ProgramSource{}, CounterCheck::last_reason_only);
    if (auto set = engine.set_table(c.config, c.bindings); !set) {
        std::cerr << "xdpturn bench: " << set.error().message << "\n";
        return exit_usage;
    }

    Comparison comparison;
    const auto compare_start = Clock::now();
    for (std::uint64_t i = 0; i < iterations.value; ++i) {
        const Status compared = engine.compare(c.config, c.frame, comparison);
        if (!compared || !comparison.agree) {
            std::cerr << "xdpturn bench: the engines disagree on " << c.name << "\n";
            return exit_disagreement;
        }
    }
    const double compare_rate = static_cast<double>(iterations.value) / seconds_since(compare_start);
    print("differential comparison (both engines)", compare_rate);
    const double ratio = compare_rate / *bare_rate;
    std::cout << "\ndifferential rate / bare BPF_PROG_TEST_RUN rate: " << std::setprecision(2) << ratio << "\n";
    results["differential_over_bare_ratio"] = ratio;

    if (!report.empty() && !write_report("bench", report, results)) return exit_usage;
    return exit_equal;
}

}  // namespace xdpturn::cli
