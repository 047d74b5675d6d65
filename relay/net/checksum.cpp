#include "relay/net/checksum.hpp"

namespace xdpturn {

OnesComplementSum& OnesComplementSum::add(Bytes bytes) {
    std::size_t i = 0;
    if (odd_ && !bytes.empty()) {  // complete the word the previous range began
        total_ += bytes[0];
        odd_ = false;
        i = 1;
    }
    // Whole 16-bit words; a 64-bit total cannot overflow for any frame size.
    for (; i + 1 < bytes.size(); i += 2) total_ += (std::uint64_t{bytes[i]} << 8) | bytes[i + 1];
    if (i < bytes.size()) {
        total_ += std::uint64_t{bytes[i]} << 8;
        odd_ = true;
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
    // End-around carry: fold the carries back in until 16 bits remain. This
    // is reduction modulo 65535, except that a non-zero multiple of 65535
    // comes out as 0xFFFF (RFC 1071 Section 2).
    std::uint64_t folded = total_;
    while (folded >> 16) folded = (folded & 0xFFFF) + (folded >> 16);
    return static_cast<std::uint16_t>(folded);
}

std::uint16_t add_mod_65535(std::uint16_t a, std::uint16_t b) {
    return static_cast<std::uint16_t>((std::uint32_t{a} + b) % 0xFFFF);
}

}  // namespace xdpturn
