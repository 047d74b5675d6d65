// The pieces the case generator (generators.cpp) and its variations
// (variations.cpp) share: the Chooser that reads decisions off a choice
// sequence, the sizes of the headers a generated frame starts with, and
// the addresses made from bits. Internal to check/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "harness/frames/frame_builder.hpp"
#include "harness/frames/layout.hpp"
#include "relay/model/bindings.hpp"
#include "relay/net/splitmix.hpp"

namespace xdpturn {

// Draws decisions from a choice sequence. An exhausted sequence, or a zero,
// gives the first (simplest) option: shrinking the sequence toward fewer and
// smaller numbers shrinks the case toward a plain relayed frame.
class Chooser {
  public:
    explicit Chooser(std::span<const std::uint32_t> choices) : choices_(choices) {}

    // A decision of variable length (a list, a variation's parameters) draws
    // from a private stream seeded by one choice, so that the main sequence
    // keeps a fixed layout: shrinking one choice never shifts the others.
    // A zero seed gives an all-zero stream: the simplest options.
    Chooser sub() {
        Chooser stream({});
        stream.stream_state_ = next_raw();
        stream.streaming_ = true;
        return stream;
    }

    std::uint32_t below(std::uint32_t bound) {  // 0 .. bound-1
        return static_cast<std::uint32_t>(scale(next_raw(), bound));
    }
    template <class T>
    T range(T low, T high_inclusive) {
        const auto span = static_cast<std::uint64_t>(high_inclusive) - static_cast<std::uint64_t>(low) + 1;
        return static_cast<T>(static_cast<std::uint64_t>(low) + scale(next_raw(), span));
    }
    bool coin() { return below(2) == 1; }
    template <class T>
    T one_of(std::initializer_list<T> options) {
        return *(options.begin() + below(static_cast<std::uint32_t>(options.size())));
    }
    // Index of the option chosen with these weights.
    std::size_t weighted(std::initializer_list<std::uint32_t> weights) {
        return weighted(std::span<const std::uint32_t>(weights.begin(), weights.size()));
    }
    std::size_t weighted(std::span<const std::uint32_t> weights) {
        std::uint32_t total = 0;
        for (std::uint32_t weight : weights) total += weight;
        std::uint32_t pick = below(total);
        std::size_t index = 0;
        for (std::uint32_t weight : weights) {
            if (pick < weight) return index;
            pick -= weight;
            ++index;
        }
        return 0;
    }

  private:
    std::uint32_t next_raw() {
        if (streaming_) {
            if (stream_state_ == 0) return 0;
            return static_cast<std::uint32_t>(splitmix64_next(stream_state_) >> 32);
        }
        return next_ < choices_.size() ? choices_[next_++] : 0u;
    }
    // Maps a 32-bit choice onto 0 .. span-1 by multiplying and shifting:
    // no division, and 0 still maps to 0 (the simplest option).
    static std::uint64_t scale(std::uint32_t raw, std::uint64_t span) {
        if (span == 0 || span > (std::uint64_t{1} << 32)) return raw;
        return (std::uint64_t{raw} * span) >> 32;
    }

    std::span<const std::uint32_t> choices_;
    std::size_t next_ = 0;
    bool streaming_ = false;
    std::uint64_t stream_state_ = 0;
};

// The relay's own addresses: frames arrive on them (and on others), and a
// configuration's relay address of each family is one of them.
inline constexpr std::uint32_t relay_addresses[] = {0xC0000201, 0xCB007101, 0x0A0000FE};
inline constexpr Ipv6Bytes relay_addresses6[] = {{0x20, 0x01, 0x0D, 0xB8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
                                                 {0x20, 0x01, 0x0D, 0xB8, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFE},
                                                 {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0xFF, 0xFE, 0, 0, 0x01}};
// Relay addresses of the configuration only, next to "none" (all zero) as
// the program tests it, a 64-bit word at a time: 100:: (a word of 1) and
// ffff:ffff:ffff:ffff:: (a word of all ones).
inline constexpr Ipv6Bytes relay_addresses6_next_to_none[] = {
    {0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0}};

// The UDP header and the channel header of a client's ChannelData.
inline constexpr std::size_t udp_channel_bytes = layout::udp_bytes + layout::channel_header_bytes;

// The IP header of the frame's family (its options or extension headers
// not counted).
inline std::size_t ip_header_bytes(const FrameSpec& s) {
    return layout_of_family(!s.ip_source.is_v4()).ip_header_bytes();
}

// Where the frame's UDP header starts, counted from the frame's start: past
// its VLAN tags, IP header, options and extension headers.
inline std::size_t udp_header_at(const FrameSpec& s) {
    return layout::ethernet_bytes + 4 * s.vlan_tags.size() + ip_header_bytes(s) + s.ip_options.size() +
           s.extension_headers.size();
}

// An address of the same family as `like`, its bits from `bits` (see
// generator_parts.cpp).
IpAddress address_like(const IpAddress& like, std::uint64_t bits);
// An address of the other family, to make address_like switch families.
IpAddress other_family_address(const IpAddress& address);
// `address` with `delta` added to its last 32 bits: a neighbour, of the
// same family.
IpAddress next_to(const IpAddress& address, std::uint32_t delta);

// `base` with one half replaced by `other`'s: the upper half (the prefix,
// IPv6 bytes 0-7; IPv4's first three bytes) when `keep_prefix` is false,
// else the lower half (the interface ID; IPv4's last byte). Both of the
// same family; otherwise `other` as it is.
IpAddress with_half_of(const IpAddress& base, const IpAddress& other, bool keep_prefix);

// Values next to the ones a program compares with, as the program's
// registers hold them. A program loads header fields and addresses in
// network byte order into a little-endian register, so "one more" in the
// register is not one more on the wire:
//   a 16-bit field whose register value is one off: host value +-256 (mostly)
std::uint16_t wire_neighbour(std::uint16_t host_value, int delta);
//   a 16-byte address (IPv4 in its mapped form ::ffff:a.b.c.d) whose
//   64-bit word `word` (0 or 1), loaded little-endian, is `delta` off
IpAddress word_neighbour(const IpAddress& address, unsigned word, int delta);
// An IPv6 address carrying `v4` in its last 32 bits in one of the forms a
// test of the mapped prefix (::ffff:0:0/96, compared 32 bits at a time)
// meets next to its boundary: a word of the prefix one off in the
// register, IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d)
// or NAT64 (64:ff9b::a.b.c.d). `form` picks one of structured_forms.
inline constexpr std::uint32_t structured_forms = 9;
IpAddress structured_ipv6(std::uint32_t v4, std::uint32_t form);

}  // namespace xdpturn
