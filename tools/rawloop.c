// SPDX-License-Identifier: GPL-2.0
/*
 * rawloop: send Ethernet frames on an interface through AF_PACKET and check
 * that each one comes back intact on the same interface (a loopback device
 * such as the vdpa_sim_net simulator returns every transmitted frame).
 *
 * Every frame carries a magic, a run id, a sequence number and a payload
 * pattern derived from the sequence number, so a frame that comes back is
 * checked byte for byte.  At most --window frames are in flight, so a
 * device with a small receive ring is not overrun.
 *
 * Output: one summary line
 *   sent N received N intact N corrupt N lost N dup N foreign N
 *   tx_bytes N rx_bytes N
 * Exit status: 0 when every frame came back intact exactly once, 1 when a
 * frame was lost, corrupted or duplicated, 2 on a usage or system error
 * (including the interface going away).
 */

#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct rl_opts {
	const char *ifname;
	unsigned long count;
	unsigned int timeout_ms;
	unsigned int window;
	bool have_dst;
	bool verbose;
	struct frame_fmt fmt;	/* src and run are filled in by main() */
};

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: rawloop [options] -i IFACE\n"
		"  -i, --iface IFACE      interface to send on and receive from\n"
		"  -c, --count N          frames to send (default 100)\n"
		"  -s, --size N           frame size in bytes incl. the 14-byte\n"
		"                         Ethernet header, %d..%d (default 64)\n"
		"  -e, --ethertype T      EtherType (default 0x88b5)\n"
		"  -t, --timeout MS       give up after MS ms without progress\n"
		"                         (default 2000)\n"
		"  -w, --window N         frames in flight at most (default 32)\n"
		"  -p, --pattern P        payload: seq, zero, ones, random\n"
		"                         (default seq)\n"
		"  -d, --dst MAC          destination MAC (default: the\n"
		"                         interface's own address)\n"
		"  -v, --verbose          report every bad frame\n",
		FRAME_HDR_LEN, FRAME_MAX_LEN);
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[ETH_ALEN];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != ETH_ALEN)
		return -1;
	for (i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct rl_opts *o)
{
	static const struct option lopts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "ethertype", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'w' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "dst", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "i:c:s:e:t:w:p:d:vh", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'c':
			if (parse_ulong(optarg, 0xffffffffUL, &v))
				goto bad;
			o->count = v;
			break;
		case 's':
			if (parse_ulong(optarg, FRAME_MAX_LEN, &v) ||
			    v < FRAME_HDR_LEN)
				goto bad;
			o->fmt.size = v;
			break;
		case 'e':
			if (parse_ulong(optarg, 0xffff, &v) || v < ETH_P_802_3_MIN)
				goto bad;
			o->fmt.ethertype = v;
			break;
		case 't':
			if (parse_ulong(optarg, 3600000, &v) || !v)
				goto bad;
			o->timeout_ms = v;
			break;
		case 'w':
			if (parse_ulong(optarg, 65536, &v) || !v)
				goto bad;
			o->window = v;
			break;
		case 'p':
			if (frame_parse_pattern(optarg, &o->fmt.pattern))
				goto bad;
			break;
		case 'd':
			if (parse_mac(optarg, o->fmt.dst))
				goto bad;
			o->have_dst = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			print_help(stdout);
			exit(0);
		default:
			print_help(stderr);
			return -1;
		}
	}
	if (optind < argc && !o->ifname)
		o->ifname = argv[optind++];
	if (optind < argc || !o->ifname) {
		print_help(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "rawloop: bad value for -%c: %s\n", c, optarg);
	return -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_socket(const struct rl_opts *o, int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(o->fmt.ethertype),
		.sll_ifindex = ifindex,
	};
	int one = 1, rcvbuf = 8 << 20;
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW, htons(o->fmt.ethertype));
	if (fd < 0) {
		perror("rawloop: socket(AF_PACKET)");
		return -1;
	}
	/* Our own transmissions are not what we wait for. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("rawloop: bind");
		close(fd);
		return -1;
	}
	return fd;
}

static int get_ifinfo(int fd, const char *ifname, int *ifindex,
		      unsigned char *mac)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "rawloop: interface name too long\n");
		return -1;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr)) {
		fprintf(stderr, "rawloop: %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	*ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "rawloop: %s: SIOCGIFHWADDR: %s\n", ifname,
			strerror(errno));
		return -1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

struct rl_ctx {
	const struct rl_opts *o;
	const struct frame_fmt *fmt;
	struct frame_stats st;
	unsigned char *txf, *rxf;
	int fd, ifindex;
};

static int send_one(struct rl_ctx *c)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(c->fmt->ethertype),
		.sll_ifindex = c->ifindex,
		.sll_halen = ETH_ALEN,
	};
	ssize_t n;

	memcpy(to.sll_addr, c->fmt->dst, ETH_ALEN);
	frame_build(c->txf, c->fmt, c->st.sent);
	n = sendto(c->fd, c->txf, c->fmt->size, 0, (struct sockaddr *)&to,
		   sizeof(to));
	if (n < 0) {
		if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
			return 0;
		fprintf(stderr, "rawloop: sendto: %s\n", strerror(errno));
		return -1;
	}
	if ((size_t)n != c->fmt->size) {
		fprintf(stderr, "rawloop: short send %zd\n", n);
		return -1;
	}
	c->st.sent++;
	c->st.tx_bytes += n;
	return 1;
}

static int recv_some(struct rl_ctx *c, int wait_ms, long long *progress)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;
	int r;

	r = poll(&pfd, 1, wait_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (!r)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL) &&
	    !(pfd.revents & POLLIN)) {
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		fprintf(stderr, "rawloop: socket error: %s\n", strerror(err));
		return -1;
	}
	for (;;) {
		fl = sizeof(from);
		n = recvfrom(c->fd, c->rxf, FRAME_MAX_LEN, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fprintf(stderr, "rawloop: recv: %s\n", strerror(errno));
			return -1;
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (frame_check(c->fmt, &c->st, c->rxf, n, c->o->verbose))
			*progress = now_ms();
	}
}

static int run_loop(struct rl_ctx *c)
{
	const struct rl_opts *o = c->o;
	long long progress = now_ms();
	unsigned long inflight;
	int r;

	for (;;) {
		inflight = c->st.sent - c->st.unique;
		if (c->st.unique >= o->count && c->st.sent >= o->count)
			return 0;
		if (c->st.sent < o->count && inflight < o->window) {
			r = send_one(c);
			if (r < 0)
				return -1;
			if (r > 0) {
				progress = now_ms();
				continue;
			}
		}
		if (recv_some(c, 10, &progress) < 0)
			return -1;
		if (now_ms() - progress > o->timeout_ms)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct rl_opts o = {
		.count = 100,
		.timeout_ms = 2000,
		.window = 32,
		.fmt = {
			.size = 64,
			.ethertype = 0x88b5,
			.pattern = PAT_SEQ,
		},
	};
	struct rl_ctx c = { .o = &o, .fmt = &o.fmt };
	int ret = 2, r;

	if (parse_args(argc, argv, &o))
		return 2;

	c.fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (c.fd < 0) {
		perror("rawloop: socket(AF_PACKET)");
		return 2;
	}
	r = get_ifinfo(c.fd, o.ifname, &c.ifindex, o.fmt.src);
	close(c.fd);
	if (r)
		return 2;
	if (!o.have_dst)
		memcpy(o.fmt.dst, o.fmt.src, ETH_ALEN);

	c.fd = open_socket(&o, c.ifindex);
	if (c.fd < 0)
		return 2;

	c.st.seen = calloc(o.count ? o.count : 1, 1);
	c.st.want = malloc(FRAME_MAX_LEN);
	c.txf = malloc(FRAME_MAX_LEN);
	c.rxf = malloc(FRAME_MAX_LEN);
	if (!c.st.seen || !c.st.want || !c.txf || !c.rxf) {
		fprintf(stderr, "rawloop: out of memory\n");
		goto out;
	}
	o.fmt.run = (uint32_t)getpid() ^ (uint32_t)now_ms();

	r = run_loop(&c);
	frame_print_stats(&c.st);
	printf("\n");
	if (r < 0)
		ret = 2;
	else if (frame_all_intact(&c.st, o.count))
		ret = 0;
	else
		ret = 1;
out:
	free(c.st.seen);
	free(c.st.want);
	free(c.txf);
	free(c.rxf);
	close(c.fd);
	return ret;
}
