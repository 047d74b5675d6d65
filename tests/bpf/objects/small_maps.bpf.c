// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A foreign object with xdpturn's layouts but binding maps of one entry:
 * it loads, yet no fixed case with two bindings fits. `cases` must say so
 * with exit 2, as `check` and `replay` do, never report the cases as
 * failed (hardening, issue 23 item 14). It passes every frame.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdpturn_abi.h"

const volatile __u16 turn_port = 0;
const volatile __u16 channel_min = 0;
const volatile __u16 channel_max = 0;
const volatile __u16 relay_port_min = 0;
const volatile __u16 relay_port_max = 0;
const volatile __u16 mtu = 0;
const volatile __u64 relay_address_ipv4[XDPTURN_ADDR_BYTES / sizeof(__u64)] = {};
const volatile __u64 relay_address_ipv6[XDPTURN_ADDR_BYTES / sizeof(__u64)] = {};
__u32 last_reason = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct xdpturn_binding_key);
	__type(value, struct xdpturn_binding_value);
} bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct xdpturn_peer_key);
	__type(value, struct xdpturn_peer_value);
} channels_by_peer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPTURN_REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} reason_counters SEC(".maps");

SEC("xdp")
int xdpturn_relay(struct xdp_md *ctx)
{
	(void)ctx;
	last_reason = XDPTURN_REASON_NOT_IP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
