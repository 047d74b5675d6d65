#include "relay/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>

namespace xdpturn::turn {

namespace {

constexpr int batch = 64;
constexpr std::size_t datagram_bytes = 65536;

sockaddr_in to_sockaddr(const TransportAddress& address) {
    sockaddr_in raw{};
    raw.sin_family = AF_INET;
    raw.sin_port = htons(address.port);
    raw.sin_addr.s_addr = htonl(address.v4_value());
    return raw;
}

TransportAddress from_sockaddr(const sockaddr_in& raw) {
    return TransportAddress::v4(ntohl(raw.sin_addr.s_addr), ntohs(raw.sin_port));
}

std::string errno_text() {
    return std::strerror(errno);
}

// Tags in epoll data: the listener, the signal fd, the timer, or a relayed port.
constexpr std::uint64_t tag_listener = 1u << 20;
constexpr std::uint64_t tag_signals = (1u << 20) + 1;
constexpr std::uint64_t tag_timer = (1u << 20) + 2;

}  // namespace

Server::Server(ServerConfig config) : config_(std::move(config)), core_(config_.core) {}

Server::~Server() {
    for (auto& [port, socket] : relays_) close(socket.fd);
    for (int fd : {listener_.fd, epoll_, signals_, timer_})
        if (fd >= 0) close(fd);
}

Time Server::now() const {
    return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now().time_since_epoch());
}

void Server::log(const std::string& json) const {
    std::cerr << json << "\n";
}

Status Server::open() {
    if (config_.listen.ipv6 || config_.core.relay_address.ipv6) return Error{"the server handles IPv4 only"};
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return Error{"epoll: " + errno_text()};

    listener_.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const sockaddr_in listen = to_sockaddr(config_.listen);
    if (listener_.fd < 0 || bind(listener_.fd, reinterpret_cast<const sockaddr*>(&listen), sizeof(listen)) != 0)
        return Error{"cannot listen on " + config_.listen.to_string() + ": " + errno_text()};
    listener_.local = config_.listen;
    epoll_event listener_event{EPOLLIN, {.u64 = tag_listener}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_.fd, &listener_event);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signals_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    epoll_event signal_event{EPOLLIN, {.u64 = tag_signals}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, signals_, &signal_event);

    // Expiry runs once a second; lifetimes are in seconds.
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    const itimerspec every_second{{1, 0}, {1, 0}};
    timerfd_settime(timer_, 0, &every_second, nullptr);
    epoll_event timer_event{EPOLLIN, {.u64 = tag_timer}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &timer_event);

    log(R"({"event":"listening","address":")" + config_.listen.to_string() + R"(","relay":")" +
        config_.core.relay_address.to_string() + R"("})");
    return ok_status();
}

