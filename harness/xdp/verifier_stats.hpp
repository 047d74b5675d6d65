// The verifier's verdict and effort for every program of BPF object files
// (`xdpturn verify`): each program loaded on its own, with the verifier's
// statistics (log level 4), so a change that takes a program near a
// kernel's complexity limit shows before the kernel refuses it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xdpturn {

struct VerifierStats {
    std::uint64_t instructions_processed = 0;
    std::uint64_t instruction_limit = 0;
    std::uint64_t total_states = 0;
    std::uint64_t peak_states = 0;
    std::uint64_t max_states_per_instruction = 0;
};

// The "processed N insns (limit L) max_states_per_insn M total_states T
// peak_states P" line of a verifier log; nothing when the log has none.
std::optional<VerifierStats> parse_verifier_stats(const std::string& log);

struct ProgramVerdict {
    std::string object;   // the file, as given
    std::string program;  // the program's name in it
    std::string section;
    bool loaded = false;
    std::optional<VerifierStats> stats;  // when loaded
    std::string error;                   // when not: errno and the verifier's last lines
    std::string unread_log;              // loaded, but no statistics line found: the log as it came
};

// Every program of `object_path`, each loaded alone (the others' autoload
// off, pinning off). An object that does not open is one verdict naming no
// program.
std::vector<ProgramVerdict> verify_object(const std::string& object_path);

}  // namespace xdpturn
