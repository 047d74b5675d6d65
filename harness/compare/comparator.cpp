#include "harness/compare/comparator.hpp"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

namespace xdpturn {

namespace {

constexpr std::size_t hexdump_context = 16;

const FrameField* find_field(const Dissection& dissection, const std::string& name) {
    for (const FrameField& field : dissection.fields)
        if (field.name == name) return &field;
    return nullptr;
}

std::string describe(const FrameField* field, Bytes frame) {
    return field == nullptr ? std::string("(absent)") : render_field(*field, frame);
}

}  // namespace

std::string hexdump(Bytes bytes, std::size_t from, std::size_t count) {
    std::string text;
    char cell[32];
    const std::size_t end = std::min(bytes.size(), from + count);
    for (std::size_t line = from - from % 16; line < end; line += 16) {
        std::snprintf(cell, sizeof(cell), "%04zx ", line);
        text += cell;
        for (std::size_t i = line; i < line + 16 && i < end; ++i) {
            if (i < from) {
                text += "   ";
                continue;
            }
            std::snprintf(cell, sizeof(cell), " %02x", bytes[i]);
            text += cell;
        }
        text += '\n';
    }
    return text.empty() ? std::string("(no bytes)\n") : text;
}

FrameDiff compare_frames(Bytes expected, Bytes actual, const DissectOptions& options) {
    FrameDiff diff;
    const Dissection left = dissect(expected, options);
    const Dissection right = dissect(actual, options);

    // Named fields, in the order of the expected frame, then any extra
    // fields the actual frame has.
    std::unordered_set<std::string> seen;
    auto compare_field = [&](const std::string& name) {
        if (!seen.insert(name).second) return;
        const FrameField* a = find_field(left, name);
        const FrameField* b = find_field(right, name);
        const bool same = a != nullptr && b != nullptr && a->length == b->length &&
                          std::equal(expected.begin() + static_cast<std::ptrdiff_t>(a->offset),
                                     expected.begin() + static_cast<std::ptrdiff_t>(a->offset + a->length),
                                     actual.begin() + static_cast<std::ptrdiff_t>(b->offset));
        if (!same) diff.differences.push_back({name, describe(a, expected), describe(b, actual)});
    };
    for (const FrameField& field : left.fields) compare_field(field.name);
    for (const FrameField& field : right.fields) compare_field(field.name);

    const Bytes left_payload = expected.subspan(std::min(left.payload_offset, expected.size()));
    const Bytes right_payload = actual.subspan(std::min(right.payload_offset, actual.size()));
    const auto [left_end, right_end] =
        std::mismatch(left_payload.begin(), left_payload.end(), right_payload.begin(), right_payload.end());
    if (left_end != left_payload.end() || right_end != right_payload.end()) {
        const auto offset = static_cast<std::size_t>(left_end - left_payload.begin());
        const std::size_t from = offset - std::min(offset, hexdump_context / 2);
        diff.differences.push_back({"payload",
                                    "first difference at payload offset " + std::to_string(offset) + " of " +
                                        std::to_string(left_payload.size()) + " bytes\n" +
                                        hexdump(left_payload, from, hexdump_context * 2),
                                    "payload of " + std::to_string(right_payload.size()) + " bytes\n" +
                                        hexdump(right_payload, from, hexdump_context * 2)});
    }
    if (expected.size() != actual.size())
        diff.differences.push_back({"frame.length", std::to_string(expected.size()), std::to_string(actual.size())});
    return diff;
}

std::string FrameDiff::render(const std::string& expected_label, const std::string& actual_label) const {
    if (differences.empty()) return "frames are equal\n";
    std::size_t width = std::max(expected_label.size(), actual_label.size());
    std::string text;
    for (const FieldDifference& difference : differences) {
        text += "  " + difference.field + ":\n";
        auto line = [&](const std::string& label, const std::string& value) {
            std::string indented;
            for (char c : value)
                indented += c == '\n' ? std::string("\n") + std::string(width + 8, ' ') : std::string(1, c);
            while (!indented.empty() && (indented.back() == ' ' || indented.back() == '\n')) indented.pop_back();
            text += "    " + label + std::string(width - label.size(), ' ') + ": " + indented + "\n";
        };
        line(expected_label, difference.expected);
        line(actual_label, difference.actual);
    }
    return text;
}

}  // namespace xdpturn
