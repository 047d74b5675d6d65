#include "harness/foreign/target_sync.hpp"

namespace xdpturn {

Status TargetSync::apply_changes(std::span<const BindingChange> changes) {
    for (const BindingChange& change : changes) {
        if (const auto old = written_.find(change.key); old != written_.end()) {
            if (change.target && old->second == *change.target) continue;
            if (Status removed = program_->remove(change.key, old->second); !removed) return removed;
            written_.erase(old);
        }
        if (!change.target) continue;
        if (Status written = program_->write(change.key, *change.target); !written) return written;
        written_.emplace(change.key, *change.target);
    }
    return ok_status();
}

}  // namespace xdpturn
