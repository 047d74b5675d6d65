// Keeps the XDP binding map equal to a BindingTable. It remembers what it
// wrote, so a new table costs one batched update and one batched delete for
// the difference, not a syscall per entry.
#pragma once

#include "harness/xdp/xdp_program.hpp"
#include "relay/model/bindings.hpp"
#include "relay/net/result.hpp"

extern "C" {
#include "bpf/xdpturn_abi.h"
}

namespace xdpturn {

xdpturn_binding_key to_abi(const BindingKey& key);
xdpturn_binding_value to_abi(const BindingTarget& target);

class MapSync {
  public:
    explicit MapSync(XdpProgram& program) : program_(&program) {}

    // Makes the map equal to `wanted`: one batched delete, one batched update.
    Status apply(const BindingTable& wanted);
    // Adds or changes only these entries (those that differ from the map),
    // leaving every other entry in place: one batched update at most.
    Status overlay(const BindingTable& entries);
    // Replaces one layer of entries with another, leaving the rest of the
    // map alone: deletes what only `previous` had, writes what `next` has.
    // Costs map work in proportion to the layers, not to the whole table.
    Status replace_layer(const BindingTable& previous, const BindingTable& next);
    const BindingTable& written() const { return written_; }
    // Time spent in map syscalls, and entries written or deleted.
    std::uint64_t syscall_nanoseconds() const { return syscall_ns_; }
    std::uint64_t entries_changed() const { return entries_changed_; }

  private:
    XdpProgram* program_;
    // Deletes from the map the keys of `candidates` that `keep` lacks.
    Status delete_missing(const BindingTable& candidates, const BindingTable& keep);
    Status timed_batch(bool remove, std::vector<xdpturn_binding_key>& keys, std::vector<xdpturn_binding_value>* values);

    BindingTable written_;
    std::uint64_t syscall_ns_ = 0;
    std::uint64_t entries_changed_ = 0;
};

}  // namespace xdpturn
