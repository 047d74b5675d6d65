// Writing outputs so that a failure is seen: text files are closed and
// checked (a full disk shows only when the buffer is written), and a
// directory is made only where the user named a directory for output.
#pragma once

#include <string>

#include "relay/net/result.hpp"

namespace xdpturn {

// Writes `text` to `path` (replacing it); the error names the path and why.
Status write_text_file(const std::string& path, const std::string& text);

// Makes `directory` (and its parents) if it is missing, for options that
// name an output directory (--artifacts, --counterexamples, --export).
Status ensure_directory(const std::string& directory);

}  // namespace xdpturn
