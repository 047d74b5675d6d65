// The relay's XDP offload: a program attached to an interface for the life of
// the relay, through a BPF link this process holds (the kernel detaches it
// when the process dies, however it dies), with its maps following the TURN
// core's bindings one change at a time. The program is ours (MapSync) or a
// target, a program that is not ours, whose maps are written through its
// description (TargetSync, docs/targets.md).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/foreign/fib_environment.hpp"
#include "harness/foreign/target_description.hpp"
#include "harness/xdp/xdp_attachment.hpp"
#include "relay/model/bindings.hpp"
#include "relay/net/result.hpp"
#include "relay/turn/turn_core.hpp"

namespace xdpturn::cli {

class RelayOffload {
  public:
    virtual ~RelayOffload() = default;
    // One map operation per change, whatever the table's size.
    virtual Status sync(const std::vector<turn::BindingEvent>& events) = 0;
    // Logs the program's reason counters, where it keeps ours.
    virtual void log_counters() const = 0;
};

struct OffloadRequest {
    std::string interface;
    XdpMode mode = XdpMode::native;
    bool replace = false;
    std::optional<std::string> object;                // --xdp-object
    std::shared_ptr<const TargetDescription> target;  // --target
    DatapathConfig datapath;
    // A target's host addresses: what its maps hold as the server's and
    // the relay's address.
    HostAddresses host;
};

// The offload attached, or why not.
Result<std::unique_ptr<RelayOffload>> attach_relay_offload(const OffloadRequest& request);

}  // namespace xdpturn::cli
