#include "harness/datapath/signalling.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>

namespace xdpturn::datapath {

namespace attribute = stun::attribute;
using stun::Class;
using stun::Method;

namespace {

constexpr int first_timeout_ms = 500;
constexpr int attempts = 7;

std::string method_name(Method method) {
    switch (method) {
        case Method::allocate: return "Allocate";
        case Method::create_permission: return "CreatePermission";
        case Method::channel_bind: return "ChannelBind";
        default: return "request";
    }
}

}  // namespace

Result<std::vector<std::uint8_t>> TurnClient::exchange(const std::vector<std::uint8_t>& message,
                                                       const stun::TransactionId& transaction) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(server_.port);
    to.sin_addr.s_addr = htonl(server_.v4_value());
    int timeout = first_timeout_ms;
    std::vector<std::uint8_t> buffer(2048);
    for (int attempt = 0; attempt < attempts; ++attempt, timeout *= 2) {
        if (sendto(socket_.fd(), message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof(to)) < 0)
            return Error{"cannot send to " + server_.to_string() + ": " + std::strerror(errno)};
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd ready{socket_.fd(), POLLIN, 0};
            if (left.count() <= 0 || poll(&ready, 1, static_cast<int>(left.count())) <= 0) break;
            const ssize_t got = recv(socket_.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
            if (got <= 0) continue;
            auto parsed = stun::parse(Bytes(buffer.data(), static_cast<std::size_t>(got)));
            // Anything else (a late answer to an earlier attempt) is skipped.
            if (parsed && parsed->transaction == transaction)
                return std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + got);
        }
    }
    return Error{"no answer from " + server_.to_string() + " after " + std::to_string(attempts) + " attempts"};
}

Result<std::vector<std::uint8_t>> TurnClient::request(Method method,
                                                      const turn::ClientSession::Attributes& attributes) {
    for (int challenge = 0; challenge < 3; ++challenge) {
        const std::vector<std::uint8_t> message = session_.request(method, attributes);
        auto answer = exchange(message, session_.transaction());
        if (!answer) return Error{method_name(method) + ": " + answer.error().message};
        auto parsed = stun::parse(*answer);
        if (!parsed) return Error{method_name(method) + ": unreadable answer: " + parsed.error().message};
        if (parsed->message_class == Class::success) return std::move(answer).value();
        if (session_.take_challenge(*parsed)) continue;
        const stun::Attribute* error = parsed->find(attribute::error_code);
        auto code = error ? stun::decode_error_code(*error) : Result<stun::ErrorCode>(Error{"no ERROR-CODE"});
        if (!code) return Error{method_name(method) + ": error response without a code"};
        if (code->code == 401 || code->code == 438)
            return Error{method_name(method) + ": challenged without REALM and NONCE"};
        return Error{method_name(method) + " refused: " + std::to_string(code->code) + " " + code->reason};
    }
    return Error{method_name(method) + ": credentials refused (user '" + session_.user() + "')"};
}

Result<stun::TransportAddress> TurnClient::allocate() {
    auto answer = request(Method::allocate,
                          [](stun::MessageBuilder& builder) { builder.add_requested_transport(stun::transport_udp); });
    if (!answer) return answer.error();
    auto message = stun::parse(*answer);
    if (!message) return Error{"Allocate: unreadable answer: " + message.error().message};
    const stun::Attribute* relayed = message->find(attribute::xor_relayed_address);
    if (!relayed) return Error{"Allocate: success without XOR-RELAYED-ADDRESS"};
    auto address = stun::decode_xor_address(*relayed, message->transaction);
    if (!address) return Error{"Allocate: " + address.error().message};
    return *address;
}

Status TurnClient::permit(const stun::TransportAddress& peer) {
    auto answer = request(Method::create_permission, [&](stun::MessageBuilder& builder) {
        builder.add_xor_address(attribute::xor_peer_address, peer);
    });
    if (!answer) return answer.error();
    return ok_status();
}

Status TurnClient::bind(std::uint16_t channel, const stun::TransportAddress& peer) {
    auto answer = request(Method::channel_bind, [&](stun::MessageBuilder& builder) {
        builder.add_channel_number(channel).add_xor_address(attribute::xor_peer_address, peer);
    });
    if (!answer) return answer.error();
    return ok_status();
}

}  // namespace xdpturn::datapath
