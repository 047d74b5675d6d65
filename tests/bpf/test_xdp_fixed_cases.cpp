// The XDP program and the reference model on the fixed-case table, through
// BPF_PROG_TEST_RUN: the expected verdict and reason from both, the reason
// counter that moved, and byte-identical outputs equal to the expected frame.
#include <boost/test/unit_test.hpp>

#include <bpf/bpf.h>

#include <arpa/inet.h>

#include <cerrno>
#include <map>
#include <optional>
#include <string>

#include "case_report.hpp"
#include "harness/cases/fixed_case_check.hpp"
#include "harness/frames/frame_builder.hpp"
#include "harness/xdp/kernel_facts.hpp"
#include "harness/xdp/map_sync.hpp"
#include "harness/xdp/prog_test_run.hpp"

using namespace xdpturn;

namespace {

DifferentialEngine& shared_engine() {
    static DifferentialEngine engine(ProgramSource{});
    return engine;
}

// One test case per fixed case, named as the case is, so a report or
// --run_test=fixed_cases/relayed/padding_3 names exactly one: the row is a
// suite, the variant a case in it.
struct RegisterFixedCases {
    RegisterFixedCases() {
        namespace utf = boost::unit_test;
        auto* all = new utf::test_suite("fixed_cases", __FILE__, __LINE__);
        std::map<std::string, utf::test_suite*> rows;
        for (const FixedCase& c : fixed_cases()) {
            const std::size_t slash = c.name.find('/');
            utf::test_suite*& row = rows[c.name.substr(0, slash)];
            if (row == nullptr) {
                row = new utf::test_suite(c.name.substr(0, slash), __FILE__, __LINE__);
                all->add(row);
            }
            row->add(utf::make_test_case(
                [&c] {
                    const FixedCaseOutcome outcome = check_fixed_case(shared_engine(), c);
                    BOOST_TEST(outcome.passed(), testing::report_failure(c, outcome, ""));
                },
                c.name.substr(slash + 1), __FILE__, __LINE__));
        }
        utf::framework::master_test_suite().add(all);
    }
} register_fixed_cases;

}  // namespace

BOOST_AUTO_TEST_CASE(test_run_refuses_frames_outside_its_limits_clearly) {
    auto program = XdpProgram::load_builtin(DatapathConfig{});
    BOOST_TEST_REQUIRE(program.ok(), (program.ok() ? "" : program.error().message));
    ProgTestRunner runner(*program);
    XdpRun run;
    const std::vector<std::uint8_t> tiny(13, 0);
    const Status refused_small = runner.run(tiny, CounterCheck::exact, run);
    BOOST_TEST_REQUIRE(!refused_small.ok());
    BOOST_TEST(refused_small.error().message.find("shorter than an Ethernet header") != std::string::npos);

    const std::vector<std::uint8_t> huge(test_run_max_frame + 1, 0);
    const Status refused_large = runner.run(huge, CounterCheck::exact, run);
    BOOST_TEST_REQUIRE(!refused_large.ok());
    BOOST_TEST(refused_large.error().message.find("linear limit") != std::string::npos);

    const std::vector<std::uint8_t> largest(test_run_max_frame, 0);
    BOOST_TEST(runner.run(largest, CounterCheck::exact, run).ok());
    BOOST_TEST(run.output.size() == test_run_max_frame);
}

BOOST_AUTO_TEST_CASE(kernel_linear_limit_matches_the_harness_limit) {
    // From 5.18 the kernel accepts larger input but puts everything past the
    // linear limit into fragments, which an XDP program without frags
    // support never sees: a relayable frame one byte over the limit looks
    // cut short to it. Before 5.18 the kernel refuses such a frame. Either
    // way the harness refuses it first. If this fails, the kernel's linear
    // limit changed and test_run_max_frame must follow it.
    const KernelFacts* facts = kernel_facts();
    BOOST_TEST_REQUIRE(facts != nullptr);
    auto program = XdpProgram::load_builtin(fixed_case_config());
    BOOST_TEST_REQUIRE(program.ok());
    MapSync sync(*program);
    BOOST_TEST_REQUIRE(sync.apply(fixed_case_bindings()).ok());
    FrameSpec spec;
    struct Ran {
        int error = 0;
        Verdict verdict = Verdict::aborted;
        std::uint32_t reason = 0;
    };
    auto run_raw = [&](std::size_t frame_bytes) {
        spec.application_data = pattern_bytes(frame_bytes - 46);
        std::vector<std::uint8_t> frame = build_frame(spec), out(frame.size() + 256);
        LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(), .data_out = out.data(),
                    .data_size_in = static_cast<__u32>(frame.size()), .data_size_out = static_cast<__u32>(out.size()),
                    .repeat = 1);
        if (bpf_prog_test_run_opts(program->program_fd(), &options) != 0) return Ran{errno};
        return Ran{0, static_cast<Verdict>(options.retval), program->last_reason()};
    };
    const Ran at_limit = run_raw(test_run_max_frame);
    BOOST_TEST(at_limit.error == 0);
    BOOST_TEST((at_limit.verdict == Verdict::tx));
    const Ran over_limit = run_raw(test_run_max_frame + 1);
    if (facts->over_limit == OverLimitFrames::refused) {
        BOOST_TEST(over_limit.error != 0, "kernel " << facts->release << " was probed to refuse the frame");
        return;
    }
    BOOST_TEST(over_limit.error == 0);
    BOOST_TEST((over_limit.verdict == Verdict::pass));
    BOOST_TEST(over_limit.reason == static_cast<std::uint32_t>(Reason::ipv4_length));
}

