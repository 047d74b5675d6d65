#include "harness/io/output_files.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace xdpturn {

Status write_text_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Error{"cannot write '" + path + "': " + std::strerror(errno)};
    out << text;
    out.close();
    if (out.fail()) return Error{"cannot write '" + path + "': " + std::strerror(errno)};
    return ok_status();
}

Status ensure_directory(const std::string& directory) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) return Error{"cannot make directory '" + directory + "': " + error.message()};
    return ok_status();
}

}  // namespace xdpturn
