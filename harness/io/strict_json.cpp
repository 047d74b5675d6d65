#include "harness/io/strict_json.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "relay/net/file_input.hpp"

namespace xdpturn {

namespace {

// Thrown from the parser's callback, which cannot return an error.
struct DuplicateKey {
    std::string key;
    std::string path;
};

}  // namespace

Result<nlohmann::json> parse_json_strictly(const std::string& text, const std::string& what) {
    // Per open object: the keys seen so far and the latest, for the path.
    struct OpenObject {
        std::set<std::string> keys;
        std::string latest;
    };
    std::vector<OpenObject> open;
    const auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        if (event == nlohmann::json::parse_event_t::object_start) open.emplace_back();
        if (event == nlohmann::json::parse_event_t::object_end && !open.empty()) open.pop_back();
        if (event == nlohmann::json::parse_event_t::key && !open.empty()) {
            std::string key = parsed.get<std::string>();
            if (!open.back().keys.insert(key).second) {
                std::string path;
                for (std::size_t i = 0; i + 1 < open.size(); ++i) path += open[i].latest + ".";
                throw DuplicateKey{key, path};
            }
            open.back().latest = std::move(key);
        }
        return true;
    };
    try {
        return nlohmann::json::parse(text, callback, true);
    } catch (const DuplicateKey& duplicate) {
        return Error{what + ": the key \"" + duplicate.path + duplicate.key + "\" is given twice"};
    } catch (const nlohmann::json::exception& error) {
        return Error{what + ": not valid JSON (" + error.what() + ")"};
    }
}

Result<nlohmann::json> read_json_strictly(const std::string& path, std::string_view kind, std::size_t limit) {
    auto text = read_input_file(path, kind, limit);
    if (!text) return text.error();
    return parse_json_strictly(*text, path);
}

Status only_members(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                    const std::string& where) {
    if (!object.is_object()) return ok_status();
    for (const auto& [key, value] : object.items())
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            std::string list;
            for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
            return Error{where + ": unknown member \"" + key + "\" (known: " + list + ")"};
        }
    return ok_status();
}

}  // namespace xdpturn
