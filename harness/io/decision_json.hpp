// A decision as the JSON reports write it: {"verdict": "XDP_TX", "reason": "relayed"}.
#pragma once

#include <nlohmann/json.hpp>

#include "relay/model/reference_model.hpp"

namespace xdpturn {

inline nlohmann::json decision_json(const Decision& decision) {
    return {{"verdict", name(decision.verdict)}, {"reason", name(decision.reason)}};
}

}  // namespace xdpturn
