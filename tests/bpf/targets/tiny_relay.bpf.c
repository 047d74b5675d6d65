// SPDX-License-Identifier: GPL-2.0
// A second target for the description format, unlike both our program and
// pion/turn's on purpose: IPv4 client -> peer only, configured through an
// array map instead of .rodata, its binding key led by the channel number,
// its maps pinned by name (the loader must switch that off), XDP_TX with the
// TTL decremented like a router, and no reason codes.
//
// One defect is planted, and the conformance tests must find it: the
// ChannelData Length field is never read, so the whole UDP payload after the
// 4-byte header is relayed, padding included, and a Length longer than the
// datagram is not noticed. Built with -DTINY_READS_LENGTH it reads the
// Length as RFC 8656 says, and must then conform: the oracle finds the
// planted defect, not the program's other differences from ours. With
// -DTINY_NO_UDP_CHECKSUM as well it sends every datagram without a UDP
// checksum, which RFC 768 allows over IPv4: a policy the oracle reports in
// a class of its own, a defect only under --strict-checksums. With
// -DTINY_TOS_CLEARED it clears TOS as well: a second defect of the first's
// class (wrong bytes), which check must keep apart from it.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdpturn_bounds.h"

struct tiny_config {
	__be16 turn_port;
	__u16 channel_min;    /* host order */
	__u16 channel_max;    /* host order */
	__u16 relay_port_min; /* host order */
	__u16 relay_port_max; /* host order */
	__u16 unused;
};

struct tiny_key {
	__be16 channel;
	__be16 client_port;
	__be32 client_addr;
};

struct tiny_peer {
	__be32 peer_addr;
	__be16 peer_port;
	__be16 allocation_port;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tiny_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tiny_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tiny_key);
	__type(value, struct tiny_peer);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tiny_channels SEC(".maps");

#define HEADERS_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define CHANNEL_HEADER_LEN 4
#define TINY_MAX_FRAME 4096

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* RFC 1624 eqn. 3 for one 16-bit word: HC' = ~(~HC + ~m + m'). */
static __always_inline __u16 csum_replace(__u16 check, __u16 old, __u16 new)
{
	return ~fold((__u16)~check + (__u16)~old + new);
}

static __always_inline __u16 csum_replace32(__u16 check, __be32 old, __be32 new)
{
	check = csum_replace(check, old >> 16, new >> 16);
	return csum_replace(check, old & 0xffff, new & 0xffff);
}

static __always_inline __u16 ipv4_header_checksum(const struct iphdr *ip)
{
	const __u16 *word = (const __u16 *)ip;
	__u32 sum = 0;

	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += word[i];
	return ~fold(sum);
}

/* The frame as the relay accepts it: Ethernet, IPv4 without options or
 * fragments, UDP to the TURN port, lengths that agree with the frame. */
static __always_inline int accepted(void *data, void *data_end, const struct tiny_config *config)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) + CHANNEL_HEADER_LEN > data_end)
		return 0;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 || ip->ihl != 5)
		return 0;
	if (ip->frag_off & bpf_htons(0x3fff) || ip->protocol != IPPROTO_UDP || ip->ttl <= 1)
		return 0;
	if (udp->dest != config->turn_port || ipv4_header_checksum(ip) != 0)
		return 0;
	if (bpf_ntohs(ip->tot_len) != bpf_ntohs(udp->len) + sizeof(*ip) ||
	    (void *)ip + ntohs_bounded(ip->tot_len) > data_end ||
	    bpf_ntohs(udp->len) < sizeof(*udp) + CHANNEL_HEADER_LEN)
		return 0;
	return 1;
}

SEC("xdp")
int tiny_relay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct tiny_config *config = bpf_map_lookup_elem(&tiny_config, &zero);

	if (!config || !accepted(data, data_end, config))
		return XDP_PASS;

	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__be32 *channel_header = (void *)(udp + 1);
	__u16 channel = bpf_ntohl(*channel_header) >> 16;

	if (channel < config->channel_min || channel > config->channel_max)
		return XDP_PASS;
	struct tiny_key key = {.channel = bpf_htons(channel),
			       .client_port = udp->source,
			       .client_addr = ip->saddr};
	struct tiny_peer *peer = bpf_map_lookup_elem(&tiny_channels, &key);
	if (!peer)
		return XDP_PASS;
	/* A peer that is one of this relay's own allocations: user space's. */
	__u16 peer_port = bpf_ntohs(peer->peer_port);
	if (peer->peer_addr == ip->daddr && peer_port >= config->relay_port_min &&
	    peer_port <= config->relay_port_max)
		return XDP_PASS;

	__u16 trim = 0; /* padding left behind the output's IP packet */
