#include "harness/datapath/datapath_run.hpp"

#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "harness/datapath/flows.hpp"
#include "harness/datapath/generator.hpp"
#include "harness/datapath/signalling.hpp"
#include "harness/datapath/sink.hpp"
#include "harness/datapath/sockets.hpp"
#include "harness/datapath/system_counters.hpp"
#include "harness/datapath/veth_counters.hpp"
#include "harness/datapath/xdp_sink.hpp"

namespace xdpturn::datapath {

namespace {

// Large enough that the sink never drops: it is the relay under test that
// may.
constexpr int sink_receive_buffer = 8 << 20;

struct Endpoints {
    std::vector<UdpSocket> clients, peers;
};

stun::TransportAddress plus_port(stun::TransportAddress address, unsigned offset) {
    address.port = static_cast<std::uint16_t>(address.port + offset);
    return address;
}

Result<Endpoints> open_endpoints(const LoadOptions& options) {
    Endpoints endpoints;
    for (unsigned i = 0; i < options.clients; ++i) {
        auto socket = UdpSocket::bind(plus_port(options.first_client, i), sink_receive_buffer);
        if (!socket) return socket.error();
        endpoints.clients.push_back(std::move(socket).value());
    }
    for (unsigned i = 0; i < options.clients * options.channels_per_client; ++i) {
        auto socket = UdpSocket::bind(plus_port(options.first_peer, i), sink_receive_buffer);
        if (!socket) return socket.error();
        endpoints.peers.push_back(std::move(socket).value());
    }
    return endpoints;
}

// Allocate, then per channel CreatePermission and ChannelBind, as a client.
Result<std::vector<Binding>> make_bindings(const LoadOptions& options, const Endpoints& endpoints) {
    std::vector<Binding> bindings;
    for (unsigned c = 0; c < options.clients; ++c) {
        const UdpSocket& client = endpoints.clients[c];
        TurnClient turn(client, options.server, options.user, options.password);
        auto relayed = turn.allocate();
        if (!relayed) return Error{"client " + client.local().to_string() + ": " + relayed.error().message};
        for (unsigned k = 0; k < options.channels_per_client; ++k) {
            const UdpSocket& peer = endpoints.peers[c * options.channels_per_client + k];
            const auto channel = static_cast<std::uint16_t>(options.first_channel + k);
            if (auto permitted = turn.permit(peer.local()); !permitted) return permitted.error();
            if (auto bound = turn.bind(channel, peer.local()); !bound) return bound.error();
            bindings.push_back({client.local(), options.server, *relayed, peer.local(), channel});
        }
    }
    return bindings;
}

Result<unsigned> interface_index(const std::string& interface) {
    const unsigned index = if_nametoindex(interface.c_str());
    if (index == 0) return Error{"no interface '" + interface + "' in this namespace"};
    return index;
}

Result<MacAddress> interface_mac(const std::string& interface) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
    ifreq request{};
    std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
    const int status = ioctl(fd, SIOCGIFHWADDR, &request);
    close(fd);
    if (status != 0) return Error{"no interface '" + interface + "' here: " + std::strerror(errno)};
    MacAddress mac{};
    std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
    return mac;
}

// The relay's MAC from this namespace's neighbour table, which signalling
// filled.
Result<MacAddress> neighbour_mac(const stun::TransportAddress& address) {
    std::ifstream table("/proc/net/arp");
    std::string line;
    const std::string wanted = address.to_string().substr(0, address.to_string().rfind(':'));
    std::getline(table, line);  // the column names
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string ip, type, flags, mac;
        fields >> ip >> type >> flags >> mac;
        if (ip != wanted) continue;
        MacAddress bytes{};
        unsigned values[6] = {};
        if (std::sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x", &values[0], &values[1], &values[2], &values[3], &values[4],
                        &values[5]) != 6)
            break;
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(values[i]);
        return bytes;
    }
    return Error{"the relay " + wanted + " is not in the neighbour table"};
}

