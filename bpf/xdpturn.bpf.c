// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP TURN relay data path, both directions, over IPv4 and over IPv6.
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
 * Every planted bug has one shape: `#ifdef XDPTURN_MUTANT_NAME`, a comment
 * "Planted bug: ..." on the same line that says what it does wrong, the
 * wrong code (or nothing), and after `#else` the right code (when the right
 * code is something).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
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
#define IPV6_VERSION 6
#define IPV6_ADDR_WORDS16 (sizeof(struct in6_addr) / sizeof(__u16))
/* What a 6 -> 4 output sets in the flags field: Don't Fragment, since its
 * IPv6 sender expects no fragmentation on the way. */
#define IPV4_DONT_FRAGMENT 0x4000

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

/* The relay's own address of each family, in the maps' 16-byte form (all
 * zero: none): the source of an output of the other family than its input. */
const volatile __u64 relay_address_ipv4[XDPTURN_ADDR_BYTES / sizeof(__u64)] = {};
const volatile __u64 relay_address_ipv6[XDPTURN_ADDR_BYTES / sizeof(__u64)] = {};

/* Reason of the latest verdict, read by the test harness through mmap. */
__u32 last_reason = 0;
#ifdef XDPTURN_PLANTED_UNMET_BOUNDARY
__u64 planted_comparisons_above = 0;
#endif

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
#ifdef XDPTURN_MUTANT_HAIRPIN_COUNTED_AS_NO_BINDING /* Planted bug: a hairpin miscounted */
	__u32 key = reason == XDPTURN_REASON_HAIRPIN ? XDPTURN_REASON_NO_BINDING : reason;
#else
	__u32 key = reason;
#endif
	__u64 *counter = bpf_map_lookup_elem(&reason_counters, &key);

	if (counter) /* LCOV_EXCL_BR_LINE: every reason code is below max_entries */
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

/*
 * IPv6 addresses in a pseudo-header: all eight 16-bit words. (The mutant
 * counts only the last two, as if the address were an IPv4 one.)
 */
#ifdef XDPTURN_MUTANT_IPV6_PSEUDO_HEADER_SHORT /* Planted bug: addresses summed as 32 bits */
#define IPV6_FIRST_SUMMED_WORD (IPV6_ADDR_WORDS16 - 2)
#else
#define IPV6_FIRST_SUMMED_WORD 0
#endif

static __always_inline __u32 csum_add_addr6(__u32 sum, const struct in6_addr *addr)
{
#pragma unroll
	for (__u32 i = IPV6_FIRST_SUMMED_WORD; i < IPV6_ADDR_WORDS16; i++)
		sum = csum_add(sum, bpf_ntohs(addr->in6_u.u6_addr16[i]));
	return sum;
}

static __always_inline __u32 csum_sub_addr6(__u32 sum, const struct in6_addr *addr)
{
#pragma unroll
	for (__u32 i = IPV6_FIRST_SUMMED_WORD; i < IPV6_ADDR_WORDS16; i++)
		sum = csum_sub(sum, bpf_ntohs(addr->in6_u.u6_addr16[i]));
	return sum;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
#ifdef XDPTURN_MUTANT_FOLD_ONCE /* Planted bug: the first fold's carry dropped */
#else
	sum = (sum & 0xffff) + (sum >> 16);
#endif
	return sum;
}

static __always_inline __u16 ipv4_header_sum(const struct iphdr *ip)
{
	const __u16 *word = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (__u32 i = 0; i < IPV4_HEADER_WORDS16; i++)
		sum = csum_add(sum, bpf_ntohs(word[i]));
	return csum_fold(sum);
}

static __always_inline int ipv4_header_checksum_ok(const struct iphdr *ip)
{
#ifdef XDPTURN_MUTANT_IPV4_CHECKSUM_RECOMPUTED /* Planted bug: the other zero refused */
	/* The field compared with the checksum of the rest: 0xFFFF, the other
	 * zero, never equals the 0x0000 computed. */
	__u32 rest = csum_add(ipv4_header_sum(ip), (__u16)~bpf_ntohs(ip->check));

	return (__u16)~csum_fold(rest) == bpf_ntohs(ip->check);
#else
	return ipv4_header_sum(ip) == 0xffff;
#endif
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

		/* The padding lies inside the IP length, which the caller
		 * checked against the frame. clang tests i >= padding first
		 * (both leave the loop), so this bounds test never fails. */
		if ((const void *)(byte + 1) > data_end) /* LCOV_EXCL_BR_LINE: inside the padding */
			break;
		if (i >= padding)
			break;
		sum = csum_sub(sum, (offset & 1) ? *byte : (__u16)(*byte << 8));
	}
	return sum;
}

/*
 * The output's headers, built on the stack before anything in the frame
 * changes: the input's, copied out (or, across families, built from it),
 * then rewritten. The IP header is of the output's family (`ipv6`). Not
 * packed: each header keeps its alignment.
 */
struct output_headers {
	struct ethhdr eth;
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;
	struct udphdr udp;
	int ipv6;
};

/*
 * The output headers are built in a per-CPU scratch slot, not on the stack:
 * with both families on both paths the rewrite's locals would not fit the
 * 512-byte stack. The slot is the program's own; nothing outside reads it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct output_headers);
} output_scratch SEC(".maps");

/* The lookup cannot fail (index 0 of a one-entry array); row 24 if it did. */
static __always_inline struct output_headers *output_slot(void)
{
	__u32 first = 0;

	return bpf_map_lookup_elem(&output_scratch, &first);
}

static __always_inline __u32 ip_header_bytes(int ipv6)
{
	return ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
}

/*
 * A frame that passed the rows of its family (4-13 or 25-33): where its
 * headers are, and its addresses in the maps' 16-byte form.
 */
