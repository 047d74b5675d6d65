// `xdpturn relay`: the reference relay as a TURN server, optionally with the
// XDP program attached and its binding map kept in step with the core.
#include <boost/program_options.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iostream>
#include <optional>

#include "harness/cli/bounded.hpp"
#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/cli/relay_offload.hpp"
#include "harness/compare/program_source.hpp"
#include "harness/xdp/xdp_attachment.hpp"
#include "relay/turn/event_log.hpp"
#include "relay/turn/server.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

// The flags as given, before they are checked.
struct RelayFlags {
    std::string ports = "49152-65535", realm = "xdpturn", channel_range, xdp, xdp_mode = "native", xdp_object, target;
    std::vector<std::string> listens, relay_ips, users, allowed;
    Bounded<1, 1000000> quota{100};
    Bounded<1, 16384> channels_per_allocation{256};
    Bounded<1, 1000000> channels_per_user{4096};
    Bounded<1, 65535> max_allocations{16384};
    Bounded<1, 16000000> max_channels{65536};
    std::string relay_family = "rfc";
    bool xdp_replace = false;
};

void describe_flags(po::options_description& description, RelayFlags& flags) {
    description.add_options()("help,h", "show this help")(
        "listen", po::value(&flags.listens)->required(),
        "TURN listening address ADDR:PORT or [ADDR6]:PORT (repeatable, one per family)")(
        "relay-ip", po::value(&flags.relay_ips)->required(),
        "address of the relayed transport addresses, IPv4 and optionally IPv6 (repeatable)")(
        "ports", po::value(&flags.ports)->default_value(flags.ports), "relayed port range LO-HI")(
        "realm", po::value(&flags.realm)->default_value(flags.realm), "authentication realm")(
        "user", po::value(&flags.users)->required(), "NAME:PASS, long-term credentials (repeatable)")(
        "channel-range", po::value(&flags.channel_range), "accepted channels LO-HI (default 0x4000-0x4FFF)")(
        "allow-peer", po::value(&flags.allowed), "open a peer range refused by default, CIDR (repeatable)")(
        "quota", po::value(&flags.quota)->default_value(flags.quota),
        "allocations per user (coturn's turnutils_uclient takes two per client: -m 10 needs 20)")(
        "channels-per-allocation",
        po::value(&flags.channels_per_allocation)->default_value(flags.channels_per_allocation),
        "channels one allocation may bind (508 past it)")(
        "channels-per-user", po::value(&flags.channels_per_user)->default_value(flags.channels_per_user),
        "channels one user may bind over all its allocations")(
        "max-allocations", po::value(&flags.max_allocations)->default_value(flags.max_allocations),
        "allocations of the whole relay")("max-channels",
                                          po::value(&flags.max_channels)->default_value(flags.max_channels),
                                          "channels of the whole relay (default: what the XDP maps hold)")(
        "relay-family", po::value(&flags.relay_family)->default_value(flags.relay_family),
        "without REQUESTED-ADDRESS-FAMILY: rfc (IPv4 relay) or keep (the client's family, as coturn's -A keep)")(
        "xdp", po::value(&flags.xdp), "attach the XDP program to this interface and keep its map in sync")(
        "xdp-mode", po::value(&flags.xdp_mode)->default_value(flags.xdp_mode), "native or generic")(
        "xdp-replace", po::bool_switch(&flags.xdp_replace),
        "detach an XDP program already on the interface (without it, one there is refused)")(
        "xdp-object", po::value(&flags.xdp_object),
        "attach this BPF object instead of the built-in program (one that follows bpf/xdpturn_abi.h; with "
        "--target, the target's object)")(
        "target", po::value(&flags.target),
        "attach a program that is not ours, described by this JSON file (docs/targets.md), its maps written "
        "through the description");
}

Status add_addresses(const RelayFlags& flags, turn::ServerConfig& config) {
    for (const std::string& text : flags.listens) {
        auto address = turn::parse_transport_address(text);
        if (!address) return Error{"--listen: " + address.error().message};
        // Port 0 would listen somewhere no client is told of.
        if (address->port == 0) return Error{"--listen " + text + ": name the port clients use, not 0"};
        config.listen.push_back(*address);
    }
    bool have_ipv4_relay = false;
    for (const std::string& text : flags.relay_ips) {
        auto address =
            turn::parse_transport_address(text.find(':') != std::string::npos ? "[" + text + "]:0" : text + ":0");
        if (!address) return Error{"--relay-ip: " + address.error().message};
        // An Allocate would advertise it as the relayed address.
        if (is_unspecified(endpoint_of(*address).address))
            return Error{"--relay-ip " + text + ": the unspecified address is no address a peer can send to"};
        if (address->ipv6) {
            config.core.relay_address6 = *address;
        } else {
            config.core.relay_address = *address;
            have_ipv4_relay = true;
        }
    }
    if (!have_ipv4_relay) return Error{"--relay-ip needs an IPv4 address"};
    return ok_status();
}

