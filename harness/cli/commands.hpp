#pragma once

#include <cstdint>

namespace xdpturn::cli {

inline constexpr int exit_equal = 0;
inline constexpr int exit_disagreement = 1;
inline constexpr int exit_usage = 2;

// Limits of the numeric options. Worker threads beyond a few per core only
// add contention; a case count past 10^12 would run for days.
inline constexpr std::uint64_t max_jobs = 256;
inline constexpr std::uint64_t max_cases = 1000000000000ull;

int cases_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int check_command(int argc, char** argv);
int coverage_command(int argc, char** argv);
int datapath_command(int argc, char** argv);
int merge_command(int argc, char** argv);
int kernels_command(int argc, char** argv);
int probe_command(int argc, char** argv);
int verify_command(int argc, char** argv);
int replay_command(int argc, char** argv);
int relay_command(int argc, char** argv);
int target_command(int argc, char** argv);

}  // namespace xdpturn::cli