struct arrival {
	struct ethhdr *eth;
	void *ip; /* struct iphdr, or struct ipv6hdr when ipv6 */
	struct udphdr *udp;
	struct in6_addr source;
	struct in6_addr destination;
	int ipv6;
};

/* The IPv4-mapped form ::ffff:a.b.c.d the maps store IPv4 addresses in. */
static __always_inline void map_ipv4(__u8 *out, __be32 addr)
{
	__builtin_memset(out, 0, XDPTURN_V4_MAPPED_PREFIX_BYTES - 2);
	out[XDPTURN_V4_MAPPED_PREFIX_BYTES - 2] = 0xff;
	out[XDPTURN_V4_MAPPED_PREFIX_BYTES - 1] = 0xff;
	__builtin_memcpy(out + XDPTURN_V4_MAPPED_PREFIX_BYTES, &addr, sizeof(addr));
}

static __always_inline int is_v4_mapped(const __u8 *addr)
{
	__u32 prefix[XDPTURN_V4_MAPPED_PREFIX_BYTES / sizeof(__u32)];

	__builtin_memcpy(prefix, addr, sizeof(prefix));
#ifdef XDPTURN_MUTANT_V4_MAPPED_HALF_WORD /* Planted bug: half the third word tested */
	return prefix[0] == 0 && prefix[1] == 0 &&
	       (prefix[2] & bpf_htonl(0xffff)) == bpf_htonl(0xffff);
#else
	return prefix[0] == 0 && prefix[1] == 0 && prefix[2] == bpf_htonl(0x0000ffff);
#endif
}

static __always_inline __be32 mapped_ipv4(const __u8 *addr)
{
	__be32 v4;

	__builtin_memcpy(&v4, addr + XDPTURN_V4_MAPPED_PREFIX_BYTES, sizeof(v4));
	return v4;
}

static __always_inline int same_address(const __u8 *a, const __u8 *b)
{
	__u64 a_words[2], b_words[2];

	__builtin_memcpy(a_words, a, sizeof(a_words));
	__builtin_memcpy(b_words, b, sizeof(b_words));
	return a_words[0] == b_words[0] && a_words[1] == b_words[1];
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
#ifdef XDPTURN_MUTANT_MACS_NOT_SWAPPED /* Planted bug: the MACs left as they came */
	(void)tmp;
#else
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
#ifdef XDPTURN_MUTANT_IPV4_UPDATE_FOLD_ONCE /* Planted bug: the header update's carry dropped */
	sum = (__u16)((sum & 0xffff) + (sum >> 16));
#endif
	ip->check = csum_update_end(sum);
}

/* New addresses and payload length; IPv6 has no header checksum. Traffic
 * class, flow label and hop limit are kept. */
static __always_inline void rewrite_ipv6(struct ipv6hdr *ip, const __u8 *saddr, const __u8 *daddr,
					 __be16 payload_length)
{
	__builtin_memcpy(&ip->saddr, saddr, sizeof(ip->saddr));
	__builtin_memcpy(&ip->daddr, daddr, sizeof(ip->daddr));
	ip->payload_len = payload_length;
#ifdef XDPTURN_MUTANT_IPV6_HOP_LIMIT_DECREMENTED /* Planted bug: the hop limit decremented */
	ip->hop_limit -= 1;
#endif
#ifdef XDPTURN_MUTANT_IPV6_FLOW_LABEL_CLEARED /* Planted bug: the flow label cleared */
	ip->flow_lbl[0] &= 0xf0;
	ip->flow_lbl[1] = 0;
	ip->flow_lbl[2] = 0;
#endif
}

#ifdef XDPTURN_MUTANT_ENCAP_TTL_DECREMENTED /* Planted bug: the TTL decremented */
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

/* The input's pseudo-header leaves the UDP checksum: its addresses and UDP
 * length. Over IPv6 (RFC 8200 Section 8.1) the addresses are 128 bits and
 * the length 32, whose upper half is zero for any UDP datagram; the next
 * header word is 17 in both families, so it never changes. */
static __always_inline __u32 pseudo_header_removed(__u32 sum, const struct arrival *in,
						   const struct udphdr *old_udp)
{
	if (in->ipv6) {
		sum = csum_sub_addr6(sum, &in->source);
		sum = csum_sub_addr6(sum, &in->destination);
	} else {
		sum = csum_sub_addr(sum, mapped_ipv4(in->source.in6_u.u6_addr8));
		sum = csum_sub_addr(sum, mapped_ipv4(in->destination.in6_u.u6_addr8));
	}
	return csum_sub(sum, bpf_ntohs(old_udp->len));
}

/* The output's pseudo-header joins it, in the output's family. */
static __always_inline __u32 pseudo_header_added(__u32 sum, const struct output_headers *out)
{
	if (out->ipv6) {
		sum = csum_add_addr6(sum, &out->ip.v6.saddr);
		sum = csum_add_addr6(sum, &out->ip.v6.daddr);
	} else {
		sum = csum_add_addr(sum, out->ip.v4.saddr);
		sum = csum_add_addr(sum, out->ip.v4.daddr);
	}
	return csum_add(sum, bpf_ntohs(out->udp.len));
}

/* The UDP header's own change: both ports and the length field. */
static __always_inline __u32 udp_header_change(__u32 sum, const struct udphdr *old_udp,
					       const struct udphdr *new_udp)
{
#ifdef XDPTURN_MUTANT_PORTS_NOT_IN_CHECKSUM /* Planted bug: the ports' change not summed */
	const struct udphdr *summed = old_udp;
#else
	const struct udphdr *summed = new_udp;
#endif
	sum = csum_sub(sum, bpf_ntohs(old_udp->source));
	sum = csum_sub(sum, bpf_ntohs(old_udp->dest));
	sum = csum_add(sum, bpf_ntohs(summed->source));
	sum = csum_add(sum, bpf_ntohs(summed->dest));
	sum = csum_sub(sum, bpf_ntohs(old_udp->len));
	return csum_add(sum, bpf_ntohs(new_udp->len));
}

