#include "harness/xdp/map_sync.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace xdpturn {

xdpturn_binding_key to_abi(const BindingKey& key) {
    return xdpturn_binding_key{htonl(key.client.address.value), htons(key.client.port), htons(key.channel)};
}

xdpturn_binding_value to_abi(const BindingTarget& target) {
    return xdpturn_binding_value{htonl(target.peer.address.value), htons(target.peer.port),
                                 htons(target.allocation_port)};
}

Status MapSync::timed_batch(bool remove, std::vector<xdpturn_binding_key>& keys,
                            std::vector<xdpturn_binding_value>* values) {
    if (keys.empty()) return ok_status();
    auto count = static_cast<__u32>(keys.size());
    const auto start = std::chrono::steady_clock::now();
    const int status =
        remove ? bpf_map_delete_batch(program_->bindings_fd(), keys.data(), &count, nullptr)
               : bpf_map_update_batch(program_->bindings_fd(), keys.data(), values->data(), &count, nullptr);
    const int error = errno;
    syscall_ns_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
    entries_changed_ += keys.size();
    if (status != 0)
        return Error{std::string(remove ? "cannot delete bindings from" : "cannot write bindings to") +
                     " the XDP map: " + bpf_error_text(error)};
    return ok_status();
}

Status MapSync::apply(const BindingTable& wanted) {
    if (wanted.size() > XDPTURN_MAX_BINDINGS)
        return Error{"binding table of " + std::to_string(wanted.size()) + " entries exceeds the map's " +
                     std::to_string(XDPTURN_MAX_BINDINGS)};
    if (auto deleted = delete_missing(written_, wanted); !deleted) return deleted;
    return overlay(wanted);
}

Status MapSync::replace_layer(const BindingTable& previous, const BindingTable& next) {
    if (auto deleted = delete_missing(previous, next); !deleted) return deleted;
    return overlay(next);
}

Status MapSync::delete_missing(const BindingTable& candidates, const BindingTable& keep) {
    std::vector<xdpturn_binding_key> stale;
    std::vector<BindingKey> stale_keys;
    for (const auto& [key, target] : candidates)
        if (!keep.contains(key)) {
            stale.push_back(to_abi(key));
            stale_keys.push_back(key);
        }
    if (auto deleted = timed_batch(true, stale, nullptr); !deleted) return deleted;
    for (const BindingKey& key : stale_keys) written_.erase(key);
    return ok_status();
}

Status MapSync::overlay(const BindingTable& entries) {
    std::vector<xdpturn_binding_key> keys;
    std::vector<xdpturn_binding_value> values;
    for (const auto& [key, target] : entries) {
        const auto old = written_.find(key);
        if (old != written_.end() && old->second == target) continue;
        keys.push_back(to_abi(key));
        values.push_back(to_abi(target));
    }
    // Only keys the map does not hold yet take room; changed values do not.
    std::size_t added = 0;
    for (const auto& [key, target] : entries) added += written_.contains(key) ? 0 : 1;
    if (written_.size() + added > XDPTURN_MAX_BINDINGS) return Error{"the XDP binding map is full"};
    if (auto updated = timed_batch(false, keys, &values); !updated) return updated;
    for (const auto& [key, target] : entries) written_.insert_or_assign(key, target);
    return ok_status();
}

}  // namespace xdpturn
