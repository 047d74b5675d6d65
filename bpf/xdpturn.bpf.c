// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP TURN relay data path: IPv4 ChannelData -> UDP to the peer.
 *
 * A ChannelData message from a bound client to the TURN port is rewritten
 * in place into the UDP datagram the relay would send to the peer and sent
 * back out with XDP_TX. Every other frame is passed to the stack untouched.
 * docs/datapath.md is the contract: each test below is one of its rows, in
 * the same order, with the same reason code.
 *
 * This is the fast implementation: the checksums are updated incrementally
 * (RFC 1624) and the headers are moved forward over the 4-byte channel
 * header instead of moving the payload. The reference model in relay/ builds
 * the same output the slow, obvious way; the harness compares the two.
 *
 * Build-time mutants: XDPTURN_MUTANT_* macros plant one known bug each
 * (XDPTURN_MUTANTS in bpf/CMakeLists.txt); the normal build defines none of them.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdpturn_abi.h"

/* IPv4 flags/fragment field (RFC 791): more-fragments bit and offset mask. */
#define IPV4_MORE_FRAGMENTS 0x2000
#define IPV4_FRAGMENT_OFFSET_MASK 0x1fff
#define IPV4_VERSION 4
/* IHL counts 32-bit words; 5 words is the header without options. */
#define IPV4_IHL_WITHOUT_OPTIONS 5
#define IPV4_HEADER_WORDS16 (sizeof(struct iphdr) / sizeof(__u16))

/*
 * Linear XDP frames fit in one page, so every in-frame offset is below
 * 4096. Masking an offset that is already bounded by the frame length does
 * not change its value; it gives the verifier the upper bound it cannot
 * derive from the comparisons alone.
 */
#define LINEAR_FRAME_OFFSET_MASK 0x1fff

struct channel_data_header {
	__be16 number;
	__be16 length;
};

/* Configuration: written by user space into .rodata before load. */
const volatile __u16 turn_port = 0;
const volatile __u16 channel_min = 0;
const volatile __u16 channel_max = 0;

/* Reason of the latest verdict, read by the test harness through mmap. */
__u32 last_reason = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPTURN_MAX_BINDINGS);
	__type(key, struct xdpturn_binding_key);
	__type(value, struct xdpturn_binding_value);
} bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPTURN_REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} reason_counters SEC(".maps");

static __always_inline int finish(int verdict, enum xdpturn_reason reason)
{
	__u32 key = reason;
	__u64 *counter = bpf_map_lookup_elem(&reason_counters, &key);

	if (counter)
		*counter += 1;
	last_reason = reason;
	return verdict;
}

/*
 * One's-complement arithmetic on 16-bit words in host order, accumulated in
 * 32 bits and folded at the end. A few dozen terms cannot overflow 32 bits.
 */
static __always_inline __u32 csum_add(__u32 sum, __u16 word)
{
	return sum + word;
}

static __always_inline __u32 csum_sub(__u32 sum, __u16 word)
{
	return sum + (__u16)~word;
}

static __always_inline __u32 csum_add_addr(__u32 sum, __be32 addr)
{
	__u32 host = bpf_ntohl(addr);

	return sum + (host >> 16) + (host & 0xffff);
}

static __always_inline __u32 csum_sub_addr(__u32 sum, __be32 addr)
{
	__u32 host = bpf_ntohl(addr);

	return csum_sub(csum_sub(sum, host >> 16), host & 0xffff);
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static __always_inline int ipv4_header_checksum_ok(const struct iphdr *ip)
{
	const __u16 *word = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (__u32 i = 0; i < IPV4_HEADER_WORDS16; i++)
		sum = csum_add(sum, bpf_ntohs(word[i]));
	return csum_fold(sum) == 0xffff;
}

/* Starts an RFC 1624 update: HC' = ~(~HC + ~m + m'). */
static __always_inline __u32 csum_update_begin(__be16 old_check)
{
	return (__u16)~bpf_ntohs(old_check);
}

static __always_inline __be16 csum_update_end(__u32 sum)
{
	return bpf_htons((__u16)~csum_fold(sum));
}

/*
 * Removes the channel padding bytes (at most 3) from a UDP checksum sum.
 * Each byte counts as the high or low half of a 16-bit word depending on
 * its offset from the start of the UDP header.
 */
static __always_inline __u32 csum_sub_padding(__u32 sum, const struct udphdr *udp, __u16 app_len,
					      __u16 padding, const void *data_end)
{
#pragma unroll
	for (__u16 i = 0; i < XDPTURN_MAX_CHANNEL_PADDING; i++) {
		__u32 offset = sizeof(struct udphdr) + XDPTURN_CHANNEL_HEADER_BYTES + app_len + i;
		const __u8 *byte = (const __u8 *)udp + (offset & LINEAR_FRAME_OFFSET_MASK);

		/* The bounds test cannot fail: the padding lies inside the IPv4
		 * total length, which the caller checked against the frame. */
		if (i < padding && (const void *)(byte + 1) <= data_end)
			sum = csum_sub(sum, (offset & 1) ? *byte : (__u16)(*byte << 8));
	}
	return sum;
}

/* The headers kept in the output, copied out of the frame (not packed:
 * on the stack each header keeps its natural alignment). */
struct relay_headers {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
};

#define RELAY_HEADERS_BYTES (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
#ifndef XDPTURN_MUTANT_MACS_NOT_SWAPPED
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
#endif
}

