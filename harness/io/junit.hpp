// JUnit XML, the report CI systems read: one <testsuite> per command run,
// one <testcase> per fixed case, property, contract row or capture, with the
// field diff and the counterexample's path in each failure. Written with
// tinyxml2, so every message is escaped.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "relay/net/result.hpp"

namespace xdpturn {

struct JUnitCase {
    JUnitCase(std::string classname_, std::string name_, double seconds_ = 0)
        : classname(std::move(classname_)), name(std::move(name_)), seconds(seconds_) {}

    std::string classname;  // e.g. "cases.relayed", "check.property", "replay"
    std::string name;
    double seconds = 0;
    std::optional<std::string> failure;  // the one-line message, when it failed
    std::string details;                 // the failure's text: diffs, paths
    std::optional<std::string> skipped;  // why it did not run
};

struct JUnitSuite {
    std::string name;
    std::map<std::string, std::string> properties;  // program, seed, case count, ...
    std::vector<JUnitCase> cases;
};

// Writes the suites to `path`; the error names the path.
Status write_junit(const std::string& path, const std::vector<JUnitSuite>& suites);

}  // namespace xdpturn
