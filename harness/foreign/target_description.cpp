#include "harness/foreign/target_description.hpp"

#include "harness/io/strict_json.hpp"
#include "relay/net/file_input.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace xdpturn {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<std::string_view, FieldSource>, 20> field_names = {{
    {"client.address", FieldSource::client_address},
    {"client.port", FieldSource::client_port},
    {"server.address", FieldSource::server_address},
    {"server.port", FieldSource::server_port},
    {"channel", FieldSource::channel},
    {"peer.address", FieldSource::peer_address},
    {"peer.port", FieldSource::peer_port},
    {"relay.address", FieldSource::relay_address},
    {"allocation.port", FieldSource::allocation_port},
    {"config.turn_port", FieldSource::turn_port},
    {"config.channel_min", FieldSource::channel_min},
    {"config.channel_max", FieldSource::channel_max},
    {"config.relay_port_min", FieldSource::relay_port_min},
    {"config.relay_port_max", FieldSource::relay_port_max},
    {"config.mtu", FieldSource::mtu},
    {"config.relay_ipv4", FieldSource::relay_ipv4},
    {"config.relay_ipv6", FieldSource::relay_ipv6},
    {"interface.index", FieldSource::interface_index},
    {"interface.ipv4", FieldSource::interface_ipv4},
    {"interface.ipv6", FieldSource::interface_ipv6},
}};

bool is_address(FieldSource source) {
    switch (source) {
        case FieldSource::client_address:
        case FieldSource::server_address:
        case FieldSource::peer_address:
        case FieldSource::relay_address:
        case FieldSource::relay_ipv4:
        case FieldSource::relay_ipv6:
        case FieldSource::interface_ipv4:
        case FieldSource::interface_ipv6: return true;
        default: return false;
    }
}

bool is_binding_field(FieldSource source) {
    return source <= FieldSource::allocation_port;
}

Result<std::string> string_member(const Json& object, const char* member, const std::string& where) {
    const auto found = object.find(member);
    if (found == object.end() || !found->is_string()) return Error{where + ": \"" + member + "\" must be a string"};
    return found->get<std::string>();
}

Result<std::size_t> size_member(const Json& object, const char* member, const std::string& where) {
    const auto found = object.find(member);
    if (found == object.end() || !found->is_number_unsigned() || found->get<std::uint64_t>() > 4096)
        return Error{where + ": \"" + member + "\" must be a number of bytes"};
    return found->get<std::size_t>();
}

// A constant: an address in text (4 or 16 bytes) or a number.
Result<std::vector<std::uint8_t>> constant_bytes(const Json& constant, const FieldLayout& field,
                                                 const std::string& where) {
    if (constant.is_string()) {
        auto address = parse_ip(constant.get<std::string>());
        if (!address) return Error{where + ": constant: " + address.error().message};
        const Ipv6Bytes& bytes = address->bytes();
        if (field.size == 16) return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
        if (field.size == 4 && address->is_v4()) return std::vector<std::uint8_t>(bytes.begin() + 12, bytes.end());
        return Error{where + ": an address constant is 4 bytes (IPv4) or 16"};
    }
    if (!constant.is_number_unsigned()) return Error{where + ": \"constant\" must be an address or a number"};
    const std::uint64_t number = constant.get<std::uint64_t>();
    if (field.size > 8 || (field.size < 8 && number >> (8 * field.size) != 0))
        return Error{where + ": constant " + std::to_string(number) + " does not fit " + std::to_string(field.size) +
                     " bytes"};
    std::vector<std::uint8_t> bytes(field.size);
    for (std::size_t i = 0; i < field.size; ++i) {
        const auto byte = static_cast<std::uint8_t>(number >> (8 * i));
        bytes[field.order == ByteOrder::host ? i : field.size - 1 - i] = byte;
    }
    return bytes;
}

Status check_size(const FieldLayout& field, const std::string& where) {
    if (field.source == FieldSource::constant) return ok_status();
    const bool fits = is_address(field.source) ? field.size == 4 || field.size == 16
                                               : field.size == 2 || field.size == 4 || field.size == 8;
    if (!fits)
        return Error{where + ": " + std::string(name(field.source)) + " cannot be " + std::to_string(field.size) +
                     " bytes (addresses: 4 or 16; numbers: 2, 4 or 8)"};
    return ok_status();
}

