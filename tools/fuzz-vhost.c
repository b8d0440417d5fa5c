// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-vhost: random sequences of ioctls, IOTLB writes and mmaps on
 * /dev/vhost-vdpa-N.
 *
 * Each iteration opens the node, sometimes walks most of the way through
 * a correct set-up (owner, features, status, an IOTLB mapping, rings
 * inside it, DRIVER_OK) and then issues random operations: every vhost
 * and vhost-vdpa ioctl with random arguments (vq indices huge and
 * negative, status values out of order, config offsets past the end,
 * eventfds, bad and foreign fds) and pointers that are good, NULL, 1, a
 * kernel address, an unmapped page or a read-only page; IOTLB v2 messages
 * with random type, asid, iova, size, permissions and user addresses in
 * our memory, in read-only memory, unmapped or random, written with the
 * right or a wrong size; batches begun and never ended; mmaps of the
 * doorbell area at random offsets, sizes and protections; kicks, garbage
 * in the mapped memory, pages replaced under a mapping, a second open and
 * closes at random points.  The iteration ends by closing the node.
 * RLIMIT_MEMLOCK is set to 64 MiB (-m) so that pinning sometimes fails.
 *
 * One input is one system call on the device.  Output:
 * "fuzz-vhost: N inputs, seed S (...)".  Exit status 1 on a kernel report
 * or when a second open of the node succeeds.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "fuzz.h"

#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME	_IO(VHOST_VIRTIO, 0x7E)
#endif
#ifndef VHOST_BACKEND_F_IOTLB_ASID
#define VHOST_BACKEND_F_IOTLB_ASID	0x3
#endif
#ifndef VHOST_BACKEND_F_SUSPEND
#define VHOST_BACKEND_F_SUSPEND	0x4
#endif

#define PG		4096UL
#define POOL_LEN	(16UL << 20)	/* RW memory offered to the IOTLB */
#define RO_LEN		0x100000UL	/* read-only memory */
#define CFG_LEN		(64UL << 10)	/* config buffer, then a guard page */
#define NEFD		4
#define MAX_OPS		64
#define KERNEL_ADDR	0xffff888000000000ULL

/* Argument shapes of the ioctls. */
enum arg {
	A_NONE, A_U8, A_U16, A_U32, A_U64, A_FD, A_STATE, A_ADDR, A_FILE,
	A_CONFIG, A_RANGE, A_MEM,
};

struct op {
	unsigned long req;
	const char *name;
	enum arg arg;
};

