// The core's TURN requests (RFC 8656): authentication of each request, then
// Allocate, Refresh, CreatePermission and ChannelBind.
#include <vector>

#include "relay/net/splitmix.hpp"

#include "relay/turn/turn_core.hpp"

namespace xdpturn::turn {

namespace {

using stun::Class;
using stun::Method;
namespace attribute = stun::attribute;

// Comprehension-required attributes (types below 0x8000) this relay
// understands; any other one in a request gets 420 (RFC 8489 Section 6.3.1).
bool understood(std::uint16_t type) {
    switch (type) {
        case attribute::mapped_address:
        case attribute::username:
        case attribute::message_integrity:
        case attribute::error_code:
        case attribute::unknown_attributes:
        case attribute::channel_number:
        case attribute::lifetime:
        case attribute::xor_peer_address:
        case attribute::data:
        case attribute::realm:
        case attribute::nonce:
        case attribute::xor_relayed_address:
        case attribute::requested_address_family:
        case attribute::even_port:
        case attribute::requested_transport:
        case attribute::dont_fragment:
        case attribute::message_integrity_sha256:
        case attribute::xor_mapped_address:
        case attribute::reservation_token: return true;
        default: return type >= 0x8000;
    }
}

std::vector<std::uint16_t> unknown_required(const stun::Message& request) {
    std::vector<std::uint16_t> unknown;
    for (const stun::Attribute& attribute : request.attributes)
        if (!understood(attribute.type)) unknown.push_back(attribute.type);
    return unknown;
}

}  // namespace

void Core::handle_request(const stun::Message& request, const Datagram& datagram, Time now, Output& out) {
    if (request.method == static_cast<std::uint16_t>(Method::binding)) {
        reply(datagram,
              stun::MessageBuilder(Method::binding, Class::success, request.transaction)
                  .add_xor_address(attribute::xor_mapped_address, datagram.source)
                  .add_text(attribute::software, config_.software)
                  .finish(std::nullopt, true),
              out);
        return;
    }
    const bool turn_method = request.method == static_cast<std::uint16_t>(Method::allocate) ||
                             request.method == static_cast<std::uint16_t>(Method::refresh) ||
                             request.method == static_cast<std::uint16_t>(Method::create_permission) ||
                             request.method == static_cast<std::uint16_t>(Method::channel_bind);
    if (!turn_method) {
        reply_error(request, datagram, 400, "Bad Request", std::nullopt, out);
        return;
    }
    // Long-term credentials (RFC 8489 Section 9.2): a request without
    // MESSAGE-INTEGRITY is challenged with a realm and a nonce.
    const stun::Attribute* integrity = request.find(attribute::message_integrity);
    const stun::Attribute* username = request.find(attribute::username);
    const stun::Attribute* realm = request.find(attribute::realm);
    const stun::Attribute* nonce = request.find(attribute::nonce);
    if (integrity == nullptr) {
        reply_error(request, datagram, 401, "Unauthorized", std::nullopt, out, true);
        return;
    }
    if (username == nullptr || realm == nullptr || nonce == nullptr) {
        reply_error(request, datagram, 400, "Bad Request", std::nullopt, out);
        return;
    }
    const auto key = keys_.find(std::string(stun::as_text(*username)));
    if (key == keys_.end() || stun::as_text(*realm) != config_.realm) {
        reply_error(request, datagram, 401, "Unauthorized", std::nullopt, out, true);
        return;
    }
    // The nonce must have been issued to this very 5-tuple, lately.
    if (!nonces_.valid(stun::as_text(*nonce), datagram.source, datagram.destination, now, nonce_lifetime)) {
        reply_error(request, datagram, 438, "Stale Nonce", std::nullopt, out, true);
        return;
    }
    if (!stun::integrity_valid(request, Bytes(key->second))) {
        reply_error(request, datagram, 401, "Unauthorized", std::nullopt, out, true);
        return;
    }
    if (const auto unknown = unknown_required(request); !unknown.empty()) {
        ++stats_.rejected;
        std::vector<std::uint8_t> types;
        for (std::uint16_t type : unknown) {
            types.push_back(static_cast<std::uint8_t>(type >> 8));
            types.push_back(static_cast<std::uint8_t>(type));
        }
        reply(datagram,
              stun::MessageBuilder(request.method, Class::error, request.transaction)
                  .add_error(420, "Unknown Attribute")
                  .add(attribute::unknown_attributes, types)
                  .add_text(attribute::software, config_.software)
                  .finish(Bytes(key->second), true),
              out);
        return;
    }
    switch (static_cast<Method>(request.method)) {
        case Method::allocate: allocate(request, datagram, key->first, key->second, now, out); break;
        case Method::refresh: refresh(request, datagram, key->second, now, out); break;
        case Method::create_permission: create_permission(request, datagram, key->second, now, out); break;
        case Method::channel_bind: channel_bind(request, datagram, key->second, now, out); break;
        default: break;
    }
}

void Core::allocate(const stun::Message& request, const Datagram& datagram, const std::string& username,
                    const std::array<std::uint8_t, 16>& key, Time now, Output& out) {
    if (const auto existing = allocations_.find(key_of(datagram.source)); existing != allocations_.end()) {
        // An exact retransmission gets the same success; anything else 437.
        if (existing->second.made_by == request.transaction && !existing->second.success.empty())
            reply(datagram, existing->second.success, out);
        else
            reply_error(request, datagram, 437, "Allocation Mismatch", key, out);
        return;
    }
    // A datagram from one of the relay's own addresses came through the
    // relay itself (a Send indication of another allocation): no client.
    if (is_relay_own(datagram.source)) {
        reply_error(request, datagram, 403, "Forbidden", key, out);
        return;
    }
    const stun::Attribute* transport = request.find(attribute::requested_transport);
    if (transport == nullptr) {
        reply_error(request, datagram, 400, "Bad Request", key, out);
        return;
    }
    if (auto protocol = stun::decode_requested_transport(*transport); !protocol || *protocol != stun::transport_udp) {
        reply_error(request, datagram, 442, "Unsupported Transport Protocol", key, out);
        return;
    }
    // REQUESTED-ADDRESS-FAMILY (RFC 8656 Section 7.2): 0x01 IPv4, 0x02 IPv6.
    TransportAddress relay_base = config_.relay_address;
    if (config_.keep_client_family && datagram.source.ipv6 && config_.relay_address6)
        relay_base = *config_.relay_address6;
    if (const stun::Attribute* family = request.find(attribute::requested_address_family); family != nullptr) {
        const std::uint8_t wanted = family->value.empty() ? 0 : family->value[0];
        if (wanted == 0x02 && config_.relay_address6) {
            relay_base = *config_.relay_address6;
        } else if (wanted == 0x01) {
            relay_base = config_.relay_address;
        } else {
            reply_error(request, datagram, 440, "Address Family not Supported", key, out);
            return;
        }
    }
    const auto owned = allocations_of_user_.find(username);
    if (owned != allocations_of_user_.end() && owned->second >= config_.allocations_per_user) {
        reply_error(request, datagram, 486, "Allocation Quota Reached", key, out);
        return;
    }
    const PortChoice choice = choose_port(request, now);
    if (choice.error != 0) {
        reply_error(request, datagram, choice.error, choice.error == 400 ? "Bad Request" : "Insufficient Capacity", key,
                    out);
        return;
    }
    const std::optional<std::uint16_t> port = choice.port;
    if (choice.reserved_base) relay_base = *choice.reserved_base;
    const auto requested = requested_lifetime(request);
    if (!requested) {
        reply_error(request, datagram, 400, "Bad Request", key, out);
        return;
    }
    // A lifetime of 0 only means something in a Refresh.
    const Time lifetime = *requested == Time{0} ? default_allocation_lifetime : *requested;

    Allocation allocation;
    allocation.client = datagram.source;
    allocation.server = datagram.destination;
    allocation.username = username;
    allocation.relayed_port = *port;
    allocation.relayed = relay_base;
    allocation.relayed.port = *port;
    allocation.expires = now + lifetime;
    allocation.made_by = request.transaction;
    stun::MessageBuilder success(Method::allocate, Class::success, request.transaction);
    success.add_xor_address(attribute::xor_relayed_address, allocation.relayed)
        .add_u32(attribute::lifetime, static_cast<std::uint32_t>(lifetime / std::chrono::seconds(1)))
        .add_xor_address(attribute::xor_mapped_address, datagram.source);
    if (choice.token) {
        success.add(attribute::reservation_token, Bytes(*choice.token));
        reserve(*choice.token, static_cast<std::uint16_t>(*port + 1), relay_base, now);
    }
    allocation.success = success.add_text(attribute::software, config_.software).finish(Bytes(key), true);
    due_at(allocation.expires);
    // The success waits for the relayed socket (RelayOpening).
    Output failure;
    reply_error(request, datagram, 508, "Insufficient Capacity", key, failure);
    --stats_.rejected;  // counted if the shell ever sends it
    out.relays_opened.push_back(RelayOpening{allocation.relayed,
                                             Datagram{datagram.destination, datagram.source, allocation.success},
                                             std::move(failure.datagrams.front())});
    allocations_.emplace(key_of(datagram.source), std::move(allocation));
    ports_.emplace(*port, key_of(datagram.source));
    ++allocations_of_user_[username];
    ++stats_.allocations_created;
}

// RFC 8656 Section 7.2, items 4 and 5, and Section 7.1's port rules: a
// RESERVATION-TOKEN takes the port an earlier EVEN-PORT with R=1 held back
// (a token this relay never gave, or one expired, gets 508; beside
// EVEN-PORT or REQUESTED-ADDRESS-FAMILY it is malformed, 400); EVEN-PORT
// asks for an even port, with R=1 also the next one held for 30 s.
Core::PortChoice Core::choose_port(const stun::Message& request, Time now) {
    PortChoice choice;
    const stun::Attribute* token = request.find(attribute::reservation_token);
    const stun::Attribute* even = request.find(attribute::even_port);
    const bool capacity = allocations_.size() < config_.max_allocations;
    if (token != nullptr) {
        if (even != nullptr || request.find(attribute::requested_address_family) != nullptr ||
            token->value.size() != 8) {
            choice.error = 400;
            return choice;
        }
        ReservationToken wanted{};
        std::copy(token->value.begin(), token->value.end(), wanted.begin());
        const auto reservation = reservations_.find(wanted);
        if (!capacity || reservation == reservations_.end() || reservation->second.expires <= now) {
            choice.error = 508;
            return choice;
        }
        choice.port = reservation->second.port;
        choice.reserved_base = reservation->second.base;
        held_ports_.erase(reservation->second.port);
        reservations_.erase(reservation);
        return choice;
    }
    if (even != nullptr && even->value.size() != 1) {
        choice.error = 400;
        return choice;
    }
    const bool reserve_next = even != nullptr && (even->value[0] & 0x80) != 0;
    choice.port = capacity ? free_port(even != nullptr, reserve_next) : std::nullopt;
    if (!choice.port) choice.error = 508;
    if (choice.port && reserve_next) {
        ++reservations_made_;
        choice.token = ReservationToken{};
        const std::uint64_t value = splitmix64_mix(reservation_seed_ ^ reservations_made_);
        for (std::size_t i = 0; i < 8; ++i) (*choice.token)[i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
    return choice;
}

void Core::reserve(const ReservationToken& token, std::uint16_t port, const TransportAddress& base, Time now) {
    reservations_[token] = Reservation{port, base, now + reservation_lifetime};
    held_ports_.insert(port);
    due_at(now + reservation_lifetime);
}

void Core::refresh(const stun::Message& request, const Datagram& datagram, const std::array<std::uint8_t, 16>& key,
                   Time now, Output& out) {
    const auto allocation = allocation_or_mismatch(request, datagram, key, out);
    if (allocation == allocations_.end()) return;
    const auto requested = requested_lifetime(request);
    if (!requested) {
        reply_error(request, datagram, 400, "Bad Request", key, out);
        return;
    }
    const Time lifetime = *requested;
    if (lifetime == Time{0}) {
        remove_allocation(allocation, out);
    } else {
        allocation->second.expires = now + lifetime;
        due_at(allocation->second.expires);
    }
    reply(datagram,
          stun::MessageBuilder(Method::refresh, Class::success, request.transaction)
              .add_u32(attribute::lifetime, static_cast<std::uint32_t>(lifetime / std::chrono::seconds(1)))
              .add_text(attribute::software, config_.software)
              .finish(Bytes(key), true),
          out);
}

void Core::create_permission(const stun::Message& request, const Datagram& datagram,
                             const std::array<std::uint8_t, 16>& key, Time now, Output& out) {
    const auto allocation = allocation_or_mismatch(request, datagram, key, out);
    if (allocation == allocations_.end()) return;
    std::vector<TransportAddress> peers;
    for (const stun::Attribute& attribute : request.attributes) {
        if (attribute.type != attribute::xor_peer_address) continue;
        auto peer = stun::decode_xor_address(attribute, request.transaction);
        if (!peer) {
            reply_error(request, datagram, 400, "Bad Request", key, out);
            return;
        }
        peers.push_back(*peer);
    }
    if (peers.empty()) {
        reply_error(request, datagram, 400, "Bad Request", key, out);
        return;
    }
    for (const TransportAddress& peer : peers) {
        if (peer.ipv6 != allocation->second.relayed.ipv6) {
            reply_error(request, datagram, 443, "Peer Address Family Mismatch", key, out);
            return;
        }
        if (!peer_allowed(peer)) {
            reply_error(request, datagram, 403, "Forbidden", key, out);
            return;
        }
    }
    // One new address named twice takes one permission.
    std::set<std::array<std::uint8_t, 17>> added_ips;
    for (const TransportAddress& peer : peers)
        if (!allocation->second.permissions.contains(ip_of(peer))) added_ips.insert(ip_of(peer));
    const std::size_t added = added_ips.size();
    if (allocation->second.permissions.size() + added > config_.permissions_per_allocation) {
        reply_error(request, datagram, 508, "Insufficient Capacity", key, out);
        return;
    }
    for (const TransportAddress& peer : peers) allocation->second.permissions[ip_of(peer)] = now + permission_lifetime;
    due_at(now + permission_lifetime);
    sync_bindings(allocation->second, now, out);
    reply(datagram,
          stun::MessageBuilder(Method::create_permission, Class::success, request.transaction)
              .add_text(attribute::software, config_.software)
              .finish(Bytes(key), true),
          out);
}

void Core::channel_bind(const stun::Message& request, const Datagram& datagram, const std::array<std::uint8_t, 16>& key,
                        Time now, Output& out) {
    const auto found = allocation_or_mismatch(request, datagram, key, out);
    if (found == allocations_.end()) return;
    Allocation& allocation = found->second;
    const stun::Attribute* number_attribute = request.find(attribute::channel_number);
    const stun::Attribute* peer_attribute = request.find(attribute::xor_peer_address);
    if (number_attribute == nullptr || peer_attribute == nullptr) {
        reply_error(request, datagram, 400, "Bad Request", key, out);
        return;
    }
    auto number = stun::decode_channel_number(*number_attribute);
    auto peer = stun::decode_xor_address(*peer_attribute, request.transaction);
    if (!number || !peer || !config_.channels.contains(*number)) {
        reply_error(request, datagram, 400, "Bad Request", key, out);
        return;
    }
    if (peer->ipv6 != allocation.relayed.ipv6) {
        reply_error(request, datagram, 443, "Peer Address Family Mismatch", key, out);
        return;
    }
    if (!peer_allowed(*peer)) {
        reply_error(request, datagram, 403, "Forbidden", key, out);
        return;
    }
    // A number is bound to one peer and a peer to one number; an expired
    // pairing blocks both for the cooldown (RFC 8656 Section 12).
    const auto existing = allocation.channels.find(*number);
    const bool same_pairing = existing != allocation.channels.end() && existing->second.peer == *peer;
    if (!same_pairing) {
        const bool conflict =
            existing != allocation.channels.end() || allocation.channel_of_peer.contains(cooldown_key(*peer)) ||
            allocation.cooldown.contains(cooldown_key(*number)) || allocation.cooldown.contains(cooldown_key(*peer));
        if (conflict) {
            reply_error(request, datagram, 400, "Bad Request", key, out);
            return;
        }
    }
    if (!same_pairing && !allocation.permissions.contains(ip_of(*peer)) &&
        allocation.permissions.size() >= config_.permissions_per_allocation) {
        reply_error(request, datagram, 508, "Insufficient Capacity", key, out);
        return;
    }
    if (existing == allocation.channels.end()) {
        if (!channel_room(allocation)) {
            reply_error(request, datagram, 508, "Insufficient Capacity", key, out);
            return;
        }
        count_channels(allocation.username, 1);
    }
    allocation.channels[*number] = Channel{*peer, now + channel_lifetime};
    allocation.channel_of_peer[cooldown_key(*peer)] = *number;
    const bool new_permission = !allocation.permissions.contains(ip_of(*peer));
    allocation.permissions[ip_of(*peer)] = now + permission_lifetime;
    due_at(now + permission_lifetime);  // the earlier of the two
    ++stats_.channel_binds;
    // A new permission can bring other channels to the same IP to life.
    if (new_permission)
        sync_bindings(allocation, now, out, *number);
    else
        sync_channel(allocation, *number, now, out, true);
    reply(datagram,
          stun::MessageBuilder(Method::channel_bind, Class::success, request.transaction)
              .add_text(attribute::software, config_.software)
              .finish(Bytes(key), true),
          out);
}

}  // namespace xdpturn::turn
