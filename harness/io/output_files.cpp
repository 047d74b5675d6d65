#include "harness/io/output_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>

namespace xdpturn {

namespace fs = std::filesystem;

namespace {

std::optional<struct stat> status_of(const std::string& path) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) return std::nullopt;
    return info;
}

// A device or FIFO is written in place: renaming over /dev/null would
// replace the device with a file.
bool staged(const std::string& path) {
    const auto info = status_of(path);
    return !info || S_ISREG(info->st_mode);
}

std::string canonical_text(const std::string& path) {
    std::error_code error;
    const fs::path canonical = fs::weakly_canonical(fs::absolute(path, error), error);
    return error ? path : canonical.string();
}

bool same_file(const std::string& a, const std::string& b) {
    const auto first = status_of(a);
    const auto second = status_of(b);
    if (first && second) return first->st_dev == second->st_dev && first->st_ino == second->st_ino;
    return canonical_text(a) == canonical_text(b);
}

Status writable_directory_of(const std::string& path) {
    std::string directory = fs::path(path).parent_path().string();
    if (directory.empty()) directory = ".";
    const auto info = status_of(directory);
    if (!info || !S_ISDIR(info->st_mode)) return Error{"'" + path + "': no directory '" + directory + "'"};
    if (access(directory.c_str(), W_OK) != 0)
        return Error{"'" + path + "': cannot write in '" + directory + "': " + std::strerror(errno)};
    return ok_status();
}

// A symbolic link is followed: the file it names is replaced, not the link.
std::string through_links(const std::string& path) {
    std::error_code error;
    if (!fs::is_symlink(path, error)) return path;
    const fs::path target = fs::weakly_canonical(path, error);
    return error ? path : target.string();
}

}  // namespace

OutputFile::OutputFile(std::string path)
    : path_(through_links(path)),
      staging_(staged(path_) ? path_ + ".xdpturn-partial-" + std::to_string(getpid()) : path_) {}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : path_(std::move(other.path_)), staging_(std::move(other.staging_)), done_(std::exchange(other.done_, true)) {}

OutputFile::~OutputFile() {
    if (!done_ && staging_ != path_) std::remove(staging_.c_str());
}

Status OutputFile::commit() {
    done_ = true;
    if (staging_ == path_) return ok_status();
    if (std::rename(staging_.c_str(), path_.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(staging_.c_str());
        return Error{"cannot write '" + path_ + "': " + why};
    }
    return ok_status();
}

Status write_text_file(const std::string& path, const std::string& text) {
    OutputFile output(path);
    std::ofstream out(output.staging(), std::ios::binary | std::ios::trunc);
    if (!out) return Error{"cannot write '" + path + "': " + std::strerror(errno)};
    out << text;
    out.close();
    if (out.fail()) return Error{"cannot write '" + path + "': " + std::strerror(errno)};
    return output.commit();
}

Status ensure_directory(const std::string& directory) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) return Error{"cannot make directory '" + directory + "': " + error.message()};
    return ok_status();
}

Status check_outputs(const FileRoles& roles) {
    std::vector<std::string> written;
    for (const std::string& output : roles.outputs) {
        if (output.empty()) continue;
        if (const auto info = status_of(output); info && S_ISDIR(info->st_mode))
            return Error{"output '" + output + "' is a directory"};
        if (auto writable = writable_directory_of(output); !writable) return writable;
        written.push_back(output);
    }
    for (const std::string& directory : roles.directories) {
        if (directory.empty()) continue;
        if (const auto info = status_of(directory); info && !S_ISDIR(info->st_mode))
            return Error{"output directory '" + directory + "' is not a directory"};
        // It, or the nearest directory above it that exists, must take writes.
        fs::path existing = fs::absolute(directory);
        while (!status_of(existing.string()) && existing.has_parent_path() && existing != existing.parent_path())
            existing = existing.parent_path();
        if (const auto info = status_of(existing.string()); !info || !S_ISDIR(info->st_mode))
            return Error{"output directory '" + directory + "': '" + existing.string() + "' is not a directory"};
        if (access(existing.c_str(), W_OK) != 0)
            return Error{"output directory '" + directory + "': cannot write in '" + existing.string() +
                         "': " + std::strerror(errno)};
        written.push_back(directory);
    }
    // A device (such as /dev/null) may take any number of outputs.
    std::erase_if(written, [](const std::string& path) {
        const auto info = status_of(path);
        return info && !S_ISREG(info->st_mode) && !S_ISDIR(info->st_mode);
    });
    for (std::size_t i = 0; i < written.size(); ++i) {
        for (const std::string& input : roles.inputs)
            if (!input.empty() && same_file(written[i], input))
                return Error{"output '" + written[i] + "' is the input '" + input + "': it would be overwritten"};
        for (std::size_t j = i + 1; j < written.size(); ++j)
            if (same_file(written[i], written[j]))
                return Error{"'" + written[i] + "' is named for two outputs ('" + written[j] + "')"};
    }
    return ok_status();
}

}  // namespace xdpturn
