// The table of variations (harness/check/variations.*): a row for every
// variation, and each row's variation reaching at least one of the contract
// rows it claims to aim at, judged by the reference model over generated
// cases that carry that variation alone.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE variations
#include <boost/test/unit_test.hpp>

#include <set>

#include "harness/check/generators.hpp"
#include "relay/model/reference_model.hpp"
#include "relay/net/splitmix.hpp"

using namespace xdpturn;

BOOST_AUTO_TEST_CASE(every_variation_has_one_named_row) {
    const auto rows = variation_rows();
    BOOST_TEST(rows.size() == variation_count);
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < variation_count; ++i) {
        const auto variation = static_cast<Variation>(i);
        const VariationRow& row = row_of(variation);
        BOOST_TEST_CONTEXT("variation " << i << " (" << row.name << ")") {
            BOOST_TEST((row.variation == variation));
            BOOST_TEST(!row.name.empty());
            BOOST_TEST(names.insert(row.name).second, "names are unique");
            BOOST_TEST(row.weight > 0u);
            BOOST_TEST(row.apply != nullptr);
            BOOST_TEST(row.aims != 0u, "aims at a contract row");
            BOOST_TEST(variation_weights()[i] == row.weight);
        }
    }
}

// A variation whose function stops reaching its rows (a weight of the wrong
// row, an apply that returns early, a stage that runs before the frame it
// measures exists) leaves its aims unreached here.
BOOST_AUTO_TEST_CASE(every_row_reaches_what_it_aims_at) {
    std::array<std::uint64_t, variation_count> alone{};
    std::array<bool, variation_count> reached{};
    std::vector<std::uint8_t> relayed;
    std::uint64_t state = 0x5EED;
    for (int i = 0; i < 60000; ++i) {
        const GeneratedCase c = interpret_choices(random_choices(splitmix64_next(state)));
        if (c.variations.size() != 1) continue;
        const std::size_t index = static_cast<std::size_t>(c.variations.front());
        ++alone[index];
        const Decision decision = ReferenceModel(c.config, c.bindings).decide(frame_of(c), relayed);
        if (aims_at(row_of(c.variations.front()), decision.reason)) reached[index] = true;
    }
    for (std::size_t i = 0; i < variation_count; ++i)
        BOOST_TEST_CONTEXT(row_of(static_cast<Variation>(i)).name << ": " << alone[i] << " cases alone") {
            BOOST_TEST(reached[i]);
        }
}
