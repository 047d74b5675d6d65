/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one interface shared by the XDP program (bpf/xdpturn.bpf.c) and the
 * C++ toolkit: binding map layout, reason codes and the names user space
 * looks up in the object. Nothing else is shared between the two engines.
 *
 * Byte order: every address, port and channel number in the map key and
 * value is stored in network byte order, exactly as on the wire, so the
 * data path compares and copies them without conversions (field-notes
 * bug class 3). User space converts once, when it writes the map.
 */
#ifndef XDPTURN_ABI_H
#define XDPTURN_ABI_H

#include <linux/types.h>

/* Capacity of the binding map: one entry per (client, channel). */
#define XDPTURN_MAX_BINDINGS 65536

/* Object names user space resolves (maps, program, globals). */
#define XDPTURN_PROG_NAME "xdpturn_relay"
#define XDPTURN_BINDINGS_MAP_NAME "bindings"
#define XDPTURN_CHANNELS_MAP_NAME "channels_by_peer"
#define XDPTURN_COUNTERS_MAP_NAME "reason_counters"
/* .rodata globals, set before load: TURN port and inclusive channel range,
 * all in host byte order (they are configuration, never wire data). */
#define XDPTURN_RODATA_TURN_PORT "turn_port"
#define XDPTURN_RODATA_CHANNEL_MIN "channel_min"
#define XDPTURN_RODATA_CHANNEL_MAX "channel_max"
/* Inclusive range of allocation (relayed) ports, and the largest IPv4
 * packet the relay may send (the outgoing link's MTU). */
#define XDPTURN_RODATA_RELAY_PORT_MIN "relay_port_min"
#define XDPTURN_RODATA_RELAY_PORT_MAX "relay_port_max"
#define XDPTURN_RODATA_MTU "mtu"
/* The relay's own address of each family, 16 bytes in the maps' form (see
 * below; all zero: none), the source of an output whose family differs
 * from its input's (RFC 6156 allocations, "4<->6"). */
#define XDPTURN_RODATA_RELAY_ADDRESS_IPV4 "relay_address_ipv4"
#define XDPTURN_RODATA_RELAY_ADDRESS_IPV6 "relay_address_ipv6"
/* .bss global holding the reason of the most recent verdict, so the test
 * harness reads it through mmap instead of a syscall per frame. */
#define XDPTURN_BSS_LAST_REASON "last_reason"

/*
 * Addresses of both families are 16 bytes: an IPv6 address as on the wire,
 * an IPv4 address in its IPv4-mapped form ::ffff:a.b.c.d (RFC 4291 Section
 * 2.5.5.2). One map then serves both families, and an IPv4 key can never
 * equal an IPv6 one.
 */
#define XDPTURN_ADDR_BYTES 16
/* Bytes 0-11 of an IPv4-mapped address: ten zero bytes, then 0xff 0xff. */
#define XDPTURN_V4_MAPPED_PREFIX_BYTES 12

/* (client transport address, channel number) as seen in the arriving frame. */
struct xdpturn_binding_key {
	__u8 client_addr[XDPTURN_ADDR_BYTES];
	__be16 client_port;
	__be16 channel;
};

/* Where the channel's data goes: the allocation's relayed port and the peer. */
struct xdpturn_binding_value {
	__u8 peer_addr[XDPTURN_ADDR_BYTES];
	__be16 peer_port;
	__be16 allocation_port;
};

/*
 * The reverse of a binding, for peer -> client: (peer transport address,
 * allocation port) as seen in a datagram from the peer. User space writes
 * one entry per binding, so the two maps always describe the same channels.
 */
struct xdpturn_peer_key {
	__u8 peer_addr[XDPTURN_ADDR_BYTES];
	__be16 peer_port;
	__be16 allocation_port;
};

/* Whom the peer's data goes to, and on which channel. */
struct xdpturn_peer_value {
	__u8 client_addr[XDPTURN_ADDR_BYTES];
	__be16 client_port;
	__be16 channel;
};

/*
 * One code per row of docs/datapath.md, in the order the program tests them.
 * Each frame ends in exactly one reason; the per-CPU counter of that reason
 * is incremented once. Values are stable: reports and pcaps refer to them.
 */
enum xdpturn_reason {
	XDPTURN_REASON_SHORT_ETHERNET = 0,
	XDPTURN_REASON_VLAN_TAGGED = 1,
	XDPTURN_REASON_NOT_IP = 2,
	XDPTURN_REASON_SHORT_IPV4 = 3,
	XDPTURN_REASON_IPV4_VERSION = 4,
	XDPTURN_REASON_IPV4_OPTIONS = 5,
	XDPTURN_REASON_IPV4_FRAGMENT = 6,
	XDPTURN_REASON_NOT_UDP = 7,
	XDPTURN_REASON_SHORT_UDP = 8,
	XDPTURN_REASON_WRONG_PORT = 9,
	XDPTURN_REASON_IPV4_LENGTH = 10,
	XDPTURN_REASON_UDP_LENGTH = 11,
	XDPTURN_REASON_IPV4_CHECKSUM = 12,
	XDPTURN_REASON_SHORT_CHANNEL = 13,
	XDPTURN_REASON_CHANNEL_RANGE = 14,
	XDPTURN_REASON_CHANNEL_LENGTH = 15,
	XDPTURN_REASON_CHANNEL_PADDING = 16,
	XDPTURN_REASON_NO_BINDING = 17,
	XDPTURN_REASON_RELAYED = 18,
	XDPTURN_REASON_REWRITE_FAILED = 19,
	/* Added with the peer -> client path; codes above stay as they were. */
	XDPTURN_REASON_HAIRPIN = 20,
	XDPTURN_REASON_NO_CHANNEL = 21,
	XDPTURN_REASON_TOO_BIG = 22,
	XDPTURN_REASON_ENCAPSULATED = 23,
	/* Added with IPv6; code 2 (then not_ipv4) now means "neither family". */
	XDPTURN_REASON_SHORT_IPV6 = 24,
	XDPTURN_REASON_IPV6_VERSION = 25,
	XDPTURN_REASON_IPV6_EXTENSION = 26,
	XDPTURN_REASON_IPV6_LENGTH = 27,
	XDPTURN_REASON_IPV6_ZERO_CHECKSUM = 28,
	XDPTURN_REASON_OTHER_FAMILY = 29,
	XDPTURN_REASON_COUNT = 30,
};

/* ChannelData framing (RFC 8656 Section 12.4). */
#define XDPTURN_CHANNEL_HEADER_BYTES 4
/* Most padding accepted after Length over UDP: up to the next multiple of 4. */
#define XDPTURN_MAX_CHANNEL_PADDING 3

#endif /* XDPTURN_ABI_H */
