// `xdpturn replay`: captured frames through both engines, frame by frame.
#include <pcap/dlt.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/compare/differential.hpp"
#include "harness/io/bindings_json.hpp"
#include "harness/io/capture_reader.hpp"
#include "harness/io/link_layer.hpp"
#include "harness/io/pcap_out.hpp"
#include "harness/replay/binding_learner.hpp"
#include "harness/replay/capture_oracle.hpp"
#include "harness/replay/checksum_offload.hpp"
#include "harness/replay/replay_pipeline.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

struct ReplayTally {
    std::uint64_t frames_read = 0;
    std::uint64_t compared = 0;
    std::uint64_t agreed = 0;
    std::uint64_t disagreed = 0;
    std::map<std::string, std::uint64_t> skipped;  // reason -> frames
    std::array<std::uint64_t, reason_count> reference{};
    std::array<std::uint64_t, reason_count> xdp{};
    std::map<std::string, std::uint64_t> reference_verdicts;
    std::map<std::string, std::uint64_t> xdp_verdicts;
    std::map<std::string, std::uint64_t> udp_checksums;  // state -> frames
    std::uint64_t checksums_repaired = 0;
};

const char* checksum_state_name(UdpChecksumState state) {
    switch (state) {
        case UdpChecksumState::not_applicable: return "not IPv4 UDP";
        case UdpChecksumState::none: return "none (0)";
        case UdpChecksumState::valid: return "valid";
        case UdpChecksumState::partial: return "partial (checksum offload)";
        case UdpChecksumState::wrong: return "wrong";
    }
    return "?";
}

// Appends the per-packet entries, streamed to `entries_path`, to the report
// as its last member, without reading them all into memory.
bool splice_per_packet(const std::string& report, const std::string& entries_path, std::ofstream& entries) {
    entries.close();
    std::string text;
    {
        std::ifstream in(report);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto end = text.find_last_of('}');
    if (end == std::string::npos) return false;
    std::ofstream out(report);
    out << text.substr(0, end) << ",\n  \"per_packet\": [\n";
    std::ifstream in(entries_path);
    bool first = true;
    for (std::string line; std::getline(in, line); first = false) out << (first ? "    " : ",\n    ") << line;
    out << "\n  ]\n}\n";
    std::remove(entries_path.c_str());
    if (!out) {
        std::cerr << "xdpturn replay: cannot write report '" << report << "'\n";
        return false;
    }
    return true;
}

}  // namespace

