// SPDX-License-Identifier: GPL-2.0
/*
 * vringh: host-side access to split virtqueues that someone else owns.
 *
 * A ring and the buffers it points at live in one of three address spaces,
 * chosen by the init function:
 *
 *   kern   every address is a kernel virtual address;
 *   user   the ring pointers are user addresses of the calling process and
 *          buffer addresses are guest addresses that the caller's getrange()
 *          callback turns into user addresses;
 *   iotlb  every address, the ring pointers included, is an IOVA that a
 *          struct vhost_iotlb maps to physical memory.
 *
 * One implementation serves all three.  The access helpers take the mode as
 * a compile-time constant and are always inlined, so each exported function
 * compiles to straight-line code for its own address space, without
 * indirect calls on the per-packet path.
 *
 * Nothing read from a ring is trusted: every index, length and address is
 * bounds-checked, a descriptor is fetched once into locals before it is
 * checked (no double fetch), and a malformed ring ends in a negative errno
 * with last_avail_idx left where it was.  Malformed rings are logged as
 * rate-limited warnings; addresses that cannot be accessed (-EFAULT) only
 * at debug level, since the device reports its ring faults itself.  See
 * Documentation/vringh.rst for the contract.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>
#include <linux/vhost_iotlb.h>
#include <linux/vringh.h>
#include <uapi/linux/virtio_config.h>

#include "vringh_cache.h"

/* Largest split ring the virtio 1.x spec allows (2.7, Queue Size). */
#define VRH_MAX_NUM		32768U
/* A u16 "next" field reaches this many entries of an indirect table. */
#define VRH_MAX_INDIRECT	65536U
/*
 * First size of an iov array that has to grow, and its hard cap.  A chain
 * has at most num <= 32768 descriptors, so kern and iotlb iovs (one segment
 * per descriptor) never reach the cap; only user iovs can, where getrange()
 * may split one descriptor into many segments.  The cap bounds the array at
 * 1 MiB (an order-8 kmalloc).
 */
#define VRH_IOV_FIRST		8U
#define VRH_IOV_LIMIT		65536U
#define VRH_DESC_SIZE		sizeof(struct vring_desc)

enum vrh_mode {
	VRH_KERN,
	VRH_USER,
	VRH_IOTLB,
};

/*
 * Scratch state of one API call.  It lives on the caller's stack, so it
 * needs no locking; it caches the last address translation so that a chain
 * whose descriptors and buffers sit in one region costs one lookup.
 */
struct vrh_ctx {
	struct vringh *vrh;

	/* VRH_USER: the caller's translation and the last range it gave. */
	bool (*getrange)(struct vringh *vrh, u64 addr, struct vringh_range *r);
	struct vringh_range range;
	bool range_ok;

	/*
	 * VRH_IOTLB: a copy of the last map found, taken under
	 * vrh->iotlb_lock, and the caller's cache it came from and goes back
	 * to (NULL: kept for this call only).
	 */
	struct vringh_iotlb_cache xl;
	struct vringh_iotlb_cache *cache;
};

/* A descriptor as fetched, in cpu byte order. */
struct vrh_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/* Where getdesc is reading descriptors from. */
struct vrh_table {
	u64 base;		/* guest address of an indirect table */
	u32 count;		/* entries in the table */
	bool indirect;
};

static void vrh_ctx_init(struct vrh_ctx *c, struct vringh *vrh)
{
	c->vrh = vrh;
	c->getrange = NULL;
	c->range_ok = false;
	c->xl.gen = NULL;
	c->xl.ok = false;
	c->cache = NULL;
}

/* An IOTLB call that starts from, and updates, the caller's @cache. */
static void vrh_ctx_init_cached(struct vrh_ctx *c, struct vringh *vrh,
				struct vringh_iotlb_cache *cache)
{
	vrh_ctx_init(c, vrh);
	if (cache) {
		c->xl = *cache;
		c->cache = cache;
	}
}

/*
 * Log a malformed ring (warning) or an address that cannot be accessed
 * (-EFAULT: debug level, the device reports those itself), rate-limited;
 * return @err.
 */
static __cold __printf(2, 3) int vrh_bad(int err, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (err == -EFAULT)
		pr_debug_ratelimited("%pV (error %d)\n", &vaf, err);
	else
		pr_warn_ratelimited("%pV (error %d)\n", &vaf, err);
	va_end(args);
	return err;
}

/*
 * Barriers between ring accesses.  A CPU on the other side (weak_barriers)
 * needs only the SMP-conditional virt_* variants; a device needs the
 * mandatory ones.  Each caller says what it orders against what.
 */
static inline void vrh_rmb(const struct vringh *vrh)
{
	if (vrh->weak_barriers)
		virt_rmb();	/* pairs with the driver's wmb before avail->idx */
	else
		rmb();		/* pairs with the driver's wmb before avail->idx */
}

static inline void vrh_wmb(const struct vringh *vrh)
{
	if (vrh->weak_barriers)
		virt_wmb();	/* used elements before used->idx */
	else
		wmb();		/* used elements before used->idx */
}

static inline void vrh_mb(const struct vringh *vrh)
{
	if (vrh->weak_barriers)
		virt_mb();	/* our store before the driver's field load */
	else
		mb();		/* our store before the driver's field load */
}

/* [addr, addr + len - 1] must not wrap; len is nonzero. */
static inline bool vrh_wraps(u64 addr, u64 len, u64 *last)
{
	return check_add_overflow(addr, len - 1, last) ||
	       (!IS_ENABLED(CONFIG_64BIT) && upper_32_bits(*last));
}

/* ---- iotlb: IOVA -> physical ---- */

/*
 * Copy @n bytes between @buf and the mapped memory at @p.  A ring index
 * (avail->idx, used->idx, the event fields) goes in one access: the other
 * side updates it concurrently, and memcpy() may copy byte by byte (x86
 * "rep movsb"), which can read 0x12ff -> 0x1300 as 0x13ff.
 */
static void vrh_copy(void *p, void *buf, size_t n, bool to_phys)
{
	u16 v;

	if (n == sizeof(v) && IS_ALIGNED((unsigned long)p, sizeof(v))) {
		if (to_phys) {
			memcpy(&v, buf, sizeof(v));
			WRITE_ONCE(*(u16 *)p, v);
		} else {
			v = READ_ONCE(*(u16 *)p);
			memcpy(buf, &v, sizeof(v));
		}
	} else if (to_phys) {
		memcpy(p, buf, n);
	} else {
		memcpy(buf, p, n);
	}
}

/* Copy @len bytes between @buf and physically contiguous memory at @pa. */
static int vrh_phys_copy(u64 pa, void *buf, size_t len, bool to_phys)
{
	unsigned long pfn = PHYS_PFN(pa);
	size_t off = offset_in_page(pa);
	u64 last;
	void *p;

	/* Only RAM has a struct page; a map may point at anything. */
	if (check_add_overflow(pa, (u64)len - 1, &last) || !pfn_valid(pfn) ||
	    (PHYS_PFN(last) != pfn && !pfn_valid(PHYS_PFN(last))))
		return vrh_bad(-EFAULT, "iotlb maps non-RAM address %#llx", pa);

	if (!IS_ENABLED(CONFIG_HIGHMEM)) {
		/* The direct map is linear: one memcpy for the whole segment. */
		p = page_address(pfn_to_page(pfn)) + off;
		vrh_copy(p, buf, len, to_phys);
		return 0;
	}

	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - off);

		p = kmap_local_page(pfn_to_page(pfn));
		vrh_copy(p + off, buf, n, to_phys);
		kunmap_local(p);
		buf += n;
		len -= n;
		pfn++;
		off = 0;
	}
	return 0;
}

/*
 * Cache the map holding @addr.  Takes and releases vrh->iotlb_lock with
 * interrupts off (contract with the lock's owner: see vringh_set_iotlb()),
 * so that a lookup may run in any context; only the map's fields (and the
 * owner's map generation, if it keeps one) are copied under it, the
 * payload is copied later without it.
 */
static int vrh_iotlb_lookup(struct vrh_ctx *c, u64 addr)
{
	struct vringh_iotlb_cache *xl = &c->xl;
	struct vringh *vrh = c->vrh;
	struct vhost_iotlb_map *map;
	unsigned long flags;

	if (unlikely(!vrh->iotlb || !vrh->iotlb_lock))
		return vrh_bad(-EINVAL, "no iotlb set on this ring");

	spin_lock_irqsave(vrh->iotlb_lock, flags);
	map = vhost_iotlb_itree_first(vrh->iotlb, addr, addr);
	if (map) {
		xl->start = map->start;
		xl->last = map->last;
		xl->pa = map->addr;
		xl->perm = map->perm;
	}
	if (xl->gen)
		xl->seen = *xl->gen;
	spin_unlock_irqrestore(vrh->iotlb_lock, flags);

	xl->ok = !!map;
	if (c->cache)
		*c->cache = *xl;
	if (!map)
		return vrh_bad(-EFAULT, "iova %#llx not mapped", addr);
	return 0;
}

