#include "harness/xdp/xdp_program.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <span>
#include <vector>

#include "harness/xdp/bpf_object_tools.hpp"
#include "xdpturn.skel.h"

namespace xdpturn {

namespace {

struct MapShape {
    const char* name;
    std::initializer_list<bpf_map_type> types;
    std::uint32_t key_size;
    std::uint32_t value_size;
    std::uint32_t min_entries;
};

// The maps of bpf/xdpturn_abi.h as the harness reads and writes them. An
// object that names a map alike but lays it out otherwise would make every
// lookup and update read or write the wrong number of bytes.
constexpr MapShape abi_maps[] = {
    {XDPTURN_BINDINGS_MAP_NAME,
     {BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH},
     sizeof(xdpturn_binding_key),
     sizeof(xdpturn_binding_value),
     1},
    {XDPTURN_CHANNELS_MAP_NAME,
     {BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH},
     sizeof(xdpturn_peer_key),
     sizeof(xdpturn_peer_value),
     1},
    {XDPTURN_COUNTERS_MAP_NAME,
     {BPF_MAP_TYPE_PERCPU_ARRAY},
     sizeof(std::uint32_t),
     sizeof(std::uint64_t),
     XDPTURN_REASON_COUNT},
};

Status check_map_shape(bpf_object* object, const MapShape& shape) {
    const bpf_map* map = bpf_object__find_map_by_name(object, shape.name);
    const std::string named = std::string("map '") + shape.name + "'";
    if (map == nullptr) return Error{"the object has no " + named + " (bpf/xdpturn_abi.h)"};
    const auto type = bpf_map__type(map);
    if (std::find(shape.types.begin(), shape.types.end(), type) == shape.types.end())
        return Error{named + " is of type " + std::string(libbpf_bpf_map_type_str(type)) + ", not " +
                     libbpf_bpf_map_type_str(*shape.types.begin())};
    auto mismatch = [&](const char* what, std::uint32_t has, std::uint32_t wanted) {
        return Error{named + " has a " + what + " of " + std::to_string(has) + " bytes; bpf/xdpturn_abi.h says " +
                     std::to_string(wanted)};
    };
    if (bpf_map__key_size(map) != shape.key_size) return mismatch("key", bpf_map__key_size(map), shape.key_size);
    if (bpf_map__value_size(map) != shape.value_size)
        return mismatch("value", bpf_map__value_size(map), shape.value_size);
    if (bpf_map__max_entries(map) < shape.min_entries)
        return Error{named + " holds " + std::to_string(bpf_map__max_entries(map)) + " entries; it needs " +
                     std::to_string(shape.min_entries)};
    return ok_status();
}

// Everything the harness relies on, checked on the opened object before
// anything is loaded or read.
Status check_abi(bpf_object* object) {
    const bpf_program* prog = bpf_object__find_program_by_name(object, XDPTURN_PROG_NAME);
    if (prog == nullptr) return Error{"the object has no program '" XDPTURN_PROG_NAME "' (bpf/xdpturn_abi.h)"};
    if (bpf_program__type(prog) != BPF_PROG_TYPE_XDP)
        return Error{"program '" XDPTURN_PROG_NAME "' is not an XDP program"};
    for (const MapShape& shape : abi_maps)
        if (auto checked = check_map_shape(object, shape); !checked) return checked;
    auto last_reason = find_global(object, ".bss", XDPTURN_BSS_LAST_REASON);
    if (!last_reason) return last_reason.error();
    if (last_reason->size != sizeof(std::uint32_t))
        return Error{"global '" XDPTURN_BSS_LAST_REASON "' is " + std::to_string(last_reason->size) + " bytes, not 4"};
    return ok_status();
}

}  // namespace

std::string bpf_error_text(int error) {
    char text[256];
    libbpf_strerror(error, text, sizeof(text));
    return text;
}

XdpProgram::Mapping::~Mapping() {
    if (address != nullptr) munmap(address, length);
}
XdpProgram::Mapping::Mapping(Mapping&& other) noexcept
    : address(std::exchange(other.address, nullptr)), length(other.length) {}
XdpProgram::Mapping& XdpProgram::Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        if (address != nullptr) munmap(address, length);
        address = std::exchange(other.address, nullptr);
        length = other.length;
    }
    return *this;
}

XdpProgram::XdpProgram(XdpProgram&&) noexcept = default;
XdpProgram& XdpProgram::operator=(XdpProgram&&) noexcept = default;
XdpProgram::~XdpProgram() = default;

Result<XdpProgram> XdpProgram::load_builtin(const DatapathConfig& config) {
    std::size_t size = 0;
    const void* elf = xdpturn_bpf__elf_bytes(&size);
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "xdpturn");
    bpf_object* opened = bpf_object__open_mem(elf, size, &options);
    if (opened == nullptr) return Error{"cannot open the built-in BPF object: " + explain_errno(errno)};
    return load(opened, "built-in", config);
}

Result<XdpProgram> XdpProgram::load_file(const std::string& path, const DatapathConfig& config) {
    bpf_object* opened = bpf_object__open_file(path.c_str(), nullptr);
    if (opened == nullptr) return Error{"cannot open BPF object '" + path + "': " + explain_errno(errno)};
    return load(opened, path, config);
}