/* Client -> peer: the channel header words and the padding leave the
 * datagram. `padding_sum_removed` is already in complemented form. */
static __always_inline __u32 channel_header_removed(__u32 sum,
						    const struct channel_data_header *channel,
						    __u32 padding_sum_removed)
{
#ifdef XDPTURN_MUTANT_CHANNEL_HEADER_IN_CHECKSUM /* Planted bug: header left in the sum */
	(void)channel;
#else
	sum = csum_sub(sum, bpf_ntohs(channel->number));
	sum = csum_sub(sum, bpf_ntohs(channel->length));
#endif
	return sum + padding_sum_removed;
}

/* Peer -> client: the channel header words join the datagram. */
static __always_inline __u32 channel_header_added(__u32 sum,
						  const struct channel_data_header *channel)
{
#ifdef XDPTURN_MUTANT_ENCAP_HEADER_NOT_IN_CHECKSUM /* Planted bug: the added header not summed */
	(void)channel;
#else
	sum = csum_add(sum, bpf_ntohs(channel->number));
	sum = csum_add(sum, bpf_ntohs(channel->length));
#endif
	return sum;
}

static __always_inline __be16 udp_checksum_end(__u32 sum)
{
	__be16 check = csum_update_end(sum);

#ifdef XDPTURN_MUTANT_ZERO_CHECKSUM_SENT /* Planted bug: a computed 0 sent as 0, "none" */
#else
	/* A computed 0 must be sent as 0xFFFF: 0 would mean "no checksum". */
	if (check == 0)
		check = 0xffff;
#endif
	return check;
}

/*
 * What a step that may end the frame returns when it does not: a value no
 * verdict has. (0 would do as "go on" only by accident: it is XDP_ABORTED.)
 */
#define GO_ON (-1)

/*
 * Trims the frame to `kept` bytes (cutting padding and any Ethernet
 * trailer), then moves its start by `head_delta`. Returns GO_ON, or the
 * verdict for a failure: PASS while nothing has changed, DROP once it has
 * (row 24).
 */
static __always_inline int resize_frame(struct xdp_md *ctx, __u32 kept, int head_delta)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 frame = data_end - data;
	int trimmed = 0;

	/* Row 24: the helpers fail only for sizes outside the frame and its
	 * headroom, which the length rows rule out. */
	if (frame > kept) { /* XDPTURN_BOUNDARY_EXCL_LINE: the length rows refused shorter frames */
		/* LCOV_EXCL_START: row 24, unreachable through BPF_PROG_TEST_RUN */
		if (bpf_xdp_adjust_tail(ctx, -(int)(frame - kept)))
			return finish(XDP_PASS, XDPTURN_REASON_REWRITE_FAILED);
		/* LCOV_EXCL_STOP */
		trimmed = 1;
	}
	/* LCOV_EXCL_START: row 24, unreachable through BPF_PROG_TEST_RUN */
	if (bpf_xdp_adjust_head(ctx, head_delta))
		return finish(trimmed ? XDP_DROP : XDP_PASS, XDPTURN_REASON_REWRITE_FAILED);
	/* LCOV_EXCL_STOP */
	return GO_ON;
}

/* Stores the channel header at `at`, when there is one. */
static __always_inline int store_channel(void *at, const struct channel_data_header *channel,
					 void *data_end)
{
	struct channel_data_header *channel_out = at;

	if (!channel)
		return 0;
	/* LCOV_EXCL_START: the verifier's bounds test; the length rows hold it */
	if ((void *)(channel_out + 1) > data_end)
		return -1;
	/* LCOV_EXCL_STOP */
	__builtin_memcpy(channel_out, channel, sizeof(*channel));
	return 0;
}

/*
 * Writes the output headers at the (moved) start of the frame, and the
 * channel header after them when there is one. Non-zero if the frame is
 * too short for them, which the length rows rule out.
 */
static __always_inline int store_headers(struct xdp_md *ctx, const struct output_headers *out,
					 const struct channel_data_header *channel)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;

	if (out->ipv6) {
		struct ipv6hdr *ip = (void *)(eth + 1);

		udp = (void *)(ip + 1);
		/* LCOV_EXCL_START: the verifier's bounds test; the length rows hold it */
		if ((void *)(udp + 1) > data_end)
			return -1;
		/* LCOV_EXCL_STOP */
		__builtin_memcpy(ip, &out->ip.v6, sizeof(*ip));
	} else {
		struct iphdr *ip = (void *)(eth + 1);

		udp = (void *)(ip + 1);
		/* LCOV_EXCL_START: the verifier's bounds test; the length rows hold it */
		if ((void *)(udp + 1) > data_end)
			return -1;
		/* LCOV_EXCL_STOP */
		__builtin_memcpy(ip, &out->ip.v4, sizeof(*ip));
	}
	__builtin_memcpy(eth, &out->eth, sizeof(*eth));
	__builtin_memcpy(udp, &out->udp, sizeof(*udp));
	return store_channel(udp + 1, channel, data_end);
}

/*
 * 6 -> 4: TOS from the traffic class, TTL from the hop limit, identification
 * 0 and DF set; the flow label has no place. Addresses and length stay 0
 * for readdress() to fill in, the header checksum is already valid for them.
 */