// RFC 8489 Section 14.9: a REALM is fewer than 128 characters, at most 763
// bytes; a longer one also makes every 401 a larger reflection.
Status checked_realm(const std::string& realm) {
    if (realm.empty()) return Error{"--realm: empty"};
    const auto characters = std::count_if(realm.begin(), realm.end(), [](char c) { return (c & 0xC0) != 0x80; });
    if (realm.size() > 763 || characters >= 128)
        return Error{"--realm: " + std::to_string(characters) + " characters, " + std::to_string(realm.size()) +
                     " bytes; RFC 8489 allows fewer than 128 characters and at most 763 bytes"};
    return ok_status();
}

Result<turn::ServerConfig> server_config(const RelayFlags& flags) {
    turn::ServerConfig config;
    auto port_range = parse_port_range(flags.ports);
    if (!port_range) return Error{"--ports: " + port_range.error().message};
    if (flags.xdp_mode != "native" && flags.xdp_mode != "generic") return Error{"--xdp-mode takes native or generic"};
    if (!flags.xdp_object.empty() && flags.xdp.empty()) return Error{"--xdp-object needs --xdp INTERFACE"};
    if (flags.xdp_replace && flags.xdp.empty()) return Error{"--xdp-replace needs --xdp INTERFACE"};
    if (!flags.target.empty() && flags.xdp.empty()) return Error{"--target needs --xdp INTERFACE"};
    if (auto added = add_addresses(flags, config); !added) return added.error();
    config.core.port_min = port_range->min;
    config.core.port_max = port_range->max;
    if (auto realm = checked_realm(flags.realm); !realm) return realm.error();
    config.core.realm = flags.realm;
    config.core.allocations_per_user = flags.quota.value;
    config.core.channels_per_allocation = flags.channels_per_allocation.value;
    config.core.channels_per_user = flags.channels_per_user.value;
    config.core.max_allocations = flags.max_allocations.value;
    config.core.max_channels = flags.max_channels.value;
    if (flags.relay_family != "rfc" && flags.relay_family != "keep") return Error{"--relay-family takes rfc or keep"};
    config.core.keep_client_family = flags.relay_family == "keep";
    for (const std::string& user : flags.users) {
        const auto colon = user.find(':');
        if (colon == std::string::npos) return Error{"--user takes NAME:PASS"};
        if (colon == 0 || colon + 1 == user.size())
            return Error{"--user " + user + ": an empty name or password lets anyone in, or no one"};
        config.core.users[user.substr(0, colon)] = user.substr(colon + 1);
    }
    if (!flags.channel_range.empty()) {
        auto range = parse_channel_range(flags.channel_range);
        if (!range) return Error{"--channel-range: " + range.error().message};
        config.core.channels = *range;
    }
    for (const std::string& text : flags.allowed) {
        auto cidr = turn::parse_cidr(text);
        if (!cidr) return Error{"--allow-peer: " + cidr.error().message};
        config.core.allowed_peers.push_back(*cidr);
    }
    return config;
}

// The interface's MTU, the largest IPv4 packet the offload may send out of
// it; Ethernet's when it cannot be read (attaching then fails anyway).
std::uint16_t interface_mtu(const std::string& interface) {
    std::ifstream file("/sys/class/net/" + interface + "/mtu");
    unsigned mtu = 0;
    if (!(file >> mtu) || mtu < minimum_ipv4_mtu || mtu > 0xFFFF) return ethernet_mtu;
    return static_cast<std::uint16_t>(mtu);
}

// A target's description, read as the offload is attached: a mistake in
// it is a usage error (exit 2), not a fall back to user space. Its maps
// hold one host address per family as both the
// server's and the relay's address; a listener on the any-address writes
// the description's wildcards as the any-address, as such a control plane
// does.
Result<std::shared_ptr<const TargetDescription>> relay_target(const RelayFlags& flags, const turn::ServerConfig& config,
                                                              HostAddresses& host) {
    if (flags.target.empty()) return std::shared_ptr<const TargetDescription>();
    auto description = read_target_description(flags.target);
    if (!description) return description.error();
    bool any_listener = false;
    for (const auto& listen : config.listen) {
        const IpAddress address = endpoint_of(listen).address;
        const auto& relay = listen.ipv6 ? config.core.relay_address6 : std::optional(config.core.relay_address);
        any_listener = any_listener || is_unspecified(address);
        if (is_unspecified(address) && relay) continue;
        if (!relay || !(endpoint_of(*relay).address == address))
            return Error{
                "--target: the description's maps hold one address per family as both the TURN listener's "
                "and the relayed address; give --relay-ip the --listen address (" +
                to_string(address) + ")"};
    }
    host.ipv4 = endpoint_of(config.core.relay_address).address;
    if (config.core.relay_address6) host.ipv6 = endpoint_of(*config.core.relay_address6).address;
    if (description->has_wildcards())
        description->wildcard_form = any_listener ? WildcardForm::any : WildcardForm::address;
    return std::make_shared<const TargetDescription>(std::move(description).value());
}

