#include "relay/turn/turn_core.hpp"
#include "relay/net/splitmix.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <random>

#include "relay/model/channel_data.hpp"

namespace xdpturn::turn {

namespace {

using stun::Class;
using stun::Method;
namespace attribute = stun::attribute;

}  // namespace

Result<TransportAddress> parse_transport_address(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) return Error{"expected ADDR:PORT, got '" + text + "'"};
    std::string host = text.substr(0, colon);
    TransportAddress address;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        address.ipv6 = true;
    }
    if (inet_pton(address.ipv6 ? AF_INET6 : AF_INET, host.c_str(), address.address.data()) != 1)
        return Error{"not an address: '" + host + "'"};
    const auto port = parse_number(std::string_view(text).substr(colon + 1), 0xFFFF);
    if (!port) return Error{"bad port in '" + text + "'"};
    address.port = static_cast<std::uint16_t>(*port);
    return address;
}

std::vector<BindingChange> binding_changes(const std::vector<BindingEvent>& events) {
    std::vector<BindingChange> changes;
    changes.reserve(events.size());
    for (const BindingEvent& event : events)
        changes.push_back(
            {event.key, event.kind == BindingEventKind::removed ? std::nullopt : std::optional(event.target)});
    return changes;
}

Core::Core(CoreConfig config)
    : config_(std::move(config)),
      policy_(config_.allowed_peers, config_.listening,
              config_.relay_address6 ? std::vector{config_.relay_address, *config_.relay_address6}
                                     : std::vector{config_.relay_address},
              PortRange{config_.port_min, config_.port_max}),
      nonces_(config_.nonce_key) {
    // Reservation tokens from the nonces' key when one is set (tests repeat),
    // at random otherwise.
    reservation_seed_ = config_.nonce_key ? splitmix64_mix(config_.nonce_key->front() + 1) : std::random_device{}();
    for (const auto& [user, password] : config_.users) keys_[user] = stun::long_term_key(user, config_.realm, password);
}

Core::ClientKey Core::key_of(const TransportAddress& address) {
    ClientKey key;
    key.bytes[0] = address.ipv6 ? 6 : 4;
    std::copy(address.address.begin(), address.address.end(), key.bytes.begin() + 1);
    key.bytes[17] = static_cast<std::uint8_t>(address.port >> 8);
    key.bytes[18] = static_cast<std::uint8_t>(address.port);
    return key;
}

std::array<std::uint8_t, 17> Core::ip_of(const TransportAddress& address) {
    std::array<std::uint8_t, 17> ip{};
    ip[0] = address.ipv6 ? 6 : 4;
    std::copy(address.address.begin(), address.address.end(), ip.begin() + 1);
    return ip;
}

std::array<std::uint8_t, 20> Core::cooldown_key(std::uint16_t channel) {
    std::array<std::uint8_t, 20> key{};
    key[1] = static_cast<std::uint8_t>(channel >> 8);
    key[2] = static_cast<std::uint8_t>(channel);
    return key;
}

std::array<std::uint8_t, 20> Core::cooldown_key(const TransportAddress& peer) {
    std::array<std::uint8_t, 20> key{};
    key[0] = 1;
    const auto ip = ip_of(peer);
    std::copy(ip.begin(), ip.end(), key.begin() + 1);
    key[18] = static_cast<std::uint8_t>(peer.port >> 8);
    key[19] = static_cast<std::uint8_t>(peer.port);
    return key;
}

std::optional<std::uint16_t> Core::free_port(bool even, bool pair) const {
    const auto free = [&](std::uint32_t port) {
        return port <= config_.port_max && !ports_.contains(static_cast<std::uint16_t>(port)) &&
               !reserved_ports_.contains(static_cast<std::uint16_t>(port)) &&
               !held_ports_.contains(static_cast<std::uint16_t>(port));
    };
    for (std::uint32_t port = config_.port_min; port <= config_.port_max; ++port)
        if ((!even || port % 2 == 0) && free(port) && (!pair || free(port + 1)))
            return static_cast<std::uint16_t>(port);
    return std::nullopt;
}

std::optional<Time> Core::requested_lifetime(const stun::Message& request) {
    // RFC 8656 Sections 7.2 and 7.3: 0 stays 0 (a Refresh deletes with it);
    // otherwise the lesser of the request and the maximum, but never less
    // than the default. A LIFETIME that is not 4 bytes is malformed.
    const stun::Attribute* requested = request.find(attribute::lifetime);
    if (requested == nullptr) return default_allocation_lifetime;
    auto seconds = stun::decode_u32(*requested);
    if (!seconds) return std::nullopt;
    if (*seconds == 0) return Time{0};
    const Time computed = std::min<Time>(std::chrono::seconds(*seconds), max_allocation_lifetime);
    return std::max(computed, default_allocation_lifetime);
}

