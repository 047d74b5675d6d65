#include "harness/compare/target_engine.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <chrono>

#include "harness/frames/layout.hpp"
#include "harness/frames/sent_to.hpp"
#include "harness/xdp/kernel_facts.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t nanoseconds_since(Clock::time_point start) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

// A binding a TURN server never makes: a channel number it refuses to bind
// (RFC 8656 Section 12) or an allocation port outside the ones it hands
// out. A real control plane never writes one, so neither the target's maps
// nor the reference's table get it.
bool never_made(const DatapathConfig& config, const BindingKey& key, const BindingTarget& target) {
    return !config.channels.contains(key.channel) || !config.relay_ports.contains(target.allocation_port);
}

// Written into the reason variable before a run: no exit path stores it.
constexpr std::uint32_t no_reason_recorded = 0xFFFFFFFF;

}  // namespace

Result<std::unique_ptr<TargetEngine>> TargetEngine::load(const ProgramSource& source, const DatapathConfig& config) {
    const TargetDescription& description = *source.target;
    const std::optional<std::string> object = source.object_path ? source.object_path : description.object;
    if (!object) return Error{description.path + " names no object; give one with --object FILE.bpf.o"};
    HostAddresses host;
    if (source.host_ipv4) host.ipv4 = *source.host_ipv4;
    if (source.host_ipv6) host.ipv6 = *source.host_ipv6;
    std::shared_ptr<FibEnvironment> environment;
    if (description.forwarding == Forwarding::fib_redirect) {
        // The lookups need the frame's ingress device, which only an xdp_md
        // context gives a test run.
        if (const KernelFacts* facts = kernel_facts(); facts != nullptr && !facts->xdp_md_context)
            return Error{description.path + " looks routes up, and kernel " + facts->release +
                         " refuses the xdp_md context such a test run needs (" + facts->xdp_md_context_error + ")"};
        auto shared = FibEnvironment::shared(host);
        if (!shared) return shared.error();
        environment = std::move(shared).value();
    }
    auto program = TargetProgram::load(description, *object, config, host, environment ? environment->ifindex() : 0);
    if (!program) return program.error();
    return std::unique_ptr<TargetEngine>(new TargetEngine(std::move(program).value(), std::move(environment), config));
}

Status TargetEngine::remove_missing(const BindingTable& candidates, const BindingTable& keep) {
    const auto start = Clock::now();
    // Keys first: `candidates` may be written_ itself.
    std::vector<BindingKey> stale;
    for (const auto& [key, target] : candidates)
        if (!keep.contains(key) && written_.contains(key)) stale.push_back(key);
    for (const BindingKey& key : stale) {
        const auto old = written_.find(key);
        if (auto removed = program_.remove(key, old->second); !removed) return removed;
        written_.erase(old);
        mapped_.erase(key);
    }
    map_ns_ += nanoseconds_since(start);
    return ok_status();
}

Status TargetEngine::overlay(const BindingTable& entries) {
    const auto start = Clock::now();
    // Old entries of changed bindings go first, so that a binding whose
    // peer moved leaves no stale reverse entry behind.
    for (const auto& [key, target] : entries)
        if (const auto old = written_.find(key); old != written_.end() && !(old->second == target))
            if (auto removed = program_.remove(key, old->second); !removed) return removed;
    for (const auto& [key, target] : entries) {
        const auto old = written_.find(key);
        if (old != written_.end() && old->second == target) continue;
        written_.insert_or_assign(key, target);
        if (never_made(config_, key, target)) {
            mapped_.erase(key);
            continue;
        }
        if (auto written = program_.write(key, target); !written) return written;
        mapped_.insert_or_assign(key, target);
    }
    map_ns_ += nanoseconds_since(start);
    return ok_status();
}

Status TargetEngine::set_table(const BindingTable& table) {
    if (auto removed = remove_missing(written_, table); !removed) return removed;
    return overlay(table);
}

Status TargetEngine::replace_layer(const BindingTable& previous, const BindingTable& next) {
    if (auto removed = remove_missing(previous, next); !removed) return removed;
    return overlay(next);
}

std::optional<std::vector<std::uint8_t>> TargetEngine::as_the_reference_takes(Bytes frame) const {
    if (!wildcard_to_server_ && !wildcard_to_relay_) return std::nullopt;
    const FrameLayout at = layout_of(frame);
    if (frame.size() < at.udp_at + 4) return std::nullopt;
    // The TURN port is the client's side, keyed by the server address; any
    // other is a peer's, keyed by the relay address.
    const bool to_server = load_be16(frame, at.udp_at + 2) == config_.turn_port;
    if (!(to_server ? wildcard_to_server_ : wildcard_to_relay_)) return std::nullopt;
    return sent_to(frame, program_.host().of(at.ipv6));
}

Status TargetEngine::run(Bytes frame, EngineOutcome& outcome) {
    if (frame.size() < test_run_min_frame || frame.size() > test_run_max_frame)
        return Error{"frame of " + std::to_string(frame.size()) + " bytes is outside what BPF_PROG_TEST_RUN takes (" +
                     std::to_string(test_run_min_frame) + "-" + std::to_string(test_run_max_frame) + ")"};
    outcome.output.resize(frame.size() + test_run_growth_room);
    xdp_md context{};
    LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame.data(), .data_out = outcome.output.data(),
                .data_size_in = static_cast<__u32>(frame.size()),
                .data_size_out = static_cast<__u32>(outcome.output.size()), .repeat = 1);
    if (environment_) {
        context.data_end = static_cast<__u32>(frame.size());
        context.ingress_ifindex = static_cast<__u32>(environment_->ifindex());
        options.ctx_in = &context;
        options.ctx_size_in = sizeof(context);
    }
    if (program_.keeps_reasons()) program_.set_last_reason(no_reason_recorded);
    const auto start = Clock::now();
    int status = 0;
    int error = 0;
    if (environment_) {
        const FibEnvironment::Inside inside(*environment_);
        if (!inside.ok()) return Error{inside.error()};
        status = bpf_prog_test_run_opts(program_.program_fd(), &options);
        error = errno;
    } else {
        status = bpf_prog_test_run_opts(program_.program_fd(), &options);
        error = errno;
    }
    run_ns_ += nanoseconds_since(start);
    ++runs_;
    if (status != 0) return Error{"BPF_PROG_TEST_RUN failed: " + bpf_error_text(error)};
    outcome.output.resize(options.data_size_out);
    outcome.decision.verdict = static_cast<Verdict>(options.retval);
    outcome.reason_known = program_.keeps_reasons();
    if (!outcome.reason_known) return ok_status();
    const auto reason = reason_from_index(program_.last_reason());
    if (!reason) return Error{"the program ended without recording a valid reason"};
    outcome.decision.reason = *reason;
    return ok_status();
}

EngineCost TargetEngine::cost() const {
    return EngineCost{run_ns_, runs_, map_ns_, program_.entries_changed()};
}

EngineFactory target_engines(ProgramSource source) {
    return [source = std::move(source)](const DatapathConfig& config) -> Result<std::unique_ptr<EngineUnderTest>> {
        auto engine = TargetEngine::load(source, config);
        if (!engine) return engine.error();
        return std::unique_ptr<EngineUnderTest>(std::move(engine).value());
    };
}

}  // namespace xdpturn
