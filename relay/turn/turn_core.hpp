// The sans-IO TURN core (RFC 8656 over UDP): datagrams and time in,
// datagrams and binding events out. No sockets and no clock inside; the
// server, the tests and replay drive the same core.
//
// Binding events are what the XDP maps must follow: a channel binding of an
// IPv4 client to an IPv4 peer is created, refreshed, or removed (expired,
// or deleted with its allocation). Applying the events in order to a table
// gives exactly live_bindings().
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "relay/model/bindings.hpp"
#include "relay/turn/nonce.hpp"
#include "relay/turn/peer_policy.hpp"
#include "relay/turn/stun.hpp"

namespace xdpturn::turn {

using Time = std::chrono::milliseconds;  // monotonic, from any epoch
using stun::TransportAddress;

// "ADDR:PORT" (IPv4) or "[ADDR6]:PORT" (IPv6).
Result<TransportAddress> parse_transport_address(const std::string& text);

struct CoreConfig {
    std::string realm = "xdpturn";
    std::map<std::string, std::string> users;        // name -> password (long-term credentials)
    TransportAddress relay_address;                  // IPv4 relayed transport address (port unused)
    std::optional<TransportAddress> relay_address6;  // IPv6 one, for REQUESTED-ADDRESS-FAMILY IPv6
    // Without REQUESTED-ADDRESS-FAMILY the relay is IPv4 (RFC 8656). With
    // this set, an IPv6 client gets an IPv6 relay instead (coturn's "keep").
    bool keep_client_family = false;
    std::uint16_t port_min = 49152;
    std::uint16_t port_max = 65535;
    ChannelRange channels = rfc8656_channels;
    std::size_t allocations_per_user = 100;
    // Permissions one allocation may hold (each a peer IP address): what a
    // client can make the relay remember is bounded.
    std::size_t permissions_per_allocation = 256;
    // Channels one allocation, one user and the whole relay may hold, and
    // allocations of the whole relay: no client can make the relay grow
    // without bound (refused with 508, Insufficient Capacity). The relay's
    // channels default to what the XDP maps hold.
    std::size_t channels_per_allocation = 256;
    std::size_t channels_per_user = 4096;
    std::size_t max_allocations = 16384;
    std::size_t max_channels = 65536;
    // Peers the policy refuses (peer_policy.hpp) unless a range here opens
    // them; the relay's own addresses stay refused.
    std::vector<Cidr> allowed_peers;
    // The relay's listening transport addresses, which are never peers.
    std::vector<TransportAddress> listening;
    std::string software = "xdpturn";
    // The nonces' HMAC key; without one, each Core draws its own at random.
    std::optional<NonceMaker::Key> nonce_key;
};

// What a datagram carries, so that the shell counts what it really sent.
enum class Carries : std::uint8_t { reply, to_peer, to_client };

struct Datagram {
    TransportAddress source;
    TransportAddress destination;
    std::vector<std::uint8_t> payload;
    Carries carries = Carries::reply;
};

// An allocation waits for its relayed socket: the shell binds it, then sends
// `success`, or, when it cannot, calls Core::relay_unavailable, which undoes
// the allocation and answers `failure` (508). A relay never advertises an
// address it does not own.
struct RelayOpening {
    TransportAddress relayed;
    Datagram success;
    Datagram failure;
};

enum class BindingEventKind { created, refreshed, removed };

struct BindingEvent {
    BindingEventKind kind = BindingEventKind::created;
    BindingKey key;
    BindingTarget target;
};

// The events as changes to a binding table, in order: what the XDP map
// sync applies.
std::vector<BindingChange> binding_changes(const std::vector<BindingEvent>& events);

struct Output {
    std::vector<Datagram> datagrams;
    std::vector<BindingEvent> events;
    // Relayed transport addresses an allocation took or gave back: the
    // server opens and closes their sockets.
    std::vector<RelayOpening> relays_opened;
    std::vector<TransportAddress> relays_closed;
};

struct Stats {
    std::uint64_t allocations_created = 0;
    std::uint64_t channel_binds = 0;
    // Handed to the shell; the server counts what it really sent.
    std::uint64_t relayed_to_peer = 0;    // ChannelData and Send indications
    std::uint64_t relayed_to_client = 0;  // ChannelData and Data indications
    std::uint64_t rejected = 0;           // error responses and dropped datagrams
    std::uint64_t channels_live = 0;      // channels bound now, all allocations
};

// Lifetimes (RFC 8656).
inline constexpr Time default_allocation_lifetime = std::chrono::seconds(600);
inline constexpr Time max_allocation_lifetime = std::chrono::seconds(3600);
inline constexpr Time permission_lifetime = std::chrono::seconds(300);
inline constexpr Time channel_lifetime = std::chrono::seconds(600);
inline constexpr Time rebind_cooldown = std::chrono::seconds(300);  // before an expired number or peer is reused
inline constexpr Time nonce_lifetime = std::chrono::seconds(3600);
inline constexpr Time reservation_lifetime = std::chrono::seconds(30);  // EVEN-PORT's R bit (RFC 8656 7.2)

class Core {
  public:
    explicit Core(CoreConfig config);

