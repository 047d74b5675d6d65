// What every loader of a BPF object needs, ours or a target's: libbpf's log
// collected while loading (the verifier's reasons), errno explained, and the
// object's global variables found by name through its BTF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <bpf/libbpf.h>

#include "harness/xdp/bpf_object_ptr.hpp"
#include "relay/model/reason.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

// Collects libbpf's messages (above debug level) on this thread into
// `sink` while alive; other threads' loads go on at the same time.
class LogCapture {
  public:
    explicit LogCapture(std::string& sink);
    ~LogCapture();
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

  private:
    std::string* previous_;
};

// The last `count` lines of `text`.
std::string tail_lines(const std::string& text, std::size_t count);

// An errno from opening or loading an object, in words a user can act on.
std::string explain_errno(int error);

struct GlobalVariable {
    bpf_map* map = nullptr;
    std::size_t offset = 0;
    std::size_t size = 0;
};

// Loads an opened object, with libbpf's and the verifier's log in the error
// ("cannot load <what>: ..."). When the coverage recorder is active, its XDP
// programs get probes on the way (harness/coverage/recorder.hpp).
Status load_object(bpf_object* object, const std::string& what);

// A global variable in a data section (".rodata", ".bss") by name, via the
// object's BTF.
Result<GlobalVariable> find_global(bpf_object* object, const char* section, const char* variable);

// Writes `value` over a .rodata global of exactly its size, before load.
Status set_rodata(bpf_object* object, const char* variable, std::span<const std::uint8_t> value);

// A map the program keeps state in from one frame to the next of its own
// accord: not one the harness writes (binding tables, configuration) or
// reads as counters, and not global data (.rodata, .bss, .data).
struct StateMap {
    int fd = -1;
    bpf_map_type type = BPF_MAP_TYPE_UNSPEC;
    std::uint32_t entries = 0;
    std::size_t key_bytes = 0;
    std::size_t value_bytes = 0;  // per-CPU maps: all CPUs' values together
};

// The state maps of a loaded object that the harness can put back as a
// fresh load has them: arrays (zeroed) and hash maps (emptied), per-CPU or
// not. `kept` names the maps the caller owns.
std::vector<StateMap> state_maps(bpf_object* object, std::span<const std::string> kept, int cpus);

// Puts them back: every array entry zero, every hash map empty.
Status reset_state_maps(std::span<const StateMap> maps, const std::string& origin);

// A per-CPU array of reason counters (docs/datapath.md's codes), each summed
// over `cpus` CPUs.
Result<ReasonTally> sum_reason_counters(int counters_fd, int cpus);

}  // namespace xdpturn
