/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The data-path benchmark's load generator: the frame templates user space
 * writes into its maps and the payload every generated datagram carries
 * (docs/performance.md). This is the benchmark's own format, shared by the
 * generator program and the sink; it is no part of the relay's map ABI.
 */
#ifndef XDPTURN_DATAPATH_LOAD_H
#define XDPTURN_DATAPATH_LOAD_H

#include <linux/types.h>

/* Ethernet (14) + IPv4 without options (20) + UDP (8) + ChannelData (4). */
#define DATAPATH_UDP_HEADERS_END 42
#define DATAPATH_CHANNEL_HEADER_BYTES 4
#define DATAPATH_HEADER_MAX (DATAPATH_UDP_HEADERS_END + DATAPATH_CHANNEL_HEADER_BYTES)
/* Where the UDP checksum sits, from the frame's first byte. */
#define DATAPATH_UDP_CHECKSUM_OFFSET 40
#define DATAPATH_MAX_FLOWS 4096
#define DATAPATH_UDP_HEADER_BYTES 8
#define DATAPATH_MAGIC 0x58445042 /* "XDPB" */
/*
 * Reading the clock is the dearest thing the generator and the sink do (a
 * paravirtual clock costs some tens of nanoseconds in a VM): the generator
 * paces itself by a clock read every DATAPATH_CLOCK_RUNS runs, and only one
 * frame of a flow in DATAPATH_TIMED_EVERY carries a timestamp (sent_ns 0:
 * untimed), which the sink reads the clock for.
 */
#define DATAPATH_CLOCK_RUNS 16
#define DATAPATH_TIMED_EVERY 16

/*
 * One flow's headers. A ChannelData frame (client -> relay) uses all of
 * `header`; a plain UDP frame (peer -> relayed address) only its last
 * DATAPATH_UDP_HEADERS_END bytes, so that both kinds put the payload at the
 * same place in the frame and the generator never moves it.
 */
struct datapath_flow {
	__u8 header[DATAPATH_HEADER_MAX];
	__u16 with_channel_header;
	__u32 flow;
	/* The UDP checksum's one's complement sum over the pseudo header,
	 * the headers and the payload with its per-frame fields zero, as
	 * 16-bit words loaded in host order, not folded. */
	__u64 checksum_partial;
};

/*
 * A step's schedule and what the generator changes per frame. A live test
 * run costs tens of milliseconds to set up and tear down, so user space
 * makes few, long runs and the program paces itself: a frame not yet due
 * is dropped unsent, as is every frame once the step is over.
 */
struct datapath_control {
	__u64 next_seq; /* frames sent, over all flows; flow = seq % flow_count */
	__u64 runs;	/* every run, sent or not */
	__u64 clock_ns; /* the clock as last read: every DATAPATH_CLOCK_RUNS runs */
	__u64 rate;	/* frames a second; 0: as fast as it goes */
	__u64 start_ns; /* CLOCK_MONOTONIC */
	__u64 end_ns;
	__u32 flow_count;
	__u32 step;
};

/* The start of every payload, network byte order. */
struct datapath_payload {
	__be32 magic;
	__be32 flow;
	__be32 step;
	__be32 check; /* datapath_check() of the fields below */
	__be64 flow_seq;
	__be64 sent_ns; /* CLOCK_MONOTONIC, as bpf_ktime_get_ns(); 0: untimed */
};

/* Ties the per-frame fields together: a payload with one of them changed
 * on the way no longer matches. */
static inline __u32 datapath_check(__u32 flow, __u32 step, __u64 flow_seq, __u64 sent_ns)
{
	__u64 mixed =
		(flow_seq ^ (sent_ns << 1) ^ ((__u64)step << 32) ^ flow) * 0x9E3779B97F4A7C15ull;
	return (__u32)(mixed >> 32);
}

/*
 * The sink at the load side's interface (datapath_sink.bpf.c): what it
 * expects of each flow's datagrams as they leave the relay, and what it
 * counts per step.
 */
#define DATAPATH_MAX_STEPS 32
#define DATAPATH_MAX_PAYLOAD 1400
/* Delays in log-linear buckets: 16 per power of two, about 6% wide. */
#define DATAPATH_DELAY_SUB_BITS 4
#define DATAPATH_DELAY_BUCKETS ((64 - DATAPATH_DELAY_SUB_BITS + 1) << DATAPATH_DELAY_SUB_BITS)

struct datapath_expected {
	__u8 source[4]; /* the relay's address on the way out */
	__u8 destination[4];
	__be16 source_port;
	__be16 destination_port;
	__be16 channel;	 /* ChannelData to a client; 0: plain UDP to a peer */
	__u16 direction; /* 0 to the peer, 1 to the client */
};

struct datapath_sink_config {
	__u32 flow_count;
	__u32 payload_bytes;
};

/* The sink's state of one flow: the step it is in, the highest sequence
 * number seen, and which of the 1024 below it were seen (duplicates). */
#define DATAPATH_WINDOW_WORDS 16
struct datapath_flow_track {
	__u32 step;
	__u32 seen;
	__u64 highest;
	__u64 window[DATAPATH_WINDOW_WORDS];
};

struct datapath_tally {
	__u64 delivered[2]; /* distinct and intact, per direction */
	__u64 duplicates;
	__u64 reordered;
	__u64 corrupt;	  /* not as sent: bytes, length or UDP checksum */
	__u64 wrong_flow; /* intact, but with another flow's addresses or channel */
	__u64 late;	  /* after its flow's next step had begun */
	__u64 delay_max;
	__u64 delay[DATAPATH_DELAY_BUCKETS];
};

/* floor(log2(value)) for value > 0, without a count-leading-zeros. */
static inline __u32 datapath_log2(__u64 value)
{
	__u32 log = 0;
	if (value >> 32) {
		value >>= 32;
		log += 32;
	}
	if (value >> 16) {
		value >>= 16;
		log += 16;
	}
	if (value >> 8) {
		value >>= 8;
		log += 8;
	}
	if (value >> 4) {
		value >>= 4;
		log += 4;
	}
	if (value >> 2) {
		value >>= 2;
		log += 2;
	}
	if (value >> 1)
		log += 1;
	return log;
}

static inline __u32 datapath_delay_bucket(__u64 nanoseconds)
{
	const __u64 sub_buckets = 1ull << DATAPATH_DELAY_SUB_BITS;
	if (nanoseconds < sub_buckets)
		return (__u32)nanoseconds;
	__u32 shift = datapath_log2(nanoseconds) - DATAPATH_DELAY_SUB_BITS;
	return ((shift + 1) << DATAPATH_DELAY_SUB_BITS) +
	       (__u32)((nanoseconds >> shift) - sub_buckets);
}

/* The pattern after the payload's head. */
static inline __u8 datapath_fill_byte(__u32 payload_offset)
{
	return (__u8)(payload_offset * 131 + 7);
}

#endif