std::map<Core::ClientKey, Core::Allocation>::iterator Core::allocation_or_mismatch(
    const stun::Message& request, const Datagram& datagram, const std::array<std::uint8_t, 16>& key, Output& out) {
    const auto allocation = allocations_.find(key_of(datagram.source));
    if (allocation == allocations_.end()) {
        reply_error(request, datagram, 437, "Allocation Mismatch", key, out);
        return allocation;
    }
    if (allocation->second.username != stun::as_text(*request.find(attribute::username))) {
        reply_error(request, datagram, 441, "Wrong Credentials", key, out);
        return allocations_.end();
    }
    return allocation;
}

void Core::reply(const Datagram& to, std::vector<std::uint8_t> message, Output& out) const {
    out.datagrams.push_back(Datagram{to.destination, to.source, std::move(message)});
}

void Core::reply_error(const stun::Message& request, const Datagram& datagram, int code, std::string_view reason,
                       std::optional<std::array<std::uint8_t, 16>> key, Output& out, bool with_nonce) {
    ++stats_.rejected;
    stun::MessageBuilder builder(request.method, Class::error, request.transaction);
    builder.add_error(code, reason);
    if (with_nonce)
        builder.add_text(attribute::realm, config_.realm)
            .add_text(attribute::nonce, nonces_.make(datagram.source, datagram.destination, now_));
    builder.add_text(attribute::software, config_.software);
    reply(datagram, key ? builder.finish(Bytes(*key), true) : builder.finish(std::nullopt, true), out);
}

bool Core::permitted(const Allocation& allocation, const TransportAddress& peer, Time now) const {
    const auto permission = allocation.permissions.find(ip_of(peer));
    return permission != allocation.permissions.end() && permission->second > now;
}

bool Core::offload_sends_as(const Allocation& allocation) const {
    const IpAddress server = endpoint_of(allocation.server).address;
    if (allocation.relayed.ipv6 == allocation.client.ipv6) return endpoint_of(allocation.relayed).address == server;
    const std::optional<TransportAddress>& own =
        allocation.client.ipv6 ? config_.relay_address6 : std::optional<TransportAddress>(config_.relay_address);
    return own && endpoint_of(*own).address == server;
}

std::optional<BindingTarget> Core::live_target(const Allocation& allocation, std::uint16_t number, Time now) const {
    // Within a family the offload sends each direction's output from the
    // address the input arrived on, so it can only serve an allocation whose
    // relayed address is the address the client talks to. Across families
    // (RFC 6156: the peer has the relayed address's family) it sends from
    // its configured relay address of the output's family, which are this
    // core's relay addresses: the client must talk to the one of its family.
    if (!offload_sends_as(allocation)) return std::nullopt;
    const auto channel = allocation.channels.find(number);
    if (channel == allocation.channels.end() || channel->second.peer.ipv6 != allocation.relayed.ipv6 ||
        channel->second.expires <= now || !permitted(allocation, channel->second.peer, now))
        return std::nullopt;
    return BindingTarget{allocation.relayed_port, endpoint_of(channel->second.peer)};
}

void Core::set_binding(Allocation& allocation, std::uint16_t number, std::optional<BindingTarget> target, bool rebound,
                       Output& out) {
    const BindingKey key{endpoint_of(allocation.client), number};
    const auto existing = xdp_bindings_.find(key);
    if (!target) {
        if (existing == xdp_bindings_.end()) return;
        out.events.push_back({BindingEventKind::removed, key, existing->second});
        xdp_bindings_.erase(existing);
        allocation.xdp_channels.erase(number);
    } else if (existing == xdp_bindings_.end()) {
        out.events.push_back({BindingEventKind::created, key, *target});
        xdp_bindings_.emplace(key, *target);
        allocation.xdp_channels.insert(number);
    } else if (rebound) {
        out.events.push_back({BindingEventKind::refreshed, key, *target});
    }
}

void Core::sync_channel(Allocation& allocation, std::uint16_t number, Time now, Output& out, bool rebound) {
    set_binding(allocation, number, live_target(allocation, number, now), rebound, out);
}

