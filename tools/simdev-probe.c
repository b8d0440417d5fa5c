// SPDX-License-Identifier: GPL-2.0
/*
 * simdev-probe: drive the net and block simulators through
 * /dev/vhost-vdpa-N the way a virtio driver would, at the corners the
 * ordinary traffic tools do not reach, and print one "ok - X" /
 * "not ok - X" line per check (selftests/vhost_vdpa_lib.sh vv_tap).
 *
 *   simdev-probe cvq [--hold] NODE
 *	virtio-net with CTRL_VQ and CTRL_MAC_ADDR but without MQ: the control
 *	queue is queue 2 whatever max_vqp is.  MAC_ADDR_SET must be answered
 *	VIRTIO_NET_OK and show in the configuration space.
 *   simdev-probe mq [--hold] NODE
 *	virtio-net with MQ on a device with 2 or more pairs: the control queue
 *	is queue 2 * max_vqp, and a pair beyond VQ_PAIRS_SET is not served
 *	until it is selected.
 *   simdev-probe blk [--hold] NODE
 *	virtio-blk: read and write requests at SIZE_MAX / SEG_MAX work, one
 *	byte or one segment more answers VIRTIO_BLK_S_IOERR without touching
 *	the disk, and a request of about 1 GiB (the same buffer in every
 *	descriptor) is refused at once instead of holding the device.
 *   simdev-probe vstats DEV QIDX
 *	print the vendor statistics of one queue as "name value" lines
 *	(iproute2 6.1 prints those of network devices only).
 *   simdev-probe add DEV MGMTDEV MAX_VQP FEATURES
 *	create a net device with max_vqp and device_features given
 *	(iproute2 6.1 has no device_features).
 *
 * --hold: at each state worth looking at, print "# holding: WHAT" and
 * wait for a line (or the end) on standard input, so that a test can look
 * at the device with `vdpa` meanwhile.  cvq and mq hold once before the
 * reset; blk holds while the huge request is posted, then before the
 * reset.
 *
 * Exit status: 0 every check passed, 1 a check failed, 2 usage or setup
 * error.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <linux/vdpa.h>
#include <linux/vhost.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#define QSIZE		256U
#define MAXQ		8U		/* queues a probe sets up */
#define NET_HDR_LEN	12U		/* virtio_net_hdr_v1 */
#define FRAME_LEN	64U
#define TIMEOUT_MS	5000
#define SECTOR		512U
#define HUGE_SEG	(4U << 20)	/* segment of the huge request */

struct vq {
	unsigned int index;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint16_t used_seen;
	uint16_t next_desc;	/* next free descriptor (used round robin) */
	int kick;
	int call;
};

struct dev {
	int fd;
	uint64_t features;
	uint8_t *mem;		/* rings, then the data area */
	size_t mem_len;
	uint8_t *data;		/* data area: buffers and requests */
	size_t data_len;
	uint64_t iova_base;	/* IOVA of mem[0] */
	struct vq vq[MAXQ];
	unsigned int nvq;
};

static int failures;
static bool hold;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "simdev-probe: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void tap(bool good, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", good ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!good)
		failures++;
}