static const struct op ops[] = {
	{ VHOST_GET_FEATURES, "GET_FEATURES", A_U64 },
	{ VHOST_SET_FEATURES, "SET_FEATURES", A_U64 },
	{ VHOST_SET_OWNER, "SET_OWNER", A_NONE },
	{ VHOST_RESET_OWNER, "RESET_OWNER", A_NONE },
	{ VHOST_SET_MEM_TABLE, "SET_MEM_TABLE", A_MEM },
	{ VHOST_SET_LOG_BASE, "SET_LOG_BASE", A_U64 },
	{ VHOST_SET_LOG_FD, "SET_LOG_FD", A_FD },
	{ VHOST_SET_VRING_NUM, "SET_VRING_NUM", A_STATE },
	{ VHOST_SET_VRING_ADDR, "SET_VRING_ADDR", A_ADDR },
	{ VHOST_SET_VRING_BASE, "SET_VRING_BASE", A_STATE },
	{ VHOST_GET_VRING_BASE, "GET_VRING_BASE", A_STATE },
	{ VHOST_SET_VRING_ENDIAN, "SET_VRING_ENDIAN", A_STATE },
	{ VHOST_GET_VRING_ENDIAN, "GET_VRING_ENDIAN", A_STATE },
	{ VHOST_SET_VRING_KICK, "SET_VRING_KICK", A_FILE },
	{ VHOST_SET_VRING_CALL, "SET_VRING_CALL", A_FILE },
	{ VHOST_SET_VRING_ERR, "SET_VRING_ERR", A_FILE },
	{ VHOST_SET_VRING_BUSYLOOP_TIMEOUT, "SET_BUSYLOOP", A_STATE },
	{ VHOST_GET_VRING_BUSYLOOP_TIMEOUT, "GET_BUSYLOOP", A_STATE },
	{ VHOST_SET_BACKEND_FEATURES, "SET_BACKEND_FEATURES", A_U64 },
	{ VHOST_GET_BACKEND_FEATURES, "GET_BACKEND_FEATURES", A_U64 },
	{ VHOST_NET_SET_BACKEND, "NET_SET_BACKEND", A_FILE },
	{ VHOST_VSOCK_SET_RUNNING, "VSOCK_SET_RUNNING", A_U32 },
	{ VHOST_VDPA_GET_DEVICE_ID, "GET_DEVICE_ID", A_U32 },
	{ VHOST_VDPA_GET_STATUS, "GET_STATUS", A_U8 },
	{ VHOST_VDPA_SET_STATUS, "SET_STATUS", A_U8 },
	{ VHOST_VDPA_SET_STATUS, "SET_STATUS", A_U8 },
	{ VHOST_VDPA_SET_STATUS, "SET_STATUS", A_U8 },
	{ VHOST_VDPA_GET_CONFIG, "GET_CONFIG", A_CONFIG },
	{ VHOST_VDPA_SET_CONFIG, "SET_CONFIG", A_CONFIG },
	{ VHOST_VDPA_SET_VRING_ENABLE, "SET_VRING_ENABLE", A_STATE },
	{ VHOST_VDPA_GET_VRING_NUM, "GET_VRING_NUM", A_U16 },
	{ VHOST_VDPA_SET_CONFIG_CALL, "SET_CONFIG_CALL", A_FD },
	{ VHOST_VDPA_GET_IOVA_RANGE, "GET_IOVA_RANGE", A_RANGE },
	{ VHOST_VDPA_GET_CONFIG_SIZE, "GET_CONFIG_SIZE", A_U32 },
	{ VHOST_VDPA_GET_VQS_COUNT, "GET_VQS_COUNT", A_U32 },
	{ VHOST_VDPA_GET_GROUP_NUM, "GET_GROUP_NUM", A_U32 },
	{ VHOST_VDPA_GET_AS_NUM, "GET_AS_NUM", A_U32 },
	{ VHOST_VDPA_GET_VRING_GROUP, "GET_VRING_GROUP", A_STATE },
	{ VHOST_VDPA_SET_GROUP_ASID, "SET_GROUP_ASID", A_STATE },
	{ VHOST_VDPA_SUSPEND, "SUSPEND", A_NONE },
	{ VHOST_VDPA_RESUME, "RESUME", A_NONE },
};

/* Kinds of operation, for the summary. */
enum kind { K_IOCTL, K_RAW, K_IOTLB, K_MMAP, K_OTHER, K_NR };

struct vf {
	struct fz f;
	const char *path;
	int fd;
	uint8_t *pool;		/* POOL_LEN, read-write */
	uint8_t *ro;		/* RO_LEN, read-only */
	uint8_t *hole;		/* a page that was unmapped */
	uint8_t *cfg;		/* CFG_LEN then a PROT_NONE guard page */
	int efd[NEFD];
	int devnull;
	uint32_t id, nvqs, cfg_size;
	uint16_t vq_max;
	uint64_t features;
	struct vhost_vdpa_iova_range range;
	uint8_t status;		/* last status we set */
	unsigned long kinds[K_NR];
	unsigned long ok;	/* calls that succeeded */
	unsigned long failures;
};

static sigjmp_buf touch_env;

static void on_fault(int sig)
{
	siglongjmp(touch_env, sig);
}

static void count(struct vf *v, enum kind k)
{
	v->f.inputs++;
	v->kinds[k]++;
}

/* ---- random arguments ---- */

/* A user pointer to @good (size @len) most of the time, else a bad one. */
static void *pick_ptr(struct vf *v, void *good)
{
	struct fz *f = &v->f;

	if (fz_chance(f, 88))
		return good;
	switch (fz_below(f, 6)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return (void *)(uintptr_t)KERNEL_ADDR;
	case 3:
		return v->hole;
	case 4:
		return v->ro + fz_below(f, RO_LEN - 64);
	default:
		return (void *)(uintptr_t)fz_rand(f);
	}
}

/* A virtqueue index: valid, just past the end, huge or negative. */
static uint32_t pick_vq(struct vf *v)
{
	struct fz *f = &v->f;

	if (fz_chance(f, 70))
		return fz_below(f, v->nvqs ? v->nvqs : 1);
	switch (fz_below(f, 4)) {
	case 0:
		return v->nvqs + fz_below(f, 3);
	case 1:
		return -1 - (uint32_t)fz_below(f, 4);
	default:
		return fz_edge(f);
	}
}

