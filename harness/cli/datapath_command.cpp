// `xdpturn datapath`: the data-path benchmark's two halves (docs/performance.md).
//   load    run inside the load side's network namespace: signalling with one
//           relay, then the ladder of offered rates; writes that relay's JSON
//   report  the relays' JSON files as one report: table, JSON, plot
// ci/datapath-bench builds the namespaces, starts each relay and calls these.
#include <boost/program_options.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "harness/cli/bounded.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/datapath/datapath_report.hpp"
#include "harness/datapath/datapath_run.hpp"
#include "harness/datapath/flows.hpp"
#include "harness/io/strict_json.hpp"
#include "relay/net/file_input.hpp"
#include "relay/turn/turn_core.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

struct LoadFlags {
    std::string relay_name, relay_interface, server,
        clients_from = "10.88.0.2:40000", peers_from = "10.88.0.3:41000", interface, generator = "live", sink = "xdp",
        rates = "50000,100000,200000,400000,800000,0", output, user, pin = "0,0";
    bool relay_cpu_given = false;
    Bounded<1, 4194304> relay_pid{1};
    Bounded<0, 4294967295> xdp_program_id{0};
    std::vector<Bounded<1, 4194304>> kernel_threads;
    Bounded<0, 4096> relay_cpu{0};
    Bounded<1, 1024> clients{16};
    Bounded<1, 64> channels{4};
    Bounded<10, 600000> step_ms{2000};
    Bounded<datapath::min_payload_bytes, datapath::max_payload_bytes> payload{100};
};

// "50000,100000,0": frames a second per step, 0 as fast as it goes.
Result<std::vector<std::uint64_t>> parse_rates(const std::string& text) {
    std::vector<std::uint64_t> rates;
    std::istringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) {
        const auto rate = parse_whole_number(item, 0, 100000000);
        if (!rate)
            return Error{"--rates takes frames a second from 0 (as fast as it goes) to 10^8, not '" + item + "'"};
        rates.push_back(*rate);
    }
    if (rates.empty()) return Error{"--rates needs at least one rate"};
    return rates;
}

Result<datapath::LoadOptions> load_options(const LoadFlags& flags) {
    datapath::LoadOptions options;
    options.relay_name = flags.relay_name;
    options.relay_pid = static_cast<pid_t>(flags.relay_pid.value);
    for (const auto& thread : flags.kernel_threads)
        options.relay_kernel_threads.push_back(static_cast<pid_t>(thread.value));
    if (flags.relay_cpu_given) options.relay_cpu = static_cast<int>(flags.relay_cpu.value);
    if (flags.xdp_program_id.value != 0)
        options.xdp_program_id = static_cast<std::uint32_t>(flags.xdp_program_id.value);
    for (auto [text, field, name] : {std::tuple{&flags.server, &options.server, "--server"},
                                     std::tuple{&flags.clients_from, &options.first_client, "--clients-from"},
                                     std::tuple{&flags.peers_from, &options.first_peer, "--peers-from"}}) {
        auto address = turn::parse_transport_address(*text);
        if (!address || address->ipv6)
            return Error{std::string(name) + " takes an IPv4 ADDR:PORT, not '" + *text + "'"};
        *field = *address;
    }
    if (flags.generator != "live" && flags.generator != "packet" && flags.generator != "socket" &&
        flags.generator != "auto")
        return Error{"--generator takes live, packet, socket or auto"};
    options.generator = flags.generator == "live"     ? datapath::GeneratorKind::live
                        : flags.generator == "packet" ? datapath::GeneratorKind::packet
                        : flags.generator == "socket" ? datapath::GeneratorKind::socket
                                                      : datapath::GeneratorKind::automatic;
    if (flags.sink != "xdp" && flags.sink != "socket") return Error{"--sink takes xdp or socket"};
    options.sink = flags.sink == "xdp" ? datapath::SinkKind::xdp : datapath::SinkKind::socket;
    if ((options.generator != datapath::GeneratorKind::socket || options.sink == datapath::SinkKind::xdp) &&
        flags.interface.empty())
        return Error{
            "the live and packet generators and the XDP sink need --interface (the load side's end of the veth pair)"};
    options.interface = flags.interface;
    options.relay_interface = flags.relay_interface;
    auto rates = parse_rates(flags.rates);
    if (!rates) return rates.error();
    options.rates = *rates;
    if (options.rates.size() > DATAPATH_MAX_STEPS)
        return Error{"--rates takes at most " + std::to_string(DATAPATH_MAX_STEPS) + " steps"};
    options.clients = static_cast<unsigned>(flags.clients.value);
    options.channels_per_client = static_cast<unsigned>(flags.channels.value);
    if (options.clients * options.channels_per_client * 2 > DATAPATH_MAX_FLOWS)
        return Error{"--clients times --channels is at most " + std::to_string(DATAPATH_MAX_FLOWS / 2)};
    for (const auto& [first, count] : {std::pair{options.first_client, options.clients},
                                       std::pair{options.first_peer, options.clients * options.channels_per_client}})
        if (first.port + count - 1 > 0xFFFF) return Error{"the clients' or peers' ports run past 65535"};
    options.step_duration = std::chrono::milliseconds(flags.step_ms.value);
    options.payload_bytes = flags.payload.value;
    if (!flags.user.empty()) {
        const auto colon = flags.user.find(':');
        if (colon == std::string::npos) return Error{"--user takes NAME:PASS"};
        options.user = flags.user.substr(0, colon);
        options.password = flags.user.substr(colon + 1);
    }
    if (flags.pin == "none") {
        options.generator_cpu = options.sink_cpu = -1;
    } else if (std::sscanf(flags.pin.c_str(), "%d,%d", &options.generator_cpu, &options.sink_cpu) != 2 ||
               options.generator_cpu < 0 || options.sink_cpu < 0) {
        return Error{"--pin takes GENERATOR_CPU,SINK_CPU or none"};
    }
    return options;
}

