#include "harness/datapath/flows.hpp"

#include <endian.h>

#include <algorithm>
#include <cstring>

#include "harness/frames/layout.hpp"
#include "relay/net/bytes.hpp"

namespace xdpturn::datapath {

namespace {

using layout::ethernet_bytes;
using layout::ethertype_ipv4;
using layout::ipv4_bytes;
using layout::udp_bytes;
constexpr std::uint8_t ipv4_ttl = 64;
constexpr std::uint8_t protocol_udp = 17;

void put_ipv4(MutableBytes bytes, std::size_t offset, const TransportAddress& address) {
    std::copy_n(address.address.begin(), 4, bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

// The payload with its per-frame fields zero: what the template's
// checksum covers.
std::vector<std::uint8_t> constant_payload(std::uint32_t flow, std::size_t payload_bytes) {
    std::vector<std::uint8_t> payload(payload_bytes);
    store_be32(payload, offsetof(datapath_payload, magic), DATAPATH_MAGIC);
    store_be32(payload, offsetof(datapath_payload, flow), flow);
    for (std::size_t i = payload_head_bytes; i < payload_bytes; ++i) payload[i] = fill_byte(i);
    return payload;
}

}  // namespace

// The one's complement sum of `bytes` as 16-bit words in host order, not
// folded; an odd last byte is padded with zero (RFC 1071).
std::uint64_t host_order_sum(std::span<const std::uint8_t> bytes) {
    std::uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        std::uint16_t word = 0;
        std::memcpy(&word, bytes.data() + i, sizeof(word));
        sum += word;
    }
    if (i < bytes.size()) {
        const std::uint8_t last[2] = {bytes[i], 0};
        std::uint16_t word = 0;
        std::memcpy(&word, last, sizeof(word));
        sum += word;
    }
    return sum;
}

std::uint16_t folded_complement(std::uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::vector<Flow> flows_of(std::span<const Binding> bindings) {
    std::vector<Flow> flows;
    for (const Binding& binding : bindings) {
        const auto id = static_cast<std::uint32_t>(flows.size());
        flows.push_back(
            {id, Direction::to_peer, binding.client, binding.server, binding.relayed, binding.peer, binding.channel});
        flows.push_back({id + 1, Direction::to_client, binding.peer, binding.relayed, binding.server, binding.client,
                         binding.channel});
    }
    return flows;
}

std::array<std::uint64_t, direction_count> frames_per_direction(std::uint64_t sent, std::uint32_t flow_count) {
    if (flow_count == 0) return {0, 0};
    const std::uint64_t cycles = sent / flow_count, rest = sent % flow_count;
    // Flows alternate, to_peer first: a cycle of an even count holds half
    // of each; the rest holds one more to_peer when it is odd.
    const std::uint64_t to_peer_per_cycle = (flow_count + 1) / 2;
    const std::uint64_t to_peer = cycles * to_peer_per_cycle + (rest + 1) / 2;
    return {to_peer, sent - to_peer};
}

std::uint8_t fill_byte(std::size_t payload_offset) {
    return datapath_fill_byte(static_cast<__u32>(payload_offset));
}

std::vector<std::uint8_t> initial_frame(std::size_t payload_bytes) {
    std::vector<std::uint8_t> frame(DATAPATH_HEADER_MAX + payload_bytes);
    // Bounded by the frame's own size: GCC 12 at -O2 warns (wrongly,
    // -Wstringop-overflow) about an index it cannot tie to the size.
    for (std::size_t i = DATAPATH_HEADER_MAX + payload_head_bytes; i < frame.size(); ++i)
        frame[i] = fill_byte(i - DATAPATH_HEADER_MAX);
    return frame;
}

datapath_flow flow_template(const Flow& flow, const MacAddress& source, const MacAddress& destination,
                            std::size_t payload_bytes) {
    datapath_flow result{};
    const bool channel_data = flow.direction == Direction::to_peer;
    result.with_channel_header = channel_data ? 1 : 0;
    result.flow = flow.id;
    // Headers end where the payload begins: right-aligned in `header`.
    const std::size_t udp_payload = payload_bytes + (channel_data ? DATAPATH_CHANNEL_HEADER_BYTES : 0);
    const std::size_t start = channel_data ? 0 : DATAPATH_CHANNEL_HEADER_BYTES;
    MutableBytes header(result.header + start, DATAPATH_HEADER_MAX - start);
    std::copy(destination.begin(), destination.end(), header.begin());
    std::copy(source.begin(), source.end(), header.begin() + 6);
    store_be16(header, layout::ethertype_at, ethertype_ipv4);
    const std::size_t ip = ethernet_bytes, udp = ip + ipv4_bytes;
    header[ip] = 0x45;  // version 4, 5 words: no options
    store_be16(header, ip + 2, static_cast<std::uint16_t>(ipv4_bytes + udp_bytes + udp_payload));
    header[ip + 8] = ipv4_ttl;
    header[ip + 9] = protocol_udp;
    put_ipv4(header, ip + 12, flow.from);
    put_ipv4(header, ip + 16, flow.to);
    // Checksums summed and stored in host order come out right in either
    // byte order (RFC 1071, section 2(B)).
    std::uint16_t ip_checksum = folded_complement(host_order_sum(Bytes(header.data() + ip, ipv4_bytes)));
    std::memcpy(header.data() + ip + 10, &ip_checksum, sizeof(ip_checksum));
    store_be16(header, udp, flow.from.port);
    store_be16(header, udp + 2, flow.to.port);
    store_be16(header, udp + 4, static_cast<std::uint16_t>(udp_bytes + udp_payload));
    if (channel_data) {
        store_be16(header, udp + udp_bytes, flow.channel);
        store_be16(header, udp + udp_bytes + 2, static_cast<std::uint16_t>(payload_bytes));
    }
    // The UDP checksum's fixed part: pseudo header, UDP header (checksum
    // zero), channel header, the payload's constant bytes.
    std::uint8_t pseudo[12] = {};
    std::copy_n(flow.from.address.begin(), 4, pseudo);
    std::copy_n(flow.to.address.begin(), 4, pseudo + 4);
    pseudo[9] = protocol_udp;
    store_be16(MutableBytes(pseudo, sizeof(pseudo)), 10, static_cast<std::uint16_t>(udp_bytes + udp_payload));
    result.checksum_partial = host_order_sum(pseudo) + host_order_sum(Bytes(header.data() + udp, header.size() - udp)) +
                              host_order_sum(constant_payload(flow.id, payload_bytes));
    return result;
}

std::vector<std::uint8_t> frame_of(const datapath_flow& made, std::size_t payload_bytes) {
    const std::size_t start = made.with_channel_header ? 0 : DATAPATH_CHANNEL_HEADER_BYTES;
    const std::size_t headers = DATAPATH_HEADER_MAX - start;
    std::vector<std::uint8_t> frame(headers + payload_bytes);
    std::copy_n(made.header + start, headers, frame.begin());
    return frame;
}

void stamp_frame(std::span<std::uint8_t> frame, std::uint64_t checksum_partial, std::size_t payload_bytes,
                 std::uint32_t flow, std::uint32_t step, std::uint64_t seq, std::uint64_t sent_ns) {
    const std::span<std::uint8_t> payload = frame.last(payload_bytes);
    write_payload(payload, flow, step, seq, sent_ns);
    std::uint64_t sum = checksum_partial;
    sum += host_order_sum(payload.subspan(offsetof(datapath_payload, step), 2 * sizeof(std::uint32_t)));
    sum += host_order_sum(payload.subspan(offsetof(datapath_payload, flow_seq), 2 * sizeof(std::uint64_t)));
    std::uint16_t checksum = folded_complement(sum);
    if (checksum == 0) checksum = 0xFFFF;  // 0 means "no checksum" over IPv4 (RFC 768)
    std::memcpy(frame.data() + ethernet_bytes + ipv4_bytes + 6, &checksum, sizeof(checksum));
}

void write_payload(std::span<std::uint8_t> payload, std::uint32_t flow, std::uint32_t step, std::uint64_t flow_seq,
                   std::uint64_t sent_ns) {
    datapath_payload head{};
    head.magic = htobe32(DATAPATH_MAGIC);
    head.flow = htobe32(flow);
    head.step = htobe32(step);
    head.check = htobe32(datapath_check(flow, step, flow_seq, sent_ns));
    head.flow_seq = htobe64(flow_seq);
    head.sent_ns = htobe64(sent_ns);
    std::memcpy(payload.data(), &head, sizeof(head));
    for (std::size_t i = payload_head_bytes; i < payload.size(); ++i) payload[i] = fill_byte(i);
}

PayloadCheck check_payload(std::span<const std::uint8_t> payload, std::size_t expected_bytes) {
    if (payload.size() != expected_bytes)
        return {std::nullopt, "length " + std::to_string(payload.size()) + ", sent " + std::to_string(expected_bytes)};
    datapath_payload head{};
    std::memcpy(&head, payload.data(), sizeof(head));
    if (be32toh(head.magic) != DATAPATH_MAGIC) return {std::nullopt, "not the benchmark's payload (magic)"};
    PayloadFields fields{be32toh(head.flow), be32toh(head.step), be64toh(head.flow_seq), be64toh(head.sent_ns)};
    if (be32toh(head.check) != datapath_check(fields.flow, fields.step, fields.flow_seq, fields.sent_ns))
        return {std::nullopt, "head fields changed on the way (check)"};
    for (std::size_t i = payload_head_bytes; i < payload.size(); ++i)
        if (payload[i] != fill_byte(i)) return {std::nullopt, "payload byte " + std::to_string(i) + " changed"};
    return {fields, {}};
}

}  // namespace xdpturn::datapath
