#include "relay/turn/turn_core.hpp"
#include "relay/net/splitmix.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "relay/model/channel_data.hpp"

namespace xdpturn::turn {

namespace {

using stun::Class;
using stun::Method;
namespace attribute = stun::attribute;

// Peer ranges refused by default (the loopback-bypass class of relay bugs).
const std::vector<Cidr>& forbidden_peers() {
    static const std::vector<Cidr> ranges = [] {
        std::vector<Cidr> list;
        for (const char* text :
             {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
              "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"})
            list.push_back(*parse_cidr(text));
        return list;
    }();
    return ranges;
}

}  // namespace

bool Cidr::contains(const TransportAddress& address) const {
    if (address.ipv6 != base.ipv6) return false;
    int bits = prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
        const std::uint8_t mask = bits >= 8 ? 0xFF : static_cast<std::uint8_t>(0xFF << (8 - bits));
        if ((address.address[i] & mask) != (base.address[i] & mask)) return false;
    }
    return true;
}

Result<Cidr> parse_cidr(const std::string& text) {
    const auto slash = text.find('/');
    if (slash == std::string::npos) return Error{"expected ADDRESS/PREFIX, got '" + text + "'"};
    Cidr cidr;
    const std::string address = text.substr(0, slash);
    cidr.base.ipv6 = address.find(':') != std::string::npos;
    if (inet_pton(cidr.base.ipv6 ? AF_INET6 : AF_INET, address.c_str(), cidr.base.address.data()) != 1)
        return Error{"not an address: '" + address + "'"};
    const auto prefix = parse_number(std::string_view(text).substr(slash + 1), cidr.base.ipv6 ? 128 : 32);
    if (!prefix || text.substr(slash + 1).starts_with("0x")) return Error{"bad prefix in '" + text + "'"};
    cidr.prefix = static_cast<int>(*prefix);
    return cidr;
}

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

