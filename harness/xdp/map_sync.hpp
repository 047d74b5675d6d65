// Keeps the XDP program's two maps equal to a BindingTable: `bindings`
// (client, channel) -> (allocation port, peer) for client -> peer, and its
// reverse `channels_by_peer` (peer, allocation port) -> (client, channel)
// for peer -> client. It remembers what it wrote, so a new table costs a
// few batched updates and deletes for the difference, not a syscall per
// entry, and both maps always describe the same channels.
//
// The relay feeds it the core's changes one at a time (apply_changes): each
// costs map work for that change only, whatever the table's size. Deletes
// always go first and always reach the kernel. When the maps are full, a
// new binding stays with user space (held back, counted) and moves into the
// maps when a delete makes room; an old binding is never left behind.
#pragma once

#include <optional>
#include <span>
#include <unordered_map>

#include "harness/xdp/xdp_program.hpp"
#include "relay/model/bindings.hpp"
#include "relay/net/result.hpp"

extern "C" {
#include "bpf/xdpturn_abi.h"
}

namespace xdpturn {

xdpturn_binding_key to_abi(const BindingKey& key);
xdpturn_binding_value to_abi(const BindingTarget& target);
xdpturn_peer_key to_abi(const PeerKey& key);
xdpturn_peer_value to_abi_reverse(const BindingKey& key);
BindingKey from_abi(const xdpturn_peer_value& value);

class MapSync {
  public:
    // `capacity` lowers the number of bindings the maps may hold below what
    // the maps themselves hold (the smaller of the two maps' sizes).
    explicit MapSync(XdpProgram& program, std::optional<std::size_t> capacity = std::nullopt);

    // Makes the maps equal to `wanted`: deletes first, then an error when
    // `wanted` does not fit.
    Status apply(const BindingTable& wanted);
    // Applies the relay's changes in order, as the fewest map operations:
    // deletes, then writes; a new binding that does not fit is held back in
    // user space until a delete makes room.
    Status apply_changes(std::span<const BindingChange> changes);
    // Bindings wanted but not in the maps for want of room, and how many
    // times a binding was held back.
    const BindingTable& held_back() const { return held_back_; }
    std::uint64_t held_back_count() const { return held_back_count_; }
    std::size_t capacity() const { return capacity_; }
    // Adds or changes only these entries (those that differ from the map),
    // leaving every other entry in place.
    Status overlay(const BindingTable& entries);
    // Replaces one layer of entries with another, leaving the rest of the
    // maps alone: deletes what only `previous` had, writes what `next` has.
    // Costs map work in proportion to the layers, not to the whole table.
    Status replace_layer(const BindingTable& previous, const BindingTable& next);
    const BindingTable& written() const { return written_; }
    // Time spent in map syscalls, and entries written or deleted.
    std::uint64_t syscall_nanoseconds() const { return syscall_ns_; }
    std::uint64_t entries_changed() const { return entries_changed_; }

  private:
    // Deletes from the maps the keys of `candidates` that `keep` lacks.
    Status delete_missing(const BindingTable& candidates, const BindingTable& keep);
    // The first peer key the changes would bind to two channels, if any.
    std::optional<std::string> conflict(const BindingTable& changes) const;
    template <class Key, class Value>
    Status timed_batch(int map_fd, const char* map, std::vector<Key>& keys, std::vector<Value>* values);

    XdpProgram* program_;
    std::size_t capacity_;
    BindingTable written_;
    BindingTable held_back_;
    std::uint64_t held_back_count_ = 0;
    std::unordered_map<PeerKey, BindingKey, PeerKeyHash> reverse_written_;
    std::uint64_t syscall_ns_ = 0;
    std::uint64_t entries_changed_ = 0;
};

}  // namespace xdpturn