Result<FieldLayout> parse_field(const Json& entry, const std::string& where) {
    if (!entry.is_object()) return Error{where + ": must be an object"};
    if (auto known = only_members(entry, {"offset", "size", "order", "field", "constant", "wildcard"}, where); !known)
        return known.error();
    FieldLayout field;
    auto offset = size_member(entry, "offset", where);
    auto size = size_member(entry, "size", where);
    if (!offset) return offset.error();
    if (!size) return size.error();
    field.offset = *offset;
    field.size = *size;
    if (field.size == 0) return Error{where + ": \"size\" must not be 0"};
    if (const auto order = entry.find("order"); order != entry.end()) {
        if (*order == "host")
            field.order = ByteOrder::host;
        else if (*order != "network")
            return Error{where + ": \"order\" must be \"network\" or \"host\""};
    }
    const auto source = entry.find("field");
    const auto constant = entry.find("constant");
    if ((source == entry.end()) == (constant == entry.end()))
        return Error{where + ": give exactly one of \"field\" and \"constant\""};
    if (constant != entry.end()) {
        if (entry.contains("wildcard"))
            return Error{where + ": a constant cannot be a wildcard; only server.address and relay.address can"};
        auto bytes = constant_bytes(*constant, field, where);
        if (!bytes) return bytes.error();
        field.constant = std::move(bytes).value();
        return field;
    }
    if (!source->is_string()) return Error{where + ": \"field\" must be a string"};
    const auto known = std::find_if(field_names.begin(), field_names.end(),
                                    [&](const auto& pair) { return pair.first == source->get<std::string>(); });
    if (known == field_names.end()) return Error{where + ": unknown field \"" + source->get<std::string>() + "\""};
    field.source = known->second;
    if (auto sized = check_size(field, where); !sized) return sized.error();
    if (auto wildcard = entry.find("wildcard"); wildcard != entry.end()) {
        if (!wildcard->is_boolean()) return Error{where + ": \"wildcard\" must be true or false"};
        field.wildcard = wildcard->get<bool>();
        const bool local_address =
            field.source == FieldSource::server_address || field.source == FieldSource::relay_address;
        if (field.wildcard && !local_address)
            return Error{where +
                         ": only server.address and relay.address can be a wildcard (the relay's own "
                         "addresses, which a control plane bound to the any-address does not know)"};
    }
    return field;
}

Result<std::vector<FieldLayout>> parse_fields(const Json& entry, const char* member, const std::string& where,
                                              bool binding_fields_allowed) {
    const auto list = entry.find(member);
    if (list == entry.end() || !list->is_array() || list->empty())
        return Error{where + ": \"" + member + "\" must be a non-empty array of fields"};
    std::vector<FieldLayout> fields;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string at = where + "." + member + "[" + std::to_string(i) + "]";
        auto field = parse_field((*list)[i], at);
        if (!field) return field.error();
        if (!binding_fields_allowed && is_binding_field(field->source))
            return Error{at + ": a configuration entry cannot use the binding's " + std::string(name(field->source))};
        for (const FieldLayout& other : fields)
            if (field->offset < other.offset + other.size && other.offset < field->offset + field->size)
                return Error{at + ": overlaps another field"};
        fields.push_back(std::move(field).value());
    }
    return fields;
}

Result<std::vector<EntryLayout>> parse_entries(const Json& document, const char* member, bool binding) {
    std::vector<EntryLayout> entries;
    const auto list = document.find(member);
    if (list == document.end()) return entries;
    if (!list->is_array()) return Error{std::string(member) + " must be an array"};
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string where = std::string(member) + "[" + std::to_string(i) + "]";
        const Json& entry = (*list)[i];
        if (!entry.is_object()) return Error{where + ": must be an object"};
        // Only a configuration map may be absent from some versions: a
        // program without its binding maps relays nothing.
        const Status known = binding ? only_members(entry, {"map", "key", "value"}, where)
                                     : only_members(entry, {"map", "key", "value", "optional"}, where);
        if (!known) return known.error();
        EntryLayout layout;
        if (const auto optional = entry.find("optional"); optional != entry.end()) {
            if (!optional->is_boolean()) return Error{where + ": \"optional\" must be true or false"};
            layout.optional = optional->get<bool>();
        }
        auto map = string_member(entry, "map", where);
        if (!map) return map.error();
        layout.map = *map;
        auto key = parse_fields(entry, "key", where, binding);
        if (!key) return key.error();
        auto value = parse_fields(entry, "value", where, binding);
        if (!value) return value.error();
        layout.key = std::move(key).value();
        layout.value = std::move(value).value();
        entries.push_back(std::move(layout));
    }
    return entries;
}

