// The files xdpturn reads and writes, as a careless user and an attacker
// hand them over (issue 23, items 10, 12 and 13): an input is read only
// when it is a regular file within its kind's limit, JSON is read strictly
// (a doubled or unknown member is named, never silently dropped), and an
// output is written whole or not at all, never over an input.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE input_files
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness/foreign/target_description.hpp"
#include "harness/io/bindings_json.hpp"
#include "harness/io/output_files.hpp"
#include "harness/io/strict_json.hpp"
#include "relay/net/file_input.hpp"

using namespace xdpturn;

namespace {

struct Scratch {
    std::filesystem::path directory =
        std::filesystem::temp_directory_path() / ("xdpturn-input-files-" + std::to_string(getpid()));
    Scratch() { std::filesystem::create_directories(directory); }
    ~Scratch() { std::filesystem::remove_all(directory); }
    std::string file(const std::string& name, const std::string& text) const {
        const std::string path = (directory / name).string();
        std::ofstream(path) << text;
        return path;
    }
    std::string path(const std::string& name) const { return (directory / name).string(); }
};

bool says(const Status& status, const std::string& words) {
    return !status.ok() && status.error().message.find(words) != std::string::npos;
}
template <class T>
bool says(const Result<T>& result, const std::string& words) {
    return !result.ok() && result.error().message.find(words) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(only_regular_files_within_their_limit_are_read) {
    const Scratch scratch;
    BOOST_TEST(read_input_file(scratch.file("small", "12345"), "report", 5).value() == "12345");
    BOOST_TEST(says(read_input_file(scratch.file("large", "123456"), "report", 5), "6 bytes, more than a report"));
    BOOST_TEST(says(read_input_file("/dev/zero", "bindings file", bindings_file_limit), "not a regular file"));
    BOOST_TEST(says(read_input_file(scratch.directory.string(), "tracefile", tracefile_limit), "a directory"));
    const std::string fifo = scratch.path("fifo");
    BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    BOOST_TEST(says(read_input_file(fifo, "target description", description_file_limit), "not a regular file"));
    BOOST_TEST(says(read_input_file(scratch.path("missing"), "report", 5), "No such file"));
    // Every reader goes through it.
    BOOST_TEST(says(read_bindings_file("/dev/zero"), "not a regular file"));
    BOOST_TEST(says(read_target_description(scratch.directory.string()), "a directory"));
}

BOOST_AUTO_TEST_CASE(a_key_given_twice_is_named) {
    BOOST_TEST(parse_json_strictly(R"({"a": 1, "b": {"c": 2}})", "f").ok());
    BOOST_TEST(says(parse_json_strictly(R"({"a": 1, "a": 2})", "f"), "the key \"a\" is given twice"));
    BOOST_TEST(says(parse_json_strictly(R"({"relay": {"mtu": 1500, "mtu": 9000}})", "f"),
                    "the key \"relay.mtu\" is given twice"));
    // Equal keys in different objects are no duplicates.
    BOOST_TEST(parse_json_strictly(R"([{"a": 1}, {"a": 2}])", "f").ok());
    BOOST_TEST(says(parse_json_strictly("{", "f"), "not valid JSON"));
}

BOOST_AUTO_TEST_CASE(binding_files_are_read_strictly) {
    const std::string entry = R"({"client": "198.51.100.7:50000", "channel": 16384, "allocation_port": 50001,
                                  "peer": "203.0.113.9:6000"})";
    BOOST_TEST(parse_bindings_json(R"({"bindings": [)" + entry + "]}").ok());
    BOOST_TEST(says(parse_bindings_json(R"({"relay": {"mtu": 1500, "mtu": 68}, "bindings": []})"),
                    "\"relay.mtu\" is given twice"));
    BOOST_TEST(says(parse_bindings_json(R"({"binding": []})"), "unknown member \"binding\""));
    BOOST_TEST(says(parse_bindings_json(R"({"relay": {"turn-port": 3478}})"), "unknown member \"turn-port\""));
    BOOST_TEST(says(parse_bindings_json(R"({"bindings": [{"client": "198.51.100.7:50000", "channel": 16384,
                                          "allocation_port": 50001, "peer": "203.0.113.9:6000", "peer_port": 1}]})"),
                    "unknown member \"peer_port\""));
    BOOST_TEST(says(parse_bindings_json(R"({"bindings": [{"client": "198.51.100.7:50000", "channel": 16384,
                                          "peer": "203.0.113.9:6000"}]})"),
                    "missing \"allocation_port\""));
    BOOST_TEST(says(parse_bindings_json(R"({"bindings": [{"client": "198.51.100.7:50000", "channel": 65536,
                                          "allocation_port": 50001, "peer": "203.0.113.9:6000"}]})"),
                    "\"channel\" must be a number from 0 to 65535"));
}

