// libFuzzer target: the readers of the files users hand over (issue 23):
// binding files, target descriptions (strict JSON) and lcov tracefiles.
// Fails on a crash or an escaped exception, on a binding file that does
// not write and read back to the same table, and on a tracefile whose
// totals change when it is written and read again.
#include <cstdlib>
#include <string>

#include "harness/coverage/source_coverage.hpp"
#include "harness/foreign/target_description.hpp"
#include "harness/io/bindings_json.hpp"
#include "harness/io/strict_json.hpp"

using namespace xdpturn;

namespace {

void bindings_round_trip(const std::string& text) {
    auto file = parse_bindings_json(text);
    if (!file) return;
    DatapathConfig config;
    auto again = parse_bindings_json(bindings_json(config, file->bindings).dump());
    if (!again || again->bindings != file->bindings) std::abort();
}

void description(const std::string& text) {
    auto document = parse_json_strictly(text, "fuzz");
    if (document) (void)parse_target_description(*document, "fuzz.json");
}

void tracefile_round_trip(const std::string& text) {
    auto coverage = coverage::parse_lcov(text, "fuzz.info");
    if (!coverage) return;
    auto again = coverage::parse_lcov(coverage::lcov_text(*coverage, "fuzz"), "again.info");
    if (!again) std::abort();
    const coverage::Totals first = coverage->totals(), second = again->totals();
    if (first.lines_found != second.lines_found || first.lines_hit != second.lines_hit ||
        first.branches_found != second.branches_found || first.branches_hit != second.branches_hit)
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    bindings_round_trip(text);
    description(text);
    tracefile_round_trip(text);
    return 0;
}
