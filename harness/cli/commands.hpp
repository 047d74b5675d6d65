#pragma once

namespace xdpturn::cli {

inline constexpr int exit_equal = 0;
inline constexpr int exit_disagreement = 1;
inline constexpr int exit_usage = 2;

int run_cases(int argc, char** argv);
int run_bench(int argc, char** argv);
int run_check(int argc, char** argv);
int run_replay(int argc, char** argv);
int run_relay(int argc, char** argv);

}  // namespace xdpturn::cli