BOOST_AUTO_TEST_CASE(a_description_with_a_doubled_member_is_refused) {
    const Scratch scratch;
    const std::string path =
        scratch.file("t.json", R"({"name": "t", "name": "u", "program": "p", "offloads": {}, "binding_maps": []})");
    BOOST_TEST(says(read_target_description(path), "the key \"name\" is given twice"));
}

BOOST_AUTO_TEST_CASE(an_output_never_overwrites_an_input_or_another_output) {
    const Scratch scratch;
    const std::string input = scratch.file("in.pcap", "capture");
    const std::string link = scratch.path("link.pcap");
    BOOST_TEST_REQUIRE(::link(input.c_str(), link.c_str()) == 0);
    BOOST_TEST(says(check_outputs({{input}, {input}, {}}), "is the input"));
    BOOST_TEST(says(check_outputs({{input}, {link}, {}}), "is the input"));  // the same inode
    BOOST_TEST(says(check_outputs({{input}, {scratch.path("./in.pcap")}, {}}), "is the input"));
    BOOST_TEST(says(check_outputs({{}, {scratch.path("o"), scratch.path("o")}, {}}), "named for two outputs"));
    BOOST_TEST(says(check_outputs({{}, {scratch.directory.string()}, {}}), "is a directory"));
    BOOST_TEST(says(check_outputs({{}, {scratch.path("none/o")}, {}}), "no directory"));
    BOOST_TEST(says(check_outputs({{}, {}, {input}}), "is not a directory"));
    BOOST_TEST(says(check_outputs({{}, {}, {input + "/below"}}), "is not a directory"));
    // A device takes any number of outputs, and is never replaced by a file.
    BOOST_TEST(check_outputs({{input}, {"/dev/null", "/dev/null", scratch.path("new")}, {scratch.path("dir")}}).ok());
    BOOST_TEST(write_text_file("/dev/null", "x").ok());
    struct stat info {};
    BOOST_TEST_REQUIRE(stat("/dev/null", &info) == 0);
    BOOST_TEST(S_ISCHR(info.st_mode));
}

BOOST_AUTO_TEST_CASE(an_output_appears_whole_or_not_at_all) {
    const Scratch scratch;
    const std::string path = scratch.file("report.json", "old");
    {
        OutputFile abandoned(path);
        std::ofstream(abandoned.staging()) << "half";
        BOOST_TEST(abandoned.staging() != path);
    }  // dropped without commit(): the run failed
    std::ifstream kept(path);
    std::string text;
    kept >> text;
    BOOST_TEST(text == "old");
    BOOST_TEST(std::distance(std::filesystem::directory_iterator(scratch.directory),
                             std::filesystem::directory_iterator()) == 1);  // no partial file left
    BOOST_TEST(write_text_file(path, "new").ok());
    std::ifstream replaced(path);
    replaced >> text;
    BOOST_TEST(text == "new");
    // Through a symbolic link, the file it names is written; the link stays.
    const std::string link = scratch.path("latest.json");
    std::filesystem::create_symlink(path, link);
    BOOST_TEST(write_text_file(link, "newer").ok());
    BOOST_TEST(std::filesystem::is_symlink(link));
    std::ifstream followed(path);
    followed >> text;
    BOOST_TEST(text == "newer");
}
