#include "relay/model/reason.hpp"

namespace xdpturn {

std::string_view name(Verdict verdict) {
    switch (verdict) {
        case Verdict::aborted: return "XDP_ABORTED";
        case Verdict::drop: return "XDP_DROP";
        case Verdict::pass: return "XDP_PASS";
        case Verdict::tx: return "XDP_TX";
        case Verdict::redirect: return "XDP_REDIRECT";
    }
    return "XDP_UNKNOWN";
}

std::optional<Reason> reason_from_index(std::uint32_t index) {
    if (index >= reason_count) return std::nullopt;
    return static_cast<Reason>(index);
}

}  // namespace xdpturn
