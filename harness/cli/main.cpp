// xdpturn: verifies an XDP TURN relay program against a reference relay.
#include <bpf/libbpf.h>
#include <sys/utsname.h>

#include <cstring>
#include <iostream>
#include <string>

#include "harness/cli/commands.hpp"
#include "harness/cli/coverage_option.hpp"

namespace {

void print_usage(std::ostream& out) {
    out << "usage: xdpturn COMMAND [OPTIONS]\n"
           "\n"
           "Verifies an XDP TURN relay program against a reference TURN relay written\n"
           "from the RFCs: both must agree byte for byte on every frame.\n"
           "\n"
           "commands:\n"
           "  cases    run the fixed-case table (one or more cases per row of\n"
           "           docs/datapath.md) through both engines and print a summary\n"
           "  check    property-based run: generated frames and binding tables through\n"
           "           both engines, failures shrunk and saved (--cases, --seed, --jobs)\n"
           "  merge    the reports of the shards of a check campaign (--shard K/N) as one\n"
           "  replay   captured frames (pcap, pcapng) through both engines, with a\n"
           "           binding table; reproduces saved counterexamples\n"
           "  relay    the reference relay as a TURN server (UDP, IPv4), optionally with\n"
           "           the XDP program attached and its map kept in step (--xdp)\n"
           "  coverage merge lcov tracefiles of --coverage runs; --gate: fail when a\n"
           "           line or branch of a source file was never reached\n"
           "  bench    measure the reference model, the bare BPF_PROG_TEST_RUN call\n"
           "           rate and the differential comparison, as rates and ratios\n"
           "  datapath the data-path benchmark's load (signalling, generator, sink) and\n"
           "           its report; ci/datapath-bench runs the whole benchmark\n"
           "  probe    what the running kernel can do for the harness (docs/kernels.md)\n"
           "  verify   load every program of BPF objects; the verifier's verdict and\n"
           "           instructions processed and states per program\n"
           "  kernels  the report of a ci/kernels run: one row per kernel\n"
           "  target   check DESCRIPTION.json: load a program that is not ours through its\n"
           "           description and send one frame down each path it claims\n"
           "\n"
           "Run 'xdpturn COMMAND --help' for a command's options, 'xdpturn --version'\n"
           "for the release and the libbpf and kernel it runs on.\n"
           "Exit status: 0 all equal, 1 a disagreement was found, 2 usage, input or\n"
           "environment error.\n";
}

// The release, and what it runs on: verdicts depend on the kernel's
// verifier and BPF_PROG_TEST_RUN, and on the libbpf that loads programs.
void print_version() {
    utsname system{};
    uname(&system);
    std::cout << "xdpturn " << XDPTURN_VERSION << " (libbpf " << libbpf_version_string() << ", kernel "
              << system.sysname << " " << system.release << " " << system.machine << ")\n";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        print_usage(argc < 2 ? std::cerr : std::cout);
        return argc < 2 ? xdpturn::cli::exit_usage : xdpturn::cli::exit_equal;
    }
    if (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0) {
        print_version();
        return xdpturn::cli::exit_equal;
    }
    const std::string command = argv[1];
    if (command == "cases") return xdpturn::cli::finish_coverage(xdpturn::cli::cases_command(argc - 1, argv + 1));
    if (command == "check") return xdpturn::cli::finish_coverage(xdpturn::cli::check_command(argc - 1, argv + 1));
    if (command == "merge") return xdpturn::cli::merge_command(argc - 1, argv + 1);
    if (command == "replay") return xdpturn::cli::finish_coverage(xdpturn::cli::replay_command(argc - 1, argv + 1));
    if (command == "relay") return xdpturn::cli::relay_command(argc - 1, argv + 1);
    if (command == "coverage") return xdpturn::cli::coverage_command(argc - 1, argv + 1);
    if (command == "bench") return xdpturn::cli::bench_command(argc - 1, argv + 1);
    if (command == "datapath") return xdpturn::cli::datapath_command(argc - 1, argv + 1);
    if (command == "probe") return xdpturn::cli::probe_command(argc - 1, argv + 1);
    if (command == "verify") return xdpturn::cli::verify_command(argc - 1, argv + 1);
    if (command == "kernels") return xdpturn::cli::kernels_command(argc - 1, argv + 1);
    if (command == "target") return xdpturn::cli::target_command(argc - 1, argv + 1);
    std::cerr << "xdpturn: unknown command '" << command << "'\n\n";
    print_usage(std::cerr);
    return xdpturn::cli::exit_usage;
}
