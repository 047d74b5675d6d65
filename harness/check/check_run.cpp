#include "harness/check/check_run.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness/cases/fixed_cases.hpp"
#include "harness/check/case_blocks.hpp"
#include "harness/check/description_hints.hpp"
#include "harness/check/properties.hpp"
#include "harness/check/shrink.hpp"
#include "harness/coverage/recorder.hpp"
#include "harness/foreign/target_description.hpp"
#include "harness/frames/layout.hpp"
#include "harness/xdp/cpu_pin.hpp"
#include "harness/xdp/kernel_facts.hpp"

namespace xdpturn {

namespace {

using Clock = std::chrono::steady_clock;

// The lowest case of each defect group, in the order of their keys (the
// order the reports list them in: by class, then row).
struct ByKey {
    bool operator()(const DefectGroup& a, const DefectGroup& b) const { return a.key() < b.key(); }
};
using FirstDefects = std::map<DefectGroup, std::uint64_t, ByKey>;

std::uint64_t nanoseconds_since(Clock::time_point start) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}
using TallyByConfig = std::map<DatapathConfig, ReasonTally, DatapathConfigLess>;

// What the jobs share: the lowest failing case index so far (every job stops
// before it) and the count of cases done, for the progress line.
struct RunState {
    explicit RunState(std::uint64_t cases) : lowest_failure(cases) {}
    std::atomic<std::uint64_t> lowest_failure;
    std::atomic<std::uint64_t> done{0};
    const Clock::time_point started = Clock::now();

    // done / total, the rate and the time left, on one terminal line.
    void show_progress(std::uint64_t finished, std::uint64_t total) const {
        const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
        const double rate = seconds > 0 ? static_cast<double>(finished) / seconds : 0;
        const double left = rate > 0 && total > finished ? static_cast<double>(total - finished) / rate : 0;
        std::fprintf(stderr, "\r%llu / %llu cases, %.0f cases/s, %.0f s left   ",
                     static_cast<unsigned long long>(finished), static_cast<unsigned long long>(total), rate, left);
    }

    // The lowest case found failing by its counters alone (a block run
    // again with every frame's counters checked): the shrinker checks them too.
    std::atomic<std::uint64_t> lowest_miscounted{std::numeric_limits<std::uint64_t>::max()};

    void failed_at(std::uint64_t index) { lower(lowest_failure, index); }
    void miscounted_at(std::uint64_t index) { lower(lowest_miscounted, index); }

    static void lower(std::atomic<std::uint64_t>& value, std::uint64_t index) {
        std::uint64_t current = value.load();
        while (index < current && !value.compare_exchange_weak(current, index)) {
        }
    }
};

// The counters of each engine must equal the XDP tally of its configuration.
std::string check_counters(DifferentialEngine& engine, const TallyByConfig& xdp_by_config) {
    std::string mismatch;
    for (const auto& [config, tally] : xdp_by_config) {
        auto found = engine.engine_for(config);
        if (!found) return found.error().message;
        auto counters = (*found)->counters();
        if (!counters) return counters.error().message;
        for (Reason reason : all_reasons)
            if ((*counters)[reason] != tally[reason])
                mismatch += "counter " + std::string(name(reason)) + " is " + std::to_string((*counters)[reason]) +
                            " but " + std::to_string(tally[reason]) + " frames ended there (turn port " +
                            std::to_string(config.turn_port) + ")\n";
    }
    return mismatch;
}

// One job: the blocks job, job + jobs, job + 2 jobs, ... Every block of a
// configuration runs on the job's one program for it: an isolated block
// writes each case's exact table, and the next shared block puts the
// background and its layer back.
class CheckJob {
  public:
    CheckJob(const CheckOptions& options, RunState& run)
        : options_(options), run_(run), engine_(options.program, CounterCheck::last_reason_only) {}

    // The shard's blocks, shard + k * shards, split among the jobs by k.
    void run_blocks(unsigned job, unsigned jobs) {
        for (std::uint64_t k = job;; k += jobs) {
            const std::uint64_t block = options_.shard + k * options_.shards;
            if (block * block_cases >= std::min(options_.cases, run_.lowest_failure.load())) return;
            if (!run_block(block)) return;
        }
    }

    // After the last block: the counter check and the time spent.
    void finish() {
        if (counts_reasons()) counter_mismatch = check_counters(engine_, xdp_by_config_);
        const EngineCost phases = cost;
        cost = engine_.cost();
        cost += phases;
    }

    CheckTally tally;
    FirstDefects first_defect;
    EngineCost cost;
    std::string counter_mismatch;
    std::string error;

  private:
    // Our program, or a target that keeps our reasons: its counters must
    // add up to the verdicts.
    bool counts_reasons() const {
        return !engine_.judges_conformance() || !options_.program.target || options_.program.target->has_reasons();
    }

