// Writes the seed corpora of the fuzz targets: the fixed-case frames (for
// the frame targets), the RFC 5769 vectors and TURN messages built by the
// codec (for the STUN target). The capture target's seeds are pcaps/.
//   make_seeds DIR
#include <filesystem>
#include <fstream>
#include <string>

#include "harness/cases/fixed_cases.hpp"
#include "harness/frames/udp_view.hpp"
#include "relay/turn/stun.hpp"

using namespace xdpturn;

namespace {

void write(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// The case's frame reaches a binding whose far end is of the other family.
bool bound_across(const FixedCase& c) {
    const auto udp = find_udp(c.frame);
    if (!udp) return false;
    for (const auto& [key, target] : c.bindings) {
        const bool client_key =
            udp->payload.size() >= 2 && key.client == udp->source && key.channel == load_be16(udp->payload, 0);
        const bool peer_key = target.peer == udp->source && target.allocation_port == udp->destination.port;
        if (client_key) return target.peer.address.is_v4() != udp->source.address.is_v4();
        if (peer_key) return key.client.address.is_v4() != udp->source.address.is_v4();
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    const std::filesystem::path root = argv[1];
    for (const char* target : {"stun", "reference", "differential"}) std::filesystem::create_directories(root / target);
    int n = 0;
    for (const FixedCase& c : fixed_cases()) {
        const auto udp = find_udp(c.frame);
        const bool from_peer = udp && udp->destination.port != c.config.turn_port;
        const bool ipv6 = udp && udp->ipv6;
        const std::uint8_t config = static_cast<std::uint8_t>(
            (c.config.channels == rfc5766_channels ? 1 : 0) | (c.config.turn_port == 443 ? 2 : 0) |
            (from_peer ? 4 : 0) | (ipv6 ? 8 : 0) | (c.config.relay_ipv4 ? 16 : 0) | (bound_across(c) ? 32 : 0));
        std::vector<std::uint8_t> reference = {config};
        reference.insert(reference.end(), c.frame.begin(), c.frame.end());
        write(root / "reference" / ("case" + std::to_string(n)), reference);
        std::vector<std::uint8_t> differential = {3, config};  // three bindings: the frame's own is added
        differential.resize(2 + 3 * (ipv6 ? 40 : 16), 0);
        differential.insert(differential.end(), c.frame.begin(), c.frame.end());
        write(root / "differential" / ("case" + std::to_string(n)), differential);
        ++n;
    }
    const stun::TransactionId id{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const auto key = stun::long_term_key("user", "xdpturn", "pass");
    write(root / "stun" / "allocate", stun::MessageBuilder(stun::Method::allocate, stun::Class::request, id)
                                          .add_requested_transport(stun::transport_udp)
                                          .add_text(stun::attribute::username, "user")
                                          .add_text(stun::attribute::realm, "xdpturn")
                                          .add_text(stun::attribute::nonce, "nonce")
                                          .finish(Bytes(key), true));
    write(root / "stun" / "channel-bind",
          stun::MessageBuilder(stun::Method::channel_bind, stun::Class::request, id)
              .add_channel_number(0x4000)
              .add_xor_address(stun::attribute::xor_peer_address, stun::TransportAddress::v4(0xCB007109, 6000))
              .finish(Bytes(key), true));
    write(root / "stun" / "error",
          stun::MessageBuilder(stun::Method::allocate, stun::Class::error, id).add_error(401, "Unauthorized").finish());
    return 0;
}