static int pick_fd(struct vf *v)
{
	struct fz *f = &v->f;

	switch (fz_below(f, 8)) {
	case 0:
		return -1;
	case 1:
		return v->fd;
	case 2:
		return v->devnull;
	case 3:
		return 9999;
	case 4:
		return (int)fz_edge(f);
	default:
		return v->efd[fz_below(f, NEFD)];
	}
}

/* An address a ring could be at: inside the pool, misaligned, random. */
static uint64_t pick_addr(struct vf *v)
{
	struct fz *f = &v->f;

	if (fz_chance(f, 60))
		return (uintptr_t)v->pool + fz_below(f, POOL_LEN / PG) * PG;
	if (fz_chance(f, 40))
		return (uintptr_t)v->pool + fz_below(f, POOL_LEN);
	return fz_edge(f);
}

static uint8_t pick_status(struct vf *v)
{
	static const uint8_t steps[] = {
		0, VIRTIO_CONFIG_S_ACKNOWLEDGE, 0x3, 0xb, 0xf, 0x7, 0xd,
		VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_FAILED, 0x4f, 0xff,
	};
	struct fz *f = &v->f;
	uint8_t bit;

	switch (fz_below(f, 4)) {
	case 0:
		return steps[fz_below(f, FZ_ARRAY_SIZE(steps))];
	case 1:		/* one more bit, in or out of order */
		bit = 1 << fz_below(f, 8);
		return v->status | bit;
	case 2:		/* drop a bit without a reset */
		bit = 1 << fz_below(f, 8);
		return v->status & ~bit;
	default:
		return fz_rand(f);
	}
}

static uint64_t pick_features(struct vf *v)
{
	struct fz *f = &v->f;

	switch (fz_below(f, 4)) {
	case 0:
		return v->features;
	case 1:
		return v->features & fz_rand(f);
	case 2:
		return v->features | 1ULL << fz_below(f, 64);
	default:
		return fz_edge(f);
	}
}

static uint64_t pick_backend(struct vf *v)
{
	struct fz *f = &v->f;

	if (fz_chance(f, 70))
		return fz_below(f, 1 << (VHOST_BACKEND_F_SUSPEND + 2));
	return fz_edge(f);
}

/* ---- ioctls ---- */

static void fill_state(struct vf *v, const struct op *o,
		       struct vhost_vring_state *s)
{
	struct fz *f = &v->f;

	s->index = pick_vq(v);
	s->num = fz_edge(f);
	if (o->req == VHOST_SET_VRING_NUM && fz_chance(f, 60))
		s->num = 1U << fz_below(f, 17);
	else if (o->req == VHOST_VDPA_SET_VRING_ENABLE && fz_chance(f, 70))
		s->num = fz_below(f, 2);
	else if (o->req == VHOST_VDPA_SET_GROUP_ASID && fz_chance(f, 70))
		s->num = fz_below(f, 3);
	if (o->req == VHOST_VDPA_SET_GROUP_ASID && fz_chance(f, 70))
		s->index = fz_below(f, 3);
}

static void fill_addr(struct vf *v, struct vhost_vring_addr *a)
{
	struct fz *f = &v->f;

	a->index = pick_vq(v);
	a->flags = fz_chance(f, 80) ? 0 : fz_edge(f);
	a->desc_user_addr = pick_addr(v);
	a->avail_user_addr = pick_addr(v);
	a->used_user_addr = pick_addr(v);
	a->log_guest_addr = fz_chance(f, 80) ? 0 : fz_edge(f);
}

/* A vhost_vdpa_config header somewhere in the guarded config buffer. */
static void *fill_config(struct vf *v)
{
	struct fz *f = &v->f;
	struct vhost_vdpa_config *c;
	uint32_t len, off;

	off = fz_chance(f, 60) ? fz_below(f, v->cfg_size + 8) : fz_edge(f);
	len = fz_chance(f, 60) ? fz_below(f, v->cfg_size + 8) : fz_edge(f);
	if (fz_chance(f, 30) && len < CFG_LEN - sizeof(*c))
		c = (void *)(v->cfg + CFG_LEN - sizeof(*c) - len);
	else
		c = (void *)v->cfg;
	c->off = off;
	c->len = len;
	if (fz_chance(f, 50))
		fz_fill(f, c->buf, len < 256 ? len : 256);
	return c;
}

