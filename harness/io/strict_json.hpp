// JSON that users write, read strictly: nlohmann::json keeps the last of
// two equal keys without a word, and readers that look members up ignore
// the ones they do not know, so a misspelt or doubled member silently
// changes what a file says. Files xdpturn reads (target descriptions,
// binding files, reports) go through here: a duplicate key or a member the
// reader does not know is an error that names it.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "relay/net/result.hpp"

namespace xdpturn {

// Parses `text`; a syntax error or a key given twice in one object is an
// error naming `what` and the key.
Result<nlohmann::json> parse_json_strictly(const std::string& text, const std::string& what);

// The file at `path`, read as read_input_file reads it (`kind`, `limit`)
// and parsed strictly: what every JSON input of xdpturn goes through.
Result<nlohmann::json> read_json_strictly(const std::string& path, std::string_view kind, std::size_t limit);

// `object`'s members are all in `known`; else an error naming the first
// other one, at `where`.
Status only_members(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                    const std::string& where);

}  // namespace xdpturn
