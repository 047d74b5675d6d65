#include "harness/xdp/map_sync.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

namespace xdpturn {

namespace {
void copy_address(std::uint8_t (&to)[XDPTURN_ADDR_BYTES], const IpAddress& from) {
    static_assert(sizeof(to) == std::tuple_size_v<Ipv6Bytes>);
    std::memcpy(to, from.bytes().data(), sizeof(to));
}
}  // namespace

xdpturn_binding_key to_abi(const BindingKey& key) {
    xdpturn_binding_key abi{};
    copy_address(abi.client_addr, key.client.address);
    abi.client_port = htons(key.client.port);
    abi.channel = htons(key.channel);
    return abi;
}

xdpturn_binding_value to_abi(const BindingTarget& target) {
    xdpturn_binding_value abi{};
    copy_address(abi.peer_addr, target.peer.address);
    abi.peer_port = htons(target.peer.port);
    abi.allocation_port = htons(target.allocation_port);
    return abi;
}

xdpturn_peer_key to_abi(const PeerKey& key) {
    xdpturn_peer_key abi{};
    copy_address(abi.peer_addr, key.peer.address);
    abi.peer_port = htons(key.peer.port);
    abi.allocation_port = htons(key.allocation_port);
    return abi;
}

xdpturn_peer_value to_abi_reverse(const BindingKey& key) {
    xdpturn_peer_value abi{};
    copy_address(abi.client_addr, key.client.address);
    abi.client_port = htons(key.client.port);
    abi.channel = htons(key.channel);
    return abi;
}

BindingKey from_abi(const xdpturn_peer_value& value) {
    Ipv6Bytes address{};
    std::memcpy(address.data(), value.client_addr, address.size());
    return BindingKey{Endpoint{IpAddress::from_bytes(address), ntohs(value.client_port)}, ntohs(value.channel)};
}

namespace {
std::size_t max_entries(int map_fd) {
    bpf_map_info info{};
    __u32 length = sizeof(info);
    if (bpf_obj_get_info_by_fd(map_fd, &info, &length) != 0) return XDPTURN_MAX_BINDINGS;
    return info.max_entries;
}
}  // namespace

MapSync::MapSync(XdpProgram& program, std::optional<std::size_t> capacity)
    : program_(&program),
      capacity_(std::min({max_entries(program.bindings_fd()), max_entries(program.channels_fd()),
                          capacity.value_or(std::numeric_limits<std::size_t>::max())})) {}

template <class Key, class Value>
Status MapSync::timed_batch(int map_fd, const char* map, std::vector<Key>& keys, std::vector<Value>* values) {
    if (keys.empty()) return ok_status();
    auto count = static_cast<__u32>(keys.size());
    const auto start = std::chrono::steady_clock::now();
    const int status = values == nullptr ? bpf_map_delete_batch(map_fd, keys.data(), &count, nullptr)
                                         : bpf_map_update_batch(map_fd, keys.data(), values->data(), &count, nullptr);
    const int error = errno;
    syscall_ns_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
    entries_changed_ += keys.size();
    if (status != 0)
        return Error{std::string(values == nullptr ? "cannot delete entries from" : "cannot write entries to") +
                     " the XDP map '" + map + "': " + bpf_error_text(error)};
    return ok_status();
}

Status MapSync::apply(const BindingTable& wanted) {
    // What must go, goes first, whatever happens to what comes.
    if (auto deleted = delete_missing(written_, wanted); !deleted) return deleted;
    held_back_.clear();
    if (wanted.size() > capacity_)
        return Error{"binding table of " + std::to_string(wanted.size()) + " entries exceeds the maps' " +
                     std::to_string(capacity_)};
    return overlay(wanted);
}

Status MapSync::apply_changes(std::span<const BindingChange> changes) {
    // The net effect of the changes, in order: a binding removed and made
    // again in one step is one write.
    BindingTable removed;
    BindingTable set;
    for (const BindingChange& change : changes) {
        if (change.target) {
            set.insert_or_assign(change.key, *change.target);
            continue;
        }
        set.erase(change.key);
        held_back_.erase(change.key);
        if (const auto old = written_.find(change.key); old != written_.end())
            removed.insert_or_assign(change.key, old->second);
    }
    if (auto deleted = delete_missing(removed, set); !deleted) return deleted;
    // Keys the maps hold keep their room; new ones take what is left, and
    // the bindings held back earlier get the room a delete freed.
    std::size_t room = capacity_ - std::min(capacity_, written_.size());
    BindingTable writes;
    const auto place = [&](const BindingKey& key, const BindingTarget& target) {
        if (written_.contains(key)) {
            writes.insert_or_assign(key, target);
        } else if (room > 0) {
            --room;
            writes.insert_or_assign(key, target);
            held_back_.erase(key);
        } else if (held_back_.insert_or_assign(key, target).second) {
            ++held_back_count_;
        }
    };
    for (const auto& [key, target] : set) place(key, target);
    // Room a delete freed goes to bindings held back earlier; the walk stops
    // with the room, so a full map costs nothing per change.
    std::vector<BindingTable::value_type> promoted;
    for (auto held = held_back_.begin(); room > 0 && held != held_back_.end(); --room) {
        writes.insert_or_assign(held->first, held->second);
        promoted.push_back(*held);
        held = held_back_.erase(held);
    }
    auto written = overlay(writes);
    if (!written) held_back_.insert(promoted.begin(), promoted.end());  // they wait on
    return written;
}

Status MapSync::replace_layer(const BindingTable& previous, const BindingTable& next) {
    if (auto deleted = delete_missing(previous, next); !deleted) return deleted;
    return overlay(next);
}

Status MapSync::delete_missing(const BindingTable& candidates, const BindingTable& keep) {
    std::vector<xdpturn_binding_key> stale;
    std::vector<xdpturn_peer_key> stale_reverse;
    std::vector<BindingKey> stale_keys;
    for (const auto& [key, target] : candidates) {
        if (keep.contains(key)) continue;
        const auto old = written_.find(key);
        if (old == written_.end()) continue;
        stale.push_back(to_abi(key));
        stale_keys.push_back(key);
        const PeerKey reverse = peer_key_of(old->second);
        if (const auto owner = reverse_written_.find(reverse); owner != reverse_written_.end() && owner->second == key)
            stale_reverse.push_back(to_abi(reverse));
    }
    if (auto deleted = timed_batch(program_->bindings_fd(), XDPTURN_BINDINGS_MAP_NAME, stale,
                                   static_cast<std::vector<xdpturn_binding_value>*>(nullptr));
        !deleted)
        return deleted;
    if (auto deleted = timed_batch(program_->channels_fd(), XDPTURN_CHANNELS_MAP_NAME, stale_reverse,
                                   static_cast<std::vector<xdpturn_peer_value>*>(nullptr));
        !deleted)
        return deleted;
    for (const BindingKey& key : stale_keys) {
        const PeerKey reverse = peer_key_of(written_.at(key));
        if (const auto owner = reverse_written_.find(reverse); owner != reverse_written_.end() && owner->second == key)
            reverse_written_.erase(owner);
        written_.erase(key);
    }
    return ok_status();
}

std::optional<std::string> MapSync::conflict(const BindingTable& changes) const {
    std::unordered_map<PeerKey, BindingKey, PeerKeyHash> claimed;
    for (const auto& [key, target] : changes) {
        const PeerKey reverse = peer_key_of(target);
        auto [claim, added] = claimed.emplace(reverse, key);
        std::optional<BindingKey> other;
        if (!added) other = claim->second;
        // An entry already written keeps its peer key unless this change
        // gives that entry another target.
        const auto owner = reverse_written_.find(reverse);
        if (!other && owner != reverse_written_.end() && !(owner->second == key)) {
            const auto owner_change = changes.find(owner->second);
            if (owner_change == changes.end() || peer_key_of(owner_change->second) == reverse) other = owner->second;
        }
        if (other)
            return "peer " + to_string(target.peer) + " on allocation port " + std::to_string(target.allocation_port) +
                   " would be bound to two channels: " + to_string(other->client) + " channel " +
                   std::to_string(other->channel) + " and " + to_string(key.client) + " channel " +
                   std::to_string(key.channel);
    }
    return std::nullopt;
}

Status MapSync::overlay(const BindingTable& entries) {
    BindingTable changes;
    for (const auto& [key, target] : entries) {
        const auto old = written_.find(key);
        if (old == written_.end() || !(old->second == target)) changes.emplace(key, target);
    }
    if (changes.empty()) return ok_status();
    // Only keys the map does not hold yet take room; changed values do not.
    std::size_t added = 0;
    for (const auto& [key, target] : changes) added += written_.contains(key) ? 0 : 1;
    if (written_.size() + added > capacity_) return Error{"the XDP binding map is full"};
    if (auto clash = conflict(changes)) return Error{"binding table rejected: " + *clash};

    std::vector<xdpturn_binding_key> keys;
    std::vector<xdpturn_binding_value> values;
    std::vector<xdpturn_peer_key> freed_reverse;
    std::vector<xdpturn_peer_key> reverse_keys;
    std::vector<xdpturn_peer_value> reverse_values;
    std::unordered_set<PeerKey, PeerKeyHash> claimed;
    for (const auto& [key, target] : changes) claimed.insert(peer_key_of(target));
    for (const auto& [key, target] : changes) {
        keys.push_back(to_abi(key));
        values.push_back(to_abi(target));
        reverse_keys.push_back(to_abi(peer_key_of(target)));
        reverse_values.push_back(to_abi_reverse(key));
        const auto old = written_.find(key);
        if (old == written_.end()) continue;
        // The entry's old peer key goes, unless another change takes it over.
        const PeerKey old_reverse = peer_key_of(old->second);
        if (!claimed.contains(old_reverse)) freed_reverse.push_back(to_abi(old_reverse));
    }
    if (auto deleted = timed_batch(program_->channels_fd(), XDPTURN_CHANNELS_MAP_NAME, freed_reverse,
                                   static_cast<std::vector<xdpturn_peer_value>*>(nullptr));
        !deleted)
        return deleted;
    if (auto updated = timed_batch(program_->bindings_fd(), XDPTURN_BINDINGS_MAP_NAME, keys, &values); !updated)
        return updated;
    if (auto updated = timed_batch(program_->channels_fd(), XDPTURN_CHANNELS_MAP_NAME, reverse_keys, &reverse_values);
        !updated)
        return updated;
    for (const auto& [key, target] : changes) {
        if (const auto old = written_.find(key); old != written_.end()) {
            const auto owner = reverse_written_.find(peer_key_of(old->second));
            if (owner != reverse_written_.end() && owner->second == key) reverse_written_.erase(owner);
        }
        written_.insert_or_assign(key, target);
    }
    for (const auto& [key, target] : changes) reverse_written_.insert_or_assign(peer_key_of(target), key);
    return ok_status();
}

}  // namespace xdpturn
