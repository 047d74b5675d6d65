#include "harness/cases/fixed_case_check.hpp"

#include <filesystem>

#include "harness/io/output_files.hpp"
#include "harness/io/pcap_out.hpp"

namespace xdpturn {

namespace {

void expect_engine(const char* engine, const EngineOutcome& got, const FixedCase& c, const DissectOptions& options,
                   std::vector<std::string>& problems) {
    if (!(got.decision == c.expected))
        problems.push_back(std::string(engine) + " decided " + to_string(got.decision) + ", expected " +
                           to_string(c.expected));
    if (got.decision.verdict == Verdict::drop) return;
    const FrameDiff diff = compare_frames(c.expected_output, got.output, options);
    if (!diff.equal())
        problems.push_back(std::string(engine) + " output differs from the expected frame:\n" +
                           diff.render("expected", engine));
}

}  // namespace

FixedCaseOutcome check_fixed_case(DifferentialEngine& engine, const FixedCase& c) {
    FixedCaseOutcome outcome;
    const DissectOptions options{c.config.turn_port};
    if (auto set = engine.set_table(c.config, c.bindings); !set) {
        outcome.setup_error = set.error().message;
        outcome.problems.push_back("XDP side failed: " + set.error().message);
        return outcome;
    }
    auto comparison = engine.compare(c.config, c.frame);
    if (!comparison) {
        outcome.xdp_refusal = comparison.error().message;
        if (!c.refused_by_test_run) {
            outcome.problems.push_back("XDP side failed: " + comparison.error().message);
            return outcome;
        }
        // The kernel refuses the frame; the reference still has to decide it.
        EngineOutcome reference;
        const ReferenceModel model(c.config, c.bindings);
        reference.decision = model.decide(c.frame, reference.output);
        if (reference.decision.verdict == Verdict::pass) reference.output = c.frame;
        expect_engine("reference", reference, c, options, outcome.problems);
        return outcome;
    }
    if (c.refused_by_test_run)
        outcome.problems.push_back("BPF_PROG_TEST_RUN took a frame it should refuse (" +
                                   std::to_string(c.frame.size()) + " bytes)");
    outcome.comparison = std::move(comparison).value();
    expect_engine("reference", outcome.comparison->reference, c, options, outcome.problems);
    expect_engine("xdp", outcome.comparison->xdp, c, options, outcome.problems);
    if (!outcome.comparison->agree)
        outcome.problems.push_back("the engines disagree:\n" + outcome.comparison->explain());
    return outcome;
}

Status write_case_pcap(const std::string& path, const FixedCase& c, const FixedCaseOutcome& outcome) {
    // The artifact directory is the caller's output directory: made here.
    const std::string directory = std::filesystem::path(path).parent_path().string();
    if (!directory.empty())
        if (auto made = ensure_directory(directory); !made) return made;
    auto writer = PcapWriter::create(path);
    if (!writer) return writer.error();
    Status status = writer->write(c.frame);
    if (status && !c.expected_output.empty()) status = writer->write(c.expected_output);
    if (status && outcome.comparison) {
        if (!outcome.comparison->reference.output.empty()) status = writer->write(outcome.comparison->reference.output);
        if (status && !outcome.comparison->xdp.output.empty()) status = writer->write(outcome.comparison->xdp.output);
    }
    if (!status) return status;
    return writer->close();
}

}  // namespace xdpturn
