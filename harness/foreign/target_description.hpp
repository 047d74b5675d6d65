// A target: an XDP TURN program that is not built against bpf/xdpturn_abi.h,
// described by a JSON file (docs/targets.md): which program, how an
// abstract binding is written into its maps byte by byte, how it is
// configured, how it forwards and whether it keeps reason codes we can read.
// The description is data about the program, written from its source; the
// harness never needs the program's headers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relay/model/bindings.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

// Where a field's bytes come from.
enum class FieldSource {
    // The abstract binding. server is the TURN listening address and port
    // the client sends to; relay the relayed address the peer sends to.
    client_address,
    client_port,
    server_address,
    server_port,
    channel,
    peer_address,
    peer_port,
    relay_address,
    allocation_port,
    // The relay configuration.
    turn_port,
    channel_min,
    channel_max,
    relay_port_min,
    relay_port_max,
    mtu,
    relay_ipv4,
    relay_ipv6,
    // The environment the target runs in.
    interface_index,
    interface_ipv4,
    interface_ipv6,
    // Fixed bytes, e.g. 0.0.0.0 for "any local address".
    constant,
};

enum class ByteOrder { network, host };

struct FieldLayout {
    FieldSource source = FieldSource::constant;
    std::size_t offset = 0;
    std::size_t size = 0;
    ByteOrder order = ByteOrder::network;
    std::vector<std::uint8_t> constant;  // source == constant: exactly `size` bytes
    // server.address or relay.address that a control plane bound to the
    // any-address writes as 0.0.0.0 or :: (pion's listener on 0.0.0.0): in
    // a key the program falls back to it, in a value the program fills the
    // address itself. xdpturn writes it so for some bindings
    // (written_as_any_address) and as the address for the rest.
    bool wildcard = false;
};

// One map entry: its key and value, field by field; bytes no field names
// are zero.
struct EntryLayout {
    std::string map;
    // A configuration map that some versions of the program lack (pion's
    // interface-address map came late): skipped where the object has no
    // such map, written where it has.
    bool optional = false;
    std::vector<FieldLayout> key;
    std::vector<FieldLayout> value;
};

// A .rodata variable set before load.
struct RodataSetting {
    std::string variable;
    FieldLayout field;  // offset 0, size of the variable
};

// What the program does with a frame it relays.
enum class Forwarding {
    tx,            // XDP_TX, MACs swapped
    fib_redirect,  // bpf_fib_lookup, then XDP_REDIRECT with the neighbour's MACs
    pass,          // XDP_PASS of the rewritten frame: the stack routes it
};

// Which bindings have their wildcard fields written as the any-address.
enum class WildcardForm {
    mixed,    // those with an odd channel number: a run meets both forms
    address,  // none: a control plane that knows its addresses
    any,      // all: a control plane bound to the any-address
};

struct TargetDescription {
    std::string name;
    std::string path;                   // the file it was read from
    std::optional<std::string> object;  // the object file, relative paths resolved against `path`
    std::string program;                // the XDP program's function name
    bool ipv4 = true;
    bool ipv6 = false;
    bool across_families = false;
    bool client_to_peer = true;
    bool peer_to_client = false;
    Forwarding forwarding = Forwarding::tx;
    // fib_redirect only: a failed lookup (no route to forward, no
    // neighbour, MTU) passes the rewritten frame to the stack.
    bool fib_failure_passes_rewritten = false;
    bool decrements_ttl = false;
    // Reason codes of docs/datapath.md, if the program keeps them.
    std::optional<std::string> reason_variable;  // a 4-byte .bss global
    std::optional<std::string> reason_counters;  // a per-CPU array indexed by reason
    std::vector<RodataSetting> rodata;
    std::vector<EntryLayout> config_maps;   // one entry each, written at load
    std::vector<EntryLayout> binding_maps;  // one entry each per binding

    bool has_reasons() const { return reason_variable.has_value(); }
    WildcardForm wildcard_form = WildcardForm::mixed;  // --wildcards

    bool has_wildcards() const;
    // Whether this binding's wildcard fields hold the any-address.
    bool written_as_any_address(const BindingKey& key) const {
        return wildcard_form == WildcardForm::any || (wildcard_form == WildcardForm::mixed && (key.channel & 1U) != 0);
    }
    // Whether a binding map's key holds `source` as a wildcard.
    bool keys_by_wildcard(FieldSource source) const;
};

Result<TargetDescription> parse_target_description(const nlohmann::json& document, const std::string& path);
Result<TargetDescription> read_target_description(const std::string& path);

std::string_view name(FieldSource source);
std::string_view name(Forwarding forwarding);
std::string_view name(WildcardForm form);
std::optional<WildcardForm> parse_wildcard_form(std::string_view text);

}  // namespace xdpturn
