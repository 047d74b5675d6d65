#include "relay/model/bindings.hpp"

#include <cstdio>

namespace xdpturn {

Result<ChannelRange> parse_channel_range(const std::string& text) {
    const auto dash = text.find('-');
    if (dash == std::string::npos) return Error{"expected LO-HI channel range, got '" + text + "'"};
    auto low = parse_number(std::string_view(text).substr(0, dash), 0xFFFF);
    auto high = parse_number(std::string_view(text).substr(dash + 1), 0xFFFF);
    if (!low) return low.error();
    if (!high) return high.error();
    return checked_channel_range(*low, *high);
}

Result<ChannelRange> checked_channel_range(std::uint32_t min, std::uint32_t max) {
    auto hex = [](std::uint32_t value) {
        char text[16];
        std::snprintf(text, sizeof(text), "0x%04X", value);
        return std::string(text);
    };
    if (min > max) return Error{"channel range " + hex(min) + "-" + hex(max) + " has LO above HI"};
    if (min < widest_channels.min || max > widest_channels.max)
        return Error{"channel range " + hex(min) + "-" + hex(max) + " is not inside 0x4000-0x7FFF (RFC 8656 allows " +
                     "0x4000-0x4FFF, RFC 5766 0x4000-0x7FFF; other numbers are STUN, DTLS, RTP, ...)"};
    return ChannelRange{static_cast<std::uint16_t>(min), static_cast<std::uint16_t>(max)};
}

}  // namespace xdpturn
