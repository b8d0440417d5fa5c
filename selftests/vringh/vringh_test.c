// SPDX-License-Identifier: GPL-2.0
/*
 * vringh_test: in-kernel tests of vringh.ko.
 *
 * Reading /sys/kernel/debug/vringh_test/run runs every case, in the
 * reading process (user rings are mapped into its mm with vm_mmap()), and
 * returns the results as TAP lines: "ok N - mode: case", "not ok N - ...",
 * "# ..." diagnostics (failed checks, benchmark figures) and "1..N".
 *
 * Each case gets a fresh environment: guest memory in one of the three
 * address spaces vringh supports, a ring laid out in it, and the iovs.
 *   kern   vzalloc()ed memory, addresses are kernel pointers;
 *   user   anonymous memory of the reader, guest address VT_GBASE + off is
 *          user address ubase + off through the getrange() callback;
 *   iotlb  order-1 page pairs, each pair mapped as one VHOST_MAP_RW map at
 *          IOVA VT_IOVA + off, so a buffer can cross a page inside a map
 *          or cross from one map into the next;
 *   iotlb-cached  the same through the *_iotlb_cached functions, with a
 *          translation cache that every change of the tree invalidates.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/vhost_iotlb.h>
#include <linux/vmalloc.h>
#include <linux/vringh.h>
#include <uapi/linux/virtio_config.h>

#include "../../drivers/vhost/vringh_cache.h"

#define VT_GBASE	0x40000000ULL	/* user: guest address of byte 0 */
#define VT_GBAD		0x80000000ULL	/* user: guest range onto VT_BAD_UADDR */
#define VT_BAD_UADDR	0x1000UL	/* below mmap_min_addr: never mapped */
#define VT_GTINY	0xc0000000ULL	/* user: 1-byte ranges onto the data */
#define VT_IOVA		0x10000000ULL	/* iotlb: IOVA of byte 0 */
#define VT_PAGES	16U		/* guest memory, an even number of pages */
#define VT_MAPS_MAX	1024U		/* iotlb: maps a tree may hold */
#define VT_NUM		8U
#define VT_FEATS	(BIT_ULL(VIRTIO_F_VERSION_1) | \
			 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC))
#define VT_OUT_SIZE	(64 * 1024)
#define VT_NOTE_SIZE	1024
#define VT_MAX_NOTES	6

#define F_NEXT		VRING_DESC_F_NEXT
#define F_WRITE		VRING_DESC_F_WRITE
#define F_INDIRECT	VRING_DESC_F_INDIRECT

enum vt_mode {
	VT_KERN,
	VT_USER,
	VT_IOTLB,
	VT_IOTLB_CACHED,
	VT_NMODES,
};

static const char * const vt_mode_name[VT_NMODES] = {
	[VT_KERN] = "kern",
	[VT_USER] = "user",
	[VT_IOTLB] = "iotlb",
	[VT_IOTLB_CACHED] = "iotlb-cached",
};

/* TAP text being built: a whole run, or one case's diagnostics. */
struct vt_out {
	char *buf;
	size_t len;
	size_t cap;
	unsigned int n;		/* results so far */
};

/* One case's world: guest memory, a ring in it, the host-side iovs. */
struct vt_env {
	enum vt_mode mode;
	struct vt_out *out;
	unsigned int failed;	/* failed checks in the current case */

	unsigned int num;
	size_t size;
	u64 desc_off, avail_off, used_off, indir_off, data_off;
	u16 avail_idx;		/* the driver's shadow of avail->idx */

	u8 *kmem;				/* kern */
	unsigned long ubase;			/* user */
	bool split_ranges;	/* user: getrange() splits memory in halves */
	bool bad_range;		/* user: getrange() lies about the range */
	bool tiny_ranges;	/* user: VT_GTINY + x is data byte x % 4096 */
	bool strong;		/* init with weak_barriers false */
	struct page *pages[VT_PAGES];		/* iotlb */
	/*
	 * iotlb_lock protects the tree of iotlb against the lookups of vringh
	 * (any context).  Only the case's own thread changes the tree: it
	 * builds a new tree without the lock and swaps it in with the lock
	 * held, interrupts off (vt_tree_install()).
	 */
	struct vhost_iotlb *iotlb;
	spinlock_t iotlb_lock;	/* guards iotlb (see above) */
	unsigned int map_gen;	/* bumped with every swap, under iotlb_lock */
	struct vringh_iotlb_cache xlc;		/* iotlb-cached */

	struct vringh vrh;
	struct vringh_kiov riov, wiov;
	struct vringh_iov uriov, uwiov;
	struct kvec rvec[4], wvec[4];
	struct iovec urvec[4], uwvec[4];
	int notified;
};

static DEFINE_MUTEX(vt_run_lock);
static struct dentry *vt_dir;

static char *only;
module_param(only, charp, 0444);
MODULE_PARM_DESC(only, "run only the cases whose name contains this string");

/* ---- output ---- */

static __printf(2, 3) void vt_print(struct vt_out *o, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	if (o->len < o->cap)
		o->len += vscnprintf(o->buf + o->len, o->cap - o->len, fmt,
				     args);
	va_end(args);
}

/* Record one check; print the first few failures of a case. */
static bool vt_eq(struct vt_env *e, int line, const char *what,
		  long long got, long long want)
{
	if (got == want)
		return true;
	if (e->failed++ < VT_MAX_NOTES)
		vt_print(e->out, "#   line %d: %s: got %lld, want %lld\n",
			 line, what, got, want);
	return false;
}

