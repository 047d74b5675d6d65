// Where a generated case's choices come from: a seeded stream for
// `xdpturn check`, RapidCheck's own generator and shrink tree for the test
// suite and the shrinker, and how a case prints.
#include <ostream>

#include "harness/check/generators.hpp"
#include "harness/frames/dissect.hpp"
#include "relay/net/splitmix.hpp"

namespace xdpturn {

std::vector<std::uint32_t> random_choices(std::uint64_t seed) {
    std::vector<std::uint32_t> choices(choices_per_case);
    std::uint64_t state = seed;
    // SplitMix64 steps: fast, and good enough to spread the choices.
    for (auto& choice : choices) choice = static_cast<std::uint32_t>(splitmix64_next(state) >> 32);
    return choices;
}

rc::Gen<std::vector<std::uint32_t>> gen_choices() {
    // The configuration from the pool (each one is a program to load, so
    // the suite keeps to the 16 of seed 0; RapidCheck shrinks toward the
    // first, the simplest); the case's own choices with RapidCheck's own
    // randomness, shrunk each toward zero.
    auto configs = rc::gen::elementOf(config_pool(0));
    auto own = rc::gen::shrink(rc::gen::container<std::vector<std::uint32_t>>(
                                   choices_per_case - config_choices_per_case,
                                   rc::gen::noShrink(rc::gen::inRange<std::uint32_t>(0, 0xFFFFFFFF))),
                               [](const std::vector<std::uint32_t>& value) {
                                   return rc::shrink::eachElement(
                                       value, [](std::uint32_t x) { return rc::shrink::integral(x); });
                               });
    return rc::gen::map(rc::gen::pair(configs, own), [](const auto& parts) {
        std::vector<std::uint32_t> choices = parts.first;
        choices.insert(choices.end(), parts.second.begin(), parts.second.end());
        return choices;
    });
}

rc::Shrinkable<std::vector<std::uint32_t>> shrinkable_choices(std::vector<std::uint32_t> choices) {
    return rc::shrinkable::shrinkRecur(std::move(choices), [](const std::vector<std::uint32_t>& value) {
        // Each choice toward zero (its simplest option), one at a time. No
        // removals: the layout is fixed, and removing a choice would shift
        // every later decision. A configuration's choices go to zero in one
        // step or stay: every other value is another program to load.
        const auto split = value.begin() + static_cast<std::ptrdiff_t>(std::min(value.size(), config_choices_per_case));
        const std::vector<std::uint32_t> configuration(value.begin(), split);
        const std::vector<std::uint32_t> own(split, value.end());
        const auto joined = [](std::vector<std::uint32_t> front, const std::vector<std::uint32_t>& back) {
            front.insert(front.end(), back.begin(), back.end());
            return front;
        };
        // The case's own choices first: each accepted step starts the
        // candidates over, and a configuration's candidate is a load.
        return rc::seq::concat(
            rc::seq::map(rc::shrink::eachElement(own, [](std::uint32_t x) { return rc::shrink::integral(x); }),
                         [configuration, joined](const std::vector<std::uint32_t>& simpler) {
                             return joined(configuration, simpler);
                         }),
            rc::seq::map(
                rc::shrink::eachElement(configuration,
                                        [](std::uint32_t x) {
                                            return x == 0 ? rc::Seq<std::uint32_t>() : rc::seq::just(std::uint32_t{0});
                                        }),
                [own, joined](std::vector<std::uint32_t> simpler) { return joined(std::move(simpler), own); }));
    });
}

rc::Gen<GeneratedCase> gen_case() {
    return rc::gen::map(gen_choices(),
                        [](const std::vector<std::uint32_t>& choices) { return interpret_choices(choices); });
}

void showValue(const GeneratedCase& c, std::ostream& os) {
    os << "config: turn_port " << c.config.turn_port << ", channels 0x" << std::hex << c.config.channels.min << "-0x"
       << c.config.channels.max << std::dec << ", relay ports " << c.config.relay_ports.min << "-"
       << c.config.relay_ports.max << ", MTU " << c.config.mtu << ", relay addresses";
    if (!c.config.relay_ipv4 && !c.config.relay_ipv6) os << " none";
    for (const auto& address : {c.config.relay_ipv4, c.config.relay_ipv6})
        if (address) os << " " << to_string(*address);
    os << "\nvariations:";
    for (Variation variation : c.variations) os << " " << name(variation);
    if (c.variations.empty()) os << " none";
    os << "\nbindings (" << c.bindings.size() << "):\n";
    std::size_t shown = 0;
    for (const auto& [key, target] : c.bindings) {
        if (shown++ == 8) {
            os << "  ...\n";
            break;
        }
        os << "  " << to_string(key.client) << " channel 0x" << std::hex << key.channel << std::dec << " -> allocation "
           << target.allocation_port << ", peer " << to_string(target.peer) << "\n";
    }
    const auto frame = frame_of(c);
    os << "frame (" << frame.size() << " bytes):\n";
    const Dissection fields = dissect(frame, DissectOptions{c.config.turn_port});
    for (const FrameField& field : fields.fields)
        os << "  " << field.name << " = " << render_field(field, frame) << "\n";
    os << "  payload: " << frame.size() - fields.payload_offset << " bytes\n";
}

}  // namespace xdpturn