static void *fill_mem(struct vf *v)
{
	struct fz *f = &v->f;
	struct vhost_memory *m = (void *)v->cfg;
	unsigned int i, n;

	m->nregions = fz_chance(f, 70) ? fz_below(f, 8) : fz_edge(f);
	m->padding = 0;
	n = m->nregions < 64 ? m->nregions : 64;
	for (i = 0; i < n; i++) {
		m->regions[i].guest_phys_addr = fz_below(f, 16) * (1UL << 20);
		m->regions[i].memory_size = fz_chance(f, 70) ? 1UL << 20 : fz_edge(f);
		m->regions[i].userspace_addr = pick_addr(v);
		m->regions[i].flags_padding = 0;
	}
	return m;
}

static void do_ioctl(struct vf *v, const struct op *o)
{
	union {
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
		int fd;
		struct vhost_vring_state state;
		struct vhost_vring_addr addr;
		struct vhost_vring_file file;
		struct vhost_vdpa_iova_range range;
	} a;
	struct fz *f = &v->f;
	void *p = &a;
	long r;

	fz_fill(f, &a, sizeof(a));
	switch (o->arg) {
	case A_NONE:
		p = NULL;
		break;
	case A_U8:
		a.u8 = pick_status(v);
		break;
	case A_U64:
		a.u64 = o->req == VHOST_SET_BACKEND_FEATURES ? pick_backend(v) :
			pick_features(v);
		break;
	case A_FD:
		a.fd = pick_fd(v);
		break;
	case A_STATE:
		fill_state(v, o, &a.state);
		break;
	case A_ADDR:
		fill_addr(v, &a.addr);
		break;
	case A_FILE:
		a.file.index = pick_vq(v);
		a.file.fd = pick_fd(v);
		break;
	case A_CONFIG:
		p = fill_config(v);
		break;
	case A_MEM:
		p = fill_mem(v);
		break;
	default:
		break;
	}
	if (p)
		p = pick_ptr(v, p);
	count(v, K_IOCTL);
	r = ioctl(v->fd, o->req, p);
	if (!r) {
		v->ok++;
		if (o->req == VHOST_VDPA_SET_STATUS && p == &a)
			v->status = a.u8;
	}
}

/* An ioctl number nobody defined, in vhost's space or elsewhere. */
static void do_raw_ioctl(struct vf *v)
{
	struct fz *f = &v->f;
	unsigned long req;
	uint8_t buf[512];

	fz_fill(f, buf, sizeof(buf));
	req = _IOC(fz_below(f, 4), fz_chance(f, 80) ? VHOST_VIRTIO : fz_below(f, 256),
		   fz_below(f, 256), fz_below(f, sizeof(buf)));
	count(v, K_RAW);
	if (!ioctl(v->fd, req, pick_ptr(v, buf)))
		v->ok++;
}

/* ---- IOTLB messages ---- */

static uint8_t pick_iotlb_type(struct fz *f)
{
	static const uint8_t t[] = {
		VHOST_IOTLB_UPDATE, VHOST_IOTLB_UPDATE, VHOST_IOTLB_UPDATE,
		VHOST_IOTLB_UPDATE, VHOST_IOTLB_INVALIDATE,
		VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_BATCH_BEGIN,
		VHOST_IOTLB_BATCH_END, VHOST_IOTLB_MISS,
		VHOST_IOTLB_ACCESS_FAIL, 0, 7,
	};

	if (fz_chance(f, 95))
		return t[fz_below(f, FZ_ARRAY_SIZE(t))];
	return fz_rand(f);
}

static uint64_t pick_uaddr(struct vf *v)
{
	struct fz *f = &v->f;

	switch (fz_below(f, 10)) {
	case 0:
		return (uintptr_t)v->ro + fz_below(f, RO_LEN / PG) * PG;
	case 1:
		return (uintptr_t)v->hole;
	case 2:
		return fz_edge(f);
	case 3:
		return (uintptr_t)v->pool + fz_below(f, POOL_LEN);
	default:
		return (uintptr_t)v->pool + fz_below(f, POOL_LEN / PG) * PG;
	}
}

