// Where the program under test comes from and how it is judged: the
// drivers name it, the differential engine and its engines under test
// (this folder) load it. The XDP layer below loads object files and knows
// nothing of targets.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "relay/model/bindings.hpp"

namespace xdpturn {

struct TargetDescription;

// Where the XDP program comes from: the built-in one, an object file that
// follows bpf/xdpturn_abi.h, or a target (a program not ours, as its
// description says; object_path then overrides the description's object).
// And how it is judged: byte for byte against the reference, reason
// included, or by the conformance oracle (compare/conformance.hpp), which a
// target without our reason codes always gets.
struct ProgramSource {
    std::optional<std::string> object_path;
    std::shared_ptr<const TargetDescription> target;
    std::string target_name;
    std::string target_object;  // the object the description names (object_path overrides it)
    // The relay host's addresses a target's maps hold (its TURN listening
    // and relayed addresses); unset: the generated frames' (192.0.2.1,
    // 2001:db8:1::1).
    std::optional<IpAddress> host_ipv4;
    std::optional<IpAddress> host_ipv6;
    bool conformance = false;
    // Under the conformance oracle: a datagram sent without the UDP checksum
    // the relay sends (forwarded_without_checksum) is a defect too.
    bool strict_checksums = false;
    // An object file that follows bpf/xdpturn_abi.h; nothing: the built-in program.
    static ProgramSource object_file(std::optional<std::string> path) {
        ProgramSource source;
        source.object_path = std::move(path);
        return source;
    }
    std::string describe() const {
        const std::string object = object_path ? *object_path : target ? target_object : std::string("built-in");
        return target ? target_name + " (" + object + ")" : object;
    }
};

}  // namespace xdpturn
