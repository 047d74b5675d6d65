#include "harness/cli/relay_offload.hpp"

#include <net/if.h>

#include <iostream>

#include "harness/foreign/target_program.hpp"
#include "harness/foreign/target_sync.hpp"
#include "harness/xdp/map_sync.hpp"
#include "harness/xdp/xdp_program.hpp"
#include "relay/turn/event_log.hpp"

namespace xdpturn::cli {

namespace {

void log_reasons(const ReasonTally& counters) {
    nlohmann::json reasons = nlohmann::json::object();
    for (Reason reason : all_reasons) reasons[std::string(name(reason))] = counters[reason];
    turn::log_event(std::cout, {{"event", "xdp_counters"},
                                {"relayed", counters[Reason::relayed]},
                                {"encapsulated", counters[Reason::encapsulated]},
                                {"reasons", reasons}});
}

// The offload made from its loaded program, then attached: the link goes
// with the offload.
template <class Offload, class Program>
Result<std::unique_ptr<RelayOffload>> attached(Program program, const OffloadRequest& request) {
    auto offload = std::make_unique<Offload>(std::move(program));
    auto attachment = XdpAttachment::attach(request.interface, offload->program_fd(), request.mode, request.replace);
    if (!attachment) return attachment.error();
    offload->attachment = std::move(attachment).value();
    return std::unique_ptr<RelayOffload>(std::move(offload));
}

// Our program, its two maps kept by MapSync.
class OurOffload final : public RelayOffload {
  public:
    static Result<std::unique_ptr<RelayOffload>> attach(const OffloadRequest& request) {
        auto program = XdpProgram::load(request.object, request.datapath);
        if (!program) return program.error();
        return attached<OurOffload>(std::move(program).value(), request);
    }
    explicit OurOffload(XdpProgram program) : program_(std::move(program)), sync_(program_) {}
    int program_fd() const { return program_.program_fd(); }

    Status sync(const std::vector<turn::BindingEvent>& events) override {
        const std::size_t held_before = sync_.held_back().size();
        auto synced = sync_.apply_changes(turn::binding_changes(events));
        if (sync_.held_back().size() != held_before)
            turn::log_event(std::cerr, {{"event", "xdp_map_full"},
                                        {"capacity", sync_.capacity()},
                                        {"held_in_user_space", sync_.held_back().size()},
                                        {"held_back_total", sync_.held_back_count()}});
        return synced;
    }
    void log_counters() const override {
        if (auto counters = program_.read_counters()) log_reasons(*counters);
    }

  private:
    XdpProgram program_;
    MapSync sync_;

  public:
    // Last, so that it goes first: the program leaves the interface before
    // its maps and descriptors close.
    std::optional<XdpAttachment> attachment;
};

// A target, loaded and written as its description says, with the
// interface it is attached to as its interface (interface.index).
class TargetOffload final : public RelayOffload {
  public:
    static Result<std::unique_ptr<RelayOffload>> attach(const OffloadRequest& request) {
        const TargetDescription& description = *request.target;
        const std::optional<std::string> object = request.object ? request.object : description.object;
        if (!object) return Error{description.path + " names no object; give one with --xdp-object"};
        const unsigned ifindex = if_nametoindex(request.interface.c_str());
        if (ifindex == 0) return Error{"no interface '" + request.interface + "'"};
        auto program =
            TargetProgram::load(description, *object, request.datapath, request.host, static_cast<int>(ifindex));
        if (!program) return program.error();
        return attached<TargetOffload>(std::move(program).value(), request);
    }
    explicit TargetOffload(TargetProgram program) : program_(std::move(program)), sync_(program_) {}
    int program_fd() const { return program_.program_fd(); }

    Status sync(const std::vector<turn::BindingEvent>& events) override {
        return sync_.apply_changes(turn::binding_changes(events));
    }
    void log_counters() const override {
        if (program_.keeps_reasons())
            if (auto counters = program_.read_counters()) log_reasons(*counters);
    }

  private:
    TargetProgram program_;
    TargetSync sync_;

  public:
    // Last, so that it goes first: the program leaves the interface before
    // its maps and descriptors close.
    std::optional<XdpAttachment> attachment;
};

}  // namespace

Result<std::unique_ptr<RelayOffload>> attach_relay_offload(const OffloadRequest& request) {
    return request.target ? TargetOffload::attach(request) : OurOffload::attach(request);
}

}  // namespace xdpturn::cli
