// The 32-bit sums a relay's checksum arithmetic folds, before their first
// fold, for one input frame and the output it becomes. Folding a 32-bit sum
// to 16 bits takes two steps: low half plus high half, which can carry once
// more, then the same again. A program that folds once is right for every
// sum whose first step does not carry, so such a defect hides until the data
// makes that step carry; the boundary classes count the frames whose sums
// did, one class per sum, and the generator aims data at each.
//
// The sums are the ones RFC 1624 (Eqn. 3, HC' = ~(~HC + ~m + m')) and RFC
// 1071 give, taken over exactly the fields the contract rewrites
// (docs/datapath.md, rows 20 and 23): the update adds the complement of
// each old word and each new word, changed or not, so the sum does not
// depend on which words happen to be equal. A program that groups its words
// otherwise (32-bit words, only the changed ones) folds other sums; these
// are ours, and the textbook's.
//
// Untagged frames of either family without options or extension headers,
// as the generator and the reference's outputs are.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace xdpturn {

struct FoldedSums {
    // An IPv4 output's header checksum: updated from an IPv4 input's, or,
    // from IPv6, summed in full over the new header (RFC 1071; its
    // checksum field counted as zero).
    std::optional<std::uint32_t> ipv4_header;
    bool ipv4_header_in_full = false;
    // The output's UDP checksum: updated from the input's, or, from IPv4
    // without one into IPv6, summed in full over the output's pseudo-header
    // and datagram. None when no checksum goes out.
    std::optional<std::uint32_t> udp;
    bool udp_in_full = false;
    // The update took out channel padding (client -> peer, 1-3 bytes).
    bool udp_padding_removed = false;
};

// `channel_leaves`: the input carries the ChannelData header and the output
// does not (client -> peer); otherwise the output gains it.
FoldedSums folded_sums(std::span<const std::uint8_t> input, std::span<const std::uint8_t> output, bool channel_leaves);

// Low half plus high half passes 0xFFFF: the first fold carries. (The
// second never does: the first leaves at most 0x1FFFE.)
constexpr bool first_fold_carries(std::uint32_t sum) {
    return (sum & 0xFFFF) + (sum >> 16) > 0xFFFF;
}

}  // namespace xdpturn