Core::Core(CoreConfig config) : config_(std::move(config)) {
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

std::string Core::current_nonce() const {
    const auto bucket = static_cast<std::uint64_t>(now_ / nonce_lifetime);
    char text[40];
    std::snprintf(text, sizeof(text), "%08llx%016llx", static_cast<unsigned long long>(bucket),
                  static_cast<unsigned long long>(splitmix64_mix(config_.nonce_secret ^ bucket)));
    return text;
}

bool Core::nonce_valid(std::string_view nonce, Time now) const {
    // A nonce stays good for the bucket it was made in and the next one.
    const auto bucket = static_cast<std::uint64_t>(now / nonce_lifetime);
    for (std::uint64_t candidate : {bucket, bucket - 1}) {
        char text[40];
        std::snprintf(text, sizeof(text), "%08llx%016llx", static_cast<unsigned long long>(candidate),
                      static_cast<unsigned long long>(splitmix64_mix(config_.nonce_secret ^ candidate)));
        if (nonce == text) return true;
    }
    return false;
}

bool Core::peer_allowed(const TransportAddress& peer) const {
    for (const Cidr& allowed : config_.allowed_peers)
        if (allowed.contains(peer)) return true;
    for (const Cidr& forbidden : forbidden_peers())
        if (forbidden.contains(peer)) return false;
    if (!peer.ipv6 && peer.v4_value() == 0xFFFFFFFF) return false;  // broadcast
    return true;
}

std::optional<std::uint16_t> Core::free_port() const {
    for (std::uint32_t port = config_.port_min; port <= config_.port_max; ++port)
        if (!ports_.contains(static_cast<std::uint16_t>(port)) &&
            !reserved_ports_.contains(static_cast<std::uint16_t>(port)))
            return static_cast<std::uint16_t>(port);
    return std::nullopt;
}

Time Core::requested_lifetime(const stun::Message& request) {
    const stun::Attribute* requested = request.find(attribute::lifetime);
    if (requested == nullptr) return default_allocation_lifetime;
    auto seconds = stun::decode_u32(*requested);
    if (!seconds) return default_allocation_lifetime;
    return std::min<Time>(std::chrono::seconds(*seconds), max_allocation_lifetime);
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
    if (with_nonce) builder.add_text(attribute::realm, config_.realm).add_text(attribute::nonce, current_nonce());
    builder.add_text(attribute::software, config_.software);
    reply(datagram, key ? builder.finish(Bytes(*key), true) : builder.finish(std::nullopt, true), out);
}

bool Core::permitted(const Allocation& allocation, const TransportAddress& peer, Time now) const {
    const auto permission = allocation.permissions.find(ip_of(peer));
    return permission != allocation.permissions.end() && permission->second > now;
}

void Core::sync_bindings(const Allocation& allocation, Time now, Output& out, std::optional<std::uint16_t> rebound) {
    // Only what the XDP program can relay: an IPv4 client and an IPv4 peer.
    if (allocation.client.ipv6) return;
    const Endpoint client{Ipv4Address{allocation.client.v4_value()}, allocation.client.port};
    BindingTable live;
    for (const auto& [number, channel] : allocation.channels)
        if (!channel.peer.ipv6 && channel.expires > now && permitted(allocation, channel.peer, now))
            live.emplace(BindingKey{client, number},
                         BindingTarget{allocation.relayed_port,
                                       Endpoint{Ipv4Address{channel.peer.v4_value()}, channel.peer.port}});
    for (auto entry = xdp_bindings_.begin(); entry != xdp_bindings_.end();) {
        if (entry->first.client == client && !live.contains(entry->first)) {
            out.events.push_back({BindingEventKind::removed, entry->first, entry->second});
            entry = xdp_bindings_.erase(entry);
        } else {
            ++entry;
        }
    }
    for (const auto& [key, target] : live) {
        const auto existing = xdp_bindings_.find(key);
        if (existing == xdp_bindings_.end()) {
            out.events.push_back({BindingEventKind::created, key, target});
            xdp_bindings_.emplace(key, target);
        } else if (rebound && *rebound == key.channel) {
            out.events.push_back({BindingEventKind::refreshed, key, target});
        }
    }
}

void Core::remove_allocation(std::map<ClientKey, Allocation>::iterator allocation, Output& out) {
    allocation->second.channels.clear();
    sync_bindings(allocation->second, now_, out);
    ports_.erase(allocation->second.relayed_port);
    out.relays_closed.push_back(allocation->second.relayed);
    allocations_.erase(allocation);
}

Output Core::on_client_datagram(const Datagram& datagram, Time now) {
    Output out = on_tick(now);
    if (stun::looks_like_stun(datagram.payload)) {
        auto message = stun::parse(datagram.payload);
        if (!message) {
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
    if (!permitted(allocation->second, *peer, now)) {
        ++stats_.rejected;
        return;
    }
    out.datagrams.push_back(
        Datagram{allocation->second.relayed, *peer, std::vector<std::uint8_t>(data->value.begin(), data->value.end())});
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
    out.datagrams.push_back(
        Datagram{allocation->second.relayed, channel->second.peer,
                 std::vector<std::uint8_t>(message.application_data.begin(), message.application_data.end())});
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
        std::vector<std::uint8_t> message(channel_header_bytes + datagram.payload.size());
        store_be16(message, 0, number);
        store_be16(message, 2, static_cast<std::uint16_t>(datagram.payload.size()));
        std::copy(datagram.payload.begin(), datagram.payload.end(), message.begin() + channel_header_bytes);
        out.datagrams.push_back(Datagram{allocation.server, allocation.client, std::move(message)});
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
                                         .finish()});
    ++stats_.relayed_to_client;
    return out;
}

Output Core::on_tick(Time now) {
    now_ = now;
    Output out;
    if (now < next_due_) return out;  // nothing has expired yet
    next_due_ = Time::max();
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
