// Keeps the XDP binding map equal to a BindingTable. It remembers what it
// wrote, so a new table costs one batched update and one batched delete for
// the difference, not a syscall per entry.
#pragma once

#include "harness/bpf_program.hpp"
#include "relay/config.hpp"
#include "relay/result.hpp"

extern "C" {
#include "bpf/xdpturn_abi.h"
}

namespace xdpturn {

xdpturn_binding_key to_abi(const BindingKey& key);
xdpturn_binding_value to_abi(const BindingTarget& target);

class MapSync {
  public:
    explicit MapSync(XdpProgram& program) : program_(&program) {}

    Status apply(const BindingTable& wanted);
    const BindingTable& written() const { return written_; }

  private:
    XdpProgram* program_;
    BindingTable written_;
};

}  // namespace xdpturn