int load_command(int argc, char** argv) {
    po::options_description description(
        "xdpturn datapath load: one relay under the benchmark's load (run in the load side's namespace)\n\noptions");
    LoadFlags flags;
    description.add_options()("help,h", "show this help")("relay-name", po::value(&flags.relay_name)->required(),
                                                          "the relay's name in the report: user, xdp, coturn, ...")(
        "relay-pid", po::value(&flags.relay_pid)->required(), "the relay's process: its CPU time and UDP drops")(
        "relay-kernel-thread", po::value(&flags.kernel_threads),
        "a NAPI thread of the relay's interface: its receive path's CPU time (repeatable)")(
        "relay-cpu", po::value(&flags.relay_cpu), "the core the relay has to itself: its softirq time")(
        "xdp-program-id", po::value(&flags.xdp_program_id),
        "the relay's XDP program: its run-time statistics and verified instructions")(
        "server", po::value(&flags.server)->required(), "the relay's TURN address, ADDR:PORT")(
        "clients-from", po::value(&flags.clients_from)->default_value(flags.clients_from),
        "the first client's address; the others on the next ports")(
        "peers-from", po::value(&flags.peers_from)->default_value(flags.peers_from),
        "the first peer's address; the others on the next ports")(
        "clients", po::value(&flags.clients)->default_value(flags.clients), "clients, one allocation each")(
        "channels", po::value(&flags.channels)->default_value(flags.channels),
        "channels per client, each bound to a peer of its own; every binding is a flow each way")(
        "user", po::value(&flags.user), "NAME:PASS for the relay (default user:pass)")(
        "relay-interface", po::value(&flags.relay_interface),
        "the relay's end of the veth pair, in its namespace: where veth dropped frames")(
        "interface", po::value(&flags.interface),
        "the load side's end of the veth pair (live and packet generators, XDP sink)")(
        "generator", po::value(&flags.generator)->default_value(flags.generator),
        "live (BPF_PROG_TEST_RUN live frames), packet (a packet socket, sendmmsg, no qdisc), socket (the flows' "
        "own sockets, sendmmsg), or auto: live where the kernel takes it, else packet")(
        "sink", po::value(&flags.sink)->default_value(flags.sink),
        "xdp (checks and counts on --interface) or socket (the clients' and peers' sockets)")(
        "rates", po::value(&flags.rates)->default_value(flags.rates),
        "offered frames a second per step, comma-separated; 0: as fast as the generator goes")(
        "step-ms", po::value(&flags.step_ms)->default_value(flags.step_ms), "each step's length")(
        "payload", po::value(&flags.payload)->default_value(flags.payload), "payload bytes per datagram")(
        "pin", po::value(&flags.pin)->default_value(flags.pin), "CPUs of the generator and the sink, or none")(
        "output", po::value(&flags.output)->required(), "write the relay's results here (JSON)");
    const auto parsed = parse_options("datapath load", argc, argv, description);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << description;
        return exit_equal;
    }
    flags.relay_cpu_given = parsed->count("relay-cpu") > 0;
    auto options = load_options(flags);
    if (!options) {
        std::cerr << "xdpturn datapath load: " << options.error().message << "\n";
        return exit_usage;
    }
    auto result = datapath::run_load(*options);
    if (!result) {
        std::cerr << "xdpturn datapath load: " << options->relay_name << ": " << result.error().message << "\n";
        return exit_usage;
    }
    return write_report("datapath load", flags.output, *result) ? exit_equal : exit_usage;
}

