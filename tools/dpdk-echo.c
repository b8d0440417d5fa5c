// SPDX-License-Identifier: GPL-2.0
/*
 * dpdk-echo: the application of the one-image demo.  It sends numbered,
 * patterned frames (frame.h, the format rawloop uses) on the first DPDK
 * port and checks, byte for byte, each one that comes back from whatever
 * reflects them outside: a loopback device, or a peer that returns frames
 * on the wire.  In the demo the port is DPDK's virtio-user PMD over
 * /dev/vhost-vdpa-N, so the same binary with the same arguments runs on
 * every vDPA backend.
 *
 * Usage: dpdk-echo EAL-OPTIONS -- [-c COUNT] [-s SIZE] [-w WINDOW]
 *                  [-t TIMEOUT_MS] [-p PATTERN]
 * Frames go to the port's own MAC address (a reflector returns them to
 * it).  Output: the rawloop summary line plus "rate N" (frames back per
 * second) and "mac M", then one line "ECHO-JSON {...}" for scripts.
 * Exit status: 0 when every frame came back intact exactly once, 1 when
 * one did not, 2 on a usage or set-up error.
 */

#include <getopt.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "frame.h"

#define ECHO_RING	256	/* descriptors per queue */
#define ECHO_BURST	32
#define ECHO_MBUFS	2047

