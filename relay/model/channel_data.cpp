#include "relay/model/channel_data.hpp"

#include <algorithm>

namespace xdpturn {

ChannelDataMessage parse_channel_data(Bytes datagram, const ChannelRange& accepted) {
    ChannelDataMessage message;
    if (datagram.size() < channel_header_bytes) return message;
    message.channel = load_be16(datagram, 0);
    message.length = load_be16(datagram, 2);
    if (!accepted.contains(message.channel)) {
        message.status = ChannelDataStatus::out_of_range;
        return message;
    }
    const std::size_t available = datagram.size() - channel_header_bytes;
    if (message.length > available) {
        message.status = ChannelDataStatus::length_exceeds;
        return message;
    }
    if (available - message.length > max_channel_padding) {
        message.status = ChannelDataStatus::excess_padding;
        return message;
    }
    message.status = ChannelDataStatus::ok;
    message.application_data = datagram.subspan(channel_header_bytes, message.length);
    return message;
}

std::vector<std::uint8_t> encode_channel_data(std::uint16_t channel, Bytes data) {
    std::vector<std::uint8_t> message(channel_header_bytes + data.size());
    store_be16(message, 0, channel);
    store_be16(message, 2, static_cast<std::uint16_t>(data.size()));
    std::copy(data.begin(), data.end(), message.begin() + channel_header_bytes);
    return message;
}

}  // namespace xdpturn
