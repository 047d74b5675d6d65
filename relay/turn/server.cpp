#include "relay/turn/server.hpp"

#include "relay/turn/event_log.hpp"

#include <arpa/inet.h>
#include <malloc.h>
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
#include <span>

namespace xdpturn::turn {

namespace {

constexpr int batch = 64;
constexpr std::size_t datagram_bytes = 65536;

// Socket addresses of either family.
socklen_t to_sockaddr(const TransportAddress& address, sockaddr_storage& raw) {
    raw = {};
    if (address.ipv6) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&raw);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(address.port);
        std::copy(address.address.begin(), address.address.end(), v6->sin6_addr.s6_addr);
        return sizeof(sockaddr_in6);
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&raw);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    v4->sin_addr.s_addr = htonl(address.v4_value());
    return sizeof(sockaddr_in);
}

TransportAddress from_sockaddr(const sockaddr_storage& raw) {
    if (raw.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&raw);
        TransportAddress address;
        address.ipv6 = true;
        std::copy(v6->sin6_addr.s6_addr, v6->sin6_addr.s6_addr + 16, address.address.begin());
        address.port = ntohs(v6->sin6_port);
        return address;
    }
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&raw);
    return TransportAddress::v4(ntohl(v4->sin_addr.s_addr), ntohs(v4->sin_port));
}

std::string errno_text() {
    return std::strerror(errno);
}

// Tags in epoll data: a relayed port (below 65536), the signal fd, the
// timer, or a listener (tag_listener + its index).
constexpr std::uint64_t tag_signals = 1u << 20;
constexpr std::uint64_t tag_timer = (1u << 20) + 1;
constexpr std::uint64_t tag_listener = 1u << 21;

}  // namespace

namespace {

// The core must know the listening addresses: they are never peers.
ServerConfig with_listening(ServerConfig config) {
    config.core.listening = config.listen;
    return config;
}

}  // namespace

Server::Server(ServerConfig config) : config_(with_listening(std::move(config))), core_(config_.core) {}

Server::~Server() {
    for (auto& [port, socket] : relays_) close(socket.fd);
    for (const Socket& listener : listeners_) close(listener.fd);
    for (int fd : {epoll_, signals_, timer_})
        if (fd >= 0) close(fd);
}

Time Server::now() const {
    return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now().time_since_epoch());
}

void Server::log(const nlohmann::json& event) const {
    log_event(std::cerr, event);
}

Result<Server::Socket> Server::bind_socket(const TransportAddress& local) {
    Socket socket_;
    socket_.local = local;
    socket_.fd = socket(local.ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (socket_.fd < 0) return Error{"socket: " + errno_text()};
    if (local.ipv6) {
        const int only = 1;
        setsockopt(socket_.fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only));
    }
    sockaddr_storage raw;
    const socklen_t length = to_sockaddr(local, raw);
    if (bind(socket_.fd, reinterpret_cast<const sockaddr*>(&raw), length) != 0) {
        const std::string why = errno_text();
        close(socket_.fd);
        return Error{"cannot bind " + local.to_string() + ": " + why};
    }
    return socket_;
}

// Every relayed address must be one of this host's: an Allocate must never
// advertise an address the relay cannot receive on.
Status Server::check_relay_addresses() {
    std::vector<TransportAddress> bases{config_.core.relay_address};
    if (config_.core.relay_address6) bases.push_back(*config_.core.relay_address6);
    for (TransportAddress base : bases) {
        base.port = 0;
        auto probe = bind_socket(base);
        if (!probe)
            return Error{"--relay-ip " + base.to_string() + " is not an address of this host (" +
                         probe.error().message + ")"};
        close(probe->fd);
    }
    return ok_status();
}

Status Server::open() {
    if (config_.listen.empty()) return Error{"no listening address"};
    if (auto checked = check_relay_addresses(); !checked) return checked;
    // A relayed port never collides with a listening port.
    for (const TransportAddress& address : config_.listen) core_.reserve_port(address.port);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return Error{"epoll: " + errno_text()};
    for (const TransportAddress& address : config_.listen) {
        auto listener = bind_socket(address);
        if (!listener) return listener.error();
        epoll_event event{EPOLLIN, {.u64 = tag_listener + listeners_.size()}};
        epoll_ctl(epoll_, EPOLL_CTL_ADD, listener->fd, &event);
        listeners_.push_back(*listener);
        log({{"event", "listening"}, {"address", address.to_string()}});
    }

    sigset_t mask;
    sigemptyset(&mask);
    // Every signal that asks a process to stop stops it cleanly: the
    // offload's link closes and its maps go with it.
    for (const int stop : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&mask, stop);
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

    return ok_status();
}

Status Server::open_relay_socket(const TransportAddress& relayed) {
    auto relay = bind_socket(relayed);
    if (!relay) return relay.error();
    epoll_event event{EPOLLIN, {.u64 = relayed.port}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, relay->fd, &event);
    relays_[relayed.port] = *relay;
    return ok_status();
}

void Server::close_relay_socket(std::uint16_t port) {
    const auto relay = relays_.find(port);
    if (relay == relays_.end()) return;
    close(relay->second.fd);
    relays_.erase(relay);
}

