// libFuzzer target: the peer policy on any address. 17 bytes: a family
// byte and 16 address bytes, then two port bytes. Fails on a crash, and when
// an IPv6 address is allowed although an IPv4 address it embeds is refused
// (the policy must judge an address by what it reaches).
#include <cstdlib>

#include "relay/turn/peer_policy.hpp"

using namespace xdpturn;
using namespace xdpturn::turn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 19) return 0;
    static const PeerPolicy policy({}, {TransportAddress::v4(0xC0000201, 3478)}, {TransportAddress::v4(0xC0000201, 0)},
                                   PortRange{49152, 65535});
    TransportAddress peer;
    peer.ipv6 = (data[0] & 1) != 0;
    for (std::size_t i = 0; i < 16; ++i) peer.address[i] = peer.ipv6 || i < 4 ? data[1 + i] : 0;
    peer.port = static_cast<std::uint16_t>(data[17] << 8 | data[18]);
    const bool refused = policy.refusal(peer).has_value();
    for (TransportAddress inside : embedded_ipv4(peer)) {
        inside.port = peer.port;
        if (policy.refusal(inside) && !refused) std::abort();
    }
    return 0;
}
