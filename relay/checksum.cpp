#include "relay/checksum.hpp"

namespace xdpturn {

OnesComplementSum& OnesComplementSum::add(Bytes bytes) {
    for (std::uint8_t byte : bytes) {
        total_ += odd_ ? byte : std::uint64_t{byte} << 8;
        odd_ = !odd_;
    }
    return *this;
}

OnesComplementSum& OnesComplementSum::add16(std::uint16_t word) {
    // Words added this way always start on an even offset of the stream.
    total_ += word;
    return *this;
}

OnesComplementSum& OnesComplementSum::add32(std::uint32_t value) {
    return add16(static_cast<std::uint16_t>(value >> 16)).add16(static_cast<std::uint16_t>(value));
}

std::uint16_t OnesComplementSum::value() const {
    // Folding the carries is the same as reducing modulo 65535, except that a
    // non-zero multiple of 65535 is written 0xFFFF (RFC 1071 Section 2).
    if (total_ == 0) return 0;
    const std::uint64_t reduced = total_ % 0xFFFF;
    return reduced == 0 ? 0xFFFF : static_cast<std::uint16_t>(reduced);
}

std::uint16_t add_mod_65535(std::uint16_t a, std::uint16_t b) {
    return static_cast<std::uint16_t>((std::uint32_t{a} + b) % 0xFFFF);
}

}  // namespace xdpturn
