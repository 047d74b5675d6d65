// Turns captured frames of the common link types into Ethernet frames, the
// only input the XDP program takes, and says what it had to make up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "relay/net/bytes.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

class LinkAdapter {
  public:
    // For a capture's DLT_* link type; an error names unsupported ones.
    static Result<LinkAdapter> for_link_type(int link_type);

    // The frame as Ethernet: a view of `captured` itself for Ethernet
    // captures, otherwise a frame built in `scratch`. An error says why a
    // frame cannot be converted (too short for its link header, an unknown
    // protocol family).
    Result<Bytes> to_ethernet(Bytes captured, std::vector<std::uint8_t>& scratch) const;

    // What was synthesised, for reports; empty for Ethernet captures.
    const std::string& synthesised() const { return synthesised_; }
    const std::string& name() const { return name_; }

  private:
    enum class Kind { ethernet, linux_cooked_v1, linux_cooked_v2, raw_ip, bsd_loopback_host, bsd_loopback_network };
    LinkAdapter(Kind kind, std::string name, std::string synthesised)
        : kind_(kind), name_(std::move(name)), synthesised_(std::move(synthesised)) {}

    Kind kind_;
    std::string name_;
    std::string synthesised_;
};

}  // namespace xdpturn
