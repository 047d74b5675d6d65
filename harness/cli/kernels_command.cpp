// xdpturn kernels: the report of a ci/kernels run. Each argument is
// NAME=DIR, a kernel's results directory as ci/kernels and the guest
// (ci/kernel/guest) leave it; the report is a table, JSON and JUnit (one
// suite a kernel). docs/kernels.md says what each file holds.
#include <tinyxml2.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/io/junit.hpp"
#include "harness/io/output_files.hpp"
#include "harness/xdp/bpf_object_tools.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

constexpr std::size_t console_lines_kept = 20;
constexpr std::size_t log_lines_kept = 30;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

nlohmann::json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) return nullptr;
    return nlohmann::json::parse(in, nullptr, false);
}

// A step of the guest: its exit status and seconds (steps.tsv).
struct Step {
    std::string name;
    int status = 0;
    double seconds = 0;
};

// The ctest suites' JUnit counts.
struct SuiteCounts {
    int tests = 0, failures = 0, skipped = 0;
    std::vector<std::string> failed, skipped_names;
    // Test cases a suite skipped itself (a Boost.Test precondition), each
    // with its reason, from the suites' output (the guest keeps all of it).
    std::vector<std::string> skipped_cases;
};

// The lines of a suite's output where Boost.Test says it skipped a case.
void add_skipped_cases(const std::string& output, std::vector<std::string>& skipped) {
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);)
        if (line.find(" is skipped because ") != std::string::npos) skipped.push_back(line);
}

struct KernelResult {
    std::string name, directory, outcome, release, package, accelerator;
    double seconds = 0;
    std::vector<Step> steps;
    nlohmann::json probe, verify, cases, check;
    SuiteCounts suites;
    std::string console_tail;
};

std::vector<Step> read_steps(const std::string& path) {
    std::vector<Step> steps;
    std::ifstream in(path);
    Step step;
    while (in >> step.name >> step.status >> step.seconds) steps.push_back(step);
    return steps;
}

SuiteCounts read_suites(const std::string& path) {
    SuiteCounts counts;
    tinyxml2::XMLDocument document;
    if (document.LoadFile(path.c_str()) != tinyxml2::XML_SUCCESS) return counts;
    const auto* suite = document.FirstChildElement("testsuite");
    if (suite == nullptr) return counts;
    for (const auto* test = suite->FirstChildElement("testcase"); test; test = test->NextSiblingElement("testcase")) {
        ++counts.tests;
        const char* name = test->Attribute("name");
        const char* status = test->Attribute("status");
        const std::string what = status ? status : "";
        if (const auto* output = test->FirstChildElement("system-out"); output && output->GetText())
            add_skipped_cases(output->GetText(), counts.skipped_cases);
        if (test->FirstChildElement("failure") || what == "fail") {
            ++counts.failures;
            counts.failed.emplace_back(name ? name : "?");
        } else if (test->FirstChildElement("skipped") || what == "notrun" || what == "disabled") {
            ++counts.skipped;
            counts.skipped_names.emplace_back(name ? name : "?");
        }
    }
    return counts;
}

KernelResult read_kernel(const std::string& name, const std::string& dir) {
    KernelResult r;
    r.name = name;
    r.directory = dir;
    r.outcome = first_line(dir + "/outcome");
    if (r.outcome.empty()) r.outcome = "no-result";
    // What the guest's uname said, if it got that far; else what the host
    // read from the package (a local kernel's directory name, perhaps).
    r.release = first_line(dir + "/kernel");
    if (r.release.empty()) r.release = first_line(dir + "/release");
    r.package = first_line(dir + "/package");
    r.accelerator = first_line(dir + "/accelerator");
    const std::string seconds = first_line(dir + "/seconds");
    r.seconds = seconds.empty() ? 0 : std::stod(seconds);
    r.steps = read_steps(dir + "/steps.tsv");
    r.probe = read_json(dir + "/probe.json");
    r.verify = read_json(dir + "/verify.json");
    r.cases = read_json(dir + "/cases.json");
    r.check = read_json(dir + "/check.json");
    r.suites = read_suites(dir + "/suites.xml");
    r.console_tail = tail_lines(read_file(dir + "/console.log"), console_lines_kept);
    return r;
}