void Core::sync_bindings(Allocation& allocation, Time now, Output& out, std::optional<std::uint16_t> rebound) {
    // The allocation's own entries only: the cost follows its channels, not
    // every binding of every client.
    const std::set<std::uint16_t> held = allocation.xdp_channels;
    for (std::uint16_t number : held)
        if (!allocation.channels.contains(number)) set_binding(allocation, number, std::nullopt, false, out);
    for (const auto& [number, channel] : allocation.channels)
        set_binding(allocation, number, live_target(allocation, number, now), rebound && *rebound == number, out);
}

void Core::count_channels(const std::string& username, std::ptrdiff_t change) {
    stats_.channels_live = static_cast<std::uint64_t>(static_cast<std::ptrdiff_t>(stats_.channels_live) + change);
    std::size_t& of_user = channels_of_user_[username];
    of_user = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(of_user) + change);
    if (of_user == 0) channels_of_user_.erase(username);
}

bool Core::channel_room(const Allocation& allocation) const {
    const auto of_user = channels_of_user_.find(allocation.username);
    const std::size_t users = of_user == channels_of_user_.end() ? 0 : of_user->second;
    return allocation.channels.size() < config_.channels_per_allocation && users < config_.channels_per_user &&
           stats_.channels_live < config_.max_channels;
}

bool Core::is_relay_own(const TransportAddress& address) const {
    if (policy_.is_listener(address)) return true;
    const auto port = ports_.find(address.port);
    if (port == ports_.end()) return false;
    const TransportAddress& relayed = allocations_.at(port->second).relayed;
    return relayed.ipv6 == address.ipv6 && relayed.address == address.address;
}

void Core::remove_allocation(std::map<ClientKey, Allocation>::iterator allocation, Output& out) {
    count_channels(allocation->second.username, -static_cast<std::ptrdiff_t>(allocation->second.channels.size()));
    allocation->second.channels.clear();
    sync_bindings(allocation->second, now_, out);
    ports_.erase(allocation->second.relayed_port);
    out.relays_closed.push_back(allocation->second.relayed);
    if (auto owned = allocations_of_user_.find(allocation->second.username);
        owned != allocations_of_user_.end() && --owned->second == 0)
        allocations_of_user_.erase(owned);
    allocations_.erase(allocation);
}

Output Core::on_client_datagram(const Datagram& datagram, Time now) {
    Output out = on_tick(now);
    if (stun::looks_like_stun(datagram.payload)) {
        auto message = stun::parse(datagram.payload);
        // A wrong FINGERPRINT means it is not STUN at all (RFC 8489
        // Section 14.7): discarded, as coturn does.
        if (!message || (message->find(attribute::fingerprint) != nullptr && !stun::fingerprint_valid(*message))) {
            ++stats_.rejected;
            return out;
        }
        if (message->message_class == Class::request)
            handle_request(*message, datagram, now, out);
        else if (message->is(Method::send, Class::indication))
            handle_send(*message, datagram, now, out);
        return out;
    }
    handle_channel_data(datagram, now, out);
    return out;
}

void Core::handle_send(const stun::Message& indication, const Datagram& datagram, Time now, Output& out) {
    const auto allocation = allocations_.find(key_of(datagram.source));
    const stun::Attribute* peer_attribute = indication.find(attribute::xor_peer_address);
    const stun::Attribute* data = indication.find(attribute::data);
    if (allocation == allocations_.end() || peer_attribute == nullptr || data == nullptr) {
        ++stats_.rejected;
        return;
    }
    auto peer = stun::decode_xor_address(*peer_attribute, indication.transaction);
    if (!peer) {
        ++stats_.rejected;
        return;
    }
    // The permission names an IP; the policy judges the transport address
    // (the relay's own listener and relayed ports stay out of reach).
    if (!permitted(allocation->second, *peer, now) || !peer_allowed(*peer)) {
        ++stats_.rejected;
        return;
    }
    out.datagrams.push_back(Datagram{allocation->second.relayed, *peer,
                                     std::vector<std::uint8_t>(data->value.begin(), data->value.end()),
                                     Carries::to_peer});
    ++stats_.relayed_to_peer;
}

