// The sink as an XDP program on the load side's interface
// (bpf/bench/datapath_sink.bpf.c): it checks and counts in the kernel what
// the relay delivers and drops it there, so that the sink costs a fraction
// of what the relay does and never limits what is measured.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "harness/datapath/flows.hpp"
#include "harness/datapath/sink.hpp"
#include "harness/xdp/xdp_attachment.hpp"

struct datapath_sink_bpf;

namespace xdpturn::datapath {

class XdpSink final : public Sink {
  public:
    // Loaded, its maps filled; attached by start() in native mode, through
    // a BPF link, to `interface`, in place of the program there, which
    // stop() puts back.
    static Result<std::unique_ptr<XdpSink>> open(const std::string& interface, std::span<const Flow> flows,
                                                 std::size_t payload_bytes);
    ~XdpSink() override;
    Status start() override;
    void stop() override;
    Result<StepTally> tally(std::size_t step) const override;
    // For tests that run it with BPF_PROG_TEST_RUN instead of attaching it.
    int program_fd() const;

  private:
    XdpSink() = default;
    datapath_sink_bpf* skeleton_ = nullptr;
    std::string interface_;
    int ifindex_ = 0;
    std::uint32_t previous_program_ = 0;  // the id of what was attached before
    std::optional<XdpAttachment> attachment_;
};

}  // namespace xdpturn::datapath
