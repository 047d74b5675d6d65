// A pcapng file whose every packet carries a comment (the EPB's
// opt_comment), for captures that must explain themselves: a saved
// counterexample's frames say which is the input, the reference's output
// and the program's, with the verdicts and the fields that differ, and
// Wireshark shows it (Packet comments) without the JSON beside it.
// libpcap writes pcap only, so the three block types needed are written
// here (draft-ietf-opsawg-pcapng: SHB, one Ethernet IDB, EPBs), in this
// machine's byte order, which the section header's magic announces.
// Blocks go straight to the file, so memory stays flat however many are
// written; as with PcapWriter, the file is put in place by close().
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "harness/io/output_files.hpp"
#include "relay/net/bytes.hpp"
#include "relay/net/result.hpp"

namespace xdpturn {

class PcapngWriter {
  public:
    static Result<PcapngWriter> create(const std::string& path);

    // The next packet, with its comment (UTF-8; none when empty; cut at
    // 65,535 bytes, an option's limit).
    Status write(Bytes frame, const std::string& comment);
    // Flushes, closes and puts the file in place.
    Status close();
    const std::string& path() const { return output_.path(); }

  private:
    explicit PcapngWriter(std::string path) : output_(std::move(path)) {}
    Status put_block(std::uint32_t type, const std::string& body);

    OutputFile output_;
    std::unique_ptr<std::ofstream> out_;
    std::uint32_t packets_ = 0;
};

}  // namespace xdpturn
