// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The data-path benchmark's sink (docs/performance.md), attached to the
 * load side's end of the veth pair where the clients and the peers live.
 * Every datagram a relay delivers there with the benchmark's payload is
 * checked and counted, then dropped:
 *   - intact: UDP checksum, length, the payload's head (its check field)
 *     and every byte of its pattern;
 *   - on its flow: the addresses, ports and channel the flow's binding
 *     gives (struct datapath_expected);
 *   - new: no sequence number of the flow seen twice (a 1024-wide window);
 *   - its one-way delay, from the generator's timestamp (one clock), when
 *     it carries one.
 * Anything else (signalling, ARP) goes to the stack. A socket sink costs
 * microseconds a datagram and would be the bottleneck; this one does not.
 *
 * veth has one receive queue, whose NAPI poll runs on one CPU at a time:
 * a flow's state has one writer. The counters are added atomically anyway.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "datapath_load.h"
#include "xdpturn_bounds.h"

#define WINDOW_BITS (DATAPATH_WINDOW_WORDS * 64)
#define IPV4_FRAGMENT_BITS 0x3fff /* more-fragments flag and offset */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct datapath_sink_config);
} sink_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DATAPATH_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct datapath_expected);
} expected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DATAPATH_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct datapath_flow_track);
} tracks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DATAPATH_MAX_STEPS);
	__type(key, __u32);
	__type(value, struct datapath_tally);
} tallies SEC(".maps");

static void count(__u64 *counter)
{
	__sync_fetch_and_add(counter, 1);
}

static int corrupt(struct datapath_tally *tally)
{
	if (tally)
		count(&tally->corrupt);
	return XDP_DROP;
}

/* The one's complement sum of the UDP segment as host-order words. */
static __u64 sum_segment(const __u16 *words, void *data_end, __u32 bytes)
{
	__u64 sum = 0;
	for (__u32 i = 0; i < (DATAPATH_HEADER_MAX + DATAPATH_MAX_PAYLOAD) / 2; i++) {
		if (i * 2 >= bytes)
			break;
		if ((void *)(words + i + 1) > data_end)
			break;
		sum += words[i];
	}
	return sum;
}

static int udp_checksum_valid(const struct iphdr *ip, const struct udphdr *udp, void *data_end,
			      __u32 udp_bytes)
{
	if (udp->check == 0)
		return 1; /* none (RFC 768); the relays under test always send one */
	if (udp_bytes & 1)
		return 0; /* the benchmark's datagrams have even lengths */
	__u64 sum = (ip->saddr & 0xffff) + (ip->saddr >> 16) + (ip->daddr & 0xffff) +
		    (ip->daddr >> 16) + bpf_htons(IPPROTO_UDP) + udp->len;
	sum += sum_segment((const __u16 *)udp, data_end, udp_bytes);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static int pattern_intact(const __u8 *payload, void *data_end, __u32 bytes)
{
	for (__u32 i = sizeof(struct datapath_payload); i < DATAPATH_MAX_PAYLOAD; i++) {
		if (i >= bytes)
			return 1;
		if ((void *)(payload + i + 1) > data_end)
			return 0;
		if (payload[i] != datapath_fill_byte(i))
			return 0;
	}
	return 1;
}

static int on_its_flow(const struct datapath_expected *want, const struct iphdr *ip,
		       const struct udphdr *udp, __be16 channel)
{
	return __builtin_memcmp(&ip->saddr, want->source, 4) == 0 &&
	       __builtin_memcmp(&ip->daddr, want->destination, 4) == 0 &&
	       udp->source == want->source_port && udp->dest == want->destination_port &&
	       channel == want->channel;
}

/* Whether `seq` is new to the flow; counts reordering and duplicates. */
static int first_time(struct datapath_flow_track *track, __u64 seq, struct datapath_tally *tally)
{
	if (seq > track->highest) {
		__u64 gap = seq - track->highest;
		if (gap >= WINDOW_BITS) {
			for (int w = 0; w < DATAPATH_WINDOW_WORDS; w++)
				track->window[w] = 0;
		} else {
			/* Clear the bits of the numbers skipped over. */
			for (__u32 k = 1; k < WINDOW_BITS; k++) {
				if (k >= gap)
					break;
				__u64 skipped = track->highest + k;
				track->window[(skipped / 64) % DATAPATH_WINDOW_WORDS] &=
					~(1ull << (skipped % 64));
			}
		}
		track->highest = seq;
	} else if (track->highest - seq >= WINDOW_BITS) {
		count(&tally->reordered); /* too far back to tell */
		return 1;
	} else if (track->window[(seq / 64) % DATAPATH_WINDOW_WORDS] & (1ull << (seq % 64))) {
		count(&tally->duplicates);
		return 0;
	} else {
		count(&tally->reordered);
	}
	track->window[(seq / 64) % DATAPATH_WINDOW_WORDS] |= 1ull << (seq % 64);
	return 1;
}

static void record_delay(struct datapath_tally *tally, __u64 sent_ns)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 delay = now > sent_ns ? now - sent_ns : 0;
	__u64 bucket = datapath_delay_bucket(delay);
	/* Keeps clang from folding the bounds test into the address
	 * arithmetic, where the verifier cannot see it. */
	asm volatile("" : "+r"(bucket));
	if (bucket < DATAPATH_DELAY_BUCKETS)
		count(&tally->delay[bucket]);
	if (delay > tally->delay_max)
		tally->delay_max = delay;
}

