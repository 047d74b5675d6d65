// Why replay does not compare a captured frame. The texts are the keys of
// the report's "skipped" counts and of the corpus manifests' expectations.
#pragma once

#include <cstdint>
#include <string>

#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

enum class SkipReason : std::uint8_t {
    none,
    snap_length_cut,        // the capture kept less than the frame
    link_layer,             // the link-layer adapter could not make an Ethernet frame (it says why)
    shorter_than_ethernet,  // BPF_PROG_TEST_RUN refuses it
    larger_than_linear,     // BPF_PROG_TEST_RUN would put part of it in fragments
};

// `detail` is the link-layer adapter's own reason, used for link_layer.
inline std::string skip_text(SkipReason reason, const std::string& detail = {}) {
    switch (reason) {
        case SkipReason::none: return "";
        case SkipReason::snap_length_cut: return "cut by the capture's snap length";
        case SkipReason::link_layer: return detail;
        case SkipReason::shorter_than_ethernet: return "shorter than an Ethernet header";
        case SkipReason::larger_than_linear:
            return "larger than BPF_PROG_TEST_RUN takes linear (" + std::to_string(test_run_max_frame) + " bytes)";
    }
    return "?";
}

}  // namespace xdpturn
