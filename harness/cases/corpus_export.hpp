// Writes the generated edge-case corpus: one small capture per contract row
// (the fixed cases of that row), each with its binding file, plus captures
// of frames replay must skip, and a manifest of what replaying each must
// report. The expectations come from the fixed cases, not from replay.
#pragma once

#include <string>

#include "relay/net/result.hpp"

namespace xdpturn {

// Returns the manifest's path.
Result<std::string> export_row_corpus(const std::string& directory);

}  // namespace xdpturn
