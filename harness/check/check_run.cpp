#include "harness/check/check_run.hpp"

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "harness/cases/fixed_cases.hpp"
#include "harness/check/properties.hpp"

namespace xdpturn {

namespace {

using Clock = std::chrono::steady_clock;

// SplitMix64: spreads (seed, index) over the 64-bit seed space.
std::uint64_t mix(std::uint64_t value) {
    value += 0x9E3779B97F4A7C15ull;
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
    value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
    return value ^ (value >> 31);
}

struct JobState {
    ReasonTally reference{};
    ReasonTally xdp{};
    std::array<std::uint64_t, variation_count> variations{};
    std::map<DatapathConfig, ReasonTally, DatapathConfigLess> shared_xdp_by_config;
    std::map<DatapathConfig, ReasonTally, DatapathConfigLess> isolated_xdp_by_config;
    std::uint64_t cases = 0;
    DifferentialEngine::SyscallTime time;
    std::string error;
};

// The counters of each program an engine loaded must equal its XDP tally.
std::string check_counters(DifferentialEngine& engine,
                           const std::map<DatapathConfig, ReasonTally, DatapathConfigLess>& xdp_by_config) {
    std::string mismatch;
    for (const auto& [config, tally] : xdp_by_config) {
        auto program = engine.program_for(config);
        if (!program) return program.error().message;
        auto counters = (*program)->read_counters();
        if (!counters) return counters.error().message;
        for (std::size_t i = 0; i < reason_count; ++i)
            if ((*counters)[i] != tally[i])
                mismatch += "counter " + std::string(name(static_cast<Reason>(i))) + " is " +
                            std::to_string((*counters)[i]) + " but " + std::to_string(tally[i]) +
                            " frames ended there (turn port " + std::to_string(config.turn_port) + ")\n";
    }
    return mismatch;
}

double measure_bare_rate(const ProgramSource& source, std::uint64_t calls) {
    const FixedCase& c = *find_fixed_case("relayed/basic");
    DifferentialEngine engine(source, CounterCheck::last_reason_only);
    auto program = engine.program_for(c.config);
    if (!program) return 0;
    ProgTestRunner runner(**program);
    XdpRun run;
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < calls; ++i)
        if (!runner.run(c.frame, CounterCheck::last_reason_only, run)) return 0;
    return static_cast<double>(calls) / std::chrono::duration<double>(Clock::now() - start).count();
}

// Cases run in blocks of consecutive indices; one job runs a whole block,
// so what a case meets depends on (seed, index) alone, never on --jobs.
constexpr std::uint64_t block_cases = 64;
// One block in this many runs every case on exactly its own table (empty
// tables, exact near misses); the others share one table per block.
constexpr std::uint64_t isolated_one_in = 8;

bool block_isolated(std::uint64_t seed, std::uint64_t block) {
    return mix(seed ^ mix(block ^ 0xB10C0000B10Cull)) % isolated_one_in == 0;
}

std::vector<GeneratedCase> block_of(std::uint64_t seed, std::uint64_t block, std::uint64_t total_cases) {
    std::vector<GeneratedCase> cases;
    for (std::uint64_t i = block * block_cases; i < std::min((block + 1) * block_cases, total_cases); ++i)
        cases.push_back(interpret_choices(case_choices(seed, i)));
    return cases;
}

// A shared block's table per configuration is the many-entry background,
// which stays in the map for the whole run, plus a layer: the union of the
// block's case tables, the first case to name a key giving its value. (A
// later case naming the same key with another value lays its own over it
// when it runs.) Swapping layers between blocks costs map work in
// proportion to the layers, and a case costs none unless it conflicts.
using LayerByConfig = std::map<DatapathConfig, BindingTable, DatapathConfigLess>;

LayerByConfig block_layers(const std::vector<GeneratedCase>& cases) {
    const BindingTable& background = background_bindings();
    LayerByConfig layers;
    for (const GeneratedCase& c : cases) {
        BindingTable& layer = layers[c.config];
        for (const auto& entry : c.bindings)
            if (!background.contains(entry.first)) layer.insert(entry);
    }
    return layers;
}

// The table case `index` met: its own in an isolated block; in a shared one
// the block's table with the entries of the earlier cases laid over it.
BindingTable table_met_by(std::uint64_t seed, std::uint64_t index, std::uint64_t total_cases) {
    const std::uint64_t block = index / block_cases;
    if (block_isolated(seed, block)) return {};
    const std::vector<GeneratedCase> cases = block_of(seed, block, total_cases);
    const DatapathConfig& config = cases[index % block_cases].config;
    BindingTable table = background_bindings();
    LayerByConfig layers = block_layers(cases);  // named: the loop below must not outlive it
    for (const auto& entry : layers[config]) table.insert(entry);
    for (std::uint64_t k = 0; k < index % block_cases; ++k)
        if (cases[k].config == config)
            for (const auto& [key, target] : cases[k].bindings) table.insert_or_assign(key, target);
    return table;
}

std::string show(const GeneratedCase& c) {
    std::ostringstream text;
    showValue(c, text);
    return text.str();
}

}  // namespace

