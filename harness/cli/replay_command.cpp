// `xdpturn replay`: captured frames through both engines, frame by frame.
#include <boost/program_options.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "harness/cli/bounded.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/coverage_option.hpp"
#include "harness/cli/options.hpp"
#include "harness/cli/replay_report.hpp"
#include "harness/io/bindings_json.hpp"
#include "harness/replay/replay_run.hpp"
#include "harness/xdp/kernel_facts.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

// Appends the per-packet entries, streamed to `entries_path`, to the report
// as its last member, without reading them all into memory.
bool splice_per_packet(const std::string& report, const std::string& entries_path) {
    std::string text;
    {
        std::ifstream in(report);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto end = text.find_last_of('}');
    if (end == std::string::npos) return false;
    OutputFile whole(report);
    std::ofstream out(whole.staging());
    out << text.substr(0, end) << ",\n  \"per_packet\": [\n";
    std::ifstream in(entries_path);
    bool first = true;
    for (std::string line; std::getline(in, line); first = false) out << (first ? "    " : ",\n    ") << line;
    out << "\n  ]\n}\n";
    std::remove(entries_path.c_str());
    out.close();
    if (out.fail() || !whole.commit()) {
        std::cerr << "xdpturn replay: cannot write report '" << report << "'\n";
        return false;
    }
    return true;
}

// The flags as given, before they are checked.
struct ReplayFlags {
    std::vector<std::string> captures;
    std::string bindings_path, channel_range, relay_ports, out_path, mismatches_path, report, junit, shard, coverage;
    ProgramFlags program;
    std::vector<std::string> relay_addresses;
    std::vector<std::string> host_addresses;
    Bounded<1, 65535> turn_port;
    Bounded<68, 65535> mtu{1500};
    Bounded<0, 1000000> show{5};
    Bounded<1, max_jobs> jobs{1};
};

// The binding table and relay settings: the bindings file first, then the
// flags over it.
Status load_relay_settings(const po::variables_map& args, const ReplayFlags& flags, ReplayOptions& options) {
    if (!flags.bindings_path.empty()) {
        auto file = read_bindings_file(flags.bindings_path);
        if (!file) return file.error();
        apply_relay_settings(*file, options.config);
        options.bindings = std::move(file->bindings);
    }
    if (args.count("turn-port")) options.config.turn_port = static_cast<std::uint16_t>(flags.turn_port.value);
    if (!flags.channel_range.empty()) {
        auto range = parse_channel_range(flags.channel_range);
        if (!range) return Error{"--channel-range: " + range.error().message};
        options.config.channels = *range;
    }
    if (!flags.relay_ports.empty()) {
        auto range = parse_port_range(flags.relay_ports);
        if (!range) return Error{"--relay-ports: " + range.error().message};
        options.config.relay_ports = *range;
    }
    if (args.count("mtu")) options.config.mtu = static_cast<std::uint16_t>(flags.mtu.value);
    // The flags replace the file's addresses, one per family at most: a
    // second of the same family would leave unclear which one the relay is.
    std::optional<IpAddress> flag_ipv4, flag_ipv6;
    for (const std::string& text : flags.relay_addresses) {
        auto address = parse_ip(text);
        if (!address) return Error{"--relay-address: " + address.error().message};
        std::optional<IpAddress>& slot = address->is_v4() ? flag_ipv4 : flag_ipv6;
        if (slot) return Error{"--relay-address: at most one address per family, got two: '" + text + "'"};
        slot = *address;
    }
    if (flag_ipv4) options.config.relay_ipv4 = flag_ipv4;
    if (flag_ipv6) options.config.relay_ipv6 = flag_ipv6;
    auto checked = checked_config(options.config);
    if (!checked) return checked.error();
    return ok_status();
}

// The captures at positions K-1, K-1+N, ... of the list, for --shard K/N.
Result<std::vector<std::string>> shard_of(const std::vector<std::string>& captures, const std::string& shard) {
    auto slice = parse_shard(shard);
    if (!slice) return slice.error();
    std::vector<std::string> mine;
    for (std::size_t i = slice->first; i < captures.size(); i += slice->second) mine.push_back(captures[i]);
    return mine;
}

void describe_flags(po::options_description& description, ReplayFlags& flags) {
    description.add_options()("help,h", "show this help");
    add_program_options(description, flags.program);
    add_coverage_option(description, flags.coverage);
    description.add_options()("bindings", po::value(&flags.bindings_path),
                              "binding table and relay settings (JSON, see docs/replay.md)")(
        "turn-port", po::value(&flags.turn_port), "the relay's TURN port (default 3478, or the bindings file's)")(
        "channel-range", po::value(&flags.channel_range),
        "accepted channels LO-HI, decimal or 0x hex (default 0x4000-0x4FFF)")(
        "relay-ports", po::value(&flags.relay_ports),
        "allocation ports LO-HI, where peers send (default 49152-65535, or the bindings file's)")(
        "mtu", po::value(&flags.mtu), "largest IP packet the relay sends (default 1500, or the bindings file's)")(
        "relay-address", po::value(&flags.relay_addresses)->composing(),
        "the relay's own address of a family (repeat for both): the source of outputs across families (RFC 6156); "
        "without one, bindings across families go to user space")(
        "host-address", po::value(&flags.host_addresses)->composing(),
        "with --target: the relay host's own address of a family (repeat for both), which the target's maps and "
        "its FIB namespace hold; default 192.0.2.1 and 2001:db8:1::1")(
        "out", po::value(&flags.out_path), "write the XDP program's XDP_TX frames to this pcap")(
        "mismatches", po::value(&flags.mismatches_path),
        "write input, reference output and XDP output of each disagreement to this pcap")(
        "learn", "learn bindings from the capture's STUN traffic (Allocate, ChannelBind, Refresh), in capture order")(
        "live",
        "the captures come from the far side of a live relay's link: check what its program sent against the "
        "reference, instead of running a program here")(
        "fix-checksums", "repair partial (offloaded) UDP checksums before replay")("report", po::value(&flags.report),
                                                                                   "write a JSON report")(
        "junit", po::value(&flags.junit), "write a JUnit XML report (a test case per capture)")(
        "per-packet", "add one report entry per frame")("show", po::value(&flags.show)->default_value(flags.show),
                                                        "disagreements to print in full")(
        "jobs", po::value(&flags.jobs)->default_value(flags.jobs),
        "worker threads; results and the report stay in capture order")(
        "shard", po::value(&flags.shard),
        "K/N: replay only the captures whose position in the list is K modulo N (each shard learns on its own)");
}

// --host-address, at most one per family, and only for a target.
Status read_host_addresses(const ReplayFlags& flags, ProgramSource& program) {
    if (!flags.host_addresses.empty() && !program.target) return Error{"applies to --target only"};
    for (const std::string& text : flags.host_addresses) {
        auto address = parse_ip(text);
        if (!address) return address.error();
        std::optional<IpAddress>& slot = address->is_v4() ? program.host_ipv4 : program.host_ipv6;
        if (slot) return Error{"give at most one address of each family"};
        slot = *address;
    }
    return ok_status();
}

}  // namespace

