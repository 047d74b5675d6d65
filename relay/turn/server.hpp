// The socket server around the sans-IO TURN core: one UDP socket on the
// listening address, one per allocation's relayed port, an epoll loop with
// recvmmsg/sendmmsg batching, a timer for expiry, and a clean stop on
// SIGINT, SIGTERM, SIGHUP or SIGQUIT. It logs JSON lines on stderr and ends with its stats.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include <span>

#include "relay/net/result.hpp"
#include "relay/turn/turn_core.hpp"

namespace xdpturn::turn {

struct ServerConfig {
    CoreConfig core;
    std::vector<TransportAddress> listen;  // TURN listening addresses, IPv4 and/or IPv6
};

class Server {
  public:
    // Called with the binding events of each step (the XDP map sync).
    using EventSink = std::function<void(const std::vector<BindingEvent>&)>;

    explicit Server(ServerConfig config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    Status open();
    // Serves until SIGINT, SIGTERM, SIGHUP or SIGQUIT; returns the exit status.
    int run();

    void on_events(EventSink sink) { sink_ = std::move(sink); }
    const Core& core() const { return core_; }

  private:
    struct Socket {
        int fd = -1;
        TransportAddress local;
    };

    static Result<Socket> bind_socket(const TransportAddress& local);
    Status open_relay_socket(const TransportAddress& relayed);
    void close_relay_socket(std::uint16_t port);
    void receive(const Socket& socket, bool from_client);
    void apply(Output output);
    void log_binding(const BindingEvent& event) const;
    void send(const std::vector<Datagram>& datagrams);
    void send_batch(int fd, std::span<const Datagram* const> datagrams);
    Status check_relay_addresses();
    Time now() const;
    void log(const nlohmann::json& event) const;

    ServerConfig config_;
    Core core_;
    int epoll_ = -1;
    int signals_ = -1;
    int timer_ = -1;
    std::vector<Socket> listeners_;
    std::map<std::uint16_t, Socket> relays_;  // relayed port -> socket
    EventSink sink_;
    // What the kernel took: the stats report these, not what the core asked.
    struct Delivered {
        std::uint64_t to_peer = 0;
        std::uint64_t to_client = 0;
        std::uint64_t send_failures = 0;
    } delivered_;
};

}  // namespace xdpturn::turn