/* Whether the map cached in @c holds @addr and is still the owner's. */
static bool vrh_iotlb_cached(const struct vrh_ctx *c, u64 addr)
{
	const struct vringh_iotlb_cache *xl = &c->xl;

	return xl->ok && addr >= xl->start && addr <= xl->last &&
	       (!xl->gen || READ_ONCE(*xl->gen) == xl->seen);
}

/* Keep in the caller's cache the IOVA an access could not reach. */
static int vrh_iotlb_fault(struct vrh_ctx *c, u64 addr, int err)
{
	c->xl.fault = addr;
	if (c->cache)
		c->cache->fault = addr;
	return err;
}

/*
 * Copy @len bytes between @buf and IOVA @addr, one memcpy per physically
 * contiguous piece.  Needs VHOST_MAP_WO to write and VHOST_MAP_RO to read.
 */
static int vrh_iotlb_xfer(struct vrh_ctx *c, u64 addr, void *buf, size_t len,
			  bool to_iova)
{
	u32 need = to_iova ? VHOST_MAP_WO : VHOST_MAP_RO;
	u64 last, seg_last, pa;
	size_t n;
	int err;

	if (!len)
		return 0;
	if (check_add_overflow(addr, (u64)len - 1, &last))
		return vrh_bad(-EINVAL, "iova range %#llx+%zu wraps", addr, len);

	for (;;) {
		if (!vrh_iotlb_cached(c, addr)) {
			err = vrh_iotlb_lookup(c, addr);
			if (err)
				return vrh_iotlb_fault(c, addr, err);
		}
		if ((c->xl.perm & need) != need) {
			vrh_bad(-EFAULT, "iova %#llx not %s", addr,
				to_iova ? "writable" : "readable");
			return vrh_iotlb_fault(c, addr, -EFAULT);
		}

		if (check_add_overflow(c->xl.pa, addr - c->xl.start, &pa)) {
			vrh_bad(-EFAULT, "iova %#llx maps past 2^64", addr);
			return vrh_iotlb_fault(c, addr, -EFAULT);
		}
		seg_last = min(last, c->xl.last);
		n = seg_last - addr + 1;
		err = vrh_phys_copy(pa, buf, n, to_iova);
		if (err)
			return vrh_iotlb_fault(c, addr, err);
		if (seg_last == last)
			return 0;
		addr = seg_last + 1;
		buf += n;
	}
}

/* ---- user: guest address -> user address ---- */

/* Translate the head of guest [addr, addr + len - 1] to user memory. */
static int vrh_user_xlate(struct vrh_ctx *c, u64 addr, u64 len, u64 *uaddr,
			  u64 *seg)
{
	struct vringh_range *r = &c->range;
	u64 room, ulast;

	if (!c->range_ok || addr < r->start || addr > r->end_incl) {
		c->range_ok = c->getrange(c->vrh, addr, r) &&
			      addr >= r->start && addr <= r->end_incl;
		if (!c->range_ok)
			return vrh_bad(-EFAULT, "guest address %#llx outside getrange",
				       addr);
	}

	room = r->end_incl - addr;	/* bytes left in the range, minus one */
	*seg = len - 1 <= room ? len : room + 1;
	*uaddr = addr + r->offset;
	if (vrh_wraps(*uaddr, *seg, &ulast))
		return vrh_bad(-EFAULT, "getrange offset wraps at %#llx", addr);
	return 0;
}

/* Read guest memory (an indirect table) through getrange. */
static int vrh_user_read(struct vrh_ctx *c, void *dst, u64 addr, size_t len)
{
	u64 uaddr, seg;
	int err;

	while (len) {
		err = vrh_user_xlate(c, addr, len, &uaddr, &seg);
		if (err)
			return err;
		if (copy_from_user(dst, (const void __user *)(uintptr_t)uaddr,
				   seg))
			return -EFAULT;
		dst += seg;
		addr += seg;
		len -= seg;
	}
	return 0;
}

/* ---- ring field access, specialised per mode at compile time ---- */

static __always_inline int vrh_get16(struct vrh_ctx *c, enum vrh_mode m,
				     u16 *val, const __virtio16 *p)
{
	__virtio16 v = 0;
	int err = 0;

	switch (m) {
	case VRH_KERN:
		v = READ_ONCE(*p);
		break;
	case VRH_USER:
		err = get_user(v, (__force const __virtio16 __user *)p);
		break;
	case VRH_IOTLB:
		err = vrh_iotlb_xfer(c, (uintptr_t)p, &v, sizeof(v), false);
		break;
	}
	if (unlikely(err))
		return err;
	*val = vringh16_to_cpu(c->vrh, v);
	return 0;
}

static __always_inline int vrh_put16(struct vrh_ctx *c, enum vrh_mode m,
				     __virtio16 *p, u16 val)
{
	__virtio16 v = cpu_to_vringh16(c->vrh, val);

	switch (m) {
	case VRH_KERN:
		WRITE_ONCE(*p, v);
		return 0;
	case VRH_USER:
		return put_user(v, (__force __virtio16 __user *)p);
	case VRH_IOTLB:
		return vrh_iotlb_xfer(c, (uintptr_t)p, &v, sizeof(v), true);
	}
	return -EINVAL;
}

/* Write used elements (already in ring byte order) at @p. */
static __always_inline int vrh_put_used(struct vrh_ctx *c, enum vrh_mode m,
					struct vring_used_elem *p,
					const struct vring_used_elem *src,
					unsigned int n)
{
	size_t len = n * sizeof(*src);

	switch (m) {
	case VRH_KERN:
		memcpy(p, src, len);
		return 0;
	case VRH_USER:
		if (copy_to_user((__force void __user *)p, src, len))
			return -EFAULT;
		return 0;
	case VRH_IOTLB:
		return vrh_iotlb_xfer(c, (uintptr_t)p, (void *)src, len, true);
	}
	return -EINVAL;
}

/* Fetch entry @i of table @t once, into cpu byte order. */
static __always_inline int vrh_get_desc(struct vrh_ctx *c, enum vrh_mode m,
					const struct vrh_table *t, u32 i,
					struct vrh_desc *d)
{
	const struct vring_desc *src;
	struct vring_desc raw;
	u64 addr;
	int err = 0;

	if (t->indirect)
		addr = t->base + (u64)i * VRH_DESC_SIZE;
	else
		addr = (uintptr_t)&c->vrh->vring.desc[i];

	switch (m) {
	case VRH_KERN:
		src = (const struct vring_desc *)(uintptr_t)addr;
		raw.addr = READ_ONCE(src->addr);
		raw.len = READ_ONCE(src->len);
		raw.flags = READ_ONCE(src->flags);
		raw.next = READ_ONCE(src->next);
		break;
	case VRH_USER:
		if (t->indirect)
			err = vrh_user_read(c, &raw, addr, sizeof(raw));
		else if (copy_from_user(&raw, (const void __user *)(uintptr_t)addr,
					sizeof(raw)))
			err = -EFAULT;
		break;
	case VRH_IOTLB:
		err = vrh_iotlb_xfer(c, addr, &raw, sizeof(raw), false);
		break;
	}
	if (unlikely(err))
		return err;

	d->addr = vringh64_to_cpu(c->vrh, raw.addr);
	d->len = vringh32_to_cpu(c->vrh, raw.len);
	d->flags = vringh16_to_cpu(c->vrh, raw.flags);
	d->next = vringh16_to_cpu(c->vrh, raw.next);
	return 0;
}

/* ---- iov arrays ---- */

static int vrh_iov_grow(struct vringh_kiov *iov, gfp_t gfp)
{
	unsigned int cur = iov->max_num & ~VRINGH_IOV_ALLOCATED;
	unsigned int want = cur < VRH_IOV_FIRST ? VRH_IOV_FIRST : cur * 2;
	struct kvec *v;

	if (cur >= VRH_IOV_LIMIT)
		return vrh_bad(-E2BIG, "chain needs more than %u segments",
			       VRH_IOV_LIMIT);
	want = min(want, VRH_IOV_LIMIT);

	/* The size is the guest's choice: failing is fine, warning is not. */
	gfp |= __GFP_NOWARN;
	if (iov->max_num & VRINGH_IOV_ALLOCATED) {
		v = krealloc_array(iov->iov, want, sizeof(*v), gfp);
	} else {
		v = kmalloc_array(want, sizeof(*v), gfp);
		if (v && iov->used)
			memcpy(v, iov->iov, iov->used * sizeof(*v));
	}
	if (!v)
		return -ENOMEM;
	iov->iov = v;
	iov->max_num = want | VRINGH_IOV_ALLOCATED;
	return 0;
}

