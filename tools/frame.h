/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test frame shared by rawloop (AF_PACKET) and dpdk-echo (a DPDK port):
 * Ethernet header, magic, run id, sequence number, then a payload pattern
 * derived from the sequence number, so a frame that comes back is checked
 * byte for byte, and a frame of another run or program is told apart.
 */
#ifndef VDPA_OOT_FRAME_H
#define VDPA_OOT_FRAME_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FRAME_ETH_ALEN	6
#define FRAME_ETH_HLEN	14
#define FRAME_MAGIC	0x524c4f4fu	/* "RLOO" */
#define FRAME_HDR_LEN	(FRAME_ETH_HLEN + 12)	/* + magic, run, seq */
#define FRAME_MAX_LEN	65535

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

enum frame_pattern { PAT_SEQ, PAT_ZERO, PAT_ONES, PAT_RANDOM };

/* What every frame of one run has in common. */
struct frame_fmt {
	unsigned char dst[FRAME_ETH_ALEN];
	unsigned char src[FRAME_ETH_ALEN];
	unsigned int ethertype;
	unsigned int size;	/* whole frame, Ethernet header included */
	enum frame_pattern pattern;
	uint32_t run;
};

/* What came back: @unique frames of @sent, each seen once in @seen. */
struct frame_stats {
	unsigned long sent, received, unique, intact, corrupt, dup, foreign;
	unsigned long long tx_bytes, rx_bytes;
	unsigned char *seen;	/* one flag per sequence number */
	unsigned char *want;	/* scratch: the frame expected */
};

static inline int frame_parse_pattern(const char *s, enum frame_pattern *p)
{
	static const char * const names[] = { "seq", "zero", "ones", "random" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*p = (enum frame_pattern)i;
			return 0;
		}
	}
	return -1;
}

static inline uint32_t frame_xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static inline void frame_put_be32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static inline uint32_t frame_get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* Fill @len payload bytes for frame @seq. */
static inline void frame_fill_payload(unsigned char *p, size_t len,
				      uint32_t seq, enum frame_pattern pat)
{
	uint32_t state = seq * 2654435761u + 1;
	size_t i;

	switch (pat) {
	case PAT_ZERO:
		memset(p, 0, len);
		break;
	case PAT_ONES:
		memset(p, 0xff, len);
		break;
	case PAT_RANDOM:
		for (i = 0; i < len; i++)
			p[i] = frame_xorshift32(&state) >> 24;
		break;
	case PAT_SEQ:
	default:
		for (i = 0; i < len; i++)
			p[i] = (seq + i * 7) & 0xff;
		break;
	}
}

/* Write frame @seq of @fmt (fmt->size bytes) to @f. */
static inline void frame_build(unsigned char *f, const struct frame_fmt *fmt,
			       uint32_t seq)
{
	memcpy(f, fmt->dst, FRAME_ETH_ALEN);
	memcpy(f + FRAME_ETH_ALEN, fmt->src, FRAME_ETH_ALEN);
	f[12] = fmt->ethertype >> 8;
	f[13] = fmt->ethertype & 0xff;
	frame_put_be32(f + FRAME_ETH_HLEN, FRAME_MAGIC);
	frame_put_be32(f + FRAME_ETH_HLEN + 4, fmt->run);
	frame_put_be32(f + FRAME_ETH_HLEN + 8, seq);
	frame_fill_payload(f + FRAME_HDR_LEN, fmt->size - FRAME_HDR_LEN, seq,
			   fmt->pattern);
}

/*
 * Account for one received frame @f of @len bytes; @st->want must hold
 * fmt->size bytes.  Returns true when the frame was one of this run's.
 */
static inline bool frame_check(const struct frame_fmt *fmt,
			       struct frame_stats *st,
			       const unsigned char *f, size_t len,
			       bool verbose)
{
	uint32_t seq;

	if (len < FRAME_HDR_LEN ||
	    frame_get_be32(f + FRAME_ETH_HLEN) != FRAME_MAGIC ||
	    frame_get_be32(f + FRAME_ETH_HLEN + 4) != fmt->run) {
		st->foreign++;
		return false;
	}
	seq = frame_get_be32(f + FRAME_ETH_HLEN + 8);
	st->received++;
	st->rx_bytes += len;
	if (seq >= st->sent) {
		st->corrupt++;
		if (verbose)
			fprintf(stderr, "bad sequence %u\n", seq);
		return true;
	}
	if (st->seen[seq]) {
		st->dup++;
		return true;
	}
	st->seen[seq] = 1;
	st->unique++;
	frame_build(st->want, fmt, seq);
	if (len != fmt->size || memcmp(st->want, f, len)) {
		st->corrupt++;
		if (verbose)
			fprintf(stderr, "frame %u corrupt (len %zu)\n", seq,
				len);
		return true;
	}
	st->intact++;
	return true;
}

/* The summary line both programs print, without its newline. */
static inline void frame_print_stats(const struct frame_stats *st)
{
	printf("sent %lu received %lu intact %lu corrupt %lu lost %lu",
	       st->sent, st->received, st->intact, st->corrupt,
	       st->sent - st->unique);
	printf(" dup %lu foreign %lu tx_bytes %llu rx_bytes %llu", st->dup,
	       st->foreign, st->tx_bytes, st->rx_bytes);
}

/* True when all @count frames were sent and came back intact once. */
static inline bool frame_all_intact(const struct frame_stats *st,
				    unsigned long count)
{
	return st->sent == count && st->intact == count && !st->corrupt &&
	       !st->dup;
}

#endif /* VDPA_OOT_FRAME_H */
