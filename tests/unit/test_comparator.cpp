// The comparator must name the field that differs: one wrong byte in each
// header field of a relayed frame and of an arriving ChannelData frame.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE comparator
#include <boost/test/unit_test.hpp>

#include "harness/cases/fixed_cases.hpp"
#include "harness/compare/comparator.hpp"
#include "harness/frames/frame_builder.hpp"

using namespace xdpturn;

namespace {

const FixedCase& find_case(const std::string& name) {
    const FixedCase* found = find_fixed_case(name);
    if (found == nullptr) throw std::runtime_error("no fixed case " + name);
    return *found;
}

void expect_each_field_named(const std::vector<std::uint8_t>& frame, const DissectOptions& options,
                             std::size_t expected_field_count) {
    const Dissection fields = dissect(frame, options);
    BOOST_TEST(fields.fields.size() == expected_field_count);
    for (const FrameField& field : fields.fields) {
        for (std::size_t byte = 0; byte < field.length; ++byte) {
            BOOST_TEST_CONTEXT(field.name << " byte " << byte) {
                std::vector<std::uint8_t> wrong = frame;
                wrong[field.offset + byte] ^= 0x10;
                const FrameDiff diff = compare_frames(frame, wrong, options);
                BOOST_TEST_REQUIRE(!diff.equal());
                BOOST_TEST(diff.differences.front().field == field.name);
                BOOST_TEST(diff.render().find(field.name) != std::string::npos);
            }
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(equal_frames_compare_equal) {
    const auto& c = find_case("relayed/basic");
    BOOST_TEST(compare_frames(c.expected_output, c.expected_output, {}).equal());
    BOOST_TEST(compare_frames(c.expected_output, c.expected_output, {}).render() == "frames are equal\n");
}

BOOST_AUTO_TEST_CASE(every_header_field_of_a_relayed_frame_is_named) {
    // Ethernet 3 + IPv4 10 + UDP 4 fields.
    expect_each_field_named(find_case("relayed/basic").expected_output, DissectOptions{3478}, 17);
}

BOOST_AUTO_TEST_CASE(every_header_field_of_a_channel_data_frame_is_named) {
    // ... plus ChannelData number and length.
    expect_each_field_named(find_case("relayed/basic").frame, DissectOptions{3478}, 19);
}

BOOST_AUTO_TEST_CASE(ipv4_options_are_a_field) {
    const auto& frame = find_case("ipv4_options/ihl6_nops").frame;
    std::vector<std::uint8_t> wrong = frame;
    wrong[14 + 21] ^= 1;
    const FrameDiff diff = compare_frames(frame, wrong, DissectOptions{3478});
    BOOST_TEST_REQUIRE(diff.differences.size() == 1u);
    BOOST_TEST(diff.differences[0].field == "ipv4.options");
}

BOOST_AUTO_TEST_CASE(payload_difference_gives_offset_and_hexdump) {
    const auto& frame = find_case("relayed/basic").expected_output;
    std::vector<std::uint8_t> wrong = frame;
    wrong[42 + 13] ^= 0xFF;
    const FrameDiff diff = compare_frames(frame, wrong, DissectOptions{3478});
    BOOST_TEST_REQUIRE(diff.differences.size() == 1u);
    BOOST_TEST(diff.differences[0].field == "payload");
    BOOST_TEST(diff.differences[0].expected.find("payload offset 13 of 20 bytes") != std::string::npos);
    char byte[8];
    std::snprintf(byte, sizeof(byte), " %02x", wrong[42 + 13]);
    BOOST_TEST(diff.differences[0].actual.find(byte) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(extra_bytes_show_as_payload_and_length) {
    const auto& frame = find_case("relayed/basic").expected_output;
    std::vector<std::uint8_t> longer = frame;
    longer.push_back(0xAB);
    const FrameDiff diff = compare_frames(frame, longer, DissectOptions{3478});
    BOOST_TEST_REQUIRE(diff.differences.size() == 2u);
    BOOST_TEST(diff.differences[0].field == "payload");
    BOOST_TEST(diff.differences[0].expected.find("payload offset 20 of 20 bytes") != std::string::npos);
    BOOST_TEST(diff.differences[1].field == "frame.length");
}

BOOST_AUTO_TEST_CASE(fields_render_for_people) {
    const auto& frame = find_case("relayed/basic").expected_output;
    const Dissection fields = dissect(frame, {});
    auto rendered = [&](const std::string& field) {
        for (const FrameField& f : fields.fields)
            if (f.name == field) return render_field(f, frame);
        return std::string("missing");
    };
    BOOST_TEST(rendered("ipv4.destination") == "203.0.113.9");
    BOOST_TEST(rendered("udp.source_port") == "49152 (0xc000)");
    BOOST_TEST(rendered("eth.destination") == "02:00:00:00:00:02");
}
