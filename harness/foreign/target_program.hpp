// A target loaded as its description says: the object opened, every map's
// pinning switched off (so loading leaves nothing under /sys/fs/bpf), the
// other programs left unloaded, .rodata and configuration maps written for
// one relay configuration, and the binding maps written entry by entry from
// abstract bindings.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "harness/foreign/fib_environment.hpp"
#include "harness/foreign/target_description.hpp"
#include "harness/xdp/bpf_object_ptr.hpp"
#include "harness/xdp/bpf_object_tools.hpp"
#include "relay/model/bindings.hpp"
#include "relay/model/reason.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

// The values a field can take, for one binding (or none, for
// configuration entries).
struct FieldValues {
    const DatapathConfig* config = nullptr;
    const HostAddresses* host = nullptr;
    int interface_index = 0;
    const BindingKey* key = nullptr;
    const BindingTarget* target = nullptr;
    bool any_address = false;  // wildcard fields hold the any-address
};

// The bytes of a key or value of `size` bytes, or nothing when a field
// cannot hold its value (an IPv6 address in a 4-byte field: the program
// cannot express the binding).
std::optional<std::vector<std::uint8_t>> encode_entry(const std::vector<FieldLayout>& fields, std::size_t size,
                                                      const FieldValues& values);

class TargetProgram {
  public:
    static Result<TargetProgram> load(const TargetDescription& description, const std::string& object_path,
                                      const DatapathConfig& config, const HostAddresses& host, int interface_index);

    TargetProgram(TargetProgram&&) noexcept;
    TargetProgram& operator=(TargetProgram&&) = delete;
    ~TargetProgram();

    int program_fd() const { return program_fd_; }
    const TargetDescription& description() const { return *description_; }
    const HostAddresses& host() const { return host_; }

    // Writes the binding's entry into every binding map that can express it.
    Status write(const BindingKey& key, const BindingTarget& target);
    // Removes the binding's entries, those it still owns (a later binding
    // may have taken an entry's key over).
    Status remove(const BindingKey& key, const BindingTarget& target);
    // How many binding-map entries were written or deleted.
    std::uint64_t entries_changed() const { return entries_changed_; }

    // The reason of the latest run, when the program keeps one.
    bool keeps_reasons() const { return reason_address_ != nullptr; }
    std::uint32_t last_reason() const;
    void set_last_reason(std::uint32_t value);
    Result<ReasonTally> read_counters() const;
    // Puts back the maps the description does not name (bpf_object_tools'
    // state_maps: a program's own scratch, statistics, caches) as a fresh
    // load has them. Global variables (.bss, .data) are not put back.
    Status reset_state() const;

  private:
    struct BindingMap {
        const EntryLayout* layout = nullptr;
        int fd = -1;
        std::size_t key_size = 0;
        std::size_t value_size = 0;
        std::unordered_map<std::string, BindingKey, std::hash<std::string>> owners;  // key bytes -> binding
    };

    TargetProgram() = default;
    Status prepare(const DatapathConfig& config, int interface_index);
    Status finish_load(const DatapathConfig& config, int interface_index);
    FieldValues values_of(const BindingKey& key, const BindingTarget& target) const;

    std::shared_ptr<const TargetDescription> description_;
    BpfObjectPtr object_;
    DatapathConfig config_;
    HostAddresses host_;
    int interface_index_ = 0;
    int program_fd_ = -1;
    std::vector<BindingMap> binding_maps_;
    std::vector<StateMap> state_maps_;
    int counters_fd_ = -1;
    int possible_cpus_ = 1;
    void* bss_ = nullptr;
    std::size_t bss_length_ = 0;
    volatile std::uint8_t* reason_address_ = nullptr;
    std::uint64_t entries_changed_ = 0;
};

}  // namespace xdpturn
