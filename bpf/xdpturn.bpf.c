// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP TURN relay data path over IPv4, both directions.
 *
 * A ChannelData message from a bound client to the TURN port is rewritten
 * in place into the UDP datagram the relay would send to the peer; a UDP
 * datagram from a peer to an allocation port with a channel bound to that
 * peer is rewritten into the ChannelData message the relay would send to
 * the client. Both go back out with XDP_TX. Every other frame is passed to
 * the stack untouched.
 * docs/datapath.md is the contract: each test below is one of its rows, in
 * the same order, with the same reason code.
 *
 * This is the fast implementation: the checksums are updated incrementally
 * (RFC 1624) and the headers are moved over the 4-byte channel header (4
 * bytes forward to strip it, 4 bytes back to add it) instead of moving the
 * payload. The reference model in relay/ builds
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
const volatile __u16 relay_port_min = 0;
const volatile __u16 relay_port_max = 0;
const volatile __u16 mtu = 0;

/* Reason of the latest verdict, read by the test harness through mmap. */
__u32 last_reason = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPTURN_MAX_BINDINGS);
	__type(key, struct xdpturn_binding_key);
	__type(value, struct xdpturn_binding_value);
} bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPTURN_MAX_BINDINGS);
	__type(key, struct xdpturn_peer_key);
	__type(value, struct xdpturn_peer_value);
} channels_by_peer SEC(".maps");

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

static __always_inline void copy_headers(struct relay_headers *copy, const struct ethhdr *eth,
					 const struct iphdr *ip, const struct udphdr *udp)
{
	__builtin_memcpy(&copy->eth, eth, sizeof(copy->eth));
	__builtin_memcpy(&copy->ip, ip, sizeof(copy->ip));
	__builtin_memcpy(&copy->udp, udp, sizeof(copy->udp));
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
#ifndef XDPTURN_MUTANT_MACS_NOT_SWAPPED
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
#endif
}

/* New addresses and total length; the header checksum follows (RFC 1624).
 * TTL, TOS, identification and flags are kept. */
static __always_inline void rewrite_ipv4(struct iphdr *ip, __be32 saddr, __be32 daddr,
					 __be16 total_length)
{
	__u32 sum = csum_update_begin(ip->check);

	sum = csum_sub_addr(sum, ip->saddr);
	sum = csum_sub_addr(sum, ip->daddr);
	sum = csum_sub(sum, bpf_ntohs(ip->tot_len));
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->tot_len = total_length;
	sum = csum_add_addr(sum, ip->saddr);
	sum = csum_add_addr(sum, ip->daddr);
	sum = csum_add(sum, bpf_ntohs(ip->tot_len));
	ip->check = csum_update_end(sum);
}

#ifdef XDPTURN_MUTANT_ENCAP_TTL_DECREMENTED
/* A router's habit the relay must not have: it forwards at the frame level. */
static __always_inline void decrement_ttl(struct iphdr *ip)
{
	__u32 sum = csum_update_begin(ip->check);

	sum = csum_sub(sum, (__u16)(ip->ttl << 8));
	ip->ttl -= 1;
	sum = csum_add(sum, (__u16)(ip->ttl << 8));
	ip->check = csum_update_end(sum);
}
#endif

/*
 * Starts a UDP checksum update for everything the headers change: the
 * pseudo-header addresses and length, both ports and the length field.
 * `old_*` are the headers as received, `new_*` as they will be sent.
 */
