// Big-endian field access on byte spans. Callers check bounds first; these
// helpers only assemble bytes, so they never read past what they are given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace xdpturn {

using Bytes = std::span<const std::uint8_t>;
using MutableBytes = std::span<std::uint8_t>;

inline std::uint16_t load_be16(Bytes bytes, std::size_t offset) {
    return static_cast<std::uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

inline std::uint32_t load_be32(Bytes bytes, std::size_t offset) {
    return (std::uint32_t{load_be16(bytes, offset)} << 16) | load_be16(bytes, offset + 2);
}

inline void store_be16(MutableBytes bytes, std::size_t offset, std::uint16_t value) {
    bytes[offset] = static_cast<std::uint8_t>(value >> 8);
    bytes[offset + 1] = static_cast<std::uint8_t>(value);
}

inline void store_be32(MutableBytes bytes, std::size_t offset, std::uint32_t value) {
    store_be16(bytes, offset, static_cast<std::uint16_t>(value >> 16));
    store_be16(bytes, offset + 2, static_cast<std::uint16_t>(value));
}

}  // namespace xdpturn
