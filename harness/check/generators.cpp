#include "harness/check/generators.hpp"
#include "relay/net/splitmix.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>

#include "harness/cases/expected_output.hpp"
#include "harness/check/boundaries.hpp"
#include "harness/frames/dissect.hpp"
#include "harness/xdp/prog_test_run.hpp"

namespace xdpturn {

namespace {

// Draws decisions from a choice sequence. An exhausted sequence, or a zero,
// gives the first (simplest) option: shrinking the sequence toward fewer and
// smaller numbers shrinks the case toward a plain relayed frame.
class Chooser {
  public:
    explicit Chooser(std::span<const std::uint32_t> choices) : choices_(choices) {}

    // A decision of variable length (a list, a variation's parameters) draws
    // from a private stream seeded by one choice, so that the main sequence
    // keeps a fixed layout: shrinking one choice never shifts the others.
    // A zero seed gives an all-zero stream: the simplest options.
    Chooser sub() {
        Chooser stream({});
        stream.stream_state_ = next_raw();
        stream.streaming_ = true;
        return stream;
    }

    std::uint32_t below(std::uint32_t bound) {  // 0 .. bound-1
        return static_cast<std::uint32_t>(scale(next_raw(), bound));
    }
    template <class T>
    T range(T low, T high_inclusive) {
        const auto span = static_cast<std::uint64_t>(high_inclusive) - static_cast<std::uint64_t>(low) + 1;
        return static_cast<T>(static_cast<std::uint64_t>(low) + scale(next_raw(), span));
    }
    bool coin() { return below(2) == 1; }
    template <class T>
    T one_of(std::initializer_list<T> options) {
        return *(options.begin() + below(static_cast<std::uint32_t>(options.size())));
    }
    // Index of the option chosen with these weights.
    std::size_t weighted(std::initializer_list<std::uint32_t> weights) {
        std::uint32_t total = 0;
        for (std::uint32_t weight : weights) total += weight;
        std::uint32_t pick = below(total);
        std::size_t index = 0;
        for (std::uint32_t weight : weights) {
            if (pick < weight) return index;
            pick -= weight;
            ++index;
        }
        return 0;
    }

  private:
    std::uint32_t next_raw() {
        if (streaming_) {
            if (stream_state_ == 0) return 0;
            return static_cast<std::uint32_t>(splitmix64_next(stream_state_) >> 32);
        }
        return next_ < choices_.size() ? choices_[next_++] : 0u;
    }
    // Maps a 32-bit choice onto 0 .. span-1 by multiplying and shifting:
    // no division, and 0 still maps to 0 (the simplest option).
    static std::uint64_t scale(std::uint32_t raw, std::uint64_t span) {
        if (span == 0 || span > (std::uint64_t{1} << 32)) return raw;
        return (std::uint64_t{raw} * span) >> 32;
    }