Result<std::vector<RodataSetting>> parse_rodata(const Json& document) {
    std::vector<RodataSetting> settings;
    const auto list = document.find("rodata");
    if (list == document.end()) return settings;
    if (!list->is_array()) return Error{"rodata must be an array"};
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string where = "rodata[" + std::to_string(i) + "]";
        const Json& entry = (*list)[i];
        if (!entry.is_object()) return Error{where + ": must be an object"};
        if (auto known = only_members(entry, {"variable", "size", "order", "field", "constant"}, where); !known)
            return known.error();
        auto variable = string_member(entry, "variable", where);
        if (!variable) return variable.error();
        Json as_field = entry;
        as_field.erase("variable");
        as_field["offset"] = 0u;
        auto field = parse_field(as_field, where);
        if (!field) return field.error();
        if (is_binding_field(field->source))
            return Error{where + ": .rodata cannot hold the binding's " + std::string(name(field->source))};
        settings.push_back({*variable, std::move(field).value()});
    }
    return settings;
}

Status parse_offloads(const Json& document, TargetDescription& target) {
    const auto offloads = document.find("offloads");
    if (offloads == document.end() || !offloads->is_object())
        return Error{"\"offloads\" must say which families and directions the program relays"};
    if (auto known = only_members(*offloads, {"families", "directions", "across_families"}, "offloads"); !known)
        return known;
    const auto families = offloads->find("families");
    const auto directions = offloads->find("directions");
    if (families == offloads->end() || !families->is_array() || directions == offloads->end() ||
        !directions->is_array())
        return Error{"offloads: \"families\" and \"directions\" must be arrays"};
    target.ipv4 = target.ipv6 = target.client_to_peer = target.peer_to_client = false;
    for (const Json& family : *families) {
        if (family == "ipv4")
            target.ipv4 = true;
        else if (family == "ipv6")
            target.ipv6 = true;
        else
            return Error{"offloads.families: \"ipv4\" or \"ipv6\", not " + family.dump()};
    }
    for (const Json& direction : *directions) {
        if (direction == "client_to_peer")
            target.client_to_peer = true;
        else if (direction == "peer_to_client")
            target.peer_to_client = true;
        else
            return Error{"offloads.directions: \"client_to_peer\" or \"peer_to_client\", not " + direction.dump()};
    }
    target.across_families = offloads->value("across_families", false);
    return ok_status();
}

Status parse_forwarding(const Json& document, TargetDescription& target) {
    const auto forwarding = document.find("forwarding");
    if (forwarding == document.end() || !forwarding->is_object())
        return Error{"\"forwarding\" must be an object with an \"action\""};
    if (auto known = only_members(*forwarding, {"action", "on_fib_failure", "ttl"}, "forwarding"); !known) return known;
    const std::string action = forwarding->value("action", "");
    if (action == "tx")
        target.forwarding = Forwarding::tx;
    else if (action == "fib_redirect")
        target.forwarding = Forwarding::fib_redirect;
    else if (action == "pass")
        target.forwarding = Forwarding::pass;
    else
        return Error{"forwarding.action: \"tx\", \"fib_redirect\" or \"pass\""};
    const std::string failure = forwarding->value("on_fib_failure", "pass_untouched");
    if (failure != "pass_rewritten" && failure != "pass_untouched")
        return Error{"forwarding.on_fib_failure: \"pass_rewritten\" or \"pass_untouched\""};
    target.fib_failure_passes_rewritten = failure == "pass_rewritten";
    const std::string ttl = forwarding->value("ttl", "kept");
    if (ttl != "kept" && ttl != "decremented") return Error{"forwarding.ttl: \"kept\" or \"decremented\""};
    target.decrements_ttl = ttl == "decremented";
    return ok_status();
}

Status parse_reasons(const Json& document, TargetDescription& target) {
    const auto reasons = document.find("reasons");
    if (reasons == document.end() || reasons->is_null()) return ok_status();
    if (auto known = only_members(*reasons, {"last_reason", "counters"}, "reasons"); !known) return known;
    auto variable = string_member(*reasons, "last_reason", "reasons");
    auto counters = string_member(*reasons, "counters", "reasons");
    if (!variable) return variable.error();
    if (!counters) return counters.error();
    target.reason_variable = *variable;
    target.reason_counters = *counters;
    return ok_status();
}

bool has_field(const std::vector<FieldLayout>& fields, FieldSource source) {
    return std::any_of(fields.begin(), fields.end(), [&](const FieldLayout& field) { return field.source == source; });
}

// Every binding has its channel: a map keyed by the client tells a
// client's channels apart only by the channel in its key, and a map that
// answers a peer with a client must say on which channel. A description
// without it would make every case a finding; it is refused first.
Status channels_described(const std::vector<EntryLayout>& maps) {
    for (std::size_t i = 0; i < maps.size(); ++i) {
        const EntryLayout& map = maps[i];
        const std::string where = "binding_maps[" + std::to_string(i) + "] (" + map.map + ")";
        const bool keyed_by_client =
            has_field(map.key, FieldSource::client_address) || has_field(map.key, FieldSource::client_port);
        const bool answers_client =
            has_field(map.value, FieldSource::client_address) || has_field(map.value, FieldSource::client_port);
        if (keyed_by_client && !has_field(map.key, FieldSource::channel))
            return Error{where + ": its key holds the client but not the channel; every such key needs it"};
        if (!keyed_by_client && answers_client && !has_field(map.value, FieldSource::channel) &&
            !has_field(map.key, FieldSource::channel))
            return Error{where + ": it answers a peer with a client but never says the channel"};
    }
    return ok_status();
}

}  // namespace

