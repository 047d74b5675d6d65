// `xdpturn relay`: the reference relay as a TURN server, optionally with the
// XDP program attached and its binding map kept in step with the core.
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <boost/program_options.hpp>

#include <iostream>
#include <optional>

#include "harness/cli/commands.hpp"
#include "harness/cli/options.hpp"
#include "harness/xdp/map_sync.hpp"
#include "harness/xdp/xdp_program.hpp"
#include "relay/turn/event_log.hpp"
#include "relay/turn/server.hpp"

namespace xdpturn::cli {

namespace po = boost::program_options;

namespace {

// The XDP program attached to an interface for the life of the server.
class AttachedProgram {
  public:
    static Result<std::unique_ptr<AttachedProgram>> attach(const std::string& interface, bool generic,
                                                           const DatapathConfig& config) {
        const unsigned index = if_nametoindex(interface.c_str());
        if (index == 0) return Error{"no interface '" + interface + "'"};
        auto program = XdpProgram::load_builtin(config);
        if (!program) return program.error();
        auto attached = std::unique_ptr<AttachedProgram>(new AttachedProgram(std::move(program).value()));
        attached->flags_ = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
        if (const int error =
                bpf_xdp_attach(static_cast<int>(index), attached->program_.program_fd(), attached->flags_, nullptr);
            error != 0)
            return Error{"cannot attach to " + interface + ": " + std::strerror(-error)};
        attached->index_ = static_cast<int>(index);
        return attached;
    }
    ~AttachedProgram() {
        if (index_ > 0) bpf_xdp_detach(index_, flags_, nullptr);
    }
    Status sync(const BindingTable& bindings) { return sync_.apply(bindings); }
    XdpProgram& program() { return program_; }

