// Coverage probes in the kernel: the instrumented program decides and
// writes exactly what the plain one does, and its counters say exactly how
// often each line ran. Its own executable: the recorder, once started,
// instruments every load in the process.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include "harness/cases/fixed_cases.hpp"
#include "harness/compare/differential.hpp"
#include "harness/coverage/recorder.hpp"

using namespace xdpturn;

namespace {

constexpr const char* program_source = XDPTURN_SOURCE_DIR "/bpf/xdpturn.bpf.c";

// The line of the program's source that reads `text` (trimmed), or 0.
std::uint32_t line_of(const std::string& text) {
    std::ifstream in(program_source);
    std::uint32_t number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && line.substr(first) == text) return number;
    }
    return 0;
}

std::vector<std::uint8_t> run(DifferentialEngine& engine, const FixedCase& c) {
    auto compared = engine.compare(c.config, c.frame);
    BOOST_REQUIRE_MESSAGE(compared.ok(), (compared.ok() ? "" : compared.error().message));
    BOOST_REQUIRE_MESSAGE(compared->agree, c.name + ": " + compared->explain());
    return compared->xdp.output;
}

}  // namespace

BOOST_AUTO_TEST_CASE(probes_count_every_run_exactly_and_change_no_output) {
    const FixedCase& relayed = *find_fixed_case("relayed/basic");
    const FixedCase& not_ip = *find_fixed_case("not_ip/arp");
    BOOST_REQUIRE(relayed.config == not_ip.config);

    std::vector<std::uint8_t> plain_relayed, plain_not_ip;
    {
        coverage::Recorder::Suspend plain;
        DifferentialEngine engine(ProgramSource{});
        BOOST_REQUIRE(engine.set_table(relayed.config, relayed.bindings).ok());
        plain_relayed = run(engine, relayed);
        plain_not_ip = run(engine, not_ip);
    }

    BOOST_REQUIRE(coverage::Recorder::start().ok());
    DifferentialEngine engine(ProgramSource{});
    BOOST_REQUIRE(engine.set_table(relayed.config, relayed.bindings).ok());
    constexpr std::uint64_t relayed_runs = 37;
    constexpr std::uint64_t not_ip_runs = 5;
    for (std::uint64_t i = 0; i < relayed_runs; ++i) BOOST_TEST(run(engine, relayed) == plain_relayed);
    for (std::uint64_t i = 0; i < not_ip_runs; ++i) BOOST_TEST(run(engine, not_ip) == plain_not_ip);

    auto collected = coverage::Recorder::collect();
    BOOST_REQUIRE(collected.ok());
    const auto file = collected->files.find(program_source);
    BOOST_REQUIRE_MESSAGE(file != collected->files.end(), "no coverage of " << program_source);
    const coverage::FileCoverage& source = file->second;
    BOOST_TEST(source.functions.at("xdpturn_relay").hits == relayed_runs + not_ip_runs);
    // Lines whose instructions form whole blocks on these paths (a line's
    // count is its busiest block's): every frame, IPv4 only, IPv6 only.
    const std::uint32_t every_frame =
        line_of("if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))");
    const std::uint32_t ipv4_only = line_of("if (ip->version != IPV4_VERSION)");
    const std::uint32_t ipv6_only = line_of("if (ipv6_extension_header(ip->nexthdr))");
    BOOST_REQUIRE(every_frame != 0 && ipv4_only != 0 && ipv6_only != 0);
    auto hits = [&](std::uint32_t line) {
        auto found = source.lines.find(line);
        BOOST_REQUIRE_MESSAGE(found != source.lines.end(), "no instruction of line " << line);
        return found->second;
    };
    BOOST_TEST(hits(every_frame) == relayed_runs + not_ip_runs);
    BOOST_TEST(hits(ipv4_only) == relayed_runs);
    BOOST_TEST(hits(ipv6_only) == 0u);

    const coverage::RecorderStats stats = coverage::Recorder::stats();
    BOOST_TEST(stats.programs >= 1u);
    BOOST_TEST(stats.insns_after > stats.insns_before);
}