    std::span<const std::uint32_t> choices_;
    std::size_t next_ = 0;
    bool streaming_ = false;
    std::uint64_t stream_state_ = 0;
};

constexpr std::size_t udp_channel_bytes = 8 + 4;

// The IP header of the frame's family (its options or extension headers
// not counted).
std::size_t ip_header_bytes(const FrameSpec& s) {
    return s.ip_source.is_v4() ? 20 : 40;
}
constexpr std::uint16_t turn_ports[] = {3478, 443};

// Addresses frames arrive on: the relay's, and others.
constexpr std::uint32_t relay_addresses[] = {0xC0000201, 0xCB007101, 0x0A0000FE};
constexpr Ipv6Bytes relay_addresses6[] = {{0x20, 0x01, 0x0D, 0xB8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
                                          {0x20, 0x01, 0x0D, 0xB8, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFE},
                                          {0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0xFF, 0xFE, 0, 0, 0x01}};

// Each TURN port comes with its relay ports, MTU and relay addresses:
// coturn's defaults for 3478, with a relay address of each family (so
// bindings across families are relayed); for 443 a range that holds the
// background bindings' allocations, a jumbo MTU no test-run frame reaches,
// and no relay addresses (so they go to user space).
DatapathConfig config_for(std::uint16_t turn_port, const ChannelRange& channels) {
    DatapathConfig config;
    config.turn_port = turn_port;
    config.channels = channels;
    if (turn_port == turn_ports[0]) {
        config.relay_ipv4 = IpAddress{Ipv4Address{relay_addresses[0]}};
        config.relay_ipv6 = IpAddress::from_bytes(relay_addresses6[0]);
    } else {
        config.relay_ports = PortRange{20000, 60000};
        config.mtu = 9000;
    }
    return config;
}

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
constexpr Ipv6Bytes client_addresses6[] = {
    {0x20, 0x01, 0x0D, 0xB8, 0, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07},
    {0x20, 0x01, 0x0D, 0xB8, 0, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08},
    {0xFD, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11, 0x22, 0x33, 0, 0, 0, 0x01},
    {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0xC6, 0x33, 0x64, 0x09}};
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

// Channel numbers: the common set, anywhere in the range, at and around
// both ends of both ranges, and anywhere at all.
std::uint16_t pick_channel(Chooser& choose, const ChannelRange& range) {
    switch (choose.weighted({6, 2, 2, 1})) {
        case 0: return common_channels[choose.below(std::size(common_channels))];
        case 1: return choose.range(range.min, range.max);
        case 2:
            return choose.one_of<std::uint16_t>(
                {0x3FFF, 0x4000, 0x4001, 0x4FFE, 0x4FFF, 0x5000, 0x7FFE, 0x7FFF, 0x8000, 0xFFFF, 0x0000, 0x0001});
        default: return choose.range<std::uint16_t>(0, 0xFFFF);
    }
}

// An address of the same family as `like`, its bits from `bits`: an IPv4
// address, or an IPv6 one, mostly in 2001:db8::/32 (RFC 3849,
// documentation). Three in sixteen start with zeros as an IPv4-mapped address
// does, then differs: in its second 32 bits (::1:0:0:0/64), or in the
// third (::/96, the deprecated IPv4-compatible form, and ::ffff:0:0/96).
IpAddress address_like(const IpAddress& like, std::uint64_t bits) {
    if (like.is_v4()) return Ipv4Address{static_cast<std::uint32_t>(bits)};
    Ipv6Bytes bytes{0x20, 0x01, 0x0D, 0xB8};
    for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(bits >> (8 * (i - 8)));
    switch ((bits >> 40) & 0xF) {
        case 0: bytes = {0, 0, 0, 0, 0, 1}; break;
        case 1: bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; break;
        case 2: bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0}; break;
        default: return IpAddress::from_bytes(bytes);
    }
    for (std::size_t i = 12; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(bits >> (8 * (i - 12)) | 1);
    return IpAddress::from_bytes(bytes);
}

// An address of the other family, to make address_like switch families.
IpAddress other_family_address(const IpAddress& address) {
    return address.is_v4() ? IpAddress::from_bytes(Ipv6Bytes{0x20, 0x01, 0x0D, 0xB8}) : IpAddress{Ipv4Address{}};
}

// `address` with `delta` added to its last 32 bits: a neighbour, of the
// same family.
IpAddress next_to(const IpAddress& address, std::uint32_t delta) {
    Ipv6Bytes bytes = address.bytes();
    std::uint32_t low = 0;
    for (std::size_t i = 12; i < 16; ++i) low = (low << 8) | bytes[i];
    low += delta;
    for (std::size_t i = 12; i < 16; ++i) bytes[i] = static_cast<std::uint8_t>(low >> (8 * (15 - i)));
    return IpAddress::from_bytes(bytes);
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
    return BindingTarget{allocation_port,
                         Endpoint{address_like(like, hash >> 16), static_cast<std::uint16_t>(hash >> 48)}};
}

bool is_from_peer(const FrameSpec& s, const DatapathConfig& config) {
    return s.udp_destination != config.turn_port && !s.channel_data;
}

// The binding the frame was made for: the client's key for ChannelData, the
// reverse lookup for a peer's datagram.
const std::pair<const BindingKey, BindingTarget>* own_binding(const GeneratedCase& c) {
    const FrameSpec& s = c.spec;
    if (!is_from_peer(s, c.config)) {
        const auto found = c.bindings.find(BindingKey{Endpoint{s.ip_source, s.udp_source}, s.channel});
        return found == c.bindings.end() ? nullptr : &*found;
    }
    for (const auto& entry : c.bindings)
        if (entry.second.peer == Endpoint{s.ip_source, s.udp_source} &&
            entry.second.allocation_port == s.udp_destination)
            return &entry;
    return nullptr;
}

// The real IPv4 options a sender may put in: NOPs, record route, timestamp,
// sometimes ending with end-of-options.
std::vector<std::uint8_t> pick_options(Chooser& choose, std::size_t words) {
    std::vector<std::uint8_t> options;
    const std::size_t bytes = words * 4;
    while (options.size() < bytes) {
        const std::size_t room = bytes - options.size();
        const std::uint32_t kind = choose.below(3);
        if (kind == 1 && room >= 7) {  // record route with room for 1..9 addresses
            const std::size_t addresses = std::min<std::size_t>((room - 3) / 4, choose.range<std::size_t>(1, 9));
            options.push_back(7);
            options.push_back(static_cast<std::uint8_t>(3 + 4 * addresses));
            options.push_back(4);
            options.resize(options.size() + 4 * addresses, 0);
        } else if (kind == 2 && room >= 8) {  // timestamp, one slot
            options.insert(options.end(), {68, 8, 5, 0, 0, 0, 0, 0});
        } else {
            options.push_back(1);  // NOP
        }
    }
    if (choose.coin()) options.back() = 0;  // end of options list
    return options;
}

// One or two real IPv6 extension headers before UDP (RFC 8200 Section 4):
// hop-by-hop or destination options padded with PadN, or a routing header
// with no segments left. Each is 8 bytes.
void add_extension_headers(FrameSpec& s, Chooser& choose) {
    const std::size_t count = choose.range<std::size_t>(1, 2);
    std::vector<std::uint8_t> types;
    for (std::size_t i = 0; i < count; ++i) types.push_back(choose.one_of<std::uint8_t>({0, 60, 43}));
    s.protocol = types.front();
    s.extension_headers.clear();
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t next = i + 1 < count ? types[i + 1] : 17;
        if (types[i] == 43)
            s.extension_headers.insert(s.extension_headers.end(), {next, 0, 0, 0, 0, 0, 0, 0});
        else
            s.extension_headers.insert(s.extension_headers.end(), {next, 0, 1, 4, 0, 0, 0, 0});
    }
}

// The bytes the frame carries across: a client's application data, or a
// peer's whole UDP payload.
std::vector<std::uint8_t>& carried(FrameSpec& s);

// Sets one even-aligned word of the carried data so that the 32-bit sum the
// output's UDP checksum is computed from ends in 0xFFFF with a carry above
// it: folding it once carries again. `expected` builds the output spec.
template <class Expected>
void make_output_sum_fold_twice(FrameSpec& in, const Expected& expected) {
    std::vector<std::uint8_t>& data = carried(in);
    if (data.size() < 8) return;
    FrameSpec out = expected(in);
    const std::uint32_t sum = udp_sum_before_folding(build_frame(out));
    if (sum < 0x20000) return;  // too small to keep a carry after the change
    const std::size_t at = (data.size() - 2) & ~std::size_t{1};
    const std::uint32_t word = (std::uint32_t{data[at]} << 8) | data[at + 1];
    const std::uint32_t raised = (word + (0xFFFF - (sum & 0xFFFF))) & 0xFFFF;
    data[at] = static_cast<std::uint8_t>(raised >> 8);
    data[at + 1] = static_cast<std::uint8_t>(raised & 0xFF);
}
std::vector<std::uint8_t>& carried(FrameSpec& s) {
    return s.channel_data ? s.application_data : s.raw_udp_payload;
}

// The frame's binding gets a far end of the other family: the peer of a
// client's channel, or the client of a peer's. The new end is a function of
// the old key, so that two cases of a shared block that move the same
// binding move it alike (one peer on one allocation has one channel).
void move_far_end_across(GeneratedCase& c) {
    FrameSpec& s = c.spec;
    const auto* own = own_binding(c);
    if (own == nullptr) return;
    const BindingKey key = own->first;
    BindingTarget target = own->second;
    const std::uint64_t bits = hash_value(key.client.address) ^ (std::uint64_t{key.client.port} << 16) ^ key.channel;
    c.bindings.erase(key);
    if (!is_from_peer(s, c.config)) {
        target.peer.address = address_like(other_family_address(target.peer.address), bits);
        c.bindings.emplace(key, target);
        return;
    }
    BindingKey moved = key;
    moved.client.address = address_like(other_family_address(key.client.address), bits);
    // On a neighbouring allocation port: other cases of the block may bind
    // this peer on the old one to the old client.
    const auto& ports = c.config.relay_ports;
    const int step = target.allocation_port < ports.max ? 1 : -1;
    target.allocation_port = static_cast<std::uint16_t>(target.allocation_port + step);
    s.udp_destination = target.allocation_port;
    c.bindings.emplace(moved, target);
}

void apply(Variation variation, GeneratedCase& c, Chooser& choose) {
    FrameSpec& s = c.spec;
    const bool ipv6 = !s.ip_source.is_v4();
    switch (variation) {
        case Variation::ether_type:
            // Another protocol, or the other IP version's EtherType over
            // this version's header.
            s.ether_type =
                choose.one_of<std::uint16_t>({0x0806, ipv6 ? std::uint16_t{0x0800} : std::uint16_t{0x86DD}, 0x88A8,
                                              0x88CC, 0x8100, 0x86DE, choose.range<std::uint16_t>(0, 0xFFFF)});
            if (s.ether_type == (ipv6 ? 0x86DD : 0x0800)) s.ether_type = 0x0801;
            break;
        case Variation::vlan_tag:
            s.vlan_tags.resize(choose.range<std::size_t>(1, 3));
            for (auto& tag : s.vlan_tags) tag = choose.range<std::uint16_t>(0, 0xFFFF);
            break;
        case Variation::ethernet_trailer: {
            const std::size_t bytes =
                choose.one_of<std::size_t>({0, choose.range<std::size_t>(1, 4), choose.range<std::size_t>(5, 30)});
            s.trailer.assign(bytes, choose.one_of<std::uint8_t>({0x00, 0xFF, 0x5A}));
            // The minimum Ethernet frame: senders pad short frames to 60 bytes.
            const std::size_t unpadded = build_frame(s).size();
            if (bytes == 0 && unpadded < 60) s.trailer.assign(60 - unpadded, 0);
            break;
        }
        case Variation::truncated:
            // Anywhere inside the headers, up to the channel header.
            s.truncate_to = choose.range<std::size_t>(test_run_min_frame, 14 + ip_header_bytes(s) + udp_channel_bytes);
            break;
        case Variation::ip_version:
            s.ip_version = ipv6 ? choose.one_of<std::uint8_t>({4, 0, 15, choose.range<std::uint8_t>(0, 15)})
                                : choose.one_of<std::uint8_t>({6, 0, 15, choose.range<std::uint8_t>(0, 15)});
            break;
        case Variation::ip_options:
            if (ipv6)
                add_extension_headers(s, choose);
            else
                s.ip_options = pick_options(choose, choose.range<std::size_t>(1, 10));
            break;
        case Variation::ip_ihl_below_5:
            // IPv6 has no IHL; its counterpart is a Next Header that names
            // an extension header (with no such header behind it).
            if (ipv6)
                s.protocol = choose.one_of<std::uint8_t>({0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254});
            else
                s.ihl = choose.range<std::uint8_t>(0, 4);
            break;
        case Variation::fragment: {
            const bool more = choose.coin();
            auto offset = more ? choose.one_of<std::uint16_t>({0, 1, 185}) : choose.range<std::uint16_t>(1, 0x1FFF);
            if (!more && offset == 0) offset = 1;
            if (ipv6) {
                // A fragment header (RFC 8200 Section 4.5) before UDP.
                s.protocol = 44;
                s.extension_headers = {17,
                                       0,
                                       static_cast<std::uint8_t>(offset >> 5),
                                       static_cast<std::uint8_t>(((offset & 0x1F) << 3) | (more ? 1 : 0)),
                                       0,
                                       0,
                                       0,
                                       1};
            } else {
                s.more_fragments = more;
                s.fragment_offset = offset;
            }
            break;
        }
        case Variation::protocol:
            s.protocol = choose.one_of<std::uint8_t>({6, 1, 47, 136, 58, 59, choose.range<std::uint8_t>(0, 255)});
            if (s.protocol == 17) s.protocol = 16;
            break;
        case Variation::wrong_port: {
            // Anywhere, or just outside the relay ports.
            const auto& relay = c.config.relay_ports;
            const auto port = choose.one_of<std::uint16_t>({choose.range<std::uint16_t>(0, 0xFFFF),
                                                            static_cast<std::uint16_t>(relay.min - 1),
                                                            static_cast<std::uint16_t>(relay.max + 1)});
            s.udp_destination = port == c.config.turn_port ? static_cast<std::uint16_t>(port + 1) : port;
            break;
        }
        case Variation::total_length: {
            // IPv4's total length counts its header, IPv6's payload length
            // does not: `header` is what the field counts besides UDP.
            const int header = ipv6 ? 0 : 20;
            const auto real = static_cast<int>(build_frame(s).size() - 14 - s.trailer.size() - 4 * s.vlan_tags.size() -
                                               (ipv6 ? 40 : 0));
            const int delta = choose.range(-40, 40);
            // Mostly near the real length; on purpose the largest value, the
            // smallest valid one (a bare UDP header), one past the frame's
            // end, and too small for a UDP header.
            switch (choose.weighted({8, 1, 1, 1, 1})) {
                case 1: s.total_length = 0xFFFF; break;
                case 4: s.total_length = static_cast<std::uint16_t>(header + choose.range(0, 7)); break;
                case 2: s.total_length = static_cast<std::uint16_t>(header + 8); break;
                case 3:
                    s.total_length = static_cast<std::uint16_t>(real + static_cast<int>(s.trailer.size()) + 1);
                    break;
                default: s.total_length = static_cast<std::uint16_t>(std::clamp(real + delta, 0, 0xFFFF));
            }
            // Sometimes keep UDP consistent with the new length, so the IP
            // length rule alone decides.
            if (choose.coin()) s.udp_length = static_cast<std::uint16_t>(std::max(0, real + delta - header));
            break;
        }
        case Variation::udp_length:
            s.udp_length = choose.weighted({7, 1}) == 1 ? std::uint16_t{0xFFFF} : choose.range<std::uint16_t>(0, 80);
            break;
        case Variation::ip_checksum:
            s.ip_checksum = {ChecksumMode::offset, choose.range<std::uint16_t>(1, 0xFFFE)};
            break;
        case Variation::udp_checksum_zero: s.udp_checksum = {ChecksumMode::zero, 0}; break;
        case Variation::udp_checksum_wrong:
            s.udp_checksum = {ChecksumMode::offset, choose.range<std::uint16_t>(1, 0xFFFE)};
            break;
        case Variation::short_channel:
            s.channel_data = false;
            s.raw_udp_payload.assign(choose.range<std::size_t>(0, 3), 0x40);
            break;
        case Variation::stun_message: {
            // A STUN header: message type with the first two bits 00, length,
            // magic cookie, transaction ID.
            s.channel_data = false;
            s.raw_udp_payload = {static_cast<std::uint8_t>(choose.range(0, 0x3F)),
                                 static_cast<std::uint8_t>(choose.range(0, 255)),
                                 0x00,
                                 0x00,
                                 0x21,
                                 0x12,
                                 0xA4,
                                 0x42};
            const auto transaction = pattern_bytes(12, static_cast<std::uint8_t>(choose.range(0, 255)));
            s.raw_udp_payload.insert(s.raw_udp_payload.end(), transaction.begin(), transaction.end());
            break;
        }
        case Variation::channel_length: {
            // Measured on the finished data: near it, far from it, one byte
            // more than the datagram holds, or the largest value.
            const int real = static_cast<int>(s.application_data.size());
            const int delta = choose.coin() ? choose.range(-4, 4) : choose.range(-200, 200);
            switch (choose.weighted({6, 1, 1})) {
                case 1: s.channel_length = 0xFFFF; break;
                case 2: s.channel_length = static_cast<std::uint16_t>(real + s.padding.size() + 1); break;
                default: s.channel_length = static_cast<std::uint16_t>(std::clamp(real + delta, 0, 0xFFFF));
            }
            break;
        }
        case Variation::excess_padding:
            s.padding.assign(choose.one_of<std::size_t>({4, choose.range<std::size_t>(4, 12)}),
                             choose.one_of<std::uint8_t>({0x00, 0xA5}));
            break;
        case Variation::relayed_udp_checksum_zero:
        case Variation::relayed_ip_checksum_zero: {
            // Aimed at the frame's own binding, if it has one.
            const auto* own = own_binding(c);
            if (own == nullptr) break;
            const bool ip = variation == Variation::relayed_ip_checksum_zero;
            if (ip && ipv6) break;  // no header checksum
            if (!ip && s.udp_checksum.mode != ChecksumMode::valid) break;
            if (!is_from_peer(s, c.config)) {
                if (ip)
                    make_relayed_ip_checksum_zero(s, own->second, c.config);
                else
                    make_relayed_udp_checksum_zero(s, own->second, c.config);
            } else {
                if (ip)
                    make_encapsulated_ip_checksum_zero(s, own->first, c.config);
                else
                    make_encapsulated_udp_checksum_zero(s, own->first, c.config);
            }
            break;
        }
        case Variation::hairpin: {
            // The frame's binding leads back to the address the output
            // would be sent from: the one it arrived on, or across families
            // the relay's address of the peer's family.
            const auto* own = own_binding(c);
            if (own == nullptr) break;
            const bool from_peer = is_from_peer(s, c.config);
            auto& target = c.bindings.at(own->first);
            const bool peer_ipv6 = !target.peer.address.is_v4();
            target.peer.address = peer_ipv6 == !s.ip_destination.is_v4()
                                      ? s.ip_destination
                                      : c.config.relay_address(peer_ipv6).value_or(s.ip_destination);
            // Mostly another allocation's port; sometimes a port outside the
            // relay ports (a server on the relay's host, not a hairpin):
            // next to them, or anywhere below.
            const auto& ports = c.config.relay_ports;
            switch (choose.weighted({3, 1, 5, 1})) {
                case 0:
                    if (!ports.contains(target.peer.port))
                        target.peer.port =
                            static_cast<std::uint16_t>(ports.min + target.peer.port % (ports.max - ports.min + 1u));
                    break;
                case 1: target.peer.port = static_cast<std::uint16_t>(ports.min - 1); break;
                case 2:
                    if (ports.max < 0xFFFF) target.peer.port = static_cast<std::uint16_t>(ports.max + 1);
                    break;
                default:
                    if (ports.contains(target.peer.port))
                        target.peer.port = static_cast<std::uint16_t>(ports.min - 1 - target.peer.port % ports.min);
            }
            if (from_peer) s.ip_source = s.ip_destination;
            break;
        }
        case Variation::udp_checksum_ffff: {
            // One even-aligned word of the data chosen so that the input's
            // checksum computes to 0, which the sender writes as 0xFFFF.
            std::vector<std::uint8_t>& data = carried(s);
            if (data.size() < 2 || s.udp_checksum.mode != ChecksumMode::valid) break;
            const std::size_t at = (data.size() - 2) & ~std::size_t{1};
            data[at] = data[at + 1] = 0;
            const std::vector<std::uint8_t> built = build_frame(s);
            // The checksum field, counted from the start: the frame may be
            // cut short or carry a trailer.
            const std::size_t checksum_at =
                14 + 4 * s.vlan_tags.size() + ip_header_bytes(s) + s.ip_options.size() + s.extension_headers.size() + 6;
            if (built.size() < checksum_at + 2) break;
            data[at] = built[checksum_at];
            data[at + 1] = built[checksum_at + 1];
            break;
        }
        case Variation::sum_folds_twice: {
            const auto* own = own_binding(c);
            if (own == nullptr) break;
            const bool to_peer = !is_from_peer(s, c.config);
            make_output_sum_fold_twice(s, [&](const FrameSpec& in) {
                return to_peer ? expected_relayed_frame(in, own->second, c.config)
                               : expected_encapsulated_frame(in, own->first, c.config);
            });
            break;
        }
        case Variation::peer_near_miss:
            switch (choose.below(3)) {
                case 0: s.udp_source = static_cast<std::uint16_t>(s.udp_source + choose.one_of({1, -1})); break;
                case 1: s.ip_source = next_to(s.ip_source, choose.one_of<std::uint32_t>({1, 0xFFFFFFFF})); break;
                default: s.udp_destination = static_cast<std::uint16_t>(s.udp_destination + choose.one_of({1, -1}));
            }
            break;
        case Variation::mtu_boundary: {
            // Land the output's IP packet on the MTU, one below or one or
            // two above: for a peer's datagram it is IP + 8 + 4 + data, for
            // ChannelData relayed across families IP + 8 + data (4 -> 6
            // grows; 6 -> 4 from a frame over the MTU). The output's IP
            // header is of the far end's family. ChannelData relayed within
            // its family only shrinks: there the input lands on the MTU.
            const bool to_peer = !is_from_peer(s, c.config);
            // Half the time a peer of the input's family is moved to the
            // other: the outputs across families have their own MTU test
            // (row 36).
            if (const auto* bound = own_binding(c); to_peer && bound != nullptr &&
                                                    bound->second.peer.address.is_v4() == s.ip_source.is_v4() &&
                                                    choose.coin())
                move_far_end_across(c);
            const auto* own = own_binding(c);
            const IpAddress far = own == nullptr ? s.ip_source
                                  : to_peer      ? own->second.peer.address
                                                 : own->first.client.address;
            const std::size_t out_ip = far.is_v4() ? 20 : 40;
            const bool across = to_peer && out_ip != ip_header_bytes(s);
            const std::size_t headers = to_peer && !across ? ip_header_bytes(s) + udp_channel_bytes
                                        : across           ? out_ip + 8
                                                           : out_ip + udp_channel_bytes;
            const std::size_t data = c.config.mtu - headers + choose.range<std::size_t>(0, 3) - 1;
            const std::size_t frame_without_data = build_frame(s).size() - carried(s).size();
            if (frame_without_data + data > test_run_max_frame) break;
            carried(s) = pattern_bytes(data, static_cast<std::uint8_t>(choose.range(0, 255)));
            break;
        }
        case Variation::other_family: move_far_end_across(c); break;
        case Variation::no_checksum_across: {
            // An IPv4 frame without a checksum whose far end is (made) IPv6.
            const auto* own = own_binding(c);
            if (own == nullptr || !s.ip_source.is_v4()) break;
            const IpAddress& far = is_from_peer(s, c.config) ? own->first.client.address : own->second.peer.address;
            if (far.is_v4()) move_far_end_across(c);
            s.udp_checksum = {ChecksumMode::zero, 0};
            // Now and then the checksum the relay computes in full is 0.
            const auto* moved = own_binding(c);
            if (moved == nullptr || choose.weighted({3, 1}) == 0) break;
            if (is_from_peer(s, c.config))
                make_encapsulated_udp_checksum_zero(s, moved->first, c.config);
            else
                make_relayed_udp_checksum_zero(s, moved->second, c.config);
            break;
        }
    }
}

// How often each variation is drawn, in Variation's order. The paths that
// need several things at once (a hairpin's port at either end of the relay
// ports, a checksum computed in full into IPv6, a cross-family output at
// the MTU, a port next to the relay ports) get more, so that every branch
// of the program runs at least 100 times in the default property run
// (docs/coverage.md: rarely reached branches).
constexpr std::initializer_list<std::uint32_t> variation_weights = {
    2, 2,  2, 2, 2, 2, 2, 2,  2, 4,  // ether_type .. wrong_port
    3, 2,  2, 2, 2, 2, 2, 2,  2, 2,  // total_length .. relayed_udp_checksum_zero
    2, 10, 2, 4, 2, 2, 2, 12,        // relayed_ip_checksum_zero .. no_checksum_across
};
static_assert(variation_weights.size() == variation_count);

bool applies_to_finished_frame(Variation variation) {
    switch (variation) {
        case Variation::ethernet_trailer:
        case Variation::total_length:
        case Variation::channel_length:
        case Variation::relayed_udp_checksum_zero:
        case Variation::relayed_ip_checksum_zero:
        case Variation::hairpin:
        case Variation::mtu_boundary:
        case Variation::udp_checksum_ffff:
        case Variation::sum_folds_twice:
        case Variation::other_family:
        case Variation::no_checksum_across: return true;
        default: return false;
    }
}

// Bytes the frame needs besides the application data, given the spec so far.
std::size_t overhead_bytes(const FrameSpec& s) {
    return 14 + ip_header_bytes(s) + udp_channel_bytes + 4 * s.vlan_tags.size() + s.ip_options.size() +
           s.extension_headers.size() + s.padding.size() + s.trailer.size();
}

}  // namespace

std::string_view name(Variation variation) {
    static constexpr std::array<std::string_view, variation_count> names = {
        "ether_type",
        "vlan_tag",
        "ethernet_trailer",
        "truncated",
        "ip_version",
        "ip_options",
        "ip_ihl_below_5",
        "fragment",
        "protocol",
        "wrong_port",
        "total_length",
        "udp_length",
        "ip_checksum",
        "udp_checksum_zero",
        "udp_checksum_wrong",
        "short_channel",
        "stun_message",
        "channel_length",
        "excess_padding",
        "relayed_udp_checksum_zero",
        "relayed_ip_checksum_zero",
        "hairpin",
        "peer_near_miss",
        "mtu_boundary",
        "udp_checksum_ffff",
        "sum_folds_twice",
        "other_family",
        "no_checksum_across",
    };
    return names[static_cast<std::size_t>(variation)];
}

std::vector<DatapathConfig> generated_configs() {
    std::vector<DatapathConfig> configs;
    for (std::uint16_t port : turn_ports)
        for (const ChannelRange& range : {rfc8656_channels, rfc5766_channels})
            configs.push_back(config_for(port, range));
    return configs;
}

std::vector<std::uint8_t> frame_of(const GeneratedCase& c) {
    return build_frame(c.spec);
}

GeneratedCase interpret_choices(std::span<const std::uint32_t> choices) {
    Chooser choose(choices);
    GeneratedCase c;
    const ChannelRange channels = choose.coin() ? rfc5766_channels : rfc8656_channels;
    c.config = config_for(choose.weighted({4, 1}) == 0 ? turn_ports[0] : turn_ports[1], channels);
    // Zero keeps the simplest case: ChannelData from an IPv4 client.
    const bool from_peer = choose.weighted({3, 2}) == 1;
    const bool ipv6_client = choose.weighted({3, 2}) == 1;

    // The client's key and where it is bound, whichever way the frame goes.
    const BindingKey own{
        Endpoint{pick_address(choose, ipv6_client, client_addresses, client_addresses6), client_ports[choose.below(3)]},
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
        const auto variation = static_cast<Variation>(choose.weighted(variation_weights));
        parameters[i] = choose.sub();
        if (i < variations) c.variations.push_back(variation);
    }
    for (std::size_t i = 0; i < c.variations.size(); ++i)
        if (!applies_to_finished_frame(c.variations[i])) apply(c.variations[i], c, parameters[i]);

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
    for (std::size_t i = 0; i < c.variations.size(); ++i)
        if (applies_to_finished_frame(c.variations[i])) apply(c.variations[i], c, parameters[i]);
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
