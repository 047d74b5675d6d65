// An opened libbpf object that is closed, with its programs and maps, when
// its owner drops it; without libbpf's header, for the headers of its owners.
#pragma once

#include <memory>

struct bpf_object;

namespace xdpturn {

struct BpfObjectCloser {
    void operator()(bpf_object* object) const;  // bpf_object__close
};

using BpfObjectPtr = std::unique_ptr<bpf_object, BpfObjectCloser>;

}  // namespace xdpturn