static uint64_t pick_size(struct fz *f)
{
	switch (fz_below(f, 6)) {
	case 0:
		return fz_edge(f);
	case 1:
		return 1 + fz_below(f, 2 * POOL_LEN);
	case 2:
		return POOL_LEN;
	default:
		return (1 + fz_below(f, 64)) * PG;
	}
}

static void do_iotlb(struct vf *v)
{
	static const size_t sizes[] = { 0, 1, 8, 47, 63, 65, 72, 128, 4096 };
	struct fz *f = &v->f;
	struct {
		struct vhost_msg_v2 m;
		uint8_t tail[4096];
	} b;
	struct vhost_iotlb_msg *t = &b.m.iotlb;
	size_t len = sizeof(b.m);
	ssize_t r;

	memset(&b, 0, sizeof(b));
	b.m.type = fz_chance(f, 90) ? VHOST_IOTLB_MSG_V2 :
		   fz_chance(f, 50) ? VHOST_IOTLB_MSG : fz_rand(f);
	b.m.asid = fz_chance(f, 70) ? 0 : fz_chance(f, 60) ? fz_below(f, 3) :
		   fz_edge(f);
	t->type = pick_iotlb_type(f);
	t->iova = fz_chance(f, 70) ? v->range.first + fz_below(f, 4096) * PG :
		  fz_edge(f);
	t->size = pick_size(f);
	t->uaddr = pick_uaddr(v);
	t->perm = fz_chance(f, 70) ? VHOST_ACCESS_RW :
		  fz_chance(f, 50) ? VHOST_ACCESS_RO : fz_below(f, 256);
	if (fz_chance(f, 8))
		len = sizes[fz_below(f, FZ_ARRAY_SIZE(sizes))];
	count(v, K_IOTLB);
	r = write(v->fd, pick_ptr(v, &b), len);
	if (r >= 0)
		v->ok++;
}

/* ---- mmap of the doorbells ---- */

static void do_mmap(struct vf *v)
{
	static const int prots[] = {
		PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	struct fz *f = &v->f;
	size_t len = fz_chance(f, 70) ? PG * (1 + fz_below(f, 2)) :
		     fz_chance(f, 50) ? fz_below(f, 4 * PG) : fz_edge(f);
	off_t off = fz_chance(f, 80) ? (off_t)(PG * fz_below(f, v->nvqs + 2)) :
		    (off_t)fz_edge(f);
	int prot = prots[fz_below(f, FZ_ARRAY_SIZE(prots))];
	int flags = fz_chance(f, 80) ? MAP_SHARED : MAP_PRIVATE;
	uint32_t *p;

	count(v, K_MMAP);
	p = mmap(NULL, len, prot, flags, v->fd, off);
	if (p == MAP_FAILED)
		return;
	v->ok++;
	if (fz_chance(f, 50) && sigsetjmp(touch_env, 1) == 0) {
		if (prot & PROT_WRITE)
			__atomic_store_n(p, fz_below(f, v->nvqs + 1), __ATOMIC_RELAXED);
		else if (prot & PROT_READ)
			__atomic_load_n(p, __ATOMIC_RELAXED);
	}
	munmap(p, len);
}

/* ---- other operations ---- */

static void reopen(struct vf *v)
{
	int flags = O_RDWR | O_CLOEXEC;

	if (fz_chance(&v->f, 30))
		flags |= O_NONBLOCK;
	count(v, K_OTHER);
	v->fd = open(v->path, flags);
	v->status = 0;
}

static void close_dev(struct vf *v)
{
	if (v->fd < 0)
		return;
	count(v, K_OTHER);
	close(v->fd);
	v->fd = -1;
}

/* Exclusive open: a second open must fail while we hold the node. */
static void second_open(struct vf *v)
{
	int fd;

	count(v, K_OTHER);
	fd = open(v->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	close(fd);
	v->failures++;
	printf("fuzz-vhost: a second open of %s succeeded (seed %llu iteration %lu)\n",
	       v->path, (unsigned long long)v->f.seed, v->f.iter);
}

static void do_other(struct vf *v)
{
	struct fz *f = &v->f;
	struct pollfd pfd = { .fd = v->fd, .events = POLLIN | POLLOUT };
	uint64_t one = 1;
	uint8_t buf[256];
	uint8_t *page;

	switch (fz_below(f, 8)) {
	case 0:		/* kick */
		if (write(v->efd[fz_below(f, NEFD)], &one, sizeof(one)) < 0)
			break;
		break;
	case 1:		/* garbage where rings may be */
		fz_fill(f, v->pool + fz_below(f, POOL_LEN / PG) * PG, PG);
		break;
	case 2:		/* replace a page that may be pinned */
		page = v->pool + fz_below(f, POOL_LEN / PG) * PG;
		mmap(page, PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 3:
		count(v, K_OTHER);
		if (poll(&pfd, 1, 0) < 0)
			break;
		break;
	case 4:		/* only non-blocking: a read may wait for a miss */
		if (fcntl(v->fd, F_GETFL) & O_NONBLOCK) {
			count(v, K_OTHER);
			if (read(v->fd, buf, fz_below(f, sizeof(buf))) < 0)
				break;
		}
		break;
	case 5:
		second_open(v);
		break;
	case 6:
		close_dev(v);
		reopen(v);
		break;
	default:
		do_raw_ioctl(v);
		break;
	}
}

/* ---- the correct set-up, to reach DRIVER_OK ---- */

static void iotlb_ok(struct vf *v, uint8_t type, uint64_t iova, uint64_t size,
		     uint64_t uaddr)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = { .iova = iova, .size = size, .uaddr = uaddr,
			   .perm = VHOST_ACCESS_RW, .type = type },
	};

	count(v, K_IOTLB);
	if (write(v->fd, &m, sizeof(m)) == sizeof(m))
		v->ok++;
}

static void xset_status(struct vf *v, uint8_t s)
{
	count(v, K_IOCTL);
	if (!ioctl(v->fd, VHOST_VDPA_SET_STATUS, &s))
		v->status = s;
}

static void setup_vq(struct vf *v, uint32_t i, uint64_t base, uint16_t num)
{
	struct vhost_vring_state st = { i, num };
	struct vhost_vring_addr a = {
		.index = i,
		.desc_user_addr = base,
		.avail_user_addr = base + 16UL * num,
		.used_user_addr = base + 2 * PG * ((16UL * num + PG) / PG),
	};
	struct vhost_vring_file kick = { i, v->efd[i % NEFD] };
	struct vhost_vring_file call = { i, v->efd[(i + 1) % NEFD] };
	struct vhost_vring_state on = { i, 1 };

	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_VRING_NUM, &st);
	st.num = 0;
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_VRING_BASE, &st);
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_VRING_ADDR, &a);
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_VRING_KICK, &kick);
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_VRING_CALL, &call);
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_VDPA_SET_VRING_ENABLE, &on);
}

