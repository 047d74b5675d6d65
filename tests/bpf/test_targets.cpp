// Targets: programs that are not ours, verified from their descriptions.
//   - our own program described like a target agrees byte for byte, reasons
//     included, and conforms under the oracle;
//   - tiny-relay (tests/bpf/targets/), a second target of our own with one
//     planted defect: the defect is found, nothing else is, the build
//     without it conforms, and loading it leaves none of its pinned maps
//     behind;
//   - pion/turn's offload: every class docs/findings/pion-turn.md lists is
//     still found by a property run and by its committed counterexample, and
//     both of its FIB paths run in the namespace;
//   - the maps a target keeps of its own accord are put back between blocks.
#include <boost/test/unit_test.hpp>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "harness/cases/fixed_case_check.hpp"
#include "harness/check/check_run.hpp"
#include "harness/compare/target_engine.hpp"
#include "harness/foreign/target_description.hpp"
#include "harness/foreign/target_sync.hpp"
#include "harness/frames/sent_to.hpp"
#include "harness/io/bindings_json.hpp"
#include "harness/io/capture_reader.hpp"
#include "harness/xdp/bpf_object_tools.hpp"
#include "harness/xdp/kernel_facts.hpp"

using namespace xdpturn;

namespace {

const std::string source_dir = XDPTURN_SOURCE_DIR;
const std::string bpf_dir = XDPTURN_MUTANT_DIR;

ProgramSource target_source(const std::string& description, const std::string& object, bool conformance) {
    auto read = read_target_description(source_dir + "/" + description);
    BOOST_REQUIRE_MESSAGE(read.ok(), (read.ok() ? "" : read.error().message));
    ProgramSource source;
    source.object_path = bpf_dir + "/" + object;
    source.target_name = read->name;
    source.target = std::make_shared<const TargetDescription>(std::move(read).value());
    source.conformance = conformance;
    return source;
}

// pion/turn's object is built only where its source sits beside the clone;
// in CI it always does, so there the case runs, and its absence fails it.
// Elsewhere the case is skipped, and Boost.Test says why.
boost::test_tools::assertion_result pion_built(boost::unit_test::test_unit_id) {
    const char* ci = std::getenv("CI");
    if (std::filesystem::exists(bpf_dir + "/pion_turn_xdp.bpf.o") || (ci != nullptr && std::string(ci) == "true"))
        return true;
    boost::test_tools::assertion_result absent(false);
    absent.message() << "../shared/third_party/pion-turn-xdp is absent, so pion/turn's offload was not built";
    return absent;
}

// pion/turn looks routes up: its test runs need an xdp_md context, which
// 5.10 refuses (docs/kernels.md).
boost::test_tools::assertion_result pion_runs(boost::unit_test::test_unit_id unit) {
    auto built = pion_built(unit);
    const KernelFacts* facts = kernel_facts();
    if (!built || facts == nullptr || facts->xdp_md_context) return built;
    boost::test_tools::assertion_result refused(false);
    refused.message() << "kernel " << facts->release << " refuses an xdp_md context for XDP test runs ("
                      << facts->xdp_md_context_error << "), which pion/turn's FIB lookups need";
    return refused;
}

std::set<std::string> defect_classes(const CheckResult& result) {
    std::set<std::string> classes;
    for (const CheckFailure& defect : result.defects) classes.insert(defect.property);
    return classes;
}

CheckResult check(const ProgramSource& source, std::uint64_t cases, std::uint64_t seed, bool shrink = true) {
    CheckOptions options;
    options.cases = cases;
    options.seed = seed;
    options.shrink = shrink;
    options.jobs = 2;
    options.program = source;
    options.counterexample_dir = XDPTURN_ARTIFACT_DIR "/targets";
    auto result = run_check(options);
    BOOST_REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.error().message));
    return std::move(result).value();
}

}  // namespace

BOOST_AUTO_TEST_CASE(our_program_described_as_a_target_agrees_byte_for_byte) {
    DifferentialEngine engine(target_source("targets/xdpturn.json", "xdpturn.bpf.o", false));
    BOOST_REQUIRE(!engine.judges_conformance());
    for (const FixedCase& c : fixed_cases()) {
        const FixedCaseOutcome outcome = check_fixed_case(engine, c);
        BOOST_TEST(outcome.passed(), c.name << ": " << (outcome.problems.empty() ? "" : outcome.problems.front()));
    }
}

BOOST_AUTO_TEST_CASE(our_program_conforms_under_the_oracle) {
    const CheckResult result = check(target_source("targets/xdpturn.json", "xdpturn.bpf.o", true), 20000, 11);
    BOOST_TEST(result.conformance);
    BOOST_TEST(result.defects.empty());
    BOOST_TEST(result.classes[static_cast<std::size_t>(Conformance::conformant_forward)] > 1000u);
}