static __always_inline __u32 udp_headers_sum_change(__be16 old_check, const struct iphdr *old_ip,
						    const struct iphdr *new_ip,
						    const struct udphdr *old_udp,
						    const struct udphdr *new_udp)
{
	__u32 sum = csum_update_begin(old_check);

	/* Pseudo-header: addresses and UDP length. */
	sum = csum_sub_addr(sum, old_ip->saddr);
	sum = csum_sub_addr(sum, old_ip->daddr);
	sum = csum_sub(sum, bpf_ntohs(old_udp->len));
	sum = csum_add_addr(sum, new_ip->saddr);
	sum = csum_add_addr(sum, new_ip->daddr);
	sum = csum_add(sum, bpf_ntohs(new_udp->len));
	/* UDP header. */
#ifdef XDPTURN_MUTANT_PORTS_NOT_IN_CHECKSUM
	const struct udphdr *summed = old_udp;
#else
	const struct udphdr *summed = new_udp;
#endif
	sum = csum_sub(sum, bpf_ntohs(old_udp->source));
	sum = csum_sub(sum, bpf_ntohs(old_udp->dest));
	sum = csum_add(sum, bpf_ntohs(summed->source));
	sum = csum_add(sum, bpf_ntohs(summed->dest));
	sum = csum_sub(sum, bpf_ntohs(old_udp->len));
	sum = csum_add(sum, bpf_ntohs(new_udp->len));
	return sum;
}

static __always_inline __be16 udp_checksum_end(__u32 sum)
{
	__be16 check = csum_update_end(sum);

#ifndef XDPTURN_MUTANT_ZERO_CHECKSUM_SENT
	/* A computed 0 must be sent as 0xFFFF: 0 would mean "no checksum". */
	if (check == 0)
		check = 0xffff;
#endif
	return check;
}

/*
 * Trims the frame to `kept` bytes (cutting padding and any Ethernet
 * trailer), then moves its start by `head_delta`. Returns 0, or the verdict
 * for a failure: PASS while nothing has changed, DROP once it has (row 24).
 */
static __always_inline int resize_frame(struct xdp_md *ctx, __u32 kept, int head_delta)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 frame = data_end - data;
	int trimmed = 0;

	if (frame > kept) {
		if (bpf_xdp_adjust_tail(ctx, -(int)(frame - kept)))
			return finish(XDP_PASS, XDPTURN_REASON_REWRITE_FAILED);
		trimmed = 1;
	}
	if (bpf_xdp_adjust_head(ctx, head_delta))
		return finish(trimmed ? XDP_DROP : XDP_PASS, XDPTURN_REASON_REWRITE_FAILED);
	return 0;
}

/*
 * Writes the output headers at the (moved) start of the frame, and the
 * channel header after them when there is one. Non-zero if the frame is
 * too short for them, which rows 11-13 rule out.
 */
static __always_inline int store_headers(struct xdp_md *ctx, const struct relay_headers *out,
					 const struct channel_data_header *channel)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct channel_data_header *channel_out = (void *)(udp + 1);

	if ((void *)(udp + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, &out->eth, sizeof(*eth));
	__builtin_memcpy(ip, &out->ip, sizeof(*ip));
	__builtin_memcpy(udp, &out->udp, sizeof(*udp));
	if (!channel)
		return 0;
	if ((void *)(channel_out + 1) > data_end)
		return -1;
	__builtin_memcpy(channel_out, channel, sizeof(*channel));
	return 0;
}

/* Client -> peer: the UDP checksum also loses the channel header words and
 * the padding. */