int report_command(int argc, char** argv) {
    po::options_description description("xdpturn datapath report: the relays' runs as one report\n\noptions");
    std::vector<std::string> inputs;
    std::string output, plot, title;
    description.add_options()("help,h", "show this help")("output", po::value(&output), "write the report here (JSON)")(
        "plot", po::value(&plot), "draw delivered against offered load and delay here (PNG, gnuplot)")(
        "title", po::value(&title), "what the plot's titles begin with, e.g. the layout");
    po::options_description hidden;
    hidden.add_options()("run", po::value(&inputs)->required(), "a relay's run");
    po::positional_options_description positional;
    positional.add("run", -1);
    const auto parsed = parse_options("datapath report", argc, argv, description, &positional, &hidden);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << "usage: xdpturn datapath report RUN.json... [options]\n" << description;
        return exit_equal;
    }
    if (!outputs_are_safe("datapath report", {inputs, {output, plot}, {}})) return exit_usage;
    std::vector<nlohmann::json> runs;
    for (const std::string& path : inputs) {
        auto run = read_json_strictly(path, "run", report_file_limit);
        if (!run) {
            std::cerr << "xdpturn datapath report: " << run.error().message << "\n";
            return exit_usage;
        }
        runs.push_back(std::move(run).value());
    }
    auto report = datapath::summarise(runs);
    if (!report) {
        std::cerr << "xdpturn datapath report: " << report.error().message << "\n";
        return exit_usage;
    }
    datapath::print_table(std::cout, *report);
    if (!output.empty() && !write_report("datapath report", output, *report)) return exit_usage;
    if (!plot.empty()) {
        if (auto drawn = datapath::plot(*report, plot, title); !drawn) {
            std::cerr << "xdpturn datapath report: " << drawn.error().message << "\n";
            return exit_usage;
        }
    }
    const auto failures = (*report)["integrity_failures"].get<std::uint64_t>();
    if (failures > 0) {
        std::cout << "FAILED: " << failures << " datagrams delivered wrong (corrupt, duplicated or on another flow)\n";
        return exit_disagreement;
    }
    return exit_equal;
}

}  // namespace

int datapath_command(int argc, char** argv) {
    const std::string usage =
        "usage: xdpturn datapath load|report [options]\n"
        "  load    one relay under the benchmark's load (in the load side's namespace)\n"
        "  report  the relays' runs as one report: table, JSON, plot\n"
        "The whole benchmark, namespaces and relays included: ci/datapath-bench\n";
    if (argc < 2) {
        std::cerr << usage;
        return exit_usage;
    }
    const std::string mode = argv[1];
    if (mode == "load") return load_command(argc - 1, argv + 1);
    if (mode == "report") return report_command(argc - 1, argv + 1);
    if (mode == "--help" || mode == "-h") {
        std::cout << usage;
        return exit_equal;
    }
    std::cerr << "xdpturn datapath: unknown mode '" << mode << "'\n" << usage;
    return exit_usage;
}

}  // namespace xdpturn::cli