static Result<TargetDescription> parse_checked(const Json& document, const std::string& path);

std::string_view name(FieldSource source) {
    for (const auto& [text, value] : field_names)
        if (value == source) return text;
    return "constant";
}

bool TargetDescription::has_wildcards() const {
    for (const EntryLayout& map : binding_maps)
        for (const auto* fields : {&map.key, &map.value})
            for (const FieldLayout& field : *fields)
                if (field.wildcard) return true;
    return false;
}

bool TargetDescription::keys_by_wildcard(FieldSource source) const {
    for (const EntryLayout& map : binding_maps)
        for (const FieldLayout& field : map.key)
            if (field.wildcard && field.source == source) return true;
    return false;
}

std::string_view name(WildcardForm form) {
    switch (form) {
        case WildcardForm::mixed: return "mixed";
        case WildcardForm::address: return "address";
        case WildcardForm::any: return "any";
    }
    return "?";
}

std::optional<WildcardForm> parse_wildcard_form(std::string_view text) {
    for (WildcardForm form : {WildcardForm::mixed, WildcardForm::address, WildcardForm::any})
        if (name(form) == text) return form;
    return std::nullopt;
}

std::string_view name(Forwarding forwarding) {
    switch (forwarding) {
        case Forwarding::tx: return "tx";
        case Forwarding::fib_redirect: return "fib_redirect";
        case Forwarding::pass: return "pass";
    }
    return "?";
}

Result<TargetDescription> parse_target_description(const Json& document, const std::string& path) {
    // A member of the wrong JSON type makes nlohmann::json throw deep in a
    // lookup: that is a mistake in the file, said as such.
    try {
        return parse_checked(document, path);
    } catch (const nlohmann::json::exception& error) {
        return Error{path + ": a member has the wrong type (" + error.what() + ")"};
    }
}

static Result<TargetDescription> parse_checked(const Json& document, const std::string& path) {
    if (!document.is_object()) return Error{path + ": a target description is a JSON object"};
    TargetDescription target;
    target.path = path;
    auto with_path = [&](const Error& error) { return Error{path + ": " + error.message}; };
    if (auto known = only_members(document,
                                  {"name", "about", "program", "object", "offloads", "forwarding", "reasons", "rodata",
                                   "config_maps", "binding_maps"},
                                  "target");
        !known)
        return with_path(known.error());
    auto name_text = string_member(document, "name", "target");
    auto program = string_member(document, "program", "target");
    if (!name_text) return with_path(name_text.error());
    if (!program) return with_path(program.error());
    target.name = *name_text;
    target.program = *program;
    if (const auto object = document.find("object"); object != document.end() && !object->is_null()) {
        if (!object->is_string()) return with_path(Error{"\"object\" must be a path"});
        std::filesystem::path file = object->get<std::string>();
        if (file.is_relative()) file = std::filesystem::path(path).parent_path() / file;
        target.object = file.string();
    }
    for (auto parse : {parse_offloads, parse_forwarding, parse_reasons})
        if (auto parsed = parse(document, target); !parsed) return with_path(parsed.error());
    if (target.forwarding != Forwarding::fib_redirect && target.fib_failure_passes_rewritten)
        return with_path(Error{"on_fib_failure applies to \"fib_redirect\" only"});
    auto rodata = parse_rodata(document);
    if (!rodata) return with_path(rodata.error());
    target.rodata = std::move(rodata).value();
    auto config_maps = parse_entries(document, "config_maps", false);
    if (!config_maps) return with_path(config_maps.error());
    target.config_maps = std::move(config_maps).value();
    auto binding_maps = parse_entries(document, "binding_maps", true);
    if (!binding_maps) return with_path(binding_maps.error());
    if (binding_maps->empty()) return with_path(Error{"\"binding_maps\" must name at least one map"});
    if (auto keyed = channels_described(*binding_maps); !keyed) return with_path(keyed.error());
    target.binding_maps = std::move(binding_maps).value();
    return target;
}

Result<TargetDescription> read_target_description(const std::string& path) {
    auto document = read_json_strictly(path, "target description", description_file_limit);
    if (!document) return document.error();
    return parse_target_description(*document, path);
}

}  // namespace xdpturn
