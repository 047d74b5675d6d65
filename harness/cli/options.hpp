// Command-line plumbing shared by the xdpturn commands.
#pragma once

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>

#include "harness/compare/conformance.hpp"
#include "harness/compare/program_source.hpp"
#include "harness/io/junit.hpp"
#include "harness/io/output_files.hpp"

namespace xdpturn::cli {

// Parses a command's options. On a usage error it prints the error and the
// options and returns nothing (the caller exits with exit_usage).
std::optional<boost::program_options::variables_map> parse_options(
    const std::string& command, int argc, char** argv, const boost::program_options::options_description& visible,
    const boost::program_options::positional_options_description* positional = nullptr,
    const boost::program_options::options_description* hidden = nullptr);

// "K/N" with 1 <= K <= N <= 4096, as (K - 1, N): one slice of a campaign.
Result<std::pair<std::uint64_t, std::uint64_t>> parse_shard(const std::string& text);

// The --object, --target, --oracle, --strict-checksums and --wildcards options every
// verifying command takes.
struct ProgramFlags {
    std::string object;
    std::string target;
    std::string oracle;
    bool strict_checksums = false;
    std::string wildcards;  // a target's wildcard form: mixed (default), address, any
};

// The program a command verifies: the built-in program, an object
// following bpf/xdpturn_abi.h, or a target description (with --object
// overriding the object it names). --oracle is "exact" (byte for byte,
// reasons included: our program, or a target that keeps our reasons) or
// "conformance"; empty: the target's default.
Result<ProgramSource> program_source(const ProgramFlags& flags);

void add_program_options(boost::program_options::options_description& options, ProgramFlags& flags);

// Writes a JUnit XML report; prints why and returns false when it cannot.
bool write_junit_report(const std::string& command, const std::string& path, const std::vector<JUnitSuite>& suites);

// Writes a JSON report; prints why and returns false when it cannot. With
// --coverage, the report carries the coverage totals too.
// Checks a command's outputs against its inputs and each other before any
// work (harness/io/output_files.hpp); prints why and returns false when one
// would clobber an input or another output, or cannot be written.
bool outputs_are_safe(const std::string& command, const FileRoles& roles);

bool write_report(const std::string& command, const std::string& path, const nlohmann::json& document);

// Every conformance class by name, with its count: the reports' "classes".
nlohmann::json classes_json(const ConformanceTally& classes);

}  // namespace xdpturn::cli