BOOST_AUTO_TEST_CASE(the_planted_defect_of_tiny_relay_is_found_and_nothing_else) {
    const CheckResult result =
        check(target_source("tests/bpf/targets/tiny-relay.json", "tiny_relay.bpf.o", false), 20000, 12);
    // The Length field is never read: padding is relayed as data (wrong
    // bytes), and a Length the datagram does not hold is relayed anyway.
    BOOST_TEST((defect_classes(result) == std::set<std::string>{"forwarded_not_relayed", "forwarded_wrong_bytes"}));
    BOOST_TEST(result.classes[static_cast<std::size_t>(Conformance::conformant_forward)] > 100u);
    for (const CheckFailure& defect : result.defects) BOOST_TEST(defect.saved.has_value());
}

// Built with -DTINY_READS_LENGTH, tiny-relay reads the Length as it should;
// it still differs from our program in every other way (TTL, config map,
// keys, checksum arithmetic), and must conform: what the oracle finds in
// the planted build is the planted defect. (Its first version here summed
// its padding bytes in 16 bits without the end-around carry; the oracle
// found that too.)
BOOST_AUTO_TEST_CASE(tiny_relay_without_its_defect_conforms) {
    const CheckResult result =
        check(target_source("tests/bpf/targets/tiny-relay.json", "tiny_relay_reads_length.bpf.o", false), 20000, 12);
    BOOST_TEST(result.defects.empty());
    BOOST_TEST(result.classes[static_cast<std::size_t>(Conformance::conformant_forward)] > 1000u);
}

BOOST_AUTO_TEST_CASE(loading_a_target_with_pinned_maps_leaves_no_pin) {
    DifferentialEngine engine(target_source("tests/bpf/targets/tiny-relay.json", "tiny_relay.bpf.o", false));
    BOOST_REQUIRE(engine.engine_for(fixed_case_config()).ok());
    for (const char* map : {"tiny_config", "tiny_channels"})
        BOOST_TEST(!std::filesystem::exists(std::string("/sys/fs/bpf/") + map), map << " was pinned");
}

BOOST_AUTO_TEST_CASE(every_listed_pion_class_is_still_found, *boost::unit_test::precondition(pion_runs)) {
    // The classes docs/findings/pion-turn.md explains, one committed
    // counterexample each.
    std::set<std::string> listed;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir + "/pcaps/targets/pion-turn"))
        if (entry.path().extension() == ".pcap") listed.insert(entry.path().stem().string());
    BOOST_REQUIRE(listed.size() >= 3u);
    // dropped_for_user_space is rare (a peer's large datagram with IP
    // options, about 1 in 300,000 cases): seed 3 is one whose run meets it.
    // A generator change that moves every seed's cases may need another.
    // The classes are what counts here, not their shrunk cases (ci/pion-target
    // shrinks and saves them): unshrunk, the run takes a fraction of the time.
    const CheckResult result =
        check(target_source("targets/pion-turn.json", "pion_turn_xdp.bpf.o", false), 200000, 3, false);
    BOOST_TEST(defect_classes(result) == listed);
}

BOOST_AUTO_TEST_CASE(each_pion_counterexample_keeps_its_class, *boost::unit_test::precondition(pion_runs)) {
    DifferentialEngine engine(target_source("targets/pion-turn.json", "pion_turn_xdp.bpf.o", false));
    for (const auto& entry : std::filesystem::directory_iterator(source_dir + "/pcaps/targets/pion-turn")) {
        if (entry.path().extension() != ".pcap") continue;
        const std::string stem = entry.path().stem().string();
        auto bindings = read_bindings_file((entry.path().parent_path() / (stem + ".json")).string());
        BOOST_REQUIRE(bindings.ok());
        DatapathConfig config;
        apply_relay_settings(*bindings, config);
        auto reader = CaptureReader::open(entry.path().string());
        BOOST_REQUIRE(reader.ok());
        auto first = reader->next();  // the input; the outputs follow for people
        BOOST_REQUIRE((first.ok() && first->has_value()));
        const std::vector<std::uint8_t> frame((**first).bytes.begin(), (**first).bytes.end());
        BOOST_REQUIRE(engine.set_table(config, bindings->bindings).ok());
        auto compared = engine.compare(config, frame);
        BOOST_REQUIRE(compared.ok());
        BOOST_TEST(name(compared->conformance->conformance) == stem);
    }
}

