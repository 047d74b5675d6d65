// A property run's shared tables: cases of one block each bring their own
// bindings, and two of them can bind the same peer on the same allocation
// to clients of their own. The map sync refuses a table that binds a peer
// key twice (RFC 8656 Section 12), so each table a case meets must be a
// valid one, the case's own entries winning.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE case_blocks
#include <boost/test/unit_test.hpp>

#include "harness/check/case_blocks.hpp"

using namespace xdpturn;

namespace {

const BindingKey client_a{Endpoint{Ipv4Address{0xC0000201}, 40000}, 0x4000};
const BindingKey client_b{Endpoint{Ipv4Address{0xC0000202}, 40000}, 0x4000};
const BindingTarget peer_one{50000, Endpoint{Ipv4Address{0xC6336401}, 7000}};
const BindingTarget peer_two{50001, Endpoint{Ipv4Address{0xC6336402}, 7000}};

GeneratedCase case_with(BindingTable bindings) {
    GeneratedCase c;
    c.bindings = std::move(bindings);
    return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_entry_displaces_the_other_key_holding_its_peer) {
    LaidTable table({{client_a, peer_one}});
    const BindingTable displaced = table.lay({{client_b, peer_one}});
    BOOST_TEST(displaced.size() == 1u);
    BOOST_TEST(displaced.contains(client_a));
    BOOST_TEST(!table.table().contains(client_a));
    BOOST_TEST((table.table().at(client_b) == peer_one));
    BOOST_TEST(!conflicting_peer_bindings(table.table()));
}

BOOST_AUTO_TEST_CASE(an_entry_moving_to_another_peer_frees_its_old_one) {
    LaidTable table({{client_a, peer_one}});
    BOOST_TEST(table.lay({{client_a, peer_two}}).empty());
    BOOST_TEST(table.owner(peer_key_of(peer_one)) == nullptr);
    // The freed peer key is taken without displacing anything.
    BOOST_TEST(table.lay({{client_b, peer_one}}).empty());
    BOOST_TEST(table.table().size() == 2u);
    // Two entries swapping peers within one lay displace nothing either.
    BOOST_TEST(table.lay({{client_a, peer_one}, {client_b, peer_two}}).empty());
    BOOST_TEST(!conflicting_peer_bindings(table.table()));
}

BOOST_AUTO_TEST_CASE(the_first_case_owns_a_peer_in_the_layer_the_later_one_displaces_it) {
    const BlockPlan plan = plan_block({case_with({{client_a, peer_one}}), case_with({{client_b, peer_one}})});
    const BindingTable& layer = plan.layers.at(DatapathConfig{});
    BOOST_TEST(layer.size() == 1u);
    BOOST_TEST(layer.contains(client_a));
    BOOST_TEST(!conflicting_peer_bindings(with_layer(layer)));
    BOOST_TEST_REQUIRE(plan.displaced.size() == 2u);
    BOOST_TEST(plan.displaced[0].empty());
    BOOST_TEST(plan.displaced[1].contains(client_a));
}

// Every table the first blocks of a real run meet is valid: the layer at a
// block's start, and the map after each case is laid over it. (Fails if
// the generators ever make a case whose own entries bind a peer twice.)
BOOST_AUTO_TEST_CASE(no_table_of_a_real_run_binds_a_peer_twice) {
    const std::uint64_t seed = 5, blocks = 200, cases = blocks * block_cases;
    for (std::uint64_t block = 0; block < blocks; ++block) {
        if (block_isolated(seed, block)) continue;
        const std::vector<GeneratedCase> block_cases_ = block_of(seed, block, cases);
        const BlockPlan plan = plan_block(block_cases_);
        std::map<DatapathConfig, LaidTable, DatapathConfigLess> maps;
        for (const auto& [config, layer] : plan.layers) {
            const BindingTable start = with_layer(layer);
            BOOST_TEST_REQUIRE(!conflicting_peer_bindings(start), "block " << block);
            maps.emplace(config, LaidTable(start));
        }
        for (const GeneratedCase& c : block_cases_) {
            LaidTable& map = maps.at(c.config);
            map.lay(c.bindings);
            BOOST_TEST_REQUIRE(!conflicting_peer_bindings(map.table()), "block " << block);
        }
    }
}