std::vector<std::uint32_t> case_choices(std::uint64_t seed, std::uint64_t index) {
    return random_choices(mix(seed ^ mix(index)));
}

std::vector<Reason> CheckResult::uncovered_rows() const {
    std::vector<Reason> rows;
    for (std::size_t i = 0; i < reason_count; ++i) {
        const Reason reason = static_cast<Reason>(i);
        if (reachable_through_test_run(reason) && (reference_reasons[i] == 0 || xdp_reasons[i] == 0))
            rows.push_back(reason);
    }
    return rows;
}

Result<CheckResult> run_check(const CheckOptions& options) {
    const unsigned jobs = std::max(1u, options.jobs);
    // Load every configuration once up front, so an unusable program is an
    // error before any case runs.
    {
        DifferentialEngine probe(options.program, CounterCheck::last_reason_only);
        for (const DatapathConfig& config : generated_configs())
            if (auto loaded = probe.program_for(config); !loaded) return loaded.error();
    }

    std::vector<JobState> states(jobs);
    std::atomic<std::uint64_t> lowest_failure{options.cases};
    std::atomic<std::uint64_t> done{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    std::mutex counters_mutex;
    std::string counter_mismatch;
    for (unsigned job = 0; job < jobs; ++job) {
        threads.emplace_back([&, job] {
            JobState& state = states[job];
            // Shared and isolated blocks use separate programs, so an
            // isolated block's exact tables never disturb the shared maps.
            DifferentialEngine shared_engine(options.program, CounterCheck::last_reason_only);
            DifferentialEngine isolated_engine(options.program, CounterCheck::last_reason_only);
            LayerByConfig current_layers;  // the layer each shared map holds now
            Comparison comparison;
            for (std::uint64_t block = job; block * block_cases < std::min(options.cases, lowest_failure.load());
                 block += jobs) {
                const std::vector<GeneratedCase> cases = block_of(options.seed, block, options.cases);
                const bool isolated = block_isolated(options.seed, block);
                DifferentialEngine& engine = isolated ? isolated_engine : shared_engine;
                if (!isolated) {
                    LayerByConfig layers = block_layers(cases);
                    for (auto& [config, layer] : layers) {
                        auto [previous, first_use] = current_layers.try_emplace(config);
                        Status set = first_use ? shared_engine.set_table(config, background_bindings()) : ok_status();
                        if (set) set = shared_engine.replace_layer(config, previous->second, layer);
                        if (!set) {
                            state.error = set.error().message;
                            lowest_failure.store(0);
                            break;
                        }
                        previous->second = std::move(layer);
                    }
                }
                for (std::size_t k = 0; k < cases.size() && state.error.empty(); ++k) {
                    const std::uint64_t i = block * block_cases + k;
                    if (i >= lowest_failure.load()) break;
                    const GeneratedCase& c = cases[k];
                    const std::vector<std::uint8_t> frame = frame_of(c);
                    const auto failure = check_properties(engine, c, frame, comparison,
                                                          isolated ? TableMode::exact : TableMode::overlaid);
                    if (failure && failure->property == "harness") {
                        state.error = "case " + std::to_string(i) + ": " + failure->details;
                        lowest_failure.store(0);
                        break;
                    }
                    ++state.cases;
                    ++state.reference[static_cast<std::size_t>(comparison.reference.decision.reason)];
                    ++state.xdp[static_cast<std::size_t>(comparison.xdp.decision.reason)];
                    ++(isolated ? state.isolated_xdp_by_config
                                : state.shared_xdp_by_config)[c.config]
                                                             [static_cast<std::size_t>(comparison.xdp.decision.reason)];
                    for (Variation variation : c.variations) ++state.variations[static_cast<std::size_t>(variation)];
                    if (failure) {
                        std::uint64_t current = lowest_failure.load();
                        while (i < current && !lowest_failure.compare_exchange_weak(current, i)) {
                        }
                        break;
                    }
                    const std::uint64_t finished = ++done;
                    if (options.progress && finished % 50000 == 0)
                        std::cerr << "\r" << finished << " / " << options.cases << " cases" << std::flush;
                }
                if (!state.error.empty()) break;
            }
            const std::string mismatch = check_counters(shared_engine, state.shared_xdp_by_config) +
                                         check_counters(isolated_engine, state.isolated_xdp_by_config);
            std::lock_guard lock(counters_mutex);
            counter_mismatch += mismatch;
            for (const DifferentialEngine* engine : {&shared_engine, &isolated_engine}) {
                const auto time = engine->syscall_time();
                state.time.test_run_ns += time.test_run_ns;
                state.time.test_runs += time.test_runs;
                state.time.map_ns += time.map_ns;
                state.time.map_entries += time.map_entries;
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    if (options.progress) std::cerr << "\r" << std::string(40, ' ') << "\r";

    CheckResult result;
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.counter_mismatch = counter_mismatch;
    for (const JobState& state : states) {
        if (!state.error.empty()) return Error{state.error};
        result.cases_run += state.cases;
        result.test_run_ns += state.time.test_run_ns;
        result.test_runs += state.time.test_runs;
        result.map_ns += state.time.map_ns;
        result.map_entries += state.time.map_entries;
        for (std::size_t i = 0; i < reason_count; ++i) {
            result.reference_reasons[i] += state.reference[i];
            result.xdp_reasons[i] += state.xdp[i];
        }
        for (std::size_t i = 0; i < state.variations.size(); ++i) result.variation_hits[i] += state.variations[i];
    }
    result.bare_calls_per_second =
        measure_bare_rate(options.program, std::min<std::uint64_t>(options.cases, 50000) + 1000);

    if (lowest_failure.load() >= options.cases) return result;

    // Shrink the failing case with the lowest index (the same one whatever
    // the number of jobs), one step at a time: take the first smaller case
    // that still fails, until none does. The table the case met in its block
    // stays fixed underneath the candidates' own entries.
    CheckFailure failure;
    failure.case_index = lowest_failure.load();
    BindingTable background = table_met_by(options.seed, failure.case_index, options.cases);
    DifferentialEngine engine(options.program, CounterCheck::last_reason_only);
    Comparison comparison;
    auto with_background = [&](GeneratedCase c) {
        BindingTable table = background;
        for (const auto& [key, target] : c.bindings) table.insert_or_assign(key, target);
        c.bindings = std::move(table);
        return c;
    };
    auto shrinkable = shrinkable_choices(case_choices(options.seed, failure.case_index));
    auto evaluate = [&](const std::vector<std::uint32_t>& choices) {
        ++failure.shrink_runs;
        const GeneratedCase c = with_background(interpret_choices(choices));
        return check_properties(engine, c, frame_of(c), comparison);
    };
    auto found = evaluate(shrinkable.value());
    if (!found) return Error{"case " + std::to_string(failure.case_index) + " failed once and then passed"};
    bool smaller = options.shrink;
    while (smaller && failure.shrink_runs < options.max_shrink_runs) {
        smaller = false;
        auto shrinks = shrinkable.shrinks();
        while (auto candidate = shrinks.next()) {
            if (failure.shrink_runs >= options.max_shrink_runs) break;
            if (auto still = evaluate(candidate->value()); still && still->property != "harness") {
                shrinkable = std::move(*candidate);
                found = std::move(still);
                ++failure.shrink_steps;
                smaller = true;
                break;
            }
        }
    }
    // Then the table the case met: try without it, then with only the
    // entries of the frame's own client address.
    failure.choices = shrinkable.value();
    if (options.shrink && !background.empty()) {
        const GeneratedCase shrunk = interpret_choices(failure.choices);
        BindingTable same_client;
        for (const auto& entry : background)
            if (entry.first.client.address == shrunk.spec.ip_source) same_client.insert(entry);
        for (BindingTable& smaller_table : std::array{BindingTable{}, std::move(same_client)}) {
            BindingTable kept = std::exchange(background, std::move(smaller_table));
            if (auto still = evaluate(failure.choices); still && still->property != "harness") {
                ++failure.shrink_steps;
                break;
            }
            background = std::move(kept);
        }
    }
    // Run the final case once more so `comparison` describes it.
    const GeneratedCase final_case = with_background(interpret_choices(failure.choices));
    const std::vector<std::uint8_t> frame = frame_of(final_case);
    found = check_properties(engine, final_case, frame, comparison);
    if (!found) return Error{"the shrunk case stopped failing when run again"};
    failure.property = found->property;
    failure.details = found->details;
    failure.shown_case = show(final_case);
    const std::string stem = options.counterexample_dir + "/seed-" + std::to_string(options.seed) + "-case-" +
                             std::to_string(failure.case_index);
    auto saved = write_counterexample(stem, final_case, frame, comparison,
                                      {options.seed, failure.case_index, failure.property, options.program.describe()});
    if (saved)
        failure.saved = *saved;
    else
        failure.save_error = saved.error().message;
    result.failure = std::move(failure);
    return result;
}

}  // namespace xdpturn
