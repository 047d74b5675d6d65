// libFuzzer target: the sans-IO relay core fed a sequence of datagrams and
// clock steps. The input is a list of records: one byte saying what happens
// (a datagram from one of four clients or two peers, or time passing), one
// length byte, then that many bytes of datagram. To reach past the
// authentication, a record can also be a valid, authenticated Allocate,
// CreatePermission or ChannelBind built from its bytes.
// A new allocation's relayed socket binds, or (when the record says so) does
// not, as the socket server would find. Fails on a crash, on state that
// grows without bound (allocations over the quota), on bindings the core
// reports live that its events never made, and on a live binding to a peer
// the policy refuses.
#include <array>
#include <cstdlib>
#include <string>

#include "relay/turn/turn_core.hpp"

using namespace xdpturn;
using namespace xdpturn::turn;

namespace {

const TransportAddress server = TransportAddress::v4(0xC0000201, 3478);

stun::TransactionId transaction_of(std::uint32_t seed) {
    stun::TransactionId id{};
    for (std::size_t i = 0; i < 4; ++i) id[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    return id;
}

// What a record asks for when it is an authenticated request.
struct RequestRecord {
    TransportAddress client;
    TransportAddress peer;
    Bytes bytes;
    std::uint8_t what = 0;
    std::uint32_t at = 0;
};

// An authenticated Allocate, CreatePermission, Refresh or ChannelBind, after
// a challenge for the client's nonce when it has none; the nonce follows the
// relay's answers.
Output authenticated_request(Core& core, const RequestRecord& record, std::string& nonce, Time now) {
    const auto key = stun::long_term_key("user", "xdpturn", "pass");
    if (nonce.empty()) {
        Output challenge = core.on_client_datagram(
            {record.client, server, stun::MessageBuilder(stun::Method::allocate, stun::Class::request, {}).finish()},
            now);
        if (challenge.datagrams.empty()) return challenge;
        auto message = stun::parse(challenge.datagrams.front().payload);
        if (!message || message->find(stun::attribute::nonce) == nullptr) return challenge;
        nonce = std::string(stun::as_text(*message->find(stun::attribute::nonce)));
    }
    const std::size_t length = record.bytes.size();
    const std::uint16_t channel = length >= 2 ? load_be16(record.bytes, 0) : 0x4000;
    const stun::Method method = (record.what >> 4) == 3   ? stun::Method::allocate
                                : (record.what >> 4) == 4 ? stun::Method::create_permission
                                : (record.what >> 4) == 5 ? stun::Method::refresh
                                                          : stun::Method::channel_bind;
    stun::MessageBuilder builder(method, stun::Class::request, transaction_of(record.at));
    if (method == stun::Method::allocate) builder.add_requested_transport(stun::transport_udp);
    if (method == stun::Method::refresh) builder.add_u32(stun::attribute::lifetime, length & 1 ? 0 : 600);
    if (method == stun::Method::channel_bind) builder.add_channel_number(channel);
    if (method == stun::Method::channel_bind || method == stun::Method::create_permission)
        builder.add_xor_address(stun::attribute::xor_peer_address, record.peer);
    builder.add_text(stun::attribute::username, "user")
        .add_text(stun::attribute::realm, "xdpturn")
        .add_text(stun::attribute::nonce, nonce);
    Output out = core.on_client_datagram({record.client, server, builder.finish(Bytes(key), true)}, now);
    if (!out.datagrams.empty())
        if (auto reply = stun::parse(out.datagrams.front().payload);
            reply && reply->find(stun::attribute::nonce) != nullptr)
            nonce = std::string(stun::as_text(*reply->find(stun::attribute::nonce)));
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    CoreConfig config;
    config.users = {{"user", "pass"}};
    config.relay_address = TransportAddress::v4(0xC0000201, 0);
    config.port_min = 50000;
    config.port_max = 50015;
    config.channels = rfc5766_channels;
    config.allocations_per_user = 3;
    config.allowed_peers = {*parse_cidr("203.0.113.0/24")};
    config.listening = {server};
    Core core(config);
    const PeerPolicy policy(config.allowed_peers, config.listening, {config.relay_address},
                            PortRange{config.port_min, config.port_max});

    BindingTable maps;  // what the events say the XDP maps hold
    Time now{0};
    std::array<std::string, 4> nonces;  // nonces are bound to each client's 5-tuple
    for (std::size_t at = 0; at + 2 <= size;) {
        const std::uint8_t what = data[at];
        const std::size_t length = std::min<std::size_t>(data[at + 1], size - at - 2);
        const Bytes bytes(data + at + 2, length);
        at += 2 + length;
        const TransportAddress client =
            TransportAddress::v4(0xC6336407, static_cast<std::uint16_t>(40000 + (what & 3)));
        // A permitted peer, or the relay's own listener (which must be refused).
        const TransportAddress peer =
            (what >> 2 & 3) == 3 ? server : TransportAddress::v4(0xCB007109 + ((what >> 2) & 1), 6000);
        std::string& nonce = nonces[what & 3];
        Output out;
        switch (what >> 4) {
            case 0: out = core.on_client_datagram({client, server, {bytes.begin(), bytes.end()}}, now); break;
            case 1: {
                TransportAddress relayed = config.relay_address;
                relayed.port = static_cast<std::uint16_t>(50000 + (length & 15));
                out = core.on_peer_datagram({peer, relayed, {bytes.begin(), bytes.end()}}, now);
                break;
            }
            case 2:
                now += std::chrono::seconds(length * 5);
                out = core.on_tick(now);
                break;
            default:
                out = authenticated_request(core, {client, peer, bytes, what, static_cast<std::uint32_t>(at)}, nonce,
                                            now);
        }
        for (const RelayOpening& opening : out.relays_opened) {
            if ((length & 8) == 0) continue;  // bound: the success goes out
            const Output undone = core.relay_unavailable(opening, now);
            out.events.insert(out.events.end(), undone.events.begin(), undone.events.end());
        }
        for (const BindingEvent& event : out.events) {
            if (event.kind == BindingEventKind::removed)
                maps.erase(event.key);
            else
                maps.insert_or_assign(event.key, event.target);
        }
        if (maps != core.live_bindings() || core.allocations() > config.allocations_per_user) std::abort();
        for (const auto& [key, target] : maps)
            if (policy.refusal(TransportAddress::v4(target.peer.address.v4().value, target.peer.port))) std::abort();
    }
    return 0;
}
