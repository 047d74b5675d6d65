#include "harness/xdp/xdp_attachment.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "harness/xdp/xdp_program.hpp"

namespace xdpturn {

namespace {

// A descriptor closed when it goes out of scope.
struct Descriptor {
    int fd = -1;
    explicit Descriptor(int value) : fd(value) {}
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    ~Descriptor() {
        if (fd >= 0) close(fd);
    }
};

std::string program_name(unsigned id) {
    const Descriptor program(bpf_prog_get_fd_by_id(id));
    if (program.fd < 0) return "";
    bpf_prog_info info{};
    __u32 length = sizeof(info);
    if (bpf_obj_get_info_by_fd(program.fd, &info, &length) != 0) return "";
    return info.name;
}

// The descriptor of the XDP link that holds `ifindex`'s program, or -1.
int link_holding(int ifindex) {
    for (__u32 id = 0; bpf_link_get_next_id(id, &id) == 0;) {
        const int fd = bpf_link_get_fd_by_id(id);
        if (fd < 0) continue;
        bpf_link_info info{};
        __u32 length = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &length) == 0 && info.type == BPF_LINK_TYPE_XDP &&
            static_cast<int>(info.xdp.ifindex) == ifindex)
            return fd;
        close(fd);
    }
    return -1;
}

__u32 mode_flag(const std::string& mode) {
    if (mode == "generic") return XDP_FLAGS_SKB_MODE;
    if (mode == "offloaded") return XDP_FLAGS_HW_MODE;
    return XDP_FLAGS_DRV_MODE;
}

Status detach_occupant(int ifindex, const XdpProgramOnInterface& program) {
    if (program.held_by_link) {
        const Descriptor link(link_holding(ifindex));
        if (link.fd < 0) return Error{"cannot find the BPF link that holds " + program.describe()};
        if (bpf_link_detach(link.fd) != 0)
            return Error{"cannot detach " + program.describe() + ": " + bpf_error_text(errno)};
        return ok_status();
    }
    if (const int error = bpf_xdp_detach(ifindex, mode_flag(program.mode), nullptr); error != 0)
        return Error{"cannot detach " + program.describe() + ": " + bpf_error_text(error)};
    return ok_status();
}

}  // namespace

std::string XdpProgramOnInterface::describe() const {
    return "XDP program " + std::to_string(id) + (name.empty() ? "" : " '" + name + "'") + " (" + mode +
           (held_by_link ? ", held by a BPF link" : "") + ")";
}

Result<std::vector<XdpProgramOnInterface>> xdp_programs_on(int ifindex) {
    bpf_xdp_query_opts query{};
    query.sz = sizeof(query);
    if (const int error = bpf_xdp_query(ifindex, 0, &query); error != 0)
        return Error{"cannot query the XDP programs of interface " + std::to_string(ifindex) + ": " +
                     bpf_error_text(error)};
    std::vector<XdpProgramOnInterface> programs;
    for (const auto& [id, mode] : {std::pair{query.drv_prog_id, "native"}, std::pair{query.skb_prog_id, "generic"},
                                   std::pair{query.hw_prog_id, "offloaded"}})
        if (id != 0) programs.push_back({id, program_name(id), mode, false});
    if (!programs.empty()) {
        // A program attached through a link cannot be detached by the old
        // API: remember which one a link holds.
        const Descriptor link(link_holding(ifindex));
        if (link.fd >= 0) {
            bpf_link_info info{};
            __u32 length = sizeof(info);
            if (bpf_obj_get_info_by_fd(link.fd, &info, &length) == 0)
                for (XdpProgramOnInterface& program : programs) program.held_by_link |= program.id == info.prog_id;
        }
    }
    return programs;
}

namespace {
std::string occupied(const std::string& interface, const XdpProgramOnInterface& program) {
    return interface + " already has " + program.describe() +
           ": a relay that died may have left it, and it would go on relaying; stop its owner, or pass "
           "--xdp-replace to detach it";
}
}  // namespace

std::optional<std::string> xdp_occupant(const std::string& interface) {
    const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) return std::nullopt;
    auto present = xdp_programs_on(ifindex);
    if (!present || present->empty()) return std::nullopt;
    return occupied(interface, present->front());
}

Result<XdpAttachment> XdpAttachment::attach(const std::string& interface, int program_fd, XdpMode mode, bool replace) {
    const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) return Error{"no interface '" + interface + "'"};
    auto present = xdp_programs_on(ifindex);
    if (!present) return present.error();
    for (const XdpProgramOnInterface& program : *present) {
        if (!replace) return Error{occupied(interface, program)};
        if (auto detached = detach_occupant(ifindex, program); !detached) return detached.error();
    }
    bpf_link_create_opts options{};
    options.sz = sizeof(options);
    options.flags = mode == XdpMode::generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    const int link = bpf_link_create(program_fd, ifindex, BPF_XDP, &options);
    if (link < 0) return Error{"cannot attach to " + interface + ": " + bpf_error_text(errno)};
    return XdpAttachment(interface, ifindex, link);
}

XdpAttachment::XdpAttachment(XdpAttachment&& other) noexcept
    : interface_(std::move(other.interface_)), ifindex_(other.ifindex_), link_fd_(std::exchange(other.link_fd_, -1)) {}

XdpAttachment& XdpAttachment::operator=(XdpAttachment&& other) noexcept {
    if (this != &other) {
        if (link_fd_ >= 0) close(link_fd_);
        interface_ = std::move(other.interface_);
        ifindex_ = other.ifindex_;
        link_fd_ = std::exchange(other.link_fd_, -1);
    }
    return *this;
}

Status XdpAttachment::detach() {
    if (link_fd_ < 0) return ok_status();
    const int detached = bpf_link_detach(link_fd_);
    const int error = errno;
    close(std::exchange(link_fd_, -1));
    if (detached != 0) return Error{"cannot detach from " + interface_ + ": " + bpf_error_text(error)};
    return ok_status();
}

// Closing the only descriptor of an unpinned link detaches the program.
XdpAttachment::~XdpAttachment() {
    if (link_fd_ >= 0) close(link_fd_);
}

}  // namespace xdpturn
