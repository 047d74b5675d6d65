// Keeps a target's binding maps following a relay's bindings, one change at
// a time, through its description (TargetProgram::write and remove): what
// MapSync does for our program, for a program that is not ours. It
// remembers what it wrote, so a changed or removed binding takes its old
// entries with it.
#pragma once

#include <span>

#include "harness/foreign/target_program.hpp"
#include "relay/model/bindings.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

class TargetSync {
  public:
    explicit TargetSync(TargetProgram& program) : program_(&program) {}

    // Applies the changes in order: a binding's old entries go before its
    // new ones are written, and a removed binding's entries go.
    Status apply_changes(std::span<const BindingChange> changes);
    const BindingTable& written() const { return written_; }

  private:
    TargetProgram* program_;
    BindingTable written_;
};

}  // namespace xdpturn