// The relayed/basic frame with its peer moved: behind the default route
// the lookup succeeds (XDP_REDIRECT with the neighbour's MACs); behind a
// blackhole pion drops; behind a gateway without a neighbour it passes
// the rewritten frame to the stack. All three conform.
BOOST_AUTO_TEST_CASE(both_fib_paths_of_pion_run_and_conform, *boost::unit_test::precondition(pion_runs)) {
    DifferentialEngine engine(target_source("targets/pion-turn.json", "pion_turn_xdp.bpf.o", false));
    const FixedCase& c = *find_fixed_case("relayed/basic");
    const std::pair<std::uint32_t, Verdict> peers[] = {
        {0xCB007109, Verdict::redirect}, {0xF0000009, Verdict::drop}, {0xC6336408, Verdict::pass}};
    for (const auto& [peer, verdict] : peers) {
        BindingTable table = c.bindings;
        for (auto& [key, target] : table) target.peer.address = Ipv4Address{peer};
        BOOST_REQUIRE(engine.set_table(c.config, table).ok());
        auto compared = engine.compare(c.config, c.frame);
        BOOST_REQUIRE(compared.ok());
        BOOST_TEST(name(compared->xdp.decision.verdict) == name(verdict), "peer " << to_string(Ipv4Address{peer}));
        BOOST_TEST(!is_defect(compared->conformance->conformance), compared->explain());
        if (verdict != Verdict::drop) BOOST_TEST((compared->xdp.output != c.frame), "the frame was not rewritten");
    }
}

// Issue 27, item 4: a configuration map some versions lack is skipped where
// the description says it is optional, and refused by name where not.
BOOST_AUTO_TEST_CASE(an_optional_configuration_map_may_be_absent) {
    ProgramSource source = target_source("tests/bpf/targets/tiny-relay.json", "tiny_relay.bpf.o", false);
    TargetDescription absent = *source.target;
    EntryLayout later = absent.config_maps.front();
    later.map = "a_map_of_a_later_version";
    absent.config_maps.push_back(later);
    source.target = std::make_shared<const TargetDescription>(absent);
    auto refused = DifferentialEngine(source).engine_for(fixed_case_config());
    BOOST_TEST(!refused.ok());
    if (!refused.ok())
        BOOST_TEST(refused.error().message.find("no map 'a_map_of_a_later_version'") != std::string::npos);
    absent.config_maps.back().optional = true;
    source.target = std::make_shared<const TargetDescription>(absent);
    DifferentialEngine engine(source);
    const FixedCase& c = *find_fixed_case("relayed/basic");
    BOOST_REQUIRE(engine.set_table(c.config, c.bindings).ok());
    auto compared = engine.compare(c.config, c.frame);
    BOOST_REQUIRE(compared.ok());
    BOOST_TEST(name(compared->conformance->conformance) == "conformant_forward");
}

// Issue 27, item 3: pion's lookups fall back to a key with server address
// 0.0.0.0, which its control plane writes behind a listener bound to the
// any-address. Written so, a frame to another address is offloaded as one
// to the host's, and judged so; written with the address, it is left to
// user space. Judged as sent, the relay's source would be 10.0.0.254
// (forwarded_wrong_bytes): the oracle must take it as the program does.
BOOST_AUTO_TEST_CASE(a_wildcard_key_matches_a_frame_to_any_address, *boost::unit_test::precondition(pion_runs)) {
    const FixedCase& c = *find_fixed_case("relayed/basic");
    const auto elsewhere = sent_to(c.frame, Ipv4Address{0x0A0000FE});
    BOOST_REQUIRE(elsewhere.has_value());
    for (const auto& [form, expected] :
         {std::pair{WildcardForm::any, "conformant_forward"}, std::pair{WildcardForm::address, "not_offloaded"}}) {
        ProgramSource source = target_source("targets/pion-turn.json", "pion_turn_xdp.bpf.o", false);
        TargetDescription described = *source.target;
        BOOST_REQUIRE(described.keys_by_wildcard(FieldSource::server_address));
        described.wildcard_form = form;
        source.target = std::make_shared<const TargetDescription>(described);
        DifferentialEngine engine(source);
        BOOST_REQUIRE(engine.set_table(c.config, c.bindings).ok());
        auto compared = engine.compare(c.config, *elsewhere);
        BOOST_REQUIRE(compared.ok());
        BOOST_TEST(name(compared->conformance->conformance) == expected, name(form) << ": " << compared->explain());
    }
}

