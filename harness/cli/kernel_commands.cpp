// xdpturn probe: what the running kernel can do for the harness.
// xdpturn verify: the verifier's verdict and effort for every program of
// BPF objects, in one process (docs/kernels.md).
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/io/output_files.hpp"
#include "harness/xdp/kernel_facts.hpp"
#include "harness/xdp/verifier_stats.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

nlohmann::json facts_json(const KernelFacts& facts) {
    return {{"release", facts.release},
            {"version", std::to_string(facts.version.major) + "." + std::to_string(facts.version.minor)},
            {"parallel_test_runs", facts.parallel_test_runs},
            {"xdp_md_context", facts.xdp_md_context},
            {"frames_over_linear_limit", facts.over_limit == OverLimitFrames::fragments ? "fragments" : "refused"},
            {"live_frames", facts.live_frames},
            {"threaded_napi", facts.threaded_napi},
            {"limitations", facts.limitations()}};
}

nlohmann::json verdict_json(const ProgramVerdict& verdict) {
    nlohmann::json json = {{"object", verdict.object},
                           {"program", verdict.program},
                           {"section", verdict.section},
                           {"loaded", verdict.loaded}};
    if (verdict.stats)
        json["verifier"] = {{"instructions_processed", verdict.stats->instructions_processed},
                            {"instruction_limit", verdict.stats->instruction_limit},
                            {"total_states", verdict.stats->total_states},
                            {"peak_states", verdict.stats->peak_states},
                            {"max_states_per_instruction", verdict.stats->max_states_per_instruction}};
    if (!verdict.loaded) json["error"] = verdict.error;
    if (verdict.loaded && !verdict.stats) json["unread_log"] = verdict.unread_log;
    return json;
}

void print_verdict(const ProgramVerdict& verdict) {
    std::cout << "  " << std::left << std::setw(60)
              << (std::filesystem::path(verdict.object).filename().string() + " " + verdict.program) << " ";
    if (!verdict.loaded) {
        std::cout << "REFUSED\n" << verdict.error << "\n";
        return;
    }
    if (!verdict.stats) {
        std::cout << "loaded (no statistics line in the verifier's log: \"" << verdict.unread_log << "\")\n";
        return;
    }
    std::cout << "loaded " << std::right << std::setw(7) << verdict.stats->instructions_processed << " insns, "
              << std::setw(5) << verdict.stats->total_states << " states (peak " << verdict.stats->peak_states << ")\n";
}

}  // namespace

int probe_command(int argc, char** argv) {
    po::options_description options("xdpturn probe: what the running kernel can do for the harness\n\noptions");
    std::string report;
    options.add_options()("help,h", "show this help")("report", po::value(&report),
                                                      "write the facts as JSON to this file");
    const auto parsed = parse_options("probe", argc, argv, options);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << "usage: xdpturn probe [--report FILE]\n\n"
                  << options << "\nExit status: 0 probed, 2 BPF unusable or the report cannot be written.\n";
        return exit_equal;
    }
    if (auto checked = check_outputs({{}, {report}, {}}); !checked) {
        std::cerr << "xdpturn probe: " << checked.error().message << "\n";
        return exit_usage;
    }
    auto facts = probe_kernel();
    if (!facts) {
        std::cerr << "xdpturn probe: " << facts.error().message << "\n";
        return exit_usage;
    }
    std::cout << "kernel " << facts->release << "\n";
    const auto limits = facts->limitations();
    if (limits.empty()) std::cout << "  everything the harness uses is available\n";
    for (const auto& line : limits) std::cout << "  - " << line << "\n";
    if (!report.empty()) {
        if (auto written = write_text_file(report, facts_json(*facts).dump(2) + "\n"); !written) {
            std::cerr << "xdpturn probe: " << written.error().message << "\n";
            return exit_usage;
        }
    }
    return exit_equal;
}

int verify_command(int argc, char** argv) {
    po::options_description options(
        "xdpturn verify: load every program of BPF objects and report the verifier's work\n\noptions");
    std::string report;
    std::vector<std::string> objects;
    options.add_options()("help,h", "show this help")("report", po::value(&report),
                                                      "write each program's verdict and statistics as JSON here");
    po::options_description hidden;
    hidden.add_options()("object", po::value(&objects));
    po::positional_options_description positional;
    positional.add("object", -1);
    const auto parsed = parse_options("verify", argc, argv, options, &positional, &hidden);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << "usage: xdpturn verify [--report FILE] OBJECT.bpf.o...\n\n"
                  << options
                  << "\nEach program is loaded alone, pinning off, with the verifier's statistics:\n"
                     "instructions processed and states, per program.\n"
                     "Exit status: 0 every program loaded, 1 the kernel refused one, 2 usage\n"
                     "error, or an object that cannot be read.\n";
        return exit_equal;
    }
    if (objects.empty()) {
        std::cerr << "xdpturn verify: name one or more BPF object files\n";
        return exit_usage;
    }
    if (auto checked = check_outputs({objects, {report}, {}}); !checked) {
        std::cerr << "xdpturn verify: " << checked.error().message << "\n";
        return exit_usage;
    }
    const std::string release = running_kernel_release();
    std::cout << "verifier of kernel " << release << ":\n";
    nlohmann::json programs = nlohmann::json::array();
    int refused = 0, unreadable = 0;
    for (const auto& object : objects) {
        for (const auto& verdict : verify_object(object)) {
            print_verdict(verdict);
            programs.push_back(verdict_json(verdict));
            if (!verdict.loaded) ++(verdict.program.empty() ? unreadable : refused);
        }
    }
    std::cout << programs.size() << " program(s): " << programs.size() - refused - unreadable << " loaded, " << refused
              << " refused" << (unreadable ? ", " + std::to_string(unreadable) + " unreadable" : "") << "\n";
    if (!report.empty()) {
        const nlohmann::json json = {{"kernel", release}, {"programs", programs}};
        if (auto written = write_text_file(report, json.dump(2) + "\n"); !written) {
            std::cerr << "xdpturn verify: " << written.error().message << "\n";
            return exit_usage;
        }
    }
    if (unreadable) return exit_usage;
    return refused ? exit_disagreement : exit_equal;
}

}  // namespace xdpturn::cli
