// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Refused by every verifier: it reads the frame's EtherType without checking
 * the frame is that long. `xdpturn verify` must name it refused, with the
 * verifier's reason, and exit 1 (docs/kernels.md). Built outside the
 * directory of objects that ci/kernels verifies on every kernel.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int unchecked_packet_read(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	return eth->h_proto ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