void Core::handle_channel_data(const Datagram& datagram, Time now, Output& out) {
    // The same ChannelData rules as the frame-level reference model.
    const ChannelDataMessage message = parse_channel_data(datagram.payload, config_.channels);
    const auto allocation = allocations_.find(key_of(datagram.source));
    if (message.status != ChannelDataStatus::ok || allocation == allocations_.end()) {
        ++stats_.rejected;
        return;
    }
    const auto channel = allocation->second.channels.find(message.channel);
    if (channel == allocation->second.channels.end() || channel->second.expires <= now ||
        !permitted(allocation->second, channel->second.peer, now)) {
        ++stats_.rejected;
        return;
    }
    out.datagrams.push_back(Datagram{
        allocation->second.relayed, channel->second.peer,
        std::vector<std::uint8_t>(message.application_data.begin(), message.application_data.end()), Carries::to_peer});
    ++stats_.relayed_to_peer;
}

Output Core::on_peer_datagram(const Datagram& datagram, Time now) {
    Output out = on_tick(now);
    const auto port = ports_.find(datagram.destination.port);
    if (port == ports_.end()) {
        ++stats_.rejected;
        return out;
    }
    Allocation& allocation = allocations_.at(port->second);
    if (!permitted(allocation, datagram.source, now)) {
        ++stats_.rejected;  // no permission: silently discarded
        return out;
    }
    for (const auto& [number, channel] : allocation.channels) {
        if (!(channel.peer == datagram.source) || channel.expires <= now) continue;
        out.datagrams.push_back(Datagram{allocation.server, allocation.client,
                                         encode_channel_data(number, datagram.payload), Carries::to_client});
        ++stats_.relayed_to_client;
        return out;
    }
    stun::TransactionId transaction{};
    const std::uint64_t random = splitmix64_mix(static_cast<std::uint64_t>(now.count()) ^ stats_.relayed_to_client);
    for (std::size_t i = 0; i < 8; ++i) transaction[i] = static_cast<std::uint8_t>(random >> (8 * i));
    out.datagrams.push_back(Datagram{allocation.server, allocation.client,
                                     stun::MessageBuilder(Method::data, Class::indication, transaction)
                                         .add_xor_address(attribute::xor_peer_address, datagram.source)
                                         .add(attribute::data, datagram.payload)
                                         .finish(),
                                     Carries::to_client});
    ++stats_.relayed_to_client;
    return out;
}

Output Core::relay_unavailable(const RelayOpening& opening, Time now) {
    Output out = on_tick(now);
    reserve_port(opening.relayed.port);
    const auto port = ports_.find(opening.relayed.port);
    if (port == ports_.end()) return out;
    const std::size_t closed_before = out.relays_closed.size();  // the tick may close others
    remove_allocation(allocations_.find(port->second), out);
    out.relays_closed.resize(closed_before);  // this one was never opened
    --stats_.allocations_created;
    ++stats_.rejected;
    out.datagrams.push_back(opening.failure);
    return out;
}

Output Core::on_tick(Time now) {
    now_ = now;
    Output out;
    if (now < next_due_) return out;  // nothing has expired yet
    next_due_ = Time::max();
    for (auto reservation = reservations_.begin(); reservation != reservations_.end();) {
        if (reservation->second.expires > now) {
            due_at(reservation->second.expires);
            ++reservation;
            continue;
        }
        held_ports_.erase(reservation->second.port);
        reservation = reservations_.erase(reservation);
    }
    for (auto allocation = allocations_.begin(); allocation != allocations_.end();) {
        if (allocation->second.expires <= now) {
            auto expired = allocation++;
            remove_allocation(expired, out);
            continue;
        }
        Allocation& state = allocation->second;
        for (auto channel = state.channels.begin(); channel != state.channels.end();) {
            if (channel->second.expires > now) {
                ++channel;
                continue;
            }
            state.cooldown[cooldown_key(channel->first)] = now + rebind_cooldown;
            state.cooldown[cooldown_key(channel->second.peer)] = now + rebind_cooldown;
            state.channel_of_peer.erase(cooldown_key(channel->second.peer));
            count_channels(state.username, -1);
            channel = state.channels.erase(channel);
        }
        std::erase_if(state.permissions, [&](const auto& entry) { return entry.second <= now; });
        std::erase_if(state.cooldown, [&](const auto& entry) { return entry.second <= now; });
        sync_bindings(state, now, out);  // expired channels and permissions leave the maps
        // What is left sets the next sweep.
        due_at(state.expires);
        for (const auto& [number, channel] : state.channels) due_at(channel.expires);
        for (const auto& [ip, expires] : state.permissions) due_at(expires);
        for (const auto& [key, expires] : state.cooldown) due_at(expires);
        ++allocation;
    }
    return out;
}

}  // namespace xdpturn::turn