int run_replay(int argc, char** argv) {
    po::options_description description("xdpturn replay: captured frames through both engines\n\noptions");
    std::vector<std::string> captures;
    std::string bindings_path, channel_range, object, out_path, mismatches_path, report;
    unsigned turn_port = 0;
    std::size_t show = 5;
    unsigned jobs = 1;
    description.add_options()("help,h", "show this help")(
        "bindings", po::value(&bindings_path), "binding table and relay settings (JSON, see docs/replay.md)")(
        "turn-port", po::value(&turn_port), "the relay's TURN port (default 3478, or the bindings file's)")(
        "channel-range", po::value(&channel_range),
        "accepted channels LO-HI, decimal or 0x hex (default 0x4000-0x4FFF)")(
        "object", po::value(&object), "verify this BPF object instead of the built-in program")(
        "out", po::value(&out_path), "write the XDP program's XDP_TX frames to this pcap")(
        "mismatches", po::value(&mismatches_path),
        "write input, reference output and XDP output of each disagreement to this pcap")(
        "learn", "learn bindings from the capture's STUN traffic (Allocate, ChannelBind, Refresh), in capture order")(
        "fix-checksums", "repair partial (offloaded) UDP checksums before replay")(
        "report", po::value(&report), "write a JSON report")("per-packet", "add one report entry per frame")(
        "show", po::value(&show)->default_value(show), "disagreements to print in full")(
        "jobs", po::value(&jobs)->default_value(1), "worker threads; results and the report stay in capture order");
    po::options_description hidden;
    hidden.add_options()("capture", po::value(&captures));
    po::positional_options_description positional;
    positional.add("capture", -1);
    const auto parsed = parse_options("replay", argc, argv, description, &positional, &hidden);
    if (!parsed) return exit_usage;
    const po::variables_map& args = *parsed;
    if (args.count("help")) {
        std::cout << "usage: xdpturn replay CAPTURE... [options]\n\n"
                  << description
                  << "\nReads pcap and pcapng files with Ethernet frames. Frames the kernel cannot take\n"
                     "whole are skipped and counted with the reason. Exit status: 0 all frames agreed,\n"
                     "1 at least one disagreement, 2 usage or input error.\n";
        return exit_equal;
    }
    if (args.count("per-packet") && report.empty()) {
        std::cerr << "xdpturn replay: --per-packet adds entries to the report; give --report FILE\n";
        return exit_usage;
    }
    if (captures.empty()) {
        std::cerr << "xdpturn replay: no capture given\n\n" << description;
        return exit_usage;
    }

    DatapathConfig config;
    BindingTable bindings;
    if (!bindings_path.empty()) {
        auto file = read_bindings_file(bindings_path);
        if (!file) {
            std::cerr << "xdpturn replay: " << file.error().message << "\n";
            return exit_usage;
        }
        if (file->turn_port) config.turn_port = *file->turn_port;
        if (file->channels) config.channels = *file->channels;
        bindings = std::move(file->bindings);
    }
    if (args.count("turn-port")) {
        if (turn_port > 0xFFFF) {
            std::cerr << "xdpturn replay: --turn-port must be at most 65535\n";
            return exit_usage;
        }
        config.turn_port = static_cast<std::uint16_t>(turn_port);
    }
    if (!channel_range.empty()) {
        auto range = parse_channel_range(channel_range);
        if (!range) {
            std::cerr << "xdpturn replay: --channel-range: " << range.error().message << "\n";
            return exit_usage;
        }
        config.channels = *range;
    }

    if (jobs == 0) {
        std::cerr << "xdpturn replay: --jobs must be positive\n";
        return exit_usage;
    }
    ProgramSource source;
    if (!object.empty()) source.object_path = object;
    std::optional<PcapWriter> out, mismatches;
    for (auto [path, writer] : {std::pair{&out_path, &out}, std::pair{&mismatches_path, &mismatches}}) {
        if (path->empty()) continue;
        auto created = PcapWriter::create(*path);
        if (!created) {
            std::cerr << "xdpturn replay: " << created.error().message << "\n";
            return exit_usage;
        }
        writer->emplace(std::move(created).value());
    }

    ReplayTally tally;
    std::vector<std::string> input_errors;
    // Per-packet entries go to a file as they come (one JSON value a line)
    // and are spliced into the report at the end: memory stays flat.
    const std::string per_packet_path = report + ".per-packet.tmp";
    std::ofstream per_packet;
    if (args.count("per-packet") && !report.empty()) per_packet.open(per_packet_path);
    const bool progress = isatty(STDERR_FILENO) != 0;
    nlohmann::json shown = nlohmann::json::array();
    nlohmann::json link_types = nlohmann::json::array();
    const bool learn = args.count("learn") > 0;
    const bool fix_checksums = args.count("fix-checksums") > 0;
    BindingLearner learner(config.turn_port, bindings);
    CaptureOracle oracle;

    // Results arrive here in capture order, whatever the number of jobs.
    auto merge = [&](ReplayFrame& frame) {
        const std::string& path = captures[frame.capture];
        if (!frame.bytes.empty()) oracle.observe(frame.bytes);
        if (!frame.skip.empty()) {
            ++tally.skipped[frame.skip];
            if (per_packet.is_open())
                per_packet << nlohmann::json{{"capture", path}, {"index", frame.index}, {"skipped", frame.skip}}.dump()
                           << "\n";
            return;
        }
        ++tally.compared;
        ++tally.reference[static_cast<std::size_t>(frame.reference.reason)];
        ++tally.xdp[static_cast<std::size_t>(frame.xdp.reason)];
        ++tally.reference_verdicts[std::string(name(frame.reference.verdict))];
        ++tally.xdp_verdicts[std::string(name(frame.xdp.verdict))];
        if (frame.xdp.verdict == Verdict::tx) {
            oracle.expect(frame.xdp_output);
            if (out) (void)out->write(frame.xdp_output);
        }
        if (frame.agree) {
            ++tally.agreed;
        } else {
            ++tally.disagreed;
            if (mismatches) {
                (void)mismatches->write(frame.bytes);
                (void)mismatches->write(frame.reference_output);
                (void)mismatches->write(frame.xdp_output);
            }
            if (shown.size() < show) {
                std::cout << "disagreement at frame " << frame.index << " of " << path << ":\n" << frame.diff << "\n";
                shown.push_back({{"capture", path}, {"index", frame.index}, {"diff", frame.diff}});
            }
        }
        if (progress && tally.compared % 100000 == 0)
            std::cerr << "\r" << tally.compared << " frames, " << tally.disagreed << " disagreements" << std::flush;
        if (per_packet.is_open())
            per_packet << nlohmann::json{{"capture", path},
                                         {"index", frame.index},
                                         {"reference",
                                          {{"verdict", name(frame.reference.verdict)},
                                           {"reason", name(frame.reference.reason)}}},
                                         {"xdp",
                                          {{"verdict", name(frame.xdp.verdict)}, {"reason", name(frame.xdp.reason)}}},
                                         {"agree", frame.agree}}
                              .dump()
                       << "\n";
    };
    ReplayPipeline pipeline(jobs, source, config, merge);
    if (auto started_pipeline = pipeline.start(); !started_pipeline) {
        std::cerr << "xdpturn replay: cannot run the XDP program: " << started_pipeline.error().message << "\n";
        return exit_usage;
    }
    auto table = std::make_shared<const BindingTable>(bindings);
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::uint8_t> converted;
    for (std::uint32_t capture_number = 0; capture_number < captures.size(); ++capture_number) {
        const std::string& path = captures[capture_number];
        auto reader = CaptureReader::open(path);
        if (!reader) {
            input_errors.push_back(reader.error().message);
            continue;
        }
        auto adapter = LinkAdapter::for_link_type(reader->link_type());
        if (!adapter) {
            input_errors.push_back("capture '" + path + "' (" + reader->link_type_name() +
                                   "): " + adapter.error().message);
            continue;
        }
        link_types.push_back(
            {{"capture", path}, {"link_type", adapter->name()}, {"synthesised", adapter->synthesised()}});
        for (std::uint64_t index = 0;; ++index) {
            auto captured = reader->next();
            if (!captured) {
                input_errors.push_back(captured.error().message + " (after " + std::to_string(index) + " frames)");
                break;
            }
            if (!*captured) break;
            ++tally.frames_read;
            ReplayFrame frame;
            frame.capture = capture_number;
            frame.index = index;
            frame.table = table;
            if ((*captured)->bytes.size() < (*captured)->original_length) {
                frame.skip = "cut by the capture's snap length";
            } else if (auto ethernet = adapter->to_ethernet((*captured)->bytes, converted); !ethernet) {
                frame.skip = ethernet.error().message;
            } else {
                frame.bytes.assign(ethernet->begin(), ethernet->end());
                const UdpChecksumState checksum = classify_udp_checksum(frame.bytes);
                ++tally.udp_checksums[checksum_state_name(checksum)];
                if (fix_checksums && checksum == UdpChecksumState::partial) {
                    repair_udp_checksum(frame.bytes);
                    ++tally.checksums_repaired;
                }
                if (learn && learner.observe(frame.bytes, (*captured)->timestamp_us)) {
                    table = std::make_shared<const BindingTable>(learner.table());
                    frame.table = table;
                }
                if (frame.bytes.size() < test_run_min_frame)
                    frame.skip = "shorter than an Ethernet header";
                else if (frame.bytes.size() > test_run_max_frame)
                    frame.skip = "larger than BPF_PROG_TEST_RUN takes linear (3520 bytes)";
            }
            if (auto pushed = pipeline.push(std::move(frame)); !pushed) {
                std::cerr << "xdpturn replay: " << pushed.error().message << "\n";
                return exit_usage;
            }
        }
    }
    if (auto finished = pipeline.finish(); !finished) {
        std::cerr << "xdpturn replay: " << finished.error().message << "\n";
        return exit_usage;
    }
    if (progress) std::cerr << "\r" << std::string(50, ' ') << "\r";
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto syscalls = pipeline.syscall_time();
    const double frames_per_second = seconds > 0 ? static_cast<double>(tally.compared) / seconds : 0;
    const double frames_per_second_per_job = frames_per_second / jobs;
    const double bare_rate = syscalls.test_run_ns > 0 ? static_cast<double>(syscalls.test_runs) * 1e9 /
                                                            static_cast<double>(syscalls.test_run_ns)
                                                      : 0;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const long peak_rss_kib = usage.ru_maxrss;

    std::cout << std::left << std::setw(20) << "reason" << std::right << std::setw(12) << "reference" << std::setw(12)
              << "xdp"
              << "\n";
    for (std::size_t i = 0; i < reason_count; ++i) {
        if (tally.reference[i] == 0 && tally.xdp[i] == 0) continue;
        std::cout << std::left << std::setw(20) << name(static_cast<Reason>(i)) << std::right << std::setw(12)
                  << tally.reference[i] << std::setw(12) << tally.xdp[i] << "\n";
    }
    std::cout << "\n"
              << tally.frames_read << " frames read, " << tally.compared << " compared: " << tally.agreed << " agreed, "
              << tally.disagreed << " disagreed\n";
    for (const auto& [why, count] : tally.skipped) std::cout << count << " skipped: " << why << "\n";
    for (const auto& [state, count] : tally.udp_checksums) std::cout << count << " UDP checksums " << state << "\n";
    if (tally.udp_checksums.count(checksum_state_name(UdpChecksumState::partial)) && !fix_checksums)
        std::cout << "note: partial checksums come from checksum offload on the capturing host; "
                     "--fix-checksums repairs them\n";
    if (fix_checksums) std::cout << tally.checksums_repaired << " partial checksums repaired\n";
    if (learn) {
        const LearnerStats& learned = learner.stats();
        std::cout << "learned: " << learned.allocations << " allocations, " << learned.channel_binds
                  << " channel binds (" << learner.bindings_learned() << " distinct bindings), "
                  << learned.allocations_deleted << " allocations deleted, " << learned.bindings_expired
                  << " bindings expired; " << learner.table().size() << " bindings live at the end\n";
    }
    std::cout << std::fixed << std::setprecision(0) << frames_per_second << " frames/s with " << jobs
              << " job(s); BPF_PROG_TEST_RUN on these frames " << bare_rate << " calls/s per job; ratio "
              << std::setprecision(2) << (bare_rate > 0 ? frames_per_second_per_job / bare_rate : 0)
              << " per job; peak resident memory " << peak_rss_kib / 1024 << " MiB\n";
    if (oracle.expected() > 0)
        std::cout << "relay's real output: " << oracle.matched() << " of " << oracle.expected()
                  << " XDP outputs also appear in the capture as the relay's own datagram\n";
    for (const std::string& error : input_errors) std::cout << "input error: " << error << "\n";

    if (!report.empty()) {
        nlohmann::json reasons = nlohmann::json::object();
        for (std::size_t i = 0; i < reason_count; ++i)
            reasons[std::string(name(static_cast<Reason>(i)))] = {{"reference", tally.reference[i]},
                                                                  {"xdp", tally.xdp[i]}};
        nlohmann::json document = {{"captures", captures},
                                   {"program", source.describe()},
                                   {"relay", bindings_json(config, bindings)["relay"]},
                                   {"bindings", bindings.size()},
                                   {"frames_read", tally.frames_read},
                                   {"frames_compared", tally.compared},
                                   {"skipped", tally.skipped},
                                   {"input_errors", input_errors},
                                   {"reasons", reasons},
                                   {"verdicts", {{"reference", tally.reference_verdicts}, {"xdp", tally.xdp_verdicts}}},
                                   {"agreements", tally.agreed},
                                   {"disagreements", tally.disagreed},
                                   {"first_disagreements", shown},
                                   {"link_types", link_types},
                                   {"udp_checksums", tally.udp_checksums},
                                   {"checksums_repaired", tally.checksums_repaired},
                                   {"relay_output",
                                    {{"xdp_outputs", oracle.expected()},
                                     {"matched_in_capture", oracle.matched()},
                                     {"expectations_dropped", oracle.dropped()}}}};
        if (learn) {
            const LearnerStats& learned = learner.stats();
            nlohmann::json live = bindings_json(config, learner.table())["bindings"];
            document["learned"] = {{"stun_messages", learned.stun_messages},
                                   {"malformed_stun", learned.malformed_stun},
                                   {"allocations", learned.allocations},
                                   {"channel_binds", learned.channel_binds},
                                   {"distinct_bindings", learner.bindings_learned()},
                                   {"allocations_deleted", learned.allocations_deleted},
                                   {"allocations_expired", learned.allocations_expired},
                                   {"bindings_expired", learned.bindings_expired},
                                   {"not_ipv4", learned.not_ipv4},
                                   {"unmatched_responses", learned.unmatched_responses},
                                   {"live_at_end", live}};
        }
        document["timing"] = {{"seconds", seconds},
                              {"frames_per_second", frames_per_second},
                              {"test_run_calls_per_second", bare_rate},
                              {"jobs", jobs},
                              {"ratio_to_bare_rate_per_job", bare_rate > 0 ? frames_per_second_per_job / bare_rate : 0},
                              {"peak_rss_kib", peak_rss_kib}};
        if (!write_report("replay", report, document)) return exit_usage;
        if (per_packet.is_open() && !splice_per_packet(report, per_packet_path, per_packet)) return exit_usage;
    }
    if (tally.disagreed > 0) return exit_disagreement;
    return input_errors.empty() ? exit_equal : exit_usage;
}

}  // namespace xdpturn::cli
