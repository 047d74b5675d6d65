// The third oracle of replay: a capture taken at a relay also holds what the
// relay really sent: the UDP datagram to the peer for each ChannelData
// message it received, and the ChannelData message to the client for each
// peer datagram. Each XDP_TX output is expected to appear in the capture as
// such a datagram: same source port, destination address and port, and payload.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>

#include "relay/net/bytes.hpp"

namespace xdpturn {

class CaptureOracle {
  public:
    // Expectations kept at most, oldest dropped first (memory stays flat).
    static constexpr std::size_t max_pending = 65536;

    // Registers the XDP output of a relayed frame.
    void expect(Bytes xdp_output);
    // Looks at a captured frame: true if it is the relay's real output for a
    // pending expectation (which is then matched).
    bool observe(Bytes captured_frame);

    std::uint64_t expected() const { return expected_; }
    std::uint64_t matched() const { return matched_; }
    std::uint64_t dropped() const { return dropped_; }

  private:
    // A 64-bit hash of destination address, both ports and payload; 0 for
    // frames that are not IPv4 UDP. Hashes, not copies: memory per pending
    // expectation stays small whatever the payload size.
    static std::uint64_t key_of(Bytes frame);

    std::unordered_map<std::uint64_t, std::uint32_t> pending_;
    std::deque<std::uint64_t> order_;
    std::uint64_t expected_ = 0;
    std::uint64_t matched_ = 0;
    std::uint64_t dropped_ = 0;
};

}  // namespace xdpturn