/*
 * Append one segment.  One entry past the last used one is always kept
 * valid, so that vringh_kiov_reset() on a fully consumed iov stays in
 * bounds.
 */
static __always_inline int vrh_iov_add(struct vringh_kiov *iov, u64 addr,
				       u64 len, gfp_t gfp)
{
	int err;

	if (unlikely(iov->used + 1 >= (iov->max_num & ~VRINGH_IOV_ALLOCATED))) {
		err = vrh_iov_grow(iov, gfp);
		if (err)
			return err;
	}
	iov->iov[iov->used].iov_base = (void *)(uintptr_t)addr;
	iov->iov[iov->used].iov_len = len;
	iov->used++;
	return 0;
}

/* Add buffer [addr, addr + len) of a descriptor to @iov. */
static __always_inline int vrh_add_buf(struct vrh_ctx *c, enum vrh_mode m,
				       struct vringh_kiov *iov, u64 addr,
				       u32 len, gfp_t gfp)
{
	u64 last, uaddr, seg, left = len;
	int err;

	if (!len)
		return 0;
	if (vrh_wraps(addr, len, &last))
		return vrh_bad(-EINVAL, "buffer %#llx+%u wraps", addr, len);
	if (m != VRH_USER)
		return vrh_iov_add(iov, addr, len, gfp);

	while (left) {
		err = vrh_user_xlate(c, addr, left, &uaddr, &seg);
		if (!err)
			err = vrh_iov_add(iov, uaddr, seg, gfp);
		if (err)
			return err;
		addr += seg;
		left -= seg;
	}
	return 0;
}

static inline void vrh_iov_clear(struct vringh_kiov *iov)
{
	if (iov) {
		iov->used = 0;
		iov->i = 0;
		iov->consumed = 0;
	}
}

/* Consume @n bytes of the current segment (n <= its length). */
static inline void vrh_iov_consume(struct vringh_kiov *iov, size_t n)
{
	struct kvec *v = &iov->iov[iov->i];

	v->iov_base += n;
	v->iov_len -= n;
	iov->consumed += n;
	if (!v->iov_len) {
		/* Restore the finished segment, as vringh_kiov_reset expects. */
		v->iov_len = iov->consumed;
		v->iov_base -= iov->consumed;
		iov->consumed = 0;
		iov->i++;
	}
}

/* ---- getdesc ---- */

/* Switch @t to the indirect table that descriptor @d points at. */
static int vrh_enter_indirect(struct vrh_table *t, const struct vrh_desc *d)
{
	u64 last;

	if (t->indirect)
		return vrh_bad(-EINVAL, "nested indirect descriptor");
	if (d->flags & VRING_DESC_F_NEXT)
		return vrh_bad(-EINVAL, "indirect descriptor with NEXT");
	if (!d->len || d->len % VRH_DESC_SIZE)
		return vrh_bad(-EINVAL, "indirect table length %u", d->len);
	if (d->len / VRH_DESC_SIZE > VRH_MAX_INDIRECT)
		return vrh_bad(-EINVAL, "indirect table of %u bytes too big",
			       d->len);
	if (vrh_wraps(d->addr, d->len, &last))
		return vrh_bad(-EINVAL, "indirect table %#llx+%u wraps",
			       d->addr, d->len);

	t->base = d->addr;
	t->count = d->len / VRH_DESC_SIZE;
	t->indirect = true;
	return 0;
}

/*
 * Walk the chain at @head, filling @riov and @wiov.
 *
 * The virtio spec bounds a chain, direct and indirect descriptors
 * together, by the queue size.  The descriptor that points at an indirect
 * table describes no buffer and is not counted, so a chain costs at most
 * num + 2 descriptor reads (the last one is refused); a loop is just a
 * chain that never ends and fails the same check.
 */
static __always_inline int vrh_walk(struct vrh_ctx *c, enum vrh_mode m,
				    u16 head, struct vringh_kiov *riov,
				    struct vringh_kiov *wiov, gfp_t gfp)
{
	struct vrh_table t = { .count = c->vrh->vring.num };
	u32 i = head, left = c->vrh->vring.num;
	struct vringh_kiov *iov;
	bool writing = false;
	struct vrh_desc d;
	int err;

	for (;;) {
		err = vrh_get_desc(c, m, &t, i, &d);
		if (unlikely(err))
			return err;
		if (d.flags & VRING_DESC_F_INDIRECT) {
			err = vrh_enter_indirect(&t, &d);
			if (err)
				return err;
			i = 0;
			continue;
		}
		if (unlikely(!left--))
			return vrh_bad(-EINVAL,
				       "chain at head %u longer than the queue size %u (or loops)",
				       head, c->vrh->vring.num);

		if (d.flags & VRING_DESC_F_WRITE)
			writing = true;
		else if (unlikely(writing))
			return vrh_bad(-EINVAL, "readable descriptor after writable");
		iov = writing ? wiov : riov;
		if (unlikely(!iov))
			return vrh_bad(-EINVAL, "no iov for %s descriptor",
				       writing ? "writable" : "readable");

		err = vrh_add_buf(c, m, iov, d.addr, d.len, gfp);
		if (unlikely(err))
			return err;

		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (unlikely(i >= t.count))
			return vrh_bad(-EINVAL, "next index %u >= %u", i, t.count);
	}
}

/*
 * Take the chain at avail position last_avail_idx, which the caller knows
 * is there: read its head entry and walk it into @riov and @wiov (empty on
 * entry).  On success sets *@head and advances last_avail_idx; on error
 * leaves both, and the kiovs empty.
 */
static __always_inline int vrh_take_chain(struct vrh_ctx *c, enum vrh_mode m,
					  struct vringh_kiov *riov,
					  struct vringh_kiov *wiov, u16 *head,
					  gfp_t gfp)
{
	struct vringh *vrh = c->vrh;
	u16 idx;
	int err;

	err = vrh_get16(c, m, &idx, &vrh->vring.avail->ring[vrh->last_avail_idx &
							     (vrh->vring.num - 1)]);
	if (unlikely(err))
		return err;
	if (unlikely(idx >= vrh->vring.num))
		return vrh_bad(-EINVAL, "head %u >= num %u", idx, vrh->vring.num);

	err = vrh_walk(c, m, idx, riov, wiov, gfp);
	if (unlikely(err)) {
		vrh_iov_clear(riov);
		vrh_iov_clear(wiov);
		return err;
	}

	*head = idx;
	vrh->last_avail_idx++;
	return 0;
}

/*
 * Read avail->idx once: the number of chains the driver made available
 * beyond last_avail_idx (0 to num), or a negative errno.  When it is not
 * 0, the read barrier that orders the avail entries and descriptors after
 * the index has been issued.
 */
static __always_inline int vrh_avail_pending(struct vrh_ctx *c,
					     enum vrh_mode m)
{
	struct vringh *vrh = c->vrh;
	u16 avail_idx, pending;
	int err;

	err = vrh_get16(c, m, &avail_idx, &vrh->vring.avail->idx);
	if (unlikely(err))
		return err;
	if (avail_idx == vrh->last_avail_idx)
		return 0;
	pending = avail_idx - vrh->last_avail_idx;
	if (unlikely(pending > vrh->vring.num))
		return vrh_bad(-EINVAL, "avail idx %u is %u ahead of %u (num %u)",
			       avail_idx, pending, vrh->last_avail_idx,
			       vrh->vring.num);

	/* Read the avail entries and descriptors only after seeing the idx. */
	vrh_rmb(vrh);
	return pending;
}

static __always_inline int vrh_getdesc(struct vrh_ctx *c, enum vrh_mode m,
				       struct vringh_kiov *riov,
				       struct vringh_kiov *wiov, u16 *head,
				       gfp_t gfp)
{
	int ret;

	vrh_iov_clear(riov);
	vrh_iov_clear(wiov);

	ret = vrh_avail_pending(c, m);
	if (ret <= 0)
		return ret;
	ret = vrh_take_chain(c, m, riov, wiov, head, gfp);
	return ret ? ret : 1;
}

/*
 * Up to @max chains after one read of avail->idx, chain i into riov[i] and
 * wiov[i] (either array may be NULL).  A chain that cannot be taken ends
 * the batch: the chains before it are returned, and its error is the next
 * call's, since that call starts at the same chain.
 */
