// `xdpturn cases`: the fixed-case table through both engines.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include "harness/cases/corpus_export.hpp"
#include "harness/cases/fixed_case_check.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/coverage_option.hpp"
#include "harness/cli/options.hpp"
#include "harness/io/decision_json.hpp"
#include "harness/io/junit.hpp"
#include "harness/xdp/bpf_environment.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

std::string decision_text(const Decision& d) {
    std::string verdict(name(d.verdict));
    return verdict.substr(4) + "/" + std::string(name(d.reason));  // drop the "XDP_" prefix
}

std::string artifact_name(std::string case_name) {
    for (char& c : case_name)
        if (c == '/') c = '-';
    return case_name + ".pcap";
}

struct RowTally {
    int cases = 0;
    int passed = 0;
};

void print_case_line(const FixedCase& c, const FixedCaseOutcome& outcome) {
    const std::string reference = outcome.comparison ? decision_text(outcome.comparison->reference.decision) : "";
    const std::string xdp = outcome.comparison ? decision_text(outcome.comparison->xdp.decision) : "refused";
    std::cout << std::setw(40) << c.name << std::setw(24) << decision_text(c.expected) << std::setw(24)
              << (reference.empty() ? decision_text(c.expected) : reference) << std::setw(24) << xdp
              << (outcome.passed() ? "ok" : "FAILED") << "\n";
}

nlohmann::json case_json(const FixedCase& c, const FixedCaseOutcome& outcome) {
    nlohmann::json entry = {{"name", c.name},
                            {"description", c.description},
                            {"expected", decision_json(c.expected)},
                            {"passed", outcome.passed()},
                            {"problems", outcome.problems}};
    if (outcome.comparison) {
        entry["reference"] = decision_json(outcome.comparison->reference.decision);
        entry["xdp"] = decision_json(outcome.comparison->xdp.decision);
        entry["agree"] = outcome.comparison->agree;
    } else {
        entry["xdp_refused"] = outcome.xdp_refusal;
    }
    return entry;
}

// Prints a failed case's problems and, with --artifacts, writes its pcap.
void report_failed_case(const FixedCase& c, const FixedCaseOutcome& outcome, const std::string& artifacts,
                        nlohmann::json& entry) {
    for (const std::string& problem : outcome.problems) std::cout << "    " << problem << "\n";
    if (artifacts.empty()) return;
    const std::string path = artifacts + "/" + artifact_name(c.name);
    if (auto written = write_case_pcap(path, c, outcome); written) {
        std::cout << "    frames written to " << path << "\n";
        entry["pcap"] = path;
    } else {
        std::cout << "    (could not write " << path << ": " << written.error().message << ")\n";
    }
}

// The count per contract row; returns how many rows have no case.
int print_rows(const std::map<std::string, RowTally>& per_reason) {
    std::cout << "\n"
              << std::setw(20) << "contract row" << std::setw(8) << "cases"
              << "passed\n";
    int rows_without_case = 0;
    for (Reason reason : all_reasons) {
        const auto found = per_reason.find(std::string(name(reason)));
        const RowTally tally = found == per_reason.end() ? RowTally{} : found->second;
        std::cout << std::setw(20) << name(reason) << std::setw(8) << tally.cases << tally.passed
                  << (tally.cases == 0 ? (reachable_through_test_run(reason) || reason == Reason::short_ethernet
                                              ? "   NO CASE"
                                              : "   (unreachable by any frame; see docs/datapath.md)")
                                       : "")
                  << "\n";
        if (tally.cases == 0 && reason != Reason::rewrite_failed) ++rows_without_case;
    }
    return rows_without_case;
}

// The case as a JUnit test case: classname "cases.<row>", name the variant,
// the problems (with their field diffs) and the pcap's path on failure.
JUnitCase case_junit(const FixedCase& c, const FixedCaseOutcome& outcome, const nlohmann::json& entry) {
    const std::size_t slash = c.name.find('/');
    JUnitCase junit{"cases." + c.name.substr(0, slash), c.name.substr(slash + 1)};
    if (outcome.passed()) return junit;
    junit.failure = outcome.problems.front().substr(0, outcome.problems.front().find('\n'));
    for (const std::string& problem : outcome.problems) junit.details += problem + "\n";
    if (entry.contains("pcap"))
        junit.details += "frames (input, expected, reference, xdp): " + entry["pcap"].get<std::string>() + "\n";
    return junit;
}

void print_header(const ProgramSource& source) {
    std::cout << "XDP program: " << source.describe() << "\n\n";
    std::cout << std::left << std::setw(40) << "case" << std::setw(24) << "expected" << std::setw(24) << "reference"
              << std::setw(24) << "xdp"
              << "result\n";
}

int export_rows(const std::string& export_dir) {
    auto manifest = export_row_corpus(export_dir);
    if (!manifest) {
        std::cerr << "xdpturn cases: " << manifest.error().message << "\n";
        return exit_usage;
    }
    std::cout << "wrote " << *manifest << "\n";
    return exit_equal;
}

