#include "relay/net/file_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xdpturn {

Result<std::string> read_input_file(const std::string& path, std::string_view kind, std::size_t limit) {
    const std::string named = std::string(kind) + " '" + path + "'";
    // O_NONBLOCK: opening a FIFO nobody writes must not hang before fstat.
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return Error{"cannot read " + named + ": " + std::strerror(errno)};
    struct stat info {};
    std::string text;
    std::string problem;
    if (fstat(fd, &info) != 0) {
        problem = std::strerror(errno);
    } else if (S_ISDIR(info.st_mode)) {
        problem = "a directory, not a file";
    } else if (!S_ISREG(info.st_mode)) {
        problem = "not a regular file (a device, FIFO or socket is never read)";
    } else if (static_cast<std::size_t>(info.st_size) > limit) {
        problem = std::to_string(info.st_size) + " bytes, more than a " + std::string(kind) + " may hold (" +
                  std::to_string(limit) + ")";
    } else {
        // To the end, which may have moved since fstat: never past the limit.
        text.resize(static_cast<std::size_t>(info.st_size));
        std::size_t got = 0;
        while (problem.empty()) {
            if (got == text.size()) text.resize(std::min(limit + 1, text.size() * 2 + 4096));
            const ssize_t n = read(fd, text.data() + got, text.size() - got);
            if (n == 0) break;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) problem = std::strerror(errno);
            if (n > 0) got += static_cast<std::size_t>(n);
            if (got > limit) problem = "grew past " + std::to_string(limit) + " bytes while it was read";
        }
        text.resize(got);
    }
    close(fd);
    if (!problem.empty()) return Error{"cannot read " + named + ": " + problem};
    return text;
}

}  // namespace xdpturn
