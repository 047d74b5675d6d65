#include "harness/check/generators.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>

#include "harness/check/generator_parts.hpp"
#include "harness/frames/dissect.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

// Clients come from a small set so that near-miss keys (same address other
// port, same port other address) and repeated keys are common.
constexpr std::uint32_t client_addresses[] = {0xC6336407, 0xC6336408, 0x0A000001};
constexpr std::uint16_t client_ports[] = {50000, 50001, 1};
// The same for IPv6: two neighbours, one whose upper 96 bits differ from
// every other address's (a pseudo-header summed over the last 32 bits alone
// goes unnoticed when only those differ), and one that starts like an
// IPv4-mapped address but is not one (::ffff:0:0/96, RFC 7915's
// IPv4-translated form): a test of the mapped prefix that stops early
// takes it for IPv4.
// The last three are register neighbours of the mapped prefix, whose words
// a test compares as they sit in memory: the third word one more, the
// first one more, the third one less.
constexpr Ipv6Bytes client_addresses6[] = {
    {0x20, 0x01, 0x0D, 0xB8, 0, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07},
    {0x20, 0x01, 0x0D, 0xB8, 0, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08},
    {0xFD, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11, 0x22, 0x33, 0, 0, 0, 0x01},
    {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0xC6, 0x33, 0x64, 0x09},
    {0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0xFF, 0xFF, 0xC6, 0x33, 0x64, 0x0A},
    {0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xC6, 0x33, 0x64, 0x0B},
    {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFE, 0xFF, 0xC6, 0x33, 0x64, 0x0C}};
// Clients may sit on the relay's own address too (a client on the relay's
// host): the first of each family's relay addresses.
constexpr std::uint32_t client_pool[] = {client_addresses[0], client_addresses[1], client_addresses[2],
                                         relay_addresses[0]};
constexpr Ipv6Bytes client_pool6[] = {client_addresses6[0], client_addresses6[1], client_addresses6[2],
                                      client_addresses6[3], client_addresses6[4], client_addresses6[5],
                                      client_addresses6[6], relay_addresses6[0]};

IpAddress pick_address(Chooser& choose, bool ipv6, std::span<const std::uint32_t> v4, std::span<const Ipv6Bytes> v6) {
    const std::uint32_t index = choose.below(static_cast<std::uint32_t>(ipv6 ? v6.size() : v4.size()));
    return ipv6 ? IpAddress::from_bytes(v6[index]) : IpAddress{Ipv4Address{v4[index]}};
}

// Channels that bindings use most: both range ends, coturn's test client's
// numbers, and values whose two bytes differ in every way (byte-order bugs).
// Drawing bound channels from a set keeps keys recurring from case to case,
// so the map changes little between cases.
constexpr std::uint16_t common_channels[] = {0x4000, 0x4001, 0x4FFF, 0x4FFE, 0x4010, 0x4100, 0x4ABC, 0x4321,
                                             0x4567, 0x4444, 0x6635, 0x6F70, 0x7FFF, 0x7FFE, 0x5000, 0x7123};

// Channel numbers: the common set (moved into the configured range when it
// lies outside: a narrow range holds few of them), anywhere in the range,
// exactly at and one past both ends of the configured range and of both
// RFC ranges, and anywhere at all.
std::uint16_t pick_channel(Chooser& choose, const ChannelRange& range) {
    const std::uint32_t width = range.max - range.min + 1u;
    switch (choose.weighted({6, 2, 2, 2, 1})) {
        case 0: {
            const std::uint16_t common = common_channels[choose.below(std::size(common_channels))];
            return common >= range.min && common <= range.max ? common
                                                              : static_cast<std::uint16_t>(range.min + common % width);
        }
        case 1: return choose.range(range.min, range.max);
        case 2:
            return choose.one_of<std::uint16_t>(
                {static_cast<std::uint16_t>(range.min - 1), range.min, static_cast<std::uint16_t>(range.min + 1),
                 static_cast<std::uint16_t>(range.max - 1), range.max, static_cast<std::uint16_t>(range.max + 1)});
        case 3:
            return choose.one_of<std::uint16_t>(
                {0x3FFF, 0x4000, 0x4001, 0x4FFE, 0x4FFF, 0x5000, 0x7FFE, 0x7FFF, 0x8000, 0xFFFF, 0x0000, 0x0001});
        default: return choose.range<std::uint16_t>(0, 0xFFFF);
    }
}

