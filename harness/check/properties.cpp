#include "harness/check/properties.hpp"

#include "harness/frames/frame_validator.hpp"

namespace xdpturn {

namespace {

// Under the conformance oracle the property is the class: a defect fails
// "its" property, so a run tells the classes apart and shrinks each to
// itself. The reference's own output must still be valid.
std::optional<PropertyFailure> conformance_failure(const GeneratedCase&, const std::vector<std::uint8_t>& frame,
                                                   const Comparison& comparison) {
    if (comparison.reference.decision.verdict == Verdict::tx)
        if (auto problem = validate_output(frame, comparison.reference.output, comparison.reference.decision.reason))
            return PropertyFailure{"valid", "the reference output is not a valid frame: " + *problem};
    const ConformanceVerdict& verdict = *comparison.conformance;
    if (!is_defect(verdict.conformance)) return std::nullopt;
    return PropertyFailure{std::string(name(verdict.conformance)), verdict.detail};
}

}  // namespace

std::optional<PropertyFailure> check_properties(DifferentialEngine& engine, const GeneratedCase& c,
                                                const std::vector<std::uint8_t>& frame, Comparison& comparison) {
    const Status compared = engine.compare(c.config, frame, comparison);
    if (!compared) return PropertyFailure{"harness", compared.error().message};
    if (comparison.conformance) return conformance_failure(c, frame, comparison);
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