    bool run_block(std::uint64_t block) {
        if (!run_block_cases(block)) return false;
        return block_failed_ || !counters_checked_ || !counts_reasons() || check_block_counters(block);
    }

    // After each block, one read of its program's counters against the
    // verdicts so far. When they differ, the block runs again, from a fresh
    // load, on a program whose every frame has its counters checked: the
    // frame they went wrong on fails (agreement, "counters"), with the
    // frames before it, and is shrunk and saved like any other failure.
    bool check_block_counters(std::uint64_t block) {
        const DatapathConfig& config = block_config_;
        auto found = engine_.engine_for(config);
        if (!found) return stop_with("block " + std::to_string(block) + ": " + found.error().message);
        auto counters = (*found)->counters();
        if (!counters) return stop_with("block " + std::to_string(block) + ": " + counters.error().message);
        if (*counters == xdp_by_config_[config]) return true;
        counters_checked_ = false;  // the totals stay off from here on: the run's end reports them
        DifferentialEngine every_frame_counted(options_.program, CounterCheck::exact);
        active_ = &every_frame_counted;
        tallying_ = false;
        const bool ran = run_block_cases(block);
        active_ = &engine_;
        tallying_ = true;
        return ran;
    }

    bool run_block_cases(std::uint64_t block) {
        block_failed_ = false;
        const auto started = Clock::now();
        const std::vector<GeneratedCase> cases_of_block = block_of(options_.seed, block, options_.cases);
        block_config_ = cases_of_block.front().config;  // one configuration a block
        const bool isolated = block_isolated(options_.seed, block);
        BlockPlan plan;
        if (!isolated) plan = plan_block(cases_of_block);
        cost.generate_ns += nanoseconds_since(started);
        // Each block starts from the state a fresh load has, so the frames
        // before a case in its block are all it can depend on.
        if (Status reset = active_->reset_state(); !reset)
            return stop_with("block " + std::to_string(block) + ": " + reset.error().message);
        if (!isolated && !start_block(block, plan.layers)) return false;
        for (std::size_t k = 0; k < cases_of_block.size(); ++k) {
            const std::uint64_t index = block * block_cases + k;
            if (index >= run_.lowest_failure.load()) break;
            if (!run_case(cases_of_block[k], index, isolated ? nullptr : &plan.displaced[k])) break;
        }
        return error.empty();
    }

    // Makes each shared map the background plus the block's layer (only the
    // entries that differ are written): what the previous block's cases
    // changed or displaced, the background included, is put back.
    bool start_block(std::uint64_t block, const LayerByConfig& layers) {
        for (const auto& [config, layer] : layers)
            if (Status set = active_->set_table(config, with_layer(layer)); !set)
                return stop_with("block " + std::to_string(block) + ": " + set.error().message);
        return true;
    }

    // False when the run must stop here: a harness error or a failure.
    // `displaced`: the shared map's entries this case's entries displace.
    bool run_case(const GeneratedCase& c, std::uint64_t index, const BindingTable* displaced) {
        const bool isolated = displaced == nullptr;
        const auto started = Clock::now();
        const std::vector<std::uint8_t> frame = frame_of(c);
        cost.build_ns += nanoseconds_since(started);
        const PropertyCheck checked = isolated ? check_case_alone(*active_, c, frame, comparison_)
                                               : lay_and_check(*active_, c, *displaced, frame);
        if (!checked) return stop_with("case " + std::to_string(index) + ": " + checked.error().message);
        const std::optional<PropertyFailure>& failure = *checked;
        if (!tallying_) {
            if (!failure) return true;
            run_.miscounted_at(index);
            return stop_at(index);
        }
        ++tally.cases_run;
        const Reason xdp_reason = comparison_.xdp.decision.reason;
        tally.reference_reasons.add(comparison_.reference.decision.reason);
        if (comparison_.xdp.reason_known) {
            tally.xdp_reasons.add(xdp_reason);
            xdp_by_config_[c.config].add(xdp_reason);
        }
        if (comparison_.conformance) {
            const auto conformance = static_cast<std::size_t>(comparison_.conformance->conformance);
            ++tally.classes[conformance];
            ++tally.classes_by_row[static_cast<std::size_t>(comparison_.reference.decision.reason)][conformance];
            const TargetDescription* target = options_.program.target.get();
            if (target != nullptr && comparison_.reference.decision.verdict == Verdict::tx)
                if (const std::size_t path = path_of(frame, comparison_.reference); claims_path(*target, path)) {
                    const bool left = comparison_.conformance->conformance == Conformance::not_offloaded;
                    ++tally.claimed_relayable;
                    tally.claimed_not_offloaded += left;
                    ++tally.paths[path].relayed;
                    tally.paths[path].not_offloaded += left;
                }
        }
        for (Variation variation : c.variations) ++tally.variation_hits[static_cast<std::size_t>(variation)];
        const auto classifying = Clock::now();
        for (Boundary boundary :
             classify(c.config, frame, comparison_.reference.decision, comparison_.reference.output))
            ++tally.boundary_hits[static_cast<std::size_t>(boundary)];
        cost.classify_ns += nanoseconds_since(classifying);
        if (failure && failure->property == Property::conformance) {
            ++tally.defect_groups[failure->group.key()];
            first_defect.emplace(failure->group, index);  // blocks run in order: the first is the lowest
        } else if (failure) {
            return stop_at(index);
        }
        const std::uint64_t finished = ++run_.done;
        if (options_.progress && finished % 50000 == 0)
            run_.show_progress(finished, (options_.cases + options_.shards - 1) / options_.shards);
        return true;
    }

