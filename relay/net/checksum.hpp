// The reference relay's Internet checksum (RFC 1071), computed in full over
// whole headers and payloads. Values are one's-complement sums modulo 65535:
// 0x0000 and 0xFFFF are the same number, "zero".
#pragma once

#include <cstdint>

#include "relay/net/bytes.hpp"

namespace xdpturn {

// Accumulates 16-bit big-endian words over any number of byte ranges, as if
// they were one contiguous buffer (an odd range carries its byte over).
class OnesComplementSum {
  public:
    OnesComplementSum& add(Bytes bytes);
    OnesComplementSum& add16(std::uint16_t word);
    OnesComplementSum& add32(std::uint32_t value);
    // The sum in 0x0001..0xFFFF, or 0 only if every word added was zero.
    std::uint16_t value() const;

  private:
    std::uint64_t total_ = 0;
    bool odd_ = false;
};

// The checksum field value for a header or segment whose sum, taken with the
// checksum field set to zero, is `sum`: its one's complement.
inline std::uint16_t checksum_from_sum(std::uint16_t sum) {
    return static_cast<std::uint16_t>(~sum);
}

// a + b modulo 65535, as a number in 0..65534.
std::uint16_t add_mod_65535(std::uint16_t a, std::uint16_t b);

}  // namespace xdpturn
