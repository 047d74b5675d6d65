// An XDP program attached to an interface through a BPF link that this
// process holds (BPF_LINK_CREATE). The kernel detaches the program when the
// last descriptor of the link closes, so the offload dies with the process
// however the process dies: SIGKILL included. The relay's fast path can
// never outlive the TURN state that feeds its maps.
//
// Before attaching, it looks for a program already on the interface, in any
// mode: one left by a relay that died under the old attach API (or anyone
// else's) would keep relaying for allocations nobody holds any more. Such a
// program is refused, named, unless the caller asks to replace it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "relay/net/result.hpp"

namespace xdpturn {

enum class XdpMode { native, generic };

// The XDP program on an interface, as the kernel reports it.
struct XdpProgramOnInterface {
    unsigned id = 0;
    std::string name;
    std::string mode;  // "native", "generic" or "offloaded"
    bool held_by_link = false;
    std::string describe() const;
};

// The programs on `ifindex`, in any mode (none: empty).
Result<std::vector<XdpProgramOnInterface>> xdp_programs_on(int ifindex);

// Why `interface` cannot take a new program without --xdp-replace: the
// program already there, named; nothing when it has none (or does not
// exist: attaching says so).
std::optional<std::string> xdp_occupant(const std::string& interface);

class XdpAttachment {
  public:
    // Attaches `program_fd` to `interface`. A program already there is an
    // error that names it, unless `replace`: then it is detached first
    // (through its link when a link holds it).
    static Result<XdpAttachment> attach(const std::string& interface, int program_fd, XdpMode mode, bool replace);

    XdpAttachment(XdpAttachment&& other) noexcept;
    XdpAttachment& operator=(XdpAttachment&& other) noexcept;
    XdpAttachment(const XdpAttachment&) = delete;
    XdpAttachment& operator=(const XdpAttachment&) = delete;
    ~XdpAttachment();

    // Detaches the program now (BPF_LINK_DETACH), not whenever the kernel
    // releases the link: for a caller that puts another program on the
    // interface next.
    Status detach();

    int ifindex() const { return ifindex_; }
    const std::string& interface() const { return interface_; }

  private:
    XdpAttachment(std::string interface, int ifindex, int link_fd)
        : interface_(std::move(interface)), ifindex_(ifindex), link_fd_(link_fd) {}
    std::string interface_;
    int ifindex_ = 0;
    int link_fd_ = -1;
};

}  // namespace xdpturn
