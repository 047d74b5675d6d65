// xdpturn coverage: merges the tracefiles of --coverage runs and, with
// --gate, fails when a line or branch of a source file was never reached
// and no marker in that source says why it cannot be.
#include <iostream>

#include "harness/cli/bounded.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/coverage/source_coverage.hpp"
#include "harness/io/output_files.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

nlohmann::json findings_json(const std::vector<coverage::GateFinding>& findings) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& finding : findings) list.push_back({{"where", finding.where}, {"what", finding.what}});
    return list;
}

nlohmann::json gate_json(const coverage::GateReport& gate, const coverage::GateOptions& options) {
    nlohmann::json exclusions = nlohmann::json::array();
    for (const auto& e : gate.exclusions)
        exclusions.push_back({{"file", e.file},
                              {"first", e.first},
                              {"last", e.last},
                              {"branches_only", e.branches_only},
                              {"boundaries_only", e.boundaries_only},
                              {"reason", e.reason}});
    const coverage::Totals& t = gate.totals;
    return {{"source", options.file},
            {"passed", gate.passed()},
            {"lines", {{"found", t.lines_found}, {"hit", t.lines_hit}}},
            {"branches", {{"found", t.branches_found}, {"hit", t.branches_hit}}},
            {"functions", {{"found", t.functions_found}, {"hit", t.functions_hit}}},
            {"boundaries", {{"found", t.boundaries_found}, {"hit", t.boundaries_hit}, {"gated", options.boundaries}}},
            {"unmet_boundaries", findings_json(gate.unmet)},
            {"unmeasured_boundaries", findings_json(gate.unmeasured)},
            {"unreached", findings_json(gate.unreached)},
            {"unexplained_exclusions", findings_json(gate.unexplained)},
            {"rare_below", options.rare_below},
            {"rare", findings_json(gate.rare)},
            {"stale_exclusions", findings_json(gate.stale)},
            {"exclusions", exclusions}};
}

}  // namespace

int coverage_command(int argc, char** argv) {
    po::options_description options(
        "xdpturn coverage: merge lcov tracefiles and gate on a source's coverage\n\noptions");
    std::vector<std::string> inputs;
    std::string gate_source, output, report;
    Bounded<0, UINT64_MAX> rare{100};
    bool boundaries = false;
    options.add_options()("help,h", "show this help")(
        "gate", po::value(&gate_source),
        "fail (exit 1) unless every line and both directions of every branch of the source file whose path ends "
        "in this were reached, but for lines marked LCOV_EXCL_LINE, LCOV_EXCL_BR_LINE or inside LCOV_EXCL_START/STOP, "
        "each with a reason after a colon")("rare", po::value(&rare)->default_value(rare),
                                            "list branch directions reached fewer times than this")(
        "boundaries", po::bool_switch(&boundaries),
        "with --gate, fail too unless every comparison of the source met its operands one below, exactly at and "
        "one above its boundary, but for lines with any exclusion marker or XDPTURN_BOUNDARY_EXCL_LINE (or "
        "inside XDPTURN_BOUNDARY_EXCL_START/STOP), each with a reason after a colon")(
        "output,o", po::value(&output),
        "write the merged tracefile here, exclusions applied as lcov's geninfo applies them (for genhtml)")(
        "report", po::value(&report), "write the gate's findings as JSON to this file");
    po::options_description hidden;
    hidden.add_options()("tracefile", po::value(&inputs));
    po::positional_options_description positional;
    positional.add("tracefile", -1);
    const auto parsed = parse_options("coverage", argc, argv, options, &positional, &hidden);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << "usage: xdpturn coverage [OPTIONS] TRACEFILE...\n\n"
                  << options
                  << "\nThe tracefiles come from --coverage runs of cases, check and replay.\n"
                     "Exit status: 0 merged (and the gate passed), 1 the gate failed,\n"
                     "2 usage or input error.\n";
        return exit_equal;
    }
    // An empty --gate would turn the gate off without a word.
    if (parsed->count("gate") && gate_source.empty()) {
        std::cerr << "xdpturn coverage: --gate needs the source file to gate\n";
        return exit_usage;
    }
    if (inputs.empty()) {
        std::cerr << "xdpturn coverage: name at least one tracefile\n";
        return exit_usage;
    }
    FileRoles files{inputs, {output, report}, {}};
    files.inputs.push_back(gate_source);
    if (!outputs_are_safe("coverage", files)) return exit_usage;
    coverage::SourceCoverage merged;
    for (const std::string& input : inputs) {
        auto read = coverage::read_lcov_file(input);
        if (!read) {
            std::cerr << "xdpturn coverage: " << read.error().message << "\n";
            return exit_usage;
        }
        merged.merge(*read);
    }
    auto exclusions = coverage::find_exclusions(merged);
    if (!exclusions) {
        std::cerr << "xdpturn coverage: " << exclusions.error().message << "\n";
        return exit_usage;
    }
    int status = exit_equal;
    if (!gate_source.empty()) {
        const coverage::GateOptions gate_options{gate_source, rare.value, boundaries};
        auto gate = coverage::run_gate(merged, gate_options);
        if (!gate) {
            std::cerr << "xdpturn coverage: " << gate.error().message << "\n";
            return exit_usage;
        }
        coverage::print_gate(std::cout, *gate, gate_options);
        if (!report.empty() && !write_report("coverage", report, gate_json(*gate, gate_options))) return exit_usage;
        status = gate->passed() ? exit_equal : exit_disagreement;
    }
    if (!output.empty()) {
        coverage::SourceCoverage kept = merged;
        coverage::apply_exclusions(kept, *exclusions);
        if (auto written = write_text_file(output, coverage::lcov_text(kept, "xdpturn")); !written) {
            std::cerr << "xdpturn coverage: " << written.error().message << "\n";
            return exit_usage;
        }
    }
    return status;
}

}  // namespace xdpturn::cli