/* Checks and counts one payload that has the benchmark's magic. */
static __always_inline int take(const struct iphdr *ip, const struct udphdr *udp, void *data_end,
				const struct datapath_payload *head, __u32 payload_bytes,
				__be16 channel)
{
	__u32 zero = 0;
	struct datapath_tally *first = bpf_map_lookup_elem(&tallies, &zero);
	const struct datapath_sink_config *config = bpf_map_lookup_elem(&sink_config, &zero);
	if (!config || payload_bytes != config->payload_bytes)
		return corrupt(first);
	__u32 step = bpf_ntohl(head->step), flow = bpf_ntohl(head->flow);
	__u64 seq = bpf_be64_to_cpu(head->flow_seq), sent_ns = bpf_be64_to_cpu(head->sent_ns);
	/* Until the head is known intact, its step is not: step 0 counts. */
	if (bpf_ntohl(head->check) != datapath_check(flow, step, seq, sent_ns) ||
	    step >= DATAPATH_MAX_STEPS || flow >= config->flow_count)
		return corrupt(first);
	struct datapath_tally *tally = bpf_map_lookup_elem(&tallies, &step);
	const struct datapath_expected *want = bpf_map_lookup_elem(&expected, &flow);
	struct datapath_flow_track *track = bpf_map_lookup_elem(&tracks, &flow);
	if (!tally || !want || !track)
		return XDP_ABORTED;
	if (!udp_checksum_valid(ip, udp, data_end, bpf_ntohs(udp->len)) ||
	    !pattern_intact((const __u8 *)head, data_end, payload_bytes))
		return corrupt(tally);
	if (!on_its_flow(want, ip, udp, channel)) {
		count(&tally->wrong_flow);
		return XDP_DROP;
	}
	if (step < track->step) {
		count(&tally->late);
	} else if (!track->seen || step > track->step) {
		track->step = step;
		track->seen = 1;
		track->highest = seq;
		for (int w = 0; w < DATAPATH_WINDOW_WORDS; w++)
			track->window[w] = 0;
		track->window[(seq / 64) % DATAPATH_WINDOW_WORDS] |= 1ull << (seq % 64);
	} else if (!first_time(track, seq, tally)) {
		return XDP_DROP;
	}
	count(&tally->delivered[want->direction & 1]);
	if (sent_ns != 0)
		record_delay(tally, sent_ns);
	return XDP_DROP;
}

SEC("xdp")
int datapath_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(IPV4_FRAGMENT_BITS)))
		return XDP_PASS;
	__u32 udp_bytes = ntohs_bounded(udp->len);
	if (udp_bytes < sizeof(*udp) || (void *)udp + udp_bytes > data_end)
		return XDP_PASS;
	__u32 bytes = udp_bytes - sizeof(*udp);
	__u8 *payload = (void *)(udp + 1);
	struct datapath_payload *head = (void *)payload;
	/* A plain datagram to a peer: the payload right after UDP. */
	if ((void *)(head + 1) <= data_end && head->magic == bpf_htonl(DATAPATH_MAGIC))
		return take(ip, udp, data_end, head, bytes, 0);
	/* ChannelData to a client: the payload after its channel header,
	 * padding to four bytes allowed (RFC 8656, 12.5). */
	__be16 *channel_header = (void *)payload;
	head = (void *)(payload + DATAPATH_CHANNEL_HEADER_BYTES);
	if ((void *)(head + 1) > data_end || head->magic != bpf_htonl(DATAPATH_MAGIC))
		return XDP_PASS;
	__u32 length = bpf_ntohs(channel_header[1]);
	if (length + DATAPATH_CHANNEL_HEADER_BYTES > bytes ||
	    bytes > DATAPATH_CHANNEL_HEADER_BYTES + ((length + 3) & ~3u)) {
		__u32 zero = 0;
		return corrupt(bpf_map_lookup_elem(&tallies, &zero));
	}
	return take(ip, udp, data_end, head, length, channel_header[0]);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
