#include "harness/datapath/sockets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace xdpturn::datapath {

Result<UdpSocket> UdpSocket::bind(const stun::TransportAddress& local, int receive_buffer) {
    UdpSocket socket;
    socket.fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (socket.fd_ < 0) return Error{std::string("socket: ") + std::strerror(errno)};
    socket.local_ = local;
    if (setsockopt(socket.fd_, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof(receive_buffer)) != 0)
        setsockopt(socket.fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(local.port);
    address.sin_addr.s_addr = htonl(local.v4_value());
    if (::bind(socket.fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0)
        return Error{"cannot bind " + local.to_string() + ": " + std::strerror(errno)};
    return socket;
}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        local_ = other.local_;
    }
    return *this;
}

UdpSocket::~UdpSocket() {
    if (fd_ >= 0) close(fd_);
}

stun::TransportAddress from_sockaddr(const void* address) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof(in));
    return stun::TransportAddress::v4(ntohl(in.sin_addr.s_addr), ntohs(in.sin_port));
}

}  // namespace xdpturn::datapath