const Step* find_step(const KernelResult& r, const std::string& name) {
    for (const auto& step : r.steps)
        if (step.name == name) return &step;
    return nullptr;
}

// What a step's exit status means, in the table's words.
std::string step_word(const KernelResult& r, const std::string& name) {
    const Step* step = find_step(r, name);
    if (step == nullptr) return r.outcome == "ran" ? "-" : "not run";
    const bool compares = name == "cases" || name == "probes" || name == "check";
    if (step->status == 0) return compares ? "agree" : "ok";
    if (step->status == 1) return compares ? "DISAGREE" : "FAILED";
    return "error " + std::to_string(step->status);
}

int refused_programs(const KernelResult& r) {
    int refused = 0;
    if (r.verify.is_object())
        for (const auto& program : r.verify["programs"]) refused += program.value("loaded", false) ? 0 : 1;
    return refused;
}

std::string verifier_word(const KernelResult& r) {
    if (!r.verify.is_object()) return step_word(r, "verify");
    const auto total = r.verify["programs"].size();
    const int refused = refused_programs(r);
    return refused ? std::to_string(refused) + " of " + std::to_string(total) + " REFUSED"
                   : std::to_string(total) + " loaded";
}

std::string suites_word(const KernelResult& r) {
    if (r.suites.tests == 0) return step_word(r, "suites");
    std::string word = std::to_string(r.suites.tests - r.suites.failures - r.suites.skipped) + " passed";
    if (r.suites.failures) word += ", " + std::to_string(r.suites.failures) + " FAILED";
    if (r.suites.skipped) word += ", " + std::to_string(r.suites.skipped) + " skipped";
    return word;
}

// 1: the kernel refused a program, the engines disagreed or a suite failed;
// 2: the kernel could not be run, or a step could not; 0 otherwise.
int kernel_status(const KernelResult& r) {
    bool failed = refused_programs(r) > 0 || r.suites.failures > 0;
    bool broken = r.outcome != "ran";
    for (const auto& step : r.steps) {
        failed = failed || step.status == 1;
        broken = broken || (step.status != 0 && step.status != 1);
    }
    return failed ? exit_disagreement : broken ? exit_usage : exit_equal;
}

void print_table(const std::vector<KernelResult>& kernels) {
    std::cout << std::left << std::setw(9) << "kernel" << std::setw(22) << "release" << std::setw(17) << "run"
              << std::setw(18) << "verifier" << std::setw(10) << "cases" << std::setw(10) << "probes" << std::setw(10)
              << "check" << std::setw(28) << "suites" << std::setw(10) << "command"
              << "time\n";
    for (const auto& r : kernels)
        std::cout << std::setw(9) << r.name << std::setw(22) << r.release << std::setw(17) << r.outcome << std::setw(18)
                  << verifier_word(r) << std::setw(10) << step_word(r, "cases") << std::setw(10)
                  << step_word(r, "probes") << std::setw(10) << step_word(r, "check") << std::setw(28) << suites_word(r)
                  << std::setw(10) << step_word(r, "command") << std::fixed << std::setprecision(0) << r.seconds
                  << " s\n";
}

// Instructions processed per program (rows) and kernel (columns): how near
// each program is to each kernel's limit.
void print_complexity(const std::vector<KernelResult>& kernels) {
    std::map<std::string, std::map<std::string, std::string>> table;
    for (const auto& r : kernels) {
        if (!r.verify.is_object()) continue;
        for (const auto& p : r.verify["programs"]) {
            const std::string object = p.value("object", "");
            const std::string row = std::filesystem::path(object).filename().string() + " " + p.value("program", "");
            table[row][r.name] = !p.value("loaded", false) ? "REFUSED"
                                 : p.contains("verifier")
                                     ? std::to_string(p["verifier"].value("instructions_processed", 0ull))
                                     : "?";
        }
    }
    if (table.empty()) return;
    std::cout << "\ninstructions processed by the verifier:\n" << std::left << std::setw(64) << "  program";
    for (const auto& r : kernels) std::cout << std::right << std::setw(10) << r.name;
    std::cout << "\n";
    for (const auto& [row, cells] : table) {
        std::cout << "  " << std::left << std::setw(62) << row;
        for (const auto& r : kernels) {
            const auto cell = cells.find(r.name);
            std::cout << std::right << std::setw(10) << (cell == cells.end() ? "-" : cell->second);
        }
        std::cout << "\n";
    }
}

