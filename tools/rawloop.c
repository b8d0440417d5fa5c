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

#include <arpa/inet.h>
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

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define RL_MAGIC	0x524c4f4fu	/* "RLOO" */
#define RL_HDR_LEN	(ETH_HLEN + 12)	/* Ethernet + magic, run, seq */
#define RL_MAX_FRAME	65535
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum rl_pattern { PAT_SEQ, PAT_ZERO, PAT_ONES, PAT_RANDOM };

struct rl_opts {
	const char *ifname;
	unsigned long count;
	unsigned int size;
	unsigned int ethertype;
	unsigned int timeout_ms;
	unsigned int window;
	enum rl_pattern pattern;
	bool have_dst;
	unsigned char dst[ETH_ALEN];
	bool verbose;
};

struct rl_stats {
	unsigned long sent, received, unique, intact, corrupt, dup, foreign;
	unsigned long long tx_bytes, rx_bytes;
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
		RL_HDR_LEN, RL_MAX_FRAME);
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

static int parse_pattern(const char *s, enum rl_pattern *p)
{
	static const char * const names[] = { "seq", "zero", "ones", "random" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*p = (enum rl_pattern)i;
			return 0;
		}
	}
	return -1;
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
			if (parse_ulong(optarg, RL_MAX_FRAME, &v) ||
			    v < RL_HDR_LEN)
				goto bad;
			o->size = v;
			break;
		case 'e':
			if (parse_ulong(optarg, 0xffff, &v) || v < ETH_P_802_3_MIN)
				goto bad;
			o->ethertype = v;
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
			if (parse_pattern(optarg, &o->pattern))
				goto bad;
			break;
		case 'd':
			if (parse_mac(optarg, o->dst))
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

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* Fill @len payload bytes for frame @seq. */
static void fill_payload(unsigned char *p, size_t len, uint32_t seq,
			 enum rl_pattern pat)
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
			p[i] = xorshift32(&state) >> 24;
		break;
	case PAT_SEQ:
	default:
		for (i = 0; i < len; i++)
			p[i] = (seq + i * 7) & 0xff;
		break;
	}
}

static void put_be32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t get_be32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static void build_frame(unsigned char *f, const struct rl_opts *o,
			const unsigned char *src, uint32_t run, uint32_t seq)
{
	memcpy(f, o->dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	f[12] = o->ethertype >> 8;
	f[13] = o->ethertype & 0xff;
	put_be32(f + ETH_HLEN, RL_MAGIC);
	put_be32(f + ETH_HLEN + 4, run);
	put_be32(f + ETH_HLEN + 8, seq);
	fill_payload(f + RL_HDR_LEN, o->size - RL_HDR_LEN, seq, o->pattern);
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
		.sll_protocol = htons(o->ethertype),
		.sll_ifindex = ifindex,
	};
	int one = 1, rcvbuf = 8 << 20;
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW, htons(o->ethertype));
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
	struct rl_stats st;
	unsigned char src[ETH_ALEN];
	unsigned char *seen;	/* one flag per sequence number */
	unsigned char *txf, *rxf, *want;
	uint32_t run;
	int fd, ifindex;
};

/* Check one received frame; returns 1 when it was one of ours. */
static int check_frame(struct rl_ctx *c, size_t len)
{
	const struct rl_opts *o = c->o;
	uint32_t seq;

	if (len < RL_HDR_LEN || get_be32(c->rxf + ETH_HLEN) != RL_MAGIC ||
	    get_be32(c->rxf + ETH_HLEN + 4) != c->run) {
		c->st.foreign++;
		return 0;
	}
	seq = get_be32(c->rxf + ETH_HLEN + 8);
	c->st.received++;
	c->st.rx_bytes += len;
	if (seq >= c->st.sent) {
		c->st.corrupt++;
		if (o->verbose)
			fprintf(stderr, "rawloop: bad sequence %u\n", seq);
		return 1;
	}
	if (c->seen[seq]) {
		c->st.dup++;
		return 1;
	}
	c->seen[seq] = 1;
	c->st.unique++;
	build_frame(c->want, o, c->src, c->run, seq);
	if (len != o->size || memcmp(c->want, c->rxf, len)) {
		c->st.corrupt++;
		if (o->verbose)
			fprintf(stderr, "rawloop: frame %u corrupt (len %zu)\n",
				seq, len);
		return 1;
	}
	c->st.intact++;
	return 1;
}

static int send_one(struct rl_ctx *c)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(c->o->ethertype),
		.sll_ifindex = c->ifindex,
		.sll_halen = ETH_ALEN,
	};
	ssize_t n;

	memcpy(to.sll_addr, c->o->dst, ETH_ALEN);
	build_frame(c->txf, c->o, c->src, c->run, c->st.sent);
	n = sendto(c->fd, c->txf, c->o->size, 0, (struct sockaddr *)&to,
		   sizeof(to));
	if (n < 0) {
		if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
			return 0;
		fprintf(stderr, "rawloop: sendto: %s\n", strerror(errno));
		return -1;
	}
	if ((size_t)n != c->o->size) {
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
		n = recvfrom(c->fd, c->rxf, RL_MAX_FRAME, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fprintf(stderr, "rawloop: recv: %s\n", strerror(errno));
			return -1;
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (check_frame(c, n))
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
		.size = 64,
		.ethertype = 0x88b5,
		.timeout_ms = 2000,
		.window = 32,
		.pattern = PAT_SEQ,
	};
	struct rl_ctx c = { .o = &o };
	int ret = 2, r;

	if (parse_args(argc, argv, &o))
		return 2;

	c.fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (c.fd < 0) {
		perror("rawloop: socket(AF_PACKET)");
		return 2;
	}
	r = get_ifinfo(c.fd, o.ifname, &c.ifindex, c.src);
	close(c.fd);
	if (r)
		return 2;
	if (!o.have_dst)
		memcpy(o.dst, c.src, ETH_ALEN);

	c.fd = open_socket(&o, c.ifindex);
	if (c.fd < 0)
		return 2;

	c.seen = calloc(o.count ? o.count : 1, 1);
	c.txf = malloc(RL_MAX_FRAME);
	c.rxf = malloc(RL_MAX_FRAME);
	c.want = malloc(RL_MAX_FRAME);
	if (!c.seen || !c.txf || !c.rxf || !c.want) {
		fprintf(stderr, "rawloop: out of memory\n");
		goto out;
	}
	c.run = (uint32_t)getpid() ^ (uint32_t)now_ms();

	r = run_loop(&c);
	printf("sent %lu received %lu intact %lu corrupt %lu lost %lu",
	       c.st.sent, c.st.received, c.st.intact, c.st.corrupt,
	       c.st.sent - c.st.unique);
	printf(" dup %lu foreign %lu tx_bytes %llu rx_bytes %llu\n",
	       c.st.dup, c.st.foreign, c.st.tx_bytes, c.st.rx_bytes);
	if (r < 0)
		ret = 2;
	else if (c.st.sent == o.count && c.st.intact == o.count &&
		 !c.st.corrupt && !c.st.dup)
		ret = 0;
	else
		ret = 1;
out:
	free(c.seen);
	free(c.txf);
	free(c.rxf);
	free(c.want);
	close(c.fd);
	return ret;
}
