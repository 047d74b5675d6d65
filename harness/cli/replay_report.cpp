#include "harness/cli/replay_report.hpp"

#include <iomanip>
#include <iostream>

#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/io/bindings_json.hpp"

namespace xdpturn::cli {

namespace {

void print_reasons(const ReplayResult& result) {
    std::cout << std::left << std::setw(20) << "reason" << std::right << std::setw(12) << "reference" << std::setw(12)
              << "xdp"
              << "\n";
    for (Reason reason : all_reasons) {
        if (result.reference[reason] == 0 && result.xdp[reason] == 0) continue;
        std::cout << std::left << std::setw(20) << name(reason) << std::right << std::setw(12)
                  << result.reference[reason] << std::setw(12) << result.xdp[reason] << "\n";
    }
}

void print_learned(const ReplayResult& result) {
    const LearnerStats& learned = result.learned;
    std::cout << "learned: " << learned.allocations << " allocations, " << learned.channel_binds << " channel binds ("
              << result.bindings_learned << " distinct bindings), " << learned.allocations_deleted
              << " allocations deleted, " << learned.bindings_expired << " bindings expired; "
              << result.final_table.size() << " bindings live at the end\n";
}

nlohmann::json learned_json(const ReplayOptions& options, const ReplayResult& result) {
    const LearnerStats& learned = result.learned;
    return {{"stun_messages", learned.stun_messages},
            {"malformed_stun", learned.malformed_stun},
            {"allocations", learned.allocations},
            {"channel_binds", learned.channel_binds},
            {"distinct_bindings", result.bindings_learned},
            {"allocations_deleted", learned.allocations_deleted},
            {"allocations_expired", learned.allocations_expired},
            {"bindings_expired", learned.bindings_expired},
            {"without_allocation", learned.without_allocation},
            {"unmatched_responses", learned.unmatched_responses},
            {"live_at_end", bindings_json(options.config, result.final_table)["bindings"]}};
}

}  // namespace

void print_live(const ReplayResult& result) {
    std::cout << "live program: the reference relays " << result.live_expected << " frame(s); their outputs in the "
              << "capture: " << result.live_matched << " exact, " << result.live_differed << " different, "
              << result.live_missing << " missing";
    if (result.live_given_up > 0) std::cout << ", " << result.live_given_up << " not checked (too many outstanding)";
    if (result.live_in_flight > 0)
        std::cout << "; " << result.live_in_flight << " frame(s) not judged (a ChannelBind for them in flight)";
    std::cout << "\n";
}

void print_replay(const ReplayOptions& options, const ReplayResult& result) {
    for (const ReplayDisagreement& shown : result.first_disagreements)
        std::cout << "disagreement at frame " << shown.index << " of " << shown.capture << ":\n" << shown.diff << "\n";
    if (options.live) {
        std::cout << "reference decisions:\n";
        for (Reason reason : all_reasons)
            if (result.reference[reason] > 0)
                std::cout << "  " << std::left << std::setw(18) << name(reason) << std::right << std::setw(10)
                          << result.reference[reason] << "\n";
        print_live(result);
    } else {
        print_reasons(result);
    }
    if (result.conformance) {
        std::cout << "\nconformance classes (docs/targets.md):\n";
        for (std::size_t i = 0; i < conformance_count; ++i)
            if (result.classes[i] > 0)
                std::cout << "  " << std::left << std::setw(28) << name(static_cast<Conformance>(i)) << std::right
                          << std::setw(10) << result.classes[i]
                          << (is_defect(static_cast<Conformance>(i), options.program.strict_checksums) ? "   DEFECT"
                                                                                                       : "")
                          << "\n";
    }
    if (options.live)
        std::cout << "\n"
                  << result.frames_read << " frames read, " << result.compared
                  << " decided by the reference; frames it passes to user space cannot be judged from a capture\n";
    else
        std::cout << "\n"
                  << result.frames_read << " frames read, " << result.compared << " compared: " << result.agreed
                  << " agreed, " << result.disagreed << " disagreed\n";
    for (const auto& [why, count] : result.skipped) std::cout << count << " skipped: " << why << "\n";
    for (const auto& [state, count] : result.udp_checksums) std::cout << count << " UDP checksums " << state << "\n";
    if (result.udp_checksums.count(partial_checksum_state) && !options.fix_checksums)
        std::cout << "note: partial checksums come from checksum offload on the capturing host; "
                     "--fix-checksums repairs them\n";
    if (options.fix_checksums) std::cout << result.checksums_repaired << " partial checksums repaired\n";
    if (!result.counter_mismatch.empty())
        std::cout << "FAILED: the BPF reason counters do not match the verdicts:\n" << result.counter_mismatch;
    if (options.learn) print_learned(result);
    if (options.live) {
        for (const std::string& error : result.input_errors) std::cout << "input error: " << error << "\n";
        return;
    }
    std::cout << std::fixed << std::setprecision(0) << result.frames_per_second() << " frames/s with " << options.jobs
              << " job(s); BPF_PROG_TEST_RUN on these frames " << result.cost.test_run_calls_per_second()
              << " calls/s per job; ratio " << std::setprecision(2) << result.ratio_to_bare_per_job(options.jobs)
              << " per job; peak resident memory " << result.peak_rss_kib / 1024 << " MiB\n";
    if (result.oracle_expected > 0)
        std::cout << "relay's real output: " << result.oracle_matched << " of " << result.oracle_expected
                  << " XDP outputs also appear in the capture as the relay's own datagram\n";
    for (const std::string& error : result.input_errors) std::cout << "input error: " << error << "\n";
}

nlohmann::json replay_report(const ReplayOptions& options, const ReplayResult& result) {
    nlohmann::json reasons = nlohmann::json::object();
    for (Reason reason : all_reasons)
        reasons[std::string(name(reason))] = {{"reference", result.reference[reason]}, {"xdp", result.xdp[reason]}};
    nlohmann::json shown = nlohmann::json::array();
    for (const ReplayDisagreement& d : result.first_disagreements)
        shown.push_back({{"capture", d.capture}, {"index", d.index}, {"diff", d.diff}});
    nlohmann::json link_types = nlohmann::json::array();
    for (const LinkTypeSeen& seen : result.link_types)
        link_types.push_back(
            {{"capture", seen.capture}, {"link_type", seen.link_type}, {"synthesised", seen.synthesised}});
    const nlohmann::json classes = result.conformance ? classes_json(result.classes) : nlohmann::json::object();
    nlohmann::json document = {{"captures", options.captures},
                               {"oracle", result.conformance ? "conformance" : "exact"},
                               {"classes", classes},
                               {"program", options.program.describe()},
                               {"relay", bindings_json(options.config, options.bindings)["relay"]},
                               {"bindings", options.bindings.size()},
                               {"frames_read", result.frames_read},
                               {"frames_compared", result.compared},
                               {"skipped", result.skipped},
                               {"input_errors", result.input_errors},
                               {"reasons", reasons},
                               {"verdicts", {{"reference", result.reference_verdicts}, {"xdp", result.xdp_verdicts}}},
                               {"agreements", result.agreed},
                               {"disagreements", result.disagreed},
                               {"first_disagreements", shown},
                               {"link_types", link_types},
                               {"udp_checksums", result.udp_checksums},
                               {"checksums_repaired", result.checksums_repaired},
                               {"relay_output",
                                {{"xdp_outputs", result.oracle_expected},
                                 {"matched_in_capture", result.oracle_matched},
                                 {"expectations_dropped", result.oracle_dropped}}}};
    nlohmann::json per_capture = nlohmann::json::array();
    for (const CaptureTally& capture : result.per_capture)
        per_capture.push_back({{"capture", capture.capture},
                               {"frames_read", capture.frames_read},
                               {"compared", capture.compared},
                               {"disagreed", capture.disagreed},
                               {"first_diff", capture.first_diff},
                               {"input_error", capture.input_error}});
    document["per_capture"] = per_capture;
    document["modes"] = {{"learn", options.learn}, {"fix_checksums", options.fix_checksums}, {"live", options.live}};
    if (options.learn) document["learned"] = learned_json(options, result);
    if (options.live)
        document["live"] = {{"expected_outputs", result.live_expected}, {"exact", result.live_matched},
                            {"different", result.live_differed},        {"missing", result.live_missing},
                            {"not_checked", result.live_given_up},      {"in_flight", result.live_in_flight}};
    document["timing"] = {{"seconds", result.seconds},
                          {"frames_per_second", result.frames_per_second()},
                          {"test_run_calls_per_second", result.cost.test_run_calls_per_second()},
                          {"jobs", options.jobs},
                          {"ratio_to_bare_rate_per_job", result.ratio_to_bare_per_job(options.jobs)},
                          {"peak_rss_kib", result.peak_rss_kib}};
    return document;
}

JUnitSuite replay_junit(const ReplayOptions& options, const ReplayResult& result) {
    JUnitSuite suite{"xdpturn replay", {{"program", options.program.describe()}}, {}};
    for (const CaptureTally& capture : result.per_capture) {
        JUnitCase test{"replay", capture.capture};
        if (!capture.input_error.empty()) {
            test.failure = "input error";
            test.details = capture.input_error + "\n";
        } else if (capture.disagreed > 0) {
            test.failure =
                std::to_string(capture.disagreed) + " of " + std::to_string(capture.compared) + " frames disagree";
            test.details = "first disagreement:\n" + capture.first_diff;
            if (!options.mismatches_path.empty())
                test.details += "frames (input, reference, xdp): " + options.mismatches_path + "\n";
        }
        suite.cases.push_back(std::move(test));
    }
    return suite;
}

int replay_exit_status(const ReplayResult& result) {
    if (result.disagreed > 0 || !result.counter_mismatch.empty()) return exit_disagreement;
    // A replay that compared nothing proved nothing: it does not pass.
    const bool live = result.live_expected > 0 || result.live_in_flight > 0;
    if (result.compared == 0 && !live) {
        std::cerr << "xdpturn replay: no frame was compared (" << result.frames_read << " read): nothing was checked\n";
        return exit_usage;
    }
    return result.input_errors.empty() ? exit_equal : exit_usage;
}

}  // namespace xdpturn::cli