static __always_inline int vrh_getdescs(struct vrh_ctx *c, enum vrh_mode m,
					struct vringh_kiov riov[],
					struct vringh_kiov wiov[], u16 heads[],
					unsigned int max, gfp_t gfp)
{
	struct vringh_kiov *r, *w;
	unsigned int i, n;
	int ret;

	if (unlikely(!max))
		return 0;
	ret = vrh_avail_pending(c, m);
	if (ret <= 0)
		return ret;
	n = min_t(unsigned int, ret, max);

	for (i = 0; i < n; i++) {
		r = riov ? &riov[i] : NULL;
		w = wiov ? &wiov[i] : NULL;
		vrh_iov_clear(r);
		vrh_iov_clear(w);
		ret = vrh_take_chain(c, m, r, w, &heads[i], gfp);
		if (unlikely(ret))
			return i ? i : ret;
	}
	return n;
}

/* ---- pull / push ---- */

static __always_inline int vrh_seg_copy(struct vrh_ctx *c, enum vrh_mode m,
					void *base, void *buf, size_t n,
					bool to_iov)
{
	void __user *u = (void __user *)(uintptr_t)base;

	switch (m) {
	case VRH_KERN:
		if (to_iov)
			memcpy(base, buf, n);
		else
			memcpy(buf, base, n);
		return 0;
	case VRH_USER:
		if (to_iov ? copy_to_user(u, buf, n) : copy_from_user(buf, u, n))
			return vrh_bad(-EFAULT, "user fault at %p", u);
		return 0;
	case VRH_IOTLB:
		return vrh_iotlb_xfer(c, (uintptr_t)base, buf, n, to_iov);
	}
	return -EINVAL;
}

static __always_inline ssize_t vrh_copy_iov(struct vrh_ctx *c,
					    enum vrh_mode m,
					    struct vringh_kiov *iov, void *buf,
					    size_t len, bool to_iov)
{
	size_t done = 0, n;
	int err;

	len = min_t(size_t, len, SSIZE_MAX);
	while (done < len && iov->i < iov->used) {
		n = min(len - done, iov->iov[iov->i].iov_len);
		if (n) {
			err = vrh_seg_copy(c, m, iov->iov[iov->i].iov_base,
					   buf + done, n, to_iov);
			if (unlikely(err))
				return err;
		}
		vrh_iov_consume(iov, n);
		done += n;
	}
	return done;
}

/* ---- used ring and notification ---- */

static __always_inline int vrh_complete(struct vrh_ctx *c, enum vrh_mode m,
					const struct vring_used_elem *elems,
					unsigned int n)
{
	struct vringh *vrh = c->vrh;
	struct vring_used *used = vrh->vring.used;
	unsigned int at, first;
	int err;

	if (unlikely(n > vrh->vring.num))
		return vrh_bad(-EINVAL, "completing %u of a %u ring", n,
			       vrh->vring.num);
	if (unlikely(!n))
		return 0;

	at = vrh->last_used_idx & (vrh->vring.num - 1);
	first = min(n, vrh->vring.num - at);
	err = vrh_put_used(c, m, &used->ring[at], elems, first);
	if (!err && first < n)
		err = vrh_put_used(c, m, &used->ring[0], elems + first,
				   n - first);
	if (unlikely(err))
		return err;

	/* The elements must be visible before the index that publishes them. */
	vrh_wmb(vrh);
	err = vrh_put16(c, m, &used->idx, vrh->last_used_idx + n);
	if (unlikely(err))
		return err;
	vrh->last_used_idx += n;
	vrh->completed += n;
	return 0;
}

static __always_inline int vrh_complete_one(struct vrh_ctx *c,
					    enum vrh_mode m, u16 head, u32 len)
{
	struct vring_used_elem e = {
		.id = cpu_to_vringh32(c->vrh, head),
		.len = cpu_to_vringh32(c->vrh, len),
	};

	return vrh_complete(c, m, &e, 1);
}

static __always_inline bool vrh_notify_enable(struct vrh_ctx *c,
					      enum vrh_mode m)
{
	struct vringh *vrh = c->vrh;
	u16 avail_idx;
	int err;

	if (vrh->event_indices)
		err = vrh_put16(c, m, &vring_avail_event(&vrh->vring),
				vrh->last_avail_idx);
	else
		err = vrh_put16(c, m, &vrh->vring.used->flags, 0);
	if (unlikely(err))
		return false;

	/* Publish the re-enable before looking for buffers again. */
	vrh_mb(vrh);

	err = vrh_get16(c, m, &avail_idx, &vrh->vring.avail->idx);
	if (unlikely(err))
		return false;
	return avail_idx == vrh->last_avail_idx;
}

static __always_inline void vrh_notify_disable(struct vrh_ctx *c,
					       enum vrh_mode m)
{
	struct vringh *vrh = c->vrh;

	/* With event indices the guest only kicks at avail_event: nothing. */
	if (!vrh->event_indices &&
	    vrh_put16(c, m, &vrh->vring.used->flags, VRING_USED_F_NO_NOTIFY))
		vrh_bad(-EFAULT, "cannot write used->flags");
}

static __always_inline int vrh_need_notify(struct vrh_ctx *c, enum vrh_mode m)
{
	struct vringh *vrh = c->vrh;
	bool notify;
	u16 val;
	int err;

	/* used->idx must be visible before reading what the guest asks for. */
	vrh_mb(vrh);

	if (vrh->event_indices) {
		err = vrh_get16(c, m, &val, &vring_used_event(&vrh->vring));
		if (unlikely(err))
			return err;
		/* Over 65535 completions the old index is ambiguous: notify. */
		notify = vrh->completed > 0xffff ||
			 vring_need_event(val, vrh->last_used_idx,
					  vrh->last_used_idx - vrh->completed);
	} else {
		err = vrh_get16(c, m, &val, &vrh->vring.avail->flags);
		if (unlikely(err))
			return err;
		notify = vrh->completed && !(val & VRING_AVAIL_F_NO_INTERRUPT);
	}
	vrh->completed = 0;
	return notify;
}

/* ---- init ---- */

static int vrh_init(struct vringh *vrh, u64 features, unsigned int num,
		    bool weak_barriers, struct vring_desc *desc,
		    struct vring_avail *avail, struct vring_used *used)
{
	if (!num || num > VRH_MAX_NUM || (num & (num - 1)))
		return vrh_bad(-EINVAL, "bad ring size %u", num);

	vrh->little_endian = features & BIT_ULL(VIRTIO_F_VERSION_1);
	vrh->event_indices = features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	vrh->weak_barriers = weak_barriers;
	vrh->last_avail_idx = 0;
	vrh->last_used_idx = 0;
	vrh->completed = 0;
	vrh->vring.num = num;
	vrh->vring.desc = desc;
	vrh->vring.avail = avail;
	vrh->vring.used = used;
	return 0;
}

/* struct vringh_iov and struct vringh_kiov differ only in address space. */
static inline struct vringh_kiov *vrh_kiov(struct vringh_iov *iov)
{
	BUILD_BUG_ON(sizeof(struct vringh_iov) != sizeof(struct vringh_kiov));
	BUILD_BUG_ON(offsetof(struct vringh_iov, iov) !=
		     offsetof(struct vringh_kiov, iov));
	BUILD_BUG_ON(offsetof(struct vringh_iov, consumed) !=
		     offsetof(struct vringh_kiov, consumed));
	BUILD_BUG_ON(offsetof(struct vringh_iov, i) !=
		     offsetof(struct vringh_kiov, i));
	BUILD_BUG_ON(offsetof(struct vringh_iov, used) !=
		     offsetof(struct vringh_kiov, used));
	BUILD_BUG_ON(offsetof(struct vringh_iov, max_num) !=
		     offsetof(struct vringh_kiov, max_num));
	BUILD_BUG_ON(sizeof(struct iovec) != sizeof(struct kvec));
	BUILD_BUG_ON(offsetof(struct iovec, iov_len) !=
		     offsetof(struct kvec, iov_len));
	return (struct vringh_kiov *)iov;
}

/* ==== user rings ==== */

/**
 * vringh_init_user - initialise a vringh for a ring in user memory
 * @vrh: the vringh to initialise
 * @features: the negotiated virtio features: VIRTIO_F_VERSION_1 makes the
 *	ring little endian, VIRTIO_RING_F_EVENT_IDX enables event indices
 * @num: number of descriptors, a nonzero power of two up to 32768
 * @weak_barriers: true if the other side is a CPU (virt_* barriers suffice)
 * @desc: user address of the descriptor table
 * @avail: user address of the available ring
 * @used: user address of the used ring
 *
 * The ring pointers are user addresses of the process that later calls the
 * *_user functions.  Indexes start at 0; @vrh->notify, @vrh->iotlb and
 * @vrh->iotlb_lock are left untouched.
 *
 * Context: any; does not access the ring.
 * Return: 0, or -EINVAL if @num is not a nonzero power of two <= 32768.
 */