static void good_setup(struct vf *v)
{
	struct fz *f = &v->f;
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 |
			   1ULL << VHOST_BACKEND_F_IOTLB_BATCH;
	uint64_t feat = v->features & (fz_chance(f, 50) ? ~0ULL : fz_rand(f));
	uint64_t iova = v->range.first;
	uint16_t num = v->vq_max ? 1 << fz_below(f, 9) : 0;
	uint32_t i;

	if (num > v->vq_max)
		num = v->vq_max;
	if (fz_chance(f, 30))
		backend |= 1ULL << VHOST_BACKEND_F_IOTLB_ASID;
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_OWNER, NULL);
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_BACKEND_FEATURES, &backend);
	xset_status(v, 0);
	xset_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	count(v, K_IOCTL);
	ioctl(v->fd, VHOST_SET_FEATURES, &feat);
	xset_status(v, 0xb);
	if (fz_chance(f, 70))
		iotlb_ok(v, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0);
	iotlb_ok(v, VHOST_IOTLB_UPDATE, iova, POOL_LEN, (uintptr_t)v->pool);
	if (fz_chance(f, 80))
		iotlb_ok(v, VHOST_IOTLB_BATCH_END, 0, 0, 0);
	for (i = 0; i < v->nvqs && i < 8; i++)
		setup_vq(v, i, iova + i * (POOL_LEN / 8), num);
	if (fz_chance(f, 80))
		xset_status(v, 0xf);
}

/* ---- main loop ---- */

static void session(struct vf *v)
{
	struct fz *f = &v->f;
	unsigned int i, n = 1 + fz_below(f, MAX_OPS);

	reopen(v);
	if (v->fd < 0)
		return;
	if (fz_chance(f, 30))
		good_setup(v);
	for (i = 0; i < n && v->fd >= 0; i++) {
		unsigned int k = fz_below(f, 100);

		if (k < 55)
			do_ioctl(v, &ops[fz_below(f, FZ_ARRAY_SIZE(ops))]);
		else if (k < 80)
			do_iotlb(v);
		else if (k < 87)
			do_mmap(v);
		else
			do_other(v);
	}
	close_dev(v);
}