#ifdef TINY_READS_LENGTH
	__u16 length = bpf_ntohl(*channel_header) & 0xffff;
	__u16 data_len = bpf_ntohs(udp->len) - sizeof(*udp) - CHANNEL_HEADER_LEN;

	if (length > data_len || data_len - length > 3)
		return XDP_PASS;
	trim = data_len - length;
	__u32 padding_sum = 0; /* the padding's share of the UDP checksum, folded below */
	const __u32 padding_at = HEADERS_LEN + CHANNEL_HEADER_LEN + length;
	/* Read in place, as 5.10 has no bpf_xdp_load_bytes (5.18); the bound
	 * lets every verifier add the offset to a packet pointer. No frame a
	 * test run takes is this long. */
	if (padding_at > TINY_MAX_FRAME)
		return XDP_PASS;
	for (int i = 0; i < 3 && i < trim; i++) {
		const __u8 *padding = data + padding_at + i;
		const __u8 *after = padding + 1;

		/* Hidden from the compiler, which would otherwise test
		 * "padding > data_end - 1": arithmetic on data_end, which
		 * every verifier refuses. */
		asm volatile("" : "+r"(after));
		if ((void *)after > data_end)
			return XDP_PASS;
		__u8 byte = *padding;
		/* UDP offset 12 + length + i: even offsets hold a word's first byte */
		padding_sum += ((length + i) % 2 == 0) ? byte : (__u32)byte << 8;
	}
#endif
	/* The output's headers, built before anything moves. */
	struct ethhdr out_eth;
	struct iphdr out_ip = *ip;
	struct udphdr out_udp = *udp;
	__be32 removed = *channel_header;

	__builtin_memcpy(out_eth.h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(out_eth.h_source, eth->h_dest, ETH_ALEN);
	out_eth.h_proto = eth->h_proto;
	out_ip.saddr = ip->daddr;
	out_ip.daddr = peer->peer_addr;
	out_ip.ttl = ip->ttl - 1;
	out_ip.tot_len = bpf_htons(bpf_ntohs(ip->tot_len) - CHANNEL_HEADER_LEN - trim);
#ifdef TINY_TOS_CLEARED
	out_ip.tos = 0; /* a second planted defect, of the same class as the first */
#endif
	out_ip.check = 0;
	out_ip.check = ipv4_header_checksum(&out_ip);
	out_udp.source = peer->allocation_port;
	out_udp.dest = peer->peer_port;
	out_udp.len = bpf_htons(bpf_ntohs(udp->len) - CHANNEL_HEADER_LEN - trim);
	if (udp->check) {
		__u16 check = udp->check;

		check = csum_replace32(check, ip->saddr, out_ip.saddr);
		check = csum_replace32(check, ip->daddr, out_ip.daddr);
		check = csum_replace(check, udp->source, out_udp.source);
		check = csum_replace(check, udp->dest, out_udp.dest);
		/* the length is in the header and in the pseudo-header */
		check = csum_replace(check, udp->len, out_udp.len);
		check = csum_replace(check, udp->len, out_udp.len);
		check = csum_replace32(check, removed, 0);
#ifdef TINY_READS_LENGTH
		check = csum_replace(check, fold(padding_sum), 0);
#endif
		out_udp.check = check ? check : 0xffff;
	}
#ifdef TINY_NO_UDP_CHECKSUM
	out_udp.check = 0;
#endif

	if (bpf_xdp_adjust_head(ctx, CHANNEL_HEADER_LEN))
		return XDP_ABORTED; /* the frame was not changed; the stack may not take it */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + HEADERS_LEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, &out_eth, sizeof(out_eth));
	__builtin_memcpy(data + sizeof(out_eth), &out_ip, sizeof(out_ip));
	__builtin_memcpy(data + sizeof(out_eth) + sizeof(out_ip), &out_udp, sizeof(out_udp));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