int vringh_init_user(struct vringh *vrh, u64 features, unsigned int num,
		     bool weak_barriers, vring_desc_t __user *desc,
		     vring_avail_t __user *avail, vring_used_t __user *used)
{
	return vrh_init(vrh, features, num, weak_barriers,
			(__force struct vring_desc *)desc,
			(__force struct vring_avail *)avail,
			(__force struct vring_used *)used);
}
EXPORT_SYMBOL_GPL(vringh_init_user);

/**
 * vringh_getdesc_user - fetch the next available chain of a user ring
 * @vrh: the user ring
 * @riov: receives the readable buffers as user addresses (may be NULL if
 *	the chain has none)
 * @wiov: receives the writable buffers as user addresses (may be NULL if
 *	the chain has none)
 * @getrange: translates a guest address into a range of user memory; it
 *	must return false for addresses the guest may not use
 * @head: set to the chain's head index when 1 is returned
 *
 * The iovs are reset first, then grown with GFP_KERNEL as needed (the
 * arrays then carry VRINGH_IOV_ALLOCATED; free them with
 * vringh_iov_cleanup()).  A descriptor that spans several getrange()
 * ranges yields several segments.  Zero-length descriptors add nothing.
 *
 * Context: process context of the ring's mm; may sleep.
 * Return: 1 when a chain was fetched (last_avail_idx advanced), 0 when the
 * ring is empty, or a negative errno (last_avail_idx unchanged, iovs
 * empty): -EFAULT for a fault or an address outside getrange();
 * -EINVAL for a malformed ring, including a chain of more than num
 * descriptors (direct and indirect together) or a loop; -ENOMEM; -E2BIG
 * when getrange() splits the chain into more than 65536 segments of one
 * iov.
 */
int vringh_getdesc_user(struct vringh *vrh, struct vringh_iov *riov,
			struct vringh_iov *wiov,
			bool (*getrange)(struct vringh *vrh, u64 addr,
					 struct vringh_range *r),
			u16 *head)
{
	struct vrh_ctx c;

	if (!getrange)
		return -EINVAL;
	vrh_ctx_init(&c, vrh);
	c.getrange = getrange;
	return vrh_getdesc(&c, VRH_USER, riov ? vrh_kiov(riov) : NULL,
			   wiov ? vrh_kiov(wiov) : NULL, head, GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(vringh_getdesc_user);

/**
 * vringh_iov_pull_user - copy bytes out of readable user buffers
 * @riov: the readable iov from vringh_getdesc_user()
 * @dst: kernel destination
 * @len: bytes wanted
 *
 * Copies up to @len bytes and consumes them from @riov.
 *
 * Context: process context of the ring's mm; may sleep (page faults).
 * Return: bytes copied (less than @len when @riov runs out), or -EFAULT.
 */
ssize_t vringh_iov_pull_user(struct vringh_iov *riov, void *dst, size_t len)
{
	return vrh_copy_iov(NULL, VRH_USER, vrh_kiov(riov), dst, len, false);
}
EXPORT_SYMBOL_GPL(vringh_iov_pull_user);

/**
 * vringh_iov_push_user - copy bytes into writable user buffers
 * @wiov: the writable iov from vringh_getdesc_user()
 * @src: kernel source
 * @len: bytes to write
 *
 * Copies up to @len bytes and consumes them from @wiov.
 *
 * Context: process context of the ring's mm; may sleep (page faults).
 * Return: bytes copied (less than @len when @wiov runs out), or -EFAULT.
 */
ssize_t vringh_iov_push_user(struct vringh_iov *wiov, const void *src,
			     size_t len)
{
	return vrh_copy_iov(NULL, VRH_USER, vrh_kiov(wiov), (void *)src, len,
			    true);
}
EXPORT_SYMBOL_GPL(vringh_iov_push_user);

/**
 * vringh_abandon_user - give back chains fetched by vringh_getdesc_user()
 * @vrh: the user ring
 * @num: number of chains to give back
 *
 * The next vringh_getdesc_user() fetches them again.
 *
 * Context: any; the caller serialises all calls on one vringh.
 */
void vringh_abandon_user(struct vringh *vrh, unsigned int num)
{
	vrh->last_avail_idx -= num;
}
EXPORT_SYMBOL_GPL(vringh_abandon_user);

/**
 * vringh_complete_user - return one chain through the used ring
 * @vrh: the user ring
 * @head: head index from vringh_getdesc_user()
 * @len: bytes written into the chain's writable buffers
 *
 * Writes the used element, then (after a write barrier) used->idx.
 *
 * Context: process context of the ring's mm; may sleep.
 * Return: 0 or -EFAULT.
 */
int vringh_complete_user(struct vringh *vrh, u16 head, u32 len)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_complete_one(&c, VRH_USER, head, len);
}
EXPORT_SYMBOL_GPL(vringh_complete_user);

/**
 * vringh_complete_multi_user - return several chains through the used ring
 * @vrh: the user ring
 * @used: used elements, already in the ring's byte order
 *	(cpu_to_vringh32())
 * @num_used: number of elements
 *
 * Writes all the elements (wrapping around the ring end), then publishes
 * them with a single used->idx update after a write barrier.
 *
 * Context: process context of the ring's mm; may sleep.
 * Return: 0, -EFAULT, or -EINVAL if @num_used exceeds the ring size.
 */
int vringh_complete_multi_user(struct vringh *vrh,
			       const struct vring_used_elem used[],
			       unsigned int num_used)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_complete(&c, VRH_USER, used, num_used);
}
EXPORT_SYMBOL_GPL(vringh_complete_multi_user);

/**
 * vringh_notify_enable_user - ask the guest to kick again
 * @vrh: the user ring
 *
 * Clears VRING_USED_F_NO_NOTIFY, or with event indices sets avail_event to
 * last_avail_idx, then (after a full barrier) re-reads avail->idx.
 *
 * Context: process context of the ring's mm; may sleep.
 * Return: true if the ring is still empty and the caller may sleep until
 * kicked; false ("more work") if buffers arrived meanwhile or the ring
 * could not be accessed, and the caller must process the ring.  After a
 * fault the next vringh_getdesc_user() either fails or finds the ring
 * empty: "more work" followed by nothing to do means the ring is broken.
 */
bool vringh_notify_enable_user(struct vringh *vrh)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_notify_enable(&c, VRH_USER);
}
EXPORT_SYMBOL_GPL(vringh_notify_enable_user);

/**
 * vringh_notify_disable_user - ask the guest not to kick
 * @vrh: the user ring
 *
 * Sets VRING_USED_F_NO_NOTIFY; with event indices there is nothing to do
 * (the guest kicks only when it passes avail_event).
 *
 * Context: process context of the ring's mm; may sleep.
 */
void vringh_notify_disable_user(struct vringh *vrh)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	vrh_notify_disable(&c, VRH_USER);
}
EXPORT_SYMBOL_GPL(vringh_notify_disable_user);

/**
 * vringh_need_notify_user - must the guest be told about used buffers?
 * @vrh: the user ring
 *
 * Uses used_event with event indices, VRING_AVAIL_F_NO_INTERRUPT
 * otherwise, and resets the count of chains completed since the last call.
 *
 * Context: process context of the ring's mm; may sleep.
 * Return: 1 if the caller should notify (vringh_notify()), 0 if not,
 * -EFAULT if the ring could not be read.
 */
int vringh_need_notify_user(struct vringh *vrh)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_need_notify(&c, VRH_USER);
}
EXPORT_SYMBOL_GPL(vringh_need_notify_user);

/* ==== kernel rings ==== */

/**
 * vringh_init_kern - initialise a vringh for a ring in kernel memory
 * @vrh: the vringh to initialise
 * @features: the negotiated virtio features: VIRTIO_F_VERSION_1 makes the
 *	ring little endian, VIRTIO_RING_F_EVENT_IDX enables event indices
 * @num: number of descriptors, a nonzero power of two up to 32768
 * @weak_barriers: true if the other side is a CPU (virt_* barriers suffice)
 * @desc: the descriptor table
 * @avail: the available ring
 * @used: the used ring
 *
 * Descriptor addresses of this ring are kernel virtual addresses.
 * Indexes start at 0; @vrh->notify, @vrh->iotlb and @vrh->iotlb_lock are
 * left untouched.
 *
 * Context: any; does not access the ring.
 * Return: 0, or -EINVAL if @num is not a nonzero power of two <= 32768.
 */