// The fixed cases through the conformance oracle: each case's frame and
// table, the class of what the program did (their expected decisions are
// our program's, so they are not the measure here).
int conformance_cases(DifferentialEngine& engine, const ProgramSource& source, const std::string& report,
                      const std::string& junit) {
    std::cout << "program: " << source.describe() << " (conformance oracle, docs/targets.md)\n\n"
              << std::left << std::setw(40) << "case" << std::setw(24) << "reference" << std::setw(16) << "target"
              << "class\n";
    ConformanceTally tally{};
    JUnitSuite suite{"xdpturn cases", {{"program", source.describe()}}, {}};
    nlohmann::json json_cases = nlohmann::json::array();
    int defects = 0;
    for (const FixedCase& c : fixed_cases()) {
        if (c.refused_by_test_run) continue;
        if (auto set = engine.set_table(c.config, c.bindings); !set) {
            std::cerr << "xdpturn cases: " << c.name << ": " << set.error().message << "\n";
            return exit_usage;
        }
        auto compared = engine.compare(c.config, c.frame);
        if (!compared) {
            std::cerr << "xdpturn cases: " << c.name << ": " << compared.error().message << "\n";
            return exit_usage;
        }
        const ConformanceVerdict& verdict = *compared->conformance;
        ++tally[static_cast<std::size_t>(verdict.conformance)];
        std::cout << std::setw(40) << c.name << std::setw(24) << decision_text(compared->reference.decision)
                  << std::setw(16) << std::string(name(compared->xdp.decision.verdict)).substr(4)
                  << name(verdict.conformance) << "\n";
        const std::size_t slash = c.name.find('/');
        JUnitCase junit_case{"cases." + c.name.substr(0, slash), c.name.substr(slash + 1)};
        if (is_defect(verdict.conformance)) {
            ++defects;
            std::cout << verdict.detail << "\n";
            junit_case.failure = std::string(name(verdict.conformance));
            junit_case.details = verdict.detail;
        }
        suite.cases.push_back(junit_case);
        json_cases.push_back({{"name", c.name},
                              {"reference", decision_json(compared->reference.decision)},
                              {"target_verdict", name(compared->xdp.decision.verdict)},
                              {"class", name(verdict.conformance)},
                              {"detail", verdict.detail}});
    }
    nlohmann::json classes = nlohmann::json::object();
    std::cout << "\n";
    for (std::size_t i = 0; i < conformance_count; ++i) {
        classes[std::string(name(static_cast<Conformance>(i)))] = tally[i];
        if (tally[i] > 0) std::cout << std::setw(24) << name(static_cast<Conformance>(i)) << tally[i] << "\n";
    }
    std::cout << "\n" << defects << " defect(s) in " << json_cases.size() << " cases\n";
    if (!report.empty() && !write_report("cases", report,
                                         {{"program", source.describe()},
                                          {"oracle", "conformance"},
                                          {"cases", json_cases},
                                          {"classes", classes},
                                          {"defects", defects}}))
        return exit_usage;
    if (!junit.empty() && !write_junit_report("cases", junit, {suite})) return exit_usage;
    return defects > 0 ? exit_disagreement : exit_equal;
}

}  // namespace

int cases_command(int argc, char** argv) {
    po::options_description options("xdpturn cases: run the fixed-case table through both engines\n\noptions");
    std::string object, target, oracle;
    std::string artifacts;
    std::string report;
    std::string export_dir;
    std::string junit;
    std::string coverage;
    options.add_options()("help,h", "show this help");
    add_program_options(options, object, target, oracle);
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

    if (!outputs_are_safe("cases", {{object, target}, {report, junit, coverage}, {artifacts, export_dir}}))
        return exit_usage;
    if (!export_dir.empty()) return export_rows(export_dir);

    auto chosen = program_source(object, target, oracle);
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

    if (engine.judges_conformance()) return conformance_cases(engine, source, report, junit);
    print_header(source);
    std::map<std::string, RowTally> per_reason;
    JUnitSuite suite{"xdpturn cases", {{"program", source.describe()}}, {}};
    nlohmann::json json_cases = nlohmann::json::array();
    int failed = 0;
    for (const FixedCase& c : fixed_cases()) {
        const FixedCaseOutcome outcome = check_fixed_case(engine, c);
        // As in check and replay: a program whose maps cannot take the
        // tables is an input error (exit 2), not 154 failed cases.
        if (outcome.setup_error) {
            std::cerr << "xdpturn cases: " << c.name
                      << ": cannot lay its binding table in the program's maps: " << *outcome.setup_error << "\n";
            return exit_usage;
        }
        print_case_line(c, outcome);
        RowTally& tally = per_reason[std::string(name(c.expected.reason))];
        ++tally.cases;
        nlohmann::json entry = case_json(c, outcome);
        if (outcome.passed()) {
            ++tally.passed;
        } else {
            ++failed;
            report_failed_case(c, outcome, artifacts, entry);
        }
        if (args.count("verbose") && outcome.comparison && outcome.comparison->agree)
            std::cout << "    outputs equal (" << outcome.comparison->xdp.output.size() << " bytes)\n";
        suite.cases.push_back(case_junit(c, outcome, entry));
        json_cases.push_back(std::move(entry));
    }
    const int rows_without_case = print_rows(per_reason);
    const auto total = static_cast<int>(fixed_cases().size());
    std::cout << "\n" << total - failed << " of " << total << " cases passed";
    if (rows_without_case > 0) std::cout << "; " << rows_without_case << " contract row(s) have no case";
    std::cout << "\n";

    if (!report.empty()) {
        nlohmann::json document = {
            {"program", source.describe()},
            {"cases", json_cases},
            {"summary", {{"cases", total}, {"failed", failed}, {"rows_without_case", rows_without_case}}}};
        if (!write_report("cases", report, document)) return exit_usage;
    }
    if (!junit.empty() && !write_junit_report("cases", junit, {suite})) return exit_usage;
    return failed > 0 || rows_without_case > 0 ? exit_disagreement : exit_equal;
}

}  // namespace xdpturn::cli