#define VT_EQ(e, got, want) \
	vt_eq(e, __LINE__, #got, (long long)(got), (long long)(want))
#define VT_OK(e, cond) vt_eq(e, __LINE__, #cond, !!(cond), 1)

/* ---- guest memory ---- */

static u8 vt_pat(u64 off)
{
	return (off * 31 + off / 251 + 7) & 0xff;
}

static u64 vt_gaddr(struct vt_env *e, u64 off)
{
	switch (e->mode) {
	case VT_KERN:
		return (uintptr_t)e->kmem + off;
	case VT_USER:
		return VT_GBASE + off;
	default:
		return VT_IOVA + off;
	}
}

/* The ring pointer that *_init_* gets for guest offset @off. */
static void *vt_rptr(struct vt_env *e, u64 off)
{
	switch (e->mode) {
	case VT_KERN:
		return e->kmem + off;
	case VT_USER:
		return (void *)(e->ubase + off);
	default:
		return (void *)(uintptr_t)(VT_IOVA + off);
	}
}

static int vt_mem_rw(struct vt_env *e, u64 off, void *buf, size_t len,
		     bool write)
{
	void __user *u = (void __user *)(e->ubase + off);
	size_t n;
	u8 *p;

	if (off > e->size || len > e->size - off)
		return -EINVAL;
	switch (e->mode) {
	case VT_KERN:
		if (write)
			memcpy(e->kmem + off, buf, len);
		else
			memcpy(buf, e->kmem + off, len);
		return 0;
	case VT_USER:
		if (write ? copy_to_user(u, buf, len) :
			    copy_from_user(buf, u, len))
			return -EFAULT;
		return 0;
	default:
		break;
	}
	while (len) {
		n = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		p = page_address(e->pages[off >> PAGE_SHIFT]) +
		    offset_in_page(off);
		if (write)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static void vt_wr(struct vt_env *e, u64 off, const void *buf, size_t len)
{
	VT_EQ(e, vt_mem_rw(e, off, (void *)buf, len, true), 0);
}

static void vt_rd(struct vt_env *e, u64 off, void *buf, size_t len)
{
	VT_EQ(e, vt_mem_rw(e, off, buf, len, false), 0);
}

static void vt_put16(struct vt_env *e, u64 off, u16 val)
{
	__virtio16 v = __cpu_to_virtio16(true, val);

	vt_wr(e, off, &v, sizeof(v));
}

static u16 vt_get16(struct vt_env *e, u64 off)
{
	__virtio16 v = 0;

	vt_rd(e, off, &v, sizeof(v));
	return __virtio16_to_cpu(true, v);
}

static u32 vt_get32(struct vt_env *e, u64 off)
{
	__virtio32 v = 0;

	vt_rd(e, off, &v, sizeof(v));
	return __virtio32_to_cpu(true, v);
}

/* ---- driver side of the ring (little endian: VIRTIO_F_VERSION_1) ---- */

static void vt_desc_at(struct vt_env *e, u64 table_off, unsigned int i,
		       u64 addr, u32 len, u16 flags, u16 next)
{
	struct vring_desc d = {
		.addr = __cpu_to_virtio64(true, addr),
		.len = __cpu_to_virtio32(true, len),
		.flags = __cpu_to_virtio16(true, flags),
		.next = __cpu_to_virtio16(true, next),
	};

	vt_wr(e, table_off + i * sizeof(d), &d, sizeof(d));
}

/* Descriptor @i of the ring, for a buffer at guest offset @off. */
static void vt_desc(struct vt_env *e, unsigned int i, u64 off, u32 len,
		    u16 flags, u16 next)
{
	vt_desc_at(e, e->desc_off, i, vt_gaddr(e, off), len, flags, next);
}

/* Entry @i of the indirect table at e->indir_off. */
static void vt_idesc(struct vt_env *e, unsigned int i, u64 off, u32 len,
		     u16 flags, u16 next)
{
	vt_desc_at(e, e->indir_off, i, vt_gaddr(e, off), len, flags, next);
}

static void vt_set_avail_idx(struct vt_env *e, u16 idx)
{
	e->avail_idx = idx;
	vt_put16(e, e->avail_off + 2, idx);
}

static void vt_avail_add(struct vt_env *e, u16 head)
{
	vt_put16(e, e->avail_off + 4 + 2 * (e->avail_idx & (e->num - 1)),
		 head);
	vt_set_avail_idx(e, e->avail_idx + 1);
}

static u16 vt_used_idx(struct vt_env *e)
{
	return vt_get16(e, e->used_off + 2);
}

static u32 vt_used_id(struct vt_env *e, unsigned int slot)
{
	return vt_get32(e, e->used_off + 4 + 8 * slot);
}

static u32 vt_used_len(struct vt_env *e, unsigned int slot)
{
	return vt_get32(e, e->used_off + 8 + 8 * slot);
}

static u64 vt_used_event_off(struct vt_env *e)
{
	return e->avail_off + 4 + 2 * e->num;
}

static u64 vt_avail_event_off(struct vt_env *e)
{
	return e->used_off + 4 + 8 * e->num;
}

/* Check @len bytes that came from guest offset @off. */
static void vt_check_pat(struct vt_env *e, const u8 *buf, u64 off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != vt_pat(off + i))
			break;
	VT_EQ(e, i, len);
}

/* ---- host side: one wrapper per API family ---- */

static bool vt_getrange(struct vringh *vrh, u64 addr, struct vringh_range *r)
{
	struct vt_env *e = container_of(vrh, struct vt_env, vrh);
	u64 half = VT_GBASE + e->size / 2;

	if (addr >= VT_GBAD && addr < VT_GBAD + 0x10000) {
		r->start = VT_GBAD;
		r->end_incl = VT_GBAD + 0xffff;
		r->offset = VT_BAD_UADDR - VT_GBAD;
		return true;
	}
	if (e->tiny_ranges && addr >= VT_GTINY && addr < VT_GTINY + SZ_1G) {
		r->start = addr;
		r->end_incl = addr;
		r->offset = e->ubase + e->data_off +
			    (addr - VT_GTINY) % PAGE_SIZE - addr;
		return true;
	}
	if (addr < VT_GBASE || addr >= VT_GBASE + e->size)
		return false;
	r->start = VT_GBASE;
	r->end_incl = VT_GBASE + e->size - 1;
	if (e->split_ranges && addr < half)
		r->end_incl = half - 1;
	else if (e->split_ranges)
		r->start = half;
	r->offset = e->ubase - VT_GBASE;
	if (e->bad_range)
		r->start = addr + 1;
	return true;
}

#define VT_NO_R	1
#define VT_NO_W	2

static int vt_getdesc_flags(struct vt_env *e, u16 *head, unsigned int no)
{
	struct vringh_kiov *r = no & VT_NO_R ? NULL : &e->riov;
	struct vringh_kiov *w = no & VT_NO_W ? NULL : &e->wiov;
	struct vringh_iov *ur = no & VT_NO_R ? NULL : &e->uriov;
	struct vringh_iov *uw = no & VT_NO_W ? NULL : &e->uwiov;

	switch (e->mode) {
	case VT_KERN:
		return vringh_getdesc_kern(&e->vrh, r, w, head, GFP_KERNEL);
	case VT_USER:
		return vringh_getdesc_user(&e->vrh, ur, uw, vt_getrange, head);
	case VT_IOTLB:
		return vringh_getdesc_iotlb(&e->vrh, r, w, head, GFP_KERNEL);
	default:
		return vringh_getdesc_iotlb_cached(&e->vrh, &e->xlc, r, w, head,
						   GFP_KERNEL);
	}
}

static int vt_getdesc(struct vt_env *e, u16 *head)
{
	return vt_getdesc_flags(e, head, 0);
}

static unsigned int vt_rused(struct vt_env *e)
{
	return e->mode == VT_USER ? e->uriov.used : e->riov.used;
}

static unsigned int vt_wused(struct vt_env *e)
{
	return e->mode == VT_USER ? e->uwiov.used : e->wiov.used;
}

static ssize_t vt_pull(struct vt_env *e, void *buf, size_t len)
{
	switch (e->mode) {
	case VT_KERN:
		return vringh_iov_pull_kern(&e->riov, buf, len);
	case VT_USER:
		return vringh_iov_pull_user(&e->uriov, buf, len);
	case VT_IOTLB:
		return vringh_iov_pull_iotlb(&e->vrh, &e->riov, buf, len);
	default:
		return vringh_iov_pull_iotlb_cached(&e->vrh, &e->xlc, &e->riov,
						    buf, len);
	}
}

static ssize_t vt_push(struct vt_env *e, const void *buf, size_t len)
{
	switch (e->mode) {
	case VT_KERN:
		return vringh_iov_push_kern(&e->wiov, buf, len);
	case VT_USER:
		return vringh_iov_push_user(&e->uwiov, buf, len);
	case VT_IOTLB:
		return vringh_iov_push_iotlb(&e->vrh, &e->wiov, buf, len);
	default:
		return vringh_iov_push_iotlb_cached(&e->vrh, &e->xlc, &e->wiov,
						    buf, len);
	}
}

static int vt_complete(struct vt_env *e, u16 head, u32 len)
{
	switch (e->mode) {
	case VT_KERN:
		return vringh_complete_kern(&e->vrh, head, len);
	case VT_USER:
		return vringh_complete_user(&e->vrh, head, len);
	case VT_IOTLB:
		return vringh_complete_iotlb(&e->vrh, head, len);
	default:
		return vringh_complete_iotlb_cached(&e->vrh, &e->xlc, head, len);
	}
}

static void vt_abandon(struct vt_env *e, unsigned int num)
{
	switch (e->mode) {
	case VT_KERN:
		vringh_abandon_kern(&e->vrh, num);
		break;
	case VT_USER:
		vringh_abandon_user(&e->vrh, num);
		break;
	default:
		vringh_abandon_iotlb(&e->vrh, num);
		break;
	}
}

static int vt_need_notify(struct vt_env *e)
{
	switch (e->mode) {
	case VT_KERN:
		return vringh_need_notify_kern(&e->vrh);
	case VT_USER:
		return vringh_need_notify_user(&e->vrh);
	case VT_IOTLB:
		return vringh_need_notify_iotlb(&e->vrh);
	default:
		return vringh_need_notify_iotlb_cached(&e->vrh, &e->xlc);
	}
}

static bool vt_notify_enable(struct vt_env *e)
{
	switch (e->mode) {
	case VT_KERN:
		return vringh_notify_enable_kern(&e->vrh);
	case VT_USER:
		return vringh_notify_enable_user(&e->vrh);
	case VT_IOTLB:
		return vringh_notify_enable_iotlb(&e->vrh);
	default:
		return vringh_notify_enable_iotlb_cached(&e->vrh, &e->xlc);
	}
}

static void vt_notify_disable(struct vt_env *e)
{
	switch (e->mode) {
	case VT_KERN:
		vringh_notify_disable_kern(&e->vrh);
		break;
	case VT_USER:
		vringh_notify_disable_user(&e->vrh);
		break;
	case VT_IOTLB:
		vringh_notify_disable_iotlb(&e->vrh);
		break;
	default:
		vringh_notify_disable_iotlb_cached(&e->vrh, &e->xlc);
		break;
	}
}

/* ---- environments ---- */

static int vt_init_ring(struct vt_env *e, u64 features)
{
	switch (e->mode) {
	case VT_KERN:
		return vringh_init_kern(&e->vrh, features, e->num, !e->strong,
					vt_rptr(e, e->desc_off),
					vt_rptr(e, e->avail_off),
					vt_rptr(e, e->used_off));
	case VT_USER:
		return vringh_init_user(&e->vrh, features, e->num, !e->strong,
					(vring_desc_t __user *)
					(e->ubase + e->desc_off),
					(vring_avail_t __user *)
					(e->ubase + e->avail_off),
					(vring_used_t __user *)
					(e->ubase + e->used_off));
	default:
		return vringh_init_iotlb(&e->vrh, features, e->num,
					 !e->strong,
					 vt_rptr(e, e->desc_off),
					 vt_rptr(e, e->avail_off),
					 vt_rptr(e, e->used_off));
	}
}

/* Exchange the maps of two trees. */
static void vt_tree_swap(struct vhost_iotlb *a, struct vhost_iotlb *b)
{
	struct rb_root_cached root = a->root;
	unsigned int nmaps = a->nmaps;
	LIST_HEAD(tmp);

	a->root = b->root;
	b->root = root;
	a->nmaps = b->nmaps;
	b->nmaps = nmaps;
	list_splice_init(&a->list, &tmp);
	list_splice_init(&b->list, &a->list);
	list_splice(&tmp, &b->list);
}

/*
 * Make @next the live tree the way a device must (contract C): under the
 * lock with interrupts off, nothing allocated or freed under it.  @next
 * gets the old maps.
 */
static void vt_tree_install(struct vt_env *e, struct vhost_iotlb *next)
{
	unsigned long flags;

	spin_lock_irqsave(&e->iotlb_lock, flags);
	vt_tree_swap(e->iotlb, next);
	WRITE_ONCE(e->map_gen, e->map_gen + 1);
	spin_unlock_irqrestore(&e->iotlb_lock, flags);
}

/* Map page pair @pair in @t with @perm, in pieces of @piece bytes. */
static int vt_tree_add_pair(struct vt_env *e, struct vhost_iotlb *t,
			    unsigned int pair, u32 perm, u64 piece)
{
	u64 start = VT_IOVA + 2ULL * pair * PAGE_SIZE, a;
	phys_addr_t pa = page_to_phys(e->pages[2 * pair]);
	int err;

	for (a = 0; a < 2 * PAGE_SIZE; a += piece) {
		err = vhost_iotlb_add_range(t, start + a, start + a + piece - 1,
					    pa + a, perm);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Map (perm != 0) or unmap page pair @pair of an iotlb environment, in
 * maps of @piece bytes.  Builds the new tree from the live one without the
 * lock (only the case's thread changes it), then installs it.
 */
static int vt_iotlb_map(struct vt_env *e, unsigned int pair, u32 perm,
			u64 piece)
{
	u64 start = VT_IOVA + 2ULL * pair * PAGE_SIZE;
	u64 last = start + 2 * PAGE_SIZE - 1;
	struct vhost_iotlb_map *m;
	struct vhost_iotlb next;
	int err = 0;

	vhost_iotlb_init(&next, VT_MAPS_MAX, 0);
	for (m = vhost_iotlb_itree_first(e->iotlb, 0, U64_MAX); m && !err;
	     m = vhost_iotlb_itree_next(m, 0, U64_MAX))
		if (m->last < start || m->start > last)
			err = vhost_iotlb_add_range(&next, m->start, m->last,
						    m->addr, m->perm);
	if (!err && perm)
		err = vt_tree_add_pair(e, &next, pair, perm, piece);
	if (!err)
		vt_tree_install(e, &next);
	vhost_iotlb_reset(&next);
	return err;
}

static int vt_iotlb_set(struct vt_env *e, unsigned int pair, u32 perm)
{
	return vt_iotlb_map(e, pair, perm, 2 * PAGE_SIZE);
}

static int vt_mem_alloc(struct vt_env *e)
{
	unsigned int i;
	int err;

	switch (e->mode) {
	case VT_KERN:
		e->kmem = vzalloc(e->size);
		return e->kmem ? 0 : -ENOMEM;
	case VT_USER:
		e->ubase = vm_mmap(NULL, 0, e->size, PROT_READ | PROT_WRITE,
				   MAP_ANONYMOUS | MAP_PRIVATE, 0);
		if (IS_ERR_VALUE(e->ubase)) {
			err = (int)e->ubase;
			e->ubase = 0;
			return err;
		}
		return 0;
	default:
		break;
	}

	spin_lock_init(&e->iotlb_lock);
	e->iotlb = vhost_iotlb_alloc(VT_MAPS_MAX, 0);	/* 6.1 refuses limit 0 */
	if (!e->iotlb)
		return -ENOMEM;
	for (i = 0; i < VT_PAGES; i += 2) {
		e->pages[i] = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
		if (!e->pages[i])
			return -ENOMEM;
		e->pages[i + 1] = e->pages[i] + 1;
		err = vt_iotlb_set(e, i / 2, VHOST_MAP_RW);
		if (err)
			return err;
	}
	vringh_set_iotlb(&e->vrh, e->iotlb, &e->iotlb_lock);
	vringh_iotlb_cache_init(&e->xlc, &e->map_gen);
	return 0;
}

static void vt_env_free(struct vt_env *e)
{
	unsigned int i;

	vringh_kiov_cleanup(&e->riov);
	vringh_kiov_cleanup(&e->wiov);
	vringh_iov_cleanup(&e->uriov);
	vringh_iov_cleanup(&e->uwiov);
	vfree(e->kmem);
	if (e->ubase)
		vm_munmap(e->ubase, e->size);
	if (e->iotlb)
		vhost_iotlb_free(e->iotlb);
	for (i = 0; i < VT_PAGES; i += 2)
		if (e->pages[i])
			__free_pages(e->pages[i], 1);
}

/* Lay a @num ring out at the start of fresh guest memory; fill the rest. */
static int vt_env_setup(struct vt_env *e, enum vt_mode mode, unsigned int num)
{
	u8 chunk[256];
	size_t n, i;
	u64 off;
	int err;

	e->mode = mode;
	e->num = num;
	e->size = VT_PAGES * PAGE_SIZE;
	e->desc_off = 0;
	e->avail_off = ALIGN(16 * num, 64);
	e->used_off = ALIGN(e->avail_off + 6 + 2 * num, 64);
	e->indir_off = ALIGN(e->used_off + 6 + 8 * num, 64);
	e->data_off = PAGE_ALIGN(e->indir_off + 2048);
	vringh_kiov_init(&e->riov, e->rvec, ARRAY_SIZE(e->rvec));
	vringh_kiov_init(&e->wiov, e->wvec, ARRAY_SIZE(e->wvec));
	vringh_iov_init(&e->uriov, e->urvec, ARRAY_SIZE(e->urvec));
	vringh_iov_init(&e->uwiov, e->uwvec, ARRAY_SIZE(e->uwvec));

	err = vt_mem_alloc(e);
	if (err)
		return err;
	for (off = e->data_off; off < e->size; off += n) {
		n = min_t(size_t, sizeof(chunk), e->size - off);
		for (i = 0; i < n; i++)
			chunk[i] = vt_pat(off + i);
		err = vt_mem_rw(e, off, chunk, n, true);
		if (err)
			return err;
	}
	return vt_init_ring(e, VT_FEATS);
}

/* ---- happy paths ---- */

static void vt_case_init(struct vt_env *e)
{
	VT_EQ(e, vringh_init_kern(&e->vrh, VT_FEATS, 0, true, NULL, NULL,
				  NULL), -EINVAL);
	VT_EQ(e, vringh_init_kern(&e->vrh, VT_FEATS, 3, true, NULL, NULL,
				  NULL), -EINVAL);
	VT_EQ(e, vringh_init_kern(&e->vrh, VT_FEATS, 65536, true, NULL, NULL,
				  NULL), -EINVAL);
	VT_EQ(e, vringh_init_user(&e->vrh, VT_FEATS, 12, true, NULL, NULL,
				  NULL), -EINVAL);
	VT_EQ(e, vringh_init_iotlb(&e->vrh, VT_FEATS, 1U << 31, true, NULL,
				   NULL, NULL), -EINVAL);

	e->vrh.last_avail_idx = 5;
	e->vrh.completed = 3;
	VT_EQ(e, vt_init_ring(e, BIT_ULL(VIRTIO_RING_F_EVENT_IDX)), 0);
	VT_EQ(e, e->vrh.little_endian, false);
	VT_EQ(e, e->vrh.event_indices, true);
	VT_EQ(e, e->vrh.last_avail_idx, 0);
	VT_EQ(e, e->vrh.completed, 0);
	VT_EQ(e, vt_init_ring(e, VT_FEATS), 0);
	VT_EQ(e, e->vrh.little_endian, true);
	VT_EQ(e, e->vrh.event_indices, false);
	VT_EQ(e, e->vrh.vring.num, e->num);
	if (e->mode >= VT_IOTLB)
		VT_OK(e, e->vrh.iotlb == e->iotlb);
}

static void vt_case_empty(struct vt_env *e)
{
	u16 head = 0xffff;

	VT_EQ(e, vt_getdesc(e, &head), 0);
	VT_EQ(e, head, 0xffff);
	VT_EQ(e, vt_rused(e), 0);
	VT_EQ(e, vt_used_idx(e), 0);
}

/*
 * R 60 -> R 3000 from page 1 into page 2 (for iotlb: into the next map) ->
 * W 2000 from page 2 into page 3 (for iotlb: inside one two-page map).
 */
static void vt_case_direct(struct vt_env *e)
{
	u64 a = e->data_off + 100;
	u64 b = 2 * PAGE_SIZE - 1000;
	u64 w = 3 * PAGE_SIZE - 700;
	u8 *buf = kmalloc(8192, GFP_KERNEL);
	u8 *chk = kmalloc(2000, GFP_KERNEL);
	u16 head = 0xffff;
	int i;

	if (!buf || !chk) {
		VT_OK(e, buf && chk);
		goto out;
	}
	vt_desc(e, 0, a, 60, F_NEXT, 3);
	vt_desc(e, 3, b, 3000, F_NEXT, 5);
	vt_desc(e, 5, w, 2000, F_WRITE, 0);
	vt_avail_add(e, 0);

	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 0);
	VT_EQ(e, e->vrh.last_avail_idx, 1);
	VT_EQ(e, vt_rused(e), 2);
	VT_EQ(e, vt_wused(e), 1);
	if (e->mode != VT_USER)
		VT_EQ(e, vringh_kiov_length(&e->riov), 3060);

	/* A partial pull, then one across the segment boundary. */
	VT_EQ(e, vt_pull(e, buf, 50), 50);
	VT_EQ(e, vt_pull(e, buf + 50, 8192), 3010);
	vt_check_pat(e, buf, a, 60);
	vt_check_pat(e, buf + 60, b, 3000);
	VT_EQ(e, vt_pull(e, buf, 8192), 0);

	for (i = 0; i < 2000; i++)
		buf[i] = i ^ 0x5a;
	VT_EQ(e, vt_push(e, buf, 2500), 2000);
	VT_EQ(e, vt_push(e, buf, 10), 0);
	vt_rd(e, w, chk, 2000);
	VT_EQ(e, memcmp(buf, chk, 2000), 0);

	VT_EQ(e, vt_complete(e, head, 2000), 0);
	VT_EQ(e, vt_used_idx(e), 1);
	VT_EQ(e, vt_used_id(e, 0), 0);
	VT_EQ(e, vt_used_len(e, 0), 2000);
	VT_EQ(e, e->vrh.last_used_idx, 1);
	VT_EQ(e, vt_getdesc(e, &head), 0);
out:
	kfree(buf);
	kfree(chk);
}

/* R 10 -> INDIRECT { R 100 -> R 1000 (across a page) -> W 500 }. */
static void vt_case_indirect(struct vt_env *e)
{
	u64 c = e->data_off + 8, a = e->data_off + 300;
	u64 b = e->data_off + PAGE_SIZE - 10, w = e->data_off + 5000;
	u8 buf[1200];
	u16 head = 0;

	vt_desc(e, 6, c, 10, F_NEXT, 2);
	vt_desc_at(e, e->desc_off, 2, vt_gaddr(e, e->indir_off), 48,
		   F_INDIRECT, 0);
	vt_idesc(e, 0, a, 100, F_NEXT, 2);
	vt_idesc(e, 2, b, 1000, F_NEXT, 1);
	vt_idesc(e, 1, w, 500, F_WRITE, 0);
	vt_avail_add(e, 6);

	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 6);
	VT_EQ(e, vt_rused(e), 3);
	VT_EQ(e, vt_wused(e), 1);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), 1110);
	vt_check_pat(e, buf, c, 10);
	vt_check_pat(e, buf + 10, a, 100);
	vt_check_pat(e, buf + 110, b, 1000);
	memset(buf, 0xee, 500);
	VT_EQ(e, vt_push(e, buf, 500), 500);
	memset(buf, 0, 500);
	vt_rd(e, w, buf, 500);
	VT_EQ(e, memchr_inv(buf, 0xee, 500), NULL);
	VT_EQ(e, vt_complete(e, head, 500), 0);
	VT_EQ(e, vt_used_id(e, 0), 6);
	VT_EQ(e, vt_used_len(e, 0), 500);
}

/* A chain longer than the caller's 4-entry arrays makes them grow. */
static void vt_case_grow(struct vt_env *e)
{
	u8 buf[64];
	u16 head;
	int i;

	for (i = 0; i < 6; i++)
		vt_desc(e, i, e->data_off + 64 * i, 10, F_NEXT, i + 1);
	vt_desc(e, 6, e->data_off + 1000, 0, F_NEXT, 7);
	vt_desc(e, 7, e->data_off + 2000, 20, F_WRITE, 0);
	vt_avail_add(e, 0);

	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), 6);
	VT_EQ(e, vt_wused(e), 1);
	if (e->mode == VT_USER)
		VT_OK(e, e->uriov.max_num & VRINGH_IOV_ALLOCATED);
	else
		VT_OK(e, e->riov.max_num & VRINGH_IOV_ALLOCATED);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), 60);
	for (i = 0; i < 6; i++)
		vt_check_pat(e, buf + 10 * i, e->data_off + 64 * i, 10);

	/* Grown arrays are reused, not reallocated, by the next chain. */
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), 6);
}

