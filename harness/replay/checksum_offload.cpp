#include "harness/replay/checksum_offload.hpp"

#include <optional>

#include "harness/frames/textbook_checksum.hpp"
#include "harness/frames/udp_view.hpp"

namespace xdpturn {

namespace {

std::uint32_t pseudo_header_sum(const UdpView& udp, Bytes frame) {
    const Bytes ip_header = frame.subspan(layout::ip_at);
    return udp.ipv6 ? textbook_udp6_pseudo_header_sum(ip_header, udp.udp_length)
                    : textbook_udp_pseudo_header_sum(ip_header, udp.udp_length);
}

}  // namespace

UdpChecksumState classify_udp_checksum(Bytes frame) {
    const auto udp = find_udp(frame);
    if (!udp) return UdpChecksumState::not_applicable;
    const std::uint16_t field = load_be16(frame, udp->udp_at + 6);
    if (field == 0) return UdpChecksumState::none;
    const std::uint32_t pseudo = pseudo_header_sum(*udp, frame);
    const std::uint32_t total = textbook_sum(frame.subspan(udp->udp_at, udp->udp_length), pseudo);
    if (total == 0xFFFF) return UdpChecksumState::valid;
    // Linux leaves ~csum_tcpudp_magic(...): the folded pseudo-header sum.
    if (field == pseudo || (pseudo == 0xFFFF && field == 0)) return UdpChecksumState::partial;
    return UdpChecksumState::wrong;
}

bool repair_udp_checksum(std::vector<std::uint8_t>& frame) {
    const auto udp = find_udp(frame);
    if (!udp) return false;
    store_be16(frame, udp->udp_at + 6, 0);
    const std::uint32_t total =
        textbook_sum(Bytes(frame).subspan(udp->udp_at, udp->udp_length), pseudo_header_sum(*udp, frame));
    std::uint16_t checksum = static_cast<std::uint16_t>(~total & 0xFFFF);
    if (checksum == 0) checksum = 0xFFFF;
    store_be16(frame, udp->udp_at + 6, checksum);
    return true;
}

}  // namespace xdpturn
