// Captures as replay reads them: every link type turned into the Ethernet
// frame the engines take, frames it cannot turn saying why, and pcapng read
// like pcap.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE link_layers
#include <pcap/dlt.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "harness/cases/fixed_cases.hpp"
#include "harness/io/capture_reader.hpp"
#include "harness/io/link_layer.hpp"

using namespace xdpturn;

namespace {

const std::vector<std::uint8_t>& ethernet_frame() {
    return find_fixed_case("relayed/basic")->frame;
}

std::vector<std::uint8_t> network_part() {
    return std::vector<std::uint8_t>(ethernet_frame().begin() + 14, ethernet_frame().end());
}

std::vector<std::uint8_t> convert(int link_type, const std::vector<std::uint8_t>& captured) {
    auto adapter = LinkAdapter::for_link_type(link_type);
    BOOST_TEST_REQUIRE(adapter.ok());
    std::vector<std::uint8_t> scratch;
    auto ethernet = adapter->to_ethernet(captured, scratch);
    BOOST_TEST_REQUIRE(ethernet.ok(), (ethernet.ok() ? "" : ethernet.error().message));
    return {ethernet->begin(), ethernet->end()};
}

void expect_ipv4_payload(const std::vector<std::uint8_t>& converted) {
    BOOST_TEST_REQUIRE(converted.size() == ethernet_frame().size());
    BOOST_TEST(load_be16(converted, 12) == 0x0800);
    BOOST_TEST(std::equal(converted.begin() + 14, converted.end(), ethernet_frame().begin() + 14));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ethernet_frames_pass_through) {
    BOOST_TEST(convert(DLT_EN10MB, ethernet_frame()) == ethernet_frame());
}

BOOST_AUTO_TEST_CASE(linux_cooked_v1_and_v2) {
    std::vector<std::uint8_t> v1 = {0, 0, 0, 1, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0, 0x08, 0x00};
    const auto network = network_part();
    v1.insert(v1.end(), network.begin(), network.end());
    const auto from_v1 = convert(DLT_LINUX_SLL, v1);
    expect_ipv4_payload(from_v1);
    BOOST_TEST(from_v1[6] == 0xaa);  // source MAC from the cooked address

    std::vector<std::uint8_t> v2 = {0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0};
    v2.insert(v2.end(), network.begin(), network.end());
    expect_ipv4_payload(convert(DLT_LINUX_SLL2, v2));
}

BOOST_AUTO_TEST_CASE(raw_ip_and_bsd_loopback) {
    expect_ipv4_payload(convert(DLT_RAW, network_part()));
    std::vector<std::uint8_t> little_endian_family = {2, 0, 0, 0};  // DLT_NULL from an x86 host
    std::vector<std::uint8_t> big_endian_family = {0, 0, 0, 2};
    for (auto header : {little_endian_family, big_endian_family}) {
        const auto network = network_part();
        header.insert(header.end(), network.begin(), network.end());
        expect_ipv4_payload(convert(DLT_NULL, header));
    }
    std::vector<std::uint8_t> ipv6_family = {0, 0, 0, 30};
    ipv6_family.resize(44, 0x60);
    BOOST_TEST(load_be16(convert(DLT_LOOP, ipv6_family), 12) == 0x86DD);
}

BOOST_AUTO_TEST_CASE(unsupported_and_short_frames_say_why) {
    auto unknown = LinkAdapter::for_link_type(147);
    BOOST_TEST_REQUIRE(!unknown.ok());
    BOOST_TEST(unknown.error().message.find("not supported") != std::string::npos);
    auto cooked = LinkAdapter::for_link_type(DLT_LINUX_SLL);
    std::vector<std::uint8_t> scratch;
    BOOST_TEST(!cooked->to_ethernet(std::vector<std::uint8_t>(10, 0), scratch).ok());
    auto null = LinkAdapter::for_link_type(DLT_NULL);
    std::vector<std::uint8_t> unknown_family = {0, 0, 0, 7, 0x45};
    BOOST_TEST(!null->to_ethernet(unknown_family, scratch).ok());
}

namespace {

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// A minimal little-endian pcapng file: Section Header, Interface Description
// (Ethernet) and one Enhanced Packet block per frame.
std::vector<std::uint8_t> pcapng_of(const std::vector<std::vector<std::uint8_t>>& frames) {
    std::vector<std::uint8_t> file;
    put_le32(file, 0x0A0D0D0A);  // SHB
    put_le32(file, 28);
    put_le32(file, 0x1A2B3C4D);  // byte-order magic
    put_le32(file, 0x00000001);  // version 1.0
    put_le32(file, 0xFFFFFFFF);  // section length: unknown
    put_le32(file, 0xFFFFFFFF);
    put_le32(file, 28);
    put_le32(file, 0x00000001);  // IDB
    put_le32(file, 20);
    put_le32(file, 1);  // link type Ethernet, reserved
    put_le32(file, 65535);
    put_le32(file, 20);
    for (const auto& frame : frames) {
        const auto padded = static_cast<std::uint32_t>((frame.size() + 3) & ~std::size_t{3});
        put_le32(file, 0x00000006);  // EPB
        put_le32(file, 32 + padded);
        put_le32(file, 0);  // interface
        put_le32(file, 0);  // timestamp high
        put_le32(file, 1000000);
        put_le32(file, static_cast<std::uint32_t>(frame.size()));
        put_le32(file, static_cast<std::uint32_t>(frame.size()));
        file.insert(file.end(), frame.begin(), frame.end());
        file.resize(file.size() + (padded - frame.size()), 0);
        put_le32(file, 32 + padded);
    }
    return file;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pcapng_files_are_read_like_pcap) {
    const std::string path = std::string(XDPTURN_ARTIFACT_DIR) + "/two-frames.pcapng";
    std::filesystem::create_directories(XDPTURN_ARTIFACT_DIR);
    const auto& relayed = find_fixed_case("relayed/padding_1")->frame;
    {
        std::ofstream out(path, std::ios::binary);
        const auto bytes = pcapng_of({ethernet_frame(), relayed});
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    auto reader = CaptureReader::open(path);
    BOOST_TEST_REQUIRE(reader.ok(), (reader.ok() ? "" : reader.error().message));
    BOOST_TEST(reader->link_type() == DLT_EN10MB);
    for (const auto* expected : {&ethernet_frame(), &relayed}) {
        auto frame = reader->next();
        BOOST_TEST_REQUIRE(frame.ok());
        BOOST_TEST_REQUIRE(frame->has_value());
        BOOST_TEST(std::vector<std::uint8_t>((*frame)->bytes.begin(), (*frame)->bytes.end()) == *expected);
    }
    auto end = reader->next();
    BOOST_TEST(end.ok());
    BOOST_TEST(!end->has_value());
}
