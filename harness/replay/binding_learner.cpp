#include "harness/replay/binding_learner.hpp"

#include "harness/frames/udp_view.hpp"

#include <algorithm>
#include <climits>

namespace xdpturn {

namespace {

std::optional<std::uint64_t> lifetime_us(const stun::Message& message) {
    const stun::Attribute* lifetime = message.find(stun::attribute::lifetime);
    if (lifetime == nullptr) return std::nullopt;
    auto seconds = stun::decode_u32(*lifetime);
    if (!seconds) return std::nullopt;
    return std::uint64_t{*seconds} * 1000000;
}

}  // namespace

bool BindingLearner::observe(Bytes frame, std::uint64_t time_us) {
    bool changed = expire(time_us);
    const auto datagram = find_udp(frame);
    if (!datagram || !stun::looks_like_stun(datagram->payload)) return changed;
    const bool from_server = datagram->source.port == turn_port_;
    if (!from_server && datagram->destination.port != turn_port_) return changed;
    ++stats_.stun_messages;
    auto message = stun::parse(datagram->payload);
    if (!message) {
        ++stats_.malformed_stun;
        return changed;
    }
    const Endpoint client = from_server ? datagram->destination : datagram->source;
    return handle(*message, client, from_server, time_us) || changed;
}

bool BindingLearner::handle(const stun::Message& message, const Endpoint& client, bool from_server, std::uint64_t now) {
    using stun::Class;
    using stun::Method;
    if (!from_server && message.is(Method::channel_bind, Class::request)) {
        const stun::Attribute* channel = message.find(stun::attribute::channel_number);
        const stun::Attribute* peer = message.find(stun::attribute::xor_peer_address);
        if (channel == nullptr || peer == nullptr) return false;
        auto number = stun::decode_channel_number(*channel);
        auto address = stun::decode_xor_address(*peer, message.transaction);
        if (!number || !address) return false;
        const PendingBind bind{BindingKey{client, *number}, BindingTarget{0, endpoint_of(*address)}, now};
        forget_unanswered(now);
        pending_binds_.insert_or_assign(message.transaction, bind);
        return false;
    }
    if (from_server && message.is(Method::channel_bind, Class::error)) {
        pending_binds_.erase(message.transaction);  // refused: nothing changes
        return false;
    }
    if (!from_server || message.message_class != Class::success) return false;

    if (message.is(Method::allocate, Class::success)) {
        const stun::Attribute* relayed = message.find(stun::attribute::xor_relayed_address);
        if (relayed == nullptr) return false;
        auto address = stun::decode_xor_address(*relayed, message.transaction);
        if (!address) return false;
        ++stats_.allocations;
        const std::uint64_t expires = now + lifetime_us(message).value_or(default_allocation_lifetime_us);
        allocations_[client] = Allocation{address->port, expires};
        next_expiry_us_ = std::min(next_expiry_us_, expires);
        return false;
    }
    if (message.is(Method::refresh, Class::success)) {
        const auto lifetime = lifetime_us(message);
        if (lifetime && *lifetime == 0) {
            ++stats_.allocations_deleted;
            return remove_allocation(client);
        }
        const auto allocation = allocations_.find(client);
        if (allocation != allocations_.end() && lifetime) {
            allocation->second.expires_us = now + *lifetime;
            next_expiry_us_ = std::min(next_expiry_us_, allocation->second.expires_us);
        }
        return false;
    }
    if (message.is(Method::channel_bind, Class::success)) {
        const auto pending = pending_binds_.find(message.transaction);
        if (pending == pending_binds_.end()) {
            ++stats_.unmatched_responses;
            return false;
        }
        const PendingBind bind = pending->second;
        pending_binds_.erase(pending);
        const auto allocation = allocations_.find(bind.key.client);
        if (allocation == allocations_.end()) {
            ++stats_.without_allocation;
            return false;
        }
        ++stats_.channel_binds;
        BindingTarget target = bind.target;
        target.allocation_port = allocation->second.relayed_port;
        binding_expiry_[bind.key] = now + channel_lifetime_us;
        next_expiry_us_ = std::min(next_expiry_us_, now + channel_lifetime_us);
        const auto existing = table_.find(bind.key);
        if (existing != table_.end() && existing->second == target) return false;
        if (existing == table_.end()) ++learned_;
        table_.insert_or_assign(bind.key, target);
        return true;
    }
    return false;
}

bool BindingLearner::remove_allocation(const Endpoint& client) {
    allocations_.erase(client);
    bool changed = false;
    for (auto binding = binding_expiry_.begin(); binding != binding_expiry_.end();) {
        if (binding->first.client == client) {
            table_.erase(binding->first);
            binding = binding_expiry_.erase(binding);
            changed = true;
        } else {
            ++binding;
        }
    }
    return changed;
}

bool BindingLearner::expire(std::uint64_t now) {
    if (now < next_expiry_us_) return false;
    next_expiry_us_ = UINT64_MAX;
    bool changed = false;
    for (auto binding = binding_expiry_.begin(); binding != binding_expiry_.end();) {
        if (binding->second <= now) {
            table_.erase(binding->first);
            binding = binding_expiry_.erase(binding);
            ++stats_.bindings_expired;
            changed = true;
        } else {
            next_expiry_us_ = std::min(next_expiry_us_, binding->second);
            ++binding;
        }
    }
    for (auto allocation = allocations_.begin(); allocation != allocations_.end();) {
        if (allocation->second.expires_us <= now) {
            const Endpoint client = allocation->first;
            ++allocation;
            ++stats_.allocations_expired;
            changed = remove_allocation(client) || changed;
        } else {
            next_expiry_us_ = std::min(next_expiry_us_, allocation->second.expires_us);
            ++allocation;
        }
    }
    return changed;
}

std::optional<std::pair<BindingKey, BindingTarget>> BindingLearner::change_of(const PendingBind& bind,
                                                                              std::uint64_t now_us) const {
    if (now_us > bind.requested_us + in_flight_window_us) return std::nullopt;
    const auto allocation = allocations_.find(bind.key.client);
    if (allocation == allocations_.end()) return std::nullopt;
    BindingTarget target = bind.target;
    target.allocation_port = allocation->second.relayed_port;
    const auto bound = table_.find(bind.key);
    if (bound != table_.end() && bound->second == target) return std::nullopt;
    return std::pair{bind.key, target};
}

bool BindingLearner::bind_in_flight(const BindingKey& key, std::uint64_t now_us) const {
    for (const auto& [transaction, bind] : pending_binds_)
        if (bind.key == key && change_of(bind, now_us)) return true;
    return false;
}

bool BindingLearner::bind_in_flight(const PeerKey& peer, std::uint64_t now_us) const {
    for (const auto& [transaction, bind] : pending_binds_)
        if (const auto change = change_of(bind, now_us); change && peer_key_of(change->second) == peer) return true;
    return false;
}

bool BindingLearner::bind_in_flight(Bytes frame, std::uint64_t now_us) const {
    const std::optional<UdpView> udp = find_udp(frame);
    if (!udp) return false;
    if (udp->destination.port != turn_port_) return bind_in_flight(PeerKey{udp->source, udp->destination.port}, now_us);
    return udp->payload.size() >= 2 && bind_in_flight(BindingKey{udp->source, load_be16(udp->payload, 0)}, now_us);
}

void BindingLearner::forget_unanswered(std::uint64_t now_us) {
    if (pending_binds_.size() < forget_above) return;
    std::erase_if(pending_binds_,
                  [&](const auto& entry) { return now_us > entry.second.requested_us + transaction_timeout_us; });
}

}  // namespace xdpturn