static __always_inline void relay_udp_checksum(struct relay_headers *out,
					       const struct relay_headers *in,
					       const struct channel_data_header *channel,
					       __u32 padding_sum_removed)
{
	/* A zero UDP checksum means "none" (RFC 768): it stays zero. */
	if (in->udp.check == 0)
		return;
	__u32 sum = udp_headers_sum_change(in->udp.check, &in->ip, &out->ip, &in->udp, &out->udp);
#ifdef XDPTURN_MUTANT_CHANNEL_HEADER_IN_CHECKSUM
	(void)channel;
#else
	sum = csum_sub(sum, bpf_ntohs(channel->number));
	sum = csum_sub(sum, bpf_ntohs(channel->length));
#endif
	sum += padding_sum_removed; /* already in complemented form */
	out->udp.check = udp_checksum_end(sum);
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
	/* From the address the frame arrived on to the peer. */
	rewrite_ipv4(&out.ip, in->ip.daddr, target->peer_addr,
		     bpf_htons(sizeof(struct iphdr) + udp_length));
	out.udp.source = target->allocation_port;
	out.udp.dest = target->peer_port;
	out.udp.len = bpf_htons(udp_length);
	relay_udp_checksum(&out, in, channel, padding_sum_removed);

	/* Without the channel header and without anything after the relayed
	 * data (channel padding, Ethernet trailer). */
	__u32 kept = RELAY_HEADERS_BYTES + XDPTURN_CHANNEL_HEADER_BYTES + app_len;
#ifdef XDPTURN_MUTANT_PADDING_RELAYED
	kept += bpf_ntohs(in->udp.len) - sizeof(struct udphdr) - XDPTURN_CHANNEL_HEADER_BYTES -
		app_len;
#endif
	int failed = resize_frame(ctx, kept, XDPTURN_CHANNEL_HEADER_BYTES);
	if (failed)
		return failed;

	if (store_headers(ctx, &out, NULL))
		return finish(XDP_DROP, XDPTURN_REASON_REWRITE_FAILED);
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

static __always_inline int relay_port(__u16 port)
{
	return port >= relay_port_min && port <= relay_port_max;
}

/* Rows 14-20: ChannelData from a client to the TURN port. */
static __always_inline int from_client(struct xdp_md *ctx, const struct ethhdr *eth,
				       const struct iphdr *ip, const struct udphdr *udp,
				       void *data_end)
{
	__u16 udp_length = bpf_ntohs(udp->len);

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
#ifndef XDPTURN_MUTANT_HAIRPIN_RELAYED
	/* The peer is an allocation on this relay (its address, a relay
	 * port): XDP_TX would send the datagram to the wire instead of to
	 * the relay's own socket. */
	if (target->peer_addr == ip->daddr && relay_port(bpf_ntohs(target->peer_port)))
		return finish(XDP_PASS, XDPTURN_REASON_HAIRPIN);
#endif

	__u32 padding_sum_removed = 0;
	if (udp->check != 0)
		padding_sum_removed = csum_sub_padding(0, udp, app_len, padding, data_end);

	struct relay_headers in;
	copy_headers(&in, eth, ip, udp);
	struct channel_data_header channel_copy = *channel;
	return relay_to_peer(ctx, &in, &channel_copy, target, app_len, padding_sum_removed);
}

/* Peer -> client: the UDP checksum also gains the channel header words. */
static __always_inline void encapsulated_udp_checksum(struct relay_headers *out,
						      const struct relay_headers *in,
						      const struct channel_data_header *channel)
{
	if (in->udp.check == 0)
		return;
	__u32 sum = udp_headers_sum_change(in->udp.check, &in->ip, &out->ip, &in->udp, &out->udp);
#ifdef XDPTURN_MUTANT_ENCAP_HEADER_NOT_IN_CHECKSUM
	(void)channel;
#else
	sum = csum_add(sum, bpf_ntohs(channel->number));
	sum = csum_add(sum, bpf_ntohs(channel->length));
#endif
	out->udp.check = udp_checksum_end(sum);
}

/*
 * Rewrites the peer's datagram into the ChannelData message for the client
 * and returns XDP_TX. As in relay_to_peer, nothing is written before the
 * frame is resized; the headers then start 4 bytes earlier.
 */
static __always_inline int encapsulate_to_client(struct xdp_md *ctx, const struct relay_headers *in,
						 const struct xdpturn_peer_value *client)
{
	struct relay_headers out = *in;
	struct channel_data_header channel;
	__u16 data_length = bpf_ntohs(in->udp.len) - sizeof(struct udphdr);
	__u16 udp_length = bpf_ntohs(in->udp.len) + XDPTURN_CHANNEL_HEADER_BYTES;

	channel.number = client->channel;
#ifdef XDPTURN_MUTANT_ENCAP_LENGTH_WITH_HEADER
	channel.length = bpf_htons(data_length + XDPTURN_CHANNEL_HEADER_BYTES);
#else
	channel.length = bpf_htons(data_length);
#endif
	swap_macs(&out.eth);
	/* From the address the datagram arrived on to the client. */
	rewrite_ipv4(&out.ip, in->ip.daddr, client->client_addr,
		     bpf_htons(sizeof(struct iphdr) + udp_length));
	out.udp.source = bpf_htons(turn_port);
	out.udp.dest = client->client_port;
	out.udp.len = bpf_htons(udp_length);
#ifdef XDPTURN_MUTANT_ENCAP_TTL_DECREMENTED
	decrement_ttl(&out.ip);
#endif
	encapsulated_udp_checksum(&out, in, &channel);

	__u32 kept = RELAY_HEADERS_BYTES + data_length;
	int failed = resize_frame(ctx, kept, -XDPTURN_CHANNEL_HEADER_BYTES);
	if (failed)
		return failed;

	if (store_headers(ctx, &out, &channel))
		return finish(XDP_DROP, XDPTURN_REASON_REWRITE_FAILED);
	return finish(XDP_TX, XDPTURN_REASON_ENCAPSULATED);
}

/* Rows 21-23: a datagram from a peer to an allocation port. */
static __always_inline int from_peer(struct xdp_md *ctx, const struct ethhdr *eth,
				     const struct iphdr *ip, const struct udphdr *udp)
{
	struct xdpturn_peer_key key = {
		.peer_addr = ip->saddr,
		.peer_port = udp->source,
#ifdef XDPTURN_MUTANT_REVERSE_LOOKUP_BY_SOURCE_PORT
		.allocation_port = udp->source,
#else
		.allocation_port = udp->dest,
#endif
	};
	struct xdpturn_peer_value *client = bpf_map_lookup_elem(&channels_by_peer, &key);
	/* A number outside the range would reach the client as something
	 * else (STUN, DTLS, RTP): such a binding is no channel at all. */
	if (!client || !channel_in_range(bpf_ntohs(client->channel)))
		return finish(XDP_PASS, XDPTURN_REASON_NO_CHANNEL);

	/* Compared in 32 bits: a total length near 65535 must not wrap. */
	__u32 out_length = (__u32)bpf_ntohs(ip->tot_len) + XDPTURN_CHANNEL_HEADER_BYTES;
#ifdef XDPTURN_MUTANT_MTU_OFF_BY_ONE
	if (out_length >= mtu)
#else
	if (out_length > mtu)
#endif
		return finish(XDP_PASS, XDPTURN_REASON_TOO_BIG);

	struct relay_headers in;
	copy_headers(&in, eth, ip, udp);
	return encapsulate_to_client(ctx, &in, client);
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
	int to_turn_port = udp->dest == bpf_htons(turn_port);
	if (!to_turn_port && !relay_port(bpf_ntohs(udp->dest)))
		return finish(XDP_PASS, XDPTURN_REASON_WRONG_PORT);

	__u16 ip_length = bpf_ntohs(ip->tot_len);
	__u64 ip_bytes_in_frame = data_end - (void *)ip;
	if (ip_length < sizeof(*ip) + sizeof(*udp) || ip_length > ip_bytes_in_frame)
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_LENGTH);
	if (bpf_ntohs(udp->len) != ip_length - sizeof(*ip))
		return finish(XDP_PASS, XDPTURN_REASON_UDP_LENGTH);
	if (!ipv4_header_checksum_ok(ip))
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_CHECKSUM);

	if (to_turn_port)
		return from_client(ctx, eth, ip, udp, data_end);
	return from_peer(ctx, eth, ip, udp);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
