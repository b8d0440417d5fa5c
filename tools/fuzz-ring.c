// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-ring: a user-space virtio driver over /dev/vhost-vdpa-N that
 * corrupts its own rings while traffic runs.
 *
 * At start it maps one read-write region of its memory (rings, buffers,
 * indirect tables) and one read-only region (a known pattern) into the
 * device's IOTLB.  Each iteration is a burst: the device is set up with a
 * random queue size and feature set, traffic starts (virtio-net: frames
 * on TX queue 1 looped back to RX queue 0; virtio-blk: random reads,
 * writes and flushes on queue 0), and a second thread corrupts the
 * descriptors and avail rings while the device reads them: chains that
 * loop, next >= num, IOVAs nobody mapped, device-writable buffers in the
 * read-only mapping, lengths of 0 and 0xffffffff, indirect tables full
 * of garbage or nested, avail indices jumping far ahead, descriptors
 * flipping between good and bad.  Then the device is reset, set up again
 * and a clean round (32 frames, or 4 blocks written and read back) must
 * work: the device recovers after a reset.  The read-only pattern must
 * be intact after every burst.
 *
 * One input is one corruption.  Output: "fuzz-ring: N inputs, seed S
 * (...)".  Exit status 1 on a kernel report, a device that does not
 * recover, or a write into the read-only mapping.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/vhost.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "fuzz.h"

#define PG		4096UL
#define QMAX		256U		/* largest queue size we lay out */
#define BUF_SIZE	2048U
#define IND_LEN		(64UL << 10)	/* indirect tables per queue */
#define RO_LEN		(256UL << 10)
#define RO_BYTE		0x5a
#define NET_HDR_LEN	((unsigned int)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define FRAME_LEN	64U
#define CLEAN_FRAMES	32U
#define CLEAN_BLOCKS	4U
#define SECTOR		512U
#define CLEAN_TIMEOUT	10.0		/* seconds for a clean round */

enum corruption {
	C_LOOP, C_NEXT, C_UNMAPPED, C_RO_WRITE, C_LEN, C_INDIRECT, C_NESTED,
	C_AVAIL_JUMP, C_AVAIL_ENTRY, C_FLAGS, C_FLIP, C_EVENT, C_WRITE_FLAG,
	C_NR
};

static const char * const cnames[C_NR] = {
	"loop", "next", "unmapped", "ro-write", "len", "indirect", "nested",
	"avail-jump", "avail-entry", "flags", "flip", "event", "write-flag",
};

struct vq {
	unsigned int index;
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;	/* after the avail ring */
	uint8_t *bufs;		/* QMAX buffers of BUF_SIZE */
	uint8_t *ind;		/* IND_LEN of indirect tables */
	uint16_t avail_idx;
	uint16_t used_seen;
	int kick, call;
};

struct ring {
	struct fz f;
	struct fz cf;		/* the corrupting thread's generator */
	const char *path;
	int fd;
	uint32_t id;
	uint64_t dev_features, features;
	uint32_t nvqs;
	uint16_t vq_max;
	uint64_t capacity;	/* blk: sectors */
	uint8_t *mem;
	size_t mem_len;
	uint64_t iova;		/* IOVA of mem[0] */
	uint8_t *ro;
	uint64_t ro_iova;
	uint64_t hole_iova;	/* mapped by nobody */
	struct vq vq[2];
	unsigned int nvq;
	int stop;		/* tells the corrupting thread to end */
	unsigned long corrupt[C_NR];
	unsigned long frames, requests, clean_rounds, resets;
	unsigned long failures;
	char err[256];		/* why the last step failed */
};

/* ---- small helpers ---- */

static void fail(struct ring *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

static bool xioctl(struct ring *r, unsigned long req, void *arg,
		   const char *name)
{
	if (!ioctl(r->fd, req, arg))
		return true;
	fail(r, "%s: %s", name, strerror(errno));
	return false;
}

static uint64_t iova_of(const struct ring *r, const void *p)
{
	return r->iova + (uint64_t)((const uint8_t *)p - r->mem);
}

static bool set_status(struct ring *r, uint8_t s)
{
	return xioctl(r, VHOST_VDPA_SET_STATUS, &s, "SET_STATUS");
}

static uint8_t get_status(struct ring *r)
{
	uint8_t s = 0xff;

	xioctl(r, VHOST_VDPA_GET_STATUS, &s, "GET_STATUS");
	return s;
}

static bool iotlb(struct ring *r, uint8_t type, uint64_t iova, uint64_t size,
		  const void *uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = { .iova = iova, .size = size, .uaddr = (uintptr_t)uaddr,
			   .perm = perm, .type = type },
	};

	if (write(r->fd, &m, sizeof(m)) == sizeof(m))
		return true;
	fail(r, "IOTLB message %u: %s", type, strerror(errno));
	return false;
}