static __always_inline void
rewrite_ipv4(struct iphdr *ip, const struct xdpturn_binding_value *target, __be16 new_total_length)
{
	__be32 old_saddr = ip->saddr;
	__be32 old_daddr = ip->daddr;
	__be16 old_total_length = ip->tot_len;
	__u32 sum = csum_update_begin(ip->check);

	ip->saddr = old_daddr; /* the address the frame arrived on */
	ip->daddr = target->peer_addr;
	ip->tot_len = new_total_length;

	sum = csum_sub_addr(sum, old_saddr);
	sum = csum_sub_addr(sum, old_daddr);
	sum = csum_sub(sum, bpf_ntohs(old_total_length));
	sum = csum_add_addr(sum, ip->saddr);
	sum = csum_add_addr(sum, ip->daddr);
	sum = csum_add(sum, bpf_ntohs(ip->tot_len));
	ip->check = csum_update_end(sum);
}

/*
 * UDP checksum update for everything that changes: the pseudo-header
 * addresses and length, both ports, the length field, the removed channel
 * header words and the removed padding. Uses the header values before the
 * IPv4 rewrite (old_*) and after it (new_*).
 */
static __always_inline void rewrite_udp(struct udphdr *udp,
					const struct xdpturn_binding_value *target,
					const struct iphdr *old_ip, const struct iphdr *new_ip,
					const struct channel_data_header *channel,
					__be16 new_udp_length, __u32 padding_sum_removed)
{
	__be16 old_source = udp->source;
	__be16 old_dest = udp->dest;
	__be16 old_length = udp->len;
	__be16 old_check = udp->check;

	udp->source = target->allocation_port;
	udp->dest = target->peer_port;
	udp->len = new_udp_length;

	/* A zero UDP checksum means "none" (RFC 768): it stays zero. */
	if (old_check == 0)
		return;

	__u32 sum = csum_update_begin(old_check);
	/* Pseudo-header: addresses and UDP length. */
	sum = csum_sub_addr(sum, old_ip->saddr);
	sum = csum_sub_addr(sum, old_ip->daddr);
	sum = csum_sub(sum, bpf_ntohs(old_length));
	sum = csum_add_addr(sum, new_ip->saddr);
	sum = csum_add_addr(sum, new_ip->daddr);
	sum = csum_add(sum, bpf_ntohs(new_udp_length));
	/* UDP header. */
#ifdef XDPTURN_MUTANT_PORTS_NOT_IN_CHECKSUM
	__be16 summed_source = old_source, summed_dest = old_dest;
#else
	__be16 summed_source = udp->source, summed_dest = udp->dest;
#endif
	sum = csum_sub(sum, bpf_ntohs(old_source));
	sum = csum_sub(sum, bpf_ntohs(old_dest));
	sum = csum_add(sum, bpf_ntohs(summed_source));
	sum = csum_add(sum, bpf_ntohs(summed_dest));
	sum = csum_sub(sum, bpf_ntohs(old_length));
	sum = csum_add(sum, bpf_ntohs(new_udp_length));
	/* The channel header words leave the datagram. */
#ifdef XDPTURN_MUTANT_CHANNEL_HEADER_IN_CHECKSUM
	(void)channel;
#else
	sum = csum_sub(sum, bpf_ntohs(channel->number));
	sum = csum_sub(sum, bpf_ntohs(channel->length));
#endif
	sum += padding_sum_removed; /* already in complemented form */

	__be16 check = csum_update_end(sum);
#ifndef XDPTURN_MUTANT_ZERO_CHECKSUM_SENT
	/* A computed 0 must be sent as 0xFFFF: 0 would mean "no checksum". */
	if (check == 0)
		check = 0xffff;
#endif
	udp->check = check;
}

/*
 * Rewrites the frame into the UDP datagram for the peer and returns XDP_TX.
 * Nothing is written before the last test that can still pass the frame:
 * the new headers are built on the stack first, the tail is trimmed, the
 * head moved, and only then are the headers stored.
 */
