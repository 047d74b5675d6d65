#include "relay/model/bindings.hpp"

namespace xdpturn {

Result<ChannelRange> parse_channel_range(const std::string& text) {
    const auto dash = text.find('-');
    if (dash == std::string::npos) return Error{"expected LO-HI channel range, got '" + text + "'"};
    auto low = parse_number(std::string_view(text).substr(0, dash), 0xFFFF);
    auto high = parse_number(std::string_view(text).substr(dash + 1), 0xFFFF);
    if (!low) return low.error();
    if (!high) return high.error();
    if (*low > *high) return Error{"channel range '" + text + "' has LO above HI"};
    return ChannelRange{static_cast<std::uint16_t>(*low), static_cast<std::uint16_t>(*high)};
}

}  // namespace xdpturn