namespace {

template <class Key>
int count_map_entries(int map_fd) {
    int count = 0;
    Key key{}, next{};
    const void* previous = nullptr;
    while (bpf_map_get_next_key(map_fd, previous, &next) == 0) {
        ++count;
        key = next;
        previous = &key;
    }
    return count;
}

// The client and channel the reverse map sends the peer's data to, if any.
std::optional<BindingKey> reverse_entry(const XdpProgram& program, const BindingTarget& target) {
    xdpturn_peer_key key = to_abi(peer_key_of(target));
    xdpturn_peer_value value{};
    if (bpf_map_lookup_elem(program.channels_fd(), &key, &value) != 0) return std::nullopt;
    return from_abi(value);
}

}  // namespace

// Every way the table changes keeps channels_by_peer the exact reverse of
// bindings; a table binding one peer twice is refused, and leaves both maps
// as they were.
BOOST_AUTO_TEST_CASE(map_sync_keeps_the_reverse_map_in_step) {
    auto program = XdpProgram::load_builtin(DatapathConfig{});
    BOOST_TEST_REQUIRE(program.ok());
    MapSync sync(*program);
    const BindingKey a{Endpoint{Ipv4Address{0x0A000001}, 1000}, 0x4000};
    const BindingKey b{Endpoint{Ipv4Address{0x0A000002}, 1000}, 0x4001};
    const BindingTarget p1{50000, Endpoint{Ipv4Address{0xCB007101}, 7}};
    const BindingTarget p2{50001, Endpoint{Ipv4Address{0xCB007102}, 7}};
    const BindingTarget p3{50002, Endpoint{Ipv4Address{0xCB007103}, 7}};
    auto both_maps = [&] {
        return std::pair{count_map_entries<xdpturn_binding_key>(program->bindings_fd()),
                         count_map_entries<xdpturn_peer_key>(program->channels_fd())};
    };

    BOOST_TEST_REQUIRE(sync.apply(BindingTable{{a, p1}, {b, p2}}).ok());
    BOOST_TEST((both_maps() == std::pair{2, 2}));
    BOOST_TEST((reverse_entry(*program, p1) == a));
    BOOST_TEST((reverse_entry(*program, p2) == b));

    // Swapped in one overlay: each reverse key changes hands, none is lost.
    BOOST_TEST_REQUIRE(sync.overlay(BindingTable{{a, p2}, {b, p1}}).ok());
    BOOST_TEST((both_maps() == std::pair{2, 2}));
    BOOST_TEST((reverse_entry(*program, p1) == b));
    BOOST_TEST((reverse_entry(*program, p2) == a));

    // A new target frees the old reverse key.
    BOOST_TEST_REQUIRE(sync.overlay(BindingTable{{a, p3}}).ok());
    BOOST_TEST((both_maps() == std::pair{2, 2}));
    BOOST_TEST(!reverse_entry(*program, p2).has_value());
    BOOST_TEST((reverse_entry(*program, p3) == a));

    // A second channel for a bound peer on the same allocation: refused.
    const BindingKey c{Endpoint{Ipv4Address{0x0A000003}, 1000}, 0x4002};
    const Status refused = sync.overlay(BindingTable{{c, p1}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().message.find("two channels") != std::string::npos);
    BOOST_TEST((both_maps() == std::pair{2, 2}));
    BOOST_TEST((reverse_entry(*program, p1) == b));

    // Deleting the binding deletes its reverse entry.
    BOOST_TEST_REQUIRE(sync.replace_layer(BindingTable{{b, p1}}, BindingTable{}).ok());
    BOOST_TEST((both_maps() == std::pair{1, 1}));
    BOOST_TEST(!reverse_entry(*program, p1).has_value());
}

BOOST_AUTO_TEST_CASE(map_sync_writes_and_removes_exactly_the_table) {
    auto program = XdpProgram::load_builtin(DatapathConfig{});
    BOOST_TEST_REQUIRE(program.ok());
    MapSync sync(*program);
    BindingTable table;
    for (std::uint16_t i = 0; i < 1000; ++i)
        table.emplace(BindingKey{Endpoint{Ipv4Address{0x0A000000u + i}, static_cast<std::uint16_t>(1000 + i)},
                                 static_cast<std::uint16_t>(0x4000 + i)},
                      BindingTarget{static_cast<std::uint16_t>(50000 + i), Endpoint{Ipv4Address{0xCB007100u + i}, 7}});
    BOOST_TEST_REQUIRE(sync.apply(table).ok());

    auto count_entries = [&] {
        int count = 0;
        xdpturn_binding_key key{}, next{};
        const void* previous = nullptr;
        while (bpf_map_get_next_key(program->bindings_fd(), previous, &next) == 0) {
            ++count;
            key = next;
            previous = &key;
        }
        return count;
    };
    BOOST_TEST(count_entries() == 1000);

    const auto& [some_key, some_target] = *table.begin();
    xdpturn_binding_key abi_key = to_abi(some_key);
    xdpturn_binding_value value{};
    BOOST_TEST_REQUIRE(bpf_map_lookup_elem(program->bindings_fd(), &abi_key, &value) == 0);
    const xdpturn_binding_value wanted = to_abi(some_target);
    BOOST_TEST(value.peer_addr == wanted.peer_addr);
    BOOST_TEST(value.peer_port == wanted.peer_port);
    BOOST_TEST(value.allocation_port == wanted.allocation_port);

    BindingTable smaller;
    smaller.insert(*table.begin());
    smaller.begin()->second.allocation_port = 1;  // changed in place
    BOOST_TEST_REQUIRE(sync.apply(smaller).ok());
    BOOST_TEST(count_entries() == 1);
    BOOST_TEST_REQUIRE(bpf_map_lookup_elem(program->bindings_fd(), &abi_key, &value) == 0);
    BOOST_TEST(value.allocation_port == to_abi(smaller.begin()->second).allocation_port);
}
