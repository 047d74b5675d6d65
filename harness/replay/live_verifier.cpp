#include "harness/replay/live_verifier.hpp"

#include "harness/compare/comparator.hpp"
#include "harness/frames/udp_view.hpp"

namespace xdpturn {

LiveVerifier::LiveVerifier(DatapathConfig config, std::shared_ptr<const TargetDescription> target,
                           bool strict_checksums)
    : config_(config), strict_checksums_(strict_checksums) {
    if (!target) return;
    target_link_judged_ = target->forwarding == Forwarding::tx;
    // The oracle then expects the relay's MACs, which are put in the output
    // where the route chose them.
    TargetDescription judged = *target;
    judged.forwarding = Forwarding::tx;
    judged.fib_failure_passes_rewritten = false;
    target_ = std::make_shared<const TargetDescription>(std::move(judged));
}

void LiveVerifier::judge_as_target(const Expected& expected, Bytes frame, LiveOutcome& outcome) const {
    EngineOutcome reference;
    reference.decision = expected.reference;
    reference.output = expected.output;
    EngineOutcome live;
    live.decision = Decision{Verdict::tx, expected.reference.reason};
    live.output.assign(frame.begin(), frame.end());
    if (!target_link_judged_ && live.output.size() >= 12 && expected.output.size() >= 12)
        std::copy_n(expected.output.begin(), 12, live.output.begin());
    // No input: the oracle reads it only for frames the relay does not relay
    // and for the test run's limits, which a live frame never met.
    const ConformanceInput input{config_, {}, reference, live, *target_, nullptr, nullptr};
    const ConformanceVerdict verdict = judge_conformance(input);
    outcome.conformance = verdict.conformance;
    if (!is_defect(verdict.conformance, strict_checksums_)) return;
    outcome.kind = LiveOutcome::Kind::differed;
    outcome.explanation = "the live program's output for frame " + std::to_string(expected.input_index) + " (" +
                          to_string(expected.reference) + ") is " + std::string(name(verdict.conformance)) + ": " +
                          verdict.detail;
}

std::size_t LiveVerifier::FlowHash::operator()(const FlowKey& key) const noexcept {
    const std::uint64_t ports = (std::uint64_t{key.source.port} << 16) | key.destination.port;
    return hash_value(key.source.address) ^ (hash_value(key.destination.address) * 31) ^
           (ports * 0x9E3779B97F4A7C15ull);
}

// Only UDP frames of either family can be the program's output.
bool LiveVerifier::flow_of(Bytes frame, FlowKey& key) {
    const auto udp = find_udp(frame);
    if (!udp) return false;
    key = FlowKey{udp->source, udp->destination};
    return true;
}

// The relay's user space also answers clients on the TURN port's flow (STUN
// responses, Data indications): only ChannelData there can be the program's
// output. From an allocation port to a peer, anything can.
bool LiveVerifier::could_be_output(const Expected& expected, Bytes frame) const {
    if (expected.reference.reason != Reason::encapsulated) return true;
    const auto udp = find_udp(frame);
    return udp && !udp->payload.empty() && udp->payload[0] >= 0x40 && udp->payload[0] <= 0x7F;
}

void LiveVerifier::settle_as_output(Bytes frame, std::vector<LiveOutcome>& settled) {
    FlowKey key;
    if (!flow_of(frame, key)) return;
    const auto flow = pending_.find(key);
    if (flow == pending_.end() || flow->second.empty() || !could_be_output(flow->second.front(), frame)) return;
    Expected expected = std::move(flow->second.front());
    flow->second.pop_front();
    --pending_count_;
    if (flow->second.empty()) pending_.erase(flow);
    LiveOutcome outcome{LiveOutcome::Kind::matched, expected.capture, expected.input_index, expected.reference, {}, {}};
    if (target_) {
        judge_as_target(expected, frame, outcome);
    } else if (!std::equal(frame.begin(), frame.end(), expected.output.begin(), expected.output.end())) {
        outcome.kind = LiveOutcome::Kind::differed;
        outcome.explanation =
            "the live program's output for frame " + std::to_string(expected.input_index) + " (" +
            to_string(expected.reference) + ") differs from the reference's:\n" +
            compare_frames(expected.output, frame, DissectOptions{config_.turn_port}).render("reference", "live");
    }
    settled.push_back(std::move(outcome));
}

void LiveVerifier::observe(Bytes frame, std::uint32_t capture, std::uint64_t index, const BindingTable& table,
                           std::vector<LiveOutcome>& settled, bool judge) {
    settle_as_output(frame, settled);
    if (!judge) {
        ++not_judged_;
        return;
    }

    const ReferenceModel model(config_, table);
    const Decision decision = model.decide(frame, output_);
    reference_.add(decision.reason);
    if (decision.verdict != Verdict::tx) return;
    FlowKey key;
    if (!flow_of(output_, key)) return;
    ++expected_;
    // Too many outstanding (a capture of one direction only, say): later
    // expectations are given up, not judged, so memory stays flat.
    if (pending_count_ >= max_pending) {
        ++given_up_;
        return;
    }
    pending_[key].push_back(Expected{capture, index, decision, output_});
    ++pending_count_;
}

void LiveVerifier::finish(std::vector<LiveOutcome>& settled) {
    for (auto& [key, queue] : pending_)
        for (Expected& expected : queue)
            settled.push_back(LiveOutcome{LiveOutcome::Kind::missing, expected.capture, expected.input_index,
                                          expected.reference,
                                          "frame " + std::to_string(expected.input_index) + ": the reference decided " +
                                              to_string(expected.reference) +
                                              ", but no such output appears in the capture: the live program "
                                              "did not relay it",
                                          std::nullopt});
    pending_.clear();
    pending_count_ = 0;
}

}  // namespace xdpturn