static void xioctl(struct dev *d, unsigned long req, void *arg,
		   const char *name)
{
	if (ioctl(d->fd, req, arg))
		die("%s: %s", name, strerror(errno));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t iova_of(const struct dev *d, const void *p)
{
	return d->iova_base + (uint64_t)((const uint8_t *)p - d->mem);
}

static void set_status(struct dev *d, uint8_t s)
{
	xioctl(d, VHOST_VDPA_SET_STATUS, &s, "SET_STATUS");
}

static uint8_t get_status(struct dev *d)
{
	uint8_t s;

	xioctl(d, VHOST_VDPA_GET_STATUS, &s, "GET_STATUS");
	return s;
}

static void get_config(struct dev *d, unsigned int off, void *buf,
		       unsigned int len)
{
	struct vhost_vdpa_config *c = calloc(1, sizeof(*c) + len);

	if (!c)
		die("out of memory");
	c->off = off;
	c->len = len;
	xioctl(d, VHOST_VDPA_GET_CONFIG, c, "GET_CONFIG");
	memcpy(buf, c->buf, len);
	free(c);
}

static void iotlb(struct dev *d, uint8_t type, uint64_t iova, uint64_t size,
		  uint64_t uaddr)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = { .iova = iova, .size = size, .uaddr = uaddr,
			   .perm = VHOST_ACCESS_RW, .type = type },
	};

	if (write(d->fd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		die("IOTLB message type %u: %s", type, strerror(errno));
}

/* Ring bytes of one queue, each part page aligned. */
static size_t ring_bytes(void)
{
	return 3 * 4096UL + 4096UL;	/* desc 4 KiB, avail, used 2 KiB + 6 */
}

/*
 * Open @path, negotiate @want (all of it must be offered), lay out @nvq
 * queues with indexes @idx and a data area of @data_len bytes, map it all
 * and start the device.
 */
static void start(struct dev *d, const char *path, uint64_t want,
		  const unsigned int *idx, unsigned int nvq, size_t data_len)
{
	uint64_t backend = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			   (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	struct vhost_vdpa_iova_range range;
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	size_t off = 0, pg = 4096;
	unsigned int i;

	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		die("open %s: %s", path, strerror(errno));
	xioctl(d, VHOST_SET_OWNER, NULL, "SET_OWNER");
	xioctl(d, VHOST_GET_FEATURES, &d->features, "GET_FEATURES");
	if ((d->features & want) != want)
		die("device features %#llx lack %#llx",
		    (unsigned long long)d->features,
		    (unsigned long long)(want & ~d->features));
	xioctl(d, VHOST_SET_BACKEND_FEATURES, &backend, "SET_BACKEND_FEATURES");
	set_status(d, 0);
	set_status(d, s);
	xioctl(d, VHOST_SET_FEATURES, &want, "SET_FEATURES");
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	set_status(d, s);
	if (!(get_status(d) & VIRTIO_CONFIG_S_FEATURES_OK))
		die("device refused FEATURES_OK");

	d->nvq = nvq;
	d->data_len = data_len;
	d->mem_len = nvq * ring_bytes() + data_len;
	d->mem = mmap(NULL, d->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d->mem == MAP_FAILED)
		die("mmap %zu bytes: %s", d->mem_len, strerror(errno));
	for (i = 0; i < nvq; i++) {
		struct vq *q = &d->vq[i];

		q->index = idx[i];
		q->desc = (void *)(d->mem + off);
		q->avail = (void *)(d->mem + off + pg);
		q->used = (void *)(d->mem + off + 2 * pg);
		off += ring_bytes();
	}
	d->data = d->mem + off;

	xioctl(d, VHOST_VDPA_GET_IOVA_RANGE, &range, "GET_IOVA_RANGE");
	d->iova_base = (uintptr_t)d->mem;
	if (d->iova_base < range.first ||
	    d->iova_base + d->mem_len - 1 > range.last)
		d->iova_base = range.first;
	iotlb(d, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0);
	iotlb(d, VHOST_IOTLB_UPDATE, d->iova_base, d->mem_len,
	      (uintptr_t)d->mem);
	iotlb(d, VHOST_IOTLB_BATCH_END, 0, 0, 0);

	for (i = 0; i < nvq; i++) {
		struct vq *q = &d->vq[i];
		struct vhost_vring_state num = { q->index, QSIZE };
		struct vhost_vring_state base = { q->index, 0 };
		struct vhost_vring_addr addr = {
			.index = q->index,
			.desc_user_addr = iova_of(d, q->desc),
			.avail_user_addr = iova_of(d, q->avail),
			.used_user_addr = iova_of(d, q->used),
		};
		struct vhost_vring_file kick, call;
		struct vhost_vring_state on = { q->index, 1 };

		q->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		q->call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->kick < 0 || q->call < 0)
			die("eventfd: %s", strerror(errno));
		kick = (struct vhost_vring_file){ q->index, q->kick };
		call = (struct vhost_vring_file){ q->index, q->call };
		xioctl(d, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
		xioctl(d, VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE");
		xioctl(d, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
		xioctl(d, VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK");
		xioctl(d, VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL");
		xioctl(d, VHOST_VDPA_SET_VRING_ENABLE, &on, "SET_VRING_ENABLE");
	}
	set_status(d, s | VIRTIO_CONFIG_S_DRIVER_OK);
}

static struct vq *vq_of(struct dev *d, unsigned int index)
{
	unsigned int i;

	for (i = 0; i < d->nvq; i++)
		if (d->vq[i].index == index)
			return &d->vq[i];
	die("queue %u not set up", index);
	return NULL;
}

/* One buffer of a chain. */
struct seg {
	void *addr;
	uint32_t len;
	bool write;
};

/* Publish a chain of @n buffers on @q and kick; returns its head. */
static uint16_t post(struct dev *d, struct vq *q, const struct seg *s,
		     unsigned int n)
{
	uint16_t head = q->next_desc, id = head;
	uint64_t one = 1;
	unsigned int i;

	if (n > QSIZE)
		die("chain of %u buffers", n);
	for (i = 0; i < n; i++) {
		uint16_t next = (id + 1) % QSIZE;

		q->desc[id].addr = iova_of(d, s[i].addr);
		q->desc[id].len = s[i].len;
		q->desc[id].flags = (s[i].write ? VRING_DESC_F_WRITE : 0) |
				    (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		q->desc[id].next = next;
		id = next;
	}
	q->next_desc = id;
	q->avail->ring[q->avail_idx % QSIZE] = head;
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	if (write(q->kick, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		die("kick: %s", strerror(errno));
	return head;
}

/* Wait up to @ms for the next used entry of @q; false on timeout. */
static bool reap(struct dev *d, struct vq *q, int ms, uint32_t *len)
{
	double end = now_ms() + ms;
	struct pollfd p = { .fd = q->call, .events = POLLIN };
	uint64_t v;

	for (;;) {
		uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);

		if (idx != q->used_seen) {
			if (len)
				*len = q->used->ring[q->used_seen % QSIZE].len;
			q->used_seen++;
			return true;
		}
		if (now_ms() > end)
			return false;
		if (poll(&p, 1, 20) > 0 && read(q->call, &v, sizeof(v)) < 0)
			v = 0;
		if (get_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET) {
			fprintf(stderr, "device needs reset\n");
			return false;
		}
	}
}

/* With --hold: let the test look at the device, then go on. */
static void hold_point(const char *what)
{
	char c;

	if (!hold)
		return;
	printf("# holding: %s\n", what);
	fflush(stdout);
	while (read(0, &c, 1) > 0 && c != '\n')
		;
}

static void stop(struct dev *d)
{
	set_status(d, 0);
	close(d->fd);
}

/* ------------------------------------------------------------------ */
/* virtio-net                                                         */

struct ctrl {
	struct virtio_net_ctrl_hdr hdr;
	uint8_t data[8];
	uint8_t ack;
};

/* Send a control command on the queue @cvq; the ack or -1 on timeout. */
static int ctrl_cmd(struct dev *d, unsigned int cvq, uint8_t class,
		    uint8_t cmd, const void *data, uint32_t len)
{
	struct ctrl *c = (void *)(d->data + 3 * 4096);
	struct seg s[3] = {
		{ &c->hdr, sizeof(c->hdr), false },
		{ c->data, len, false },
		{ &c->ack, 1, true },
	};

	c->hdr.class = class;
	c->hdr.cmd = cmd;
	memcpy(c->data, data, len);
	c->ack = 0xee;
	post(d, vq_of(d, cvq), s, 3);
	if (!reap(d, vq_of(d, cvq), TIMEOUT_MS, NULL))
		return -1;
	return c->ack;
}

static int mac_set(struct dev *d, unsigned int cvq, const uint8_t *mac)
{
	return ctrl_cmd(d, cvq, VIRTIO_NET_CTRL_MAC,
			VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 6);
}

static int pairs_set(struct dev *d, unsigned int cvq, uint16_t pairs)
{
	return ctrl_cmd(d, cvq, VIRTIO_NET_CTRL_MQ,
			VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2);
}

/* Buffers of pair @p: receive at data + p * 8 KiB, transmit 4 KiB on. */
static uint8_t *rx_buf(struct dev *d, unsigned int p)
{
	return d->data + 4 * 4096 + p * 8192;
}

static uint8_t *tx_buf(struct dev *d, unsigned int p)
{
	return rx_buf(d, p) + 4096;
}

static void post_rx(struct dev *d, unsigned int pair)
{
	struct seg s = { rx_buf(d, pair), 2048, true };

	memset(rx_buf(d, pair), 0, 2048);
	post(d, vq_of(d, 2 * pair), &s, 1);
}

static void send_frame(struct dev *d, unsigned int pair, uint8_t tag)
{
	uint8_t *b = tx_buf(d, pair);
	struct seg s = { b, NET_HDR_LEN + FRAME_LEN, false };
	unsigned int i;

	memset(b, 0, NET_HDR_LEN);
	for (i = 0; i < FRAME_LEN; i++)
		b[NET_HDR_LEN + i] = (uint8_t)(tag + i);
	b[NET_HDR_LEN + 12] = 0x88;	/* local experimental ethertype */
	b[NET_HDR_LEN + 13] = 0xb5;
	post(d, vq_of(d, 2 * pair + 1), &s, 1);
}

/* The frame of @pair came back on its receive queue, intact. */
static bool frame_back(struct dev *d, unsigned int pair, int ms)
{
	uint32_t len;

	if (!reap(d, vq_of(d, 2 * pair), ms, &len))
		return false;
	return len == NET_HDR_LEN + FRAME_LEN &&
	       !memcmp(rx_buf(d, pair) + NET_HDR_LEN,
		       tx_buf(d, pair) + NET_HDR_LEN, FRAME_LEN);
}

static const uint64_t net_base = (1ULL << VIRTIO_F_VERSION_1) |
				 (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
				 (1ULL << VIRTIO_NET_F_MAC) |
				 (1ULL << VIRTIO_NET_F_CTRL_VQ) |
				 (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR);

static int run_cvq(const char *path)
{
	static const unsigned int idx[] = { 0, 1, 2 };
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0xef };
	struct dev d = { 0 };
	uint8_t got[6];
	int ack;

	start(&d, path, net_base, idx, 3, 8 * 4096);
	ack = mac_set(&d, 2, mac);
	tap(ack == VIRTIO_NET_OK,
	    "without MQ, MAC_ADDR_SET on queue 2 is answered VIRTIO_NET_OK (ack %d)",
	    ack);
	get_config(&d, 0, got, sizeof(got));
	tap(!memcmp(got, mac, 6),
	    "the configuration space has the new MAC %02x:%02x:%02x:%02x:%02x:%02x",
	    got[0], got[1], got[2], got[3], got[4], got[5]);
	post_rx(&d, 0);
	send_frame(&d, 0, 1);
	tap(frame_back(&d, 0, TIMEOUT_MS), "pair 0 carries a frame");
	tap(!(get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET),
	    "the device does not need a reset");
	hold_point("MAC set");
	stop(&d);
	return failures ? 1 : 0;
}

static int run_mq(const char *path)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0xee };
	struct virtio_net_config cfg;
	unsigned int idx[5] = { 0, 1, 2, 3, 0 };
	uint16_t max;
	struct dev d = { 0 };
	struct vq *tx1;
	int ack;

	/* max_virtqueue_pairs is valid to read before features are set. */
	d.fd = open(path, O_RDWR | O_CLOEXEC);
	if (d.fd < 0)
		die("open %s: %s", path, strerror(errno));
	get_config(&d, 0, &cfg, sizeof(cfg));
	close(d.fd);
	max = cfg.max_virtqueue_pairs;
	if (max < 2)
		die("the device has %u queue pairs; mq needs 2 or more", max);
	idx[4] = 2 * max;
	start(&d, path, net_base | (1ULL << VIRTIO_NET_F_MQ), idx, 5,
	      8 * 4096);
	tx1 = vq_of(&d, 3);

	post_rx(&d, 0);
	post_rx(&d, 1);
	send_frame(&d, 1, 0x40);	/* pair 1: not selected yet */
	send_frame(&d, 0, 0x10);
	tap(frame_back(&d, 0, TIMEOUT_MS), "pair 0 carries a frame");
	/* The control queue comes last: a pass that answers it saw pair 1. */
	ack = mac_set(&d, 2 * max, mac);
	tap(ack == VIRTIO_NET_OK,
	    "with MQ, the control queue is queue %u (MAC_ADDR_SET ack %d)",
	    2 * max, ack);
	tap(__atomic_load_n(&tx1->used->idx, __ATOMIC_ACQUIRE) == 0,
	    "pair 1 is not served while 1 pair is selected");
	ack = pairs_set(&d, 2 * max, 2);
	tap(ack == VIRTIO_NET_OK, "VQ_PAIRS_SET 2 (ack %d)", ack);
	tap(frame_back(&d, 1, TIMEOUT_MS),
	    "the frame waiting on pair 1 comes back once 2 pairs are selected");
	ack = pairs_set(&d, 2 * max, max + 1);
	tap(ack == VIRTIO_NET_ERR, "VQ_PAIRS_SET %u (above max) is refused (ack %d)",
	    max + 1, ack);
	ack = pairs_set(&d, 2 * max, 0);
	tap(ack == VIRTIO_NET_ERR, "VQ_PAIRS_SET 0 is refused (ack %d)", ack);
	ack = pairs_set(&d, 2 * max, 1);
	tap(ack == VIRTIO_NET_OK, "VQ_PAIRS_SET 1 (ack %d)", ack);
	post_rx(&d, 0);
	send_frame(&d, 0, 0x20);
	tap(frame_back(&d, 0, TIMEOUT_MS), "pair 0 still carries a frame");
	tap(!(get_status(&d) & VIRTIO_CONFIG_S_NEEDS_RESET),
	    "the device does not need a reset");
	hold_point("pairs tested");
	stop(&d);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* virtio-blk                                                         */

struct blk_cfg {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
};

/* Header at data[0], status at data[64], data buffers from data[4096]. */
static struct virtio_blk_outhdr *blk_hdr(struct dev *d)
{
	return (void *)d->data;
}

static uint8_t *blk_status(struct dev *d)
{
	return d->data + 64;
}

static uint8_t *blk_buf(struct dev *d)
{
	return d->data + 4096;
}

/*
 * Post a request of @nseg data segments of @seglen bytes each; segment i
 * is at blk_buf() + i * @stride.  With @wait, wait for it and return the
 * status (-1 on timeout); otherwise return 0.
 */
static int blk_req(struct dev *d, uint32_t type, uint64_t sector,
		   unsigned int nseg, uint32_t seglen, size_t stride, bool wait)
{
	struct seg *s = calloc(nseg + 2, sizeof(*s));
	struct vq *q = &d->vq[0];
	unsigned int i;

	if (!s)
		die("out of memory");
	blk_hdr(d)->type = type;
	blk_hdr(d)->ioprio = 0;
	blk_hdr(d)->sector = sector;
	*blk_status(d) = 0xee;
	s[0] = (struct seg){ blk_hdr(d), sizeof(*blk_hdr(d)), false };
	for (i = 0; i < nseg; i++)
		s[i + 1] = (struct seg){ blk_buf(d) + i * stride, seglen,
					 type == VIRTIO_BLK_T_IN };
	s[nseg + 1] = (struct seg){ blk_status(d), 1, true };
	post(d, q, s, nseg + 2);
	free(s);
	if (!wait)
		return 0;
	if (!reap(d, q, TIMEOUT_MS, NULL))
		return -1;
	return *blk_status(d);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 9));
}

static bool filled(const uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed + i * 7 + (i >> 9)))
			return false;
	return true;
}

static void blk_limits(struct dev *d, const struct blk_cfg *c)
{
	size_t all = (size_t)c->seg_max * c->size_max;
	int st;

	fill(blk_buf(d), all, 3);
	st = blk_req(d, VIRTIO_BLK_T_OUT, 0, c->seg_max, c->size_max,
		     c->size_max, true);
	tap(st == VIRTIO_BLK_S_OK,
	    "write of %u segments of %u bytes (the limits) works (status %d)",
	    c->seg_max, c->size_max, st);
	memset(blk_buf(d), 0, all);
	st = blk_req(d, VIRTIO_BLK_T_IN, 0, c->seg_max, c->size_max,
		     c->size_max, true);
	tap(st == VIRTIO_BLK_S_OK && filled(blk_buf(d), all, 3),
	    "read of %u segments of %u bytes comes back intact (status %d)",
	    c->seg_max, c->size_max, st);

	fill(blk_buf(d), c->size_max + SECTOR, 9);
	st = blk_req(d, VIRTIO_BLK_T_OUT, 0, 1, c->size_max + SECTOR, 0, true);
	tap(st == VIRTIO_BLK_S_IOERR,
	    "write of one segment of size_max + 512 bytes answers IOERR (status %d)",
	    st);
	st = blk_req(d, VIRTIO_BLK_T_IN, 0, 1, c->size_max + SECTOR, 0, true);
	tap(st == VIRTIO_BLK_S_IOERR,
	    "read of one segment of size_max + 512 bytes answers IOERR (status %d)",
	    st);
	st = blk_req(d, VIRTIO_BLK_T_OUT, 0, c->seg_max + 1, SECTOR, SECTOR,
		     true);
	tap(st == VIRTIO_BLK_S_IOERR,
	    "write of seg_max + 1 segments answers IOERR (status %d)", st);
	st = blk_req(d, VIRTIO_BLK_T_IN, 0, c->seg_max + 1, SECTOR, SECTOR,
		     true);
	tap(st == VIRTIO_BLK_S_IOERR,
	    "read of seg_max + 1 segments answers IOERR (status %d)", st);

	memset(blk_buf(d), 0, all);
	st = blk_req(d, VIRTIO_BLK_T_IN, 0, c->seg_max, c->size_max,
		     c->size_max, true);
	tap(st == VIRTIO_BLK_S_OK && filled(blk_buf(d), all, 3),
	    "the refused writes left the disk as it was (status %d)", st);
}

static int run_blk(const char *path)
{
	static const unsigned int idx[] = { 0 };
	const uint64_t want = (1ULL << VIRTIO_F_VERSION_1) |
			      (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
			      (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
			      (1ULL << VIRTIO_BLK_F_SEG_MAX);
	unsigned int nhuge = QSIZE - 2;
	struct blk_cfg c;
	struct dev d = { 0 };
	size_t area;
	double t0;
	int st;

	d.fd = open(path, O_RDWR | O_CLOEXEC);
	if (d.fd < 0)
		die("open %s: %s", path, strerror(errno));
	get_config(&d, 0, &c.capacity, sizeof(c.capacity));
	get_config(&d, 8, &c.size_max, sizeof(c.size_max));
	get_config(&d, 12, &c.seg_max, sizeof(c.seg_max));
	close(d.fd);
	if (!c.size_max || !c.seg_max || c.seg_max + 3 > QSIZE ||
	    c.size_max % SECTOR || c.size_max > HUGE_SEG)
		die("unexpected size_max %u / seg_max %u", c.size_max,
		    c.seg_max);
	area = 4096 + (size_t)c.seg_max * c.size_max + c.size_max + HUGE_SEG;
	start(&d, path, want, idx, 1, area);

	blk_limits(&d, &c);

	/* About 1 GiB: the same 4 MiB buffer behind every descriptor. */
	if (c.capacity < (uint64_t)nhuge * HUGE_SEG / SECTOR) {
		printf("# capacity %llu sectors: no room for the huge request\n",
		       (unsigned long long)c.capacity);
	} else {
		blk_req(&d, VIRTIO_BLK_T_IN, 0, nhuge, HUGE_SEG, 0, false);
		hold_point("huge request posted");
		t0 = now_ms();
		st = reap(&d, &d.vq[0], TIMEOUT_MS, NULL) ? *blk_status(&d) : -1;
		tap(st == VIRTIO_BLK_S_IOERR,
		    "read of %u segments of %u bytes answers IOERR (status %d)",
		    nhuge, HUGE_SEG, st);
		printf("# answered in %.0f ms\n", now_ms() - t0);
	}
	hold_point("requests done");
	t0 = now_ms();
	stop(&d);
	t0 = now_ms() - t0;
	tap(t0 < TIMEOUT_MS, "the reset finishes within %d ms (%.0f ms)",
	    TIMEOUT_MS, t0);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* vendor statistics over generic netlink                             */

static int vstats_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *a;
	const char *name = NULL;
	int rem;

	(void)arg;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlmsg_hdr(msg)), 0),
			  genlmsg_attrlen(nlmsg_data(nlmsg_hdr(msg)), 0), rem) {
		if (nla_type(a) == VDPA_ATTR_DEV_VENDOR_ATTR_NAME)
			name = nla_get_string(a);
		else if (nla_type(a) == VDPA_ATTR_DEV_VENDOR_ATTR_VALUE && name)
			printf("%s %llu\n", name,
			       (unsigned long long)nla_get_u64(a));
	}
	return NL_OK;
}

/* A vdpa generic netlink request for @cmd on device @dev. */
static struct nl_msg *nl_req(struct nl_sock **sk, uint8_t cmd,
			     const char *dev)
{
	struct nl_msg *msg = nlmsg_alloc();
	int fam;

	*sk = nl_socket_alloc();
	if (!*sk || !msg || genl_connect(*sk))
		die("netlink: cannot connect");
	fam = genl_ctrl_resolve(*sk, VDPA_GENL_NAME);
	if (fam < 0)
		die("netlink: no %s family", VDPA_GENL_NAME);
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, 0, cmd,
		    VDPA_GENL_VERSION);
	nla_put_string(msg, VDPA_ATTR_DEV_NAME, dev);
	return msg;
}

/* Send @msg, run the callbacks; 0 or 1 with the error printed. */
static int nl_run(struct nl_sock *sk, struct nl_msg *msg, const char *what)
{
	int err = nl_send_auto(sk, msg);

	/* Up to the kernel's ack (or error), which ends the exchange. */
	if (err >= 0)
		err = nl_recvmsgs_default(sk);
	nlmsg_free(msg);
	nl_socket_free(sk);
	if (err < 0) {
		fprintf(stderr, "simdev-probe: %s: %s\n", what,
			nl_geterror(err));
		return 1;
	}
	return 0;
}

static int run_vstats(const char *dev, const char *qidx)
{
	struct nl_sock *sk;
	struct nl_msg *msg = nl_req(&sk, VDPA_CMD_DEV_VSTATS_GET, dev);

	nla_put_u32(msg, VDPA_ATTR_DEV_QUEUE_INDEX, strtoul(qidx, NULL, 0));
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, vstats_cb, NULL);
	return nl_run(sk, msg, "vstats");
}