    PropertyCheck lay_and_check(DifferentialEngine& engine, const GeneratedCase& c, const BindingTable& displaced,
                                const std::vector<std::uint8_t>& frame) {
        if (Status laid = engine.replace_layer(c.config, displaced, c.bindings); !laid) return laid.error();
        return check_properties(engine, c, frame, comparison_);
    }

    bool stop_at(std::uint64_t index) {
        block_failed_ = true;
        run_.failed_at(index);
        return false;
    }

    bool stop_with(std::string message) {
        error = std::move(message);
        run_.lowest_failure.store(0);
        return false;
    }

    const CheckOptions& options_;
    RunState& run_;
    DifferentialEngine engine_;
    // The engine frames run on: the job's, or while a block runs again to
    // find a miscounted frame, one that checks every frame's counters.
    DifferentialEngine* active_ = &engine_;
    bool tallying_ = true;
    bool counters_checked_ = true;
    bool block_failed_ = false;
    DatapathConfig block_config_;
    TallyByConfig xdp_by_config_;
    Comparison comparison_;
};

// The bare BPF_PROG_TEST_RUN rate in a loop on one relayed frame.
double measure_bare_rate(const ProgramSource& source, std::uint64_t calls) {
    const FixedCase& c = *find_fixed_case("relayed/basic");
    auto program = XdpProgram::load(source.object_path, c.config);
    if (!program) return 0;
    auto rate = bare_test_run_rate(*program, c.frame, calls);
    return rate ? *rate : 0;
}

// Loads the simplest configuration up front, so an unusable program is an
// error before any case runs. (Each load costs as much as a thousand
// cases; the jobs load the others as their blocks need them.)
Status probe_program(const ProgramSource& source) {
    DifferentialEngine probe(source, CounterCheck::last_reason_only);
    if (auto loaded = probe.engine_for(interpret_config({})); !loaded) return loaded.error();
    return ok_status();
}

// The lowest case of each defect class over all jobs.
FirstDefects first_defects(const std::vector<std::unique_ptr<CheckJob>>& states) {
    FirstDefects first;
    for (const auto& state : states)
        for (const auto& [defect, index] : state->first_defect) {
            auto [entry, added] = first.emplace(defect, index);
            if (!added) entry->second = std::min(entry->second, index);
        }
    return first;
}

Result<CheckResult> run_jobs(const CheckOptions& options, RunState& run, FirstDefects& defects) {
    const unsigned jobs = test_run_jobs(std::max(1u, options.jobs));
    std::vector<std::unique_ptr<CheckJob>> states;
    for (unsigned job = 0; job < jobs; ++job) states.push_back(std::make_unique<CheckJob>(options, run));
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (unsigned job = 0; job < jobs; ++job)
        threads.emplace_back([&, job] {
            // A job's frames all run on one CPU: what a frame leaves in the
            // program's per-CPU state is what the next one meets.
            const CpuPin one_cpu(job);
            states[job]->run_blocks(job, jobs);
            states[job]->finish();
        });
    for (std::thread& thread : threads) thread.join();
    if (options.progress) std::cerr << "\r" << std::string(70, ' ') << "\r";

    CheckResult result;
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (const auto& state : states) {
        if (!state->error.empty()) return Error{state->error};
        result.counter_mismatch += state->counter_mismatch;
        result.cost += state->cost;
        result += state->tally;
    }
    defects = first_defects(states);
    return result;
}

template <class T, std::size_t N>
void add_counts(std::array<T, N>& sum, const std::array<T, N>& more) {
    for (std::size_t i = 0; i < N; ++i) sum[i] += more[i];
}

}  // namespace

