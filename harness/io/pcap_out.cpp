#include "harness/io/pcap_out.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xdpturn {

namespace {
constexpr int snapshot_length = 65535;
}

void PcapWriter::PcapCloser::operator()(pcap_t* handle) const {
    pcap_close(handle);
}
void PcapWriter::DumperCloser::operator()(pcap_dumper_t* dumper) const {
    pcap_dump_close(dumper);
}

Result<PcapWriter> PcapWriter::create(const std::string& path) {
    PcapWriter writer(path);
    writer.handle_.reset(pcap_open_dead(DLT_EN10MB, snapshot_length));
    if (!writer.handle_) return Error{"cannot create a pcap handle"};
    writer.dumper_.reset(pcap_dump_open(writer.handle_.get(), writer.output_.staging().c_str()));
    if (!writer.dumper_) return Error{"cannot write pcap '" + path + "': " + pcap_geterr(writer.handle_.get())};
    // The file header is buffered: flush it now, so an unwritable file (a
    // full disk, /dev/full) is an error here, not silence later.
    if (pcap_dump_flush(writer.dumper_.get()) != 0)
        return Error{"cannot write pcap '" + path + "': " + std::strerror(errno)};
    return writer;
}

Status PcapWriter::write(Bytes frame) {
    return write_cut(frame, static_cast<std::uint32_t>(frame.size()));
}

Status PcapWriter::write_cut(Bytes frame, std::uint32_t original_length) {
    pcap_pkthdr header{};
    // Frames get consecutive seconds, so Wireshark shows them in order.
    header.ts.tv_sec = frames_++;
    header.caplen = static_cast<bpf_u_int32>(frame.size());
    header.len = std::max<bpf_u_int32>(header.caplen, original_length);
    pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &header, frame.data());
    if (pcap_dump_flush(dumper_.get()) != 0)
        return Error{"cannot write pcap '" + path() + "': " + std::strerror(errno)};
    return ok_status();
}

Status PcapWriter::close() {
    if (!dumper_) return Error{"pcap '" + path() + "' closed twice"};
    const bool flushed = pcap_dump_flush(dumper_.get()) == 0;
    dumper_.reset();
    if (!flushed) return Error{"cannot write pcap '" + path() + "': " + std::strerror(errno)};
    return output_.commit();
}

}  // namespace xdpturn
