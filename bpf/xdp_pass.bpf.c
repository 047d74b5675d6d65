// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A program that passes every frame. Tests attach it to the far end of a
 * veth pair: a frame sent there with XDP_TX is only received by an end that
 * has an XDP program attached (field notes, "XDP on veth").
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
