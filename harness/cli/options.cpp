#include "harness/cli/options.hpp"

#include <fstream>
#include <iostream>

namespace xdpturn::cli {

namespace po = boost::program_options;

std::optional<po::variables_map> parse_options(const std::string& command, int argc, char** argv,
                                               const po::options_description& visible,
                                               const po::positional_options_description* positional,
                                               const po::options_description* hidden) {
    po::options_description all;
    all.add(visible);
    if (hidden != nullptr) all.add(*hidden);
    po::variables_map args;
    try {
        po::command_line_parser parser(argc, argv);
        parser.options(all);
        if (positional != nullptr) parser.positional(*positional);
        po::store(parser.run(), args);
        po::notify(args);
    } catch (const po::error& error) {
        std::cerr << "xdpturn " << command << ": " << error.what() << "\n\n" << visible;
        return std::nullopt;
    }
    return args;
}

bool write_report(const std::string& command, const std::string& path, const nlohmann::json& document) {
    std::ofstream out(path);
    out << document.dump(2) << "\n";
    if (!out) {
        std::cerr << "xdpturn " << command << ": cannot write report '" << path << "'\n";
        return false;
    }
    return true;
}

}  // namespace xdpturn::cli
