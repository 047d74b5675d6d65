// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A foreign object that uses xdpturn's map and variable names but other
 * layouts: a counter map with 4-byte values and room for 2 reasons, and a
 * binding map with a 4-byte key. Loading it must be refused with a message
 * naming the map and the mismatch, never crash (hardening, issue 10 item 8).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdpturn_abi.h"

const volatile __u16 turn_port = 0;
const volatile __u16 channel_min = 0;
const volatile __u16 channel_max = 0;
__u32 last_reason = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct xdpturn_binding_value);
} bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} reason_counters SEC(".maps");

SEC("xdp")
int xdpturn_relay(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u32 *counter = bpf_map_lookup_elem(&reason_counters, &key);

	(void)ctx;
	if (counter)
		*counter += 1;
	last_reason = XDPTURN_REASON_NOT_IP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
