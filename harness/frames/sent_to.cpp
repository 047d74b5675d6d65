#include "harness/frames/sent_to.hpp"

#include <algorithm>

#include "harness/frames/layout.hpp"
#include "harness/frames/textbook_checksum.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn {

namespace {

constexpr std::uint8_t udp_protocol = 17;

// RFC 1624 Eqn. 3: HC' = ~(~HC + ~m + m'), over every 16-bit word changed;
// the harness's textbook sum adds the new words and folds.
std::uint16_t updated(std::uint16_t check, std::span<const std::uint8_t> old_words,
                      std::span<const std::uint8_t> new_words) {
    std::uint32_t sum = static_cast<std::uint16_t>(~check);
    for (std::size_t i = 0; i + 1 < old_words.size(); i += 2)
        sum += static_cast<std::uint16_t>(~load_be16(old_words, i));
    return static_cast<std::uint16_t>(~textbook_sum(new_words, sum));
}

}  // namespace

std::optional<std::vector<std::uint8_t>> sent_to(std::span<const std::uint8_t> frame, const IpAddress& address) {
    const bool ipv6 = !address.is_v4();
    const std::uint16_t ethertype = ipv6 ? layout::ethertype_ipv6 : layout::ethertype_ipv4;
    const FrameLayout at = layout_of_family(ipv6);
    if (layout::ethertype_of(frame) != ethertype || frame.size() < at.udp_data_at()) return std::nullopt;
    // Only a header without options puts UDP where the layout says.
    if (!ipv6 && frame[layout::ip_at] != 0x45) return std::nullopt;
    if (frame[layout::ip_at + (ipv6 ? 6 : 9)] != udp_protocol) return std::nullopt;

    const std::size_t destination_at = at.addresses_at() + at.address_bytes();
    const auto wanted = std::span<const std::uint8_t>(address.bytes()).last(at.address_bytes());
    const auto current = frame.subspan(destination_at, at.address_bytes());
    if (std::equal(current.begin(), current.end(), wanted.begin())) return std::nullopt;

    std::vector<std::uint8_t> moved(frame.begin(), frame.end());
    const std::size_t udp_check_at = at.udp_at + 6;
    // A UDP checksum 0 stays 0: "none" in IPv4, a frame to pass in IPv6.
    if (load_be16(frame, udp_check_at) != 0) {
        const std::uint16_t check = updated(load_be16(frame, udp_check_at), current, wanted);
        // A computed 0 goes out as its other form, 0xFFFF (RFC 768).
        store_be16(moved, udp_check_at, check == 0 ? 0xFFFF : check);
    }
    if (!ipv6) {
        const std::size_t header_check_at = layout::ip_at + 10;
        store_be16(moved, header_check_at, updated(load_be16(frame, header_check_at), current, wanted));
    }
    std::copy(wanted.begin(), wanted.end(), moved.begin() + static_cast<std::ptrdiff_t>(destination_at));
    return moved;
}

}  // namespace xdpturn
