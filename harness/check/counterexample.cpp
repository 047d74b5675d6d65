#include "harness/check/counterexample.hpp"

#include <filesystem>

#include "harness/io/bindings_json.hpp"
#include "harness/io/output_files.hpp"
#include "harness/io/pcap_out.hpp"

namespace xdpturn {

Result<CounterexamplePaths> write_counterexample(const std::string& stem, const GeneratedCase& c,
                                                 const std::vector<std::uint8_t>& frame, const Comparison& comparison,
                                                 const CounterexampleOrigin& origin) {
    return write_counterexample(stem, c, std::vector<std::vector<std::uint8_t>>{frame}, comparison, origin);
}

Result<CounterexamplePaths> write_counterexample(const std::string& stem, const GeneratedCase& c,
                                                 const std::vector<std::vector<std::uint8_t>>& inputs,
                                                 const Comparison& comparison, const CounterexampleOrigin& origin) {
    CounterexamplePaths paths{stem + ".pcap", stem + ".json"};
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
