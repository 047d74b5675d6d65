// Runs frames through both engines, the reference model and the XDP program
// under BPF_PROG_TEST_RUN, and says whether they agree: same verdict, same
// reason, and the same bytes (for XDP_PASS: the input, unchanged).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/compare/comparator.hpp"
#include "harness/xdp/map_sync.hpp"
#include "harness/xdp/prog_test_run.hpp"
#include "harness/xdp/xdp_program.hpp"
#include "relay/model/reference_model.hpp"

namespace xdpturn {

struct EngineOutcome {
    Decision decision;
    std::vector<std::uint8_t> output;  // the frame as it leaves the engine (PASS: the input)
};

struct Comparison {
    EngineOutcome reference;
    EngineOutcome xdp;
    bool agree = false;
    FrameDiff output_diff;  // reference output vs XDP output, when outputs are compared

    // A readable account of the disagreement (empty when they agree).
    std::string explain() const;
};

// Where the XDP program comes from: the built-in one or an object file.
struct ProgramSource {
    std::optional<std::string> object_path;
    std::string describe() const { return object_path ? *object_path : std::string("built-in"); }
};

// One loaded program per configuration (configuration is frozen at load),
// with its map kept in sync with the table of the case at hand.
class DifferentialEngine {
  public:
    explicit DifferentialEngine(ProgramSource source, CounterCheck check = CounterCheck::exact)
        : source_(std::move(source)), check_(check) {}

    // Fills `result`, reusing its buffers across calls. The map is made
    // equal to `bindings` first.
    Status compare(const DatapathConfig& config, const BindingTable& bindings, Bytes frame, Comparison& result);
    // The same, but `bindings` is laid over what the map already holds (see
    // MapSync::overlay); both engines see the resulting table.
    Status compare_overlaid(const DatapathConfig& config, const BindingTable& bindings, Bytes frame,
                            Comparison& result);
    // Sets the whole table of one configuration's map.
    Status set_table(const DatapathConfig& config, const BindingTable& bindings);
    // Replaces one layer of a configuration's table (MapSync::replace_layer).
    Status replace_layer(const DatapathConfig& config, const BindingTable& previous, const BindingTable& next);
    // Time in BPF_PROG_TEST_RUN and in map updates, over all programs.
    struct SyscallTime {
        std::uint64_t test_run_ns = 0;
        std::uint64_t test_runs = 0;
        std::uint64_t map_ns = 0;
        std::uint64_t map_entries = 0;
    };
    SyscallTime syscall_time() const;
    Result<Comparison> compare(const DatapathConfig& config, const BindingTable& bindings, Bytes frame);

    // The program for a configuration, loaded on first use.
    Result<XdpProgram*> program_for(const DatapathConfig& config);

  private:
    struct Loaded {
        XdpProgram program;
        MapSync sync;
        ProgTestRunner runner;
        explicit Loaded(XdpProgram&& loaded) : program(std::move(loaded)), sync(program), runner(program) {}
    };
    Result<Loaded*> loaded_for(const DatapathConfig& config);
    Status run_both(Loaded& loaded, const DatapathConfig& config, Bytes frame, Comparison& result);

    ProgramSource source_;
    CounterCheck check_;
    std::map<DatapathConfig, std::unique_ptr<Loaded>, DatapathConfigLess> programs_;
    XdpRun run_;
};

}  // namespace xdpturn
