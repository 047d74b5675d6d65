// Turns an input of the differential target (a finding or a corpus entry)
// into a capture and a binding file that `xdpturn replay` reads:
//   fuzz_to_replay INPUT STEM   ->  STEM.pcap, STEM.json
//   xdpturn replay STEM.pcap --bindings STEM.json [--object FILE.bpf.o]
#include <fstream>
#include <iostream>
#include <iterator>

#include "differential_input.hpp"
#include "harness/io/bindings_json.hpp"
#include "harness/io/output_files.hpp"
#include "harness/io/pcap_out.hpp"

using namespace xdpturn;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: fuzz_to_replay INPUT STEM\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    const std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fuzz::DifferentialInput input;
    if (!in.is_open() || !fuzz::decode_differential_input(data, input)) {
        std::cerr << "fuzz_to_replay: cannot read " << argv[1] << "\n";
        return 2;
    }
    const std::string stem = argv[2];
    auto writer = PcapWriter::create(stem + ".pcap");
    if (!writer || !writer->write(input.frame) || !writer->close()) {
        std::cerr << "fuzz_to_replay: cannot write " << stem << ".pcap\n";
        return 2;
    }
    if (!write_text_file(stem + ".json", bindings_json(input.config, input.bindings).dump(2) + "\n")) {
        std::cerr << "fuzz_to_replay: cannot write " << stem << ".json\n";
        return 2;
    }
    std::cout << "xdpturn replay " << stem << ".pcap --bindings " << stem << ".json\n";
    return 0;
}