void print_problems(const KernelResult& r) {
    std::vector<std::string> lines;
    if (r.outcome == "hang")
        lines.push_back("hung: killed at its timeout; the console's last lines:\n" + r.console_tail);
    else if (r.outcome != "ran")
        lines.push_back(r.outcome + ": the guest left no result; the console's last lines:\n" + r.console_tail);
    if (r.verify.is_object())
        for (const auto& p : r.verify["programs"])
            if (!p.value("loaded", false))
                lines.push_back("refused " + p.value("program", "") + " (" + p.value("object", "") + "):\n" +
                                tail_lines(p.value("error", ""), 6));
    for (const auto& step : r.steps)
        if (step.status != 0 && step.name != "verify")
            lines.push_back(step.name + " exited " + std::to_string(step.status) + "; its log's last lines:\n" +
                            tail_lines(read_file(r.directory + "/" + step.name + ".log"), 12));
    for (const auto& name : r.suites.skipped_names) lines.push_back("suite skipped: " + name);
    for (const auto& line : r.suites.skipped_cases) lines.push_back("case skipped: " + line);
    if (r.probe.is_object())
        for (const auto& limit : r.probe["limitations"]) lines.push_back("kernel lacks: " + limit.get<std::string>());
    if (lines.empty()) return;
    std::cout << "\n" << r.name << " (" << r.release << "):\n";
    for (const auto& line : lines) std::cout << "  " << line << "\n";
}

nlohmann::json kernel_json(const KernelResult& r) {
    nlohmann::json steps = nlohmann::json::object();
    for (const auto& step : r.steps) steps[step.name] = {{"exit", step.status}, {"seconds", step.seconds}};
    nlohmann::json json = {{"name", r.name},
                           {"release", r.release},
                           {"package", r.package},
                           {"accelerator", r.accelerator},
                           {"outcome", r.outcome},
                           {"status", kernel_status(r)},
                           {"seconds", r.seconds},
                           {"steps", steps},
                           {"probe", r.probe},
                           {"verifier", r.verify.is_object() ? r.verify["programs"] : nlohmann::json()},
                           {"suites",
                            {{"tests", r.suites.tests},
                             {"failures", r.suites.failures},
                             {"skipped", r.suites.skipped},
                             {"failed", r.suites.failed},
                             {"skipped_names", r.suites.skipped_names},
                             {"skipped_cases", r.suites.skipped_cases}}}};
    if (r.outcome != "ran") json["console_tail"] = r.console_tail;
    return json;
}

JUnitCase step_case(const KernelResult& r, const std::string& name) {
    const Step* step = find_step(r, name);
    JUnitCase test("kernels." + r.name, name, step ? step->seconds : 0);
    if (step == nullptr)
        test.skipped = r.outcome == "ran" ? "not asked for" : "the guest did not get here (" + r.outcome + ")";
    else if (step->status != 0) {
        test.failure = name + " exited " + std::to_string(step->status);
        test.details = tail_lines(read_file(r.directory + "/" + name + ".log"), log_lines_kept);
    }
    return test;
}

JUnitSuite kernel_suite(const KernelResult& r) {
    JUnitSuite suite{"kernel " + r.name, {{"release", r.release}, {"package", r.package}}, {}};
    JUnitCase boot("kernels." + r.name, "boot", r.seconds);
    if (r.outcome != "ran") {
        boot.failure = r.outcome;
        boot.details = r.console_tail;
    }
    suite.cases.push_back(boot);
    if (r.verify.is_object()) {
        for (const auto& p : r.verify["programs"]) {
            JUnitCase program("kernels." + r.name + ".verifier", p.value("object", "") + " " + p.value("program", ""));
            if (!p.value("loaded", false)) {
                program.failure = "the verifier refused it";
                program.details = p.value("error", "");
            }
            suite.cases.push_back(program);
        }
    } else {
        suite.cases.push_back(step_case(r, "verify"));
    }
    for (const char* name : {"cases", "probes", "check", "suites", "command"}) {
        JUnitCase test = step_case(r, name);
        if (std::string(name) == "suites" && !r.suites.failed.empty() && test.failure)
            test.details = "failed: " + nlohmann::json(r.suites.failed).dump() + "\n" + test.details;
        suite.cases.push_back(test);
    }
    return suite;
}