Result<std::unique_ptr<Generator>> make_live_generator(const LoadOptions& options, const std::vector<Flow>& flows);
Result<std::unique_ptr<Generator>> make_packet_generator(const LoadOptions& options, const std::vector<Flow>& flows);

// The generator asked for, and its name in `used`; `automatic` falls back
// from live frames to the packet socket to the flows' own sockets, and
// `why_not_live` says why each was passed over.
Result<std::unique_ptr<Generator>> make_generator(const LoadOptions& options, const std::vector<Flow>& flows,
                                                  const Endpoints& endpoints, std::string& used,
                                                  std::string& why_not_live) {
    const bool automatic = options.generator == GeneratorKind::automatic;
    if (automatic || options.generator == GeneratorKind::live) {
        used = "live";
        auto live = make_live_generator(options, flows);
        if (live || !automatic) return live;
        why_not_live = live.error().message;
    }
    if (automatic || options.generator == GeneratorKind::packet) {
        used = "packet";
        auto packet = make_packet_generator(options, flows);
        if (packet || !automatic) return packet;
        why_not_live += "; packet socket: " + packet.error().message;
    }
    used = "socket";
    {
        std::vector<FlowSocket> sockets;
        for (const Flow& flow : flows) {
            const std::size_t binding = flow.id / 2;
            const std::size_t client = binding / options.channels_per_client;
            sockets.push_back({&flow, flow.direction == Direction::to_peer ? endpoints.clients[client].fd()
                                                                           : endpoints.peers[binding].fd()});
        }
        return std::unique_ptr<Generator>(std::make_unique<SocketGenerator>(std::move(sockets), options.payload_bytes));
    }
}

// Where a frame generator sends from: the load side's interface and MAC,
// and the relay's MAC.
struct LinkEnds {
    int index = 0;
    MacAddress source{}, destination{};
};

Result<LinkEnds> link_ends(const LoadOptions& options) {
    auto index = interface_index(options.interface);
    if (!index) return index.error();
    auto source = interface_mac(options.interface);
    if (!source) return source.error();
    auto destination = neighbour_mac(options.server);
    if (!destination) return destination.error();
    return LinkEnds{static_cast<int>(*index), *source, *destination};
}

Result<std::unique_ptr<Generator>> make_packet_generator(const LoadOptions& options, const std::vector<Flow>& flows) {
    auto ends = link_ends(options);
    if (!ends) return ends.error();
    auto packet = PacketGenerator::open(ends->index, flows, ends->source, ends->destination, options.payload_bytes);
    if (!packet) return packet.error();
    return std::unique_ptr<Generator>(std::move(packet).value());
}

Result<std::unique_ptr<Generator>> make_live_generator(const LoadOptions& options, const std::vector<Flow>& flows) {
    auto ends = link_ends(options);
    if (!ends) return ends.error();
    auto live = LiveGenerator::open(ends->index, flows, ends->source, ends->destination, options.payload_bytes);
    if (!live) return live.error();
    if (auto probed = (*live)->probe(); !probed) return probed.error();
    return std::unique_ptr<Generator>(std::move(live).value());
}

std::vector<SinkSocket> sink_sockets(const LoadOptions& options, const std::vector<Binding>& bindings,
                                     const Endpoints& endpoints) {
    std::vector<SinkSocket> sockets;
    for (unsigned c = 0; c < options.clients; ++c) {
        SinkSocket client{endpoints.clients[c].fd(), true, options.server, {}, 0};
        for (unsigned k = 0; k < options.channels_per_client; ++k) {
            const std::size_t binding = c * options.channels_per_client + k;
            client.channel_flows.emplace_back(bindings[binding].channel, static_cast<std::uint32_t>(2 * binding + 1));
        }
        sockets.push_back(std::move(client));
    }
    for (std::size_t b = 0; b < bindings.size(); ++b)
        sockets.push_back({endpoints.peers[b].fd(), false, bindings[b].relayed, {}, static_cast<std::uint32_t>(2 * b)});
    return sockets;
}

