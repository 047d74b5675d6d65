#include "harness/map_sync.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
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

Status MapSync::apply(const BindingTable& wanted) {
    if (wanted.size() > XDPTURN_MAX_BINDINGS)
        return Error{"binding table of " + std::to_string(wanted.size()) + " entries exceeds the map's " +
                     std::to_string(XDPTURN_MAX_BINDINGS)};
    if (wanted == written_) return ok_status();  // the common case in a run: no syscall
    std::vector<xdpturn_binding_key> stale;
    for (const auto& [key, target] : written_)
        if (!wanted.contains(key)) stale.push_back(to_abi(key));
    std::vector<xdpturn_binding_key> keys;
    std::vector<xdpturn_binding_value> values;
    for (const auto& [key, target] : wanted) {
        const auto old = written_.find(key);
        if (old != written_.end() && old->second == target) continue;
        keys.push_back(to_abi(key));
        values.push_back(to_abi(target));
    }

    const int fd = program_->bindings_fd();
    if (!stale.empty()) {
        auto count = static_cast<__u32>(stale.size());
        if (bpf_map_delete_batch(fd, stale.data(), &count, nullptr) != 0)
            return Error{std::string("cannot delete bindings from the XDP map: ") + std::strerror(errno)};
    }
    if (!keys.empty()) {
        auto count = static_cast<__u32>(keys.size());
        if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, nullptr) != 0)
            return Error{std::string("cannot write bindings to the XDP map: ") + std::strerror(errno)};
    }
    written_ = wanted;
    return ok_status();
}

}  // namespace xdpturn