static void st16(__u16 *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void st32(__u32 *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void st64(__u64 *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* ---- memory and device set-up ---- */

static size_t vq_bytes(void)
{
	return 16UL * QMAX + PG + 8UL * QMAX + PG + QMAX * BUF_SIZE + IND_LEN;
}

static void layout(struct ring *r)
{
	uint8_t *p;
	unsigned int i;

	r->mem_len = 2 * vq_bytes();
	r->mem = mmap(NULL, r->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	r->ro = mmap(NULL, RO_LEN, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->mem == MAP_FAILED || r->ro == MAP_FAILED)
		fz_die(&r->f, FZ_EXIT_SETUP, "mmap: %s", strerror(errno));
	memset(r->ro, RO_BYTE, RO_LEN);
	mprotect(r->ro, RO_LEN, PROT_READ);
	p = r->mem;
	for (i = 0; i < 2; i++) {
		struct vq *q = &r->vq[i];

		q->desc = (void *)p;
		p += 16UL * QMAX;
		q->avail = (void *)p;
		p += PG;
		q->used = (void *)p;
		p += 8UL * QMAX + PG;
		q->bufs = p;
		p += QMAX * BUF_SIZE;
		q->ind = p;
		p += IND_LEN;
		q->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		q->call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q->kick < 0 || q->call < 0)
			fz_die(&r->f, FZ_EXIT_SETUP, "eventfd: %s", strerror(errno));
	}
}

/* Open, own and map: done once (and again if the node had to be reopened). */
static void attach(struct ring *r)
{
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 |
			   1ULL << VHOST_BACKEND_F_IOTLB_BATCH;
	struct vhost_vdpa_iova_range range;
	uint64_t need = r->mem_len + RO_LEN + (64UL << 20);

	r->fd = open(r->path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		fz_die(&r->f, FZ_EXIT_SETUP, "open %s: %s", r->path, strerror(errno));
	if (!xioctl(r, VHOST_VDPA_GET_DEVICE_ID, &r->id, "GET_DEVICE_ID") ||
	    !xioctl(r, VHOST_SET_OWNER, NULL, "SET_OWNER") ||
	    !xioctl(r, VHOST_GET_FEATURES, &r->dev_features, "GET_FEATURES") ||
	    !xioctl(r, VHOST_SET_BACKEND_FEATURES, &backend, "SET_BACKEND_FEATURES") ||
	    !xioctl(r, VHOST_VDPA_GET_VQS_COUNT, &r->nvqs, "GET_VQS_COUNT") ||
	    !xioctl(r, VHOST_VDPA_GET_VRING_NUM, &r->vq_max, "GET_VRING_NUM") ||
	    !xioctl(r, VHOST_VDPA_GET_IOVA_RANGE, &range, "GET_IOVA_RANGE"))
		fz_die(&r->f, FZ_EXIT_SETUP, "%s", r->err);
	if (range.last - range.first < need)
		fz_die(&r->f, FZ_EXIT_SETUP, "IOVA range too small");
	r->iova = range.first + (1UL << 20);
	if (r->iova < range.first)
		r->iova = range.first;
	r->ro_iova = r->iova + r->mem_len + (1UL << 20);
	r->hole_iova = r->ro_iova + RO_LEN + (16UL << 20);
	if (!iotlb(r, VHOST_IOTLB_BATCH_BEGIN, 0, 0, NULL, 0) ||
	    !iotlb(r, VHOST_IOTLB_UPDATE, r->iova, r->mem_len, r->mem,
		   VHOST_ACCESS_RW) ||
	    !iotlb(r, VHOST_IOTLB_UPDATE, r->ro_iova, RO_LEN, r->ro,
		   VHOST_ACCESS_RO) ||
	    !iotlb(r, VHOST_IOTLB_BATCH_END, 0, 0, NULL, 0))
		fz_die(&r->f, FZ_EXIT_SETUP, "%s", r->err);
}

static bool setup_vq(struct ring *r, struct vq *q)
{
	struct vhost_vring_state num = { q->index, q->num };
	struct vhost_vring_state base = { q->index, 0 };
	struct vhost_vring_state on = { q->index, 1 };
	struct vhost_vring_addr addr = {
		.index = q->index,
		.desc_user_addr = iova_of(r, q->desc),
		.avail_user_addr = iova_of(r, q->avail),
		.used_user_addr = iova_of(r, q->used),
	};
	struct vhost_vring_file kick = { q->index, q->kick };
	struct vhost_vring_file call = { q->index, q->call };

	memset(q->desc, 0, 16UL * QMAX);
	memset(q->avail, 0, PG);
	memset(q->used, 0, 8UL * QMAX + PG);
	q->used_event = &q->avail->ring[q->num];
	q->avail_idx = 0;
	q->used_seen = 0;
	return xioctl(r, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM") &&
	       xioctl(r, VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE") &&
	       xioctl(r, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR") &&
	       xioctl(r, VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK") &&
	       xioctl(r, VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL") &&
	       xioctl(r, VHOST_VDPA_SET_VRING_ENABLE, &on, "SET_VRING_ENABLE");
}

/* Reset, negotiate @feat and start the queues with @num entries. */
static bool setup(struct ring *r, uint64_t feat, unsigned int num)
{
	unsigned int i;

	r->resets++;
	if (!set_status(r, 0))
		return false;
	if (get_status(r) != 0) {
		fail(r, "status %#x after a reset", get_status(r));
		return false;
	}
	r->features = feat;
	if (!set_status(r, VIRTIO_CONFIG_S_ACKNOWLEDGE) ||
	    !set_status(r, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER) ||
	    !xioctl(r, VHOST_SET_FEATURES, &feat, "SET_FEATURES") ||
	    !set_status(r, 0xb))
		return false;
	if (!(get_status(r) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		fail(r, "FEATURES_OK refused for %#llx", (unsigned long long)feat);
		return false;
	}
	for (i = 0; i < r->nvq; i++) {
		r->vq[i].num = num;
		if (!setup_vq(r, &r->vq[i]))
			return false;
	}
	return set_status(r, 0xf);
}

static uint64_t base_features(void)
{
	return (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_ACCESS_PLATFORM);
}

/* ---- the driver side ---- */

static void kick(struct vq *q)
{
	uint64_t one = 1;

	if (write(q->kick, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("kick");
}

static void post(struct vq *q, uint16_t id)
{
	q->avail->ring[q->avail_idx % q->num] = id;
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	if (q->used_event)
		st16(q->used_event, q->used_seen);
}

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

static void wait_call(struct ring *r, int ms)
{
	struct pollfd p[2] = {
		{ .fd = r->vq[0].call, .events = POLLIN },
		{ .fd = r->nvq > 1 ? r->vq[1].call : -1, .events = POLLIN },
	};
	uint64_t v;
	unsigned int i;

	if (poll(p, 2, ms) <= 0)
		return;
	for (i = 0; i < 2; i++)
		if (p[i].revents & POLLIN && read(p[i].fd, &v, sizeof(v)) < 0)
			v = 0;
}

static void fill_frame(uint8_t *f, uint32_t seq)
{
	unsigned int i;

	memset(f, 0, NET_HDR_LEN);
	f += NET_HDR_LEN;
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, sizeof(seq));
	for (i = 18; i < FRAME_LEN; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

static void net_post_rx(struct ring *r, struct vq *rx, uint16_t id)
{
	id %= rx->num;
	rx->desc[id].addr = iova_of(r, rx->bufs + (size_t)id * BUF_SIZE);
	rx->desc[id].len = BUF_SIZE;
	rx->desc[id].flags = VRING_DESC_F_WRITE;
	rx->desc[id].next = 0;
	post(rx, id);
}

/* One TX frame in slot avail_idx % num; false if the ring is full. */
static bool net_send(struct ring *r, struct vq *tx, uint32_t seq)
{
	uint16_t id = tx->avail_idx % tx->num;
	uint8_t *buf = tx->bufs + (size_t)id * BUF_SIZE;
	uint16_t used = __atomic_load_n(&tx->used->idx, __ATOMIC_ACQUIRE);

	if ((uint16_t)(tx->avail_idx - used) >= tx->num)
		return false;
	fill_frame(buf, seq);
	tx->desc[id].addr = iova_of(r, buf);
	tx->desc[id].len = NET_HDR_LEN + FRAME_LEN;
	tx->desc[id].flags = 0;
	tx->desc[id].next = 0;
	post(tx, id);
	return true;
}

/* Traffic under corruption: nothing is checked but our own safety. */
static void net_burst(struct ring *r, double until)
{
	struct vq *rx = &r->vq[0], *tx = &r->vq[1];
	struct vring_used_elem *e;
	unsigned int i;
	uint32_t seq = 0;

	for (i = 0; i < rx->num; i++)
		net_post_rx(r, rx, i);
	kick(rx);
	while (fz_now() < until) {
		bool progress = false;

		for (i = 0; i < 8 && net_send(r, tx, seq); i++) {
			seq++;
			progress = true;
		}
		if (progress)
			kick(tx);
		while ((e = reap(tx)))
			progress = true;
		for (i = 0; (e = reap(rx)); i++)
			net_post_rx(r, rx, e->id);
		if (i)
			kick(rx);
		r->frames += i;
		if (!progress && !i)
			wait_call(r, 1);
	}
}

/* A clean round: every frame comes back intact and in order. */
static bool net_clean(struct ring *r)
{
	struct vq *rx = &r->vq[0], *tx = &r->vq[1];
	uint8_t want[NET_HDR_LEN + FRAME_LEN];
	struct vring_used_elem *e;
	uint32_t sent = 0, got = 0;
	double t0 = fz_now();
	unsigned int i;

	for (i = 0; i < rx->num; i++)
		net_post_rx(r, rx, i);
	kick(rx);
	while (got < CLEAN_FRAMES) {
		if (sent < CLEAN_FRAMES && net_send(r, tx, sent)) {
			sent++;
			kick(tx);
			continue;
		}
		while (reap(tx))
			;
		while ((e = reap(rx))) {
			uint16_t id = e->id % rx->num;

			fill_frame(want, got);
			if (e->id >= rx->num || e->len != sizeof(want) ||
			    memcmp(rx->bufs + (size_t)id * BUF_SIZE + NET_HDR_LEN,
				   want + NET_HDR_LEN, FRAME_LEN)) {
				fail(r, "clean frame %u: bad (id %u, len %u)", got,
				     e->id, e->len);
				return false;
			}
			got++;
			net_post_rx(r, rx, id);
			kick(rx);
		}
		if (fz_now() - t0 > CLEAN_TIMEOUT) {
			fail(r, "clean round: %u of %u frames back after %.0f s (status %#x)",
			     got, CLEAN_FRAMES, CLEAN_TIMEOUT, get_status(r));
			return false;
		}
		wait_call(r, 1);
	}
	return true;
}

struct blk_req {
	struct virtio_blk_outhdr hdr;
	uint8_t status;
};

/* Request slot @s uses descriptors 3s..3s+2 and buffer s. */
static void blk_post(struct ring *r, struct vq *q, unsigned int s,
		     uint32_t type, uint64_t sector, unsigned int len)
{
	struct blk_req *req = (void *)(q->ind + IND_LEN - (s + 1) * 64);
	uint8_t *data = q->bufs + (size_t)s * BUF_SIZE;
	uint16_t d = 3 * s;

	req->hdr.type = type;
	req->hdr.ioprio = 0;
	req->hdr.sector = sector;
	req->status = 0xff;
	q->desc[d] = (struct vring_desc){ iova_of(r, &req->hdr),
		sizeof(req->hdr), VRING_DESC_F_NEXT, d + 1 };
	q->desc[d + 1] = (struct vring_desc){ iova_of(r, data), len,
		VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0),
		d + 2 };
	q->desc[d + 2] = (struct vring_desc){ iova_of(r, &req->status), 1,
		VRING_DESC_F_WRITE, 0 };
	post(q, d);
}

static void blk_burst(struct ring *r, double until)
{
	static const uint32_t types[] = {
		VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
		VIRTIO_BLK_T_GET_ID, 0x55,
	};
	struct vq *q = &r->vq[0];
	unsigned int slots = q->num / 3;
	struct fz *f = &r->f;

	if (slots > IND_LEN / 64 / 2)
		slots = IND_LEN / 64 / 2;
	while (fz_now() < until) {
		uint16_t used = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
		bool progress = false;

		while ((uint16_t)(q->avail_idx - used) < slots) {
			unsigned int s = q->avail_idx % slots;
			unsigned int len = SECTOR * (1 + fz_below(f, BUF_SIZE / SECTOR));

			blk_post(r, q, s, types[fz_below(f, FZ_ARRAY_SIZE(types))],
				 fz_below(f, r->capacity + 8), len);
			progress = true;
		}
		if (progress)
			kick(q);
		while (reap(q)) {
			r->requests++;
			progress = true;
		}
		if (!progress)
			wait_call(r, 1);
	}
}

/* Wait for one request at a time; its status, or -1. */
static int blk_io(struct ring *r, uint32_t type, uint64_t sector)
{
	struct vq *q = &r->vq[0];
	struct blk_req *req = (void *)(q->ind + IND_LEN - 64);
	double t0 = fz_now();

	blk_post(r, q, 0, type, sector, BUF_SIZE);
	kick(q);
	while (!reap(q)) {
		if (fz_now() - t0 > CLEAN_TIMEOUT) {
			fail(r, "clean round: blk request timed out (status %#x)",
			     get_status(r));
			return -1;
		}
		wait_call(r, 1);
	}
	return req->status;
}

static bool blk_clean(struct ring *r)
{
	uint8_t *data = r->vq[0].bufs;
	unsigned int i, j, per = BUF_SIZE / SECTOR;

	if (r->capacity < CLEAN_BLOCKS * per) {
		fail(r, "disk of %llu sectors too small", (unsigned long long)r->capacity);
		return false;
	}
	for (i = 0; i < CLEAN_BLOCKS; i++) {
		for (j = 0; j < BUF_SIZE; j++)
			data[j] = (uint8_t)(i * 31 + j + r->resets);
		if (blk_io(r, VIRTIO_BLK_T_OUT, i * per)) {
			fail(r, "clean round: write of block %u failed", i);
			return false;
		}
	}
	for (i = 0; i < CLEAN_BLOCKS; i++) {
		memset(data, 0, BUF_SIZE);
		if (blk_io(r, VIRTIO_BLK_T_IN, i * per)) {
			fail(r, "clean round: read of block %u failed", i);
			return false;
		}
		for (j = 0; j < BUF_SIZE; j++) {
			if (data[j] != (uint8_t)(i * 31 + j + r->resets)) {
				fail(r, "clean round: block %u byte %u differs", i, j);
				return false;
			}
		}
	}
	return true;
}

/* ---- the corrupting thread ---- */

static uint64_t bad_iova(struct ring *r, struct fz *f)
{
	switch (fz_below(f, 6)) {
	case 0:
		return r->hole_iova + fz_below(f, 1 << 20);
	case 1:
		return 0;
	case 2:
		return fz_edge(f);
	case 3:		/* straddles the end of the mapping */
		return r->iova + r->mem_len - fz_below(f, 64);
	case 4:
		return r->iova - 1 - fz_below(f, PG);
	default:
		return fz_rand(f);
	}
}

/* An indirect table of @n garbage (or nested) descriptors in @q->ind. */
static uint64_t garbage_table(struct ring *r, struct fz *f, struct vq *q,
			      bool nested, uint32_t *len)
{
	unsigned int n = 1 + fz_below(f, 64), i;
	size_t off = fz_below(f, IND_LEN / 2 / 16) * 16;
	struct vring_desc *t = (void *)(q->ind + off);

	for (i = 0; i < n; i++) {
		uint64_t addr = fz_chance(f, 50) ? iova_of(r, q->bufs) : fz_rand(f);
		uint16_t flags = fz_chance(f, 50) ? VRING_DESC_F_NEXT : fz_rand(f);

		if (nested && fz_chance(f, 50)) {
			flags = VRING_DESC_F_INDIRECT;
			addr = iova_of(r, fz_chance(f, 50) ? (void *)t : (void *)q->ind);
		}
		st64(&t[i].addr, addr);
		st32(&t[i].len,
		     fz_chance(f, 50) ? fz_below(f, BUF_SIZE) : fz_edge(f));
		st16(&t[i].flags, flags);
		st16(&t[i].next,
		     fz_chance(f, 70) ? fz_below(f, n + 1) : fz_rand(f));
	}
	*len = fz_chance(f, 70) ? n * 16 : fz_chance(f, 50) ? fz_edge(f) :
	       n * 16 + 1 + fz_below(f, 15);
	return iova_of(r, t);
}

static void corrupt_one(struct ring *r, struct fz *f)
{
	struct vq *q = &r->vq[fz_below(f, r->nvq)];
	unsigned int i = fz_below(f, q->num);
	struct vring_desc *d = &q->desc[i];
	enum corruption c = fz_below(f, C_NR);
	uint32_t len;
	unsigned int k;

	switch (c) {
	case C_LOOP:
		st16(&d->next, fz_chance(f, 50) ? i : fz_below(f, i + 1));
		st16(&d->flags, d->flags | VRING_DESC_F_NEXT);
		break;
	case C_NEXT:
		st16(&d->next, q->num + fz_below(f, 0x10000 - q->num));
		st16(&d->flags, d->flags | VRING_DESC_F_NEXT);
		break;
	case C_UNMAPPED:
		st64(&d->addr, bad_iova(r, f));
		break;
	case C_RO_WRITE:
		st64(&d->addr, r->ro_iova + fz_below(f, RO_LEN - BUF_SIZE));
		st16(&d->flags, d->flags | VRING_DESC_F_WRITE);
		break;
	case C_LEN:
		st32(&d->len, fz_chance(f, 30) ? 0 : fz_chance(f, 50) ?
		     0xffffffff : fz_edge(f));
		break;
	case C_INDIRECT:
	case C_NESTED:
		st64(&d->addr, garbage_table(r, f, q, c == C_NESTED, &len));
		st32(&d->len, len);
		st16(&d->flags, VRING_DESC_F_INDIRECT |
		     (fz_chance(f, 20) ? VRING_DESC_F_NEXT : 0));
		break;
	case C_AVAIL_JUMP:
		st16(&q->avail->idx, q->avail_idx + q->num + fz_below(f, 0x10000 - q->num));
		break;
	case C_AVAIL_ENTRY:
		st16(&q->avail->ring[fz_below(f, q->num)],
		     fz_chance(f, 50) ? q->num + fz_below(f, 0x10000 - q->num) :
		     fz_below(f, q->num));
		break;
	case C_FLAGS:
		st16(&d->flags, fz_rand(f));
		break;
	case C_FLIP:		/* good, bad, good... while the device reads */
		for (k = 0; k < 64; k++) {
			st64(&d->addr, k & 1 ? bad_iova(r, f) :
			     iova_of(r, q->bufs + (size_t)i * BUF_SIZE));
			st32(&d->len, k & 1 ? fz_edge(f) : BUF_SIZE);
		}
		break;
	case C_EVENT:
		if (fz_chance(f, 50))
			st16(&q->avail->flags, fz_rand(f));
		else
			st16(q->used_event, fz_rand(f));
		break;
	default:
		st16(&d->flags, d->flags ^ VRING_DESC_F_WRITE);
		break;
	}
	r->corrupt[c]++;
	r->f.inputs++;
}

static void *corrupter(void *arg)
{
	struct ring *r = arg;
	struct fz *f = &r->cf;
	struct timespec ts = { 0, 0 };

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		corrupt_one(r, f);
		if (fz_chance(f, 70)) {
			ts.tv_nsec = 1000 * fz_below(f, 500);
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* ---- one iteration ---- */

static uint64_t pick_features(struct ring *r)
{
	struct fz *f = &r->f;
	uint64_t feat = base_features();

	if (fz_chance(f, 50))
		feat |= r->dev_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (fz_chance(f, 30))
		feat |= r->dev_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	return feat;
}

static bool clean_round(struct ring *r)
{
	if (!setup(r, base_features(), r->vq_max < 64 ? r->vq_max : 64))
		return false;
	r->clean_rounds++;
	return r->id == VIRTIO_ID_NET ? net_clean(r) : blk_clean(r);
}

static bool ro_intact(struct ring *r)
{
	size_t i;

	for (i = 0; i < RO_LEN; i++) {
		if (r->ro[i] != RO_BYTE) {
			fail(r, "the device wrote into the read-only mapping (offset %zu)", i);
			return false;
		}
	}
	return true;
}

static bool burst(struct ring *r)
{
	struct fz *f = &r->f;
	unsigned int num = 1U << (2 + fz_below(f, 7));
	double until = fz_now() + 0.05 + fz_below(f, 250) / 1000.0;
	pthread_t th;

	if (num > r->vq_max)
		num = r->vq_max;
	if (f->deadline && until > f->deadline)
		until = f->deadline;
	if (!setup(r, pick_features(r), num))
		return false;
	r->cf.rng = fz_rand(f) | 1;
	__atomic_store_n(&r->stop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&th, NULL, corrupter, r))
		fz_die(f, FZ_EXIT_SETUP, "pthread_create");
	if (r->id == VIRTIO_ID_NET)
		net_burst(r, until);
	else
		blk_burst(r, until);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	if (!set_status(r, 0) || !ro_intact(r))
		return false;
	return clean_round(r) && set_status(r, 0);
}

static void probe_blk(struct ring *r)
{
	struct {
		struct vhost_vdpa_config c;
		uint64_t capacity;
	} cfg = { { 0, sizeof(uint64_t) }, 0 };

	if (!xioctl(r, VHOST_VDPA_GET_CONFIG, &cfg, "GET_CONFIG"))
		fz_die(&r->f, FZ_EXIT_SETUP, "%s", r->err);
	memcpy(&r->capacity, cfg.c.buf, sizeof(r->capacity));
}

static void usage(void)
{
	fprintf(stderr, "Usage: fuzz-ring [options] /dev/vhost-vdpa-N\n");
	fz_usage_common();
	fprintf(stderr, "  -b          the device must be a virtio-blk device\n");
	exit(FZ_EXIT_SETUP);
}

int main(int argc, char **argv)
{
	struct ring r = { .fd = -1 };
	char extra[512];
	size_t off;
	bool want_blk = false;
	int c;

	fz_init(&r.f, "ring");
	r.cf.name = "ring";
	while ((c = getopt(argc, argv, "s:n:i:t:o:vbh")) != -1) {
		if (fz_option(&r.f, c, optarg))
			continue;
		if (c == 'b')
			want_blk = true;
		else
			usage();
	}
	if (optind + 1 != argc)
		usage();
	r.path = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	layout(&r);
	attach(&r);
	if (r.id == VIRTIO_ID_NET && !want_blk) {
		if (r.nvqs < 2)
			fz_die(&r.f, FZ_EXIT_SETUP, "net device with %u vqs", r.nvqs);
		r.nvq = 2;
		r.vq[1].index = 1;
	} else if (r.id == VIRTIO_ID_BLOCK) {
		r.nvq = 1;
		probe_blk(&r);
	} else {
		fz_die(&r.f, FZ_EXIT_SETUP, "device id %u is not %s", r.id,
		       want_blk ? "virtio-blk" : "virtio-net or virtio-blk");
	}
	if (r.vq_max < 4)
		fz_die(&r.f, FZ_EXIT_SETUP, "queue size %u too small", r.vq_max);
	fz_start(&r.f);
	while (fz_next(&r.f)) {
		if (burst(&r))
			continue;
		r.failures++;
		printf("fuzz-ring: seed %llu iteration %lu: %s\n",
		       (unsigned long long)r.f.seed, r.f.iter, r.err);
		break;
	}
	set_status(&r, 0);
	close(r.fd);
	off = snprintf(extra, sizeof(extra), "device %s, %lu %s, %lu clean rounds, corruptions:",
		       r.id == VIRTIO_ID_NET ? "net" : "blk",
		       r.id == VIRTIO_ID_NET ? r.frames : r.requests,
		       r.id == VIRTIO_ID_NET ? "frames" : "requests", r.clean_rounds);
	for (c = 0; c < C_NR && off < sizeof(extra); c++)
		off += snprintf(extra + off, sizeof(extra) - off, " %s %lu",
				cnames[c], r.corrupt[c]);
	fz_summary(&r.f, extra);
	return fz_finish(&r.f, r.failures ? FZ_EXIT_REPORT : 0);
}
