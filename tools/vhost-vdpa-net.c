// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vdpa-net: a minimal user-space virtio driver over /dev/vhost-vdpa-N.
 *
 * It negotiates VERSION_1 + ACCESS_PLATFORM, maps one region of its own
 * memory through an IOTLB update (IOVA == its address when the device's
 * IOVA range allows), lays split rings out in it and then:
 *
 *  - virtio-net (device id 1): sends frames on TX queue 2P+1 and expects
 *    them back on RX queue 2P (a loopback device such as vdpasim_net),
 *    checking every byte; --bench reports frames and bits per second,
 *    --duration sends for a fixed time instead of a fixed count;
 *    --remap N moves the TX buffers to fresh memory every N frames while
 *    frames are in flight (see run_net_remap()); --mrg checks mergeable
 *    receive buffers on a device whose peer sends frames back (see
 *    run_net_mrg()).
 *  - virtio-blk (device id 2): writes a pattern to consecutive sectors,
 *    reads it back and compares.
 *
 * --bypass FILE instead hands the call eventfd of the first queue (RX
 * queue 2P, or the block queue) to FILE, the consumer of the test module
 * irqbypass_test, before DRIVER_OK; then it holds the running device until
 * its standard input ends, and closes it without a reset of its own (see
 * hold_bypass()).
 *
 * Exit status: 0 all good, 1 data or protocol error, 2 usage or setup
 * error, 3 the device went away (-ENODEV), 4 timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define EXIT_DATA	1
#define EXIT_SETUP	2
#define EXIT_GONE	3
#define EXIT_TIMEOUT	4

#define BUF_SIZE	2048U	/* one RX/TX buffer: header + frame */
#define NET_HDR_LEN	((unsigned int)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define ETH_HLEN_	14U
#define ETHERTYPE_TEST	0x88b5	/* IEEE local experimental */
#define SECTOR		512U
#define MRG_BUF		256U	/* --mrg: bytes of one receive buffer */
#ifndef VHOST_BACKEND_F_SUSPEND
#define VHOST_BACKEND_F_SUSPEND	0x4
#endif
#ifndef VHOST_VDPA_SUSPEND
#define VHOST_VDPA_SUSPEND	_IO(VHOST_VIRTIO, 0x7D)
#endif

struct opts {
	const char *path;
	unsigned int qsize;
	unsigned int frame;
	unsigned long count;
	unsigned int pair;
	unsigned int timeout;
	unsigned int duration;	/* net: seconds to send for, 0: use count */
	bool bench;
	bool json;
	bool hugepages;
	bool quiet;
	unsigned int remap;	/* net: move the TX buffers every N frames */
	bool mrg;		/* net: mergeable receive buffers */
	const char *bypass;	/* irq bypass consumer to hand vq[0]'s call to */
};

struct vq {
	unsigned int index;
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;	/* next avail slot we publish */
	uint16_t used_seen;	/* used entries consumed */
	uint8_t *bufs;		/* num buffers of BUF_SIZE */
	int kick;
	int call;
};

struct dev {
	int fd;
	uint32_t id;
	uint64_t features;
	uint8_t *mem;
	size_t mem_len;
	uint64_t iova_base;	/* IOVA of mem[0] */
	struct vq vq[2];
	unsigned int nvq;
	const struct opts *o;
};

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vhost-vdpa-net: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* An ioctl that must work; ENODEV means the device was removed. */
static void xioctl(struct dev *d, unsigned long req, void *arg,
		   const char *name)
{
	if (ioctl(d->fd, req, arg) == 0)
		return;
	if (errno == ENODEV)
		die(EXIT_GONE, "%s: device removed (%s)", name,
		    strerror(errno));
	die(EXIT_SETUP, "%s: %s", name, strerror(errno));
}

static uint64_t iova_of(const struct dev *d, const void *p)
{
	return d->iova_base + (uint64_t)((const uint8_t *)p - d->mem);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_status(struct dev *d, uint8_t status)
{
	xioctl(d, VHOST_VDPA_SET_STATUS, &status, "SET_STATUS");
}

static uint8_t get_status(struct dev *d)
{
	uint8_t status;

	xioctl(d, VHOST_VDPA_GET_STATUS, &status, "GET_STATUS");
	return status;
}

static void iotlb_msg(struct dev *d, uint8_t type, uint64_t iova,
		      uint64_t size, uint64_t uaddr)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = iova,
			.size = size,
			.uaddr = uaddr,
			.perm = VHOST_ACCESS_RW,
			.type = type,
		},
	};
	ssize_t n = write(d->fd, &msg, sizeof(msg));

	if (n == (ssize_t)sizeof(msg))
		return;
	if (n < 0 && errno == ENODEV)
		die(EXIT_GONE, "IOTLB message: device removed");
	die(EXIT_SETUP, "IOTLB message type %u: %s", type,
	    n < 0 ? strerror(errno) : "short write");
}

/* Split-ring bytes for @num entries, each part 4 KiB aligned. */
static size_t ring_bytes(unsigned int num)
{
	size_t desc = 16UL * num, avail = 6 + 2UL * num, used = 6 + 8UL * num;
	size_t pg = 4096;

	return ((desc + pg - 1) / pg + (avail + pg - 1) / pg +
		(used + pg - 1) / pg) * pg;
}

