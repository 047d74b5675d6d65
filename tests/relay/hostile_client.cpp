#include "hostile_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace xdpturn::testing {

namespace {

socklen_t to_sockaddr(const stun::TransportAddress& address, sockaddr_storage& raw) {
    std::memset(&raw, 0, sizeof(raw));
    if (address.ipv6) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&raw);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(address.port);
        std::memcpy(&v6->sin6_addr, address.address.data(), 16);
        return sizeof(sockaddr_in6);
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&raw);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    std::memcpy(&v4->sin_addr, address.address.data(), 4);
    return sizeof(sockaddr_in);
}

}  // namespace

std::uint16_t free_udp_port() {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(any);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&any), &length) != 0)
        throw std::runtime_error("no free UDP port");
    close(fd);
    return ntohs(any.sin_port);
}

RelayProcess::RelayProcess(std::vector<std::string> args) {
    const char* binary = std::getenv("XDPTURN_BINARY");
    if (binary == nullptr) throw std::runtime_error("XDPTURN_BINARY is not set");
    char path[] = "/tmp/xdpturn-hostile-XXXXXX";
    const int log_fd = mkstemp(path);
    if (log_fd < 0) throw std::runtime_error("mkstemp failed");
    log_path_ = path;
    std::vector<std::string> words{binary, "relay"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
    const int spawned = posix_spawn(&pid_, binary, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(log_fd);
    if (spawned != 0) throw std::runtime_error("cannot start " + std::string(binary));
}

RelayProcess::~RelayProcess() {
    if (!status_) {
        kill(pid_, SIGTERM);
        if (!exit_status(std::chrono::seconds(5))) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    unlink(log_path_.c_str());
}

std::string RelayProcess::log() const {
    std::ifstream in(log_path_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool RelayProcess::wait_listening() {
    for (int i = 0; i < 100; ++i) {
        if (log().find("\"listening\"") != std::string::npos) return true;
        if (exit_status(std::chrono::milliseconds(0))) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return false;
}

std::optional<int> RelayProcess::exit_status(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        int raw = 0;
        if (waitpid(pid_, &raw, WNOHANG) == pid_) {
            status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
            return status_;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
}

HostileClient::HostileClient(stun::TransportAddress relay, bool ipv6) : relay_(relay) {
    fd_ = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    stun::TransportAddress local;
    local.ipv6 = ipv6;
    if (ipv6)
        local.address[15] = 1;  // ::1
    else
        local = stun::TransportAddress::v4(0x7F000001, 0);
    sockaddr_storage raw;
    const socklen_t length = to_sockaddr(local, raw);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&raw), length) != 0)
        throw std::runtime_error("cannot bind a client socket");
    // Clients of one test never share a transaction ID: each is tagged with its socket.
    session_ = turn::ClientSession("alice", "secret",
                                   {static_cast<std::uint8_t>(fd_ >> 8), static_cast<std::uint8_t>(fd_), 0, 0x5A});
}

HostileClient::~HostileClient() {
    if (fd_ >= 0) close(fd_);
}

std::optional<Answer> HostileClient::exchange(const std::vector<std::uint8_t>& bytes, std::chrono::milliseconds wait) {
    sockaddr_storage raw;
    const socklen_t length = to_sockaddr(relay_, raw);
    if (sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&raw), length) < 0) return std::nullopt;
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(wait.count())) <= 0) return std::nullopt;
    Answer answer;
    answer.bytes.resize(65536);
    const ssize_t received = recv(fd_, answer.bytes.data(), answer.bytes.size(), 0);
    if (received < 0) return std::nullopt;
    answer.bytes.resize(static_cast<std::size_t>(received));
    if (auto parsed = stun::parse(answer.bytes)) {
        answer.message = *parsed;
        if (const stun::Attribute* error = parsed->find(stun::attribute::error_code))
            answer.error = stun::decode_error_code(*error)->code;
    }
    return answer;
}

std::optional<Answer> HostileClient::request(stun::Method method,
                                             const std::function<void(stun::MessageBuilder&)>& attributes) {
    if (!session_.signs()) {
        auto challenge = exchange(session_.request(method, attributes));
        if (!challenge || !challenge->message || !session_.take_challenge(*challenge->message)) return std::nullopt;
    }
    last_request_ = session_.request(method, attributes);
    return exchange(last_request_);
}

std::optional<Answer> HostileClient::allocate(std::optional<std::uint8_t> family) {
    return request(stun::Method::allocate, [&](stun::MessageBuilder& b) {
        b.add_requested_transport(stun::transport_udp);
        if (family) b.add(stun::attribute::requested_address_family, std::vector<std::uint8_t>{*family, 0, 0, 0});
    });
}

long RelayProcess::resident_kib() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

}  // namespace xdpturn::testing
