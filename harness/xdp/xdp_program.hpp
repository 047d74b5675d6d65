// RAII ownership of the loaded XDP object: the libbpf object (which owns the
// program and map fds) and the mmap of its .bss. Loading sets the relay
// configuration in .rodata first, so the program never runs with zeros.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/xdp/bpf_object_ptr.hpp"
#include "harness/xdp/bpf_object_tools.hpp"
#include "relay/model/bindings.hpp"
#include "relay/model/reason.hpp"
#include "relay/net/result.hpp"

struct bpf_map;

namespace xdpturn {

// The text of an error from libbpf or the bpf() syscall, positive or
// negative: libbpf's own codes (4000 and up) have no strerror text.
std::string bpf_error_text(int error);

class XdpProgram {
  public:
    // The object file at `object_path`, or without one the built-in program.
    static Result<XdpProgram> load(const std::optional<std::string>& object_path, const DatapathConfig& config);
    // The program built into this binary (bpf/xdpturn.bpf.c, via its skeleton).
    static Result<XdpProgram> load_builtin(const DatapathConfig& config);
    // Any object that follows bpf/xdpturn_abi.h, e.g. a deliberately broken
    // variant from build/bpf/xdpturn_mutant_*.bpf.o or a user's own XDP TURN program.
    static Result<XdpProgram> load_file(const std::string& path, const DatapathConfig& config);

    XdpProgram(XdpProgram&&) noexcept;
    XdpProgram& operator=(XdpProgram&&) noexcept;
    ~XdpProgram();

    int program_fd() const { return program_fd_; }
    int bindings_fd() const { return bindings_fd_; }
    int channels_fd() const { return channels_fd_; }
    int counters_fd() const { return counters_fd_; }
    const DatapathConfig& config() const { return config_; }
    const std::string& origin() const { return origin_; }

    // The reason of the latest run, read from the mapped .bss (no syscall).
    std::uint32_t last_reason() const;
    void set_last_reason(std::uint32_t value);

    // Per-reason totals, summed over all CPUs.
    Result<ReasonTally> read_counters() const;

    // Puts back what the program keeps from one frame to the next besides
    // its tables and counters (its per-CPU scratch slot) as a fresh load
    // has it, so that a sequence of frames starts from a known state.
    Status reset_state() const;

  private:
    struct Mapping {
        void* address = nullptr;
        std::size_t length = 0;
        ~Mapping();
        Mapping() = default;
        Mapping(Mapping&&) noexcept;
        Mapping& operator=(Mapping&&) noexcept;
    };

    XdpProgram() = default;
    static Result<XdpProgram> load(bpf_object* opened, std::string origin, const DatapathConfig& config);

    BpfObjectPtr object_;
    Mapping bss_;
    std::size_t last_reason_offset_ = 0;
    int program_fd_ = -1;
    int bindings_fd_ = -1;
    int channels_fd_ = -1;
    int counters_fd_ = -1;
    std::vector<StateMap> state_maps_;  // per-CPU scratch: everything but the tables and counters
    int possible_cpus_ = 1;
    DatapathConfig config_;
    std::string origin_;
};

}  // namespace xdpturn