int vringh_init_kern(struct vringh *vrh, u64 features, unsigned int num,
		     bool weak_barriers, struct vring_desc *desc,
		     struct vring_avail *avail, struct vring_used *used)
{
	return vrh_init(vrh, features, num, weak_barriers, desc, avail, used);
}
EXPORT_SYMBOL_GPL(vringh_init_kern);

/**
 * vringh_kiov_advance - skip bytes of a kiov without copying them
 * @kiov: the kiov
 * @len: bytes to skip; stops early at the end of @kiov
 *
 * Context: any.
 */
void vringh_kiov_advance(struct vringh_kiov *kiov, size_t len)
{
	size_t n;

	while (len && kiov->i < kiov->used) {
		n = min(len, kiov->iov[kiov->i].iov_len);
		vrh_iov_consume(kiov, n);
		len -= n;
	}
}
EXPORT_SYMBOL_GPL(vringh_kiov_advance);

/**
 * vringh_getdesc_kern - fetch the next available chain of a kernel ring
 * @vrh: the kernel ring
 * @riov: receives the readable buffers (may be NULL if the chain has none)
 * @wiov: receives the writable buffers (may be NULL if the chain has none)
 * @head: set to the chain's head index when 1 is returned
 * @gfp: allocation flags for growing @riov / @wiov
 *
 * The kiovs are reset first, then grown with @gfp as needed (the arrays
 * then carry VRINGH_IOV_ALLOCATED; free them with vringh_kiov_cleanup()).
 * Zero-length descriptors add nothing.
 *
 * Context: any context that @gfp allows.
 * Return: 1 when a chain was fetched (last_avail_idx advanced), 0 when the
 * ring is empty, or a negative errno (last_avail_idx unchanged, kiovs
 * empty): -EINVAL for a malformed ring, including a chain of more than
 * num descriptors (direct and indirect together) or a loop; -ENOMEM.
 */
int vringh_getdesc_kern(struct vringh *vrh, struct vringh_kiov *riov,
			struct vringh_kiov *wiov, u16 *head, gfp_t gfp)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_getdesc(&c, VRH_KERN, riov, wiov, head, gfp);
}
EXPORT_SYMBOL_GPL(vringh_getdesc_kern);

/**
 * vringh_iov_pull_kern - copy bytes out of readable kernel buffers
 * @riov: the readable kiov from vringh_getdesc_kern()
 * @dst: destination
 * @len: bytes wanted
 *
 * Context: any.
 * Return: bytes copied, consumed from @riov (less than @len when it runs
 * out).
 */
ssize_t vringh_iov_pull_kern(struct vringh_kiov *riov, void *dst, size_t len)
{
	return vrh_copy_iov(NULL, VRH_KERN, riov, dst, len, false);
}
EXPORT_SYMBOL_GPL(vringh_iov_pull_kern);

/**
 * vringh_iov_push_kern - copy bytes into writable kernel buffers
 * @wiov: the writable kiov from vringh_getdesc_kern()
 * @src: source
 * @len: bytes to write
 *
 * Context: any.
 * Return: bytes copied, consumed from @wiov (less than @len when it runs
 * out).
 */
ssize_t vringh_iov_push_kern(struct vringh_kiov *wiov, const void *src,
			     size_t len)
{
	return vrh_copy_iov(NULL, VRH_KERN, wiov, (void *)src, len, true);
}
EXPORT_SYMBOL_GPL(vringh_iov_push_kern);

/**
 * vringh_abandon_kern - give back chains fetched by vringh_getdesc_kern()
 * @vrh: the kernel ring
 * @num: number of chains to give back
 *
 * Context: any; the caller serialises all calls on one vringh.
 */
void vringh_abandon_kern(struct vringh *vrh, unsigned int num)
{
	vrh->last_avail_idx -= num;
}
EXPORT_SYMBOL_GPL(vringh_abandon_kern);

/**
 * vringh_complete_kern - return one chain through the used ring
 * @vrh: the kernel ring
 * @head: head index from vringh_getdesc_kern()
 * @len: bytes written into the chain's writable buffers
 *
 * Writes the used element, then (after a write barrier) used->idx.
 *
 * Context: any.
 * Return: 0.
 */
int vringh_complete_kern(struct vringh *vrh, u16 head, u32 len)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_complete_one(&c, VRH_KERN, head, len);
}
EXPORT_SYMBOL_GPL(vringh_complete_kern);

/**
 * vringh_notify_enable_kern - ask the guest to kick again
 * @vrh: the kernel ring
 *
 * Clears VRING_USED_F_NO_NOTIFY, or with event indices sets avail_event to
 * last_avail_idx, then (after a full barrier) re-reads avail->idx.
 *
 * Context: any.
 * Return: true if the ring is still empty and the caller may sleep until
 * kicked; false if buffers arrived meanwhile and must be processed.
 */
bool vringh_notify_enable_kern(struct vringh *vrh)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_notify_enable(&c, VRH_KERN);
}
EXPORT_SYMBOL_GPL(vringh_notify_enable_kern);

/**
 * vringh_notify_disable_kern - ask the guest not to kick
 * @vrh: the kernel ring
 *
 * Sets VRING_USED_F_NO_NOTIFY; nothing to do with event indices.
 *
 * Context: any.
 */
void vringh_notify_disable_kern(struct vringh *vrh)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	vrh_notify_disable(&c, VRH_KERN);
}
EXPORT_SYMBOL_GPL(vringh_notify_disable_kern);

/**
 * vringh_need_notify_kern - must the guest be told about used buffers?
 * @vrh: the kernel ring
 *
 * Uses used_event with event indices, VRING_AVAIL_F_NO_INTERRUPT
 * otherwise, and resets the count of chains completed since the last call.
 *
 * Context: any.
 * Return: 1 if the caller should notify (vringh_notify()), 0 if not.
 */
int vringh_need_notify_kern(struct vringh *vrh)
{
	struct vrh_ctx c;

	vrh_ctx_init(&c, vrh);
	return vrh_need_notify(&c, VRH_KERN);
}
EXPORT_SYMBOL_GPL(vringh_need_notify_kern);

/* ==== IOTLB rings ==== */

/**
 * vringh_set_iotlb - choose the IOTLB that translates a ring's addresses
 * @vrh: the ring
 * @iotlb: maps IOVAs to physical addresses (map->addr is physical)
 * @iotlb_lock: spinlock the owner of @iotlb holds while changing it; every
 *	lookup of the *_iotlb functions takes it
 *
 * May be called before or after vringh_init_iotlb(); init keeps it.
 *
 * The *_iotlb functions take @iotlb_lock with spin_lock_irqsave() around
 * each lookup (never across a copy of payload, never sleeping or
 * allocating under it), so they may be called in process, softirq and
 * hardirq context.  The owner of the lock (the device) must do the same:
 * take it with spin_lock_irqsave() (or from a context with interrupts
 * already off), hold it only for short sections, and neither sleep nor
 * allocate under it: to replace many maps, build a new tree outside the
 * lock and swap it in under it, then free the old one outside.  A lookup
 * sees the tree either before or after such a swap.  A call already past
 * its lookup finishes its copy with the translation it found: an owner
 * that must know no copy uses an old translation any more serialises its
 * map changes with its own calls into vringh.
 *
 * Context: any; the caller must not race it with the *_iotlb functions.
 */
void vringh_set_iotlb(struct vringh *vrh, struct vhost_iotlb *iotlb,
		      spinlock_t *iotlb_lock)
{
	vrh->iotlb = iotlb;
	vrh->iotlb_lock = iotlb_lock;
}
EXPORT_SYMBOL_GPL(vringh_set_iotlb);

/**
 * vringh_init_iotlb - initialise a vringh for a ring behind an IOTLB
 * @vrh: the vringh to initialise
 * @features: the negotiated virtio features: VIRTIO_F_VERSION_1 makes the
 *	ring little endian, VIRTIO_RING_F_EVENT_IDX enables event indices
 * @num: number of descriptors, a nonzero power of two up to 32768
 * @weak_barriers: true if the other side is a CPU (virt_* barriers suffice)
 * @desc: IOVA of the descriptor table (not a kernel pointer)
 * @avail: IOVA of the available ring
 * @used: IOVA of the used ring
 *
 * All ring and buffer accesses go through the IOTLB given with
 * vringh_set_iotlb(): reads need VHOST_MAP_RO, writes VHOST_MAP_WO.
 * Indexes start at 0; @vrh->notify, @vrh->iotlb and @vrh->iotlb_lock are
 * left untouched.
 *
 * Context: any; does not access the ring.
 * Return: 0, or -EINVAL if @num is not a nonzero power of two <= 32768.
 */
