// Reading a whole file a user named (a description, a binding file, a
// tracefile, a report, a source): only a regular file, and only up to a
// limit per kind. A directory, a FIFO or a device such as /dev/zero, or a
// file past its limit, is an error that names the path and why, never an
// unbounded read or an exception.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "relay/net/result.hpp"

namespace xdpturn {

// The limits, by kind: far above any real file of the kind.
inline constexpr std::size_t description_file_limit = std::size_t{1} << 20;  // target descriptions
inline constexpr std::size_t bindings_file_limit = std::size_t{256} << 20;   // 65536 bindings are ~10 MiB
inline constexpr std::size_t tracefile_limit = std::size_t{256} << 20;
inline constexpr std::size_t report_file_limit = std::size_t{1} << 30;  // replay's per-packet entries
inline constexpr std::size_t source_file_limit = std::size_t{16} << 20;

// The bytes of `path`; `kind` names it in errors ("bindings file").
Result<std::string> read_input_file(const std::string& path, std::string_view kind, std::size_t limit);

}  // namespace xdpturn