// A binding's target: mostly a fixed function of its key (the same key
// binds the same way in every case, so the map need not change), sometimes
// anything at all.
BindingTarget pick_target(Chooser& choose, const BindingKey& key, const PortRange& relay_ports) {
    std::uint64_t hash = hash_value(key.client.address) ^ (std::uint64_t{key.client.port} << 16) ^ key.channel;
    const bool any = choose.weighted({9, 1}) == 1;
    const auto noise = choose.range<std::uint32_t>(0, 0xFFFFFFFF);
    // Now and then the peer is of the other family (an RFC 6156 allocation).
    const bool other_family = choose.weighted({15, 1}) == 1;
    if (any) hash ^= noise;
    hash = (hash ^ (hash >> 31)) * 0x7FB5D329728EA185ull;
    hash = (hash ^ (hash >> 27)) * 0x81DADEF4BC2DD44Dull;
    hash ^= hash >> 33;
    // Allocation ports come from the relay port range, as a relay hands
    // them out; now and then from anywhere (a peer can never reach those).
    // Both ends of the range come up on purpose.
    const auto raw_port = static_cast<std::uint16_t>(hash);
    const std::uint32_t ports = relay_ports.max - relay_ports.min + 1u;
    const std::size_t edge = choose.weighted({14, 1, 1});
    const auto allocation_port =
        any         ? raw_port
        : edge == 1 ? relay_ports.min
        : edge == 2 ? relay_ports.max
                    : static_cast<std::uint16_t>(relay_ports.min + static_cast<std::uint32_t>(raw_port) % ports);
    const IpAddress like = other_family ? other_family_address(key.client.address) : key.client.address;
    // Now and then a peer made from the client's own address (its prefix
    // with another interface ID, or its interface ID under another
    // prefix), or an IPv6 peer in a form next to the IPv4-mapped one.
    IpAddress peer = address_like(like, hash >> 16);
    switch (any || other_family ? 0 : choose.weighted({20, 1, 1, 1})) {
        case 1:
            peer = structured_ipv6(static_cast<std::uint32_t>(hash >> 16),
                                   static_cast<std::uint32_t>(hash >> 56) % structured_forms);
            break;
        case 2: peer = with_half_of(key.client.address, peer, true); break;
        case 3: peer = with_half_of(key.client.address, peer, false); break;
        default: break;
    }
    return BindingTarget{allocation_port, Endpoint{peer, static_cast<std::uint16_t>(hash >> 48)}};
}

// The case's variations of one stage, each with its own parameter stream.
void apply_variations(GeneratedCase& c, std::span<Chooser> parameters, VariationStage stage) {
    for (std::size_t i = 0; i < c.variations.size(); ++i)
        if (const VariationRow& row = row_of(c.variations[i]); row.stage == stage) row.apply(c, parameters[i]);
}

// Bytes the frame needs besides the application data, given the spec so far.
std::size_t overhead_bytes(const FrameSpec& s) {
    return udp_header_at(s) + udp_channel_bytes + s.padding.size() + s.trailer.size();
}

}  // namespace

std::vector<std::uint8_t> frame_of(const GeneratedCase& c) {
    return build_frame(c.spec);
}

