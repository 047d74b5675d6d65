#include "harness/io/bindings_json.hpp"
#include "harness/io/strict_json.hpp"
#include "relay/net/file_input.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

namespace xdpturn {

namespace {

Result<std::uint16_t> u16_member(const nlohmann::json& object, const char* member, const std::string& where) {
    const auto found = object.find(member);
    if (found == object.end()) return Error{where + ": missing \"" + member + "\""};
    if (!found->is_number_unsigned() || found->get<std::uint64_t>() > 0xFFFF)
        return Error{where + ": \"" + member + "\" must be a number from 0 to 65535"};
    return found->get<std::uint16_t>();
}

Result<Endpoint> endpoint_member(const nlohmann::json& object, const char* member, const std::string& where) {
    const auto found = object.find(member);
    if (found == object.end() || !found->is_string())
        return Error{where + ": \"" + member + "\" must be a string \"ADDRESS:PORT\""};
    auto endpoint = parse_endpoint(found->get<std::string>());
    if (!endpoint) return Error{where + ": " + endpoint.error().message};
    return endpoint;
}

// "relay_addresses": ["192.0.2.1", "2001:db8::1"], the relay's own address
// of each family (the source of outputs across families).
Status read_relay_addresses(const nlohmann::json& relay, BindingsFile& file) {
    const auto addresses = relay.find("relay_addresses");
    if (addresses == relay.end()) return ok_status();
    const std::string usage = "relay.relay_addresses must be an array of at most one address per family";
    if (!addresses->is_array() || addresses->size() > 2) return Error{usage};
    for (const auto& text : *addresses) {
        if (!text.is_string()) return Error{usage};
        auto address = parse_ip(text.get<std::string>());
        if (!address) return Error{"relay.relay_addresses: " + address.error().message};
        std::optional<IpAddress>& slot = address->is_v4() ? file.relay_ipv4 : file.relay_ipv6;
        if (slot) return Error{usage};
        slot = *address;
    }
    return ok_status();
}

}  // namespace

void apply_relay_settings(const BindingsFile& file, DatapathConfig& config) {
    if (file.turn_port) config.turn_port = *file.turn_port;
    if (file.channels) config.channels = *file.channels;
    if (file.relay_ports) config.relay_ports = *file.relay_ports;
    if (file.mtu) config.mtu = *file.mtu;
    if (file.relay_ipv4) config.relay_ipv4 = file.relay_ipv4;
    if (file.relay_ipv6) config.relay_ipv6 = file.relay_ipv6;
}

Result<BindingsFile> parse_bindings_json(const std::string& text) {
    auto parsed = parse_json_strictly(text, "bindings");
    if (!parsed) return parsed.error();
    const nlohmann::json& document = *parsed;
    if (!document.is_object()) return Error{"the top level must be an object"};
    // A counterexample's file is a binding file with its origin beside it.
    if (auto known = only_members(
            document, {"relay", "bindings", "seed", "case_index", "property", "program", "variations", "frames"},
            "the top level");
        !known)
        return known.error();
    BindingsFile file;
    if (const auto relay = document.find("relay"); relay != document.end()) {
        if (!relay->is_object()) return Error{"\"relay\" must be an object"};
        if (auto known =
                only_members(*relay, {"turn_port", "channel_range", "relay_ports", "mtu", "relay_addresses"}, "relay");
            !known)
            return known.error();
        if (relay->contains("turn_port")) {
            auto port = u16_member(*relay, "turn_port", "relay");
            if (!port) return port.error();
            file.turn_port = *port;
        }
        if (const auto range = relay->find("channel_range"); range != relay->end()) {
            if (!range->is_array() || range->size() != 2 || !(*range)[0].is_number_unsigned() ||
                !(*range)[1].is_number_unsigned() || (*range)[0].get<std::uint64_t>() > 0xFFFF ||
                (*range)[1].get<std::uint64_t>() > 0xFFFF)
                return Error{"relay.channel_range must be [LO, HI] with 0x4000 <= LO <= HI <= 0x7FFF"};
            auto checked = checked_channel_range((*range)[0].get<std::uint32_t>(), (*range)[1].get<std::uint32_t>());
            if (!checked) return Error{"relay.channel_range: " + checked.error().message};
            file.channels = *checked;
        }
        if (const auto range = relay->find("relay_ports"); range != relay->end()) {
            if (!range->is_array() || range->size() != 2 || !(*range)[0].is_number_unsigned() ||
                !(*range)[1].is_number_unsigned() || (*range)[0].get<std::uint64_t>() > 0xFFFF ||
                (*range)[1].get<std::uint64_t>() > 0xFFFF || (*range)[0].get<std::uint64_t>() == 0 ||
                (*range)[0].get<std::uint64_t>() > (*range)[1].get<std::uint64_t>())
                return Error{"relay.relay_ports must be [LO, HI] with 1 <= LO <= HI <= 65535"};
            file.relay_ports = PortRange{(*range)[0].get<std::uint16_t>(), (*range)[1].get<std::uint16_t>()};
        }
        if (relay->contains("mtu")) {
            auto mtu = u16_member(*relay, "mtu", "relay");
            if (!mtu) return mtu.error();
            if (*mtu < minimum_ipv4_mtu)
                return Error{"relay.mtu must be at least " + std::to_string(minimum_ipv4_mtu) + " (IPv4's minimum)"};
            file.mtu = *mtu;
        }
        if (auto read = read_relay_addresses(*relay, file); !read) return read.error();
    }
    const auto bindings = document.find("bindings");
    if (bindings == document.end()) return file;
    if (!bindings->is_array()) return Error{"\"bindings\" must be an array"};
    for (std::size_t i = 0; i < bindings->size(); ++i) {
        const nlohmann::json& entry = (*bindings)[i];
        const std::string where = "bindings[" + std::to_string(i) + "]";
        if (!entry.is_object()) return Error{where + " must be an object"};
        if (auto known = only_members(entry, {"client", "channel", "allocation_port", "peer"}, where); !known)
            return known.error();
        auto client = endpoint_member(entry, "client", where);
        auto channel = u16_member(entry, "channel", where);
        auto allocation = u16_member(entry, "allocation_port", where);
        auto peer = endpoint_member(entry, "peer", where);
        if (!client) return client.error();
        if (!channel) return channel.error();
        if (!allocation) return allocation.error();
        if (!peer) return peer.error();
        const BindingKey key{*client, *channel};
        if (file.bindings.contains(key)) return Error{where + " repeats an earlier client and channel"};
        file.bindings.emplace(key, BindingTarget{*allocation, *peer});
    }
    if (auto conflict = conflicting_peer_bindings(file.bindings)) return Error{"bindings: " + *conflict};
    return file;
}

Result<BindingsFile> read_bindings_file(const std::string& path) {
    auto text = read_input_file(path, "bindings file", bindings_file_limit);
    if (!text) return text.error();
    auto file = parse_bindings_json(*text);
    if (!file) return Error{path + ": " + file.error().message};
    return file;
}

nlohmann::json bindings_json(const DatapathConfig& config, const BindingTable& bindings) {
    // In key order, not the hash table's: files written for the same table
    // are the same bytes, whatever the hash function.
    std::vector<const BindingTable::value_type*> sorted;
    for (const auto& entry : bindings) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
        return std::tie(a->first.client.address, a->first.client.port, a->first.channel) <
               std::tie(b->first.client.address, b->first.client.port, b->first.channel);
    });
    nlohmann::json list = nlohmann::json::array();
    for (const auto* entry : sorted) {
        const auto& [key, target] = *entry;
        list.push_back({{"client", to_string(key.client)},
                        {"channel", key.channel},
                        {"allocation_port", target.allocation_port},
                        {"peer", to_string(target.peer)}});
    }
    nlohmann::json relay = {{"turn_port", config.turn_port},
                            {"channel_range", {config.channels.min, config.channels.max}},
                            {"relay_ports", {config.relay_ports.min, config.relay_ports.max}},
                            {"mtu", config.mtu}};
    nlohmann::json addresses = nlohmann::json::array();
    for (const auto& address : {config.relay_ipv4, config.relay_ipv6})
        if (address) addresses.push_back(to_string(*address));
    if (!addresses.empty()) relay["relay_addresses"] = addresses;
    return {{"relay", relay}, {"bindings", list}};
}

}  // namespace xdpturn
