// libFuzzer target: the STUN/TURN parser. Every message it accepts must
// decode its attributes without reading out of bounds, and re-encode (same
// attributes, in order) to bytes that parse to the same message.
#include <cstdlib>

#include "relay/turn/stun.hpp"

using namespace xdpturn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto message = stun::parse(Bytes(data, size));
    if (!message) return 0;
    for (const stun::Attribute& attribute : message->attributes) {
        switch (attribute.type) {
            case stun::attribute::xor_mapped_address:
            case stun::attribute::xor_peer_address:
            case stun::attribute::xor_relayed_address:
                (void)stun::decode_xor_address(attribute, message->transaction);
                break;
            case stun::attribute::lifetime: (void)stun::decode_u32(attribute); break;
            case stun::attribute::channel_number: (void)stun::decode_channel_number(attribute); break;
            case stun::attribute::requested_transport: (void)stun::decode_requested_transport(attribute); break;
            case stun::attribute::error_code: (void)stun::decode_error_code(attribute); break;
            default: (void)stun::as_text(attribute);
        }
    }
    const std::uint8_t key[] = {'k', 'e', 'y'};
    (void)stun::integrity_valid(*message, key);
    (void)stun::fingerprint_valid(*message);

    stun::MessageBuilder builder(message->method, message->message_class, message->transaction);
    for (const stun::Attribute& attribute : message->attributes) builder.add(attribute.type, attribute.value);
    const std::vector<std::uint8_t> rebuilt = builder.finish();
    auto again = stun::parse(rebuilt);
    if (!again || again->method != message->method || again->message_class != message->message_class ||
        again->attributes.size() != message->attributes.size())
        std::abort();
    for (std::size_t i = 0; i < message->attributes.size(); ++i) {
        const auto& a = message->attributes[i];
        const auto& b = again->attributes[i];
        if (a.type != b.type || !std::equal(a.value.begin(), a.value.end(), b.value.begin(), b.value.end()))
            std::abort();
    }
    return 0;
}