static __always_inline void ipv4_from_ipv6(struct iphdr *v4, const struct ipv6hdr *v6)
{
#ifdef XDPTURN_MUTANT_SCRATCH_NOT_CLEARED /* Planted bug: the slot keeps the last header */
#else
	__builtin_memset(v4, 0, sizeof(*v4));
#endif
	v4->version = IPV4_VERSION;
	v4->ihl = IPV4_IHL_WITHOUT_OPTIONS;
	v4->tos = (__u8)(v6->priority << 4) | (v6->flow_lbl[0] >> 4);
#ifdef XDPTURN_MUTANT_ACROSS_DF_NOT_SET /* Planted bug: 6 -> 4 output without DF */
#else
	v4->frag_off = bpf_htons(IPV4_DONT_FRAGMENT);
#endif
	v4->ttl = v6->hop_limit;
	v4->protocol = IPPROTO_UDP;
	v4->check = bpf_htons((__u16)~ipv4_header_sum(v4));
}

/* 4 -> 6: traffic class from TOS, flow label 0, hop limit from TTL. */
static __always_inline void ipv6_from_ipv4(struct ipv6hdr *v6, const struct iphdr *v4)
{
	__builtin_memset(v6, 0, sizeof(*v6));
	v6->version = IPV6_VERSION;
	v6->priority = v4->tos >> 4;
	v6->flow_lbl[0] = (__u8)(v4->tos << 4);
	v6->nexthdr = IPPROTO_UDP;
#ifdef XDPTURN_MUTANT_ACROSS_HOP_LIMIT_DEFAULT /* Planted bug: hop limit 64, not the TTL */
	v6->hop_limit = 64;
#else
	v6->hop_limit = v4->ttl;
#endif
}

/* The input's headers as the output's start: its IP header copied, or
 * across families one of the other family built from it. */
static __always_inline void copy_headers(struct output_headers *copy, const struct arrival *in,
					 int out_ipv6)
{
	__builtin_memcpy(&copy->eth, in->eth, sizeof(copy->eth));
	if (in->ipv6 && out_ipv6)
		__builtin_memcpy(&copy->ip.v6, in->ip, sizeof(copy->ip.v6));
	else if (out_ipv6)
		ipv6_from_ipv4(&copy->ip.v6, in->ip);
	else if (in->ipv6)
		ipv4_from_ipv6(&copy->ip.v4, in->ip);
	else
		__builtin_memcpy(&copy->ip.v4, in->ip, sizeof(copy->ip.v4));
	copy->eth.h_proto = bpf_htons(out_ipv6 ? ETH_P_IPV6 : ETH_P_IP);
	__builtin_memcpy(&copy->udp, in->udp, sizeof(copy->udp));
	copy->ipv6 = out_ipv6;
}

/* New addresses (in the maps' 16-byte form) and lengths for a datagram of
 * `udp_length` bytes; everything else in the IP header is kept. */
static __always_inline void readdress(struct output_headers *out, const __u8 *saddr,
				      const __u8 *daddr, __u16 udp_length)
{
	if (out->ipv6)
		rewrite_ipv6(&out->ip.v6, saddr, daddr, bpf_htons(udp_length));
	else
		rewrite_ipv4(&out->ip.v4, mapped_ipv4(saddr), mapped_ipv4(daddr),
			     bpf_htons(sizeof(struct iphdr) + udp_length));
	out->udp.len = bpf_htons(udp_length);
}

/* The UDP checksum's pseudo-header change, from the input's family to the
 * output's. */
static __always_inline __u32 pseudo_header_change(__u32 sum, const struct arrival *in,
						  const struct output_headers *out,
						  const struct udphdr *old_udp)
{
	return pseudo_header_added(pseudo_header_removed(sum, in, old_udp), out);
}

/* How far the frame's start moves when the input's IP header is replaced by
 * the output's and `channel_delta` bytes of channel header go (+4) or come
 * (-4): forward for a smaller header, back into the headroom for a larger. */
static __always_inline int head_delta(const struct arrival *in, const struct output_headers *out,
				      int channel_delta)
{
	return (int)ip_header_bytes(in->ipv6) - (int)ip_header_bytes(out->ipv6) + channel_delta;
}

/* Linear XDP frames fit in one page (this program does not declare
 * xdp.frags, so it never sees a multi-buffer frame): at most this many bytes
 * of data, summed eight at a time (fewer, longer steps keep the verifier's
 * jump history of the loop short). */
#define MAX_SUMMED_BYTES 4096
#define SUMMED_CHUNK_BYTES 8

static __always_inline __u32 csum_add_chunk(__u32 sum, const __u8 *chunk)
{
	const __u16 *word = (const __u16 *)chunk;

#pragma unroll
	for (__u32 i = 0; i < SUMMED_CHUNK_BYTES / sizeof(__u16); i++)
		sum += bpf_ntohs(word[i]);
	return sum;
}

/*
 * The one's-complement sum of `length` data bytes from `offset` in the frame,
 * as 16-bit big-endian words, an odd last byte as the high half of a word.
 * The data starts at an even offset of the output datagram on both paths.
 * A global function: the verifier checks it once, on its own, instead of
 * walking its loop again for every path that reaches it.
 */
__noinline __u32 xdpturn_data_sum(struct xdp_md *ctx, __u32 offset, __u32 length)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 sum = 0, done = 0;

	/* Each bounds test comes before its length test: it fails only past
	 * the data's end (the caller's length rows put the data inside the
	 * frame), where the length test would stop anyway. The loop cannot
	 * run out: a linear frame holds less than MAX_SUMMED_BYTES. */
#pragma clang loop unroll(disable)
	/* LCOV_EXCL_BR_START: the loop cannot run out (see above) */
	for (__u32 i = 0; i < MAX_SUMMED_BYTES / SUMMED_CHUNK_BYTES; i++) {
		/* LCOV_EXCL_BR_STOP */
		const __u8 *chunk = data + ((offset + done) & LINEAR_FRAME_OFFSET_MASK);

		if ((const void *)(chunk + SUMMED_CHUNK_BYTES) > data_end)
			break;
		if (done + SUMMED_CHUNK_BYTES > length)
			break;
		sum = csum_add_chunk(sum, chunk);
		done += SUMMED_CHUNK_BYTES;
	}
	/* The last 0-7 bytes: up to three whole words, then an odd byte. */