// The relay's sync into a target (relay --xdp --target): a binding the core
// makes is offloaded, one whose peer moved is offloaded to the new peer
// only, and a removed one is left to user space.
BOOST_AUTO_TEST_CASE(the_relay_sync_writes_a_target_through_its_description) {
    const FixedCase& c = *find_fixed_case("relayed/basic");
    auto description = read_target_description(source_dir + "/tests/bpf/targets/tiny-relay.json");
    BOOST_REQUIRE(description.ok());
    auto program =
        TargetProgram::load(*description, bpf_dir + "/tiny_relay_reads_length.bpf.o", c.config, HostAddresses{}, 0);
    BOOST_REQUIRE_MESSAGE(program.ok(), (program.ok() ? "" : program.error().message));
    TargetSync sync(*program);
    std::vector<std::uint8_t> out(c.frame.size() + 256);
    const auto verdict = [&] {
        LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = c.frame.data(), .data_out = out.data(),
                    .data_size_in = static_cast<__u32>(c.frame.size()), .data_size_out = static_cast<__u32>(out.size()),
                    .repeat = 1);
        BOOST_REQUIRE(bpf_prog_test_run_opts(program->program_fd(), &options) == 0);
        return options.retval;
    };
    // The frame's own binding: its client and channel.
    const auto own = std::find_if(c.bindings.begin(), c.bindings.end(), [&](const auto& entry) {
        return entry.first.client.address == IpAddress(Ipv4Address{load_be32(c.frame, 14 + 12)}) &&
               entry.first.client.port == load_be16(c.frame, 14 + 20) &&
               entry.first.channel == load_be16(c.frame, 14 + 20 + 8);
    });
    BOOST_REQUIRE((own != c.bindings.end()));
    const auto& [key, target] = *own;
    BindingTarget moved = target;
    moved.peer.port = static_cast<std::uint16_t>(target.peer.port + 1);
    const std::vector<BindingChange> created{{key, target}}, changed{{key, moved}}, removed{{key, std::nullopt}};
    BOOST_REQUIRE(sync.apply_changes(created).ok());
    BOOST_TEST(verdict() == XDP_TX);
    BOOST_REQUIRE(sync.apply_changes(changed).ok());
    BOOST_TEST((sync.written().at(key) == moved));
    BOOST_TEST(verdict() == XDP_TX);
    BOOST_TEST(load_be16(out, 14 + 20 + 2) == moved.peer.port, "sent to the peer's new port");
    BOOST_REQUIRE(sync.apply_changes(removed).ok());
    BOOST_TEST(verdict() == XDP_PASS);
    BOOST_TEST(sync.written().empty());
}

// What a program keeps of its own accord is put back as a fresh load has it:
// arrays zeroed and hash maps emptied, per-CPU or not. (A hash map emptied
// while walking it with get_next_key would keep some entries.)
BOOST_AUTO_TEST_CASE(state_maps_are_put_back_as_loaded) {
    const int cpus = libbpf_num_possible_cpus();
    BOOST_TEST_REQUIRE(cpus > 0);
    std::vector<StateMap> maps;
    std::vector<int> fds;
    for (bpf_map_type type : {BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH,
                              BPF_MAP_TYPE_LRU_PERCPU_HASH}) {
        const int fd = bpf_map_create(type, "state", 4, 8, 64, nullptr);
        BOOST_TEST_REQUIRE(fd >= 0);
        fds.push_back(fd);
        const bool per_cpu = type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
        maps.push_back({fd, type, 64, 4, per_cpu ? 8 * static_cast<std::size_t>(cpus) : 8});
        const std::vector<std::uint64_t> ones(static_cast<std::size_t>(cpus), 1);
        for (std::uint32_t key = 0; key < 40; ++key)
            BOOST_TEST_REQUIRE(bpf_map_update_elem(fd, &key, ones.data(), BPF_ANY) == 0);
    }
    BOOST_TEST_REQUIRE(static_cast<bool>(reset_state_maps(maps, "the test")));
    for (const StateMap& map : maps) {
        std::vector<std::uint64_t> values(static_cast<std::size_t>(cpus), 7);
        std::uint32_t key = 0;
        if (map.type == BPF_MAP_TYPE_ARRAY || map.type == BPF_MAP_TYPE_PERCPU_ARRAY) {
            for (key = 0; key < 64; ++key) {
                BOOST_TEST_REQUIRE(bpf_map_lookup_elem(map.fd, &key, values.data()) == 0);
                const std::size_t filled = map.type == BPF_MAP_TYPE_ARRAY ? 1 : values.size();
                for (std::size_t i = 0; i < filled; ++i) BOOST_TEST(values[i] == 0u);
            }
        } else {
            BOOST_TEST(bpf_map_get_next_key(map.fd, nullptr, &key) != 0, "a hash map still holds entries");
        }
    }
    for (int fd : fds) close(fd);
}
