// libFuzzer target: the ChannelData rules and the frame-level reference
// model. Input: one configuration byte, then an Ethernet frame. The frame's
// own key is bound, as a client's (source, port, channel) or, with bit 2 of
// the configuration byte, as a peer's (source, port, destination port), so
// both relay paths are reachable; bit 4 gives the relay an address of each
// family and bit 5 binds the key across families (4<->6). Invariants: no
// crash; XDP_PASS builds no output; every XDP_TX output is valid by the
// independent validator.
#include <cstdlib>
#include <iostream>

#include "differential_input.hpp"
#include "harness/frames/frame_validator.hpp"
#include "relay/model/channel_data.hpp"
#include "relay/model/reference_model.hpp"

using namespace xdpturn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    DatapathConfig config;
    config.channels = (data[0] & 1) ? rfc5766_channels : rfc8656_channels;
    config.turn_port = (data[0] & 2) ? 443 : 3478;
    fuzz::configure_relay_addresses(config, data[0] & 16);
    const Bytes frame(data + 1, size - 1);

    BindingTable bindings;
    if (const auto own = fuzz::own_binding(frame, data[0] & 4, data[0] & 32)) bindings.insert(*own);
    const ReferenceModel model(config, bindings);
    std::vector<std::uint8_t> relayed;
    const Decision decision = model.decide(frame, relayed);
    if (decision.verdict == Verdict::pass && !relayed.empty()) std::abort();
    if (decision.verdict == Verdict::tx) {
        if (auto problem = validate_output(frame, relayed, decision.reason)) {
            std::cerr << "invalid " << name(decision.reason) << " frame: " << *problem << "\n";
            std::abort();
        }
    }
    if (const auto udp = find_udp(frame)) (void)parse_channel_data(udp->payload, config.channels);
    return 0;
}
