// The relay's log: one JSON object a line, made by nlohmann/json so that any
// text in it (error messages, interface names) is escaped.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

namespace xdpturn::turn {

inline void log_event(std::ostream& out, const nlohmann::json& event) {
    out << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

}  // namespace xdpturn::turn
