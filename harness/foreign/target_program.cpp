#include "harness/foreign/target_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/xdp/bpf_object_tools.hpp"
#include "harness/xdp/xdp_program.hpp"

namespace xdpturn {

namespace {

std::optional<IpAddress> address_of(FieldSource source, const FieldValues& values) {
    const DatapathConfig& config = *values.config;
    switch (source) {
        case FieldSource::client_address: return values.key->client.address;
        case FieldSource::peer_address: return values.target->peer.address;
        // The relay host answers on its address of the client's family and
        // relays from its address of the peer's.
        case FieldSource::server_address: return values.host->of(!values.key->client.address.is_v4());
        case FieldSource::relay_address: return values.host->of(!values.target->peer.address.is_v4());
        case FieldSource::relay_ipv4: return config.relay_ipv4.value_or(IpAddress{});
        case FieldSource::relay_ipv6: return config.relay_ipv6.value_or(IpAddress::from_bytes(Ipv6Bytes{}));
        case FieldSource::interface_ipv4: return values.host->ipv4;
        case FieldSource::interface_ipv6: return values.host->ipv6;
        default: return std::nullopt;
    }
}

std::uint64_t number_of(FieldSource source, const FieldValues& values) {
    const DatapathConfig& config = *values.config;
    switch (source) {
        case FieldSource::client_port: return values.key->client.port;
        case FieldSource::server_port: return config.turn_port;
        case FieldSource::channel: return values.key->channel;
        case FieldSource::peer_port: return values.target->peer.port;
        case FieldSource::allocation_port: return values.target->allocation_port;
        case FieldSource::turn_port: return config.turn_port;
        case FieldSource::channel_min: return config.channels.min;
        case FieldSource::channel_max: return config.channels.max;
        case FieldSource::relay_port_min: return config.relay_ports.min;
        case FieldSource::relay_port_max: return config.relay_ports.max;
        case FieldSource::mtu: return config.mtu;
        case FieldSource::interface_index: return static_cast<std::uint64_t>(values.interface_index);
        default: return 0;
    }
}

// Writes one field into `entry`; false when it cannot hold its value.
bool encode_field(const FieldLayout& field, const FieldValues& values, std::vector<std::uint8_t>& entry) {
    std::uint8_t* at = entry.data() + field.offset;
    if (field.source == FieldSource::constant) {
        std::memcpy(at, field.constant.data(), field.size);
        return true;
    }
    // A relay address the configuration lacks: all zero, as our own
    // program's .rodata has it. A wildcard written as the any-address: the
    // same bytes, whichever family.
    const bool absent = (field.source == FieldSource::relay_ipv4 && !values.config->relay_ipv4) ||
                        (field.source == FieldSource::relay_ipv6 && !values.config->relay_ipv6) ||
                        (field.wildcard && values.any_address);
    if (absent) {
        std::memset(at, 0, field.size);
        return true;
    }
    if (auto address = address_of(field.source, values)) {
        const Ipv6Bytes& bytes = address->bytes();
        if (field.size == 16) {
            std::memcpy(at, bytes.data(), 16);
            return true;
        }
        if (!address->is_v4()) return false;
        std::memcpy(at, bytes.data() + 12, 4);
        return true;
    }
    const std::uint64_t number = number_of(field.source, values);
    for (std::size_t i = 0; i < field.size; ++i)
        at[field.order == ByteOrder::host ? i : field.size - 1 - i] = static_cast<std::uint8_t>(number >> (8 * i));
    return true;
}

Status check_fits(const EntryLayout& layout, const bpf_map* map) {
    for (auto [fields, size, part] : {std::tuple{&layout.key, bpf_map__key_size(map), "key"},
                                      std::tuple{&layout.value, bpf_map__value_size(map), "value"}})
        for (const FieldLayout& field : *fields)
            if (field.offset + field.size > size)
                return Error{"map '" + layout.map + "': " + std::string(name(field.source)) + " at offset " +
                             std::to_string(field.offset) + " does not fit its " + std::to_string(size) + "-byte " +
                             part};
    return ok_status();
}

}  // namespace

std::optional<std::vector<std::uint8_t>> encode_entry(const std::vector<FieldLayout>& fields, std::size_t size,
                                                      const FieldValues& values) {
    std::vector<std::uint8_t> entry(size, 0);
    for (const FieldLayout& field : fields)
        if (!encode_field(field, values, entry)) return std::nullopt;
    return entry;
}

TargetProgram::TargetProgram(TargetProgram&& other) noexcept
    : description_(std::move(other.description_)),
      object_(std::move(other.object_)),
      config_(other.config_),
      host_(other.host_),
      interface_index_(other.interface_index_),
      program_fd_(other.program_fd_),
      binding_maps_(std::move(other.binding_maps_)),
      state_maps_(std::move(other.state_maps_)),
      counters_fd_(other.counters_fd_),
      possible_cpus_(other.possible_cpus_),
      bss_(std::exchange(other.bss_, nullptr)),
      bss_length_(other.bss_length_),
      reason_address_(std::exchange(other.reason_address_, nullptr)),
      entries_changed_(other.entries_changed_) {}

TargetProgram::~TargetProgram() {
    if (bss_ != nullptr) munmap(bss_, bss_length_);
}

Result<TargetProgram> TargetProgram::load(const TargetDescription& description, const std::string& object_path,
                                          const DatapathConfig& config, const HostAddresses& host,
                                          int interface_index) {
    TargetProgram program;
    program.description_ = std::make_shared<const TargetDescription>(description);
    program.config_ = config;
    program.host_ = host;
    program.interface_index_ = interface_index;
    const std::string origin = description.name + " (" + object_path + ")";
    bpf_object* opened = bpf_object__open_file(object_path.c_str(), nullptr);
    if (opened == nullptr) return Error{"cannot open BPF object '" + object_path + "': " + explain_errno(errno)};
    program.object_.reset(opened);
    if (auto prepared = program.prepare(config, interface_index); !prepared)
        return Error{origin + ": " + prepared.error().message};
    if (auto loaded = load_object(program.object_.get(), origin); !loaded) return loaded.error();
    if (auto finished = program.finish_load(config, interface_index); !finished)
        return Error{origin + ": " + finished.error().message};
    return program;
}

// Before load: the program found, the rest not loaded, pinning off, maps
// checked against the description, .rodata written.
Status TargetProgram::prepare(const DatapathConfig& config, int interface_index) {
    bpf_object* object = object_.get();
    const TargetDescription& target = *description_;
    bpf_program* chosen = bpf_object__find_program_by_name(object, target.program.c_str());
    if (chosen == nullptr) return Error{"the object has no program '" + target.program + "'"};
    if (bpf_program__type(chosen) != BPF_PROG_TYPE_XDP) return Error{"'" + target.program + "' is not an XDP program"};
    bpf_program* other = nullptr;
    while ((other = bpf_object__next_program(object, other)) != nullptr)
        if (other != chosen) bpf_program__set_autoload(other, false);
    bpf_map* map = nullptr;
    while ((map = bpf_object__next_map(object, map)) != nullptr)
        if (bpf_map__set_pin_path(map, nullptr) != 0) return Error{"cannot switch off pinning"};
    for (const auto* entries : {&target.config_maps, &target.binding_maps})
        for (const EntryLayout& layout : *entries) {
            const bpf_map* found = bpf_object__find_map_by_name(object, layout.map.c_str());
            if (found == nullptr && layout.optional) continue;
            if (found == nullptr) return Error{"the object has no map '" + layout.map + "'"};
            if (auto fits = check_fits(layout, found); !fits) return fits;
        }
    const FieldValues values{&config, &host_, interface_index, nullptr, nullptr, false};
    for (const RodataSetting& setting : target.rodata) {
        auto bytes = encode_entry({setting.field}, setting.field.size, values);
        if (!bytes) return Error{".rodata '" + setting.variable + "' cannot hold its value"};
        if (auto set = set_rodata(object, setting.variable.c_str(), *bytes); !set) return set;
    }
    if (target.reason_counters && bpf_object__find_map_by_name(object, target.reason_counters->c_str()) == nullptr)
        return Error{"the object has no map '" + *target.reason_counters + "' (reasons.counters)"};
    return ok_status();
}

// After load: configuration entries written, binding maps and the reason
// variable found.
Status TargetProgram::finish_load(const DatapathConfig& config, int interface_index) {
    bpf_object* object = object_.get();
    const TargetDescription& target = *description_;
    program_fd_ = bpf_program__fd(bpf_object__find_program_by_name(object, target.program.c_str()));
    const FieldValues values{&config, &host_, interface_index, nullptr, nullptr, false};
    for (const EntryLayout& layout : target.config_maps) {
        const bpf_map* map = bpf_object__find_map_by_name(object, layout.map.c_str());
        if (map == nullptr) continue;  // optional, and this version has none
        auto key = encode_entry(layout.key, bpf_map__key_size(map), values);
        auto value = encode_entry(layout.value, bpf_map__value_size(map), values);
        if (!key || !value) return Error{"configuration entry of '" + layout.map + "' cannot hold its values"};
        if (bpf_map_update_elem(bpf_map__fd(map), key->data(), value->data(), BPF_ANY) != 0)
            return Error{"cannot write configuration map '" + layout.map + "': " + bpf_error_text(errno)};
    }
    for (const EntryLayout& layout : target.binding_maps) {
        const bpf_map* map = bpf_object__find_map_by_name(object, layout.map.c_str());
        binding_maps_.push_back(
            BindingMap{&layout, bpf_map__fd(map), bpf_map__key_size(map), bpf_map__value_size(map), {}});
    }
    possible_cpus_ = libbpf_num_possible_cpus();
    std::vector<std::string> described;
    for (const auto* entries : {&target.config_maps, &target.binding_maps})
        for (const EntryLayout& layout : *entries) described.push_back(layout.map);
    if (target.reason_counters) described.push_back(*target.reason_counters);
    state_maps_ = state_maps(object, described, possible_cpus_);
    if (!target.reason_variable) return ok_status();
    counters_fd_ = bpf_map__fd(bpf_object__find_map_by_name(object, target.reason_counters->c_str()));
    auto variable = find_global(object, ".bss", target.reason_variable->c_str());
    if (!variable) return variable.error();
    if (variable->size != sizeof(std::uint32_t)) return Error{"reasons.last_reason must be a 4-byte .bss global"};
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    bss_length_ = (bpf_map__value_size(variable->map) + page - 1) / page * page;
    void* address = mmap(nullptr, bss_length_, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(variable->map), 0);
    if (address == MAP_FAILED) return Error{std::string("cannot mmap .bss: ") + std::strerror(errno)};
    bss_ = address;
    reason_address_ = static_cast<volatile std::uint8_t*>(address) + variable->offset;
    return ok_status();
}

Status TargetProgram::reset_state() const {
    return reset_state_maps(state_maps_, "target '" + description_->name + "'");
}

FieldValues TargetProgram::values_of(const BindingKey& key, const BindingTarget& target) const {
    return FieldValues{&config_, &host_, interface_index_, &key, &target, description_->written_as_any_address(key)};
}

Status TargetProgram::write(const BindingKey& key, const BindingTarget& target) {
    const FieldValues values = values_of(key, target);
    for (BindingMap& map : binding_maps_) {
        auto map_key = encode_entry(map.layout->key, map.key_size, values);
        auto map_value = encode_entry(map.layout->value, map.value_size, values);
        if (!map_key || !map_value) continue;
        if (bpf_map_update_elem(map.fd, map_key->data(), map_value->data(), BPF_ANY) != 0)
            return Error{"cannot write to '" + map.layout->map + "': " + bpf_error_text(errno)};
        ++entries_changed_;
        map.owners.insert_or_assign(std::string(map_key->begin(), map_key->end()), key);
    }
    return ok_status();
}

Status TargetProgram::remove(const BindingKey& key, const BindingTarget& target) {
    const FieldValues values = values_of(key, target);
    for (BindingMap& map : binding_maps_) {
        auto map_key = encode_entry(map.layout->key, map.key_size, values);
        if (!map_key) continue;
        const auto owner = map.owners.find(std::string(map_key->begin(), map_key->end()));
        if (owner == map.owners.end() || !(owner->second == key)) continue;
        if (bpf_map_delete_elem(map.fd, map_key->data()) != 0 && errno != ENOENT)
            return Error{"cannot delete from '" + map.layout->map + "': " + bpf_error_text(errno)};
        ++entries_changed_;
        map.owners.erase(owner);
    }
    return ok_status();
}

std::uint32_t TargetProgram::last_reason() const {
    return *reinterpret_cast<const volatile std::uint32_t*>(reason_address_);
}

void TargetProgram::set_last_reason(std::uint32_t value) {
    *reinterpret_cast<volatile std::uint32_t*>(reason_address_) = value;
}

Result<ReasonTally> TargetProgram::read_counters() const {
    if (counters_fd_ < 0) return Error{description_->name + " keeps no reason counters"};
    return sum_reason_counters(counters_fd_, possible_cpus_);
}

}  // namespace xdpturn
