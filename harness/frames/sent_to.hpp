// A frame as if it had been sent to another address: for targets whose key
// holds a wildcard (docs/targets.md), which take a frame sent to any address
// as sent to the binding's. The checksums that cover the destination follow
// it by RFC 1624's update, so a checksum that was wrong stays wrong by the
// same amount.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "relay/net/address.hpp"

namespace xdpturn {

// The frame with its IP destination `address`, or nothing when it is not
// an untagged UDP frame of the address's family with room for its headers,
// or already goes there.
std::optional<std::vector<std::uint8_t>> sent_to(std::span<const std::uint8_t> frame, const IpAddress& address);

}  // namespace xdpturn
