// Test-side reporting of a failed fixed case: its problems, and a pcap with
// the input, expected, reference and XDP frames, whose path is printed.
#pragma once

#include <string>

#include "harness/cases/fixed_case_check.hpp"

namespace xdpturn::testing {

inline std::string report_failure(const FixedCase& c, const FixedCaseOutcome& outcome, const std::string& prefix) {
    std::string text = prefix + c.name + " (" + c.description + "):\n";
    for (const std::string& problem : outcome.problems) text += "  " + problem + "\n";
    std::string file = prefix + c.name;
    for (char& ch : file)
        if (ch == '/') ch = '-';
    const std::string path = std::string(XDPTURN_ARTIFACT_DIR) + "/" + file + ".pcap";
    if (auto written = write_case_pcap(path, c, outcome); written)
        text += "  frames (input, expected, reference, xdp) written to " + path + "\n";
    return text;
}

}  // namespace xdpturn::testing
