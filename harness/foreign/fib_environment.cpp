#include "harness/foreign/fib_environment.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

extern char** environ;

namespace xdpturn {

namespace {

constexpr const char* interface_name = "xt0";
constexpr MacAddress interface_mac{0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddress gateway_mac{0x02, 0, 0, 0, 0, 0xFE};
// 192.0.2.254 answers (a permanent neighbour); 192.0.2.253 never does.
constexpr std::uint32_t silent_gateway = 0xC00002FD;
// Routed through the silent gateway: the lookup finds no neighbour.
constexpr std::uint32_t unresolved_host = 0xC6336408;  // 198.51.100.8
// Blackholed: 240.0.0.0/4, reserved space only peers (drawn from every
// address) fall in, never the clients: a client behind a discarding route
// would turn every frame user space must see for it into a drop.
constexpr std::uint32_t blackhole_prefix = 0xF0000000;
constexpr std::uint32_t blackhole_mask = 0xF0000000;

// Each command with the namespace of the thread that spawns it.
const std::vector<std::vector<std::string>> setup_commands = {
    {"ip", "link", "add", interface_name, "address", "02:00:00:00:00:01", "type", "veth", "peer", "name", "xt1"},
    {"ip", "link", "set", interface_name, "up"},
    {"ip", "link", "set", "xt1", "up"},

    {"ip", "route", "add", "192.0.2.254/32", "dev", interface_name},
    {"ip", "route", "add", "192.0.2.253/32", "dev", interface_name},
    {"ip", "route", "add", "default", "via", "192.0.2.254"},
    {"ip", "neigh", "add", "192.0.2.254", "lladdr", "02:00:00:00:00:fe", "dev", interface_name, "nud", "permanent"},
    {"ip", "route", "add", "blackhole", "240.0.0.0/4"},
    {"ip", "route", "add", "198.51.100.8/32", "via", "192.0.2.253"},

    {"ip", "-6", "route", "add", "2001:db8:1::fe/128", "dev", interface_name},
    {"ip", "-6", "route", "add", "default", "via", "2001:db8:1::fe"},
    {"ip", "-6", "neigh", "add", "2001:db8:1::fe", "lladdr", "02:00:00:00:00:fe", "dev", interface_name, "nud",
     "permanent"},
    {"sysctl", "-q", "-w", "net.ipv4.conf.all.forwarding=1", "net.ipv6.conf.all.forwarding=1"},
};

// Runs a command, its output kept for the error.
Status run_command(const std::vector<std::string>& command) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
    std::vector<char*> argv;
    for (const std::string& word : command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    std::string output;
    char buffer[512];
    for (ssize_t got; spawned == 0 && (got = read(pipe_fds[0], buffer, sizeof(buffer))) > 0;)
        output.append(buffer, static_cast<std::size_t>(got));
    close(pipe_fds[0]);
    std::string line;
    for (const std::string& word : command) line += (line.empty() ? "" : " ") + word;
    if (spawned != 0) return Error{"cannot run '" + line + "': " + std::strerror(spawned)};
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return Error{"'" + line + "' failed: " + output};
    return ok_status();
}

FibExpectation::Kind expect_ipv4(const HostAddresses& host, std::uint32_t destination, std::size_t length) {
    using Kind = FibExpectation::Kind;
    if (destination == host.ipv4.v4().value) return Kind::not_forwarded;  // local
    if ((destination & blackhole_mask) == blackhole_prefix) return Kind::discarded;
    if (length > FibEnvironment::interface_mtu) return Kind::not_forwarded;                           // FRAG_NEEDED
    if (destination == unresolved_host || destination == silent_gateway) return Kind::not_forwarded;  // NO_NEIGH
    return Kind::forwarded;
}

FibExpectation::Kind expect_ipv6(const HostAddresses& host, const IpAddress& destination, std::size_t length) {
    using Kind = FibExpectation::Kind;
    const Ipv6Bytes& bytes = destination.bytes();
    if (destination == host.ipv6) return Kind::not_forwarded;
    if (bytes[0] == 0xFF) return Kind::not_forwarded;                               // multicast: not unicast
    if (bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80) return Kind::not_forwarded;  // link-local: no neighbour
    if (length > FibEnvironment::interface_mtu) return Kind::not_forwarded;
    return Kind::forwarded;
}

std::mutex shared_mutex;
std::vector<std::weak_ptr<FibEnvironment>> shared_environments;

// The host addresses on the interface: commands of their own, as they vary.
// The kernel refuses ::1 on any device but lo (loopback captures replay with
// it): that address stays off the interface, and only the expectation
// knows it as local.
std::vector<std::vector<std::string>> address_commands(const HostAddresses& host) {
    std::vector<std::vector<std::string>> commands = {
        {"ip", "address", "add", to_string(host.ipv4) + "/32", "dev", interface_name}};
    const Ipv6Bytes loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (host.ipv6.bytes() != loopback)
        commands.push_back(
            {"ip", "-6", "address", "add", to_string(host.ipv6) + "/128", "dev", interface_name, "nodad"});
    return commands;
}

}  // namespace

FibExpectation FibEnvironment::expect(const IpAddress& destination, std::size_t ip_packet_length) const {
    FibExpectation expectation;
    expectation.kind = destination.is_v4() ? expect_ipv4(host_, destination.v4().value, ip_packet_length)
                                           : expect_ipv6(host_, destination, ip_packet_length);
    expectation.source = interface_mac;
    expectation.destination = gateway_mac;
    return expectation;
}

Result<std::unique_ptr<FibEnvironment>> FibEnvironment::create(const HostAddresses& host) {
    if (!host.ipv4.is_v4() || host.ipv6.is_v4()) return Error{"host addresses: one IPv4 and one IPv6 address"};
    std::unique_ptr<FibEnvironment> environment(new FibEnvironment(host));
    std::string failure;
    // A thread of its own enters the new namespace, so no other thread of
    // the process ever changes namespace by accident; the commands it
    // spawns inherit it.
    std::thread maker([&] {
        if (unshare(CLONE_NEWNET) != 0) {
            failure = std::string("cannot make a network namespace (needs CAP_SYS_ADMIN): ") + std::strerror(errno);
            return;
        }
        environment->namespace_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (environment->namespace_fd_ < 0) {
            failure = std::string("cannot open the namespace: ") + std::strerror(errno);
            return;
        }
        auto commands = setup_commands;
        for (auto& command : address_commands(host)) commands.insert(commands.begin() + 3, command);
        for (const auto& command : commands)
            if (auto ran = run_command(command); !ran) {
                failure = "setting up the FIB namespace: " + ran.error().message;
                return;
            }
        environment->ifindex_ = static_cast<int>(if_nametoindex(interface_name));
        if (environment->ifindex_ == 0) failure = "the FIB namespace has no interface " + std::string(interface_name);
    });
    maker.join();
    if (!failure.empty()) return Error{failure};
    return environment;
}

Result<std::shared_ptr<FibEnvironment>> FibEnvironment::shared(const HostAddresses& host) {
    std::lock_guard lock(shared_mutex);
    std::erase_if(shared_environments, [](const auto& weak) { return weak.expired(); });
    for (const auto& weak : shared_environments)
        if (auto existing = weak.lock(); existing && existing->host() == host) return existing;
    auto made = create(host);
    if (!made) return made.error();
    std::shared_ptr<FibEnvironment> environment = std::move(made).value();
    shared_environments.push_back(environment);
    return environment;
}

FibEnvironment::~FibEnvironment() {
    if (namespace_fd_ >= 0) close(namespace_fd_);
}

namespace {
// The namespace each thread started in, opened once per thread: entering
// and leaving then costs two setns calls and nothing else.
struct HomeNamespace {
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    ~HomeNamespace() {
        if (fd >= 0) close(fd);
    }
};
int home_namespace() {
    thread_local const HomeNamespace home;
    return home.fd;
}
}  // namespace

FibEnvironment::Inside::Inside(const FibEnvironment& environment) {
    previous_ = home_namespace();
    if (previous_ < 0 || setns(environment.namespace_fd_, CLONE_NEWNET) != 0) {
        error_ = std::string("cannot enter the FIB namespace: ") + std::strerror(errno);
        previous_ = -1;
    }
}

FibEnvironment::Inside::~Inside() {
    if (previous_ >= 0) setns(previous_, CLONE_NEWNET);
}

}  // namespace xdpturn