static void vt_case_abandon(struct vt_env *e)
{
	u16 head = 0;

	vt_desc(e, 2, e->data_off, 16, 0, 0);
	vt_desc(e, 4, e->data_off + 32, 16, F_WRITE, 0);
	vt_avail_add(e, 2);
	vt_avail_add(e, 4);

	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 2);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 4);
	vt_abandon(e, 2);
	VT_EQ(e, e->vrh.last_avail_idx, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 2);
	vt_abandon(e, 1);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 2);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 4);
	VT_EQ(e, vt_getdesc(e, &head), 0);
}

/* 16-bit indexes wrap from 65535 to 0 while the ring position wraps too. */
static void vt_case_wrap(struct vt_env *e)
{
	u16 head = 0;
	int i;

	e->vrh.last_avail_idx = 65534;
	e->vrh.last_used_idx = 65534;
	vt_set_avail_idx(e, 65534);
	vt_put16(e, e->used_off + 2, 65534);
	for (i = 1; i <= 4; i++) {
		vt_desc(e, i, e->data_off + 16 * i, 16, F_WRITE, 0);
		vt_avail_add(e, i);
	}
	VT_EQ(e, e->avail_idx, 2);

	for (i = 1; i <= 4; i++) {
		VT_EQ(e, vt_getdesc(e, &head), 1);
		VT_EQ(e, head, i);
		VT_EQ(e, vt_complete(e, head, 100 + i), 0);
	}
	VT_EQ(e, vt_getdesc(e, &head), 0);
	VT_EQ(e, e->vrh.last_avail_idx, 2);
	VT_EQ(e, vt_used_idx(e), 2);
	VT_EQ(e, vt_used_id(e, 6), 1);
	VT_EQ(e, vt_used_id(e, 7), 2);
	VT_EQ(e, vt_used_id(e, 0), 3);
	VT_EQ(e, vt_used_len(e, 1), 104);
}

