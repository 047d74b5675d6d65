// Compares two frames and explains the difference field by field: Ethernet,
// IPv4, UDP and ChannelData fields by name, then the first differing payload
// offset with a short hexdump of both sides.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness/frames/dissect.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

struct FieldDifference {
    std::string field;  // a FrameField name, "payload" or "frame.length"
    std::string expected;
    std::string actual;
};

struct FrameDiff {
    std::vector<FieldDifference> differences;  // empty when the frames are equal
    bool equal() const { return differences.empty(); }
    std::string render(const std::string& expected_label = "expected",
                       const std::string& actual_label = "actual") const;
};

FrameDiff compare_frames(Bytes expected, Bytes actual, const DissectOptions& options);

// A classic 16-bytes-a-line hexdump of bytes [from, from + count).
std::string hexdump(Bytes bytes, std::size_t from, std::size_t count);

}  // namespace xdpturn