Result<std::unique_ptr<Sink>> make_sink(const LoadOptions& options, const std::vector<Binding>& bindings,
                                        const std::vector<Flow>& flows, const Endpoints& endpoints) {
    if (options.sink == SinkKind::socket)
        return std::unique_ptr<Sink>(std::make_unique<SocketSink>(sink_sockets(options, bindings, endpoints),
                                                                  flows.size(), options.rates.size(),
                                                                  options.payload_bytes, options.sink_cpu));
    auto sink = XdpSink::open(options.interface, flows, options.payload_bytes);
    if (!sink) return sink.error();
    return std::unique_ptr<Sink>(std::move(sink).value());
}

// Without --interface (a socket generator and sink) there is no veth to
// read; the step goes without.
std::optional<VethDrops> veth_drops(const LoadOptions& options) {
    if (options.interface.empty() || options.relay_interface.empty()) return std::nullopt;
    auto drops = read_veth_drops(options.interface, options.relay_interface, options.relay_pid);
    if (!drops) return std::nullopt;
    return *drops;
}

double per_packet(std::uint64_t total, std::uint64_t packets) {
    return packets == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(packets);
}

nlohmann::json step_json(std::uint64_t rate, const Offered& offered, const StepTally& tally, const CounterSample& cost,
                         const std::optional<VethDrops>& veth, const std::optional<XdpCost>& xdp) {
    const double seconds = std::chrono::duration<double>(offered.elapsed).count();
    const std::uint64_t delivered = tally.delivered[0] + tally.delivered[1];
    const std::uint64_t lost = offered.frames > delivered ? offered.frames - delivered : 0;
    nlohmann::json step = {
        {"offered_rate", rate},
        {"seconds", seconds},
        {"offered", offered.frames},
        {"offered_pps", seconds > 0 ? static_cast<double>(offered.frames) / seconds : 0.0},
        {"delivered", delivered},
        {"delivered_pps", seconds > 0 ? static_cast<double>(delivered) / seconds : 0.0},
        {"lost", lost},
        {"loss", offered.frames == 0 ? 0.0 : static_cast<double>(lost) / static_cast<double>(offered.frames)},
        {"to_peer", {{"offered", offered.per_direction[0]}, {"delivered", tally.delivered[0]}}},
        {"to_client", {{"offered", offered.per_direction[1]}, {"delivered", tally.delivered[1]}}},
        {"checked",
         {{"duplicates", tally.duplicates},
          {"reordered", tally.reordered},
          {"corrupt", tally.corrupt},
          {"wrong_flow", tally.wrong_flow},
          {"late", tally.late}}},
        {"delay_ns",
         {{"p50", tally.delay.percentile(0.5)},
          {"p99", tally.delay.percentile(0.99)},
          {"p999", tally.delay.percentile(0.999)},
          {"max", tally.delay.max()}}},
        // The relay's process, and its receive path in the kernel (where
        // an offload does all of its work).
        {"relay_process_ns_per_packet", per_packet(cost.process_cpu_ns, delivered)},
        {"relay_kernel_ns_per_packet", per_packet(cost.kernel_ns, delivered)},
        {"relay_process_ns", cost.process_cpu_ns},
        {"relay_kernel_ns", cost.kernel_ns},
        {"drops",
         {{"relay_udp_receive_buffer", cost.relay_udp_drops}, {"sink_udp_receive_buffer", cost.sink_udp_drops}}},
    };
    if (!tally.first_problem.empty()) step["checked"]["first_problem"] = tally.first_problem;
    if (veth) {
        step["drops"]["veth_into_relay"] = veth->into_relay;
        step["drops"]["veth_out_of_relay"] = veth->out_of_relay;
        step["relay_side_received"] = veth->relay_received;
    }
    if (xdp)
        step["xdp"] = {{"sampled_runs", xdp->runs},
                       {"sampled_ns", xdp->run_ns},
                       {"sample_ms", xdp->window.count()},
                       {"ns_per_run", per_packet(xdp->run_ns, xdp->runs)}};
    return step;
}