/* Used elements written in one go, wrapping the ring end. */
static void vt_case_multi(struct vt_env *e)
{
	struct vring_used_elem u[VT_NUM + 1] = {};
	int i;

	for (i = 0; i < 3; i++) {
		u[i].id = cpu_to_vringh32(&e->vrh, i + 1);
		u[i].len = cpu_to_vringh32(&e->vrh, 10 * i);
	}
	e->vrh.last_used_idx = 65534;
	VT_EQ(e, vringh_complete_multi_user(&e->vrh, u, 3), 0);
	VT_EQ(e, e->vrh.last_used_idx, 1);
	VT_EQ(e, e->vrh.completed, 3);
	VT_EQ(e, vt_used_idx(e), 1);
	VT_EQ(e, vt_used_id(e, 6), 1);
	VT_EQ(e, vt_used_id(e, 7), 2);
	VT_EQ(e, vt_used_id(e, 0), 3);
	VT_EQ(e, vt_used_len(e, 0), 20);
	VT_EQ(e, vringh_complete_multi_user(&e->vrh, u, VT_NUM + 1), -EINVAL);
	VT_EQ(e, vringh_complete_multi_user(&e->vrh, u, 0), 0);
	VT_EQ(e, vt_used_idx(e), 1);
}

static void vt_complete_one(struct vt_env *e)
{
	u16 head = 0;

	vt_desc(e, 1, e->data_off, 8, F_WRITE, 0);
	vt_avail_add(e, 1);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_complete(e, head, 8), 0);
}

static void vt_case_event_idx(struct vt_env *e)
{
	VT_EQ(e, vt_init_ring(e, VT_FEATS | BIT_ULL(VIRTIO_RING_F_EVENT_IDX)),
	      0);

	VT_EQ(e, vt_notify_enable(e), true);
	VT_EQ(e, vt_get16(e, vt_avail_event_off(e)), 0);
	vt_notify_disable(e);
	VT_EQ(e, vt_get16(e, e->used_off), 0);	/* flags untouched */

	/* Guest wants an interrupt once used idx passes 0. */
	vt_put16(e, vt_used_event_off(e), 0);
	vt_complete_one(e);
	VT_EQ(e, vt_need_notify(e), 1);
	VT_EQ(e, vt_need_notify(e), 0);		/* nothing new */

	/* ...then not before used idx passes 5. */
	vt_put16(e, vt_used_event_off(e), 5);
	vt_complete_one(e);
	VT_EQ(e, vt_need_notify(e), 0);
	vt_complete_one(e);
	vt_complete_one(e);
	vt_complete_one(e);
	VT_EQ(e, vt_need_notify(e), 0);		/* used idx is 5 */
	vt_complete_one(e);
	VT_EQ(e, vt_need_notify(e), 1);		/* 5 -> 6 passes it */

	/* avail_event follows last_avail_idx; new buffers turn it false. */
	VT_EQ(e, vt_notify_enable(e), true);
	VT_EQ(e, vt_get16(e, vt_avail_event_off(e)), 6);
	vt_avail_add(e, 1);
	VT_EQ(e, vt_notify_enable(e), false);

	/* Over 65535 completions since the last check: always notify. */
	e->vrh.completed = 70000;
	vt_put16(e, vt_used_event_off(e), e->vrh.last_used_idx + 100);
	VT_EQ(e, vt_need_notify(e), 1);
}

static void vt_case_flags_notify(struct vt_env *e)
{
	e->strong = true;
	VT_EQ(e, vt_init_ring(e, VT_FEATS), 0);
	VT_EQ(e, e->vrh.weak_barriers, false);
	vt_notify_disable(e);
	VT_EQ(e, vt_get16(e, e->used_off), VRING_USED_F_NO_NOTIFY);
	VT_EQ(e, vt_notify_enable(e), true);
	VT_EQ(e, vt_get16(e, e->used_off), 0);

	VT_EQ(e, vt_need_notify(e), 0);		/* nothing completed */
	vt_complete_one(e);
	VT_EQ(e, vt_need_notify(e), 1);
	vt_put16(e, e->avail_off, VRING_AVAIL_F_NO_INTERRUPT);
	vt_complete_one(e);
	VT_EQ(e, vt_need_notify(e), 0);
	vt_put16(e, e->avail_off, 0);

	vt_avail_add(e, 1);
	VT_EQ(e, vt_notify_enable(e), false);
}

static void vt_notify_cb(struct vringh *vrh)
{
	container_of(vrh, struct vt_env, vrh)->notified++;
}

static void vt_case_notify_cb(struct vt_env *e)
{
	vringh_notify(&e->vrh);
	VT_EQ(e, e->notified, 0);
	e->vrh.notify = vt_notify_cb;
	VT_EQ(e, vt_init_ring(e, VT_FEATS), 0);	/* init keeps notify */
	vringh_notify(&e->vrh);
	VT_EQ(e, e->notified, 1);
}

static void vt_case_advance(struct vt_env *e)
{
	u8 buf[64];
	u16 head;

	vt_desc(e, 0, e->data_off, 30, F_NEXT, 1);
	vt_desc(e, 1, e->data_off + 100, 30, 0, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	vringh_kiov_advance(&e->riov, 10);
	VT_EQ(e, e->riov.consumed, 10);
	vringh_kiov_advance(&e->riov, 25);
	VT_EQ(e, e->riov.i, 1);
	VT_EQ(e, vringh_kiov_length(&e->riov), 25);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), 25);
	vt_check_pat(e, buf, e->data_off + 105, 25);
	vringh_kiov_advance(&e->riov, 100);	/* past the end: no-op */
	VT_EQ(e, e->riov.i, 2);

	/* reset rewinds to the start with every segment intact */
	vringh_kiov_reset(&e->riov);
	VT_EQ(e, vringh_kiov_length(&e->riov), 60);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), 60);
	vt_check_pat(e, buf, e->data_off, 30);
}

/* user: a descriptor across two getrange() ranges gives two segments. */
static void vt_case_split_range(struct vt_env *e)
{
	u64 b = e->size / 2 - 100;
	u8 buf[300];
	u16 head;

	e->split_ranges = true;
	vt_desc(e, 0, b, 300, 0, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), 2);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), 300);
	vt_check_pat(e, buf, b, 300);
}

/* ---- batched getdesc (iotlb) ---- */

#define VT_BATCH	(VT_NUM + 2)

/* A batch's kiovs and heads: more entries than the ring has chains. */
struct vt_batch {
	struct vringh_kiov r[VT_BATCH], w[VT_BATCH];
	struct kvec rv[VT_BATCH][2], wv[VT_BATCH][2];
	u16 heads[VT_BATCH];
};

static struct vt_batch *vt_batch_alloc(struct vt_env *e)
{
	struct vt_batch *b = kzalloc(sizeof(*b), GFP_KERNEL);
	unsigned int i;

	VT_OK(e, b);
	if (!b)
		return NULL;
	for (i = 0; i < VT_BATCH; i++) {
		vringh_kiov_init(&b->r[i], b->rv[i], ARRAY_SIZE(b->rv[i]));
		vringh_kiov_init(&b->w[i], b->wv[i], ARRAY_SIZE(b->wv[i]));
		b->heads[i] = 0xbeef;
	}
	return b;
}

static void vt_batch_free(struct vt_batch *b)
{
	unsigned int i;

	if (!b)
		return;
	for (i = 0; i < VT_BATCH; i++) {
		vringh_kiov_cleanup(&b->r[i]);
		vringh_kiov_cleanup(&b->w[i]);
	}
	kfree(b);
}

/* The cache of iotlb-cached mode; none (NULL) for plain iotlb. */
static struct vringh_iotlb_cache *vt_xlc(struct vt_env *e)
{
	return e->mode == VT_IOTLB_CACHED ? &e->xlc : NULL;
}

static int vt_getdescs(struct vt_env *e, struct vt_batch *b, unsigned int max)
{
	return vringh_getdescs_iotlb_cached(&e->vrh, vt_xlc(e), b->r, b->w,
					    b->heads, max, GFP_KERNEL);
}

/* Put @head at avail ring position @pos (a free-running index). */
static void vt_avail_set(struct vt_env *e, u16 pos, u16 head)
{
	vt_put16(e, e->avail_off + 4 + 2 * (pos & (e->num - 1)), head);
}

/*
 * Chains 1..5 (3 with a writable part) made available across the ring end
 * and the 16-bit index wrap, fetched in batches of max smaller and larger
 * than what is there; given back, fetched again, completed in one go; a
 * full ring; an avail idx too far ahead.
 */
