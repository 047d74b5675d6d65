// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The data-path benchmark's load generator (docs/performance.md). User
 * space runs it with BPF_PROG_TEST_RUN in live-frames mode on the load
 * side's end of the veth pair: each run turns the prepared frame into the
 * next flow's frame and sends it with XDP_TX, so it goes out to the relay.
 *
 * Each run first asks whether a frame is due (struct datapath_control).
 *
 * The kernel does not restore a frame's bytes between runs (only its
 * pointers), so every run writes all the headers and the payload's head;
 * the rest of the payload, a fixed pattern, nobody writes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "datapath_load.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DATAPATH_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct datapath_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct datapath_control);
} control SEC(".maps");

static __u64 fold_checksum(__u64 sum)
{
	/* Four folds bring any 64-bit sum to 16 bits. */
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The 16-bit words of a 64-bit field as they lie in the frame. */
static __u64 sum_words(__u64 value)
{
	return (value & 0xffff) + ((value >> 16) & 0xffff) + ((value >> 32) & 0xffff) +
	       (value >> 48);
}

static void write_payload(struct datapath_payload *payload, const struct datapath_flow *flow,
			  __u32 step, __u64 flow_seq)
{
	__u64 sent_ns = flow_seq % DATAPATH_TIMED_EVERY == 0 ? bpf_ktime_get_ns() : 0;

	payload->magic = bpf_htonl(DATAPATH_MAGIC);
	payload->flow = bpf_htonl(flow->flow);
	payload->step = bpf_htonl(step);
	payload->check = bpf_htonl(datapath_check(flow->flow, step, flow_seq, sent_ns));
	payload->flow_seq = bpf_cpu_to_be64(flow_seq);
	payload->sent_ns = bpf_cpu_to_be64(sent_ns);
}

/* The UDP checksum: the template's sum plus the per-frame fields. */
static __u16 udp_checksum(const struct datapath_flow *flow, const struct datapath_payload *payload)
{
	__u64 sum = flow->checksum_partial;

	sum += sum_words((__u64)payload->step | ((__u64)payload->check << 32));
	sum += sum_words(payload->flow_seq) + sum_words(payload->sent_ns);
	__u16 checksum = ~fold_checksum(sum) & 0xffff;
	/* 0 means "no checksum" in UDP over IPv4 (RFC 768). */
	return checksum ? checksum : 0xffff;
}

/* Whether the step's schedule has a frame due at `now`. */
static int frame_due(const struct datapath_control *state, __u64 now)
{
	if (now < state->start_ns || now >= state->end_ns)
		return 0;
	if (state->rate == 0)
		return 1;
	/* In microseconds: no overflow below 10^8 frames a second for days. */
	__u64 owed = (now - state->start_ns) / 1000 * state->rate / 1000000;
	return state->next_seq < owed;
}

SEC("xdp")
int datapath_generate(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct datapath_control *state = bpf_map_lookup_elem(&control, &zero);
	if (!state || state->flow_count == 0)
		return XDP_ABORTED;
	if (state->runs++ % DATAPATH_CLOCK_RUNS == 0)
		state->clock_ns = bpf_ktime_get_ns();
	if (!frame_due(state, state->clock_ns))
		return XDP_DROP;
	/* A test run's program runs with bottom halves off on one CPU, and
	 * every injecting thread is pinned to the same CPU: no other run
	 * races this counter. */
	__u64 seq = state->next_seq++;
	__u32 index = seq % state->flow_count;
	const struct datapath_flow *flow = bpf_map_lookup_elem(&flows, &index);
	if (!flow)
		return XDP_ABORTED;
	if (!flow->with_channel_header &&
	    bpf_xdp_adjust_head(ctx, DATAPATH_CHANNEL_HEADER_BYTES) != 0)
		return XDP_ABORTED;

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct datapath_payload *payload;
	if (flow->with_channel_header) {
		payload = data + DATAPATH_HEADER_MAX;
		if ((void *)(payload + 1) > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(data, flow->header, DATAPATH_HEADER_MAX);
	} else {
		payload = data + DATAPATH_UDP_HEADERS_END;
		if ((void *)(payload + 1) > data_end)
			return XDP_ABORTED;
		__builtin_memcpy(data, flow->header + DATAPATH_CHANNEL_HEADER_BYTES,
				 DATAPATH_UDP_HEADERS_END);
	}
	write_payload(payload, flow, state->step, seq / state->flow_count);
	__u16 *checksum = data + DATAPATH_UDP_CHECKSUM_OFFSET;
	*checksum = udp_checksum(flow, payload);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
