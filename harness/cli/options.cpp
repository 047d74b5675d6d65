#include "harness/cli/options.hpp"

#include "harness/cli/coverage_option.hpp"

#include "harness/cli/bounded.hpp"
#include "harness/foreign/target_description.hpp"
#include "harness/io/output_files.hpp"

#include <filesystem>
#include <iostream>

namespace xdpturn::cli {

namespace po = boost::program_options;

std::optional<po::variables_map> parse_options(const std::string& command, int argc, char** argv,
                                               const po::options_description& visible,
                                               const po::positional_options_description* positional,
                                               const po::options_description* hidden) {
    po::options_description all;
    all.add(visible);
    if (hidden != nullptr) all.add(*hidden);
    po::variables_map args;
    try {
        po::command_line_parser parser(argc, argv);
        parser.options(all);
        // Without positional arguments of its own, a command refuses stray
        // words instead of ignoring them.
        const po::positional_options_description none;
        parser.positional(positional != nullptr ? *positional : none);
        po::store(parser.run(), args);
        // Help wins wherever it stands: required options are not asked for.
        if (!args.count("help")) po::notify(args);
    } catch (const po::error& error) {
        std::cerr << "xdpturn " << command << ": " << error.what() << "\n\n" << visible;
        return std::nullopt;
    }
    return args;
}

bool outputs_are_safe(const std::string& command, const FileRoles& roles) {
    if (auto checked = check_outputs(roles); !checked) {
        std::cerr << "xdpturn " << command << ": " << checked.error().message << "\n";
        return false;
    }
    return true;
}

nlohmann::json classes_json(const ConformanceTally& classes) {
    nlohmann::json json = nlohmann::json::object();
    for (std::size_t i = 0; i < conformance_count; ++i)
        json[std::string(name(static_cast<Conformance>(i)))] = classes[i];
    return json;
}

bool write_report(const std::string& command, const std::string& path, const nlohmann::json& document) {
    // Every report names its schema, so a reader can tell which it has.
    nlohmann::json named = document;
    named["schema"] = "xdpturn/" + command + "/1";
    if (auto coverage = coverage_summary(); !coverage.is_null()) named["source_coverage"] = coverage;
    if (auto written = write_text_file(path, named.dump(2) + "\n"); !written) {
        std::cerr << "xdpturn " << command << ": report: " << written.error().message << "\n";
        return false;
    }
    return true;
}

bool write_junit_report(const std::string& command, const std::string& path, const std::vector<JUnitSuite>& suites) {
    if (auto written = write_junit(path, suites); !written) {
        std::cerr << "xdpturn " << command << ": " << written.error().message << "\n";
        return false;
    }
    return true;
}

// "K/N" with 1 <= K <= N <= 4096, as (K - 1, N).
Result<std::pair<std::uint64_t, std::uint64_t>> parse_shard(const std::string& text) {
    const auto slash = text.find('/');
    const auto k = slash == std::string::npos ? std::nullopt : parse_whole_number(text.substr(0, slash), 1, 4096);
    const auto n = slash == std::string::npos ? std::nullopt : parse_whole_number(text.substr(slash + 1), 1, 4096);
    if (!k || !n || *k > *n) return Error{"takes K/N with 1 <= K <= N <= 4096, not '" + text + "'"};
    return std::pair{*k - 1, *n};
}

}  // namespace xdpturn::cli

namespace xdpturn::cli {

Result<ProgramSource> program_source(const ProgramFlags& flags) {
    ProgramSource source;
    if (!flags.object.empty()) source.object_path = flags.object;
    if (flags.oracle != "" && flags.oracle != "exact" && flags.oracle != "conformance")
        return Error{"--oracle must be \"exact\" or \"conformance\""};
    source.conformance = flags.oracle == "conformance";
    source.strict_checksums = flags.strict_checksums;
    if (flags.target.empty()) {
        if (!flags.wildcards.empty()) return Error{"--wildcards applies to a --target only"};
        return source;
    }
    auto description = read_target_description(flags.target);
    if (!description) return description.error();
    if (flags.oracle == "exact" && !description->has_reasons())
        return Error{"--oracle exact needs our reason codes, and " + description->name +
                     " keeps none (its description has no \"reasons\")"};
    if (!source.object_path && !description->object)
        return Error{flags.target + " names no object; give it with --object FILE.bpf.o"};
    if (!flags.wildcards.empty()) {
        const auto form = parse_wildcard_form(flags.wildcards);
        if (!form) return Error{"--wildcards must be \"mixed\", \"address\" or \"any\""};
        if (!description->has_wildcards())
            return Error{"--wildcards: " + description->name + "'s description marks no field as a wildcard"};
        description->wildcard_form = *form;
    }
    source.target_name = description->name;
    if (description->object)
        source.target_object = std::filesystem::path(*description->object).lexically_normal().string();
    source.target = std::make_shared<const TargetDescription>(std::move(description).value());
    return source;
}

void add_program_options(po::options_description& options, ProgramFlags& flags) {
    options.add_options()("object", po::value(&flags.object),
                          "verify this BPF object instead of the built-in program (one that follows "
                          "bpf/xdpturn_abi.h, or, with --target, the target's object)")(
        "target", po::value(&flags.target),
        "verify a program that is not ours, described by this JSON file (docs/targets.md)")(
        "oracle", po::value(&flags.oracle),
        "exact (byte for byte, reasons included) or conformance (classes of docs/targets.md); "
        "default: exact for our program, conformance for a target without our reasons")(
        "strict-checksums", po::bool_switch(&flags.strict_checksums),
        "under the conformance oracle, count an IPv4 datagram sent without the UDP checksum the relay "
        "sends (forwarded_without_checksum, legal by RFC 768) as a defect")(
        "wildcards", po::value(&flags.wildcards),
        "for a target with wildcard fields: which bindings hold the any-address there: mixed (those with an "
        "odd channel number, the default), address (none) or any (all)");
}

}  // namespace xdpturn::cli