#pragma unroll
	for (__u32 i = 0; i < SUMMED_CHUNK_BYTES / sizeof(__u16) - 1; i++) {
		const __u8 *word = data + ((offset + done) & LINEAR_FRAME_OFFSET_MASK);

		if ((const void *)(word + sizeof(__u16)) > data_end)
			break;
		if (done + sizeof(__u16) > length)
			break;
		sum += (__u32)word[0] << 8 | word[1];
		done += sizeof(__u16);
	}
	const __u8 *odd = data + ((offset + done) & LINEAR_FRAME_OFFSET_MASK);

	if ((const void *)(odd + 1) > data_end)
		return sum;
	if (done < length)
		sum += (__u32)odd[0] << 8;
	return sum;
}

/*
 * 4 -> 6 from a datagram without a UDP checksum (RFC 768 allows none over
 * IPv4, RFC 8200 Section 8.1 not over IPv6): the sum of the output's whole
 * datagram, its pseudo-header, UDP header, channel header (when it carries
 * one) and the data (`data_sum`, from xdpturn_data_sum()). The one path
 * where the payload is summed; every other output is updated incrementally.
 */
static __always_inline __u32 full_udp_sum(const struct output_headers *out,
					  const struct channel_data_header *channel, __u32 data_sum)
{
	__u32 sum = pseudo_header_added(0, out);

	sum = csum_add(sum, IPPROTO_UDP);
	sum = csum_add(sum, bpf_ntohs(out->udp.source));
	sum = csum_add(sum, bpf_ntohs(out->udp.dest));
	sum = csum_add(sum, bpf_ntohs(out->udp.len));
	if (channel)
		sum = channel_header_added(sum, channel);
	return sum + data_sum;
}

/* Without the channel header and without anything after the relayed data
 * (channel padding, Ethernet trailer). */
static __always_inline __u32 relayed_frame_bytes(const struct arrival *in, const struct udphdr *udp,
						 __u16 app_len)
{
	__u32 kept = sizeof(struct ethhdr) + ip_header_bytes(in->ipv6) + sizeof(struct udphdr) +
		     XDPTURN_CHANNEL_HEADER_BYTES + app_len;
#ifdef XDPTURN_MUTANT_PADDING_RELAYED /* Planted bug: the channel padding relayed as data */
	kept += bpf_ntohs(udp->len) - sizeof(struct udphdr) - XDPTURN_CHANNEL_HEADER_BYTES -
		app_len;
#else
	(void)udp;
#endif
	return kept;
}

/*
 * The output's UDP checksum, on both paths. A zero UDP checksum means "none"
 * (RFC 768): it stays zero within IPv4; into IPv6 it is computed in full
 * (full_udp_sum, with `channel` when the output carries one). Any other is
 * updated (RFC 1624): the pseudo-header's change, the UDP header's, and
 * `channel_change`, the channel header leaving (to the peer, with the
 * padding) or joining (to the client). Over IPv6 the input's checksum is
 * never zero here (row 33); testing the family first says so to the
 * compiler, which then leaves the zero path out of the IPv6 copies.
 */
static __always_inline void set_output_checksum(struct output_headers *out,
						const struct arrival *in,
						const struct udphdr *in_udp, __u32 channel_change,
						const struct channel_data_header *channel,
						__u32 data_sum)
{
	__u32 sum;

	if (in->ipv6 || in_udp->check != 0) {
		sum = csum_update_begin(in_udp->check);
		sum = pseudo_header_change(sum, in, out, in_udp);
		sum = udp_header_change(sum, in_udp, &out->udp);
		sum += channel_change;
#ifdef XDPTURN_MUTANT_UDP_UPDATE_FOLD_ONCE /* Planted bug: the UDP update's carry dropped */
		sum = (__u16)((sum & 0xffff) + (sum >> 16));
#endif
	} else if (out->ipv6) {
#ifdef XDPTURN_MUTANT_ACROSS_ZERO_CHECKSUM_KEPT /* Planted bug: "no checksum" into IPv6 */
		(void)full_udp_sum;
		(void)channel;
		(void)data_sum;
		return;
#else
		/* Summed in full, it ends as an update does: the complement of
		 * the folded sum, 0 sent as 0xFFFF. */
		sum = full_udp_sum(out, channel, data_sum);
#endif
#ifdef XDPTURN_MUTANT_MADE_SUM_FOLD_ONCE /* Planted bug: the full sum's carry dropped */
		sum = (__u16)((sum & 0xffff) + (sum >> 16));
#endif
	} else {
		return;
	}
	out->udp.check = udp_checksum_end(sum);
}

/* What the client path found, for the rewrite. */
struct to_peer {
	struct channel_data_header channel;
	struct xdpturn_binding_value target;
	struct in6_addr from;	   /* the address the output is sent from */
	__u32 padding_sum_removed; /* complemented, as channel_header_removed() wants it */
	__u32 data_sum;		   /* into IPv6 without a checksum: see full_udp_sum() */
	__u16 app_len;
};

/*
 * Rewrites the frame into the UDP datagram for the peer and returns XDP_TX.
 * Nothing is written before the last test that can still pass the frame:
 * the new headers are built on the stack first, the tail is trimmed, the
 * head moved, and only then are the headers stored.
 */