static void vt_case_getdescs(struct vt_env *e)
{
	struct vring_used_elem u[5];
	struct vt_batch *b = vt_batch_alloc(e);
	u8 buf[64];
	int i;

	if (!b)
		return;
	e->vrh.last_avail_idx = 65534;
	e->vrh.last_used_idx = 65534;
	vt_set_avail_idx(e, 65534);
	vt_put16(e, e->used_off + 2, 65534);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 0);
	VT_EQ(e, e->vrh.last_avail_idx, 65534);

	for (i = 1; i <= 5; i++) {
		vt_desc(e, i, e->data_off + 64 * i, 16 * i, i == 3 ? F_NEXT : 0,
			7);
		vt_avail_add(e, i);
	}
	vt_desc(e, 7, e->data_off + 1024, 32, F_WRITE, 0);
	VT_EQ(e, vt_getdescs(e, b, 0), 0);
	VT_EQ(e, e->vrh.last_avail_idx, 65534);

	VT_EQ(e, vt_getdescs(e, b, 3), 3);
	VT_EQ(e, e->vrh.last_avail_idx, 1);
	VT_EQ(e, b->heads[0], 1);
	VT_EQ(e, b->heads[1], 2);
	VT_EQ(e, b->heads[2], 3);
	VT_EQ(e, b->heads[3], 0xbeef);
	VT_EQ(e, b->r[0].used, 1);
	VT_EQ(e, b->w[0].used, 0);
	VT_EQ(e, vringh_kiov_length(&b->r[1]), 32);
	VT_EQ(e, vringh_kiov_length(&b->r[2]), 48);
	VT_EQ(e, vringh_kiov_length(&b->w[2]), 32);
	VT_EQ(e, vringh_iov_pull_iotlb_cached(&e->vrh, vt_xlc(e), &b->r[1],
					      buf, sizeof(buf)), 32);
	vt_check_pat(e, buf, e->data_off + 128, 32);

	/* More asked for than is there. */
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 2);
	VT_EQ(e, b->heads[0], 4);
	VT_EQ(e, b->heads[1], 5);
	VT_EQ(e, b->heads[2], 3);	/* untouched beyond the batch */
	VT_EQ(e, vringh_kiov_length(&b->r[1]), 80);
	VT_EQ(e, e->vrh.last_avail_idx, 3);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 0);

	/* The last ones given back are fetched again. */
	vringh_abandon_iotlb(&e->vrh, 2);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 2);
	VT_EQ(e, b->heads[0], 4);
	VT_EQ(e, b->heads[1], 5);

	for (i = 0; i < 5; i++) {
		u[i].id = cpu_to_vringh32(&e->vrh, i + 1);
		u[i].len = cpu_to_vringh32(&e->vrh, i == 2 ? 32 : 0);
	}
	VT_EQ(e, vringh_complete_multi_iotlb_cached(&e->vrh, vt_xlc(e), u, 5),
	      0);
	VT_EQ(e, vt_used_idx(e), 3);
	VT_EQ(e, vt_used_id(e, 6), 1);
	VT_EQ(e, vt_used_id(e, 2), 5);
	VT_EQ(e, vt_used_len(e, 0), 32);

	/* A full ring: num chains, fewer than max. */
	for (i = 0; i < e->num; i++)
		vt_avail_add(e, 1 + i % 5);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), e->num);
	VT_EQ(e, b->heads[e->num - 1], 1 + (e->num - 1) % 5);
	VT_EQ(e, e->vrh.last_avail_idx, 3 + e->num);

	/* An avail idx more than num ahead: nothing is fetched. */
	vt_set_avail_idx(e, e->vrh.last_avail_idx + e->num + 1);
	b->heads[0] = 0xbeef;
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), -EINVAL);
	VT_EQ(e, e->vrh.last_avail_idx, 3 + e->num);
	VT_EQ(e, b->heads[0], 0xbeef);
	vt_batch_free(b);
}

/*
 * A chain that cannot be fetched in the middle of a batch: the chains
 * before it are returned, its error is the next call's, and the ring
 * works again once the driver fixes it.
 */
static void vt_case_getdescs_bad(struct vt_env *e)
{
	struct vt_batch *b = vt_batch_alloc(e);
	u16 pos;

	if (!b)
		return;
	vt_desc(e, 0, e->data_off, 8, 0, 0);
	vt_desc(e, 1, e->data_off + 64, 8, F_NEXT, e->num);	/* bad next */
	vt_desc(e, 2, e->data_off + 128, 8, F_WRITE, 0);
	vt_avail_add(e, 0);
	vt_avail_add(e, 1);
	vt_avail_add(e, 2);

	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 1);
	VT_EQ(e, b->heads[0], 0);
	VT_EQ(e, b->heads[1], 0xbeef);
	VT_EQ(e, b->r[1].used, 0);
	VT_EQ(e, e->vrh.last_avail_idx, 1);
	b->heads[0] = 0xbeef;
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), -EINVAL);
	VT_EQ(e, e->vrh.last_avail_idx, 1);
	VT_EQ(e, b->heads[0], 0xbeef);
	VT_EQ(e, b->r[0].used, 0);

	vt_desc(e, 1, e->data_off + 64, 8, 0, 0);	/* the driver fixes it */
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 2);
	VT_EQ(e, b->heads[0], 1);
	VT_EQ(e, b->heads[1], 2);
	VT_EQ(e, b->w[1].used, 1);
	VT_EQ(e, e->vrh.last_avail_idx, 3);

	/* An indirect table in a hole: -EFAULT, after the chain before. */
	vt_desc_at(e, e->desc_off, 3, VT_IOVA + e->size, 32, F_INDIRECT, 0);
	vt_avail_add(e, 0);
	pos = e->avail_idx;
	vt_avail_add(e, 3);
	vt_avail_add(e, 2);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 1);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), -EFAULT);
	VT_EQ(e, e->vrh.last_avail_idx, 4);

	/* A head >= num there instead. */
	vt_avail_set(e, pos, e->num);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), -EINVAL);
	VT_EQ(e, e->vrh.last_avail_idx, 4);
	vt_avail_set(e, pos, 0);
	VT_EQ(e, vt_getdescs(e, b, 1), 1);
	VT_EQ(e, b->heads[0], 0);

	/* A readable chain with no readable kiovs given. */
	VT_EQ(e, vringh_getdescs_iotlb_cached(&e->vrh, vt_xlc(e), NULL, b->w,
					      b->heads, VT_BATCH, GFP_KERNEL),
	      1);	/* chain 2 is writable only */
	vt_avail_add(e, 0);
	VT_EQ(e, vringh_getdescs_iotlb_cached(&e->vrh, vt_xlc(e), NULL, b->w,
					      b->heads, VT_BATCH, GFP_KERNEL),
	      -EINVAL);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 1);
	VT_EQ(e, vt_getdescs(e, b, VT_BATCH), 0);
	vt_batch_free(b);
}

/* ---- malformed rings: an errno, and the ring state left alone ---- */

static void vt_expect_err(struct vt_env *e, int line, int want)
{
	u16 before = e->vrh.last_avail_idx, head = 0xbeef;
	int ret = vt_getdesc(e, &head);

	vt_eq(e, line, "getdesc", ret, want);
	vt_eq(e, line, "last_avail_idx", e->vrh.last_avail_idx, before);
	vt_eq(e, line, "head", head, 0xbeef);
	vt_eq(e, line, "riov used", vt_rused(e), 0);
	vt_eq(e, line, "wiov used", vt_wused(e), 0);
}

#define VT_GETDESC_ERR(e, want) vt_expect_err(e, __LINE__, want)

static void vt_case_bad_avail_idx(struct vt_env *e)
{
	u16 head;

	vt_desc(e, 0, e->data_off, 8, 0, 0);
	vt_set_avail_idx(e, e->num + 1);
	VT_GETDESC_ERR(e, -EINVAL);
	vt_set_avail_idx(e, 0xffff);	/* "behind" is far ahead too */
	VT_GETDESC_ERR(e, -EINVAL);
	vt_set_avail_idx(e, e->num);	/* exactly num: a full ring */
	VT_EQ(e, vt_getdesc(e, &head), 1);
}

static void vt_case_bad_head(struct vt_env *e)
{
	u16 head = 0;

	vt_desc(e, 0, e->data_off, 8, 0, 0);
	vt_avail_add(e, e->num);
	VT_GETDESC_ERR(e, -EINVAL);
	vt_put16(e, e->avail_off + 4, 0xffff);
	VT_GETDESC_ERR(e, -EINVAL);
	/* The driver fixes the entry: the ring works again. */
	vt_put16(e, e->avail_off + 4, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 0);
}

static void vt_case_bad_next(struct vt_env *e)
{
	vt_desc(e, 0, e->data_off, 8, F_NEXT, e->num);
	vt_avail_add(e, 0);
	VT_GETDESC_ERR(e, -EINVAL);
	vt_desc(e, 0, e->data_off, 8, F_NEXT, 0xffff);
	VT_GETDESC_ERR(e, -EINVAL);
}

static void vt_case_loop(struct vt_env *e)
{
	unsigned int i;

	vt_desc(e, 0, e->data_off, 8, F_NEXT, 1);
	vt_desc(e, 1, e->data_off, 8, F_NEXT, 0);
	vt_avail_add(e, 0);
	VT_GETDESC_ERR(e, -EINVAL);
	/* every descriptor in one cycle, entered in the middle */
	for (i = 0; i < e->num; i++)
		vt_desc(e, i, e->data_off, 8, F_NEXT | F_WRITE,
			(i + 1) % e->num);
	vt_put16(e, e->avail_off + 4, 3);
	VT_GETDESC_ERR(e, -EINVAL);
	vt_desc(e, 0, e->data_off, 8, F_NEXT, 0);	/* self loop */
	vt_put16(e, e->avail_off + 4, 0);
	VT_GETDESC_ERR(e, -EINVAL);
}

static void vt_indirect_head(struct vt_env *e, u32 len, u16 flags)
{
	vt_desc_at(e, e->desc_off, 0, vt_gaddr(e, e->indir_off), len,
		   F_INDIRECT | flags, 1);
	vt_desc(e, 1, e->data_off, 8, 0, 0);
}

static void vt_case_bad_indirect(struct vt_env *e)
{
	u16 head = 0;

	vt_idesc(e, 0, e->data_off, 8, F_NEXT, 1);
	vt_idesc(e, 1, e->data_off, 8, F_NEXT, 0);
	vt_indirect_head(e, 64, 0);
	vt_avail_add(e, 0);
	VT_GETDESC_ERR(e, -EINVAL);	/* loop inside the table */

	vt_idesc(e, 1, e->data_off, 8, F_NEXT, 4);
	VT_GETDESC_ERR(e, -EINVAL);	/* next past the table's end */

	vt_idesc(e, 1, e->data_off, 8, 0, 0);
	vt_indirect_head(e, 0, 0);
	VT_GETDESC_ERR(e, -EINVAL);	/* empty table */
	vt_indirect_head(e, 24, 0);
	VT_GETDESC_ERR(e, -EINVAL);	/* not a multiple of 16 */
	vt_indirect_head(e, 32, F_NEXT);
	VT_GETDESC_ERR(e, -EINVAL);	/* INDIRECT with NEXT */
	vt_indirect_head(e, 65537 * 16, 0);
	VT_GETDESC_ERR(e, -EINVAL);	/* more than a u16 can index */

	vt_desc_at(e, e->indir_off, 1, vt_gaddr(e, e->indir_off), 32,
		   F_INDIRECT, 0);
	vt_indirect_head(e, 32, 0);
	VT_GETDESC_ERR(e, -EINVAL);	/* nested indirect */

	vt_desc_at(e, e->desc_off, 0, ~0ULL - 15, 32, F_INDIRECT, 0);
	VT_GETDESC_ERR(e, -EINVAL);	/* table wraps u64 */

	/* fixed: works */
	vt_idesc(e, 1, e->data_off, 8, F_WRITE, 0);
	vt_indirect_head(e, 32, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), 1);
	VT_EQ(e, vt_wused(e), 1);
}

static void vt_case_bad_order(struct vt_env *e)
{
	vt_desc(e, 0, e->data_off, 8, F_WRITE | F_NEXT, 1);
	vt_desc(e, 1, e->data_off, 8, F_NEXT, 2);
	vt_desc(e, 2, e->data_off, 8, F_WRITE, 0);
	vt_avail_add(e, 0);
	VT_GETDESC_ERR(e, -EINVAL);	/* readable after writable */
}