    // A datagram that arrived at the TURN listening address.
    Output on_client_datagram(const Datagram& datagram, Time now);
    // A datagram that arrived at an allocation's relayed address.
    Output on_peer_datagram(const Datagram& datagram, Time now);
    // Time passes: expiry of allocations, permissions and channels.
    Output on_tick(Time now);
    // The shell could not bind an opening's relayed socket: the allocation
    // is undone, its port kept out of use, and the client told 508.
    Output relay_unavailable(const RelayOpening& opening, Time now);
    // Takes a relayed port out of use (another socket holds it).
    void reserve_port(std::uint16_t port) { reserved_ports_.insert(port); }

    // The channel bindings the XDP maps should hold now.
    const BindingTable& live_bindings() const { return xdp_bindings_; }
    std::size_t allocations() const { return allocations_.size(); }
    const Stats& stats() const { return stats_; }

  private:
    struct Channel {
        TransportAddress peer;
        Time expires{};
    };
    struct Allocation {
        TransportAddress client;
        TransportAddress server;
        std::string username;
        TransportAddress relayed;  // address and port
        std::uint16_t relayed_port = 0;
        Time expires{};
        // The Allocate that made it and the success answered, for an exact
        // retransmission (RFC 8656 Section 7.2).
        stun::TransactionId made_by{};
        std::vector<std::uint8_t> success;
        std::map<std::array<std::uint8_t, 17>, Time> permissions;  // peer IP (family + bytes) -> expiry
        std::map<std::uint16_t, Channel> channels;
        std::map<std::array<std::uint8_t, 20>, Time> cooldown;                  // expired numbers and peers
        std::map<std::array<std::uint8_t, 20>, std::uint16_t> channel_of_peer;  // cooldown_key(peer) -> number
        std::set<std::uint16_t> xdp_channels;                                   // its channels in the XDP table
    };
    struct ClientKey {
        std::array<std::uint8_t, 19> bytes{};  // family, address, port
        friend auto operator<=>(const ClientKey&, const ClientKey&) = default;
    };

    static ClientKey key_of(const TransportAddress& address);
    static std::array<std::uint8_t, 17> ip_of(const TransportAddress& address);
    // Keys of the rebind cooldown: a channel number, or a peer transport address.
    static std::array<std::uint8_t, 20> cooldown_key(std::uint16_t channel);
    static std::array<std::uint8_t, 20> cooldown_key(const TransportAddress& peer);

    void handle_request(const stun::Message& request, const Datagram& datagram, Time now, Output& out);
    void handle_send(const stun::Message& indication, const Datagram& datagram, Time now, Output& out);
    void handle_channel_data(const Datagram& datagram, Time now, Output& out);

    void allocate(const stun::Message& request, const Datagram& datagram, const std::string& username,
                  const std::array<std::uint8_t, 16>& key, Time now, Output& out);
    void refresh(const stun::Message& request, const Datagram& datagram, const std::array<std::uint8_t, 16>& key,
                 Time now, Output& out);
    bool permitted(const Allocation& allocation, const TransportAddress& peer, Time now) const;
    void create_permission(const stun::Message& request, const Datagram& datagram,
                           const std::array<std::uint8_t, 16>& key, Time now, Output& out);
    void channel_bind(const stun::Message& request, const Datagram& datagram, const std::array<std::uint8_t, 16>& key,
                      Time now, Output& out);