static void layout(struct dev *d)
{
	size_t per = ring_bytes(d->o->qsize) + (size_t)d->o->qsize * BUF_SIZE;
	size_t pg = 4096, hp = 2UL << 20, off = 0;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	unsigned int i;

	d->mem_len = per * d->nvq;
	if (d->o->hugepages) {
		flags |= MAP_HUGETLB;
		d->mem_len = (d->mem_len + hp - 1) / hp * hp;
	}
	d->mem = mmap(NULL, d->mem_len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (d->mem == MAP_FAILED)
		die(EXIT_SETUP, "mmap %zu bytes: %s", d->mem_len,
		    strerror(errno));
	for (i = 0; i < d->nvq; i++) {
		struct vq *q = &d->vq[i];
		size_t desc = 16UL * q->num, avail = 6 + 2UL * q->num;

		q->desc = (void *)(d->mem + off);
		off += (desc + pg - 1) / pg * pg;
		q->avail = (void *)(d->mem + off);
		off += (avail + pg - 1) / pg * pg;
		q->used = (void *)(d->mem + off);
		off += (6 + 8UL * q->num + pg - 1) / pg * pg;
		q->bufs = d->mem + off;
		off += (size_t)q->num * BUF_SIZE;
	}
}

static void map_memory(struct dev *d)
{
	struct vhost_vdpa_iova_range range;
	uint64_t addr = (uintptr_t)d->mem;

	xioctl(d, VHOST_VDPA_GET_IOVA_RANGE, &range, "GET_IOVA_RANGE");
	if (addr >= range.first && addr + d->mem_len - 1 <= range.last)
		d->iova_base = addr;
	else if (range.last - range.first >= d->mem_len - 1)
		d->iova_base = range.first;
	else
		die(EXIT_SETUP, "IOVA range [%#llx, %#llx] too small",
		    (unsigned long long)range.first,
		    (unsigned long long)range.last);
	iotlb_msg(d, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0);
	iotlb_msg(d, VHOST_IOTLB_UPDATE, d->iova_base, d->mem_len, addr);
	iotlb_msg(d, VHOST_IOTLB_BATCH_END, 0, 0, 0);
}

static void setup_vq(struct dev *d, struct vq *q)
{
	struct vhost_vring_state num = { q->index, q->num };
	struct vhost_vring_state base = { q->index, 0 };
	struct vhost_vring_addr addr = {
		.index = q->index,
		.desc_user_addr = iova_of(d, q->desc),
		.avail_user_addr = iova_of(d, q->avail),
		.used_user_addr = iova_of(d, q->used),
	};
	struct vhost_vring_file kick, call;

	q->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	q->call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->kick < 0 || q->call < 0)
		die(EXIT_SETUP, "eventfd: %s", strerror(errno));
	kick = (struct vhost_vring_file){ q->index, q->kick };
	call = (struct vhost_vring_file){ q->index, q->call };
	xioctl(d, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
	xioctl(d, VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE");
	xioctl(d, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
	xioctl(d, VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK");
	xioctl(d, VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL");
}

/*
 * --bypass: write the number of the first queue's call eventfd to the
 * consumer file.  An fd number means something only in its own process,
 * so this process must write it: the module looks it up in the writer's
 * file table.
 */
static void offer_call(struct dev *d)
{
	char buf[16];
	int fd, n;

	fd = open(d->o->bypass, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_SETUP, "open %s: %s", d->o->bypass, strerror(errno));
	n = snprintf(buf, sizeof(buf), "%d\n", d->vq[0].call);
	if (write(fd, buf, n) != n)
		die(EXIT_SETUP, "write %s: %s", d->o->bypass, strerror(errno));
	close(fd);
}

static void start(struct dev *d)
{
	uint64_t want = (1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t backend = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	uint16_t max;
	unsigned int i;

	if (d->o->mrg) {
		want |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
		backend |= 1ULL << VHOST_BACKEND_F_SUSPEND;
	}
	xioctl(d, VHOST_SET_OWNER, NULL, "SET_OWNER");
	xioctl(d, VHOST_GET_FEATURES, &d->features, "GET_FEATURES");
	if ((d->features & want) != want)
		die(EXIT_SETUP, "device features %#llx lack VERSION_1/ACCESS_PLATFORM%s",
		    (unsigned long long)d->features,
		    d->o->mrg ? "/MRG_RXBUF" : "");
	xioctl(d, VHOST_SET_BACKEND_FEATURES, &backend, "SET_BACKEND_FEATURES");
	xioctl(d, VHOST_VDPA_GET_VRING_NUM, &max, "GET_VRING_NUM");
	if (d->o->qsize > max)
		die(EXIT_SETUP, "queue size %u above the device's %u",
		    d->o->qsize, max);

	set_status(d, 0);
	set_status(d, s);
	s |= VIRTIO_CONFIG_S_DRIVER;
	set_status(d, s);
	xioctl(d, VHOST_SET_FEATURES, &want, "SET_FEATURES");
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	set_status(d, s);
	if (!(get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK))
		die(EXIT_SETUP, "device refused FEATURES_OK");

	layout(d);
	map_memory(d);
	for (i = 0; i < d->nvq; i++)
		setup_vq(d, &d->vq[i]);
	if (d->o->bypass)
		offer_call(d);
	for (i = 0; i < d->nvq; i++) {
		struct vhost_vring_state on = { d->vq[i].index, 1 };

		xioctl(d, VHOST_VDPA_SET_VRING_ENABLE, &on, "SET_VRING_ENABLE");
	}
	s |= VIRTIO_CONFIG_S_DRIVER_OK;
	set_status(d, s);
}

static void notify(struct vq *q)
{
	uint64_t one = 1;

	if (write(q->kick, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		die(EXIT_SETUP, "kick eventfd: %s", strerror(errno));
}

/* Publish descriptor @id in the avail ring. */
static void post(struct vq *q, uint16_t id)
{
	q->avail->ring[q->avail_idx % q->num] = id;
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
}

/* Next used element, or NULL. */
static struct vring_used_elem *reap(struct vq *q)
{
	uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	struct vring_used_elem *e;

	if (idx == q->used_seen)
		return NULL;
	e = &q->used->ring[q->used_seen % q->num];
	q->used_seen++;
	return e;
}

/* Wait for a call on @q (or any of two), checking the device is alive. */
static void wait_call(struct dev *d, struct vq *a, struct vq *b, int ms)
{
	struct pollfd p[2] = {
		{ .fd = a->call, .events = POLLIN },
		{ .fd = b ? b->call : -1, .events = POLLIN },
	};
	uint64_t v;
	uint8_t status;

	if (poll(p, 2, ms) > 0) {
		if (p[0].revents && read(a->call, &v, sizeof(v)) < 0)
			v = 0;
		if (b && p[1].revents && read(b->call, &v, sizeof(v)) < 0)
			v = 0;
		return;
	}
	status = get_status(d);
	if (status & VIRTIO_CONFIG_S_NEEDS_RESET)
		die(EXIT_DATA, "device needs reset (status %#x)", status);
}

/* ------------------------------------------------------------------ */
/* virtio-net loopback                                                */

static void fill_frame(uint8_t *f, unsigned int len, uint32_t seq,
		       unsigned int pair)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	unsigned int i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	memcpy(f + ETH_HLEN_, &seq, sizeof(seq));
	f[ETH_HLEN_ + 4] = pair;
	for (i = ETH_HLEN_ + 5; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

static bool check_frame(const uint8_t *f, unsigned int len, uint32_t seq,
			unsigned int pair, unsigned int frame)
{
	static uint8_t want[BUF_SIZE];

	if (len != frame)
		return false;
	fill_frame(want, frame, seq, pair);
	return !memcmp(want, f, frame);
}

struct net_stats {
	unsigned long sent, received, bad;
	unsigned long limit;	/* frames to send in all */
	double secs;
};

static void net_post_rx(struct vq *rx)
{
	unsigned int i;

	for (i = 0; i < rx->num; i++) {
		rx->desc[i].len = BUF_SIZE;
		rx->desc[i].flags = VRING_DESC_F_WRITE;
		rx->desc[i].next = 0;
		post(rx, i);
	}
	notify(rx);
}

/* Queue TX frames while RX has room for what comes back. */
static bool net_send(struct dev *d, struct vq *tx, unsigned int *free_tx,
		     uint16_t *free_ids, struct net_stats *st)
{
	unsigned int frame = d->o->frame;
	bool any = false;

	while (*free_tx && st->sent < st->limit &&
	       st->sent - st->received < tx->num) {
		uint16_t id = free_ids[--*free_tx];
		uint8_t *buf = tx->bufs + (size_t)id * BUF_SIZE;

		memset(buf, 0, NET_HDR_LEN);
		fill_frame(buf + NET_HDR_LEN, frame, st->sent, d->o->pair);
		tx->desc[id].addr = iova_of(d, buf);
		tx->desc[id].len = NET_HDR_LEN + frame;
		tx->desc[id].flags = 0;
		post(tx, id);
		st->sent++;
		any = true;
	}
	if (any)
		notify(tx);
	return any;
}

static bool net_receive(struct dev *d, struct vq *rx, struct net_stats *st)
{
	struct vring_used_elem *e;
	bool any = false;

	while ((e = reap(rx))) {
		uint16_t id = e->id % rx->num;
		uint8_t *buf = rx->bufs + (size_t)id * BUF_SIZE;

		if (e->len < NET_HDR_LEN ||
		    !check_frame(buf + NET_HDR_LEN, e->len - NET_HDR_LEN,
				 st->received, d->o->pair, d->o->frame)) {
			if (st->bad++ < 5)
				fprintf(stderr, "frame %lu: bad data (%u bytes)\n",
					st->received, e->len);
		}
		st->received++;
		post(rx, id);
		any = true;
	}
	if (any)
		notify(rx);
	return any;
}

static int run_net(struct dev *d)
{
	struct vq *rx = &d->vq[0], *tx = &d->vq[1];
	struct net_stats st = { .limit = d->o->count };
	uint16_t *free_ids = calloc(tx->num, sizeof(*free_ids));
	unsigned int free_tx = 0, i;
	double t0, last, end = 0, pps;

	if (!free_ids)
		die(EXIT_SETUP, "out of memory");
	for (i = 0; i < tx->num; i++) {
		tx->desc[i].addr = iova_of(d, tx->bufs + (size_t)i * BUF_SIZE);
		free_ids[free_tx++] = tx->num - 1 - i;
	}
	for (i = 0; i < rx->num; i++)
		rx->desc[i].addr = iova_of(d, rx->bufs + (size_t)i * BUF_SIZE);
	/* TX completions are reaped when convenient: no interrupts. */
	tx->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	net_post_rx(rx);

	t0 = now();
	last = t0;
	if (d->o->duration) {
		st.limit = ~0UL;
		end = t0 + d->o->duration;
	}
	while (st.received < st.limit) {
		struct vring_used_elem *e;
		bool progress;

		while ((e = reap(tx)))
			free_ids[free_tx++] = e->id % tx->num;
		progress = net_send(d, tx, &free_tx, free_ids, &st);
		progress |= net_receive(d, rx, &st);
		if (progress) {
			last = now();
			/* Time is up: send no more, wait for what is in flight. */
			if (end && last >= end && st.limit == ~0UL)
				st.limit = st.sent;
			continue;
		}
		if (now() - last > d->o->timeout) {
			fprintf(stderr, "vhost-vdpa-net: timeout: sent %lu, received %lu\n",
				st.sent, st.received);
			return EXIT_TIMEOUT;
		}
		wait_call(d, rx, NULL, 20);
	}
	st.secs = now() - t0;
	free(free_ids);

	pps = st.received / st.secs;
	if (d->o->json) {
		printf("{\"device\":\"net\",\"frame\":%u,", d->o->frame);
		printf("\"frames\":%lu,\"bad\":%lu,", st.received, st.bad);
		printf("\"seconds\":%.6f,\"pps\":%.1f,\"bps\":%.1f}\n",
		       st.secs, pps, pps * d->o->frame * 8);
	} else if (d->o->bench || !d->o->quiet) {
		printf("net: %lu frames of %u bytes sent, %lu received, %lu bad, ",
		       st.sent, d->o->frame, st.received, st.bad);
		printf("%.3f s, %.0f pps, %.0f bps\n", st.secs, pps,
		       pps * d->o->frame * 8);
	}
	return st.bad ? EXIT_DATA : 0;
}

/* ------------------------------------------------------------------ */
/* mergeable receive buffers (--mrg)                                  */

/*
 * A device whose peer sends every frame back (the mediator over a
 * reflecting veth), VIRTIO_NET_F_MRG_RXBUF negotiated, receive buffers of
 * MRG_BUF bytes.  A frame that needs N of them while the ring has N - 1
 * waits; one more buffer and it arrives across all N, with num_buffers N,
 * all published at once.  Then the same wait again, and the device is
 * suspended: the receive queue's base (GET_VRING_BASE) counts the buffers
 * used so far, not those the waiting frame took: they were not consumed.
 * Frames of other senders (the host's, the peer's) may arrive meanwhile:
 * their buffers go back to the ring.  Prints TAP lines.
 */
static int mrg_failed;

static void mrg_tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok - ", ok ? "" : "not ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	mrg_failed += !ok;
}

/* Post receive buffers @first..@first + @n - 1 of MRG_BUF bytes. */
static void mrg_post_rx(struct dev *d, struct vq *rx, unsigned int first,
			unsigned int n)
{
	unsigned int i;

	for (i = first; i < first + n; i++) {
		rx->desc[i].addr = iova_of(d, rx->bufs + (size_t)i * BUF_SIZE);
		rx->desc[i].len = MRG_BUF;
		rx->desc[i].flags = VRING_DESC_F_WRITE;
		post(rx, i);
	}
	notify(rx);
}

/* Send frame @seq to @mac and wait until the device took it. */
static bool mrg_send(struct dev *d, struct vq *tx, const uint8_t *mac,
		     uint32_t seq)
{
	uint8_t *buf = tx->bufs + (size_t)seq * BUF_SIZE;
	double t0 = now();

	memset(buf, 0, NET_HDR_LEN);
	fill_frame(buf + NET_HDR_LEN, d->o->frame, seq, d->o->pair);
	memcpy(buf + NET_HDR_LEN, mac, 6);
	tx->desc[seq].addr = iova_of(d, buf);
	tx->desc[seq].len = NET_HDR_LEN + d->o->frame;
	tx->desc[seq].flags = 0;
	post(tx, seq);
	notify(tx);
	while (!reap(tx)) {
		if (now() - t0 > d->o->timeout)
			return false;
		wait_call(d, tx, NULL, 20);
	}
	return true;
}

/*
 * The first buffer of the next frame of ours (ETHERTYPE_TEST) within
 * @secs, or NULL.  Another sender's frame is reported and its buffers
 * posted again.
 */
static struct vring_used_elem *mrg_next(struct dev *d, struct vq *rx,
					double secs)
{
	double t0 = now();
	struct vring_used_elem *e;
	const uint8_t *b;

	for (;;) {
		while ((e = reap(rx))) {
			b = rx->bufs + (size_t)(e->id % rx->num) * BUF_SIZE;
			if (e->len >= NET_HDR_LEN + ETH_HLEN_ &&
			    b[24] == ETHERTYPE_TEST >> 8 &&
			    b[25] == (ETHERTYPE_TEST & 0xff))
				return e;
			printf("# another frame: %u bytes, to %02x:%02x:%02x:%02x:%02x:%02x",
			       e->len, b[12], b[13], b[14], b[15], b[16],
			       b[17]);
			printf(", type %02x%02x: its buffer goes back\n", b[24],
			       b[25]);
			post(rx, e->id % rx->num);
			notify(rx);
		}
		if (now() - t0 > secs)
			return NULL;
		wait_call(d, rx, NULL, 20);
	}
}

/*
 * Frame @seq of @n buffers arrives: all published with the first,
 * num_buffers @n, its bytes intact in the order the buffers were used.
 */
static bool mrg_frame_ok(struct dev *d, struct vq *rx, const uint8_t *mac,
			 unsigned int n, uint32_t seq)
{
	static uint8_t got[BUF_SIZE], want[BUF_SIZE];
	struct vring_used_elem *e = mrg_next(d, rx, d->o->timeout);
	const struct virtio_net_hdr_mrg_rxbuf *h;
	unsigned int i, len = 0;

	if (!e)
		return false;
	h = (const void *)(rx->bufs + (size_t)(e->id % rx->num) * BUF_SIZE);
	if (h->num_buffers != n ||
	    (uint16_t)(rx->used->idx - rx->used_seen) < n - 1)
		return false;
	for (i = 0; i < n; i++) {
		if (i)
			e = reap(rx);
		if (!e || e->len > MRG_BUF || len + e->len > sizeof(got))
			return false;
		memcpy(got + len, rx->bufs + (size_t)(e->id % rx->num) * BUF_SIZE,
		       e->len);
		len += e->len;
	}
	fill_frame(want, d->o->frame, seq, d->o->pair);
	memcpy(want, mac, 6);
	return len == NET_HDR_LEN + d->o->frame &&
	       !memcmp(got + NET_HDR_LEN, want, d->o->frame);
}

static int run_net_mrg(struct dev *d)
{
	struct vq *rx = &d->vq[0], *tx = &d->vq[1];
	unsigned int n = (NET_HDR_LEN + d->o->frame + MRG_BUF - 1) / MRG_BUF;
	struct {
		struct vhost_vdpa_config c;
		uint8_t mac[6];
	} cfg = { .c = { .off = 0, .len = 6 } };
	struct vhost_vring_state base = { .index = rx->index };

	if (n < 2 || 2 * n > rx->num)
		die(EXIT_SETUP, "--mrg: a frame of %u bytes needs %u buffers of %u (2 to %u)",
		    d->o->frame, n, MRG_BUF, rx->num / 2);
	xioctl(d, VHOST_VDPA_GET_CONFIG, &cfg, "GET_CONFIG");
	tx->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;

	mrg_post_rx(d, rx, 0, n - 1);
	mrg_tap(mrg_send(d, tx, cfg.mac, 0), "frame 0 of %u bytes sent",
		d->o->frame);
	mrg_tap(!mrg_next(d, rx, 1),
		"it waits while the ring has %u of the %u buffers it needs",
		n - 1, n);
	mrg_post_rx(d, rx, n - 1, 1);
	mrg_tap(mrg_frame_ok(d, rx, cfg.mac, n, 0),
		"one more buffer: it arrives in all %u at once, num_buffers %u, intact",
		n, n);

	mrg_post_rx(d, rx, n, n - 1);
	mrg_tap(mrg_send(d, tx, cfg.mac, 1), "frame 1 sent");
	mrg_tap(!mrg_next(d, rx, 1), "it waits with %u buffers", n - 1);
	xioctl(d, VHOST_VDPA_SUSPEND, NULL, "SUSPEND");
	xioctl(d, VHOST_GET_VRING_BASE, &base, "GET_VRING_BASE");
	mrg_tap(base.num == rx->used->idx,
		"suspended: the receive queue's base is the used index (%u), the buffers it holds are not consumed (%u)",
		rx->used->idx, base.num);
	return mrg_failed ? EXIT_DATA : 0;
}

/* ------------------------------------------------------------------ */
/* virtio-net loopback with TX buffers that move (--remap)            */

/*
 * The TX buffers live in their own region at a fixed IOVA, backed by
 * anonymous memory that is replaced every N frames while frames are in
 * flight: a new backing gets a copy of the old one, the IOVA range is
 * invalidated, the old backing is unmapped from the process (its pages
 * are freed once vhost-vdpa unpins them) and the range is mapped again
 * onto the new backing.  A device that still copied from the old pages
 * after the invalidation returned would read freed memory: a frame that
 * comes back must be intact.  A device that reaches the range while it is
 * unmapped faults (NEEDS_RESET); the driver then resets the device, sets
 * it up again and goes on, counting the frames in flight as lost.
 */
struct remap {
	uint8_t *buf;		/* current backing of the TX buffers */
	size_t len;
	uint64_t iova;		/* fixed IOVA of the TX buffers */
	unsigned long moves, restarts, lost;
};

static uint8_t *remap_alloc(size_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die(EXIT_SETUP, "mmap %zu bytes: %s", len, strerror(errno));
	return p;
}

static void remap_move(struct dev *d, struct remap *r)
{
	uint8_t *next = remap_alloc(r->len);

	memcpy(next, r->buf, r->len);
	iotlb_msg(d, VHOST_IOTLB_INVALIDATE, r->iova, r->len, 0);
	if (munmap(r->buf, r->len))
		die(EXIT_SETUP, "munmap: %s", strerror(errno));
	iotlb_msg(d, VHOST_IOTLB_UPDATE, r->iova, r->len, (uintptr_t)next);
	r->buf = next;
	r->moves++;
}

/* Everything the device knows, from scratch: status, maps, rings. */
static void remap_restart(struct dev *d, struct remap *r)
{
	uint64_t want = (1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	unsigned int i;

	set_status(d, 0);
	set_status(d, s);
	xioctl(d, VHOST_SET_FEATURES, &want, "SET_FEATURES");
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	set_status(d, s);
	iotlb_msg(d, VHOST_IOTLB_INVALIDATE, d->iova_base, d->mem_len, 0);
	iotlb_msg(d, VHOST_IOTLB_INVALIDATE, r->iova, r->len, 0);
	iotlb_msg(d, VHOST_IOTLB_UPDATE, d->iova_base, d->mem_len,
		  (uintptr_t)d->mem);
	iotlb_msg(d, VHOST_IOTLB_UPDATE, r->iova, r->len, (uintptr_t)r->buf);
	for (i = 0; i < d->nvq; i++) {
		struct vq *q = &d->vq[i];
		struct vhost_vring_state on = { q->index, 1 };

		memset(q->avail, 0, 6 + 2UL * q->num);
		memset(q->used, 0, 6 + 8UL * q->num);
		q->avail_idx = 0;
		q->used_seen = 0;
		close(q->kick);
		close(q->call);
		setup_vq(d, q);
		xioctl(d, VHOST_VDPA_SET_VRING_ENABLE, &on, "SET_VRING_ENABLE");
	}
	s |= VIRTIO_CONFIG_S_DRIVER_OK;
	set_status(d, s);
	r->restarts++;
}

/* Queue TX frames (from the moving region) while RX has room for them. */
static void remap_send(struct dev *d, struct remap *r, struct vq *tx,
		       unsigned int *free_tx, uint16_t *free_ids,
		       struct net_stats *st)
{
	unsigned int frame = d->o->frame;
	unsigned long first = st->sent;

	while (*free_tx && st->sent < st->limit &&
	       st->sent - st->received < tx->num) {
		uint16_t id = free_ids[--*free_tx];
		uint8_t *buf = r->buf + (size_t)id * BUF_SIZE;

		memset(buf, 0, NET_HDR_LEN);
		fill_frame(buf + NET_HDR_LEN, frame, st->sent, d->o->pair);
		tx->desc[id].addr = r->iova + (size_t)id * BUF_SIZE;
		tx->desc[id].len = NET_HDR_LEN + frame;
		tx->desc[id].flags = 0;
		post(tx, id);
		st->sent++;
		/* Move while the device is busy with what was just kicked. */
		if (st->sent % d->o->remap == 0) {
			notify(tx);
			remap_move(d, r);
		}
	}
	if (st->sent != first)
		notify(tx);
}

static void remap_free_all(struct vq *tx, unsigned int *free_tx,
			   uint16_t *free_ids)
{
	unsigned int i;

	*free_tx = 0;
	for (i = 0; i < tx->num; i++)
		free_ids[(*free_tx)++] = tx->num - 1 - i;
}

static int run_net_remap(struct dev *d)
{
	struct vq *rx = &d->vq[0], *tx = &d->vq[1];
	struct net_stats st = { .limit = d->o->count };
	uint16_t *free_ids = calloc(tx->num, sizeof(*free_ids));
	struct remap r = { .len = (size_t)tx->num * BUF_SIZE };
	struct pollfd p = { .events = POLLIN };
	unsigned int free_tx = 0, i;
	double t0 = now(), last = t0;
	unsigned long sent;

	if (!free_ids)
		die(EXIT_SETUP, "out of memory");
	r.iova = (d->iova_base + d->mem_len + (2UL << 20) - 1) &
		 ~((2UL << 20) - 1);
	r.buf = remap_alloc(r.len);
	iotlb_msg(d, VHOST_IOTLB_UPDATE, r.iova, r.len, (uintptr_t)r.buf);
	remap_free_all(tx, &free_tx, free_ids);
	for (i = 0; i < rx->num; i++)
		rx->desc[i].addr = iova_of(d, rx->bufs + (size_t)i * BUF_SIZE);
	tx->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	net_post_rx(rx);

	while (st.received < st.limit) {
		struct vring_used_elem *e;
		bool progress;
		uint64_t v;

		while ((e = reap(tx)))
			free_ids[free_tx++] = e->id % tx->num;
		sent = st.sent;
		remap_send(d, &r, tx, &free_tx, free_ids, &st);
		progress = st.sent != sent;
		progress |= net_receive(d, rx, &st);
		if (progress) {
			last = now();
			continue;
		}
		if (get_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET) {
			r.lost += st.sent - st.received;
			st.sent = st.received;
			remap_restart(d, &r);
			remap_free_all(tx, &free_tx, free_ids);
			tx->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
			net_post_rx(rx);
			last = now();
			continue;
		}
		if (now() - last > d->o->timeout) {
			fprintf(stderr, "vhost-vdpa-net: timeout: sent %lu, received %lu\n",
				st.sent, st.received);
			return EXIT_TIMEOUT;
		}
		p.fd = rx->call;
		if (poll(&p, 1, 20) > 0 && read(rx->call, &v, sizeof(v)) < 0)
			v = 0;
	}
	free(free_ids);
	if (!d->o->quiet)
		printf("net remap: %lu frames of %u bytes received, %lu bad, ",
		       st.received, d->o->frame, st.bad);
	if (!d->o->quiet)
		printf("%lu moves, %lu restarts, %lu frames lost, %.3f s\n",
		       r.moves, r.restarts, r.lost, now() - t0);
	return st.bad ? EXIT_DATA : 0;
}

/* ------------------------------------------------------------------ */
/* virtio-blk write / read back                                       */

struct blk_req {
	struct virtio_blk_outhdr hdr;
	uint8_t status;
};

/* One request: header, data, status; waits for it to complete. */
static uint8_t blk_io(struct dev *d, struct vq *q, uint32_t type,
		      uint64_t sector, uint8_t *data, unsigned int len)
{
	struct blk_req *req = (void *)q->bufs;
	struct vring_used_elem *e;
	double t0 = now();

	req->hdr.type = type;
	req->hdr.ioprio = 0;
	req->hdr.sector = sector;
	req->status = 0xff;
	q->desc[0] = (struct vring_desc){ iova_of(d, &req->hdr),
		sizeof(req->hdr), VRING_DESC_F_NEXT, 1 };
	q->desc[1] = (struct vring_desc){ iova_of(d, data), len,
		VRING_DESC_F_NEXT |
		(type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0), 2 };
	q->desc[2] = (struct vring_desc){ iova_of(d, &req->status), 1,
		VRING_DESC_F_WRITE, 0 };
	post(q, 0);
	notify(q);
	while (!(e = reap(q))) {
		if (now() - t0 > d->o->timeout)
			die(EXIT_TIMEOUT, "blk request timed out");
		wait_call(d, q, NULL, 20);
	}
	return req->status;
}

static int run_blk(struct dev *d)
{
	struct vq *q = &d->vq[0];
	unsigned int len = d->o->frame, per = len / SECTOR;
	uint8_t *data = q->bufs + BUF_SIZE;
	unsigned long i, bad = 0;
	uint64_t capacity;
	struct vhost_vdpa_config *cfg;
	double t0;

	if (len % SECTOR || len > (q->num - 1) * BUF_SIZE)
		die(EXIT_SETUP, "blk: request size %u must be a multiple of 512 up to %u",
		    len, (q->num - 1) * BUF_SIZE);
	cfg = calloc(1, sizeof(*cfg) + sizeof(capacity));
	if (!cfg)
		die(EXIT_SETUP, "out of memory");
	cfg->off = 0;
	cfg->len = sizeof(capacity);
	xioctl(d, VHOST_VDPA_GET_CONFIG, cfg, "GET_CONFIG");
	memcpy(&capacity, cfg->buf, sizeof(capacity));
	free(cfg);
	if ((uint64_t)d->o->count * per > capacity)
		die(EXIT_SETUP, "blk: %lu x %u bytes exceed the %llu sector disk",
		    d->o->count, len, (unsigned long long)capacity);

	t0 = now();
	for (i = 0; i < d->o->count; i++) {
		unsigned int j;

		for (j = 0; j < len; j++)
			data[j] = (uint8_t)(i * 13 + j * 3 + 1);
		if (blk_io(d, q, VIRTIO_BLK_T_OUT, i * per, data, len))
			die(EXIT_DATA, "blk: write of sector %lu failed", i * per);
	}
	for (i = 0; i < d->o->count; i++) {
		unsigned int j;

		memset(data, 0, len);
		if (blk_io(d, q, VIRTIO_BLK_T_IN, i * per, data, len))
			die(EXIT_DATA, "blk: read of sector %lu failed", i * per);
		for (j = 0; j < len; j++)
			if (data[j] != (uint8_t)(i * 13 + j * 3 + 1))
				break;
		if (j < len && bad++ < 5)
			fprintf(stderr, "blk: sector %lu: byte %u differs\n",
				i * per + j / SECTOR, j);
	}
	if (d->o->json) {
		printf("{\"device\":\"blk\",\"requests\":%lu,", d->o->count);
		printf("\"bytes\":%u,\"bad\":%lu,\"seconds\":%.6f}\n", len, bad,
		       now() - t0);
	} else if (!d->o->quiet)
		printf("blk: wrote and read back %lu requests of %u bytes, %lu bad, %.3f s\n",
		       d->o->count, len, bad, now() - t0);
	return bad ? EXIT_DATA : 0;
}

/*
 * --bypass: the device runs (DRIVER_OK) with the call eventfd handed over;
 * say so, then keep it running until standard input ends (the test reads
 * the consumer's state meanwhile).  The caller then closes the device
 * without resetting it first: the close resets it.
 */
static int hold_bypass(struct dev *d)
{
	char buf[64];
	ssize_t n;

	printf("driver ok: vq %u call fd %d\n", d->vq[0].index, d->vq[0].call);
	fflush(stdout);
	do
		n = read(STDIN_FILENO, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
	return n < 0 ? EXIT_SETUP : 0;
}

/* ------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"Usage: vhost-vdpa-net [options] /dev/vhost-vdpa-N\n"
		"  -q, --qsize N     queue size (default 256)\n"
		"  -s, --size N      net: frame bytes, 60..%u (default 64);\n"
		"                    blk: request bytes, multiple of 512 (default 4096)\n"
		"  -n, --count N     frames or requests (default 1000)\n"
		"  -d, --duration S  net: send for S seconds instead of N frames\n"
		"  -p, --pair N      net: queue pair (default 0)\n"
		"  -t, --timeout S   give up after S seconds without progress (default 10)\n"
		"  -b, --bench       print a throughput line\n"
		"  -j, --json        print the result as one JSON object\n"
		"  -H, --hugepages   put rings and buffers in 2 MiB huge pages\n"
		"  -Q, --quiet       print nothing on success\n"
		"  -R, --remap N     net: move the TX buffers to fresh memory every\n"
		"                    N frames, with frames in flight\n"
		"  -M, --mrg         net: mergeable receive buffers on a device whose\n"
		"                    peer sends frames back (TAP output)\n"
		"  -B, --bypass FILE hand the first queue's call eventfd to FILE (the\n"
		"                    irqbypass_test consumer), start the device, hold\n"
		"                    it until standard input ends, close it unreset\n",
		BUF_SIZE - NET_HDR_LEN);
	exit(EXIT_SETUP);
}

static unsigned long num_arg(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end)
		usage();
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "qsize", 1, NULL, 'q' }, { "size", 1, NULL, 's' },
		{ "count", 1, NULL, 'n' }, { "duration", 1, NULL, 'd' },
		{ "pair", 1, NULL, 'p' },
		{ "timeout", 1, NULL, 't' }, { "bench", 0, NULL, 'b' },
		{ "json", 0, NULL, 'j' }, { "hugepages", 0, NULL, 'H' },
		{ "quiet", 0, NULL, 'Q' }, { "remap", 1, NULL, 'R' },
		{ "mrg", 0, NULL, 'M' }, { "bypass", 1, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .qsize = 256, .count = 1000, .timeout = 10 };
	while ((c = getopt_long(argc, argv, "q:s:n:d:p:t:bjHQR:MB:", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			o->qsize = num_arg(optarg);
			break;
		case 's':
			o->frame = num_arg(optarg);
			break;
		case 'n':
			o->count = num_arg(optarg);
			break;
		case 'd':
			o->duration = num_arg(optarg);
			break;
		case 'p':
			o->pair = num_arg(optarg);
			break;
		case 't':
			o->timeout = num_arg(optarg);
			break;
		case 'b':
			o->bench = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'H':
			o->hugepages = true;
			break;
		case 'Q':
			o->quiet = true;
			break;
		case 'R':
			o->remap = num_arg(optarg);
			if (!o->remap)
				usage();
			break;
		case 'M':
			o->mrg = true;
			break;
		case 'B':
			o->bypass = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	o->path = argv[optind];
	if (!o->qsize || o->qsize > 32768 || (o->qsize & (o->qsize - 1)))
		die(EXIT_SETUP, "queue size must be a power of two up to 32768");
	if (!o->count)
		die(EXIT_SETUP, "count must be positive");
	if (o->duration > 86400)
		die(EXIT_SETUP, "duration must be at most 86400 seconds");
}

int main(int argc, char **argv)
{
	struct opts o;
	struct dev d = { .o = &o };
	unsigned int i;
	int ret;

	parse(argc, argv, &o);
	d.fd = open(o.path, O_RDWR | O_CLOEXEC);
	if (d.fd < 0)
		die(errno == ENODEV || errno == ENXIO ? EXIT_GONE : EXIT_SETUP,
		    "open %s: %s", o.path, strerror(errno));
	xioctl(&d, VHOST_VDPA_GET_DEVICE_ID, &d.id, "GET_DEVICE_ID");
	if (d.id == VIRTIO_ID_NET) {
		uint32_t nvqs;

		xioctl(&d, VHOST_VDPA_GET_VQS_COUNT, &nvqs, "GET_VQS_COUNT");
		if (2 * o.pair + 1 >= nvqs)
			die(EXIT_SETUP, "no queue pair %u (%u vqs)", o.pair, nvqs);
		if (!o.frame)
			o.frame = 64;
		if (o.frame < 60 || o.frame > BUF_SIZE - NET_HDR_LEN)
			die(EXIT_SETUP, "frame size must be 60..%u",
			    BUF_SIZE - NET_HDR_LEN);
		d.nvq = 2;
		d.vq[0].index = 2 * o.pair;
		d.vq[1].index = 2 * o.pair + 1;
	} else if (d.id == VIRTIO_ID_BLOCK) {
		if (!o.frame)
			o.frame = 4096;
		if (o.qsize < 4)
			die(EXIT_SETUP, "blk needs a queue size of at least 4");
		d.nvq = 1;
		d.vq[0].index = 0;
	} else {
		die(EXIT_SETUP, "device id %u is neither net nor blk", d.id);
	}
	for (i = 0; i < d.nvq; i++)
		d.vq[i].num = o.qsize;

	start(&d);
	if (o.bypass) {
		ret = hold_bypass(&d);
		close(d.fd);
		return ret;
	}
	if (d.id == VIRTIO_ID_NET && o.mrg)
		ret = run_net_mrg(&d);
	else if (d.id == VIRTIO_ID_NET && o.remap)
		ret = run_net_remap(&d);
	else
		ret = d.id == VIRTIO_ID_NET ? run_net(&d) : run_blk(&d);
	set_status(&d, 0);
	close(d.fd);
	return ret;
}
