// When a target offloads next to nothing on a path its description claims,
// the description is usually wrong, and most often in a byte order. This
// tries each field of its maps read in the other byte order, on a short
// property run of the same seed, and says which reading makes the target
// offload most of that path: the description's likely mistake, named.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness/check/check_run.hpp"

namespace xdpturn {

// Paths the target claims where it offloaded fewer than one in ten of the
// frames the relay relayed (claimable_paths' indices).
std::vector<std::size_t> paths_left_to_user_space(const CheckTally& tally);

// One line per field whose other byte order makes the target offload at
// least half of those paths' frames. Empty when no path is left, or no
// field explains it.
Result<std::vector<std::string>> byte_order_hints(const CheckOptions& options, const CheckResult& result);

// Each multi-byte field of the description's maps (configuration and
// binding maps, keys and values; constants left out) read in the other
// byte order: the changed description, where the field sits
// ("tiny_channels key client.port (offset 2, 2 bytes)") and the order now
// read. Stops at the first error `visit` returns.
using FlippedField =
    std::function<Status(const TargetDescription& changed, const std::string& place, const char* order)>;
Status for_each_flipped_field(const TargetDescription& description, const FlippedField& visit);

}  // namespace xdpturn