    // LIFETIME of a request as RFC 8656 says to take it (0 stays 0); the
    // default when absent; nothing when malformed.
    static std::optional<Time> requested_lifetime(const stun::Message& request);
    // The client's allocation; answers 437 when it has none, or 441 when it
    // was made with another username, and returns end() then.
    std::map<ClientKey, Allocation>::iterator allocation_or_mismatch(const stun::Message& request,
                                                                     const Datagram& datagram,
                                                                     const std::array<std::uint8_t, 16>& key,
                                                                     Output& out);
    void reply(const Datagram& to, std::vector<std::uint8_t> message, Output& out) const;
    void reply_error(const stun::Message& request, const Datagram& datagram, int code, std::string_view reason,
                     std::optional<std::array<std::uint8_t, 16>> key, Output& out, bool with_nonce = false);
    bool peer_allowed(const TransportAddress& peer) const { return !policy_.refusal(peer); }
    void remove_allocation(std::map<ClientKey, Allocation>::iterator allocation, Output& out);
    // The count of a user's channels and the relay's follow each channel
    // bound or gone.
    void count_channels(const std::string& username, std::ptrdiff_t change);
    // Whether a new channel of this allocation stays within every bound.
    bool channel_room(const Allocation& allocation) const;
    // A client at one of the relay's own transport addresses in use (its
    // listeners, a relayed port held now): a Send indication's way back in.
    bool is_relay_own(const TransportAddress& address) const;
    // Brings the XDP view of one allocation's bindings up to date: a binding
    // is live while its channel is bound and the peer's permission holds.
    // Emits created/removed for the differences, refreshed for `rebound`.
    void sync_bindings(Allocation& allocation, Time now, Output& out,
                       std::optional<std::uint16_t> rebound = std::nullopt);
    // The same for one channel only: what a ChannelBind changes.
    void sync_channel(Allocation& allocation, std::uint16_t number, Time now, Output& out, bool rebound);
    // The XDP binding of one channel of an IPv4 client, if it should be live.
    // The offload relays this allocation's channels as the relay would:
    // from the addresses the XDP program sends from (see live_target).
    bool offload_sends_as(const Allocation& allocation) const;
    std::optional<BindingTarget> live_target(const Allocation& allocation, std::uint16_t number, Time now) const;
    void set_binding(Allocation& allocation, std::uint16_t number, std::optional<BindingTarget> target, bool rebound,
                     Output& out);
    // The first free relayed port; `even`: an even one, `pair`: with the
    // next one free as well.
    std::optional<std::uint16_t> free_port(bool even = false, bool pair = false) const;
    using ReservationToken = std::array<std::uint8_t, 8>;
    struct Reservation {
        std::uint16_t port = 0;
        TransportAddress base;
        Time expires{};
    };
    // The port an Allocate gets, or the error it gets instead.
    struct PortChoice {
        std::optional<std::uint16_t> port;
        std::optional<TransportAddress> reserved_base;  // a reservation's relayed address
        std::optional<ReservationToken> token;          // EVEN-PORT R=1: the next port held under it
        int error = 0;
    };
    PortChoice choose_port(const stun::Message& request, Time now);
    void reserve(const ReservationToken& token, std::uint16_t port, const TransportAddress& base, Time now);

    CoreConfig config_;
    PeerPolicy policy_;
    NonceMaker nonces_;
    std::map<std::string, std::array<std::uint8_t, 16>> keys_;
    std::map<std::string, std::size_t> allocations_of_user_;
    std::map<std::string, std::size_t> channels_of_user_;
    std::map<ClientKey, Allocation> allocations_;
    std::map<std::uint16_t, ClientKey> ports_;  // relayed port -> allocation
    std::set<std::uint16_t> reserved_ports_;
    std::map<ReservationToken, Reservation> reservations_;
    std::set<std::uint16_t> held_ports_;  // the reservations' ports
    std::uint64_t reservations_made_ = 0;
    std::uint64_t reservation_seed_ = 0;
    BindingTable xdp_bindings_;
    Stats stats_;
    Time now_{};  // of the datagram or tick being handled
    // The earliest time anything expires: on_tick sweeps only from then on,
    // so a datagram costs no sweep over every allocation.
    Time next_due_ = Time::max();
    void due_at(Time when) { next_due_ = std::min(next_due_, when); }
};

}  // namespace xdpturn::turn