static void vt_case_null_iov(struct vt_env *e)
{
	u16 head = 0xbeef;

	vt_desc(e, 0, e->data_off, 8, F_NEXT, 1);
	vt_desc(e, 1, e->data_off, 8, F_WRITE, 0);
	vt_desc(e, 2, e->data_off, 8, 0, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc_flags(e, &head, VT_NO_W), -EINVAL);
	VT_EQ(e, vt_getdesc_flags(e, &head, VT_NO_R), -EINVAL);
	VT_EQ(e, e->vrh.last_avail_idx, 0);
	vt_put16(e, e->avail_off + 4, 2);
	VT_EQ(e, vt_getdesc_flags(e, &head, VT_NO_W), 1);
	VT_EQ(e, head, 2);
}

static void vt_case_bad_wrap(struct vt_env *e)
{
	vt_desc_at(e, e->desc_off, 0, ~0ULL - 0xff, 0x200, 0, 0);
	vt_avail_add(e, 0);
	VT_GETDESC_ERR(e, -EINVAL);
	vt_desc_at(e, e->desc_off, 0, ~0ULL, 2, F_WRITE, 0);
	VT_GETDESC_ERR(e, -EINVAL);
}

/* ---- user-specific failures ---- */

static void vt_case_user_outside(struct vt_env *e)
{
	u8 buf[16];
	u16 head;

	/* A buffer outside every range. */
	vt_desc_at(e, e->desc_off, 0, VT_GBASE + e->size, 16, 0, 0);
	vt_avail_add(e, 0);
	VT_GETDESC_ERR(e, -EFAULT);
	/* Starts inside, runs out of the last range. */
	vt_desc(e, 0, e->size - 8, 16, 0, 0);
	VT_GETDESC_ERR(e, -EFAULT);
	/* Indirect table outside. */
	vt_desc_at(e, e->desc_off, 0, VT_GBASE - 64, 32, F_INDIRECT, 0);
	VT_GETDESC_ERR(e, -EFAULT);
	/* A callback that returns a range not holding the address. */
	e->bad_range = true;
	vt_desc(e, 0, e->data_off, 16, 0, 0);
	VT_GETDESC_ERR(e, -EFAULT);
	e->bad_range = false;

	/* In range, but the user memory behind it faults. */
	vt_desc_at(e, e->desc_off, 0, VT_GBAD, 16, F_NEXT, 1);
	vt_desc_at(e, e->desc_off, 1, VT_GBAD + 64, 16, F_WRITE, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), -EFAULT);
	VT_EQ(e, vt_push(e, buf, sizeof(buf)), -EFAULT);
}

static void vt_case_user_ring_fault(struct vt_env *e)
{
	void __user *bad = (void __user *)VT_BAD_UADDR;
	u16 head = 0;

	VT_EQ(e, vringh_init_user(&e->vrh, VT_FEATS, e->num, true, bad,
				  bad + 0x400, bad + 0x800), 0);
	VT_GETDESC_ERR(e, -EFAULT);
	VT_EQ(e, vringh_complete_user(&e->vrh, head, 1), -EFAULT);
	VT_EQ(e, e->vrh.last_used_idx, 0);
	VT_EQ(e, vringh_need_notify_user(&e->vrh), -EFAULT);
	VT_EQ(e, vringh_notify_enable_user(&e->vrh), false);
	vringh_notify_disable_user(&e->vrh);
	VT_EQ(e, vringh_getdesc_user(&e->vrh, &e->uriov, &e->uwiov, NULL,
				     &head), -EINVAL);
}

/* ---- iotlb-specific failures ---- */

static void vt_case_iotlb_perm(struct vt_env *e)
{
	u8 buf[64];
	u16 head = 0;

	/* Pair 2 (pages 4-5) becomes write-only, pair 3 read-only. */
	VT_EQ(e, vt_iotlb_set(e, 2, VHOST_MAP_WO), 0);
	VT_EQ(e, vt_iotlb_set(e, 3, VHOST_MAP_RO), 0);
	vt_desc(e, 0, 4 * PAGE_SIZE + 8, 16, F_NEXT, 1);
	vt_desc(e, 1, 6 * PAGE_SIZE + 8, 16, F_WRITE, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), -EFAULT);
	VT_EQ(e, vt_push(e, buf, sizeof(buf)), -EFAULT);

	/* Swapped, the same chain is fine. */
	VT_EQ(e, vt_iotlb_set(e, 2, VHOST_MAP_RO), 0);
	VT_EQ(e, vt_iotlb_set(e, 3, VHOST_MAP_WO), 0);
	vt_abandon(e, 1);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), 16);
	vt_check_pat(e, buf, 4 * PAGE_SIZE + 8, 16);
	VT_EQ(e, vt_push(e, buf, sizeof(buf)), 16);

	/* An indirect table in write-only memory cannot be read. */
	vt_desc_at(e, e->desc_off, 2, VT_IOVA + 6 * PAGE_SIZE, 32, F_INDIRECT,
		   0);
	vt_avail_add(e, 2);
	VT_GETDESC_ERR(e, -EFAULT);

	/* The driver withdraws it.  A read-only ring: fetching works,
	 * completing does not.
	 */
	vt_set_avail_idx(e, e->vrh.last_avail_idx);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_iotlb_set(e, 0, VHOST_MAP_RO), 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_complete(e, head, 4), -EFAULT);
	VT_EQ(e, e->vrh.last_used_idx, 0);
	vt_notify_disable(e);
	/* A write-only ring cannot even be polled. */
	VT_EQ(e, vt_iotlb_set(e, 0, VHOST_MAP_WO), 0);
	VT_GETDESC_ERR(e, -EFAULT);
	VT_EQ(e, vt_need_notify(e), -EFAULT);
	VT_EQ(e, vt_iotlb_set(e, 0, VHOST_MAP_RW), 0);
	VT_EQ(e, vt_complete(e, head, 4), 0);
}

/* iotlb-cached: the cache keeps the IOVA the last -EFAULT could not reach. */
static void vt_fault_at(struct vt_env *e, int line, u64 iova)
{
	if (e->mode == VT_IOTLB_CACHED)
		vt_eq(e, line, "xlc.fault", e->xlc.fault, iova);
}

#define VT_FAULT_AT(e, iova) vt_fault_at(e, __LINE__, iova)

static void vt_case_iotlb_unmapped(struct vt_env *e)
{
	struct kvec wrap = {
		.iov_base = (void *)(uintptr_t)(~0ULL - 15),
		.iov_len = 256,
	};
	u8 buf[512];
	u16 head = 0;

	/* A buffer beyond every map. */
	vt_desc_at(e, e->desc_off, 0, VT_IOVA + e->size + 0x1000, 16, 0, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), -EFAULT);
	VT_FAULT_AT(e, VT_IOVA + e->size + 0x1000);

	/* From the end of pair 1 into a hole where pair 2 was. */
	VT_EQ(e, vt_iotlb_set(e, 2, 0), 0);
	vt_desc(e, 1, 4 * PAGE_SIZE - 100, 300, 0, 0);
	vt_avail_add(e, 1);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), -EFAULT);
	VT_FAULT_AT(e, VT_IOVA + 4 * PAGE_SIZE);
	VT_EQ(e, vt_iotlb_set(e, 2, VHOST_MAP_RW), 0);

	/* An indirect table in a hole. */
	vt_desc_at(e, e->desc_off, 2, VT_IOVA + e->size, 32, F_INDIRECT, 0);
	vt_avail_add(e, 2);
	VT_GETDESC_ERR(e, -EFAULT);
	VT_FAULT_AT(e, VT_IOVA + e->size);

	/* A kiov whose range wraps u64. */
	vringh_kiov_init(&e->riov, &wrap, 1);
	e->riov.used = 1;
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), -EINVAL);
	vringh_kiov_init(&e->riov, e->rvec, ARRAY_SIZE(e->rvec));

	/* The ring itself unmapped (avail->idx first), then no iotlb at all. */
	VT_EQ(e, vt_iotlb_set(e, 0, 0), 0);
	VT_GETDESC_ERR(e, -EFAULT);
	VT_FAULT_AT(e, VT_IOVA + e->avail_off + 2);
	VT_EQ(e, vt_notify_enable(e), false);
	vringh_set_iotlb(&e->vrh, NULL, NULL);
	VT_GETDESC_ERR(e, -EINVAL);
	vringh_set_iotlb(&e->vrh, e->iotlb, &e->iotlb_lock);
	VT_EQ(e, vt_iotlb_set(e, 0, VHOST_MAP_RW), 0);
	vt_desc(e, 2, e->data_off, 8, 0, 0);	/* the driver fixes it */
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, head, 2);
}

struct vt_remap {
	struct vt_env *e;
	unsigned long rounds;
};

/* Keeps replacing the mapping of page pair 1 (same pages, same perm). */
static int vt_remap_fn(void *arg)
{
	struct vt_remap *r = arg;

	while (!kthread_should_stop()) {
		vt_iotlb_set(r->e, 1, 0);
		vt_iotlb_set(r->e, 1, VHOST_MAP_RW);
		r->rounds++;
		cond_resched();
	}
	return 0;
}

/* The device replaces mappings while the ring is in use: no crash. */
static void vt_case_iotlb_remap(struct vt_env *e)
{
	struct vt_remap r = { .e = e };
	unsigned int ok = 0, fault = 0, other = 0, i;
	struct task_struct *t;
	u64 off = 2 * PAGE_SIZE + 100;
	u8 buf[1000];
	ssize_t n;
	u16 head;

	vt_desc(e, 0, off, sizeof(buf), 0, 0);
	t = kthread_run(vt_remap_fn, &r, "vringh_remap");
	if (IS_ERR(t)) {
		VT_EQ(e, PTR_ERR(t), 0);
		return;
	}
	for (i = 0; i < 3000; i++) {
		vt_avail_add(e, 0);
		if (vt_getdesc(e, &head) != 1) {
			other++;
			break;
		}
		n = vt_pull(e, buf, sizeof(buf));
		if (n == sizeof(buf) && buf[0] == vt_pat(off) &&
		    buf[999] == vt_pat(off + 999))
			ok++;
		else if (n == -EFAULT)
			fault++;
		else
			other++;
		vt_complete(e, head, 0);
		if (!(i % 64))
			cond_resched();
	}
	kthread_stop(t);
	VT_EQ(e, other, 0);
	VT_EQ(e, ok + fault, 3000);
	VT_OK(e, ok > 0);
	vt_print(e->out, "#   %u pulls ok, %u saw a hole, %lu remaps\n",
		 ok, fault, r.rounds);
}

/*
 * Between two pulls of one chain, replace the map of page pair 2 with one
 * of the same IOVAs onto pair 3's pages: the second pull reads the new
 * pages, also with the first pull's map in the cache (the swap moves the
 * owner's generation).
 */