Result<std::vector<KernelResult>> read_kernels(const std::vector<std::string>& arguments) {
    std::vector<KernelResult> results;
    for (const auto& argument : arguments) {
        const auto equals = argument.find('=');
        if (equals == std::string::npos || equals == 0) return Error{"'" + argument + "' is not NAME=DIR"};
        const std::string directory = argument.substr(equals + 1);
        if (!std::filesystem::is_directory(directory)) return Error{"no results directory " + directory};
        results.push_back(read_kernel(argument.substr(0, equals), directory));
    }
    return results;
}

// A finding on any kernel outweighs a kernel that could not run.
int overall_status(const std::vector<KernelResult>& results) {
    int status = exit_equal;
    for (const auto& r : results) {
        const int own = kernel_status(r);
        status = (own == exit_disagreement || status == exit_disagreement) ? exit_disagreement : std::max(status, own);
    }
    return status;
}

Status write_reports(const std::vector<KernelResult>& results, int status, const std::string& report,
                     const std::string& junit) {
    nlohmann::json list = nlohmann::json::array();
    std::vector<JUnitSuite> suites;
    for (const auto& r : results) {
        list.push_back(kernel_json(r));
        suites.push_back(kernel_suite(r));
    }
    if (!report.empty()) {
        const nlohmann::json json = {{"schema", "xdpturn/kernels/1"}, {"status", status}, {"kernels", list}};
        if (auto written = write_text_file(report, json.dump(2) + "\n"); !written) return written;
    }
    if (!junit.empty()) return write_junit(junit, suites);
    return ok_status();
}

}  // namespace

int kernels_command(int argc, char** argv) {
    po::options_description options("xdpturn kernels: the report of a ci/kernels run\n\noptions");
    std::string report, junit;
    std::vector<std::string> kernels;
    options.add_options()("help,h", "show this help")("report", po::value(&report), "write the report as JSON here")(
        "junit", po::value(&junit), "write the report as JUnit XML here, a test suite per kernel");
    po::options_description hidden;
    hidden.add_options()("kernel", po::value(&kernels));
    po::positional_options_description positional;
    positional.add("kernel", -1);
    const auto parsed = parse_options("kernels", argc, argv, options, &positional, &hidden);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << "usage: xdpturn kernels [--report FILE] [--junit FILE] NAME=DIR...\n\n"
                  << options
                  << "\nEach DIR is a kernel's results as ci/kernels leaves them.\n"
                     "Exit status: 0 every kernel loaded every program and agreed, 1 a kernel\n"
                     "refused a program, disagreed or failed a suite, 2 a kernel could not run.\n";
        return exit_equal;
    }
    if (kernels.empty()) {
        std::cerr << "xdpturn kernels: name one or more NAME=DIR results\n";
        return exit_usage;
    }
    if (auto checked = check_outputs({{}, {report, junit}, {}}); !checked) {
        std::cerr << "xdpturn kernels: " << checked.error().message << "\n";
        return exit_usage;
    }
    auto results = read_kernels(kernels);
    if (!results) {
        std::cerr << "xdpturn kernels: " << results.error().message << "\n";
        return exit_usage;
    }
    print_table(*results);
    print_complexity(*results);
    for (const auto& r : *results) print_problems(r);
    const int status = overall_status(*results);
    if (auto written = write_reports(*results, status, report, junit); !written) {
        std::cerr << "xdpturn kernels: " << written.error().message << "\n";
        return exit_usage;
    }
    std::cout << "\n"
              << (status == exit_equal          ? "every kernel loaded every program and agreed"
                  : status == exit_disagreement ? "FAILED: a kernel refused a program, disagreed or failed a suite"
                                                : "a kernel could not be run")
              << "\n";
    return status;
}

}  // namespace xdpturn::cli
