// Checks what a live XDP program did, from a capture taken on the far side
// of its link: there each frame sent to the relay is followed by what the
// program made of it. For every frame the reference model would relay, the
// exact output frame must appear later in the capture, on its own flow (the
// output's addresses and ports); the next frame on that flow that could be
// such an output is compared with it byte for byte. Frames the reference
// passes to user space cannot be checked this way: what user space did with
// them is not the program's doing.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include <memory>
#include <optional>

#include "harness/compare/conformance.hpp"
#include "relay/model/reference_model.hpp"

namespace xdpturn {

struct LiveOutcome {
    enum class Kind { matched, differed, missing };
    Kind kind = Kind::matched;
    std::uint32_t capture = 0;      // of the input
    std::uint64_t input_index = 0;  // frame index of the input in its capture
    Decision reference;
    std::string explanation;  // for differed and missing
    // A target's output (matched or differed): its class.
    std::optional<Conformance> conformance;
};

class LiveVerifier {
  public:
    // Expected outputs kept at most; beyond, new ones are given up (memory stays flat).
    static constexpr std::size_t max_pending = 65536;

    explicit LiveVerifier(DatapathConfig config) : config_(config) {}
    // A live program that is not ours: each output is judged by the
    // conformance oracle as its description says (TTL, padding, the
    // checksum policy), not byte for byte. The link layer is judged only
    // for a target that forwards with XDP_TX: otherwise the route chose the
    // MACs, which the capture cannot tell.
    LiveVerifier(DatapathConfig config, std::shared_ptr<const TargetDescription> target, bool strict_checksums);

    // Feeds the capture's frames in order: first as a possible output of an
    // earlier input, then as an input under `table`. Appends what it settles.
    // With `judge` false the frame is only looked at as a possible output:
    // its own fate cannot be told from the capture (a ChannelBind for it in
    // flight).
    void observe(Bytes frame, std::uint32_t capture, std::uint64_t index, const BindingTable& table,
                 std::vector<LiveOutcome>& settled, bool judge = true);
    // The end of the capture: what is still expected never came.
    void finish(std::vector<LiveOutcome>& settled);

    const ReasonTally& reference() const { return reference_; }
    std::uint64_t expected() const { return expected_; }
    std::uint64_t given_up() const { return given_up_; }
    std::uint64_t not_judged() const { return not_judged_; }

  private:
    struct Expected {
        std::uint32_t capture;
        std::uint64_t input_index;
        Decision reference;
        std::vector<std::uint8_t> output;
    };
    // IPv4 source and destination, UDP source and destination port.
    struct FlowKey {
        Endpoint source, destination;
        friend bool operator==(const FlowKey&, const FlowKey&) = default;
    };
    struct FlowHash {
        std::size_t operator()(const FlowKey& key) const noexcept;
    };
    static bool flow_of(Bytes frame, FlowKey& key);
    bool could_be_output(const Expected& expected, Bytes frame) const;
    void settle_as_output(Bytes frame, std::vector<LiveOutcome>& settled);
    void judge_as_target(const Expected& expected, Bytes frame, LiveOutcome& outcome) const;

    DatapathConfig config_;
    std::shared_ptr<const TargetDescription> target_;  // with forwarding XDP_TX, for the oracle
    bool target_link_judged_ = true;
    bool strict_checksums_ = false;
    std::unordered_map<FlowKey, std::deque<Expected>, FlowHash> pending_;
    std::size_t pending_count_ = 0;
    ReasonTally reference_;
    std::uint64_t expected_ = 0;
    std::uint64_t given_up_ = 0;
    std::uint64_t not_judged_ = 0;
    std::vector<std::uint8_t> output_;
};

}  // namespace xdpturn
