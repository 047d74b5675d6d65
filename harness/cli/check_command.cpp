// `xdpturn check`: the property run, with case counts, seeds and jobs.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>
#include <tuple>

#include "harness/check/check_run.hpp"
#include "harness/cli/bounded.hpp"
#include "harness/cli/check_report.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/coverage_option.hpp"
#include "harness/cli/options.hpp"
#include "harness/xdp/kernel_facts.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

int check_command(int argc, char** argv) {
    po::options_description description(
        "xdpturn check: property-based differential run of generated frames and binding tables\n\noptions");
    CheckOptions options;
    ProgramFlags program;
    std::string report;
    std::string junit;
    std::string shard;
    std::string coverage;
    Bounded<1, max_cases> cases{options.cases};
    Bounded<1, max_jobs> jobs{1};
    description.add_options()("help,h", "show this help")("cases", po::value(&cases)->default_value(cases),
                                                          "number of generated cases")(
        "seed", po::value<Bounded<0, UINT64_MAX>>(), "seed of the run (default: random; every run prints its seed)")(
        "jobs", po::value(&jobs)->default_value(jobs), "worker threads (results do not depend on it)");
    add_program_options(description, program);
    add_coverage_option(description, coverage);
    description.add_options()(
        "counterexamples", po::value(&options.counterexample_dir)->default_value(options.counterexample_dir),
        "directory for the pcap and JSON of a failing case")("noshrink", "report the failing case as generated")(
        "require-coverage", "fail (exit 1) when a reachable contract row got no hits in either engine")(
        "report", po::value(&report), "write a JSON report to this file")(
        "junit", po::value(&junit), "write a JUnit XML report (properties, counters, rows) to this file")(
        "shard", po::value(&shard),
        "K/N: run the K-th of N slices of the campaign (same --cases and --seed on every shard); "
        "`xdpturn merge` joins their reports");
    const auto parsed = parse_options("check", argc, argv, description);
    if (!parsed) return exit_usage;
    const po::variables_map& args = *parsed;
    if (args.count("help")) {
        std::cout << description
                  << "\nCase i of a run is generated from (seed, i) alone: rerunning with the printed seed\n"
                     "reproduces the run, with any --jobs. A failing case is shrunk and saved as a pcap\n"
                     "(input, reference output, XDP output) and a bindings JSON that `xdpturn replay`\n"
                     "reads. Exit status: 0 all cases passed, 1 a property failed (or, with\n"
                     "--require-coverage, a row got no hits), 2 usage or environment error.\n";
        return exit_equal;
    }
    if (!outputs_are_safe("check",
                          {{program.object, program.target}, {report, junit, coverage}, {options.counterexample_dir}}))
        return exit_usage;
    if (!shard.empty()) {
        auto parsed_shard = parse_shard(shard);
        if (!parsed_shard) {
            std::cerr << "xdpturn check: --shard: " << parsed_shard.error().message << "\n";
            return exit_usage;
        }
        std::tie(options.shard, options.shards) = *parsed_shard;
    }
    options.cases = cases.value;
    std::string jobs_note;
    options.jobs = test_run_jobs(static_cast<unsigned>(jobs.value), jobs_note);
    if (!jobs_note.empty()) std::cout << "xdpturn check: " << jobs_note << "\n";
    options.seed = args.count("seed") ? args["seed"].as<Bounded<0, UINT64_MAX>>().value : std::random_device{}();
    options.shrink = !args.count("noshrink");
    options.progress = isatty(STDERR_FILENO);
    auto source = program_source(program);
    if (!source) {
        std::cerr << "xdpturn check: " << source.error().message << "\n";
        return exit_usage;
    }
    options.program = std::move(source).value();
    if (!start_coverage("check", coverage)) return exit_usage;
    // What names the program on a command line: for the rerun hint and the
    // counterexamples' replay commands.
    const std::string program_options = (program.target.empty() ? "" : " --target " + program.target) +
                                        (program.object.empty() ? "" : " --object " + program.object) +
                                        (program.oracle.empty() ? "" : " --oracle " + program.oracle) +
                                        (program.strict_checksums ? " --strict-checksums" : "");

    std::cout << "xdpturn check: " << options.cases << " cases" << (options.shards > 1 ? " (shard " + shard + ")" : "")
              << ", seed " << options.seed << ", " << options.jobs << " job(s), program " << options.program.describe()
              << "\n"
              << "  (rerun: xdpturn check --cases " << options.cases << " --seed " << options.seed << program_options
              << ")\n"
              << std::flush;
    auto result = xdpturn::run_check(options);
    if (!result) {
        std::cerr << "xdpturn check: " << result.error().message << "\n";
        return exit_usage;
    }

    print_speed(options, *result);
    const int status = print_outcome(options, *result, args.count("require-coverage") > 0, program_options);

    if (!report.empty() && !write_report("check", report, result_json(options, *result))) return exit_usage;
    if (!junit.empty() &&
        !write_junit_report("check", junit, {result_junit(options, *result, args.count("require-coverage") > 0)}))
        return exit_usage;
    return status;
}

}  // namespace xdpturn::cli
