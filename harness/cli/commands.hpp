#pragma once

namespace xdpturn::cli {

inline constexpr int exit_equal = 0;
inline constexpr int exit_disagreement = 1;
inline constexpr int exit_usage = 2;

int cases_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int check_command(int argc, char** argv);
int replay_command(int argc, char** argv);
int relay_command(int argc, char** argv);

}  // namespace xdpturn::cli
