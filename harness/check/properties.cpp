#include "harness/check/properties.hpp"

#include "harness/frames/frame_validator.hpp"

namespace xdpturn {

std::optional<PropertyFailure> check_properties(DifferentialEngine& engine, const GeneratedCase& c,
                                                const std::vector<std::uint8_t>& frame, Comparison& comparison) {
    const Status compared = engine.compare(c.config, frame, comparison);
    if (!compared) return PropertyFailure{"harness", compared.error().message};
    if (comparison.xdp.decision.verdict == Verdict::pass && comparison.xdp.output != frame) {
        const FrameDiff diff = compare_frames(frame, comparison.xdp.output, DissectOptions{c.config.turn_port});
        return PropertyFailure{"unchanged", "XDP_PASS changed the frame:\n" + diff.render("input", "xdp")};
    }
    if (comparison.xdp.decision.verdict == Verdict::tx) {
        if (auto problem = validate_output(frame, comparison.xdp.output, comparison.xdp.decision.reason))
            return PropertyFailure{"valid", "the XDP output is not a valid " +
                                                std::string(name(comparison.xdp.decision.reason)) +
                                                " frame: " + *problem};
    }
    if (comparison.reference.decision.verdict == Verdict::tx) {
        if (auto problem = validate_output(frame, comparison.reference.output, comparison.reference.decision.reason))
            return PropertyFailure{"valid", "the reference output is not a valid " +
                                                std::string(name(comparison.reference.decision.reason)) +
                                                " frame: " + *problem};
    }
    if (!comparison.agree) return PropertyFailure{"agreement", "the engines disagree:\n" + comparison.explain()};
    return std::nullopt;
}

std::optional<PropertyFailure> check_case_alone(DifferentialEngine& engine, const GeneratedCase& c,
                                                const std::vector<std::uint8_t>& frame, Comparison& comparison) {
    if (auto set = engine.set_table(c.config, c.bindings); !set) return PropertyFailure{"harness", set.error().message};
    return check_properties(engine, c, frame, comparison);
}

}  // namespace xdpturn