CheckTally& CheckTally::operator+=(const CheckTally& other) {
    cases_run += other.cases_run;
    reference_reasons += other.reference_reasons;
    xdp_reasons += other.xdp_reasons;
    add_counts(variation_hits, other.variation_hits);
    add_counts(boundary_hits, other.boundary_hits);
    add_counts(classes, other.classes);
    for (std::size_t row = 0; row < reason_count; ++row) add_counts(classes_by_row[row], other.classes_by_row[row]);
    for (const auto& [group, cases] : other.defect_groups) defect_groups[group] += cases;
    claimed_relayable += other.claimed_relayable;
    claimed_not_offloaded += other.claimed_not_offloaded;
    for (std::size_t path = 0; path < claimable_paths; ++path) {
        paths[path].relayed += other.paths[path].relayed;
        paths[path].not_offloaded += other.paths[path].not_offloaded;
    }
    return *this;
}

std::string path_name(std::size_t path) {
    const auto family = [](bool v6) { return v6 ? "IPv6" : "IPv4"; };
    return std::string(path & 4 ? "peer -> client, " : "client -> peer, ") + family(path & 2) + " -> " +
           family(path & 1);
}

std::size_t path_of(Bytes input, const EngineOutcome& reference) {
    const auto ipv6 = [](Bytes frame) { return layout::ethertype_of(frame) == layout::ethertype_ipv6 ? 1u : 0u; };
    const std::size_t to_client = reference.decision.reason == Reason::relayed ? 0 : 1;
    return 4 * to_client + 2 * ipv6(input) + ipv6(reference.output);
}

bool claims_path(const TargetDescription& target, std::size_t path) {
    const bool to_client = path & 4, in6 = path & 2, out6 = path & 1;
    const bool direction = to_client ? target.peer_to_client : target.client_to_peer;
    const auto family = [&](bool v6) { return v6 ? target.ipv6 : target.ipv4; };
    return direction && family(in6) && family(out6) && (in6 == out6 || target.across_families);
}

std::vector<Reason> CheckResult::uncovered_rows() const {
    std::vector<Reason> rows;
    for (Reason reason : all_reasons)
        // A target without our reasons is covered by the reference's rows alone.
        if (reachable_through_test_run(reason) &&
            (reference_reasons[reason] == 0 || (xdp_reasons[reason] == 0 && xdp_reasons.total() > 0)))
            rows.push_back(reason);
    return rows;
}

std::vector<Boundary> CheckResult::uncovered_boundaries() const {
    std::vector<Boundary> classes;
    for (std::size_t i = 0; i < boundary_count; ++i)
        if (boundary_hits[i] == 0) classes.push_back(static_cast<Boundary>(i));
    return classes;
}

// Shrinks and saves the first case of every defect group. The first group
// of each class shrinks fully; the others within a hundred runs (a
// target with many groups would otherwise spend most of its run shrinking).
Status shrink_defects(const CheckOptions& options, const FirstDefects& defects, CheckResult& result) {
    constexpr std::uint64_t further_group_runs = 100;
    CheckOptions further = options;
    further.max_shrink_runs = std::min(options.max_shrink_runs, further_group_runs);
    std::set<Conformance> shrunk;
    DifferentialEngine engine(options.program, CounterCheck::last_reason_only);
    for (const auto& [defect, index] : defects) {
        const bool first_of_class = shrunk.insert(defect.defect).second;
        auto failure = shrink_and_save(first_of_class ? options : further, index, defect, engine);
        if (!failure) return failure.error();
        result.defects.push_back(std::move(failure).value());
    }
    return ok_status();
}

Result<CheckResult> run_check(const CheckOptions& options) {
    if (auto probed = probe_program(options.program); !probed) return probed.error();
    RunState run(options.cases);
    FirstDefects defects;
    auto result = run_jobs(options, run, defects);
    if (!result) return result;
    result->conformance = DifferentialEngine(options.program).judges_conformance();
    if (auto shrunk = shrink_defects(options, defects, *result); !shrunk) return shrunk.error();
    if (options.description_hints) {
        auto hints = byte_order_hints(options, *result);
        if (!hints) return hints.error();
        result->description_hints = std::move(hints).value();
    }
    // The bare rate is of our program's ABI; a target's own loop is not measured.
    if (!options.program.target) {
        const std::uint64_t calls = std::min<std::uint64_t>(options.cases, 50000) + 1000;
        result->bare_calls_per_second = measure_bare_rate(options.program, calls);
        if (coverage::Recorder::active()) {
            coverage::Recorder::Suspend without_probes;
            result->bare_calls_per_second_without_probes = measure_bare_rate(options.program, calls);
        }
    }
    if (run.lowest_failure.load() >= options.cases) return result;
    const std::uint64_t lowest = run.lowest_failure.load();
    auto failure =
        shrink_and_save(options, lowest, std::nullopt,
                        lowest == run.lowest_miscounted.load() ? CounterCheck::exact : CounterCheck::last_reason_only);
    if (!failure) return failure.error();
    result->failure = std::move(failure).value();
    return result;
}

}  // namespace xdpturn