// Per-CPU arrays other than the counters: the program's scratch, which a
// frame may leave something in for the next one on its CPU.
Result<XdpProgram> XdpProgram::load(bpf_object* opened, std::string origin, const DatapathConfig& config) {
    XdpProgram program;
    program.object_.reset(opened);
    program.config_ = config;
    program.origin_ = std::move(origin);
    bpf_object* object = program.object_.get();

    if (auto valid = checked_config(config); !valid) return Error{program.origin_ + ": " + valid.error().message};
    if (auto checked = check_abi(object); !checked) return Error{program.origin_ + ": " + checked.error().message};
    for (auto [name, value] : {std::pair{XDPTURN_RODATA_TURN_PORT, config.turn_port},
                               std::pair{XDPTURN_RODATA_CHANNEL_MIN, config.channels.min},
                               std::pair{XDPTURN_RODATA_CHANNEL_MAX, config.channels.max},
                               std::pair{XDPTURN_RODATA_RELAY_PORT_MIN, config.relay_ports.min},
                               std::pair{XDPTURN_RODATA_RELAY_PORT_MAX, config.relay_ports.max},
                               std::pair{XDPTURN_RODATA_MTU, config.mtu}}) {
        std::array<std::uint8_t, sizeof(value)> host_order{};
        std::memcpy(host_order.data(), &value, sizeof(value));
        if (auto set = set_rodata(object, name, host_order); !set)
            return Error{program.origin_ + ": " + set.error().message};
    }
    // The relay addresses in the maps' 16-byte form; all zero: none.
    for (auto [name, address] : {std::pair{XDPTURN_RODATA_RELAY_ADDRESS_IPV4, config.relay_ipv4},
                                 std::pair{XDPTURN_RODATA_RELAY_ADDRESS_IPV6, config.relay_ipv6}}) {
        const Ipv6Bytes bytes = address ? address->bytes() : Ipv6Bytes{};
        if (auto set = set_rodata(object, name, bytes); !set)
            return Error{program.origin_ + ": " + set.error().message};
    }

    if (auto loaded = load_object(object, "the XDP program (" + program.origin_ + ")"); !loaded) return loaded.error();

    bpf_program* prog = bpf_object__find_program_by_name(object, XDPTURN_PROG_NAME);
    bpf_map* bindings = bpf_object__find_map_by_name(object, XDPTURN_BINDINGS_MAP_NAME);
    bpf_map* channels = bpf_object__find_map_by_name(object, XDPTURN_CHANNELS_MAP_NAME);
    bpf_map* counters = bpf_object__find_map_by_name(object, XDPTURN_COUNTERS_MAP_NAME);
    if (prog == nullptr || bindings == nullptr || channels == nullptr || counters == nullptr)
        return Error{program.origin_ + ": object lacks the program or maps named in bpf/xdpturn_abi.h"};
    program.program_fd_ = bpf_program__fd(prog);
    program.bindings_fd_ = bpf_map__fd(bindings);
    program.channels_fd_ = bpf_map__fd(channels);
    program.counters_fd_ = bpf_map__fd(counters);
    program.possible_cpus_ = libbpf_num_possible_cpus();
    if (program.possible_cpus_ <= 0) return Error{"cannot count possible CPUs"};
    const std::string harness_maps[] = {XDPTURN_BINDINGS_MAP_NAME, XDPTURN_CHANNELS_MAP_NAME,
                                        XDPTURN_COUNTERS_MAP_NAME};
    program.state_maps_ = state_maps(object, harness_maps, program.possible_cpus_);

    auto last_reason = find_global(object, ".bss", XDPTURN_BSS_LAST_REASON);
    if (!last_reason) return Error{program.origin_ + ": " + last_reason.error().message};
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t length = (bpf_map__value_size(last_reason->map) + page - 1) / page * page;
    void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(last_reason->map), 0);
    if (address == MAP_FAILED) return Error{std::string("cannot mmap .bss: ") + std::strerror(errno)};
    program.bss_.address = address;
    program.bss_.length = length;
    program.last_reason_offset_ = last_reason->offset;
    return program;
}

Result<XdpProgram> XdpProgram::load(const std::optional<std::string>& object_path, const DatapathConfig& config) {
    return object_path ? load_file(*object_path, config) : load_builtin(config);
}

std::uint32_t XdpProgram::last_reason() const {
    const auto* bytes = static_cast<const volatile std::uint8_t*>(bss_.address) + last_reason_offset_;
    return *reinterpret_cast<const volatile std::uint32_t*>(bytes);
}

void XdpProgram::set_last_reason(std::uint32_t value) {
    auto* bytes = static_cast<volatile std::uint8_t*>(bss_.address) + last_reason_offset_;
    *reinterpret_cast<volatile std::uint32_t*>(bytes) = value;
}

Result<ReasonTally> XdpProgram::read_counters() const {
    return sum_reason_counters(counters_fd_, possible_cpus_);
}

Status XdpProgram::reset_state() const {
    return reset_state_maps(state_maps_, origin_);
}

}  // namespace xdpturn