static void vt_case_iotlb_replaced(struct vt_env *e)
{
	u64 start = VT_IOVA + 4 * PAGE_SIZE, off = 4 * PAGE_SIZE + 8;
	struct vhost_iotlb_map *m;
	struct vhost_iotlb next;
	u8 buf[8];
	int err = 0;
	u16 head;

	vt_desc(e, 0, off, 2 * sizeof(buf), 0, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), sizeof(buf));
	VT_EQ(e, buf[0], vt_pat(off));

	vhost_iotlb_init(&next, VT_MAPS_MAX, 0);
	for (m = vhost_iotlb_itree_first(e->iotlb, 0, U64_MAX); m && !err;
	     m = vhost_iotlb_itree_next(m, 0, U64_MAX))
		if (m->start != start)
			err = vhost_iotlb_add_range(&next, m->start, m->last,
						    m->addr, m->perm);
	if (!err)
		err = vhost_iotlb_add_range(&next, start,
					    start + 2 * PAGE_SIZE - 1,
					    page_to_phys(e->pages[6]),
					    VHOST_MAP_RW);
	if (VT_EQ(e, err, 0))
		vt_tree_install(e, &next);
	vhost_iotlb_reset(&next);

	off += 2 * PAGE_SIZE + sizeof(buf);
	VT_EQ(e, vt_pull(e, buf, sizeof(buf)), sizeof(buf));
	VT_EQ(e, buf[0], vt_pat(off));
	VT_EQ(e, buf[7], vt_pat(off + 7));
	VT_EQ(e, vt_complete(e, head, 0), 0);
}

/* ---- chain length, segment caps ---- */

/* Entries 0..@k-1 of the indirect table, chained, 16 bytes each. */
static void vt_itable(struct vt_env *e, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < k; i++)
		vt_idesc(e, i, e->data_off + 16 * i, 16,
			 i + 1 < k ? F_NEXT : 0, i + 1);
}

/* Descriptors 0..@k-1 of the ring chained; the last one points on. */
static void vt_dchain(struct vt_env *e, unsigned int k, bool more)
{
	unsigned int i;

	for (i = 0; i < k; i++)
		vt_desc(e, i, e->data_off + 1024 + 16 * i, 16,
			i + 1 < k || more ? F_NEXT : 0, i + 1);
}

/* Descriptor @i points at the first @k entries of the indirect table. */
static void vt_ipoint(struct vt_env *e, unsigned int i, unsigned int k)
{
	vt_desc_at(e, e->desc_off, i, vt_gaddr(e, e->indir_off), 16 * k,
		   F_INDIRECT, 0);
	vt_itable(e, k);
}

/*
 * A chain holds at most num descriptors, direct and indirect together
 * (the one that points at the table is not counted): -EINVAL beyond.
 */
static void vt_case_chain_len(struct vt_env *e)
{
	unsigned int n = e->num;
	u16 head = 0;

	vt_dchain(e, n, false);			/* the whole table */
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), n);

	vt_dchain(e, n - 1, true);		/* n - 1 direct + 1 indirect */
	vt_ipoint(e, n - 1, 1);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), n);

	vt_ipoint(e, 0, n);			/* a table of n */
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), n);

	vt_dchain(e, n - 1, true);		/* n - 1 direct + 2 indirect */
	vt_ipoint(e, n - 1, 2);
	vt_avail_add(e, 0);
	VT_GETDESC_ERR(e, -EINVAL);
	vt_ipoint(e, 0, n + 1);			/* a table of n + 1 */
	VT_GETDESC_ERR(e, -EINVAL);
	vt_dchain(e, 1, true);			/* 1 direct + n indirect */
	vt_ipoint(e, 1, n);
	VT_GETDESC_ERR(e, -EINVAL);

	vt_ipoint(e, 1, n - 1);			/* the driver fixes it */
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), n);
}

/* user: getrange() splits a descriptor into 1-byte ranges. */
static void vt_case_user_tiny(struct vt_env *e)
{
	u8 *buf = kmalloc(1000, GFP_KERNEL);
	u16 head = 0;

	if (!buf) {
		VT_OK(e, buf);
		return;
	}
	e->tiny_ranges = true;
	vt_desc_at(e, e->desc_off, 0, VT_GTINY, 1000, 0, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), 1000);
	VT_EQ(e, vt_pull(e, buf, 1000), 1000);
	vt_check_pat(e, buf, e->data_off, 1000);

	/* 70000 segments: more than one iov may hold (65535). */
	vt_desc_at(e, e->desc_off, 1, VT_GTINY, 70000, 0, 0);
	vt_avail_add(e, 1);
	VT_GETDESC_ERR(e, -E2BIG);
	kfree(buf);
}

/* iotlb: one descriptor over 128 maps of 64 bytes is one segment. */
static void vt_case_iotlb_many_maps(struct vt_env *e)
{
	u64 r = 4 * PAGE_SIZE + 50, w = 4 * PAGE_SIZE + 100;
	u8 *buf = kmalloc(8000, GFP_KERNEL);
	u16 head = 0;

	if (!buf) {
		VT_OK(e, buf);
		return;
	}
	VT_EQ(e, vt_iotlb_map(e, 2, VHOST_MAP_RW, 64), 0);
	VT_EQ(e, e->iotlb->nmaps, VT_PAGES / 2 - 1 + 128);
	vt_desc(e, 0, r, 8000, F_NEXT, 1);
	vt_desc(e, 1, w, 3000, F_WRITE, 0);
	vt_avail_add(e, 0);
	VT_EQ(e, vt_getdesc(e, &head), 1);
	VT_EQ(e, vt_rused(e), 1);
	VT_EQ(e, vt_wused(e), 1);
	VT_EQ(e, vt_pull(e, buf, 8000), 8000);
	vt_check_pat(e, buf, r, 8000);
	memset(buf, 0x33, 3000);
	VT_EQ(e, vt_push(e, buf, 3000), 3000);
	memset(buf, 0, 3000);
	vt_rd(e, w, buf, 3000);
	VT_EQ(e, memchr_inv(buf, 0x33, 3000), NULL);
	kfree(buf);
}

/* ---- notify_enable when the used ring cannot be written ---- */

static int vt_init_bad_used(struct vt_env *e, u64 features)
{
	int err;

	if (e->mode == VT_USER)
		return vringh_init_user(&e->vrh, features, e->num, true,
					(vring_desc_t __user *)
					(e->ubase + e->desc_off),
					(vring_avail_t __user *)
					(e->ubase + e->avail_off),
					(vring_used_t __user *)VT_BAD_UADDR);
	e->used_off = 6 * PAGE_SIZE;	/* page pair 3, read-only */
	err = vt_init_ring(e, features);
	return err ? err : vt_iotlb_set(e, 3, VHOST_MAP_RO);
}

/*
 * used->flags (or avail_event) cannot be written: notify_enable says
 * "more work" (false) every time, and the next getdesc finds nothing, which
 * tells the device the ring is broken.  Nothing is logged (vringh.sh).
 */
static void vt_case_notify_fault(struct vt_env *e)
{
	const u64 feats[] = {
		VT_FEATS, VT_FEATS | BIT_ULL(VIRTIO_RING_F_EVENT_IDX),
	};
	unsigned int f, i, more;
	u16 head = 0;

	for (f = 0; f < ARRAY_SIZE(feats); f++) {
		vt_set_avail_idx(e, 0);
		VT_EQ(e, vt_init_bad_used(e, feats[f]), 0);
		for (i = 0, more = 0; i < 1000; i++)
			more += !vt_notify_enable(e);
		VT_EQ(e, more, 1000);
		VT_EQ(e, vt_getdesc(e, &head), 0);
		vt_notify_disable(e);
		vt_desc(e, 0, e->data_off, 8, 0, 0);
		vt_avail_add(e, 0);
		VT_EQ(e, vt_getdesc(e, &head), 1);
		VT_EQ(e, vt_complete(e, head, 0), -EFAULT);
		VT_EQ(e, e->vrh.last_used_idx, 0);
	}
}

/* ---- iotlb lookups from softirq and hardirq context ---- */

#define VT_IRQ_LEN	256U
#define VT_IRQ_RUNS	50U

/* Timers that translate through a second ring on the case's IOTLB. */
struct vt_irq {
	struct vt_env *e;
	struct vringh vrh;
	struct timer_list timer;
	struct hrtimer hrt;
	int cpu;
	bool stop;
	/* Written by the callbacks only, read when they have stopped. */
	unsigned int soft, soft_bad, hard, hard_bad;
};

/* Pull VT_IRQ_LEN bytes across a map boundary through @vrh; check them. */
static bool vt_irq_pull(struct vringh *vrh)
{
	u64 off = 2 * PAGE_SIZE - VT_IRQ_LEN / 2;
	struct kvec v = {
		.iov_base = (void *)(uintptr_t)(VT_IOVA + off),
		.iov_len = VT_IRQ_LEN,
	};
	struct vringh_kiov kiov;
	u8 buf[VT_IRQ_LEN];
	unsigned int i;

	vringh_kiov_init(&kiov, &v, 1);
	kiov.used = 1;
	if (vringh_iov_pull_iotlb(vrh, &kiov, buf, sizeof(buf)) != sizeof(buf))
		return false;
	for (i = 0; i < sizeof(buf); i++)
		if (buf[i] != vt_pat(off + i))
			return false;
	return true;
}

static void vt_irq_soft(struct timer_list *t)
{
	struct vt_irq *x = from_timer(x, t, timer);

	WRITE_ONCE(x->soft, x->soft + 1);
	if (!vt_irq_pull(&x->vrh))
		x->soft_bad++;
	if (READ_ONCE(x->stop))
		return;
	x->timer.expires = jiffies + 1;
	add_timer_on(&x->timer, x->cpu);
}

static enum hrtimer_restart vt_irq_hard(struct hrtimer *t)
{
	struct vt_irq *x = container_of(t, struct vt_irq, hrt);

