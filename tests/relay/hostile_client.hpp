// A raw STUN/TURN client over a real UDP socket, and an `xdpturn relay`
// process run for the length of a test: what the hostile-client suite needs
// to attack the relay as it runs, from loopback only.
#pragma once

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "relay/turn/client_session.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn::testing {

// A free UDP port on 127.0.0.1 (bound once and released).
std::uint16_t free_udp_port();

// `xdpturn relay ARGS...`, started now and stopped (SIGTERM) when destroyed.
class RelayProcess {
  public:
    explicit RelayProcess(std::vector<std::string> args);
    ~RelayProcess();
    RelayProcess(const RelayProcess&) = delete;
    RelayProcess& operator=(const RelayProcess&) = delete;

    // True once it logged "listening"; false if it exited or took too long.
    bool wait_listening();
    // Its exit status, waiting at most `timeout` for it to end.
    std::optional<int> exit_status(std::chrono::milliseconds timeout);
    std::string log() const;
    // Its resident memory now, from /proc (0 when it cannot be read).
    long resident_kib() const;

  private:
    int pid_ = -1;
    std::string log_path_;
    std::optional<int> status_;
};

struct Answer {
    std::vector<std::uint8_t> bytes;
    std::optional<stun::Message> message;
    int error = 0;  // the ERROR-CODE, 0 for a success
};

class HostileClient {
  public:
    HostileClient(stun::TransportAddress relay, bool ipv6 = false);
    ~HostileClient();
    HostileClient(const HostileClient&) = delete;
    HostileClient& operator=(const HostileClient&) = delete;

    // Sends bytes and waits up to `wait` for one datagram back.
    std::optional<Answer> exchange(const std::vector<std::uint8_t>& bytes,
                                   std::chrono::milliseconds wait = std::chrono::milliseconds(1000));
    // An authenticated request as alice:secret, challenged first for a nonce.
    std::optional<Answer> request(stun::Method method, const std::function<void(stun::MessageBuilder&)>& attributes);
    std::optional<Answer> allocate(std::optional<std::uint8_t> family = std::nullopt);
    const std::vector<std::uint8_t>& last_request() const { return last_request_; }
    stun::TransactionId next_transaction() { return session_.next_transaction(); }

  private:
    int fd_ = -1;
    stun::TransportAddress relay_;
    turn::ClientSession session_{"alice", "secret", {0, 0, 0, 0x5A}};
    std::vector<std::uint8_t> last_request_;
};

}  // namespace xdpturn::testing