// Attaches the offload, which relays IPv4 ChannelData arriving at the IPv4
// listening port and peers' datagrams arriving at allocation ports, and
// keeps its maps following the core's bindings, one map operation per
// change. An interface that already has a program is refused (another
// relay's offload, maybe a dead one's, would go on relaying), unless
// --xdp-replace. Without the offload otherwise the relay works all the
// same: it says why and goes on.
Result<std::unique_ptr<RelayOffload>> attach_offload(const RelayFlags& flags, const turn::ServerConfig& config,
                                                     turn::Server& server) {
    OffloadRequest request;
    request.interface = flags.xdp;
    request.mode = flags.xdp_mode == "generic" ? XdpMode::generic : XdpMode::native;
    request.replace = flags.xdp_replace;
    if (!flags.xdp_object.empty()) request.object = flags.xdp_object;
    auto target = relay_target(flags, config, request.host);
    if (!target) return target.error();
    request.target = std::move(target).value();
    DatapathConfig& datapath = request.datapath;
    datapath.turn_port = config.listen.front().port;
    for (const auto& address : config.listen)
        if (!address.ipv6) datapath.turn_port = address.port;
    datapath.channels = config.core.channels;
    datapath.relay_ports = PortRange{config.core.port_min, config.core.port_max};
    datapath.mtu = interface_mtu(flags.xdp);
    // Across families the program sends from the relay's own addresses,
    // the ones the core gives allocations (the core publishes such bindings
    // only for clients that talk to the address of their own family).
    // (An unspecified address, 0.0.0.0 or ::, is none: the program would
    // refuse it as a source, and such bindings stay with user space.)
    for (const auto& relay : {std::optional(config.core.relay_address), config.core.relay_address6})
        if (relay && !is_unspecified(endpoint_of(*relay).address))
            (relay->ipv6 ? datapath.relay_ipv6 : datapath.relay_ipv4) = endpoint_of(*relay).address;
    if (!flags.xdp_replace)
        if (auto occupant = xdp_occupant(flags.xdp)) return Error{"--xdp: " + *occupant};
    auto offload = attach_relay_offload(request);
    if (!offload) {
        turn::log_event(std::cerr, {{"event", "xdp_unavailable"},
                                    {"reason", offload.error().message.substr(0, 200)},
                                    {"fallback", "user space"}});
        return std::unique_ptr<RelayOffload>();
    }
    std::unique_ptr<RelayOffload> attached = std::move(offload).value();
    const std::string program = request.target   ? request.target->name + " (target " + flags.target + ")"
                                : request.object ? *request.object
                                                 : std::string("built-in");
    turn::log_event(
        std::cerr,
        {{"event", "xdp_attached"}, {"interface", flags.xdp}, {"mode", flags.xdp_mode}, {"program", program}});
    server.on_events([raw = attached.get()](const std::vector<turn::BindingEvent>& events) {
        if (auto synced = raw->sync(events); !synced)
            turn::log_event(std::cerr, {{"event", "error"}, {"message", synced.error().message}});
    });
    return attached;
}

}  // namespace

int relay_command(int argc, char** argv) {
    po::options_description description("xdpturn relay: the reference relay as a TURN server (UDP, IPv4)\n\noptions");
    RelayFlags flags;
    describe_flags(description, flags);
    const auto parsed = parse_options("relay", argc, argv, description);
    if (!parsed) return exit_usage;
    if (parsed->count("help")) {
        std::cout << description;
        return exit_equal;
    }
    // Logs to a closed pipe must not kill the relay with SIGPIPE (exit 141):
    // a write then fails with EPIPE and the relay goes on, and stops as asked.
    std::signal(SIGPIPE, SIG_IGN);
    auto config = server_config(flags);
    if (!config) {
        std::cerr << "xdpturn relay: " << config.error().message << "\n";
        return exit_usage;
    }
    turn::Server server(*config);
    if (auto opened = server.open(); !opened) {
        std::cerr << "xdpturn relay: " << opened.error().message << "\n";
        return exit_usage;
    }
    std::unique_ptr<RelayOffload> attached;
    if (!flags.xdp.empty()) {
        auto offload = attach_offload(flags, *config, server);
        if (!offload) {
            std::cerr << "xdpturn relay: " << offload.error().message << "\n";
            return exit_usage;
        }
        attached = std::move(offload).value();
    }
    const int status = server.run();
    if (attached) attached->log_counters();
    return status;
}

}  // namespace xdpturn::cli