	WRITE_ONCE(x->hard, x->hard + 1);
	if (!vt_irq_pull(&x->vrh))
		x->hard_bad++;
	if (READ_ONCE(x->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ms_to_ktime(1));
	return HRTIMER_RESTART;
}

/*
 * The case's thread swaps the whole tree (same translations, maps of 256
 * bytes or of two pages) and translates in process context, while a timer
 * (softirq) and an hrtimer (hardirq) translate on the same CPU.  With a
 * plain spin_lock in vringh this deadlocks (or lockdep reports it).
 */
static void vt_case_iotlb_irq(struct vt_env *e)
{
	unsigned long deadline = jiffies + 30 * HZ;
	unsigned int pair, i, swaps = 0, pulls = 0, bad = 0;
	struct vhost_iotlb *other;
	struct vt_irq *x;
	int err = 0;

	x = kzalloc(sizeof(*x), GFP_KERNEL);
	other = vhost_iotlb_alloc(VT_MAPS_MAX, 0);
	if (!x || !other) {
		VT_OK(e, x && other);
		goto out;
	}
	for (pair = 0; pair < VT_PAGES / 2 && !err; pair++)
		err = vt_tree_add_pair(e, other, pair, VHOST_MAP_RW, 256);
	if (!VT_EQ(e, err, 0))
		goto out;
	x->e = e;
	vringh_set_iotlb(&x->vrh, e->iotlb, &e->iotlb_lock);

	migrate_disable();
	x->cpu = smp_processor_id();
	timer_setup(&x->timer, vt_irq_soft, 0);
	x->timer.expires = jiffies + 1;
	add_timer_on(&x->timer, x->cpu);
	hrtimer_init(&x->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	x->hrt.function = vt_irq_hard;
	hrtimer_start(&x->hrt, ms_to_ktime(1), HRTIMER_MODE_REL_PINNED_HARD);

	/* Bounded: a hang check, not a timed assertion. */
	while ((READ_ONCE(x->soft) < VT_IRQ_RUNS ||
		READ_ONCE(x->hard) < VT_IRQ_RUNS) &&
	       time_before(jiffies, deadline)) {
		vt_tree_install(e, other);
		swaps++;
		for (i = 0; i < 32; i++, pulls++)
			if (!vt_irq_pull(&e->vrh))
				bad++;
		cond_resched();
	}
	WRITE_ONCE(x->stop, true);
	hrtimer_cancel(&x->hrt);
	del_timer_sync(&x->timer);
	migrate_enable();

	VT_EQ(e, bad, 0);
	VT_EQ(e, x->soft_bad, 0);
	VT_EQ(e, x->hard_bad, 0);
	VT_OK(e, x->soft >= VT_IRQ_RUNS);
	VT_OK(e, x->hard >= VT_IRQ_RUNS);
	vt_print(e->out,
		 "#   %u tree swaps; pulls: %u process, %u softirq, %u hardirq\n",
		 swaps, pulls, x->soft, x->hard);
out:
	if (other)
		vhost_iotlb_free(other);
	kfree(x);
}

/* ---- benchmark: the per-packet path ---- */

/* One packet of the per-packet path: fetch, copy, complete. */
static bool vt_bench_one(struct vt_env *e, u8 *buf, size_t len, bool tx)
{
	ssize_t n;
	u16 head;

	if (vt_getdesc(e, &head) != 1)
		return false;
	n = tx ? vt_pull(e, buf, len) : vt_push(e, buf, len);
	return n == (ssize_t)len && !vt_complete(e, head, tx ? 0 : len);
}

static void vt_bench(struct vt_env *e, bool tx, unsigned int len)
{
	const unsigned int rounds = 40;
	u64 t, ns = 0, pkts = 0;
	unsigned int r, i;
	u8 *buf;

	buf = kzalloc(len, GFP_KERNEL);
	if (!buf) {
		VT_OK(e, buf);
		return;
	}
	for (i = 0; i < e->num; i++)
		vt_desc(e, i, e->data_off + (i % 4) * 2048, len,
			tx ? 0 : F_WRITE, 0);
	for (r = 0; r < rounds && !e->failed; r++) {
		for (i = 0; i < e->num; i++)
			vt_avail_add(e, i);
		t = ktime_get_ns();
		for (i = 0; i < e->num; i++)
			if (!vt_bench_one(e, buf, len, tx))
				break;
		vt_need_notify(e);
		ns += ktime_get_ns() - t;
		pkts += i;
		VT_EQ(e, i, e->num);
	}
	if (pkts)
		vt_print(e->out, "#   %s %s %uB: %llu packets, %llu ns/packet\n",
			 vt_mode_name[e->mode], tx ? "pull" : "push", len,
			 pkts, div64_u64(ns, pkts));
	kfree(buf);
}

static void vt_case_bench(struct vt_env *e)
{
	vt_bench(e, true, 1500);
	vt_bench(e, false, 1500);
	vt_bench(e, true, 64);	/* mostly the fixed per-packet cost */
}

/* ---- runner ---- */

#define M_KERN	BIT(VT_KERN)
#define M_USER	BIT(VT_USER)
#define M_IOTLB	(BIT(VT_IOTLB) | BIT(VT_IOTLB_CACHED))
#define M_ALL	(M_KERN | M_USER | M_IOTLB)

struct vt_case {
	const char *name;
	void (*fn)(struct vt_env *e);
	unsigned int modes;
	unsigned int num;
};

static const struct vt_case vt_cases[] = {
	{ "init: size checks, features, indexes", vt_case_init, M_ALL },
	{ "empty ring", vt_case_empty, M_ALL },
	{ "direct chain across pages, pull/push, used ring", vt_case_direct,
	  M_ALL },
	{ "indirect chain", vt_case_indirect, M_ALL },
	{ "iov arrays grow on demand", vt_case_grow, M_ALL },
	{ "abandon", vt_case_abandon, M_ALL },
	{ "16-bit index wraparound", vt_case_wrap, M_ALL },
	{ "complete_multi_user wraps the ring", vt_case_multi, M_USER },
	{ "getdescs: batches across the wrap, max below and above",
	  vt_case_getdescs, M_IOTLB },
	{ "getdescs: a bad chain ends the batch, its error comes next",
	  vt_case_getdescs_bad, M_IOTLB },
	{ "event-idx notify logic", vt_case_event_idx, M_ALL },
	{ "flags notify logic, mandatory barriers", vt_case_flags_notify,
	  M_ALL },
	{ "vringh_notify callback", vt_case_notify_cb, M_KERN },
	{ "kiov_advance and kiov_reset", vt_case_advance, M_KERN },
	{ "buffer across two getrange ranges", vt_case_split_range, M_USER },
	{ "malformed: avail idx more than num ahead", vt_case_bad_avail_idx,
	  M_ALL },
	{ "malformed: head >= num", vt_case_bad_head, M_ALL },
	{ "malformed: next >= num", vt_case_bad_next, M_ALL },
	{ "malformed: descriptor loops", vt_case_loop, M_ALL },
	{ "malformed: indirect tables", vt_case_bad_indirect, M_ALL },
	{ "malformed: readable after writable", vt_case_bad_order, M_ALL },
	{ "malformed: descriptor kind without iov", vt_case_null_iov, M_ALL },
	{ "malformed: buffer wraps u64", vt_case_bad_wrap, M_ALL },
	{ "getrange refusals, user faults", vt_case_user_outside, M_USER },
	{ "ring in unmapped user memory", vt_case_user_ring_fault, M_USER },
	{ "map permissions", vt_case_iotlb_perm, M_IOTLB },
	{ "unmapped IOVAs, holes, wrap, no iotlb", vt_case_iotlb_unmapped,
	  M_IOTLB },
	{ "mappings replaced concurrently", vt_case_iotlb_remap, M_IOTLB },
	{ "chain of at most num descriptors, indirect ones included",
	  vt_case_chain_len, M_ALL },
	{ "1-byte getrange ranges: one segment each, capped",
	  vt_case_user_tiny, M_USER },
	{ "one descriptor over 128 maps", vt_case_iotlb_many_maps, M_IOTLB },
	{ "notify_enable with an unwritable used ring", vt_case_notify_fault,
	  M_USER | M_IOTLB },
	{ "lookups from softirq and hardirq while the tree is swapped",
	  vt_case_iotlb_irq, BIT(VT_IOTLB) },
	{ "a map replaced at the same IOVA: the next call sees it",
	  vt_case_iotlb_replaced, M_IOTLB },
	{ "benchmark", vt_case_bench, M_ALL, 256 },
};

static void vt_run_case(struct vt_out *o, const struct vt_case *c,
			enum vt_mode mode, struct vt_env *e, struct vt_out *note)
{
	int err;

	memset(e, 0, sizeof(*e));
	note->len = 0;
	e->out = note;
	err = vt_env_setup(e, mode, c->num ? c->num : VT_NUM);
	if (err)
		vt_print(note, "#   setup failed: %d\n", err);
	else
		c->fn(e);
	vt_env_free(e);

	o->n++;
	vt_print(o, "%sok %u - %s: %s\n", err || e->failed ? "not " : "",
		 o->n, vt_mode_name[mode], c->name);
	vt_print(o, "%.*s", (int)note->len, note->buf);
}

static int vt_run_all(struct vt_out *o)
{
	struct vt_out note = { .cap = VT_NOTE_SIZE };
	const struct vt_case *c;
	enum vt_mode mode;
	struct vt_env *e;

	e = kmalloc(sizeof(*e), GFP_KERNEL);
	note.buf = kmalloc(VT_NOTE_SIZE, GFP_KERNEL);
	if (!e || !note.buf) {
		kfree(e);
		kfree(note.buf);
		return -ENOMEM;
	}
	for (mode = 0; mode < VT_NMODES; mode++)
		for (c = vt_cases; c < vt_cases + ARRAY_SIZE(vt_cases); c++)
			if ((c->modes & BIT(mode)) &&
			    (!only || !*only || strstr(c->name, only)))
				vt_run_case(o, c, mode, e, &note);
	vt_print(o, "1..%u\n", o->n);
	kfree(note.buf);
	kfree(e);
	return 0;
}

static int vt_open(struct inode *inode, struct file *file)
{
	struct vt_out *o;
	int err = -ENOMEM;

	o = kzalloc(sizeof(*o), GFP_KERNEL);
	if (!o)
		return -ENOMEM;
	o->cap = VT_OUT_SIZE;
	o->buf = kvzalloc(o->cap, GFP_KERNEL);
	if (!o->buf)
		goto err_free;

	/* One run at a time: the cases share nothing, but the log does. */
	mutex_lock(&vt_run_lock);
	err = vt_run_all(o);
	mutex_unlock(&vt_run_lock);
	if (err)
		goto err_free;
	file->private_data = o;
	return nonseekable_open(inode, file);

err_free:
	kvfree(o->buf);
	kfree(o);
	return err;
}

static ssize_t vt_read(struct file *file, char __user *ubuf, size_t count,
		       loff_t *ppos)
{
	struct vt_out *o = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, o->buf, o->len);
}

static int vt_release(struct inode *inode, struct file *file)
{
	struct vt_out *o = file->private_data;

	kvfree(o->buf);
	kfree(o);
	return 0;
}

static const struct file_operations vt_fops = {
	.owner = THIS_MODULE,
	.open = vt_open,
	.read = vt_read,
	.release = vt_release,
	.llseek = no_llseek,
};

static int __init vt_init(void)
{
	vt_dir = debugfs_create_dir("vringh_test", NULL);
	debugfs_create_file("run", 0400, vt_dir, NULL, &vt_fops);
	return 0;
}

static void __exit vt_exit(void)
{
	debugfs_remove_recursive(vt_dir);
}

module_init(vt_init);
module_exit(vt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("In-kernel tests of vringh (kern, user and IOTLB rings)");
