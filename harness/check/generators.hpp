// RapidCheck generators for structured cases: a relay configuration, a
// binding table and a frame. Each case starts from a valid, bound
// ChannelData frame and varies one or more things at a time, each variation
// aimed at a row of docs/datapath.md, so that every row is reached often.
// Shared by the property tests and `xdpturn check`.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "harness/check/configurations.hpp"
#include "harness/check/variations.hpp"
#include "harness/frames/frame_builder.hpp"
#include "relay/model/bindings.hpp"

namespace xdpturn {

struct GeneratedCase {
    DatapathConfig config;
    BindingTable bindings;
    FrameSpec spec;
    std::vector<Variation> variations;
};

// The frame a case describes.
std::vector<std::uint8_t> frame_of(const GeneratedCase& c);

// A case is interpreted from a sequence of choices (each a random 32-bit
// number). Zeros, or running out of choices, pick the simplest option, so
// fewer and smaller choices make a simpler case: shrinking works on the
// sequence. The fast path (`xdpturn check`) draws the choices from a plain
// PRNG; RapidCheck generates and shrinks them in the property tests.
// The first config_choices_per_case choices are the configuration's
// (configurations.hpp), the rest the case's own.
inline constexpr std::size_t choices_per_case = config_choices_per_case + 96;
GeneratedCase interpret_choices(std::span<const std::uint32_t> choices);
std::vector<std::uint32_t> random_choices(std::uint64_t seed);
rc::Gen<std::vector<std::uint32_t>> gen_choices();
// A shrink tree over a choice sequence, for cases found outside RapidCheck.
rc::Shrinkable<std::vector<std::uint32_t>> shrinkable_choices(std::vector<std::uint32_t> choices);

// The generator of whole cases, for RC_BOOST_PROP.
rc::Gen<GeneratedCase> gen_case();

// 256 bindings of clients no generated frame comes from: a table with many
// entries (a case may carry part of it; shared blocks of `xdpturn check`
// always hold all of it).
const BindingTable& background_bindings();

// RapidCheck prints counterexamples with showValue.
void showValue(const GeneratedCase& c, std::ostream& os);

}  // namespace xdpturn
