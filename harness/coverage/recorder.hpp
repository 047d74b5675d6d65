// Coverage of every XDP program a run loads, ours or a target's. Once the
// recorder is started, libbpf hands each XDP program to us just before the
// kernel loads it (a program handler for SEC("xdp") and SEC("xdp.frags")):
// probes go in (instrument.hpp), and the program's BTF line information says
// which source line and branch each counter belongs to. At the end the
// counters of all programs are read and added up by source line.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "harness/coverage/source_coverage.hpp"
#include "relay/net/result.hpp"

struct bpf_object;
struct bpf_program;
struct bpf_prog_load_opts;

namespace xdpturn::coverage {

struct RecorderStats {
    std::size_t programs = 0;      // loads instrumented
    std::size_t counters = 0;      // probes in the largest program
    std::size_t insns_before = 0;  // its instructions without and with probes
    std::size_t insns_after = 0;
};

struct ProgramRecord;

class Recorder {
  public:
    // Registers the program handlers; from now on every load inside a
    // LoadScope is instrumented. Once per process; later calls do nothing.
    static Status start();
    static bool active();
    // Every instrumented program's counters as they are now, by source line.
    static Result<SourceCoverage> collect();
    static RecorderStats stats();

    // While alive, loads on this thread get no probes: the plain program's
    // cost, measured beside the instrumented one.
    class Suspend {
      public:
        Suspend();
        ~Suspend();
        Suspend(const Suspend&) = delete;
        Suspend& operator=(const Suspend&) = delete;

      private:
        bool previous_;
    };
};

// Put around bpf_object__load: the object's XDP programs get probes if the
// recorder is active. `loaded()` after a successful load keeps their counters.
class LoadScope {
  public:
    explicit LoadScope(bpf_object* object);
    ~LoadScope();
    LoadScope(const LoadScope&) = delete;
    LoadScope& operator=(const LoadScope&) = delete;

    // Why probes could not be added (empty: they were, or none were wanted).
    const std::string& error() const { return error_; }
    void loaded();

    // Called by the program handler.
    int prepare(::bpf_program* program, ::bpf_prog_load_opts* options);

  private:
    bpf_object* object_;
    LoadScope* previous_;
    std::string error_;
    std::vector<std::unique_ptr<ProgramRecord>> pending_;
};

}  // namespace xdpturn::coverage
