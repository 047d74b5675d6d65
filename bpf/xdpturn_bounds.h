/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Bounds the verifiers of older kernels cannot see for themselves. */
#pragma once

#include <linux/types.h>
#include <bpf/bpf_endian.h>

/* A 16-bit network-order field, in host order, that packet-pointer
 * arithmetic may use on every kernel. The verifiers of 5.10, 6.1 and 6.12
 * keep no bounds on the result of a byte swap, so "data + bpf_ntohs(len)"
 * is refused there ("math between pkt pointer and register with unbounded
 * min value is not allowed"); 6.18's accepts it. A mask restores the bound,
 * but the compiler knows a swapped 16-bit value needs none and drops it:
 * the empty asm hides the value from the compiler, so the mask stays. */
static __always_inline __u32 ntohs_bounded(__be16 field)
{
	__u32 value = bpf_ntohs(field);

	asm volatile("" : "+r"(value));
	return value & 0xffff;
}
