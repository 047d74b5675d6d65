#include "harness/datapath/xdp_sink.hpp"

#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath_sink.skel.h"
#include "harness/xdp/bpf_object_tools.hpp"

namespace xdpturn::datapath {

namespace {

datapath_expected expected_of(const Flow& flow) {
    datapath_expected expected{};
    std::copy_n(flow.delivered_from.address.begin(), 4, expected.source);
    std::copy_n(flow.delivered_to.address.begin(), 4, expected.destination);
    expected.source_port = htobe16(flow.delivered_from.port);
    expected.destination_port = htobe16(flow.delivered_to.port);
    const bool to_client = flow.direction == Direction::to_client;
    expected.channel = to_client ? htobe16(flow.channel) : 0;
    expected.direction = to_client ? 1 : 0;
    return expected;
}

}  // namespace

Result<std::unique_ptr<XdpSink>> XdpSink::open(const std::string& interface, std::span<const Flow> flows,
                                               std::size_t payload_bytes) {
    if (flows.size() > DATAPATH_MAX_FLOWS)
        return Error{"the XDP sink takes at most " + std::to_string(DATAPATH_MAX_FLOWS) + " flows"};
    const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (ifindex == 0) return Error{"no interface '" + interface + "' in this namespace"};
    auto sink = std::unique_ptr<XdpSink>(new XdpSink());
    sink->interface_ = interface;
    sink->ifindex_ = ifindex;
    sink->skeleton_ = datapath_sink_bpf__open();
    if (!sink->skeleton_) return Error{"cannot open the sink's BPF object"};
    if (auto loaded = load_object(sink->skeleton_->obj, "the sink"); !loaded) return loaded.error();
    const std::uint32_t zero = 0;
    const datapath_sink_config config{static_cast<__u32>(flows.size()), static_cast<__u32>(payload_bytes)};
    if (bpf_map_update_elem(bpf_map__fd(sink->skeleton_->maps.sink_config), &zero, &config, BPF_ANY) != 0)
        return Error{std::string("cannot configure the sink: ") + std::strerror(errno)};
    for (const Flow& flow : flows) {
        const datapath_expected expected = expected_of(flow);
        if (bpf_map_update_elem(bpf_map__fd(sink->skeleton_->maps.expected), &flow.id, &expected, BPF_ANY) != 0)
            return Error{std::string("cannot write the sink's flows: ") + std::strerror(errno)};
    }
    return sink;
}

XdpSink::~XdpSink() {
    stop();
    datapath_sink_bpf__destroy(skeleton_);
}

Status XdpSink::start() {
    __u32 previous = 0;
    if (bpf_xdp_query_id(ifindex_, XDP_FLAGS_DRV_MODE, &previous) == 0) previous_program_ = previous;
    auto attached = XdpAttachment::attach(interface_, program_fd(), XdpMode::native, true);
    if (!attached) return Error{"cannot attach the sink: " + attached.error().message};
    attachment_.emplace(std::move(attached).value());
    return ok_status();
}

// The sink's link is detached at once, then the program that was there
// (the veth peer's XDP_PASS, attached the old way) is put back.
void XdpSink::stop() {
    if (!attachment_) return;
    (void)attachment_->detach();  // failing, the link's close below still detaches it
    attachment_.reset();
    const int previous = previous_program_ != 0 ? bpf_prog_get_fd_by_id(previous_program_) : -1;
    if (previous >= 0) {
        bpf_xdp_attach(ifindex_, previous, XDP_FLAGS_DRV_MODE, nullptr);
        close(previous);
    }
}

int XdpSink::program_fd() const {
    return bpf_program__fd(skeleton_->progs.datapath_sink);
}

Result<StepTally> XdpSink::tally(std::size_t step) const {
    const auto key = static_cast<std::uint32_t>(step);
    auto counts = std::make_unique<datapath_tally>();
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.tallies), &key, counts.get()) != 0)
        return Error{"cannot read the sink's step " + std::to_string(step) + ": " + std::strerror(errno)};
    StepTally tally;
    tally.delivered = {counts->delivered[0], counts->delivered[1]};
    tally.duplicates = counts->duplicates;
    tally.reordered = counts->reordered;
    tally.corrupt = counts->corrupt;
    tally.wrong_flow = counts->wrong_flow;
    tally.late = counts->late;
    const std::vector<std::uint64_t> buckets(std::begin(counts->delay), std::end(counts->delay));
    tally.delay = DelayHistogram::from_buckets(buckets, counts->delay_max);
    return tally;
}

}  // namespace xdpturn::datapath
