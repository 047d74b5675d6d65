// Writing outputs so that a failure is seen and nothing is lost: text files
// are closed and checked (a full disk shows only when the buffer is
// written), and written to a temporary file beside the output that is
// renamed into place only once it is whole, so a run that fails or dies
// midway leaves the old file as it was. A directory is made only where the
// user named a directory for output. Before any work, a command checks its
// outputs against its inputs and each other (check_outputs): an output that
// would clobber an input (`replay c.pcap --out c.pcap`) or another output is
// refused, and so is one that cannot be written.
#pragma once

#include <string>
#include <vector>

#include "relay/net/result.hpp"

namespace xdpturn {

// Writes `text` to `path` through a temporary file renamed into place (a
// device or FIFO, such as /dev/null, is written directly); the error names
// the path and why.
Status write_text_file(const std::string& path, const std::string& text);

// Makes `directory` (and its parents) if it is missing, for options that
// name an output directory (--artifacts, --counterexamples, --export).
Status ensure_directory(const std::string& directory);

// Where a whole output is first written, and how it is put in place.
class OutputFile {
  public:
    // Nothing is created yet; `staging()` is the path to write.
    explicit OutputFile(std::string path);
    OutputFile(OutputFile&& other) noexcept;
    OutputFile& operator=(OutputFile&&) = delete;
    OutputFile(const OutputFile&) = delete;
    ~OutputFile();  // without commit(): the staged file is removed
    const std::string& path() const { return path_; }
    const std::string& staging() const { return staging_; }
    // Renames the staged file onto the output.
    Status commit();

  private:
    std::string path_;
    std::string staging_;
    bool done_ = false;
};

// The paths a command reads and writes; "" entries are ignored.
struct FileRoles {
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;      // files
    std::vector<std::string> directories;  // output directories
};

// Refuses, naming the path: an output that is an input or another output
// (the same file by device and inode, or the same path), an output file
// that is a directory or an output directory that is a file, and an output
// whose directory does not exist or cannot be written.
Status check_outputs(const FileRoles& roles);

}  // namespace xdpturn