void Server::apply(Output output) {
    // Bind each new allocation's socket before its success is sent; when it
    // cannot be bound, the core undoes the allocation and answers 508.
    std::vector<Output> undone;
    for (const RelayOpening& opening : output.relays_opened) {
        if (auto opened = open_relay_socket(opening.relayed); opened) {
            output.datagrams.push_back(opening.success);
        } else {
            log({{"event", "error"}, {"message", opened.error().message}});
            undone.push_back(core_.relay_unavailable(opening, now()));
        }
    }
    for (const TransportAddress& relayed : output.relays_closed) close_relay_socket(relayed.port);
    // Freed allocations give their memory back to the system, not only to
    // the allocator (glibc keeps small freed blocks otherwise).
    if (!output.relays_closed.empty()) malloc_trim(0);
    if (!output.events.empty()) {
        for (const BindingEvent& event : output.events) log_binding(event);
        if (sink_) sink_(output.events);
    }
    send(output.datagrams);
    for (Output& more : undone) apply(std::move(more));
}

void Server::log_binding(const BindingEvent& event) const {
    log({{"event", std::string("binding_") + (event.kind == BindingEventKind::created     ? "created"
                                              : event.kind == BindingEventKind::refreshed ? "refreshed"
                                                                                          : "removed")},
         {"client", to_string(event.key.client)},
         {"channel", event.key.channel},
         {"allocation_port", event.target.allocation_port},
         {"peer", to_string(event.target.peer)}});
}

// Sends, batched per source socket with sendmmsg, and counts what went: a
// datagram the kernel refuses is skipped and counted as a failure.
void Server::send(const std::vector<Datagram>& datagrams) {
    std::map<int, std::vector<const Datagram*>> by_socket;
    for (const Datagram& datagram : datagrams) {
        int fd = -1;
        for (const Socket& listener : listeners_)
            if (datagram.source == listener.local) fd = listener.fd;
        if (const auto relay = relays_.find(datagram.source.port); fd < 0 && relay != relays_.end())
            fd = relay->second.fd;
        if (fd >= 0) by_socket[fd].push_back(&datagram);
    }
    for (const auto& [fd, queued] : by_socket)
        for (std::size_t first = 0; first < queued.size(); first += batch)
            send_batch(fd, std::span(queued).subspan(first, std::min<std::size_t>(batch, queued.size() - first)));
}

void Server::send_batch(int fd, std::span<const Datagram* const> datagrams) {
    std::array<mmsghdr, batch> messages{};
    std::array<iovec, batch> vectors{};
    std::array<sockaddr_storage, batch> addresses{};
    for (std::size_t i = 0; i < datagrams.size(); ++i) {
        const Datagram& datagram = *datagrams[i];
        const socklen_t length = to_sockaddr(datagram.destination, addresses[i]);
        vectors[i] = {const_cast<std::uint8_t*>(datagram.payload.data()), datagram.payload.size()};
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_namelen = length;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    for (std::size_t done = 0; done < datagrams.size();) {
        const int sent = sendmmsg(fd, messages.data() + done, static_cast<unsigned>(datagrams.size() - done), 0);
        if (sent <= 0) {
            ++delivered_.send_failures;
            ++done;
            continue;
        }
        for (std::size_t i = done; i < done + static_cast<std::size_t>(sent); ++i) {
            if (datagrams[i]->carries == Carries::to_peer) ++delivered_.to_peer;
            if (datagrams[i]->carries == Carries::to_client) ++delivered_.to_client;
        }
        done += static_cast<std::size_t>(sent);
    }
}

void Server::receive(const Socket& socket, bool from_client) {
    static std::array<std::array<std::uint8_t, datagram_bytes>, batch> buffers;
    std::array<mmsghdr, batch> messages{};
    std::array<iovec, batch> vectors{};
    std::array<sockaddr_storage, batch> addresses{};
    for (int i = 0; i < batch; ++i) {
        vectors[i] = {buffers[i].data(), buffers[i].size()};
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
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
                log_event(std::cout, {{"event", "stopped"},
                                      {"allocations_created", stats.allocations_created},
                                      {"allocations_live", core_.allocations()},
                                      {"channel_binds", stats.channel_binds},
                                      {"bindings_live", core_.live_bindings().size()},
                                      {"relayed_to_peer", delivered_.to_peer},
                                      {"relayed_to_client", delivered_.to_client},
                                      {"send_failures", delivered_.send_failures},
                                      {"rejected", stats.rejected}});
                return 0;
            }
            if (tag == tag_timer) {
                std::uint64_t expirations = 0;
                (void)read(timer_, &expirations, sizeof(expirations));
                apply(core_.on_tick(now()));
            } else if (tag >= tag_listener && tag < tag_listener + listeners_.size()) {
                receive(listeners_[tag - tag_listener], true);
            } else if (const auto relay = relays_.find(static_cast<std::uint16_t>(tag)); relay != relays_.end()) {
                const Socket socket = relay->second;  // apply() may close it
                receive(socket, false);
            }
        }
    }
}

}  // namespace xdpturn::turn
