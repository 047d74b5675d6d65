#include "harness/cases/corpus_export.hpp"
#include "harness/compare/skip_reason.hpp"

#include <filesystem>
#include <fstream>
#include <map>

#include "harness/cases/fixed_cases.hpp"
#include "harness/frames/frame_builder.hpp"
#include "harness/io/bindings_json.hpp"
#include "harness/io/output_files.hpp"
#include "harness/io/pcap_out.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

std::string channel_range_text(const ChannelRange& range) {
    char text[32];
    std::snprintf(text, sizeof(text), "0x%04X-0x%04X", range.min, range.max);
    return text;
}

struct CaptureGroup {
    DatapathConfig config;
    BindingTable bindings;
    std::vector<const FixedCase*> cases;
};

// Cases that share the common configuration and table go into one capture
// per row; the others each into a capture of their own.
std::map<std::string, CaptureGroup> group_cases() {
    std::map<std::string, CaptureGroup> groups;
    for (const FixedCase& c : fixed_cases()) {
        const bool common = c.config == fixed_case_config() && c.bindings == fixed_case_bindings();
        std::string file = common ? std::string(name(c.expected.reason)) : c.name;
        for (char& ch : file)
            if (ch == '/') ch = '-';
        CaptureGroup& group = groups[file];
        group.config = c.config;
        group.bindings = c.bindings;
        group.cases.push_back(&c);
    }
    return groups;
}

}  // namespace

Result<std::string> export_row_corpus(const std::string& directory) {
    if (auto made = ensure_directory(directory); !made) return made.error();

    const std::map<std::string, CaptureGroup> groups = group_cases();
    nlohmann::json captures = nlohmann::json::array();
    for (const auto& [file, group] : groups) {
        const std::string pcap = file + ".pcap";
        const std::string bindings = file + ".json";
        auto writer = PcapWriter::create(directory + "/" + pcap);
        if (!writer) return writer.error();
        std::map<std::string, std::uint64_t> reasons;
        std::uint64_t skipped_short = 0;
        for (const FixedCase* c : group.cases) {
            if (auto written = writer->write(c->frame); !written) return written.error();
            if (c->refused_by_test_run)
                ++skipped_short;
            else
                ++reasons[std::string(name(c->expected.reason))];
        }
        if (auto closed = writer->close(); !closed) return closed.error();
        if (auto written =
                write_text_file(directory + "/" + bindings, bindings_json(group.config, group.bindings).dump(2) + "\n");
            !written)
            return written.error();
        nlohmann::json expect = {{".frames_read", group.cases.size()}, {".disagreements", 0}};
        for (const auto& [reason, count] : reasons) {
            expect[".reasons." + reason + ".xdp"] = count;
            expect[".reasons." + reason + ".reference"] = count;
        }
        if (skipped_short > 0)
            expect[".skipped[\"" + skip_text(SkipReason::shorter_than_ethernet) + "\"]"] = skipped_short;
        nlohmann::json capture = {{"capture", pcap},
                                  {"args",
                                   {"--bindings", bindings, "--turn-port", std::to_string(group.config.turn_port),
                                    "--channel-range", channel_range_text(group.config.channels)}},
                                  {"expect", expect}};
        // A capture whose every frame the kernel refuses compares nothing,
        // and a replay that compared nothing does not pass.
        if (skipped_short == group.cases.size()) capture["exit"] = 2;
        captures.push_back(std::move(capture));
    }

    // Frames replay must skip, each with the reason it must give.
    const FixedCase& relayed = *find_fixed_case("relayed/basic");
    {
        auto writer = PcapWriter::create(directory + "/snaplen-cut.pcap");
        if (!writer) return writer.error();
        (void)writer->write_cut(Bytes(relayed.frame).first(40), static_cast<std::uint32_t>(relayed.frame.size()));
        (void)writer->write(relayed.frame);
        if (auto closed = writer->close(); !closed) return closed.error();
        captures.push_back({{"capture", "snaplen-cut.pcap"},
                            {"args", {"--bindings", "relayed.json"}},
                            {"expect",
                             {{".frames_read", 2},
                              {".frames_compared", 1},
                              {".skipped[\"" + skip_text(SkipReason::snap_length_cut) + "\"]", 1},
                              {".reasons.relayed.xdp", 1}}}});
    }
    {
        FrameSpec large;
        large.application_data = pattern_bytes(test_run_max_frame);  // 46 bytes over the limit
        auto writer = PcapWriter::create(directory + "/too-large.pcap");
        if (!writer) return writer.error();
        (void)writer->write(build_frame(large));
        (void)writer->write(relayed.frame);
        if (auto closed = writer->close(); !closed) return closed.error();
        captures.push_back({{"capture", "too-large.pcap"},
                            {"args", {"--bindings", "relayed.json"}},
                            {"expect",
                             {{".frames_read", 2},
                              {".frames_compared", 1},
                              {".skipped[\"" + skip_text(SkipReason::larger_than_linear) + "\"]", 1},
                              {".reasons.relayed.xdp", 1}}}});
    }

    const std::string manifest = directory + "/manifest.json";
    const std::string text =
        nlohmann::json({{"made_by", "xdpturn cases --export"}, {"captures", captures}}).dump(2) + "\n";
    if (auto written = write_text_file(manifest, text); !written) return written.error();
    return manifest;
}

}  // namespace xdpturn
