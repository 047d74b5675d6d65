// The fixed-case table: at least one case per row of docs/datapath.md, each
// an input frame, a configuration and binding table, and the expected
// verdict, reason and (for XDP_TX) exact output frame.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "relay/model/bindings.hpp"
#include "relay/model/reason.hpp"
#include "relay/model/reference_model.hpp"

namespace xdpturn {

struct FixedCase {
    std::string name;
    std::string description;
    DatapathConfig config;
    BindingTable bindings;
    std::vector<std::uint8_t> frame;
    Decision expected;
    // For XDP_TX the exact relayed frame; for XDP_PASS the input itself.
    std::vector<std::uint8_t> expected_output;
    // BPF_PROG_TEST_RUN refuses the frame (shorter than an Ethernet header):
    // the XDP side of the case is the harness's clear refusal.
    bool refused_by_test_run = false;
};

const std::vector<FixedCase>& fixed_cases();

// The case with this name; fixed case names are unique.
const FixedCase* find_fixed_case(std::string_view name);

// The configuration and bindings most cases share.
DatapathConfig fixed_case_config();
BindingTable fixed_case_bindings();

}  // namespace xdpturn
