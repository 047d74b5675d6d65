// libFuzzer target: the parsers behind every option a user types (ranges,
// CIDRs, transport addresses, whole numbers). Fails on a crash, on a value
// accepted outside its range, and on a range that does not print and parse
// back to itself.
#include <cstdlib>
#include <string>

#include "harness/cli/bounded.hpp"
#include "relay/model/bindings.hpp"
#include "relay/turn/peer_policy.hpp"
#include "relay/turn/turn_core.hpp"

using namespace xdpturn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (auto channels = parse_channel_range(text)) {
        if (channels->min < widest_channels.min || channels->max > widest_channels.max || channels->min > channels->max)
            std::abort();
        auto again = parse_channel_range(std::to_string(channels->min) + "-" + std::to_string(channels->max));
        if (!again || !(*again == *channels)) std::abort();
    }
    if (auto ports = parse_port_range(text); ports && (ports->min == 0 || ports->min > ports->max)) std::abort();
    if (auto number = cli::parse_whole_number(text, 1, 256); number && (*number < 1 || *number > 256)) std::abort();
    if (auto cidr = turn::parse_cidr(text); cidr && (cidr->prefix < 0 || cidr->prefix > (cidr->base.ipv6 ? 128 : 32)))
        std::abort();
    (void)turn::parse_transport_address(text);
    (void)parse_endpoint(text);
    return 0;
}