static __always_inline int rewrite_to_peer(struct xdp_md *ctx, const struct arrival *arrival,
					   const struct to_peer *to)
{
	const struct xdpturn_binding_value *target = &to->target;
	__u16 app_len = to->app_len;
	struct output_headers *out = output_slot();

	/* LCOV_EXCL_START: the lookup of key 0 in a one-entry per-CPU array never fails */
	if (!out)
		return finish(XDP_PASS, XDPTURN_REASON_REWRITE_FAILED);
	/* LCOV_EXCL_STOP */
	copy_headers(out, arrival, !is_v4_mapped(target->peer_addr));
	struct udphdr in_udp = out->udp;
	swap_macs(&out->eth);
	readdress(out, to->from.in6_u.u6_addr8, target->peer_addr, sizeof(struct udphdr) + app_len);
	out->udp.source = target->allocation_port;
	out->udp.dest = target->peer_port;
	set_output_checksum(out, arrival, &in_udp,
			    channel_header_removed(0, &to->channel, to->padding_sum_removed), NULL,
			    to->data_sum);

	int verdict = resize_frame(ctx, relayed_frame_bytes(arrival, &in_udp, app_len),
				   head_delta(arrival, out, XDPTURN_CHANNEL_HEADER_BYTES));
	if (verdict != GO_ON)
		return verdict;
	if (store_headers(ctx, out, NULL))
		return finish(XDP_DROP, XDPTURN_REASON_REWRITE_FAILED);
	return finish(XDP_TX, XDPTURN_REASON_RELAYED);
}

static __always_inline int channel_in_range(__u16 channel)
{
#ifdef XDPTURN_MUTANT_RANGE_HALF_OPEN /* Planted bug: the range's last channel refused */
	return channel >= channel_min && channel < channel_max;
#else
	return channel >= channel_min && channel <= channel_max;
#endif
}

static __always_inline int relay_port(__u16 port)
{
#ifdef XDPTURN_MUTANT_RELAY_PORT_MIN_EXCLUDED /* Planted bug: the first relay port refused */
	return port > relay_port_min && port <= relay_port_max;
#else
	return port >= relay_port_min && port <= relay_port_max;
#endif
}

/*
 * The peer is an allocation on this relay (the address the output would be
 * sent from, a relay port): XDP_TX would send the datagram to the wire
 * instead of to the relay's own socket.
 */
static __always_inline int hairpin(const struct xdpturn_binding_value *target,
				   const struct in6_addr *from)
{
	int to_this_relay = same_address(target->peer_addr, from->in6_u.u6_addr8) &&
			    relay_port(bpf_ntohs(target->peer_port));

#ifdef XDPTURN_MUTANT_HAIRPIN_RELAYED /* Planted bug: a hairpin relayed to the wire */
	to_this_relay = 0;
#endif
	return to_this_relay;
}

/*
 * The address the output is sent from: the one the frame arrived on, or
 * across families the relay's configured address of the output's family.
 * Non-zero when there is none (rows 34, 35).
 */
static __always_inline int output_source(const struct arrival *in, int out_ipv6,
					 struct in6_addr *from)
{
	__u64 words[2];

	if (out_ipv6 == in->ipv6) {
		*from = in->destination;
		return 0;
	}
	words[0] = out_ipv6 ? relay_address_ipv6[0] : relay_address_ipv4[0];
	words[1] = out_ipv6 ? relay_address_ipv6[1] : relay_address_ipv4[1];
	__builtin_memcpy(from, words, sizeof(*from));
	return words[0] == 0 && words[1] == 0;
}

/* The output IP packet would not fit the link (rows 22, 36). */
static __always_inline int too_big(__u32 out_length)
{
#ifdef XDPTURN_MUTANT_MTU_OFF_BY_ONE /* Planted bug: a packet of exactly the MTU refused */
	return out_length >= mtu;
#else
	return out_length > mtu;
#endif
}

/* The data's sum when the output needs a checksum computed in full: into
 * IPv6 from an IPv4 datagram without one. Taken before the rewrite starts,
 * while the frame is as it arrived. */
static __always_inline __u32 data_sum_into_ipv6(struct xdp_md *ctx, const struct arrival *in,
						int out_ipv6, const void *data, __u32 length)
{
	if (!out_ipv6 || in->ipv6 || in->udp->check != 0)
		return 0;
	return xdpturn_data_sum(ctx, data - (void *)(long)ctx->data, length);
}

/* Row 36: within a family the client path's output only shrinks, so only
 * one across families can be too big (`datagram` bytes of UDP after an IP
 * header of the family the input is not). */
static __always_inline int grows_too_big(const struct arrival *in, int out_ipv6, __u32 datagram)
{
#ifdef XDPTURN_MUTANT_ACROSS_MTU_UNCHECKED /* Planted bug: growth across families unchecked */
	(void)in;
	(void)out_ipv6;
	(void)datagram;
	return 0;
#else
	/* The header's family from the input's, not out_ipv6: the compiler
	 * then knows it in each family's copy of this code. */
#ifdef XDPTURN_MUTANT_ACROSS_MTU_FIXED /* Planted bug: Ethernet's MTU, not the configured */
	return out_ipv6 != in->ipv6 && ip_header_bytes(!in->ipv6) + datagram > 1500;
#else
	return out_ipv6 != in->ipv6 && too_big(ip_header_bytes(!in->ipv6) + datagram);
#endif
#endif
}

