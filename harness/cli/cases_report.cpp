#include "harness/cli/cases_report.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iomanip>
#include <iostream>

#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/io/decision_json.hpp"
#include "harness/io/junit.hpp"
#include "harness/io/output_files.hpp"
#include "harness/io/pcap_out.hpp"
#include "harness/io/pcapng_out.hpp"

namespace xdpturn::cli {

namespace {

// A verdict without its "XDP_" prefix.
std::string verdict_text(Verdict verdict) {
    return std::string(name(verdict)).substr(4);
}

std::string decision_text(const Decision& d) {
    return verdict_text(d.verdict) + "/" + std::string(name(d.reason));
}

// A case as a JUnit test case: classname "cases.<row>", name the variant.
JUnitCase junit_case_of(const FixedCase& c) {
    const std::size_t slash = c.name.find('/');
    return JUnitCase{"cases." + c.name.substr(0, slash), c.name.substr(slash + 1)};
}

std::string artifact_name(std::string case_name) {
    for (char& c : case_name)
        if (c == '/') c = '-';
    return case_name + ".pcap";
}

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

// A frame of a case's capture and what it is.
struct CommentedFrame {
    const std::vector<std::uint8_t>* frame;
    std::string comment;
};

// The case's frames again as pcapng, each with its comment, beside the pcap
// (`.pcapng` for `.pcap`): Wireshark shows why the case failed.
Status write_commented_case(const std::string& pcap_path, const std::vector<CommentedFrame>& frames) {
    auto file = PcapngWriter::create(pcap_path + "ng");
    if (!file) return file.error();
    for (const CommentedFrame& commented : frames)
        if (!commented.frame->empty())
            if (Status written = file->write(*commented.frame, commented.comment); !written) return written;
    return file->close();
}

std::string input_comment(const FixedCase& c) {
    return "input: fixed case " + c.name + " (" + c.description + ")";
}

// Every problem on one line, as a comment holds it best.
std::string problems_text(const FixedCaseOutcome& outcome) {
    std::string text;
    for (const std::string& problem : outcome.problems) {
        std::string line = problem;
        for (char& ch : line)
            if (ch == '\n') ch = ' ';
        text += (text.empty() ? "" : "; ") + line;
    }
    return text;
}

Status write_case_pcapng(const std::string& path, const FixedCase& c, const FixedCaseOutcome& outcome) {
    std::vector<CommentedFrame> frames{
        {&c.frame, input_comment(c) + ", expected " + decision_text(c.expected)},
        {&c.expected_output, "expected output: " + decision_text(c.expected) + " (passed frames: the input)"}};
    if (outcome.comparison) {
        frames.push_back({&outcome.comparison->reference.output,
                          "reference output: " + decision_text(outcome.comparison->reference.decision)});
        frames.push_back(
            {&outcome.comparison->xdp.output,
             "program output: " + decision_text(outcome.comparison->xdp.decision) + "; " + problems_text(outcome)});
    }
    return write_commented_case(path, frames);
}

// Prints a failed case's problems and, with --artifacts, writes its pcap
// and its commented pcapng.
void report_failed_case(const FixedCase& c, const FixedCaseOutcome& outcome, const std::string& artifacts,
                        nlohmann::json& entry) {
    for (const std::string& problem : outcome.problems) std::cout << "    " << problem << "\n";
    if (artifacts.empty()) return;
    const std::string path = artifacts + "/" + artifact_name(c.name);
    Status written = write_case_pcap(path, c, outcome);
    if (written) written = write_case_pcapng(path, c, outcome);
    if (written) {
        std::cout << "    frames written to " << path << " (and " << path << "ng, each frame with a comment)\n";
        entry["pcap"] = path;
        entry["pcapng"] = path + "ng";
    } else {
        std::cout << "    (could not write " << path << ": " << written.error().message << ")\n";
    }
}

// Under the conformance oracle, with --artifacts: a defect case's input,
// the reference relay's output and the target's, in that order.
Status write_defect_frames(const std::string& path, const FixedCase& c, const Comparison& compared) {
    if (auto made = ensure_directory(std::filesystem::path(path).parent_path().string()); !made) return made;
    auto writer = PcapWriter::create(path);
    if (!writer) return writer.error();
    for (const std::vector<std::uint8_t>* frame : {&c.frame, &compared.reference.output, &compared.xdp.output})
        if (!frame->empty())
            if (auto written = writer->write(*frame); !written) return written;
    if (Status closed = writer->close(); !closed) return closed;
    const ConformanceVerdict& verdict = *compared.conformance;
    std::string fields;
    for (const std::string& field : verdict.fields) fields += " " + field;
    return write_commented_case(
        path, {{&c.frame, input_comment(c) + "; the relay: " + decision_text(compared.reference.decision) +
                              ", the target: " + std::string(name(verdict.conformance))},
               {&compared.reference.output,
                "reference output: " + decision_text(compared.reference.decision) + " (passed frames: the input)"},
               {&compared.xdp.output, "target output: " + verdict_text(compared.xdp.decision.verdict) + ", " +
                                          std::string(name(verdict.conformance)) +
                                          (fields.empty() ? "" : "; fields that differ:" + fields)}});
}

void write_defect_pcap(const FixedCase& c, const Comparison& compared, const std::string& artifacts,
                       nlohmann::json& entry) {
    const std::string path = artifacts + "/" + artifact_name(c.name);
    if (auto written = write_defect_frames(path, c, compared); !written) {
        std::cout << "    (could not write " << path << ": " << written.error().message << ")\n";
        return;
    }
    std::cout << "    frames (input, reference, target) written to " << path << " (and " << path
              << "ng, each frame with a comment)\n";
    entry["pcap"] = path;
    entry["pcapng"] = path + "ng";
}

// The count per contract row.
void print_rows(const CasesRun& run) {
    std::cout << "\n"
              << std::setw(20) << "contract row" << std::setw(8) << "cases"
              << "passed\n";
    for (Reason reason : all_reasons) {
        const RowTally& tally = run.row(reason);
        std::cout << std::setw(20) << name(reason) << std::setw(8) << tally.cases << tally.passed
                  << (tally.cases == 0 ? (reachable_through_test_run(reason) || reason == Reason::short_ethernet
                                              ? "   NO CASE"
                                              : "   (unreachable by any frame; see docs/datapath.md)")
                                       : "")
                  << "\n";
    }
}

// The case as a JUnit test case with, on failure, the problems (with their
// field diffs) and the pcap's path.
JUnitCase case_junit(const FixedCase& c, const FixedCaseOutcome& outcome, const nlohmann::json& entry) {
    JUnitCase junit = junit_case_of(c);
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

int report_exact(const CasesRun& run, const ProgramSource& source, const CasesReportOptions& options) {
    print_header(source);
    JUnitSuite suite{"xdpturn cases", {{"program", source.describe()}}, {}};
    nlohmann::json json_cases = nlohmann::json::array();
    for (const auto& [fixed, outcome] : run.outcomes) {
        const FixedCase& c = *fixed;
        print_case_line(c, outcome);
        nlohmann::json entry = case_json(c, outcome);
        if (!outcome.passed()) report_failed_case(c, outcome, options.artifacts, entry);
        if (options.verbose && outcome.comparison && outcome.comparison->agree)
            std::cout << "    outputs equal (" << outcome.comparison->xdp.output.size() << " bytes)\n";
        suite.cases.push_back(case_junit(c, outcome, entry));
        json_cases.push_back(std::move(entry));
    }
    print_rows(run);
    const int rows_without_case = run.rows_without_case();
    const auto total = static_cast<int>(run.outcomes.size());
    std::cout << "\n" << total - run.failed << " of " << total << " cases passed";
    if (rows_without_case > 0) std::cout << "; " << rows_without_case << " contract row(s) have no case";
    std::cout << "\n";

    if (!options.report.empty()) {
        nlohmann::json document = {
            {"program", source.describe()},
            {"cases", json_cases},
            {"summary", {{"cases", total}, {"failed", run.failed}, {"rows_without_case", rows_without_case}}}};
        if (!write_report("cases", options.report, document)) return exit_usage;
    }
    if (!options.junit.empty() && !write_junit_report("cases", options.junit, {suite})) return exit_usage;
    return run.failed > 0 || rows_without_case > 0 ? exit_disagreement : exit_equal;
}

// The fixed cases through the conformance oracle: each case's frame and
// table, the class of what the program did (their expected decisions are
// our program's, so they are not the measure here).
int report_conformance(const CasesRun& run, const ProgramSource& source, const CasesReportOptions& options) {
    std::cout << "program: " << source.describe() << " (conformance oracle, docs/targets.md)\n\n"
              << std::left << std::setw(40) << "case" << std::setw(24) << "reference" << std::setw(16) << "target"
              << "class\n";
    JUnitSuite suite{"xdpturn cases", {{"program", source.describe()}}, {}};
    nlohmann::json json_cases = nlohmann::json::array();
    for (const auto& [fixed, outcome] : run.outcomes) {
        const FixedCase& c = *fixed;
        const Comparison& compared = *outcome.comparison;
        const ConformanceVerdict& verdict = *compared.conformance;
        std::cout << std::setw(40) << c.name << std::setw(24) << decision_text(compared.reference.decision)
                  << std::setw(16) << verdict_text(compared.xdp.decision.verdict) << name(verdict.conformance) << "\n";
        JUnitCase junit_case = junit_case_of(c);
        nlohmann::json entry{{"name", c.name},
                             {"reference", decision_json(compared.reference.decision)},
                             {"target_verdict", name(compared.xdp.decision.verdict)},
                             {"class", name(verdict.conformance)},
                             {"detail", verdict.detail}};
        if (!compared.agree) {
            std::cout << verdict.detail << "\n";
            if (!options.artifacts.empty()) write_defect_pcap(c, compared, options.artifacts, entry);
            junit_case.failure = std::string(name(verdict.conformance));
            junit_case.details = verdict.detail;
            if (entry.contains("pcap"))
                junit_case.details += "\nframes (input, reference, target): " + entry["pcap"].get<std::string>();
        }
        suite.cases.push_back(junit_case);
        json_cases.push_back(std::move(entry));
    }
    const nlohmann::json classes = classes_json(run.classes);
    std::cout << "\n";
    for (std::size_t i = 0; i < conformance_count; ++i) {
        if (run.classes[i] > 0)
            std::cout << std::setw(28) << name(static_cast<Conformance>(i)) << run.classes[i] << "\n";
    }
    std::cout << "\n" << run.defects << " defect(s) in " << json_cases.size() << " cases\n";
    if (!options.report.empty() && !write_report("cases", options.report,
                                                 {{"program", source.describe()},
                                                  {"oracle", "conformance"},
                                                  {"cases", json_cases},
                                                  {"classes", classes},
                                                  {"defects", run.defects}}))
        return exit_usage;
    if (!options.junit.empty() && !write_junit_report("cases", options.junit, {suite})) return exit_usage;
    return run.defects > 0 ? exit_disagreement : exit_equal;
}

}  // namespace

int report_cases(const CasesRun& run, const ProgramSource& source, const CasesReportOptions& options) {
    return run.conformance ? report_conformance(run, source, options) : report_exact(run, source, options);
}

}  // namespace xdpturn::cli