  private:
    explicit AttachedProgram(XdpProgram program) : program_(std::move(program)), sync_(program_) {}
    XdpProgram program_;
    MapSync sync_;
    int index_ = 0;
    __u32 flags_ = 0;
};

}  // namespace

int relay_command(int argc, char** argv) {
    po::options_description description("xdpturn relay: the reference relay as a TURN server (UDP, IPv4)\n\noptions");
    std::string ports = "49152-65535", realm = "xdpturn", channel_range, xdp, xdp_mode = "native";
    std::vector<std::string> listens, relay_ips, users, allowed;
    std::size_t quota = 10;
    std::string relay_family = "rfc";
    description.add_options()("help,h", "show this help")(
        "listen", po::value(&listens)->required(),
        "TURN listening address ADDR:PORT or [ADDR6]:PORT (repeatable, one per family)")(
        "relay-ip", po::value(&relay_ips)->required(),
        "address of the relayed transport addresses, IPv4 and optionally IPv6 (repeatable)")(
        "ports", po::value(&ports)->default_value(ports), "relayed port range LO-HI")(
        "realm", po::value(&realm)->default_value(realm), "authentication realm")(
        "user", po::value(&users)->required(), "NAME:PASS, long-term credentials (repeatable)")(
        "channel-range", po::value(&channel_range), "accepted channels LO-HI (default 0x4000-0x4FFF)")(
        "allow-peer", po::value(&allowed), "open a peer range refused by default, CIDR (repeatable)")(
        "quota", po::value(&quota)->default_value(quota), "allocations per user")(
        "relay-family", po::value(&relay_family)->default_value(relay_family),
        "without REQUESTED-ADDRESS-FAMILY: rfc (IPv4 relay) or keep (the client's family, as coturn's -A keep)")(
        "xdp", po::value(&xdp), "attach the XDP program to this interface and keep its map in sync")(
        "xdp-mode", po::value(&xdp_mode)->default_value(xdp_mode), "native or generic");
    if (argc >= 2 && std::string(argv[1]) == std::string("--help")) {
        std::cout << description;
        return exit_equal;
    }
    const auto parsed = parse_options("relay", argc, argv, description);
    if (!parsed) return exit_usage;

    turn::ServerConfig config;
    auto usage = [](const std::string& message) {
        std::cerr << "xdpturn relay: " << message << "\n";
        return exit_usage;
    };
    auto port_range = parse_channel_range(ports);  // the same LO-HI syntax
    if (!port_range) return usage("--ports: " + port_range.error().message);
    for (const std::string& text : listens) {
        auto address = turn::parse_transport_address(text);
        if (!address) return usage("--listen: " + address.error().message);
        config.listen.push_back(*address);
    }
    bool have_ipv4_relay = false;
    for (const std::string& text : relay_ips) {
        auto address =
            turn::parse_transport_address(text.find(':') != std::string::npos ? "[" + text + "]:0" : text + ":0");
        if (!address) return usage("--relay-ip: " + address.error().message);
        if (address->ipv6) {
            config.core.relay_address6 = *address;
        } else {
            config.core.relay_address = *address;
            have_ipv4_relay = true;
        }
    }
    if (!have_ipv4_relay) return usage("--relay-ip needs an IPv4 address");
    const stun::TransportAddress* ipv4_listen = nullptr;
    for (const auto& address : config.listen)
        if (!address.ipv6) ipv4_listen = &address;
    config.core.port_min = port_range->min;
    config.core.port_max = port_range->max;
    config.core.realm = realm;
    config.core.allocations_per_user = quota;
    if (relay_family != "rfc" && relay_family != "keep") return usage("--relay-family takes rfc or keep");
    config.core.keep_client_family = relay_family == "keep";
    for (const std::string& user : users) {
        const auto colon = user.find(':');
        if (colon == std::string::npos) return usage("--user takes NAME:PASS");
        config.core.users[user.substr(0, colon)] = user.substr(colon + 1);
    }
    if (!channel_range.empty()) {
        auto range = parse_channel_range(channel_range);
        if (!range) return usage("--channel-range: " + range.error().message);
        config.core.channels = *range;
    }
    for (const std::string& text : allowed) {
        auto cidr = turn::parse_cidr(text);
        if (!cidr) return usage("--allow-peer: " + cidr.error().message);
        config.core.allowed_peers.push_back(*cidr);
    }

    turn::Server server(config);
    if (auto opened = server.open(); !opened) {
        std::cerr << "xdpturn relay: " << opened.error().message << "\n";
        return exit_usage;
    }
    std::unique_ptr<AttachedProgram> attached;
    if (!xdp.empty()) {
        // The offload relays IPv4 ChannelData arriving at the IPv4 listening port.
        const std::uint16_t turn_port = ipv4_listen != nullptr ? ipv4_listen->port : config.listen.front().port;
        auto program =
            AttachedProgram::attach(xdp, xdp_mode == "generic", DatapathConfig{turn_port, config.core.channels});
        if (program) {
            attached = std::move(program).value();
            turn::log_event(std::cerr, {{"event", "xdp_attached"}, {"interface", xdp}, {"mode", xdp_mode}});
            server.on_events([&](const std::vector<turn::BindingEvent>&) {
                if (auto synced = attached->sync(server.core().live_bindings()); !synced)
                    turn::log_event(std::cerr, {{"event", "error"}, {"message", synced.error().message}});
            });
        } else {
            // The relay works without the offload: say why and go on.
            turn::log_event(std::cerr, {{"event", "xdp_unavailable"},
                                        {"reason", program.error().message.substr(0, 200)},
                                        {"fallback", "user space"}});
        }
    }
    const int status = server.run();
    if (attached) {
        // The XDP program's reason counters join the relay's stats.
        if (auto counters = attached->program().read_counters(); counters) {
            nlohmann::json reasons = nlohmann::json::object();
            for (Reason reason : all_reasons) reasons[std::string(name(reason))] = (*counters)[reason];
            turn::log_event(
                std::cout,
                {{"event", "xdp_counters"}, {"relayed", (*counters)[Reason::relayed]}, {"reasons", reasons}});
        }
    }
    return status;
}

}  // namespace xdpturn::cli