int vringh_init_iotlb(struct vringh *vrh, u64 features, unsigned int num,
		      bool weak_barriers, struct vring_desc *desc,
		      struct vring_avail *avail, struct vring_used *used)
{
	return vrh_init(vrh, features, num, weak_barriers, desc, avail, used);
}
EXPORT_SYMBOL_GPL(vringh_init_iotlb);

/**
 * vringh_getdesc_iotlb - fetch the next available chain of an IOTLB ring
 * @vrh: the IOTLB ring
 * @riov: receives the readable buffers as IOVAs (may be NULL if the chain
 *	has none)
 * @wiov: receives the writable buffers as IOVAs (may be NULL if the chain
 *	has none)
 * @head: set to the chain's head index when 1 is returned
 * @gfp: allocation flags for growing @riov / @wiov
 *
 * Buffers are translated when copied, by vringh_iov_pull_iotlb() and
 * vringh_iov_push_iotlb(); use only those on these kiovs.  Takes
 * vrh->iotlb_lock around each IOTLB lookup.
 *
 * Context: any context that @gfp allows; not with vrh->iotlb_lock held.
 * Return: 1 when a chain was fetched (last_avail_idx advanced), 0 when the
 * ring is empty, or a negative errno (last_avail_idx unchanged, kiovs
 * empty): -EFAULT for a ring address (descriptor table, avail ring,
 * indirect table) that is not mapped, mapped without VHOST_MAP_RO or
 * mapped outside RAM;
 * -EINVAL for a malformed ring, including a chain of more than num
 * descriptors (direct and indirect together) or a loop, or a missing
 * IOTLB; -ENOMEM.
 */
int vringh_getdesc_iotlb(struct vringh *vrh, struct vringh_kiov *riov,
			 struct vringh_kiov *wiov, u16 *head, gfp_t gfp)
{
	return vringh_getdesc_iotlb_cached(vrh, NULL, riov, wiov, head, gfp);
}
EXPORT_SYMBOL_GPL(vringh_getdesc_iotlb);

/**
 * vringh_getdesc_iotlb_cached - vringh_getdesc_iotlb() with a translation cache
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 * @riov: as for vringh_getdesc_iotlb()
 * @wiov: as for vringh_getdesc_iotlb()
 * @head: as for vringh_getdesc_iotlb()
 * @gfp: as for vringh_getdesc_iotlb()
 *
 * Uses the map in @cache while its owner's generation has not moved, and
 * keeps the last map it looked up there.
 *
 * Context: as for vringh_getdesc_iotlb().
 * Return: as for vringh_getdesc_iotlb().
 */
int vringh_getdesc_iotlb_cached(struct vringh *vrh,
				struct vringh_iotlb_cache *cache,
				struct vringh_kiov *riov,
				struct vringh_kiov *wiov, u16 *head, gfp_t gfp)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_getdesc(&c, VRH_IOTLB, riov, wiov, head, gfp);
}
EXPORT_SYMBOL_GPL(vringh_getdesc_iotlb_cached);

/**
 * vringh_getdescs_iotlb_cached - fetch several available chains at once
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache), or NULL
 * @riov: @max kiovs; chain i's readable buffers go to @riov[i] (NULL if no
 *	chain has any)
 * @wiov: @max kiovs; chain i's writable buffers go to @wiov[i] (NULL if no
 *	chain has any)
 * @heads: @max entries; set to the head index of each chain fetched
 * @max: most chains to fetch
 * @gfp: allocation flags for growing the kiovs
 *
 * vringh_getdesc_iotlb_cached() for a batch: avail->idx is read (and
 * translated) once, with one read barrier, for up to @max chains, whose
 * avail entries and descriptors are then read in order.  Chains made
 * available after that read are left for the next call.  The chains are
 * consumed in order: give back the last k of them with
 * vringh_abandon_iotlb(@vrh, k), complete them with
 * vringh_complete_multi_iotlb_cached().
 *
 * A chain that cannot be fetched (malformed, unmapped, -ENOMEM) ends the
 * batch: the chains before it are returned, last_avail_idx stops at it,
 * and the next call, which starts with it, returns its error.  So an error
 * is returned only when no chain was fetched, with the same meaning as
 * from vringh_getdesc_iotlb().  Kiovs beyond the chains fetched are left
 * as they were, but for the one of the chain that failed, which is empty.
 *
 * Context: as for vringh_getdesc_iotlb().
 * Return: the number of chains fetched (last_avail_idx advanced by as
 * many), 0 when the ring is empty or @max is 0, or a negative errno as
 * from vringh_getdesc_iotlb() when the first chain could not be fetched
 * (last_avail_idx unchanged).
 */
int vringh_getdescs_iotlb_cached(struct vringh *vrh,
				 struct vringh_iotlb_cache *cache,
				 struct vringh_kiov riov[],
				 struct vringh_kiov wiov[], u16 heads[],
				 unsigned int max, gfp_t gfp)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_getdescs(&c, VRH_IOTLB, riov, wiov, heads, max, gfp);
}
EXPORT_SYMBOL_GPL(vringh_getdescs_iotlb_cached);

/**
 * vringh_iov_pull_iotlb - copy bytes out of readable IOTLB buffers
 * @vrh: the IOTLB ring
 * @riov: the readable kiov from vringh_getdesc_iotlb()
 * @dst: destination
 * @len: bytes wanted
 *
 * Each IOVA range is split into physically contiguous pieces, each copied
 * with one memcpy.  Takes vrh->iotlb_lock around each lookup.
 *
 * Context: any; not with vrh->iotlb_lock held.
 * Return: bytes copied, consumed from @riov (less than @len when it runs
 * out); -EFAULT if a byte is not mapped, mapped without VHOST_MAP_RO or
 * mapped outside RAM; -EINVAL if a range wraps or no IOTLB is set.
 */
ssize_t vringh_iov_pull_iotlb(struct vringh *vrh, struct vringh_kiov *riov,
			      void *dst, size_t len)
{
	return vringh_iov_pull_iotlb_cached(vrh, NULL, riov, dst, len);
}
EXPORT_SYMBOL_GPL(vringh_iov_pull_iotlb);

/**
 * vringh_iov_pull_iotlb_cached - vringh_iov_pull_iotlb() with a translation cache
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 * @riov: as for vringh_iov_pull_iotlb()
 * @dst: as for vringh_iov_pull_iotlb()
 * @len: as for vringh_iov_pull_iotlb()
 *
 * Uses the map in @cache while its owner's generation has not moved, and
 * keeps the last map it looked up there.
 *
 * Context: as for vringh_iov_pull_iotlb().
 * Return: as for vringh_iov_pull_iotlb().
 */
ssize_t vringh_iov_pull_iotlb_cached(struct vringh *vrh,
				     struct vringh_iotlb_cache *cache,
				     struct vringh_kiov *riov, void *dst,
				     size_t len)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_copy_iov(&c, VRH_IOTLB, riov, dst, len, false);
}
EXPORT_SYMBOL_GPL(vringh_iov_pull_iotlb_cached);

/**
 * vringh_iov_push_iotlb - copy bytes into writable IOTLB buffers
 * @vrh: the IOTLB ring
 * @wiov: the writable kiov from vringh_getdesc_iotlb()
 * @src: source
 * @len: bytes to write
 *
 * Each IOVA range is split into physically contiguous pieces, each copied
 * with one memcpy.  Takes vrh->iotlb_lock around each lookup.
 *
 * Context: any; not with vrh->iotlb_lock held.
 * Return: bytes copied, consumed from @wiov (less than @len when it runs
 * out); -EFAULT if a byte is not mapped, mapped without VHOST_MAP_WO or
 * mapped outside RAM; -EINVAL if a range wraps or no IOTLB is set.
 */
ssize_t vringh_iov_push_iotlb(struct vringh *vrh, struct vringh_kiov *wiov,
			      const void *src, size_t len)
{
	return vringh_iov_push_iotlb_cached(vrh, NULL, wiov, src, len);
}
EXPORT_SYMBOL_GPL(vringh_iov_push_iotlb);

/**
 * vringh_iov_push_iotlb_cached - vringh_iov_push_iotlb() with a translation cache
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 * @wiov: as for vringh_iov_push_iotlb()
 * @src: as for vringh_iov_push_iotlb()
 * @len: as for vringh_iov_push_iotlb()
 *
 * Uses the map in @cache while its owner's generation has not moved, and
 * keeps the last map it looked up there.
 *
 * Context: as for vringh_iov_push_iotlb().
 * Return: as for vringh_iov_push_iotlb().
 */