/* Rows 14-20: ChannelData from a client to the TURN port. */
static __always_inline int client_to_peer(struct xdp_md *ctx, const struct arrival *in,
					  void *data_end)
{
	struct udphdr *udp = in->udp;
	__u16 udp_length = bpf_ntohs(udp->len);

	/* Both tests reach one row: the first is the contract (the datagram
	 * is too short), the second the bounds check the verifier needs. */
	struct channel_data_header *channel = (void *)(udp + 1);
	if (udp_length < sizeof(*udp) + sizeof(*channel))
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_CHANNEL);
	/* LCOV_EXCL_START: the verifier's test; after the IP length rows it never fails */
	if ((void *)(channel + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_CHANNEL);
	/* LCOV_EXCL_STOP */

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
		.client_port = udp->source,
		.channel = channel->number,
	};
	__builtin_memcpy(key.client_addr, &in->source, sizeof(key.client_addr));
	struct xdpturn_binding_value *target = bpf_map_lookup_elem(&bindings, &key);
	if (!target)
		return finish(XDP_PASS, XDPTURN_REASON_NO_BINDING);
	int out_ipv6 = !is_v4_mapped(target->peer_addr);
	struct to_peer to = {.app_len = app_len};
	if (output_source(in, out_ipv6, &to.from))
		return finish(XDP_PASS, XDPTURN_REASON_OTHER_FAMILY);
	if (hairpin(target, &to.from))
		return finish(XDP_PASS, XDPTURN_REASON_HAIRPIN);
	if (grows_too_big(in, out_ipv6, sizeof(*udp) + (__u32)app_len))
		return finish(XDP_PASS, XDPTURN_REASON_TOO_BIG);

	to.channel = *channel;
	to.target = *target;
	to.data_sum = data_sum_into_ipv6(ctx, in, out_ipv6, channel + 1, app_len);
	if (in->ipv6 || udp->check != 0)
		to.padding_sum_removed = csum_sub_padding(0, udp, app_len, padding, data_end);
	return rewrite_to_peer(ctx, in, &to);
}

/* The ChannelData header for the peer's `data_length` bytes. */
static __always_inline void channel_header_for(struct channel_data_header *channel,
					       const struct xdpturn_peer_value *client,
					       __u16 data_length)
{
	channel->number = client->channel;
#ifdef XDPTURN_MUTANT_ENCAP_LENGTH_WITH_HEADER /* Planted bug: the length counts the header too */
	channel->length = bpf_htons(data_length + XDPTURN_CHANNEL_HEADER_BYTES);
#else
	channel->length = bpf_htons(data_length);
#endif
}

/*
 * Rewrites the peer's datagram into the ChannelData message for the client
 * and returns XDP_TX. As in rewrite_to_peer, nothing is written before the
 * frame is resized; the headers then start 4 bytes earlier.
 */
static __always_inline int rewrite_to_client(struct xdp_md *ctx, const struct arrival *arrival,
					     const struct xdpturn_peer_value *client,
					     const struct in6_addr *from, __u32 data_sum)
{
	struct output_headers *out = output_slot();
	struct channel_data_header channel;

	/* LCOV_EXCL_START: the lookup of key 0 in a one-entry per-CPU array never fails */
	if (!out)
		return finish(XDP_PASS, XDPTURN_REASON_REWRITE_FAILED);
	/* LCOV_EXCL_STOP */
	copy_headers(out, arrival, !is_v4_mapped(client->client_addr));
	struct udphdr in_udp = out->udp;
	__u16 data_length = bpf_ntohs(in_udp.len) - sizeof(struct udphdr);

	channel_header_for(&channel, client, data_length);
	swap_macs(&out->eth);
	readdress(out, from->in6_u.u6_addr8, client->client_addr,
		  bpf_ntohs(in_udp.len) + XDPTURN_CHANNEL_HEADER_BYTES);
	out->udp.source = bpf_htons(turn_port);
	out->udp.dest = client->client_port;
#ifdef XDPTURN_MUTANT_ENCAP_TTL_DECREMENTED /* Planted bug: the TTL decremented */
	if (!out->ipv6)
		decrement_ttl(&out->ip.v4);
#endif
	set_output_checksum(out, arrival, &in_udp, channel_header_added(0, &channel), &channel,
			    data_sum);

	__u32 kept = sizeof(struct ethhdr) + ip_header_bytes(arrival->ipv6) +
		     sizeof(struct udphdr) + data_length;
	int verdict =
		resize_frame(ctx, kept, head_delta(arrival, out, -XDPTURN_CHANNEL_HEADER_BYTES));
	if (verdict != GO_ON)
		return verdict;
	if (store_headers(ctx, out, &channel))
		return finish(XDP_DROP, XDPTURN_REASON_REWRITE_FAILED);
	return finish(XDP_TX, XDPTURN_REASON_ENCAPSULATED);
}

/* Rows 21-23: a datagram from a peer to an allocation port. */
static __always_inline int peer_to_client(struct xdp_md *ctx, const struct arrival *in)
{
	struct udphdr *udp = in->udp;
	struct xdpturn_peer_key key = {
		.peer_port = udp->source,
#ifdef XDPTURN_MUTANT_REVERSE_LOOKUP_BY_SOURCE_PORT /* Planted bug: the source port looked up */
		.allocation_port = udp->source,
#else
		.allocation_port = udp->dest,
#endif
	};
	__builtin_memcpy(key.peer_addr, &in->source, sizeof(key.peer_addr));
	struct xdpturn_peer_value *client = bpf_map_lookup_elem(&channels_by_peer, &key);
	/* A number outside the range would reach the client as something
	 * else (STUN, DTLS, RTP): such a binding is no channel at all. */
	if (!client || !channel_in_range(bpf_ntohs(client->channel)))
		return finish(XDP_PASS, XDPTURN_REASON_NO_CHANNEL);
	int out_ipv6 = !is_v4_mapped(client->client_addr);
	struct in6_addr from;
	if (output_source(in, out_ipv6, &from))
		return finish(XDP_PASS, XDPTURN_REASON_OTHER_FAMILY);
	/* The output IP packet; in 32 bits, so a length near 65535 cannot wrap. */
	if (too_big(ip_header_bytes(out_ipv6) + (__u32)bpf_ntohs(udp->len) +
		    XDPTURN_CHANNEL_HEADER_BYTES))
		return finish(XDP_PASS, XDPTURN_REASON_TOO_BIG);

	return rewrite_to_client(
		ctx, in, client, &from,
		data_sum_into_ipv6(ctx, in, out_ipv6, udp + 1, bpf_ntohs(udp->len) - sizeof(*udp)));
}

