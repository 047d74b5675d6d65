#include "harness/cli/coverage_option.hpp"

#include <fstream>
#include <iomanip>
#include <iostream>

#include "harness/cli/commands.hpp"
#include "harness/coverage/recorder.hpp"
#include "harness/io/output_files.hpp"

namespace xdpturn::cli {

namespace {

struct CoverageRequest {
    std::string command;
    std::string path;
};

CoverageRequest& request() {
    static CoverageRequest instance;
    return instance;
}

nlohmann::json totals_json(const coverage::Totals& t) {
    return {{"lines_found", t.lines_found},         {"lines_hit", t.lines_hit},
            {"branches_found", t.branches_found},   {"branches_hit", t.branches_hit},
            {"functions_found", t.functions_found}, {"functions_hit", t.functions_hit}};
}

std::string fraction(std::size_t hit, std::size_t found) {
    std::ostringstream text;
    text << hit << "/" << found;
    if (found > 0) text << " (" << std::fixed << std::setprecision(1) << 100.0 * hit / found << "%)";
    return text.str();
}

}  // namespace

void add_coverage_option(boost::program_options::options_description& options, std::string& path) {
    options.add_options()("coverage", boost::program_options::value(&path),
                          "add coverage probes to the XDP program (it must carry BTF line information, clang -g) "
                          "and write which source lines and branches ran to this lcov tracefile");
}

bool start_coverage(const std::string& command, const std::string& path) {
    if (path.empty()) return true;
    // Before the run, not after it: a long run is not lost to a bad path
    // (and the file is not touched until the run is done).
    if (auto writable = check_outputs({{}, {path}, {}}); !writable) {
        std::cerr << "xdpturn " << command << ": --coverage: " << writable.error().message << "\n";
        return false;
    }
    if (auto started = coverage::Recorder::start(); !started) {
        std::cerr << "xdpturn " << command << ": --coverage: " << started.error().message << "\n";
        return false;
    }
    request() = {command, path};
    return true;
}

nlohmann::json coverage_summary() {
    if (request().path.empty()) return nullptr;
    auto collected = coverage::Recorder::collect();
    if (!collected) return {{"error", collected.error().message}};
    const coverage::RecorderStats stats = coverage::Recorder::stats();
    nlohmann::json files = nlohmann::json::object();
    for (const auto& [name, file] : collected->files) files[name] = totals_json(collected->totals(name));
    return {{"tracefile", request().path},
            {"total", totals_json(collected->totals())},
            {"files", files},
            {"programs_instrumented", stats.programs},
            {"probes", stats.counters},
            {"instructions_without_probes", stats.insns_before},
            {"instructions_with_probes", stats.insns_after}};
}

int finish_coverage(int status) {
    const CoverageRequest& wanted = request();
    if (wanted.path.empty()) return status;
    auto collected = coverage::Recorder::collect();
    if (collected) {
        if (auto written = write_text_file(wanted.path, coverage::lcov_text(*collected, "xdpturn_" + wanted.command));
            !written)
            collected = written.error();
    }
    if (!collected) {
        std::cerr << "xdpturn " << wanted.command << ": --coverage: " << collected.error().message << "\n";
        return exit_usage;
    }
    const coverage::RecorderStats stats = coverage::Recorder::stats();
    std::cout << "\ncoverage written to " << wanted.path << " (" << stats.programs << " program load(s) instrumented, "
              << stats.counters << " probes, " << stats.insns_before << " -> " << stats.insns_after
              << " instructions):\n";
    for (const auto& [name, file] : collected->files) {
        const coverage::Totals t = collected->totals(name);
        std::cout << "  " << name << ": lines " << fraction(t.lines_hit, t.lines_found) << ", branches "
                  << fraction(t.branches_hit, t.branches_found) << ", functions "
                  << fraction(t.functions_hit, t.functions_found) << "\n";
    }
    if (stats.programs == 0) std::cout << "  (no program was loaded, so nothing was measured)\n";
    return status;
}

}  // namespace xdpturn::cli