int replay_command(int argc, char** argv) {
    po::options_description description("xdpturn replay: captured frames through both engines\n\noptions");
    ReplayFlags flags;
    describe_flags(description, flags);
    po::options_description hidden;
    hidden.add_options()("capture", po::value(&flags.captures));
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
    if (args.count("per-packet") && flags.report.empty()) {
        std::cerr << "xdpturn replay: --per-packet adds entries to the report; give --report FILE\n";
        return exit_usage;
    }
    if (args.count("live") && (!flags.program.object.empty() || !flags.out_path.empty() ||
                               !flags.mismatches_path.empty() || args.count("per-packet") || flags.jobs.value != 1)) {
        std::cerr << "xdpturn replay: --live checks the program that made the capture; --object, --out, "
                     "--mismatches, --per-packet and --jobs do not apply (--target says how to judge it)\n";
        return exit_usage;
    }
    if (flags.captures.empty()) {
        std::cerr << "xdpturn replay: no capture given\n\n" << description;
        return exit_usage;
    }

    FileRoles files{
        flags.captures, {flags.out_path, flags.mismatches_path, flags.report, flags.junit, flags.coverage}, {}};
    files.inputs.insert(files.inputs.end(), {flags.bindings_path, flags.program.object, flags.program.target});
    if (!outputs_are_safe("replay", files)) return exit_usage;

    ReplayOptions options;
    if (auto settings = load_relay_settings(args, flags, options); !settings) {
        std::cerr << "xdpturn replay: " << settings.error().message << "\n";
        return exit_usage;
    }
    options.captures = flags.captures;
    if (!flags.shard.empty()) {
        auto slice = shard_of(flags.captures, flags.shard);
        if (!slice) {
            std::cerr << "xdpturn replay: --shard: " << slice.error().message << "\n";
            return exit_usage;
        }
        options.captures = std::move(slice).value();
    }
    auto source = program_source(flags.program);
    if (!source) {
        std::cerr << "xdpturn replay: " << source.error().message << "\n";
        return exit_usage;
    }
    options.program = std::move(source).value();
    if (!start_coverage("replay", flags.coverage)) return exit_usage;
    if (auto hosts = read_host_addresses(flags, options.program); !hosts) {
        std::cerr << "xdpturn replay: --host-address: " << hosts.error().message << "\n";
        return exit_usage;
    }
    std::string jobs_note;
    options.jobs = test_run_jobs(static_cast<unsigned>(flags.jobs.value), jobs_note);
    if (!jobs_note.empty()) std::cout << "xdpturn replay: " << jobs_note << "\n";
    options.learn = args.count("learn") > 0;
    options.live = args.count("live") > 0;
    if (options.live) {
        options.program.object_path = "live (from the capture)";
        if (options.program.target) options.program.target_object = "live, from the capture";
    }
    options.fix_checksums = args.count("fix-checksums") > 0;
    options.out_path = flags.out_path;
    options.mismatches_path = flags.mismatches_path;
    // Per-packet entries go to a file as they come (one JSON value a line)
    // and are spliced into the report at the end: memory stays flat.
    if (args.count("per-packet")) options.per_packet_path = flags.report + ".per-packet.tmp";
    options.keep_disagreements = flags.show.value;
    options.progress = isatty(STDERR_FILENO) != 0;

    auto result = xdpturn::run_replay(options);
    if (!result) {
        std::cerr << "xdpturn replay: " << result.error().message << "\n";
        return exit_usage;
    }
    print_replay(options, *result);
    if (!flags.report.empty()) {
        if (!write_report("replay", flags.report, replay_report(options, *result))) return exit_usage;
        if (!options.per_packet_path.empty() && !splice_per_packet(flags.report, options.per_packet_path))
            return exit_usage;
    }
    if (!flags.junit.empty() && !write_junit_report("replay", flags.junit, {replay_junit(options, *result)}))
        return exit_usage;
    return replay_exit_status(*result);
}

}  // namespace xdpturn::cli
