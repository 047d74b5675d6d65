// Streams frames out of a pcap or pcapng file (libpcap), one at a time, so
// a capture of any size is read in constant memory.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "relay/net/bytes.hpp"
#include "relay/net/result.hpp"

typedef struct pcap pcap_t;

namespace xdpturn {

struct CapturedFrame {
    Bytes bytes;                    // valid until the next call to next()
    std::uint32_t original_length;  // length on the wire; > bytes.size() if the snap length cut it
    std::uint64_t timestamp_us;
};

class CaptureReader {
  public:
    static Result<CaptureReader> open(const std::string& path);

    // The next frame, nothing at the end of the file, or an error for a
    // truncated or corrupt file.
    Result<std::optional<CapturedFrame>> next();

    int link_type() const;
    // How far into the file reading has come, in bytes (for progress).
    std::uint64_t bytes_read() const;
    std::string link_type_name() const;
    const std::string& path() const { return path_; }

  private:
    struct Closer {
        void operator()(pcap_t* handle) const;
    };
    CaptureReader() = default;

    std::unique_ptr<pcap_t, Closer> handle_;
    std::string path_;
};

}  // namespace xdpturn