Status Server::open_relay_socket(std::uint16_t port) {
    Socket relay;
    relay.local = config_.core.relay_address;
    relay.local.port = port;
    relay.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const sockaddr_in local = to_sockaddr(relay.local);
    if (relay.fd < 0 || bind(relay.fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
        const std::string why = errno_text();
        if (relay.fd >= 0) close(relay.fd);
        return Error{"cannot bind relayed port " + std::to_string(port) + ": " + why};
    }
    epoll_event event{EPOLLIN, {.u64 = port}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, relay.fd, &event);
    relays_[port] = relay;
    return ok_status();
}

void Server::close_relay_socket(std::uint16_t port) {
    const auto relay = relays_.find(port);
    if (relay == relays_.end()) return;
    close(relay->second.fd);
    relays_.erase(relay);
}

void Server::apply(Output output) {
    for (std::uint16_t port : output.ports_opened) {
        if (auto opened = open_relay_socket(port); !opened) {
            // The allocation already holds the port; keep the port out of
            // future allocations and let this one fail by its lifetime.
            core_.reserve_port(port);
            log(R"({"event":"error","message":")" + opened.error().message + R"("})");
        }
    }
    for (std::uint16_t port : output.ports_closed) close_relay_socket(port);
    if (!output.events.empty()) {
        for (const BindingEvent& event : output.events)
            log(R"({"event":"binding_)" +
                std::string(event.kind == BindingEventKind::created     ? "created"
                            : event.kind == BindingEventKind::refreshed ? "refreshed"
                                                                        : "removed") +
                R"(","client":")" + to_string(event.key.client) + R"(","channel":)" +
                std::to_string(event.key.channel) + R"(,"allocation_port":)" +
                std::to_string(event.target.allocation_port) + R"(,"peer":")" + to_string(event.target.peer) + R"("})");
        if (sink_) sink_(output.events);
    }

    // Send, batched per source socket with sendmmsg.
    std::map<int, std::vector<const Datagram*>> by_socket;
    for (const Datagram& datagram : output.datagrams) {
        int fd = -1;
        if (datagram.source == listener_.local) {
            fd = listener_.fd;
        } else if (const auto relay = relays_.find(datagram.source.port); relay != relays_.end()) {
            fd = relay->second.fd;
        }
        if (fd >= 0) by_socket[fd].push_back(&datagram);
    }
    for (const auto& [fd, datagrams] : by_socket) {
        for (std::size_t first = 0; first < datagrams.size(); first += batch) {
            const std::size_t count = std::min<std::size_t>(batch, datagrams.size() - first);
            std::array<mmsghdr, batch> messages{};
            std::array<iovec, batch> vectors{};
            std::array<sockaddr_in, batch> addresses{};
            for (std::size_t i = 0; i < count; ++i) {
                const Datagram& datagram = *datagrams[first + i];
                addresses[i] = to_sockaddr(datagram.destination);
                vectors[i] = {const_cast<std::uint8_t*>(datagram.payload.data()), datagram.payload.size()};
                messages[i].msg_hdr.msg_name = &addresses[i];
                messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
                messages[i].msg_hdr.msg_iov = &vectors[i];
                messages[i].msg_hdr.msg_iovlen = 1;
            }
            (void)sendmmsg(fd, messages.data(), static_cast<unsigned>(count), 0);
        }
    }
}

void Server::receive(const Socket& socket, bool from_client) {
    static std::array<std::array<std::uint8_t, datagram_bytes>, batch> buffers;
    std::array<mmsghdr, batch> messages{};
    std::array<iovec, batch> vectors{};
    std::array<sockaddr_in, batch> addresses{};
    for (int i = 0; i < batch; ++i) {
        vectors[i] = {buffers[i].data(), buffers[i].size()};
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int received = recvmmsg(socket.fd, messages.data(), batch, MSG_DONTWAIT, nullptr);
    for (int i = 0; i < received; ++i) {
        Datagram datagram{from_sockaddr(addresses[i]), socket.local,
                          std::vector<std::uint8_t>(buffers[i].begin(), buffers[i].begin() + messages[i].msg_len)};
        apply(from_client ? core_.on_client_datagram(datagram, now()) : core_.on_peer_datagram(datagram, now()));
    }
}

int Server::run() {
    std::array<epoll_event, 64> events{};
    for (;;) {
        const int ready = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
        if (ready < 0 && errno == EINTR) continue;
        for (int i = 0; i < ready; ++i) {
            const std::uint64_t tag = events[i].data.u64;
            if (tag == tag_signals) {
                const Stats& stats = core_.stats();
                std::cout << R"({"event":"stopped","allocations_created":)" << stats.allocations_created
                          << R"(,"allocations_live":)" << core_.allocations() << R"(,"channel_binds":)"
                          << stats.channel_binds << R"(,"bindings_live":)" << core_.live_bindings().size()
                          << R"(,"relayed_to_peer":)" << stats.relayed_to_peer << R"(,"relayed_to_client":)"
                          << stats.relayed_to_client << R"(,"rejected":)" << stats.rejected << "}" << std::endl;
                return 0;
            }
            if (tag == tag_timer) {
                std::uint64_t expirations = 0;
                (void)read(timer_, &expirations, sizeof(expirations));
                apply(core_.on_tick(now()));
            } else if (tag == tag_listener) {
                receive(listener_, true);
            } else if (const auto relay = relays_.find(static_cast<std::uint16_t>(tag)); relay != relays_.end()) {
                const Socket socket = relay->second;  // apply() may close it
                receive(socket, false);
            }
        }
    }
}

}  // namespace xdpturn::turn