GeneratedCase interpret_choices(std::span<const std::uint32_t> choices) {
    GeneratedCase c;
    const std::size_t config_part = std::min(choices.size(), config_choices_per_case);
    c.config = interpret_config(choices.first(config_part));
    Chooser choose(choices.subspan(config_part));
    // Zero keeps the simplest case: ChannelData from an IPv4 client.
    const bool from_peer = choose.weighted({3, 2}) == 1;
    const bool ipv6_client = choose.weighted({3, 2}) == 1;

    // The client's key and where it is bound, whichever way the frame goes.
    const BindingKey own{
        Endpoint{pick_address(choose, ipv6_client, client_pool, client_pool6), client_ports[choose.below(3)]},
        pick_channel(choose, c.config.channels)};
    const bool bound = choose.weighted({4, 1}) == 0;
    const BindingTarget own_target = pick_target(choose, own, c.config.relay_ports);

    FrameSpec& s = c.spec;
    // The frame arrives on an address of its sender's family.
    const bool ipv6_frame = from_peer ? !own_target.peer.address.is_v4() : ipv6_client;
    s.ip_destination = pick_address(choose, ipv6_frame, relay_addresses, relay_addresses6);
    if (from_peer) {
        s.ip_source = own_target.peer.address;
        s.udp_source = own_target.peer.port;
        s.udp_destination = own_target.allocation_port;
        s.channel_data = false;
    } else {
        s.ip_source = own.client.address;
        s.udp_source = own.client.port;
        s.udp_destination = c.config.turn_port;
        s.channel = own.channel;
    }
    // Fields the relay copies or ignores: any value.
    s.tos = static_cast<std::uint8_t>(choose.range(0, 255));
    // Fields the relay copies into a checksum: now and then at both ends.
    s.identification =
        choose.one_of<std::uint16_t>({choose.range<std::uint16_t>(0, 0xFFFF), choose.range<std::uint16_t>(0, 0xFFFF),
                                      choose.range<std::uint16_t>(0, 0xFFFF), 0x0000, 0xFFFF});
    s.dont_fragment = choose.coin();
    s.reserved_flag = choose.weighted({9, 1}) == 1;
    s.ttl = static_cast<std::uint8_t>(choose.range(0, 255));
    s.flow_label = choose.one_of<std::uint32_t>({0, 0xFFFFF, choose.range<std::uint32_t>(0, 0xFFFFF)});
    s.eth_source[5] = static_cast<std::uint8_t>(choose.range(0, 255));
    s.padding.assign(choose.weighted({3, 1, 1, 1}), choose.one_of<std::uint8_t>({0x00, 0xA5}));

    // Up to three variations, each with a stream of its own for parameters.
    constexpr std::size_t max_variations = 3;
    const std::size_t variations = choose.weighted({3, 5, 2, 1});
    std::array<Chooser, max_variations> parameters{Chooser({}), Chooser({}), Chooser({})};
    for (std::size_t i = 0; i < max_variations; ++i) {
        const auto variation = static_cast<Variation>(choose.weighted(variation_weights()));
        parameters[i] = choose.sub();
        if (i < variations) c.variations.push_back(variation);
    }
    apply_variations(c, parameters, VariationStage::before_data);

    // Data: mostly small, sometimes up to the largest frame
    // BPF_PROG_TEST_RUN takes linear (leaving room for a trailer). A peer's
    // datagram has no channel header or padding: all it carries is data.
    const std::size_t room = test_run_max_frame - std::min(test_run_max_frame, overhead_bytes(s) + 40);
    const std::size_t size_class = choose.weighted({6, 2, 1});
    const auto small = choose.range<std::size_t>(0, 64);
    const auto medium = choose.range<std::size_t>(0, 1500);
    const std::size_t data_bytes = size_class == 0 ? small : size_class == 1 ? medium : room;
    const auto data = pattern_bytes(std::min(data_bytes, room), static_cast<std::uint8_t>(choose.range(0, 255)));
    if (s.channel_data) {
        s.application_data = data;
    } else if (from_peer) {
        if (s.raw_udp_payload.empty()) s.raw_udp_payload = data;
        s.padding.clear();
    }

    // The binding table: the frame's own key or not, near misses, and rarely
    // many unrelated entries.
    if (bound) c.bindings.emplace(own, own_target);
    const std::size_t near_misses = choose.one_of<std::size_t>({0, 0, 0, 1, 1, 3});
    Chooser misses = choose.sub();
    for (std::size_t i = 0; i < near_misses; ++i) {
        BindingKey key = own;
        switch (misses.below(4)) {
            case 0: key.channel = static_cast<std::uint16_t>(key.channel + misses.one_of({1, -1, 0x100})); break;
            case 1: key.client.port = static_cast<std::uint16_t>(key.client.port + misses.one_of({1, -1})); break;
            case 2:
                key.client.address = next_to(key.client.address, misses.one_of<std::uint32_t>({1, 0xFFFFFFFF}));
                break;
            default:  // the same key with the channel's bytes swapped (byte-order bugs)
                key.channel = static_cast<std::uint16_t>((key.channel << 8) | (key.channel >> 8));
        }
        const BindingTarget target = pick_target(misses, key, c.config.relay_ports);
        if (!(key == own)) c.bindings.emplace(key, target);
    }
    const bool many = choose.weighted({49, 1}) == 1;
    const auto many_count = choose.range<std::size_t>(50, background_bindings().size());
    if (many) {
        auto entry = background_bindings().begin();
        for (std::size_t i = many_count; i > 0; --i, ++entry) c.bindings.insert(*entry);
    }

    // Variations that measure the finished frame or its binding come last.
    apply_variations(c, parameters, VariationStage::finished_frame);
    return c;
}

const BindingTable& background_bindings() {
    static const BindingTable table = [] {
        BindingTable entries;
        for (std::uint32_t i = 0; i < 256; ++i)
            entries.emplace(
                BindingKey{Endpoint{Ipv4Address{0x0A640000u + i}, 4000}, static_cast<std::uint16_t>(0x4000 + i)},
                BindingTarget{static_cast<std::uint16_t>(20000 + i), Endpoint{Ipv4Address{0xCB007109}, 6000}});
        return entries;
    }();
    return table;
}

}  // namespace xdpturn
