// UDP sockets of the benchmark's clients and peers, owned (RAII).
#pragma once

#include <cstddef>
#include <utility>

#include "relay/net/result.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn::datapath {

class UdpSocket {
  public:
    // Bound to `local`, with a receive buffer of `receive_buffer` bytes
    // (forced past the system limit: the sink must not be the one to drop).
    static Result<UdpSocket> bind(const stun::TransportAddress& local, int receive_buffer);
    UdpSocket() = default;
    UdpSocket(UdpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)), local_(other.local_) {}
    UdpSocket& operator=(UdpSocket&& other) noexcept;
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    ~UdpSocket();

    int fd() const { return fd_; }
    const stun::TransportAddress& local() const { return local_; }

  private:
    int fd_ = -1;
    stun::TransportAddress local_;
};

// The transport address in a sockaddr_in.
stun::TransportAddress from_sockaddr(const void* address);

}  // namespace xdpturn::datapath
