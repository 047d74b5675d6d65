// `xdpturn cases`: the fixed-case table through both engines.
#include <boost/program_options.hpp>

#include <iostream>

#include "harness/cases/cases_run.hpp"
#include "harness/cases/corpus_export.hpp"
#include "harness/cli/cases_report.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/coverage_option.hpp"
#include "harness/cli/options.hpp"
#include "harness/xdp/bpf_environment.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

int export_rows(const std::string& export_dir) {
    auto manifest = export_row_corpus(export_dir);
    if (!manifest) {
        std::cerr << "xdpturn cases: " << manifest.error().message << "\n";
        return exit_usage;
    }
    std::cout << "wrote " << *manifest << "\n";
    return exit_equal;
}

}  // namespace

int cases_command(int argc, char** argv) {
    po::options_description options("xdpturn cases: run the fixed-case table through both engines\n\noptions");
    ProgramFlags program;
    std::string artifacts;
    std::string report;
    std::string export_dir;
    std::string junit;
    std::string coverage;
    options.add_options()("help,h", "show this help");
    add_program_options(options, program);
    add_coverage_option(options, coverage);
    options.add_options()("artifacts", po::value(&artifacts), "write a pcap per failing case into this directory")(
        "report", po::value(&report), "write a JSON report to this file")(
        "junit", po::value(&junit), "write a JUnit XML report (a test case per fixed case) to this file")(
        "verbose,v", "print every case's diff")(
        "export", po::value(&export_dir),
        "write one capture per contract row, with binding files and a replay manifest, to this directory, and exit");
    const auto parsed = parse_options("cases", argc, argv, options);
    if (!parsed) return exit_usage;
    const po::variables_map& args = *parsed;
    if (args.count("help")) {
        std::cout << options
                  << "\nExit status: 0 every case met its expectation and both engines agreed,\n"
                     "1 a case failed, 2 usage error or BPF unavailable.\n";
        return exit_equal;
    }

    if (!outputs_are_safe("cases",
                          {{program.object, program.target}, {report, junit, coverage}, {artifacts, export_dir}}))
        return exit_usage;
    if (!export_dir.empty()) return export_rows(export_dir);

    auto chosen = program_source(program);
    if (!chosen) {
        std::cerr << "xdpturn cases: " << chosen.error().message << "\n";
        return exit_usage;
    }
    const ProgramSource& source = *chosen;
    if (!start_coverage("cases", coverage)) return exit_usage;
    DifferentialEngine engine(source);
    if (auto loaded = engine.engine_for(fixed_case_config()); !loaded) {
        std::cerr << "xdpturn cases: cannot run the XDP program: " << loaded.error().message << "\n";
        return exit_usage;
    }

    auto run = run_cases(engine);
    if (!run) {
        std::cerr << "xdpturn cases: " << run.error().message << "\n";
        return exit_usage;
    }
    return report_cases(*run, source, {artifacts, report, junit, args.count("verbose") > 0});
}

}  // namespace xdpturn::cli