ssize_t vringh_iov_push_iotlb_cached(struct vringh *vrh,
				     struct vringh_iotlb_cache *cache,
				     struct vringh_kiov *wiov, const void *src,
				     size_t len)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_copy_iov(&c, VRH_IOTLB, wiov, (void *)src, len, true);
}
EXPORT_SYMBOL_GPL(vringh_iov_push_iotlb_cached);

/**
 * vringh_abandon_iotlb - give back chains fetched by vringh_getdesc_iotlb()
 * @vrh: the IOTLB ring
 * @num: number of chains to give back
 *
 * Context: any; the caller serialises all calls on one vringh.
 */
void vringh_abandon_iotlb(struct vringh *vrh, unsigned int num)
{
	vrh->last_avail_idx -= num;
}
EXPORT_SYMBOL_GPL(vringh_abandon_iotlb);

/**
 * vringh_complete_iotlb - return one chain through the used ring
 * @vrh: the IOTLB ring
 * @head: head index from vringh_getdesc_iotlb()
 * @len: bytes written into the chain's writable buffers
 *
 * Writes the used element, then (after a write barrier) used->idx.
 *
 * Context: any; not with vrh->iotlb_lock held.
 * Return: 0; -EFAULT if the used ring is not mapped or mapped without
 * VHOST_MAP_WO (last_used_idx is then unchanged); -EINVAL if no IOTLB is
 * set.
 */
int vringh_complete_iotlb(struct vringh *vrh, u16 head, u32 len)
{
	return vringh_complete_iotlb_cached(vrh, NULL, head, len);
}
EXPORT_SYMBOL_GPL(vringh_complete_iotlb);

/**
 * vringh_complete_iotlb_cached - vringh_complete_iotlb() with a translation cache
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 * @head: as for vringh_complete_iotlb()
 * @len: as for vringh_complete_iotlb()
 *
 * Uses the map in @cache while its owner's generation has not moved, and
 * keeps the last map it looked up there.
 *
 * Context: as for vringh_complete_iotlb().
 * Return: as for vringh_complete_iotlb().
 */
int vringh_complete_iotlb_cached(struct vringh *vrh,
				 struct vringh_iotlb_cache *cache, u16 head,
				 u32 len)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_complete_one(&c, VRH_IOTLB, head, len);
}
EXPORT_SYMBOL_GPL(vringh_complete_iotlb_cached);

/**
 * vringh_complete_multi_iotlb_cached - return several chains at once
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 * @used: used elements, already in the ring's byte order
 *	(cpu_to_vringh32())
 * @num_used: number of elements
 *
 * Writes all the elements (wrapping around the ring end), then publishes
 * them with a single used->idx update after a write barrier: the driver
 * never sees some of them without the others (the buffers of one
 * mergeable receive frame).
 *
 * Context: as for vringh_complete_iotlb().
 * Return: as for vringh_complete_iotlb(); also -EINVAL if @num_used
 * exceeds the ring size.
 */
int vringh_complete_multi_iotlb_cached(struct vringh *vrh,
				       struct vringh_iotlb_cache *cache,
				       const struct vring_used_elem used[],
				       unsigned int num_used)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_complete(&c, VRH_IOTLB, used, num_used);
}
EXPORT_SYMBOL_GPL(vringh_complete_multi_iotlb_cached);

/**
 * vringh_notify_enable_iotlb - ask the guest to kick again
 * @vrh: the IOTLB ring
 *
 * Clears VRING_USED_F_NO_NOTIFY, or with event indices sets avail_event to
 * last_avail_idx, then (after a full barrier) re-reads avail->idx.
 *
 * Context: any; not with vrh->iotlb_lock held.
 * Return: true if the ring is still empty and the caller may sleep until
 * kicked; false ("more work") if buffers arrived meanwhile or the ring
 * could not be accessed (used->flags or avail_event not writable,
 * avail->idx not readable), and the caller must process the ring.  After a
 * fault the next vringh_getdesc_iotlb() either fails or, if the avail ring
 * is readable and empty, returns 0: "more work" followed by nothing to do
 * means the ring is broken, and the device should stop serving it.
 */
bool vringh_notify_enable_iotlb(struct vringh *vrh)
{
	return vringh_notify_enable_iotlb_cached(vrh, NULL);
}
EXPORT_SYMBOL_GPL(vringh_notify_enable_iotlb);

/**
 * vringh_notify_enable_iotlb_cached - vringh_notify_enable_iotlb() with a translation cache
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 *
 * Uses the map in @cache while its owner's generation has not moved, and
 * keeps the last map it looked up there.
 *
 * Context: as for vringh_notify_enable_iotlb().
 * Return: as for vringh_notify_enable_iotlb().
 */
bool vringh_notify_enable_iotlb_cached(struct vringh *vrh,
				       struct vringh_iotlb_cache *cache)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_notify_enable(&c, VRH_IOTLB);
}
EXPORT_SYMBOL_GPL(vringh_notify_enable_iotlb_cached);

/**
 * vringh_notify_disable_iotlb - ask the guest not to kick
 * @vrh: the IOTLB ring
 *
 * Sets VRING_USED_F_NO_NOTIFY; nothing to do with event indices.  A
 * write fault is not reported here; vringh_notify_enable_iotlb() and
 * vringh_complete_iotlb() report it.
 *
 * Context: any; not with vrh->iotlb_lock held.
 */
void vringh_notify_disable_iotlb(struct vringh *vrh)
{
	vringh_notify_disable_iotlb_cached(vrh, NULL);
}
EXPORT_SYMBOL_GPL(vringh_notify_disable_iotlb);

/**
 * vringh_notify_disable_iotlb_cached - vringh_notify_disable_iotlb() with a translation cache
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 *
 * Uses the map in @cache while its owner's generation has not moved, and
 * keeps the last map it looked up there.
 *
 * Context: as for vringh_notify_disable_iotlb().
 */
void vringh_notify_disable_iotlb_cached(struct vringh *vrh,
					struct vringh_iotlb_cache *cache)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	vrh_notify_disable(&c, VRH_IOTLB);
}
EXPORT_SYMBOL_GPL(vringh_notify_disable_iotlb_cached);

/**
 * vringh_need_notify_iotlb - must the guest be told about used buffers?
 * @vrh: the IOTLB ring
 *
 * Uses used_event with event indices, VRING_AVAIL_F_NO_INTERRUPT
 * otherwise, and resets the count of chains completed since the last call.
 *
 * Context: any; not with vrh->iotlb_lock held.
 * Return: 1 if the caller should notify (vringh_notify()), 0 if not,
 * -EFAULT if the field to read (used_event or avail->flags) is not mapped
 * or mapped without VHOST_MAP_RO, -EINVAL if no IOTLB is set.
 */
int vringh_need_notify_iotlb(struct vringh *vrh)
{
	return vringh_need_notify_iotlb_cached(vrh, NULL);
}
EXPORT_SYMBOL_GPL(vringh_need_notify_iotlb);

/**
 * vringh_need_notify_iotlb_cached - vringh_need_notify_iotlb() with a translation cache
 * @vrh: the IOTLB ring
 * @cache: the ring's cache (see struct vringh_iotlb_cache)
 *
 * Uses the map in @cache while its owner's generation has not moved, and
 * keeps the last map it looked up there.
 *
 * Context: as for vringh_need_notify_iotlb().
 * Return: as for vringh_need_notify_iotlb().
 */
int vringh_need_notify_iotlb_cached(struct vringh *vrh,
				    struct vringh_iotlb_cache *cache)
{
	struct vrh_ctx c;

	vrh_ctx_init_cached(&c, vrh, cache);
	return vrh_need_notify(&c, VRH_IOTLB);
}
EXPORT_SYMBOL_GPL(vringh_need_notify_iotlb_cached);

/**
 * vringh_iotlb_cache_init - an empty translation cache
 * @cache: the cache
 * @gen: the owner's map generation (see struct vringh_iotlb_cache)
 *
 * Also empties a cache in use, as when its ring is set up again.
 *
 * Context: any; not racing with a call that uses @cache.
 */
void vringh_iotlb_cache_init(struct vringh_iotlb_cache *cache,
			     const unsigned int *gen)
{
	cache->gen = gen;
	cache->ok = false;
	cache->fault = 0;
}
EXPORT_SYMBOL_GPL(vringh_iotlb_cache_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Host-side access to split virtqueues (kern, user, IOTLB)");