struct echo_opts {
	unsigned long count;
	unsigned int window;
	unsigned int timeout_ms;
	struct frame_fmt fmt;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_ul(const char *s, unsigned long min, unsigned long max,
		    unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' || *out < min ||
	       *out > max ? -1 : 0;
}

static int parse_args(int argc, char **argv, struct echo_opts *o)
{
	unsigned long v;
	int c;

	while ((c = getopt(argc, argv, "c:s:w:t:p:")) != -1) {
		switch (c) {
		case 'c':
			if (parse_ul(optarg, 1, 100000000, &v))
				goto bad;
			o->count = v;
			break;
		case 's':
			if (parse_ul(optarg, FRAME_HDR_LEN, 1514, &v))
				goto bad;
			o->fmt.size = v;
			break;
		case 'w':
			if (parse_ul(optarg, 1, ECHO_RING / 2, &v))
				goto bad;
			o->window = v;
			break;
		case 't':
			if (parse_ul(optarg, 1, 600000, &v))
				goto bad;
			o->timeout_ms = v;
			break;
		case 'p':
			if (frame_parse_pattern(optarg, &o->fmt.pattern))
				goto bad;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
bad:
	fprintf(stderr, "dpdk-echo: bad value for -%c: %s\n", c, optarg);
	return -1;
}

static int port_setup(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(port);
	int r;

	memset(&conf, 0, sizeof(conf));
	r = rte_eth_dev_configure(port, 1, 1, &conf);
	if (!r)
		r = rte_eth_rx_queue_setup(port, 0, ECHO_RING, socket, NULL,
					   pool);
	if (!r)
		r = rte_eth_tx_queue_setup(port, 0, ECHO_RING, socket, NULL);
	if (!r)
		r = rte_eth_dev_start(port);
	if (r)
		fprintf(stderr, "dpdk-echo: port %u: set-up failed: %s\n",
			port, rte_strerror(-r));
	return r;
}

/* Send up to a burst, keeping at most o->window frames in flight. */
static int send_burst(uint16_t port, struct rte_mempool *pool,
		      const struct echo_opts *o, struct frame_stats *st)
{
	struct rte_mbuf *m[ECHO_BURST];
	unsigned long room = o->window - (st->sent - st->unique);
	unsigned int n = 0, i, done;
	char *p;

	while (n < ECHO_BURST && n < room && st->sent + n < o->count) {
		m[n] = rte_pktmbuf_alloc(pool);
		if (!m[n])
			break;
		p = rte_pktmbuf_append(m[n], o->fmt.size);
		if (!p) {
			rte_pktmbuf_free(m[n]);
			break;
		}
		frame_build((unsigned char *)p, &o->fmt, st->sent + n);
		n++;
	}
	done = rte_eth_tx_burst(port, 0, m, n);
	for (i = done; i < n; i++)
		rte_pktmbuf_free(m[i]);	/* built again on the next call */
	st->sent += done;
	st->tx_bytes += (unsigned long long)done * o->fmt.size;
	return done;
}

static int recv_burst(uint16_t port, const struct echo_opts *o,
		      struct frame_stats *st, unsigned char *buf)
{
	struct rte_mbuf *m[ECHO_BURST];
	const unsigned char *f;
	unsigned int n, i, len;
	int ours = 0;

	n = rte_eth_rx_burst(port, 0, m, ECHO_BURST);
	for (i = 0; i < n; i++) {
		len = rte_pktmbuf_pkt_len(m[i]);
		if (len > FRAME_MAX_LEN)
			len = FRAME_MAX_LEN;
		f = rte_pktmbuf_read(m[i], 0, len, buf);
		if (f && frame_check(&o->fmt, st, f, len, false))
			ours++;
		rte_pktmbuf_free(m[i]);
	}
	return ours;
}

static void run(uint16_t port, struct rte_mempool *pool,
		const struct echo_opts *o, struct frame_stats *st,
		unsigned char *buf)
{
	long long progress = now_ms();

	while (st->unique < o->count &&
	       now_ms() - progress <= o->timeout_ms) {
		if (send_burst(port, pool, o, st) +
		    recv_burst(port, o, st, buf))
			progress = now_ms();
	}
}

static void report(uint16_t port, const struct echo_opts *o,
		   const struct frame_stats *st, long long ms)
{
	struct rte_eth_stats es;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	double rate = ms > 0 ? st->intact * 1000.0 / ms : 0;

	memset(&es, 0, sizeof(es));
	rte_eth_stats_get(port, &es);
	rte_ether_format_addr(mac, sizeof(mac),
			      (const struct rte_ether_addr *)o->fmt.src);
	frame_print_stats(st);
	printf(" rate %.0f mac %s\n", rate, mac);
	printf("ECHO-JSON {\"sent\":%lu,\"received\":%lu,\"intact\":%lu,",
	       st->sent, st->received, st->intact);
	printf("\"corrupt\":%lu,\"lost\":%lu,\"dup\":%lu,\"size\":%u,",
	       st->corrupt, st->sent - st->unique, st->dup, o->fmt.size);
	printf("\"ms\":%lld,\"rate\":%.0f,\"mac\":\"%s\",", ms, rate, mac);
	printf("\"port_ipackets\":%llu,\"port_opackets\":%llu,",
	       (unsigned long long)es.ipackets,
	       (unsigned long long)es.opackets);
	printf("\"port_ierrors\":%llu,\"port_rx_nombuf\":%llu}\n",
	       (unsigned long long)es.ierrors,
	       (unsigned long long)es.rx_nombuf);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct echo_opts o = {
		.count = 10000,
		.window = 64,
		.timeout_ms = 3000,
		.fmt = { .size = 1000, .ethertype = 0x88b5, .pattern = PAT_SEQ },
	};
	struct frame_stats st = { 0 };
	struct rte_mempool *pool;
	struct rte_ether_addr mac;
	unsigned char *buf;
	long long t0;
	int ret = 2, n;
	uint16_t port = 0;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "dpdk-echo: EAL: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	if (parse_args(argc - n, argv + n, &o)) {
		fprintf(stderr, "usage: dpdk-echo EAL-OPTIONS -- [-c COUNT] [-s SIZE]\n");
		fprintf(stderr, "       [-w WINDOW] [-t TIMEOUT_MS] [-p seq|zero|ones|random]\n");
		goto out_eal;
	}
	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "dpdk-echo: no port (a --vdev is needed)\n");
		goto out_eal;
	}
	pool = rte_pktmbuf_pool_create("echo", ECHO_MBUFS, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_eth_dev_socket_id(port));
	st.seen = calloc(o.count, 1);
	st.want = malloc(FRAME_MAX_LEN);
	buf = malloc(FRAME_MAX_LEN);
	if (!pool) {
		fprintf(stderr, "dpdk-echo: mbuf pool: %s\n",
			rte_strerror(rte_errno));
		goto out_free;
	}
	if (!st.seen || !st.want || !buf) {
		fprintf(stderr, "dpdk-echo: out of memory\n");
		goto out_free;
	}
	if (port_setup(port, pool))
		goto out_free;
	rte_eth_macaddr_get(port, &mac);
	memcpy(o.fmt.src, mac.addr_bytes, FRAME_ETH_ALEN);
	memcpy(o.fmt.dst, mac.addr_bytes, FRAME_ETH_ALEN);
	o.fmt.run = (uint32_t)getpid() ^ (uint32_t)now_ms();

	t0 = now_ms();
	run(port, pool, &o, &st, buf);
	report(port, &o, &st, now_ms() - t0);
	ret = frame_all_intact(&st, o.count) ? 0 : 1;

	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
out_free:
	free(buf);
	free(st.want);
	free(st.seen);
	rte_mempool_free(pool);
out_eal:
	rte_eal_cleanup();
	return ret;
}