/* Row 10 sent the frame to one of the two paths by its destination port. */
static __always_inline int relay_path(struct xdp_md *ctx, const struct arrival *in, void *data_end)
{
	if (in->udp->dest == bpf_htons(turn_port))
		return client_to_peer(ctx, in, data_end);
	return peer_to_client(ctx, in);
}

static __always_inline int wrong_port(const struct udphdr *udp)
{
	return udp->dest != bpf_htons(turn_port) && !relay_port(bpf_ntohs(udp->dest));
}

/* Rows 4-13: the IPv4 header and the UDP header after it. */
static __always_inline int ipv4_frame(struct xdp_md *ctx, struct ethhdr *eth, void *data_end)
{
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_IPV4);
	if (ip->version != IPV4_VERSION)
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_VERSION);
#ifdef XDPTURN_MUTANT_OPTIONS_NOT_PASSED /* Planted bug: IPv4 options go on to the rewrite */
#else
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
	if (wrong_port(udp))
		return finish(XDP_PASS, XDPTURN_REASON_WRONG_PORT);

	__u16 ip_length = bpf_ntohs(ip->tot_len);
	__u64 ip_bytes_in_frame = data_end - (void *)ip;
	if (ip_length < sizeof(*ip) + sizeof(*udp) || ip_length > ip_bytes_in_frame)
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_LENGTH);
	if (bpf_ntohs(udp->len) != ip_length - sizeof(*ip))
		return finish(XDP_PASS, XDPTURN_REASON_UDP_LENGTH);
	if (!ipv4_header_checksum_ok(ip))
		return finish(XDP_PASS, XDPTURN_REASON_IPV4_CHECKSUM);

#ifdef XDPTURN_PLANTED_UNMET_BOUNDARY
	/* Not a mutant: a comparison both ways of which run (sources above and
	 * below 127.0.0.1), yet no case meets it at 127.0.0.1 or next to it.
	 * Line and branch coverage pass; only the boundary gate catches it. */
	if (bpf_ntohl(ip->saddr) > 0x7F000001)
		planted_comparisons_above++;
#endif
	struct arrival in = {.eth = eth, .ip = ip, .udp = udp, .ipv6 = 0};
	map_ipv4(in.source.in6_u.u6_addr8, ip->saddr);
	map_ipv4(in.destination.in6_u.u6_addr8, ip->daddr);
	return relay_path(ctx, &in, data_end);
}

/* Extension headers (IANA's IPv6 Extension Header Types): hop-by-hop,
 * routing, fragment, ESP, AH, destination options, mobility, HIP, shim6
 * and the two experimental values. */
static __always_inline int ipv6_extension_header(__u8 next_header)
{
	switch (next_header) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_ESP:
	case IPPROTO_AH:
	case IPPROTO_DSTOPTS:
	case IPPROTO_MH:
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253:
	case 254: /* experiments */
		return 1;
	default:
		return 0;
	}
}

/* Rows 25-33: the IPv6 header and the UDP header after it. */
static __always_inline int ipv6_frame(struct xdp_md *ctx, struct ethhdr *eth, void *data_end)
{
	struct ipv6hdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_IPV6);
	if (ip->version != IPV6_VERSION)
		return finish(XDP_PASS, XDPTURN_REASON_IPV6_VERSION);
	if (ipv6_extension_header(ip->nexthdr))
		return finish(XDP_PASS, XDPTURN_REASON_IPV6_EXTENSION);
	if (ip->nexthdr != IPPROTO_UDP)
		return finish(XDP_PASS, XDPTURN_REASON_NOT_UDP);

	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_UDP);
	if (wrong_port(udp))
		return finish(XDP_PASS, XDPTURN_REASON_WRONG_PORT);

	__u16 payload_length = bpf_ntohs(ip->payload_len);
	__u64 payload_bytes_in_frame = data_end - (void *)udp;
	if (payload_length < sizeof(*udp) || payload_length > payload_bytes_in_frame)
		return finish(XDP_PASS, XDPTURN_REASON_IPV6_LENGTH);
	if (bpf_ntohs(udp->len) != payload_length)
		return finish(XDP_PASS, XDPTURN_REASON_UDP_LENGTH);
#ifdef XDPTURN_MUTANT_IPV6_ZERO_CHECKSUM_RELAYED /* Planted bug: no checksum over IPv6 relayed */
#else
	/* Mandatory over IPv6: a zero marks a malformed datagram. */
	if (udp->check == 0)
		return finish(XDP_PASS, XDPTURN_REASON_IPV6_ZERO_CHECKSUM);
#endif

	struct arrival in = {.eth = eth, .ip = ip, .udp = udp, .ipv6 = 1};
	in.source = ip->saddr;
	in.destination = ip->daddr;
	return relay_path(ctx, &in, data_end);
}

SEC("xdp")
int xdpturn_relay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	/* Row 1: BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header. */
	/* LCOV_EXCL_START: row 1 */
	if ((void *)(eth + 1) > data_end)
		return finish(XDP_PASS, XDPTURN_REASON_SHORT_ETHERNET);
		/* LCOV_EXCL_STOP */
#ifdef XDPTURN_PLANTED_UNREACHED_BRANCH
	/* Not a mutant: a condition on a value no generator or fixed case
	 * produces (a group address as the source MAC), which changes no
	 * verdict the checks see. Only the coverage gate can catch it. */
	if (eth->h_source[0] & 1)
		return finish(XDP_DROP, XDPTURN_REASON_NOT_IP);
#endif
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
		return finish(XDP_PASS, XDPTURN_REASON_VLAN_TAGGED);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return ipv4_frame(ctx, eth, data_end);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return ipv6_frame(ctx, eth, data_end);
	return finish(XDP_PASS, XDPTURN_REASON_NOT_IP);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
