// libFuzzer target: the capture reader and what replay does with each frame
// (link conversion, checksum classification and repair, binding learning).
// Input: a pcap or pcapng file. No crash, no read out of bounds; errors
// come back as errors.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "harness/io/capture_reader.hpp"
#include "harness/io/link_layer.hpp"
#include "harness/replay/binding_learner.hpp"
#include "harness/replay/checksum_offload.hpp"

using namespace xdpturn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // libpcap reads files: hand it the input as an in-memory one.
    const int fd = memfd_create("capture", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != static_cast<ssize_t>(size)) {
        close(fd);
        return 0;
    }
    auto reader = CaptureReader::open("/proc/self/fd/" + std::to_string(fd));
    close(fd);
    if (!reader) return 0;
    auto adapter = LinkAdapter::for_link_type(reader->link_type());
    if (!adapter) return 0;
    BindingLearner learner(3478, {});
    std::vector<std::uint8_t> scratch;
    for (int frames = 0; frames < 1000; ++frames) {
        auto frame = reader->next();
        if (!frame || !*frame) break;
        auto ethernet = adapter->to_ethernet((*frame)->bytes, scratch);
        if (!ethernet) continue;
        std::vector<std::uint8_t> bytes(ethernet->begin(), ethernet->end());
        (void)classify_udp_checksum(bytes);
        (void)repair_udp_checksum(bytes);
        (void)learner.observe(bytes, (*frame)->timestamp_us);
    }
    return 0;
}
