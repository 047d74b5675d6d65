#include "harness/io/pcapng_out.hpp"

#include <cerrno>
#include <cstring>

namespace xdpturn {

namespace {

constexpr std::uint32_t section_header_block = 0x0A0D0D0A;
constexpr std::uint32_t interface_description_block = 1;
constexpr std::uint32_t enhanced_packet_block = 6;
constexpr std::uint32_t byte_order_magic = 0x1A2B3C4D;
constexpr std::uint16_t link_type_ethernet = 1;
constexpr std::uint16_t opt_endofopt = 0;
constexpr std::uint16_t opt_comment = 1;

// Appends `value` in host order.
template <class T>
void put(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    out.append(bytes, sizeof(T));
}

void pad_to_32_bits(std::string& out) {
    out.append((4 - out.size() % 4) % 4, '\0');
}

Status failed(const std::string& path) {
    return Error{"cannot write '" + path + "': " + std::strerror(errno)};
}

}  // namespace

Result<PcapngWriter> PcapngWriter::create(const std::string& path) {
    PcapngWriter writer(path);
    writer.out_ = std::make_unique<std::ofstream>(writer.output_.staging(), std::ios::binary | std::ios::trunc);
    if (!*writer.out_) return failed(path).error();
    std::string section;
    put(section, byte_order_magic);
    put(section, std::uint16_t{1});  // version 1.0
    put(section, std::uint16_t{0});
    put(section, std::int64_t{-1});  // section length not given
    if (auto written = writer.put_block(section_header_block, section); !written) return written.error();
    std::string interface;
    put(interface, link_type_ethernet);
    put(interface, std::uint16_t{0});
    put(interface, std::uint32_t{65535});  // snap length
    if (auto written = writer.put_block(interface_description_block, interface); !written) return written.error();
    return writer;
}

// A block: type, total length, body, total length again.
Status PcapngWriter::put_block(std::uint32_t type, const std::string& body) {
    const auto total = static_cast<std::uint32_t>(12 + body.size());
    std::string block;
    put(block, type);
    put(block, total);
    block += body;
    put(block, total);
    out_->write(block.data(), static_cast<std::streamsize>(block.size()));
    return *out_ ? ok_status() : failed(path());
}

Status PcapngWriter::write(Bytes frame, const std::string& comment) {
    std::string packet;
    put(packet, std::uint32_t{0});  // interface 0
    put(packet, std::uint32_t{0});  // timestamp, high word (microseconds)
    put(packet, packets_++);        // ... low word: the packets one microsecond apart
    put(packet, static_cast<std::uint32_t>(frame.size()));
    put(packet, static_cast<std::uint32_t>(frame.size()));
    packet.append(reinterpret_cast<const char*>(frame.data()), frame.size());
    pad_to_32_bits(packet);
    if (!comment.empty()) {
        const std::string text = comment.substr(0, 0xFFFF);  // an option's length is 16 bits
        put(packet, opt_comment);
        put(packet, static_cast<std::uint16_t>(text.size()));
        packet += text;
        pad_to_32_bits(packet);
        put(packet, opt_endofopt);
        put(packet, std::uint16_t{0});
    }
    return put_block(enhanced_packet_block, packet);
}

Status PcapngWriter::close() {
    out_->close();
    if (out_->fail()) return failed(path());
    return output_.commit();
}

}  // namespace xdpturn