void pin_this_thread(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<unsigned>(cpu), &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

}  // namespace

Result<nlohmann::json> run_load(const LoadOptions& options) {
    auto counters = SystemCounters::open(options.relay_pid, options.relay_kernel_threads, options.relay_cpu,
                                         options.xdp_program_id);
    if (!counters) return counters.error();
    auto endpoints = open_endpoints(options);
    if (!endpoints) return endpoints.error();
    auto bindings = make_bindings(options, *endpoints);
    if (!bindings) return bindings.error();
    const std::vector<Flow> flows = flows_of(*bindings);
    std::string used, why_not_live;
    auto generator = make_generator(options, flows, *endpoints, used, why_not_live);
    if (!generator) return generator.error();
    const bool live = used == "live";
    if (!why_not_live.empty())
        std::cerr << "datapath load: " << options.relay_name << ": the " << used
                  << " generator instead of live frames: " << why_not_live << "\n";
    auto sink = make_sink(options, *bindings, flows, *endpoints);
    if (!sink) return sink.error();
    if (auto started = (*sink)->start(); !started) return started.error();
    pin_this_thread(options.generator_cpu);

    nlohmann::json steps = nlohmann::json::array();
    for (std::size_t step = 0; step < options.rates.size(); ++step) {
        auto before = counters->sample();
        if (!before) return before.error();
        auto veth_before = veth_drops(options);
        // The offload's own cost, sampled in the step's second quarter.
        std::future<Result<XdpCost>> xdp_sample;
        if (options.xdp_program_id)
            xdp_sample = std::async(std::launch::async, [&] {
                std::this_thread::sleep_for(options.step_duration / 4);
                return counters->sample_xdp(options.step_duration / 4);
            });
        auto offered =
            (*generator)->run_step(static_cast<std::uint32_t>(step), options.rates[step], options.step_duration);
        std::optional<XdpCost> xdp;
        if (xdp_sample.valid()) {
            auto sampled = xdp_sample.get();
            if (!sampled) return sampled.error();
            xdp = *sampled;
        }
        if (!offered) return offered.error();
        std::this_thread::sleep_for(options.drain);
        auto after = counters->sample();
        if (!after) return after.error();
        auto veth_after = veth_drops(options);
        std::optional<VethDrops> veth;
        if (veth_before && veth_after) veth = *veth_after - *veth_before;
        if (live && veth)
            if (auto sent = live_frames_arrived(*offered, *veth, options.relay_interface); !sent) return sent.error();
        auto tally = (*sink)->tally(step);
        if (!tally) return tally.error();
        steps.push_back(step_json(options.rates[step], *offered, *tally, *after - *before, veth, xdp));
    }
    (*sink)->stop();
    nlohmann::json report = {
        {"relay", options.relay_name},
        {"generator", used},
        {"generator_fallback", why_not_live},
        {"sink", options.sink == SinkKind::xdp ? "xdp" : "socket"},
        {"clients", options.clients},
        {"bindings", bindings->size()},
        {"flows", flows.size()},
        {"payload_bytes", options.payload_bytes},
        {"step_seconds", std::chrono::duration<double>(options.step_duration).count()},
        {"steps", steps},
    };
    if (const auto& program = counters->xdp_program())
        report["xdp_program"] = {{"name", program->name},
                                 {"id", program->id},
                                 {"verified_instructions", program->verified_instructions},
                                 {"translated_instructions", program->translated_instructions}};
    return report;
}

}  // namespace xdpturn::datapath
