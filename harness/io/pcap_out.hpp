// Writes Ethernet frames to a pcap file (libpcap), for failing cases and
// `--out`-style outputs. Files open in Wireshark and tcpdump. The file is
// written beside its path and put in place by close(): a writer dropped
// without close() (a run that failed) leaves the old file as it was, so
// every writer that finishes must call close().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "harness/io/output_files.hpp"
#include "relay/net/bytes.hpp"
#include "relay/net/result.hpp"

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;

namespace xdpturn {

class PcapWriter {
  public:
    static Result<PcapWriter> create(const std::string& path);

    Status write(Bytes frame);
    // Writes a frame as if the capture's snap length had cut it: the record
    // says `original_length` bytes were on the wire.
    Status write_cut(Bytes frame, std::uint32_t original_length);
    // Flushes, closes and puts the file in place.
    Status close();
    const std::string& path() const { return output_.path(); }

  private:
    struct PcapCloser {
        void operator()(pcap_t* handle) const;
    };
    struct DumperCloser {
        void operator()(pcap_dumper_t* dumper) const;
    };
    explicit PcapWriter(std::string path) : output_(std::move(path)) {}

    OutputFile output_;  // declared first: the staged file is removed after the dumper closed it
    std::unique_ptr<pcap_t, PcapCloser> handle_;
    std::unique_ptr<pcap_dumper_t, DumperCloser> dumper_;  // declared last: closed first
    unsigned frames_ = 0;
};

}  // namespace xdpturn