static __always_inline int relay_to_peer(struct xdp_md *ctx, const struct relay_headers *in,
					 const struct channel_data_header *channel,
					 const struct xdpturn_binding_value *target, __u16 app_len,
					 __u32 padding_sum_removed)
{
	struct relay_headers out = *in;
	__u16 udp_length = sizeof(struct udphdr) + app_len;

	swap_macs(&out.eth);
	rewrite_ipv4(&out.ip, target, bpf_htons(sizeof(struct iphdr) + udp_length));
	rewrite_udp(&out.udp, target, &in->ip, &out.ip, channel, bpf_htons(udp_length),
		    padding_sum_removed);

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* Input frame length without the channel header and without anything
	 * after the relayed data (channel padding, Ethernet trailer). */
	__u32 kept = RELAY_HEADERS_BYTES + XDPTURN_CHANNEL_HEADER_BYTES + app_len;
	__u32 frame = data_end - data;

#ifdef XDPTURN_MUTANT_PADDING_RELAYED
	kept += bpf_ntohs(in->udp.len) - sizeof(struct udphdr) - XDPTURN_CHANNEL_HEADER_BYTES -
		app_len;
#endif
	if (frame > kept && bpf_xdp_adjust_tail(ctx, -(int)(frame - kept)))
		return finish(XDP_PASS, XDPTURN_REASON_REWRITE_FAILED);
	/* From here on the frame has changed: a failure must not reach the stack. */
	if (bpf_xdp_adjust_head(ctx, XDPTURN_CHANNEL_HEADER_BYTES))
		return finish(XDP_DROP, XDPTURN_REASON_REWRITE_FAILED);

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return finish(XDP_DROP, XDPTURN_REASON_REWRITE_FAILED);
	__builtin_memcpy(eth, &out.eth, sizeof(*eth));
	__builtin_memcpy(ip, &out.ip, sizeof(*ip));
	__builtin_memcpy(udp, &out.udp, sizeof(*udp));
	return finish(XDP_TX, XDPTURN_REASON_RELAYED);
}

static __always_inline int channel_in_range(__u16 channel)
{
#ifdef XDPTURN_MUTANT_RANGE_HALF_OPEN
	return channel >= channel_min && channel < channel_max;
#else
	return channel >= channel_min && channel <= channel_max;
#endif
}

SEC("xdp")
int xdpturn_relay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_ETHERNET);
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
		return finish(XDP_PASS, XDPTURN_REASON_VLAN_TAGGED);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return finish(XDP_PASS, XDPTURN_REASON_NOT_IPV4);

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_IPV4);
	if (ip->version != IPV4_VERSION)
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_VERSION);
#ifndef XDPTURN_MUTANT_OPTIONS_NOT_PASSED
	if (ip->ihl != IPV4_IHL_WITHOUT_OPTIONS)
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_OPTIONS);
#endif
	if (ip->frag_off & bpf_htons(IPV4_MORE_FRAGMENTS | IPV4_FRAGMENT_OFFSET_MASK))
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_FRAGMENT);
	if (ip->protocol != IPPROTO_UDP)
		return finish(XDP_PASS, XDPTURN_REASON_NOT_UDP);

	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_UDP);
	if (udp->dest != bpf_htons(turn_port))
		return finish(XDP_PASS, XDPTURN_REASON_WRONG_PORT);

	__u16 ip_length = bpf_ntohs(ip->tot_len);
	__u64 ip_bytes_in_frame = data_end - (void *)ip;
	if (ip_length < sizeof(*ip) + sizeof(*udp) || ip_length > ip_bytes_in_frame)
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_LENGTH);
	__u16 udp_length = bpf_ntohs(udp->len);
	if (udp_length != ip_length - sizeof(*ip))
		return finish(XDP_PASS, XDPTURN_REASON_UDP_LENGTH);
	if (!ipv4_header_checksum_ok(ip))
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_CHECKSUM);

	/* Both tests reach one row: the first is the contract (the datagram
	 * is too short), the second the bounds check the verifier needs. */
	struct channel_data_header *channel = (void *)(udp + 1);
	if (udp_length < sizeof(*udp) + sizeof(*channel))
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_CHANNEL);
	if ((void *)(channel + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_CHANNEL);

	if (!channel_in_range(bpf_ntohs(channel->number)))
		return finish(XDP_PASS, XDPTURN_REASON_CHANNEL_RANGE);
	__u16 app_len = bpf_ntohs(channel->length);
	__u16 channel_payload = udp_length - sizeof(*udp) - sizeof(*channel);
	if (app_len > channel_payload)
		return finish(XDP_PASS, XDPTURN_REASON_CHANNEL_LENGTH);
	__u16 padding = channel_payload - app_len;
	if (padding > XDPTURN_MAX_CHANNEL_PADDING)
		return finish(XDP_PASS, XDPTURN_REASON_CHANNEL_PADDING);

	struct xdpturn_binding_key key = {
		.client_addr = ip->saddr,
		.client_port = udp->source,
		.channel = channel->number,
	};
	struct xdpturn_binding_value *target = bpf_map_lookup_elem(&bindings, &key);
	if (!target)
		return finish(XDP_PASS, XDPTURN_REASON_NO_BINDING);

	__u32 padding_sum_removed = 0;
	if (udp->check != 0)
		padding_sum_removed = csum_sub_padding(0, udp, app_len, padding, data_end);

	struct relay_headers in;
	__builtin_memcpy(&in.eth, eth, sizeof(in.eth));
	__builtin_memcpy(&in.ip, ip, sizeof(in.ip));
	__builtin_memcpy(&in.udp, udp, sizeof(in.udp));
	struct channel_data_header channel_copy = *channel;
	return relay_to_peer(ctx, &in, &channel_copy, target, app_len, padding_sum_removed);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
