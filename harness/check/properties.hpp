// The properties every generated case must satisfy, checked in one place for
// the RapidCheck tests and `xdpturn check`:
//   agreement  both engines give the same verdict and reason, and the same bytes;
//   unchanged  an XDP_PASS leaves the frame byte-identical to the input;
//   valid      every XDP_TX output is a valid frame on its own (frame_validator).
// The fourth, that the reason counters moved as the verdicts say, is checked
// over whole runs (counter totals against the verdict tally).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/check/generators.hpp"
#include "harness/compare/differential.hpp"

namespace xdpturn {

// What a case can fail. Under the conformance oracle a defect class fails
// `conformance`, so that a run tells the classes apart and shrinks each to
// itself.
enum class Property : std::uint8_t { agreement, unchanged, valid, conformance };
std::string_view name(Property property);

// Defects of one class hide each other when their causes differ: a run
// keeps one counterexample per class, contract row (the reference's
// reason) and, for wrong bytes, set of differing fields (checksums only
// when nothing they cover differs), which usually tells causes apart.
struct DefectGroup {
    Conformance defect = Conformance::untouched_pass;
    Reason row = Reason::short_ethernet;
    std::vector<std::string> fields;  // sorted; empty where no bytes were compared

    auto operator<=>(const DefectGroup&) const = default;
    // "relayed, fields udp.checksum"
    std::string where() const;
    // "forwarded_wrong_bytes in relayed, fields udp.checksum": how reports
    // name and order groups (by class, then row).
    std::string key() const;
};

struct PropertyFailure {
    Property property = Property::agreement;
    Conformance defect = Conformance::untouched_pass;  // the class, when property is conformance
    std::string details;
    DefectGroup group;  // when property is conformance

    // How reports and file names call it: the property, or the defect class.
    std::string_view label() const { return property == Property::conformance ? name(defect) : name(property); }
};

// A case passed (nothing), failed a property, or could not be run at all
// (an error: the harness or the kernel, never the program's fault).
using PropertyCheck = Result<std::optional<PropertyFailure>>;

// Compares the case's frame against the engine's table as it stands (the
// caller syncs first) and checks every property.
PropertyCheck check_properties(DifferentialEngine& engine, const GeneratedCase& c,
                               const std::vector<std::uint8_t>& frame, Comparison& comparison);

// The case on exactly its own table: set_table, then check_properties.
PropertyCheck check_case_alone(DifferentialEngine& engine, const GeneratedCase& c,
                               const std::vector<std::uint8_t>& frame, Comparison& comparison);

}  // namespace xdpturn