static int run_add(const char *dev, const char *mgmtdev, const char *vqp,
		   const char *features)
{
	struct nl_sock *sk;
	struct nl_msg *msg = nl_req(&sk, VDPA_CMD_DEV_NEW, dev);

	nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, mgmtdev);
	nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MAX_VQP,
		    strtoul(vqp, NULL, 0));
	nla_put_u64(msg, VDPA_ATTR_DEV_FEATURES,
		    strtoull(features, NULL, 0));
	return nl_run(sk, msg, "add");
}

static void bad_usage(void)
{
	fprintf(stderr,
		"usage: simdev-probe cvq|mq|blk [--hold] /dev/vhost-vdpa-N\n"
		"       simdev-probe vstats DEV QIDX\n"
		"       simdev-probe add DEV MGMTDEV MAX_VQP FEATURES\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode;

	if (argc < 3)
		bad_usage();
	mode = argv[1];
	if (!strcmp(mode, "vstats"))
		return argc == 4 ? run_vstats(argv[2], argv[3]) : 2;
	if (!strcmp(mode, "add"))
		return argc == 6 ? run_add(argv[2], argv[3], argv[4], argv[5]) :
				   2;
	if (argc == 4 && !strcmp(argv[2], "--hold"))
		hold = true;
	else if (argc != 3)
		bad_usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "cvq"))
		return run_cvq(argv[argc - 1]);
	if (!strcmp(mode, "mq"))
		return run_mq(argv[argc - 1]);
	if (!strcmp(mode, "blk"))
		return run_blk(argv[argc - 1]);
	bad_usage();
	return 2;
}
