#include "harness/check/counterexample.hpp"

#include <filesystem>

#include "harness/io/bindings_json.hpp"
#include "harness/io/output_files.hpp"
#include "harness/io/pcap_out.hpp"
#include "harness/io/pcapng_out.hpp"

namespace xdpturn {

namespace {

// The fields the program's output differs in from the reference's (or,
// under the conformance oracle, from what the relay would send).
std::string differing_fields(const Comparison& comparison) {
    std::vector<std::string> fields;
    if (comparison.conformance)
        fields = comparison.conformance->fields;
    else
        for (const FieldDifference& difference : comparison.output_diff.differences) fields.push_back(difference.field);
    if (fields.empty()) return "";
    std::string text = "; fields that differ:";
    for (const std::string& field : fields) text += " " + field;
    return text;
}

std::string program_outcome(const Comparison& comparison) {
    std::string text = to_string(comparison.xdp.decision);
    if (comparison.conformance)  // a target's reason means nothing: its verdict and class
        text = std::string(name(comparison.xdp.decision.verdict)) + ", " +
               std::string(name(comparison.conformance->conformance));
    if (!comparison.xdp.miscounted.empty()) text += "; " + comparison.xdp.miscounted;
    return text;
}

// The frames again, as pcapng, each saying what it is.
Status write_commented(const std::string& path, const std::vector<std::vector<std::uint8_t>>& inputs,
                       const Comparison& comparison, const CounterexampleOrigin& origin) {
    auto file = PcapngWriter::create(path);
    if (!file) return file.error();
    Status written = ok_status();
    for (std::size_t i = 0; written && i + 1 < inputs.size(); ++i)
        written = file->write(inputs[i], "earlier input " + std::to_string(i + 1) + " of " +
                                             std::to_string(inputs.size() - 1) +
                                             ": runs first, on the same program; the failing frame needs it");
    if (written)
        written =
            file->write(inputs.back(), "input: case " + std::to_string(origin.case_index) + " of seed " +
                                           std::to_string(origin.seed) + " fails '" + origin.property + "' (" +
                                           origin.program + "); reference " + to_string(comparison.reference.decision) +
                                           ", program " + program_outcome(comparison));
    if (written && !comparison.reference.output.empty())
        written =
            file->write(comparison.reference.output, "reference output: " + to_string(comparison.reference.decision) +
                                                         " (passed frames: the input)");
    if (written && !comparison.xdp.output.empty())
        written = file->write(comparison.xdp.output,
                              "program output: " + program_outcome(comparison) + differing_fields(comparison));
    if (!written) return written;
    return file->close();
}

}  // namespace

Result<CounterexamplePaths> write_counterexample(const std::string& stem, const GeneratedCase& c,
                                                 const std::vector<std::uint8_t>& frame, const Comparison& comparison,
                                                 const CounterexampleOrigin& origin) {
    return write_counterexample(stem, c, std::vector<std::vector<std::uint8_t>>{frame}, comparison, origin);
}

Result<CounterexamplePaths> write_counterexample(const std::string& stem, const GeneratedCase& c,
                                                 const std::vector<std::vector<std::uint8_t>>& inputs,
                                                 const Comparison& comparison, const CounterexampleOrigin& origin) {
    CounterexamplePaths paths{stem + ".pcap", stem + ".json", stem + ".pcapng"};
    const std::string directory = std::filesystem::path(stem).parent_path().string();
    if (!directory.empty())
        if (auto made = ensure_directory(directory); !made) return made.error();
    auto writer = PcapWriter::create(paths.pcap);
    if (!writer) return writer.error();
    // The inputs first: replaying the file reproduces the case with them; the
    // two outputs follow for people (as frames, they are merely passed).
    std::vector<const std::vector<std::uint8_t>*> frames;
    for (const auto& input : inputs) frames.push_back(&input);
    frames.push_back(&comparison.reference.output);
    frames.push_back(&comparison.xdp.output);
    for (const auto* bytes : frames) {
        if (bytes->empty()) continue;
        if (auto written = writer->write(*bytes); !written) return written.error();
    }
    if (auto closed = writer->close(); !closed) return closed.error();
    if (auto commented = write_commented(paths.pcapng, inputs, comparison, origin); !commented)
        return commented.error();

    nlohmann::json document = bindings_json(c.config, c.bindings);
    document["seed"] = origin.seed;
    document["case_index"] = origin.case_index;
    document["property"] = origin.property;
    document["program"] = origin.program;
    nlohmann::json variations = nlohmann::json::array();
    for (Variation variation : c.variations) variations.push_back(name(variation));
    document["variations"] = variations;
    nlohmann::json names = nlohmann::json::array();
    for (std::size_t i = 0; i + 1 < inputs.size(); ++i) names.push_back("earlier input " + std::to_string(i + 1));
    names.push_back("input");
    names.push_back("reference output");
    names.push_back("xdp output");
    document["frames"] = names;
    if (auto written = write_text_file(paths.json, document.dump(2) + "\n"); !written) return written.error();
    return paths;
}

}  // namespace xdpturn
