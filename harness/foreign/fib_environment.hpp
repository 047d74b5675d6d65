// A network namespace for targets that forward with bpf_fib_lookup: one
// interface with the relay's addresses, a default route through a
// neighbour whose MAC is known, and routes on purpose that fail the lookup
// (a blackhole, a gateway with no neighbour), so that both the "lookup
// succeeded" (XDP_REDIRECT) and the "lookup failed" paths run. The
// namespace has no name and no mount: it lives while this object holds its
// descriptor, and the kernel removes it with everything in it however the
// process ends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "relay/net/address.hpp"
#include "relay/net/headers.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

// What bpf_fib_lookup returns for a destination in this namespace, worked
// out from the routes below (not by asking the kernel: the oracle must not
// trust what it checks).
struct FibExpectation {
    enum class Kind {
        forwarded,      // BPF_FIB_LKUP_RET_SUCCESS: neighbour MAC known
        not_forwarded,  // NOT_FWDED, NO_NEIGH, FRAG_NEEDED: the stack's job
        discarded,      // BLACKHOLE, UNREACHABLE, PROHIBIT: the route says drop
    };
    Kind kind = Kind::forwarded;
    MacAddress source{};       // forwarded: the interface's MAC
    MacAddress destination{};  // forwarded: the next hop's MAC
};

// The relay host's own addresses: where clients send (the TURN listening
// address) and peers send (the relayed address), one per family. The
// defaults are the addresses the generated frames arrive on; a replay sets
// the capture's.
struct HostAddresses {
    IpAddress ipv4 = Ipv4Address{0xC0000201};  // 192.0.2.1
    IpAddress ipv6 = IpAddress::from_bytes(Ipv6Bytes{0x20, 0x01, 0x0D, 0xB8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});
    const IpAddress& of(bool v6) const { return v6 ? ipv6 : ipv4; }
    friend bool operator==(const HostAddresses&, const HostAddresses&) = default;
};

class FibEnvironment {
  public:
    // The environment with these host addresses, set up on first use and
    // kept while anyone holds it.
    static Result<std::shared_ptr<FibEnvironment>> shared(const HostAddresses& host);

    FibEnvironment(const FibEnvironment&) = delete;
    FibEnvironment& operator=(const FibEnvironment&) = delete;
    ~FibEnvironment();

    // The interface frames arrive on (BPF_PROG_TEST_RUN's ingress_ifindex).
    int ifindex() const { return ifindex_; }
    // The relay host's addresses, on that interface.
    const HostAddresses& host() const { return host_; }
    static constexpr std::uint16_t interface_mtu = 1500;

    // The lookup's outcome for an output to `destination` of
    // `ip_packet_length` bytes (IPv4 total length, IPv6 40 + payload).
    FibExpectation expect(const IpAddress& destination, std::size_t ip_packet_length) const;

    // The calling thread inside the namespace for its lifetime (the test
    // run resolves ingress_ifindex in the caller's namespace).
    class Inside {
      public:
        explicit Inside(const FibEnvironment& environment);
        ~Inside();
        Inside(const Inside&) = delete;
        Inside& operator=(const Inside&) = delete;
        bool ok() const { return error_.empty(); }
        const std::string& error() const { return error_; }

      private:
        int previous_ = -1;
        std::string error_;
    };

  private:
    explicit FibEnvironment(const HostAddresses& host) : host_(host) {}
    static Result<std::unique_ptr<FibEnvironment>> create(const HostAddresses& host);

    HostAddresses host_;
    int namespace_fd_ = -1;
    int ifindex_ = 0;
};

}  // namespace xdpturn
