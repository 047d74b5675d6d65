#include "relay/model/channel_data.hpp"

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

}  // namespace xdpturn
