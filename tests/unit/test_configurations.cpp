// The configurations property runs use (harness/check/configurations.*):
// every one valid, zeros the simplest, and each run's pool meeting every
// pair of classes of any two dimensions, whatever the seed.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE configurations
#include <boost/test/unit_test.hpp>

#include <set>
#include <tuple>

#include "harness/check/configurations.hpp"
#include "relay/net/splitmix.hpp"

using namespace xdpturn;

namespace {

std::array<unsigned, 5> levels_of(const ConfigClasses& c) {
    return {static_cast<unsigned>(c.addresses), static_cast<unsigned>(c.mtu), static_cast<unsigned>(c.relay_ports),
            static_cast<unsigned>(c.channels), static_cast<unsigned>(c.turn_port)};
}
constexpr std::array<unsigned, 5> class_counts = {4, 4, 4, 3, 3};

}  // namespace

BOOST_AUTO_TEST_CASE(zeros_are_the_simplest_configuration) {
    const DatapathConfig simplest = interpret_config({});
    BOOST_TEST(simplest.turn_port == 3478);
    BOOST_TEST((simplest.channels == rfc8656_channels));
    BOOST_TEST((simplest.relay_ports == dynamic_relay_ports));
    BOOST_TEST(simplest.mtu == ethernet_mtu);
    BOOST_TEST(!simplest.relay_ipv4);
    BOOST_TEST(!simplest.relay_ipv6);
    BOOST_TEST((interpret_config(config_pool(7).front()) == simplest), "row 0 of every pool is the simplest");
}

// A configuration the program refuses (TURN port among the relay ports, a
// range upside down, an MTU below 68) would end a run with an error.
BOOST_AUTO_TEST_CASE(every_interpreted_configuration_is_valid) {
    std::uint64_t state = 11;
    std::set<std::uint16_t> mtus;
    for (int i = 0; i < 100000; ++i) {
        std::vector<std::uint32_t> choices(config_choices_per_case);
        for (auto& choice : choices) choice = static_cast<std::uint32_t>(splitmix64_next(state) >> 32);
        const DatapathConfig config = interpret_config(choices);
        BOOST_TEST_CONTEXT("choices of case " << i) {
            BOOST_REQUIRE(checked_config(config));
            BOOST_REQUIRE(config.channels.min <= config.channels.max);
            BOOST_REQUIRE(config.channels.min >= rfc5766_channels.min);
            BOOST_REQUIRE(config.channels.max <= rfc5766_channels.max);
        }
        mtus.insert(config.mtu);
    }
    // Both ends of the MTU's space come up exactly.
    BOOST_TEST(mtus.count(minimum_ipv4_mtu) == 1u);
    BOOST_TEST(mtus.count(0xFFFF) == 1u);
}

// An array that is not orthogonal (say a + 2b taken modulo 4, not in
// GF(4)) leaves pairs unmet, and a defect that needs two classes together
// (relay addresses of both families and an MTU that lets a large datagram
// grow across families) would then never be met in some runs.
BOOST_AUTO_TEST_CASE(every_pool_meets_every_pair_of_classes) {
    for (std::uint64_t seed : {0ull, 1ull, 2ull, 0xFFFFFFFFFFFFFFFFull}) {
        const auto pool = config_pool(seed);
        BOOST_TEST(pool.size() == config_pool_size);
        std::set<std::tuple<unsigned, unsigned, unsigned, unsigned>> met;
        std::set<DatapathConfig, DatapathConfigLess> distinct;
        for (const auto& choices : pool) {
            BOOST_TEST(choices.size() == config_choices_per_case);
            const auto levels = levels_of(classes_of(choices));
            for (unsigned i = 0; i < levels.size(); ++i)
                for (unsigned j = i + 1; j < levels.size(); ++j) met.insert({i, j, levels[i], levels[j]});
            distinct.insert(interpret_config(choices));
        }
        std::size_t pairs = 0;
        for (unsigned i = 0; i < class_counts.size(); ++i)
            for (unsigned j = i + 1; j < class_counts.size(); ++j) pairs += class_counts[i] * class_counts[j];
        BOOST_TEST(met.size() == pairs, "seed " << seed);
        BOOST_TEST(distinct.size() == config_pool_size, "seed " << seed << ": the rows are distinct programs");
    }
}