static void probe(struct vf *v)
{
	int fd = open(v->path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fz_die(&v->f, FZ_EXIT_SETUP, "open %s: %s", v->path, strerror(errno));
	if (ioctl(fd, VHOST_VDPA_GET_DEVICE_ID, &v->id) ||
	    ioctl(fd, VHOST_GET_FEATURES, &v->features) ||
	    ioctl(fd, VHOST_VDPA_GET_VQS_COUNT, &v->nvqs) ||
	    ioctl(fd, VHOST_VDPA_GET_VRING_NUM, &v->vq_max) ||
	    ioctl(fd, VHOST_VDPA_GET_CONFIG_SIZE, &v->cfg_size) ||
	    ioctl(fd, VHOST_VDPA_GET_IOVA_RANGE, &v->range))
		fz_die(&v->f, FZ_EXIT_SETUP, "%s: basic ioctls fail: %s", v->path,
		       strerror(errno));
	close(fd);
	if (v->range.last - v->range.first < POOL_LEN)
		fz_die(&v->f, FZ_EXIT_SETUP, "IOVA range too small");
}

static void *map_or_die(struct vf *v, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		       -1, 0);

	if (p == MAP_FAILED)
		fz_die(&v->f, FZ_EXIT_SETUP, "mmap: %s", strerror(errno));
	return p;
}

static void setup_memory(struct vf *v, unsigned long memlock)
{
	struct rlimit rl = { memlock, memlock };
	struct sigaction sa = { .sa_handler = on_fault };
	int i;

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		fz_die(&v->f, FZ_EXIT_SETUP, "RLIMIT_MEMLOCK: %s", strerror(errno));
	v->pool = map_or_die(v, POOL_LEN, PROT_READ | PROT_WRITE);
	v->ro = map_or_die(v, RO_LEN, PROT_READ | PROT_WRITE);
	memset(v->ro, 0xa5, RO_LEN);
	mprotect(v->ro, RO_LEN, PROT_READ);
	v->cfg = map_or_die(v, CFG_LEN + PG, PROT_READ | PROT_WRITE);
	mprotect(v->cfg + CFG_LEN, PG, PROT_NONE);
	v->hole = map_or_die(v, PG, PROT_READ);
	munmap(v->hole, PG);
	for (i = 0; i < NEFD; i++) {
		v->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->efd[i] < 0)
			fz_die(&v->f, FZ_EXIT_SETUP, "eventfd: %s", strerror(errno));
	}
	v->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void usage(void)
{
	fprintf(stderr, "Usage: fuzz-vhost [options] /dev/vhost-vdpa-N\n");
	fz_usage_common();
	fprintf(stderr, "  -m MIB      RLIMIT_MEMLOCK in MiB (default 64)\n");
	exit(FZ_EXIT_SETUP);
}

int main(int argc, char **argv)
{
	struct vf v = { .fd = -1 };
	unsigned long memlock = 64UL << 20;
	char extra[256];
	int c;

	fz_init(&v.f, "vhost");
	while ((c = getopt(argc, argv, "s:n:i:t:o:vm:h")) != -1) {
		if (fz_option(&v.f, c, optarg))
			continue;
		if (c == 'm')
			memlock = fz_num(&v.f, optarg) << 20;
		else
			usage();
	}
	if (optind + 1 != argc)
		usage();
	v.path = argv[optind];
	probe(&v);
	setup_memory(&v, memlock);
	fz_start(&v.f);
	while (fz_next(&v.f))
		session(&v);
	snprintf(extra, sizeof(extra),
		 "device %s, %lu ioctls, %lu raw ioctls, %lu IOTLB writes, %lu mmaps, %lu other, %lu succeeded",
		 v.id == VIRTIO_ID_NET ? "net" : v.id == VIRTIO_ID_BLOCK ? "blk" : "other",
		 v.kinds[K_IOCTL], v.kinds[K_RAW], v.kinds[K_IOTLB],
		 v.kinds[K_MMAP], v.kinds[K_OTHER], v.ok);
	fz_summary(&v.f, extra);
	return fz_finish(&v.f, v.failures ? FZ_EXIT_REPORT : 0);
}
