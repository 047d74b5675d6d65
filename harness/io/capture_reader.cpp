#include "harness/io/capture_reader.hpp"

#include <cstdio>

#include <pcap/pcap.h>

namespace xdpturn {

void CaptureReader::Closer::operator()(pcap_t* handle) const {
    pcap_close(handle);
}

Result<CaptureReader> CaptureReader::open(const std::string& path) {
    char error[PCAP_ERRBUF_SIZE] = {};
    CaptureReader reader;
    reader.path_ = path;
    reader.handle_.reset(pcap_open_offline(path.c_str(), error));
    if (!reader.handle_) return Error{"cannot read capture '" + path + "': " + error};
    return reader;
}

Result<std::optional<CapturedFrame>> CaptureReader::next() {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    switch (pcap_next_ex(handle_.get(), &header, &data)) {
        case 1:
            return std::optional<CapturedFrame>(CapturedFrame{Bytes(data, header->caplen), header->len,
                                                              static_cast<std::uint64_t>(header->ts.tv_sec) * 1000000u +
                                                                  static_cast<std::uint64_t>(header->ts.tv_usec)});
        case PCAP_ERROR_BREAK: return std::optional<CapturedFrame>{};
        default: return Error{"capture '" + path_ + "' is truncated or corrupt: " + pcap_geterr(handle_.get())};
    }
}

int CaptureReader::link_type() const {
    return pcap_datalink(handle_.get());
}

std::string CaptureReader::link_type_name() const {
    const char* name = pcap_datalink_val_to_name(link_type());
    return name != nullptr ? name : "link type " + std::to_string(link_type());
}

std::uint64_t CaptureReader::bytes_read() const {
    FILE* file = pcap_file(handle_.get());
    const long position = file != nullptr ? std::ftell(file) : -1;
    return position > 0 ? static_cast<std::uint64_t>(position) : 0;
}

}  // namespace xdpturn
