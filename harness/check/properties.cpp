#include "harness/check/properties.hpp"

#include <algorithm>

#include "harness/frames/frame_validator.hpp"

namespace xdpturn {

namespace {

// A failure of our program's properties: no defect class or group.
PropertyFailure failure_of(Property property, std::string details) {
    PropertyFailure failure;
    failure.property = property;
    failure.details = std::move(details);
    return failure;
}

bool is_checksum(const std::string& field) {
    return field == "ipv4.checksum" || field == "udp.checksum";
}

// The group of a defect. Only wrong bytes are told apart by their fields:
// the other classes compare the output with the input, where the fields
// are whatever a rewrite changes. A checksum that differs beside a field
// it covers is that field's consequence, so it counts only alone.
DefectGroup group_of(const ConformanceVerdict& verdict, Reason row) {
    DefectGroup group{verdict.conformance, row, {}};
    if (verdict.conformance != Conformance::forwarded_wrong_bytes) return group;
    group.fields = verdict.fields;
    if (!std::all_of(group.fields.begin(), group.fields.end(), is_checksum)) std::erase_if(group.fields, is_checksum);
    return group;
}

// Under the conformance oracle a defect fails `conformance` with its class.
// The reference's own output must still be valid.
std::optional<PropertyFailure> conformance_failure(const GeneratedCase&, const std::vector<std::uint8_t>& frame,
                                                   const Comparison& comparison) {
    if (comparison.reference.decision.verdict == Verdict::tx)
        if (auto problem = validate_output(frame, comparison.reference.output, comparison.reference.decision.reason))
            return failure_of(Property::valid, "the reference output is not a valid frame: " + *problem);
    const ConformanceVerdict& verdict = *comparison.conformance;
    if (comparison.agree) return std::nullopt;  // not a defect (--strict-checksums decides the policy class)
    return PropertyFailure{Property::conformance, verdict.conformance, verdict.detail,
                           group_of(verdict, comparison.reference.decision.reason)};
}

std::optional<PropertyFailure> failed_property(const GeneratedCase& c, const std::vector<std::uint8_t>& frame,
                                               const Comparison& comparison) {
    if (comparison.conformance) return conformance_failure(c, frame, comparison);
    if (comparison.xdp.decision.verdict == Verdict::pass && comparison.xdp.output != frame) {
        const FrameDiff diff = compare_frames(frame, comparison.xdp.output, DissectOptions{c.config.turn_port});
        return failure_of(Property::unchanged, "XDP_PASS changed the frame:\n" + diff.render("input", "xdp"));
    }
    if (comparison.xdp.decision.verdict == Verdict::tx) {
        if (auto problem = validate_output(frame, comparison.xdp.output, comparison.xdp.decision.reason))
            return failure_of(Property::valid, "the XDP output is not a valid " +
                                                   std::string(name(comparison.xdp.decision.reason)) +
                                                   " frame: " + *problem);
    }
    if (comparison.reference.decision.verdict == Verdict::tx) {
        if (auto problem = validate_output(frame, comparison.reference.output, comparison.reference.decision.reason))
            return failure_of(Property::valid, "the reference output is not a valid " +
                                                   std::string(name(comparison.reference.decision.reason)) +
                                                   " frame: " + *problem);
    }
    if (!comparison.agree) return failure_of(Property::agreement, "the engines disagree:\n" + comparison.explain());
    return std::nullopt;
}

}  // namespace

std::string DefectGroup::where() const {
    std::string text(name(row));
    if (fields.empty()) return text;
    text += ", fields ";
    for (std::size_t i = 0; i < fields.size(); ++i) text += (i > 0 ? " " : "") + fields[i];
    return text;
}

std::string DefectGroup::key() const {
    return std::string(name(defect)) + " in " + where();
}

std::string_view name(Property property) {
    switch (property) {
        case Property::agreement: return "agreement";
        case Property::unchanged: return "unchanged";
        case Property::valid: return "valid";
        case Property::conformance: return "conformance";
    }
    return "?";
}

PropertyCheck check_properties(DifferentialEngine& engine, const GeneratedCase& c,
                               const std::vector<std::uint8_t>& frame, Comparison& comparison) {
    if (Status compared = engine.compare(c.config, frame, comparison); !compared) return compared.error();
    return failed_property(c, frame, comparison);
}

PropertyCheck check_case_alone(DifferentialEngine& engine, const GeneratedCase& c,
                               const std::vector<std::uint8_t>& frame, Comparison& comparison) {
    if (Status set = engine.set_table(c.config, c.bindings); !set) return set.error();
    return check_properties(engine, c, frame, comparison);
}

}  // namespace xdpturn
