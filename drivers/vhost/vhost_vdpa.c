// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vdpa: a vDPA bus driver that hands each bound device to user space
 * as the character device /dev/vhost-vdpa-N, speaking the vhost ioctl and
 * IOTLB message ABI of <uapi/linux/vhost.h>.  DPDK's virtio-user and QEMU's
 * vhost-vdpa netdev drive a device through it.
 *
 * It stands alone on public kernel interfaces: the owner's mm, the kick
 * eventfds (polled through a wait-queue entry whose callback kicks the
 * parent), the call and error eventfds and the ring checks are kept here,
 * a few dozen bytes per virtqueue.  What is specific to vDPA is here too:
 * status and config space, the parent's callbacks signalling the call
 * eventfds, and the IOTLB, one interval tree per address space
 * (<linux/vhost_iotlb.h>), whose updates pin user memory and hand
 * IOVA->PA translations to the parent (set_map, dma_map) or to a platform
 * IOMMU domain.  A reset of the device makes the parent forget every
 * mapping; they are replayed to it right after (set_map or dma_map).
 *
 * Lifetime: probe creates the struct vhost_vdpa and its device node; the
 * node can be opened by one file at a time.  Removing the vDPA device while
 * the file is open does not wait for it: remove stops the device, unpins
 * everything, wakes the eventfds and detaches; the file then fails every
 * call with -ENODEV until it is closed.  The struct lives until the device
 * node is deleted and the last file reference (an open file or a mapping of
 * a doorbell page) is gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/irqbypass.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/log2.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_config.h>
#include <linux/wait.h>
#include <uapi/linux/vhost.h>
#include <uapi/linux/virtio_ring.h>

#define VHOST_VDPA_DEV_MAX	BIT(MINORBITS)

/* Largest vq count: vdpa_config_ops take a u16 index. */
#define VHOST_VDPA_MAX_VQS	(U16_MAX + 1U)

/* Largest ring: VHOST_SET_VRING_NUM takes a power of two up to this. */
#define VHOST_VDPA_MAX_VQ_SIZE	32768U

/* Alignment of the packed ring's event suppression areas. */
#define VHOST_VDPA_PACKED_EVENT_ALIGN	4U

/* Status bits a driver may write; NEEDS_RESET belongs to the device. */
#define VHOST_VDPA_STATUS_DRIVER_BITS					\
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |		\
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK |	\
	 VIRTIO_CONFIG_S_FAILED)

#define VHOST_VDPA_BACKEND_FEATURES					\
	(BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2) |			\
	 BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH) |				\
	 BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID))

struct vhost_vdpa;

/**
 * struct vhost_vdpa_vq - one virtqueue of an open device
 * @v: the device
 * @kick: file of the kick eventfd, or NULL.  Changed under &vhost_vdpa.lock.
 * @kick_wqh: wait queue of @kick that @kick_wait is on, or NULL when not
 *	polling.  Changed under &vhost_vdpa.lock.
 * @kick_wait: our entry on @kick_wqh.  Its callback kicks the parent; it
 *	runs from the eventfd's wakeup, under @kick_wqh's lock with
 *	interrupts disabled, and is done once removed from @kick_wqh.
 * @err: error eventfd (VHOST_SET_VRING_ERR), or NULL.  Under
 *	&vhost_vdpa.lock.
 * @cb_lock: protects @call against the parent's callback
 * @call: call eventfd, or NULL.  Written under &vhost_vdpa.lock and
 *	@cb_lock; read under @cb_lock by the parent's callback, which may run
 *	in any context.
 * @bypass: the parent's interrupt of this queue offered to a consumer of
 *	@call (KVM's irqfd); registered while its token is set.  Under
 *	&vhost_vdpa.lock.
 * @index: virtqueue index
 */
struct vhost_vdpa_vq {
	struct vhost_vdpa *v;
	struct file *kick;
	wait_queue_head_t *kick_wqh;
	wait_queue_entry_t kick_wait;
	struct eventfd_ctx *err;
	spinlock_t cb_lock;		/* see above */
	struct eventfd_ctx *call;
#if IS_ENABLED(CONFIG_IRQ_BYPASS_MANAGER)
	struct irq_bypass_producer bypass;
#endif
	u16 index;
};

/**
 * struct vhost_vdpa_as - one address space
 * @iotlb: IOVA ranges.  For a use_va parent a range's addr is a user
 *	address, otherwise the physical address of pinned pages; its opaque
 *	is the struct vhost_vdpa_map describing it, which the parent also
 *	gets (set_map, dma_map) and reads as a struct vdpa_map_file.
 * @dirty: changed since the parent last saw it through set_map
 */
struct vhost_vdpa_as {
	struct vhost_iotlb iotlb;
	bool dirty;
};

/**
 * struct vhost_vdpa_map - what backs one IOTLB range
 * @mf: for a use_va range its file and the offset in it; for pinned
 *	pages no file, and as offset the user address the range was pinned
 *	from (a parent may tell a user address put where an IOVA belongs by
 *	it).  First, because a parent reads the range's opaque pointer as a
 *	struct vdpa_map_file.
 * @node: entry in &vhost_vdpa.retired once the range left the IOTLB
 * @addr: physical address of the pinned pages, or the user address
 * @size: bytes
 * @perm: VHOST_MAP_* permission
 * @asid: address space it was in
 *
 * A range removed from the IOTLB of a set_map parent may still be in the
 * parent's own copy until the next set_map; its pages stay pinned on the
 * retired list until then.
 */
struct vhost_vdpa_map {
	struct vdpa_map_file mf;
	struct list_head node;
	u64 addr;
	u64 size;
	u32 perm;
	u32 asid;
};

/**
 * struct vhost_vdpa - a vDPA device bound to vhost-vdpa
 * @dev: the class device behind /dev/vhost-vdpa-N
 * @cdev: its character device
 * @minor: minor number, returned at remove
 * @nvqs: virtqueues of the vDPA device
 * @nas: its address spaces
 * @use_va: the parent takes user addresses instead of pinned pages
 * @lock: serialises open, release, ioctl, write and remove; protects every
 *	field below except where noted
 * @gone_sem: held for writing when @vdpa goes away; the mmap and page
 *	fault paths, which run under the mmap lock and so cannot take @lock,
 *	read @vdpa under it
 * @vdpa: the vDPA device, NULL once removed
 * @opened: a file has the device open (it may have been removed since)
 * @filp: that file, for zapping its doorbell mappings at remove
 * @mm: the owner's mm (VHOST_SET_OWNER), grabbed, or NULL; set once per
 *	open, dropped at release.  IOTLB messages are accepted only from a
 *	task of this mm, and pinned pages are charged to it.
 * @vqs: the virtqueues, @nvqs of them
 * @as: address spaces, @nas of them
 * @retired: struct vhost_vdpa_map entries waiting for set_map
 * @in_batch: between IOTLB BATCH_BEGIN and BATCH_END
 * @suspended: suspended since the last reset
 * @backend_features: VHOST_BACKEND_F_* acknowledged by user space
 * @range: IOVA range accepted in IOTLB updates
 * @domain: platform IOMMU domain, for parents without set_map/dma_map
 * @cb_lock: protects @config_call against the parent's config callback
 * @config_call: config-change eventfd, or NULL
 */
struct vhost_vdpa {
	struct device dev;
	struct cdev cdev;
	int minor;
	u32 nvqs;
	u32 nas;
	bool use_va;

	struct mutex lock;		/* see above */
	struct rw_semaphore gone_sem;
	struct vdpa_device *vdpa;
	bool opened;
	struct file *filp;

	struct mm_struct *mm;
	struct vhost_vdpa_vq *vqs;
	struct vhost_vdpa_as *as;
	struct list_head retired;
	bool in_batch;
	bool suspended;
	u64 backend_features;
	struct vdpa_iova_range range;
	struct iommu_domain *domain;

	spinlock_t cb_lock;		/* see above */
	struct eventfd_ctx *config_call;
};

static dev_t vhost_vdpa_devt;
static struct class *vhost_vdpa_class;
static DEFINE_IDA(vhost_vdpa_ida);

#define vv_bad(v, fmt, ...) \
	dev_info_ratelimited(&(v)->dev, fmt, ##__VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Callbacks from the parent and kicks from user space                */

static irqreturn_t vhost_vdpa_vq_cb(void *data)
{
	struct vhost_vdpa_vq *q = data;
	unsigned long flags;

	spin_lock_irqsave(&q->cb_lock, flags);
	if (q->call)
		eventfd_signal(q->call, 1);
	spin_unlock_irqrestore(&q->cb_lock, flags);
	return IRQ_HANDLED;
}

static irqreturn_t vhost_vdpa_config_cb(void *data)
{
	struct vhost_vdpa *v = data;
	unsigned long flags;

	spin_lock_irqsave(&v->cb_lock, flags);
	if (v->config_call)
		eventfd_signal(v->config_call, 1);
	spin_unlock_irqrestore(&v->cb_lock, flags);
	return IRQ_HANDLED;
}

static void vhost_vdpa_apply_vq_cb(struct vhost_vdpa *v, u16 idx)
{
	struct vhost_vdpa_vq *q = &v->vqs[idx];
	struct vdpa_callback cb = {};

	if (q->call) {
		cb.callback = vhost_vdpa_vq_cb;
		cb.private = q;
		cb.trigger = q->call;
	}
	v->vdpa->config->set_vq_cb(v->vdpa, idx, &cb);
}

static void vhost_vdpa_apply_config_cb(struct vhost_vdpa *v)
{
	struct vdpa_callback cb = {};

	if (v->config_call) {
		cb.callback = vhost_vdpa_config_cb;
		cb.private = v;
		cb.trigger = v->config_call;
	}
	v->vdpa->config->set_config_cb(v->vdpa, &cb);
}

/*
 * Replace *@slot, guarded by @lock, with the eventfd @fd (-1: none);
 * returns the old one for the caller to put.
 */
static struct eventfd_ctx *vhost_vdpa_swap_eventfd(spinlock_t *lock,
						   struct eventfd_ctx **slot,
						   int fd)
{
	struct eventfd_ctx *ctx = NULL, *old;

	if (fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return ctx;
	}
	spin_lock_irq(lock);
	old = *slot;
	*slot = ctx;
	spin_unlock_irq(lock);
	return old;
}

/* Wake whoever waits on our eventfds, e.g. to notice the device is gone. */
static void vhost_vdpa_wake_eventfds(struct vhost_vdpa *v)
{
	struct vhost_vdpa_vq *q;
	u32 i;

	spin_lock_irq(&v->cb_lock);
	if (v->config_call)
		eventfd_signal(v->config_call, 1);
	spin_unlock_irq(&v->cb_lock);
	for (i = 0; i < v->nvqs; i++) {
		q = &v->vqs[i];
		spin_lock_irq(&q->cb_lock);
		if (q->call)
			eventfd_signal(q->call, 1);
		spin_unlock_irq(&q->cb_lock);
	}
}

#if IS_ENABLED(CONFIG_IRQ_BYPASS_MANAGER)
/*
 * A hardware parent's virtqueue interrupt (get_vq_irq) is offered to a
 * consumer of the same call eventfd, KVM's irqfd, which may then deliver
 * it to a guest directly.  It exists only while DRIVER_OK: register after
 * DRIVER_OK or a new call eventfd, unregister before a reset or before the
 * call eventfd is put.
 */
static void vhost_vdpa_bypass_del(struct vhost_vdpa_vq *q)
{
	if (!q->bypass.token)
		return;
	irq_bypass_unregister_producer(&q->bypass);
	q->bypass.token = NULL;
}

static void vhost_vdpa_bypass_add(struct vhost_vdpa *v, struct vhost_vdpa_vq *q)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	int irq, ret;

	vhost_vdpa_bypass_del(q);
	if (!ops->get_vq_irq || !q->call)
		return;
	irq = ops->get_vq_irq(v->vdpa, q->index);
	if (irq < 0)
		return;
	q->bypass.token = q->call;
	q->bypass.irq = irq;
	ret = irq_bypass_register_producer(&q->bypass);
	if (ret) {
		q->bypass.token = NULL;
		vv_bad(v, "vq %u: irq %d not offered for bypass: %d\n",
		       q->index, irq, ret);
	}
}
#else
static void vhost_vdpa_bypass_del(struct vhost_vdpa_vq *q)
{
}

static void vhost_vdpa_bypass_add(struct vhost_vdpa *v, struct vhost_vdpa_vq *q)
{
}
#endif

static void vhost_vdpa_bypass_del_all(struct vhost_vdpa *v)
{
	u32 i;

	for (i = 0; i < v->nvqs; i++)
		vhost_vdpa_bypass_del(&v->vqs[i]);
}

/*
 * Kick eventfds.  Each virtqueue with a kick eventfd has its wait-queue
 * entry on the eventfd's wait queue; a write to the eventfd wakes the
 * queue and our callback kicks the parent right there, in atomic context.
 * remove() and release() take every entry off before the device goes.
 */
static int vhost_vdpa_kick_wake(wait_queue_entry_t *wait, unsigned int mode,
				int sync, void *key)
{
	struct vhost_vdpa_vq *q = container_of(wait, struct vhost_vdpa_vq,
					       kick_wait);
	struct vdpa_device *vdpa = q->v->vdpa;

	if (key_to_poll(key) & EPOLLIN)
		vdpa->config->kick_vq(vdpa, q->index);
	return 0;
}

/* A poll table that knows its virtqueue, for vfs_poll() of a kick file. */
struct vhost_vdpa_kick_table {
	poll_table pt;
	struct vhost_vdpa_vq *q;
};

static void vhost_vdpa_kick_queue(struct file *file, wait_queue_head_t *wqh,
				  poll_table *pt)
{
	struct vhost_vdpa_vq *q;

	q = container_of(pt, struct vhost_vdpa_kick_table, pt)->q;
	q->kick_wqh = wqh;
	add_wait_queue(wqh, &q->kick_wait);
}

static void vhost_vdpa_kick_stop(struct vhost_vdpa_vq *q)
{
	if (!q->kick_wqh)
		return;
	remove_wait_queue(q->kick_wqh, &q->kick_wait);
	q->kick_wqh = NULL;
}

/* Start polling @q->kick; a kick already pending is delivered now. */
static int vhost_vdpa_kick_start(struct vhost_vdpa *v, struct vhost_vdpa_vq *q)
{
	struct vhost_vdpa_kick_table table = { .q = q };
	__poll_t mask;

	init_waitqueue_func_entry(&q->kick_wait, vhost_vdpa_kick_wake);
	init_poll_funcptr(&table.pt, vhost_vdpa_kick_queue);
	mask = vfs_poll(q->kick, &table.pt);
	if (mask & EPOLLERR) {
		vhost_vdpa_kick_stop(q);
		return -EINVAL;
	}
	if (mask & EPOLLIN)
		v->vdpa->config->kick_vq(v->vdpa, q->index);
	return 0;
}

static void vhost_vdpa_kick_stop_all(struct vhost_vdpa *v)
{
	u32 i;

	for (i = 0; i < v->nvqs; i++)
		vhost_vdpa_kick_stop(&v->vqs[i]);
}

/* ------------------------------------------------------------------ */
/* Address spaces: pinning and accounting, parent maps, batching      */

/*
 * Ranges per address space.  The target kernel's vhost_iotlb refuses a
 * limit of 0, so ask for as many as it can count: what really bounds them
 * is RLIMIT_MEMLOCK, as every range pins at least one page.
 */
#define VHOST_VDPA_IOTLB_LIMIT	U32_MAX

/* Pages pinned per pin_user_pages() call: one page of page pointers. */
#define VHOST_VDPA_PIN_BATCH	(PAGE_SIZE / sizeof(struct page *))

/*
 * Physically contiguous pinned bytes collected into one IOTLB range, at
 * @iova, pinned from user address @uaddr.
 */
struct vhost_vdpa_run {
	u64 iova;
	u64 uaddr;
	u64 pa;
	u64 size;
};

static unsigned long vhost_vdpa_npages(u64 addr, u64 size)
{
	return PFN_DOWN(addr + size - 1) - PFN_DOWN(addr) + 1;
}

/* Charge @npages to the owner's RLIMIT_MEMLOCK through mm->pinned_vm. */
static int vhost_vdpa_charge(struct vhost_vdpa *v, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK);
	struct mm_struct *mm = v->mm;
	s64 pinned;

	pinned = atomic64_add_return(npages, &mm->pinned_vm);
	if ((u64)pinned <= PFN_DOWN(limit))
		return 0;
	atomic64_sub(npages, &mm->pinned_vm);
	dev_warn_ratelimited(&v->dev,
			     "%s[%d]: pinning %lu more pages would exceed RLIMIT_MEMLOCK (%lu kB, %lld pages pinned already); raise it, e.g. ulimit -l\n",
			     current->comm, task_pid_nr(current), npages,
			     limit >> 10, pinned - (s64)npages);
	return -ENOMEM;
}

static void vhost_vdpa_uncharge(struct vhost_vdpa *v, unsigned long npages)
{
	atomic64_sub(npages, &v->mm->pinned_vm);
}

static void vhost_vdpa_unpin(u64 pa, u64 size, u32 perm)
{
	unpin_user_page_range_dirty_lock(pfn_to_page(PFN_DOWN(pa)),
					 vhost_vdpa_npages(pa, size),
					 perm & VHOST_MAP_WO);
}

/* Release what backs a range that neither we nor the parent use now. */
static void vhost_vdpa_release_map(struct vhost_vdpa *v,
				   struct vhost_vdpa_map *m)
{
	if (v->use_va) {
		if (m->mf.file)
			fput(m->mf.file);
	} else {
		vhost_vdpa_unpin(m->addr, m->size, m->perm);
		vhost_vdpa_uncharge(v, vhost_vdpa_npages(m->addr, m->size));
	}
	kfree(m);
}

/* Release the retired ranges of @asid (U32_MAX: of every space). */
static void vhost_vdpa_flush_retired(struct vhost_vdpa *v, u32 asid)
{
	struct vhost_vdpa_map *m, *tmp;

	list_for_each_entry_safe(m, tmp, &v->retired, node) {
		if (asid != U32_MAX && m->asid != asid)
			continue;
		list_del(&m->node);
		vhost_vdpa_release_map(v, m);
	}
}

static int vhost_vdpa_set_map(struct vhost_vdpa *v, u32 asid)
{
	struct vdpa_device *vdpa = v->vdpa;
	int ret;

	ret = vdpa->config->set_map(vdpa, asid, &v->as[asid].iotlb);
	if (ret) {
		vv_bad(v, "parent set_map of address space %u failed: %d\n",
		       asid, ret);
		return ret;
	}
	v->as[asid].dirty = false;
	vhost_vdpa_flush_retired(v, asid);
	return 0;
}

/*
 * Address space @asid changed.  A set_map parent learns it now, or at
 * BATCH_END inside a batch; others were told range by range already.  What
 * the parent cannot reach any more is released.
 */
static int vhost_vdpa_commit(struct vhost_vdpa *v, u32 asid)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;

	if (ops->dma_map || !ops->set_map) {
		vhost_vdpa_flush_retired(v, asid);
		return 0;
	}
	v->as[asid].dirty = true;
	if (v->in_batch)
		return 0;
	return vhost_vdpa_set_map(v, asid);
}

/* Map one range in a dma_map parent or in the IOMMU domain. */
static int vhost_vdpa_parent_map(struct vhost_vdpa *v, u32 asid, u64 iova,
				 struct vhost_vdpa_map *m)
{
	struct vdpa_device *vdpa = v->vdpa;
	const struct vdpa_config_ops *ops = vdpa->config;
	int prot = IOMMU_CACHE;

	if (ops->dma_map)
		return ops->dma_map(vdpa, asid, iova, m->size, m->addr,
				    m->perm, &m->mf);
	if (ops->set_map)
		return 0;
	if (m->perm & VHOST_MAP_RO)
		prot |= IOMMU_READ;
	if (m->perm & VHOST_MAP_WO)
		prot |= IOMMU_WRITE;
	return iommu_map(v->domain, iova, m->addr, m->size, prot);
}

static void vhost_vdpa_parent_unmap(struct vhost_vdpa *v, u32 asid,
				    u64 iova, u64 size)
{
	struct vdpa_device *vdpa = v->vdpa;
	const struct vdpa_config_ops *ops = vdpa->config;

	if (ops->dma_map)
		ops->dma_unmap(vdpa, asid, iova, size);
	else if (!ops->set_map)
		iommu_unmap(v->domain, iova, size);
}

/*
 * Add [@iova, @iova + @size) -> @addr to the address space and the parent.
 * On success the range owns what backs it (pins, file reference); on
 * failure the caller keeps it.
 */
static int vhost_vdpa_add_map(struct vhost_vdpa *v, u32 asid, u64 iova,
			      u64 size, u64 addr, u32 perm,
			      const struct vdpa_map_file *mf)
{
	struct vhost_iotlb *iotlb = &v->as[asid].iotlb;
	struct vhost_vdpa_map *m;
	int ret;

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	if (mf)
		m->mf = *mf;
	m->addr = addr;
	m->size = size;
	m->perm = perm;
	m->asid = asid;
	ret = vhost_iotlb_add_range_ctx(iotlb, iova, iova + size - 1, addr,
					perm, m);
	if (ret)
		goto free;
	ret = vhost_vdpa_parent_map(v, asid, iova, m);
	if (ret) {
		vv_bad(v, "parent could not map %#llx+%#llx: %d\n", iova,
		       size, ret);
		vhost_iotlb_del_range(iotlb, iova, iova + size - 1);
		goto free;
	}
	return 0;
free:
	kfree(m);
	return ret;
}

/*
 * Take every range overlapping [@start, @last] out of the address space
 * and the parent, and put what backs them on @list: the caller releases
 * them, after a set_map parent has been told.
 */
static void vhost_vdpa_unmap(struct vhost_vdpa *v, u32 asid, u64 start,
			     u64 last, struct list_head *list)
{
	struct vhost_iotlb *iotlb = &v->as[asid].iotlb;
	struct vhost_iotlb_map *map;
	struct vhost_vdpa_map *m;

	while ((map = vhost_iotlb_itree_first(iotlb, start, last))) {
		m = map->opaque;
		vhost_vdpa_parent_unmap(v, asid, map->start, map->size);
		list_add_tail(&m->node, list);
		vhost_iotlb_map_free(iotlb, map);
	}
}

/* Undo the ranges a failed update added; the parent never used them. */
static void vhost_vdpa_unwind(struct vhost_vdpa *v, u32 asid, u64 start,
			      u64 last)
{
	struct vhost_vdpa_map *m, *tmp;
	LIST_HEAD(list);

	vhost_vdpa_unmap(v, asid, start, last, &list);
	list_for_each_entry_safe(m, tmp, &list, node)
		vhost_vdpa_release_map(v, m);
}

/*
 * Map a finished run of pinned pages.  The run is consumed either way: on
 * failure its pages are unpinned.  @mapped counts the pages now mapped.
 */
static int vhost_vdpa_add_run(struct vhost_vdpa *v, u32 asid,
			      struct vhost_vdpa_run *run, u32 perm,
			      unsigned long *mapped)
{
	/* no file: the offset is the user address (struct vhost_vdpa_map) */
	struct vdpa_map_file mf = { .file = NULL, .offset = run->uaddr };
	int ret;

	ret = vhost_vdpa_add_map(v, asid, run->iova, run->size, run->pa, perm,
				 &mf);
	if (ret) {
		vhost_vdpa_unpin(run->pa, run->size, perm);
	} else {
		*mapped += vhost_vdpa_npages(run->pa, run->size);
		run->iova += run->size;
		run->uaddr += run->size;
	}
	run->size = 0;
	return ret;
}

/* Fold pinned pages into runs of physically contiguous memory. */
static int vhost_vdpa_add_pages(struct vhost_vdpa *v, u32 asid,
				struct vhost_vdpa_run *run, u32 perm,
				struct page **pages, long n, bool first,
				unsigned long off, u64 *left,
				unsigned long *mapped)
{
	long i;
	int ret;

	for (i = 0; i < n; i++) {
		u64 pa = page_to_phys(pages[i]);
		u64 len = PAGE_SIZE;

		if (first && !i) {
			pa += off;
			len -= off;
		}
		len = min(len, *left);
		*left -= len;
		if (run->size && pa == run->pa + run->size) {
			run->size += len;
			continue;
		}
		if (run->size) {
			ret = vhost_vdpa_add_run(v, asid, run, perm, mapped);
			if (ret) {
				unpin_user_pages(pages + i, n - i);
				return ret;
			}
		}
		run->pa = pa;
		run->size = len;
	}
	return 0;
}

/* Rounds of "fault it in, the pin still needs a fault" before -EFAULT. */
#define VHOST_VDPA_FAULT_TRIES	8

/*
 * Pin up to @n pages at @addr of the current mm; the mmap lock is held for
 * reading.  The pin itself never sleeps on a fault (FOLL_NOWAIT): a page
 * that needs one, e.g. of a userfaultfd range or a FUSE file, is faulted in
 * by fixup_user_fault(), whose wait a fatal signal ends (it may drop and
 * retake the mmap lock meanwhile), and the pin is tried again.  So a
 * holder of &vhost_vdpa.lock stuck on such memory can always be killed.
 */
static long vhost_vdpa_pin(unsigned long addr, unsigned long n,
			   unsigned int gup, struct page **pages)
{
	unsigned int fault = gup & FOLL_WRITE ? FAULT_FLAG_WRITE : 0;
	int tries = VHOST_VDPA_FAULT_TRIES;
	bool unlocked;
	long ret;

	for (;;) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = pin_user_pages(addr, n, gup | FOLL_NOWAIT, pages, NULL);
		if (ret)
			return ret;
		/* 0: the first page needs a fault that may sleep */
		if (!tries--)
			return -EFAULT;
		unlocked = false;
		ret = fixup_user_fault(current->mm, addr, fault, &unlocked);
		if (ret)
			return ret;
	}
}

/*
 * IOTLB update for a parent that wants physical addresses: pin, map.  The
 * mmap lock is taken per batch of pages, and a fatal signal stops the loop
 * between batches and inside a fault wait (see vhost_vdpa_pin()).
 */
static int vhost_vdpa_map_pa(struct vhost_vdpa *v, u32 asid,
			     const struct vhost_iotlb_msg *msg)
{
	unsigned long off = msg->uaddr & ~PAGE_MASK;
	unsigned long base = msg->uaddr & PAGE_MASK;
	unsigned long npages = PFN_UP(off + msg->size);
	struct vhost_vdpa_run run = { .iova = msg->iova, .uaddr = msg->uaddr };
	unsigned long done = 0, mapped = 0;
	unsigned int gup = FOLL_LONGTERM;
	u64 left = msg->size;
	struct page **pages;
	long n;
	int ret;

	if (msg->perm & VHOST_ACCESS_WO)
		gup |= FOLL_WRITE;
	ret = vhost_vdpa_charge(v, npages);
	if (ret)
		return ret;
	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages) {
		vhost_vdpa_uncharge(v, npages);
		return -ENOMEM;
	}

	while (!ret && done < npages) {
		mmap_read_lock(current->mm);
		n = vhost_vdpa_pin(base + (done << PAGE_SHIFT),
				   min(npages - done, VHOST_VDPA_PIN_BATCH),
				   gup, pages);
		mmap_read_unlock(current->mm);
		if (n < 0) {
			ret = n;
			if (n == -EINTR)
				vv_bad(v, "%s[%d]: IOTLB update interrupted by a fatal signal\n",
				       current->comm, task_pid_nr(current));
			break;
		}
		ret = vhost_vdpa_add_pages(v, asid, &run, msg->perm, pages, n,
					   !done, off, &left, &mapped);
		done += n;
	}
	if (!ret && run.size)
		ret = vhost_vdpa_add_run(v, asid, &run, msg->perm, &mapped);
	else if (run.size)
		vhost_vdpa_unpin(run.pa, run.size, msg->perm);
	free_page((unsigned long)pages);

	if (ret) {
		if (run.iova > msg->iova)
			vhost_vdpa_unwind(v, asid, msg->iova, run.iova - 1);
		/* the unwound ranges uncharged their own pages */
		vhost_vdpa_uncharge(v, npages - mapped);
	}
	return ret;
}

/* IOTLB update for a parent that takes user addresses (use_va). */
static int vhost_vdpa_map_va(struct vhost_vdpa *v, u32 asid,
			     const struct vhost_iotlb_msg *msg)
{
	struct mm_struct *mm = current->mm;
	u64 uaddr = msg->uaddr, end = msg->uaddr + msg->size;
	u64 iova = msg->iova, len;
	struct vm_area_struct *vma;
	struct vdpa_map_file mf;
	int ret = 0;

	mmap_read_lock(mm);
	while (uaddr < end) {
		vma = find_vma(mm, uaddr);
		if (!vma || vma->vm_start > uaddr) {
			ret = -EFAULT;
			break;
		}
		if (vma->vm_flags & (VM_IO | VM_PFNMAP)) {
			ret = -EINVAL;
			break;
		}
		len = min_t(u64, vma->vm_end, end) - uaddr;
		mf.file = vma->vm_file ? get_file(vma->vm_file) : NULL;
		mf.offset = (vma->vm_pgoff << PAGE_SHIFT) + uaddr - vma->vm_start;
		ret = vhost_vdpa_add_map(v, asid, iova, len, uaddr, msg->perm,
					 &mf);
		if (ret) {
			if (mf.file)
				fput(mf.file);
			break;
		}
		uaddr += len;
		iova += len;
	}
	mmap_read_unlock(mm);
	if (ret && iova > msg->iova)
		vhost_vdpa_unwind(v, asid, msg->iova, iova - 1);
	return ret;
}

static int vhost_vdpa_iotlb_update(struct vhost_vdpa *v, u32 asid,
				   const struct vhost_iotlb_msg *msg)
{
	void __user *uaddr = u64_to_user_ptr(msg->uaddr);
	u64 last, ulast;
	int ret;

	if (!msg->size || check_add_overflow(msg->iova, msg->size - 1, &last) ||
	    check_add_overflow(msg->uaddr, msg->size - 1, &ulast)) {
		vv_bad(v, "IOTLB update: empty or wrapping range\n");
		return -EINVAL;
	}
	if (!msg->perm || msg->perm & ~VHOST_ACCESS_RW) {
		vv_bad(v, "IOTLB update: bad permission %u\n", msg->perm);
		return -EINVAL;
	}
	if (msg->iova < v->range.first || last > v->range.last) {
		vv_bad(v, "IOTLB update: [%#llx, %#llx] outside the IOVA range [%#llx, %#llx]\n",
		       msg->iova, last, v->range.first, v->range.last);
		return -EINVAL;
	}
	if (!access_ok(uaddr, msg->size))
		return -EFAULT;
	if (v->domain && (msg->iova | msg->uaddr | msg->size) & ~PAGE_MASK) {
		vv_bad(v, "IOTLB update: IOMMU mappings must be page aligned\n");
		return -EINVAL;
	}
	if (vhost_iotlb_itree_first(&v->as[asid].iotlb, msg->iova, last))
		return -EEXIST;

	if (v->use_va)
		ret = vhost_vdpa_map_va(v, asid, msg);
	else
		ret = vhost_vdpa_map_pa(v, asid, msg);
	if (ret)
		return ret;
	ret = vhost_vdpa_commit(v, asid);
	if (ret)
		/* The parent may hold some of it: keep it pinned till later. */
		vhost_vdpa_unmap(v, asid, msg->iova, last, &v->retired);
	return ret;
}

static int vhost_vdpa_iotlb_invalidate(struct vhost_vdpa *v, u32 asid,
				       const struct vhost_iotlb_msg *msg)
{
	u64 last;

	if (!msg->size) {
		vv_bad(v, "IOTLB invalidate: empty range\n");
		return -EINVAL;
	}
	if (check_add_overflow(msg->iova, msg->size - 1, &last))
		last = U64_MAX;
	vhost_vdpa_unmap(v, asid, msg->iova, last, &v->retired);
	return vhost_vdpa_commit(v, asid);
}

static int vhost_vdpa_batch_end(struct vhost_vdpa *v)
{
	int ret = 0, err;
	u32 asid;

	v->in_batch = false;
	for (asid = 0; asid < v->nas; asid++) {
		if (!v->as[asid].dirty)
			continue;
		err = vhost_vdpa_set_map(v, asid);
		if (err)
			ret = err;
	}
	return ret;
}

static int vhost_vdpa_iotlb_msg(struct vhost_vdpa *v, u32 asid,
				const struct vhost_iotlb_msg *msg)
{
	if (!v->vdpa)
		return -ENODEV;
	if (!v->mm || v->mm != current->mm) {
		vv_bad(v, "IOTLB message from %s[%d], not the owner\n",
		       current->comm, task_pid_nr(current));
		return -EPERM;
	}

	switch (msg->type) {
	case VHOST_IOTLB_UPDATE:
	case VHOST_IOTLB_INVALIDATE:
		if (asid >= v->nas) {
			vv_bad(v, "IOTLB message for address space %u of %u\n",
			       asid, v->nas);
			return -EINVAL;
		}
		asid = array_index_nospec(asid, v->nas);
		if (msg->type == VHOST_IOTLB_UPDATE)
			return vhost_vdpa_iotlb_update(v, asid, msg);
		return vhost_vdpa_iotlb_invalidate(v, asid, msg);
	case VHOST_IOTLB_BATCH_BEGIN:
		v->in_batch = true;
		return 0;
	case VHOST_IOTLB_BATCH_END:
		return vhost_vdpa_batch_end(v);
	default:
		vv_bad(v, "unknown IOTLB message type %u\n", msg->type);
		return -EINVAL;
	}
}

/*
 * write(): one struct vhost_msg or vhost_msg_v2 carrying an IOTLB message.
 * Unlike vhost_chr_write_iter(), failures return their real errno.
 */
static ssize_t vhost_vdpa_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vhost_vdpa *v = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from), total;
	struct vhost_iotlb_msg msg;
	u32 type, asid = 0;
	ssize_t ret;

	/* Both layouts put the IOTLB message at the same offset. */
	BUILD_BUG_ON(offsetof(struct vhost_msg, iotlb) !=
		     offsetof(struct vhost_msg_v2, iotlb));
	if (len < offsetof(struct vhost_msg_v2, iotlb) + sizeof(msg))
		return -EINVAL;
	if (!copy_from_iter_full(&type, sizeof(type), from) ||
	    !copy_from_iter_full(&asid, sizeof(asid), from) ||
	    !copy_from_iter_full(&msg, sizeof(msg), from))
		return -EFAULT;
	switch (type) {
	case VHOST_IOTLB_MSG:
		total = sizeof(struct vhost_msg);
		asid = 0;
		break;
	case VHOST_IOTLB_MSG_V2:
		total = sizeof(struct vhost_msg_v2);
		break;
	default:
		return -EINVAL;
	}

	/* another thread of the owner may be stuck in a fault: killable */
	if (mutex_lock_killable(&v->lock))
		return -EINTR;
	if (!(v->backend_features & BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID)))
		asid = 0;
	ret = vhost_vdpa_iotlb_msg(v, asid, &msg);
	mutex_unlock(&v->lock);
	return ret ? ret : min(len, total);
}

/* ------------------------------------------------------------------ */
/* Device state: reset, status, features, config space                */

/* Map every range of address space @asid in a dma_map parent again. */
static int vhost_vdpa_replay(struct vhost_vdpa *v, u32 asid)
{
	struct vhost_iotlb *iotlb = &v->as[asid].iotlb;
	struct vhost_iotlb_map *map;
	int ret = 0, err;

	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX)) {
		err = vhost_vdpa_parent_map(v, asid, map->start, map->opaque);
		if (err) {
			vv_bad(v, "replay of %#llx+%#llx in AS %u to the parent failed: %d\n",
			       map->start, map->size, asid, err);
			ret = ret ?: err;
		}
	}
	return ret;
}

/*
 * The parent forgot callbacks and every mapping at reset (contract A):
 * give them back, through set_map (also for parents that have dma_map as
 * well, whose state it replaces as a whole) or else range by range
 * through dma_map.  A
 * platform IOMMU domain is ours, not the parent's: a reset leaves it be.
 */
static int vhost_vdpa_restore(struct vhost_vdpa *v)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	int ret = 0, err;
	u32 i;

	for (i = 0; i < v->nvqs; i++)
		if (v->vqs[i].call)
			vhost_vdpa_apply_vq_cb(v, i);
	if (v->config_call)
		vhost_vdpa_apply_config_cb(v);
	/* Nothing the parent had before the reset is reachable now. */
	vhost_vdpa_flush_retired(v, U32_MAX);
	if (!ops->set_map && !ops->dma_map)
		return 0;
	for (i = 0; i < v->nas; i++) {
		/* set_map, when there is one, also replaces anything else */
		if (ops->set_map)
			err = vhost_vdpa_set_map(v, i);
		else
			err = vhost_vdpa_replay(v, i);
		if (err)
			ret = ret ?: err;
	}
	return ret;
}

static int vhost_vdpa_reset(struct vhost_vdpa *v)
{
	int ret;

	v->suspended = false;
	vhost_vdpa_bypass_del_all(v);
	ret = vdpa_reset(v->vdpa);
	if (ret) {
		vv_bad(v, "parent reset failed: %d\n", ret);
		return ret;
	}
	return vhost_vdpa_restore(v);
}

static bool vhost_vdpa_running(const struct vhost_vdpa *v)
{
	u8 status = v->vdpa->config->get_status(v->vdpa);

	return (status & VIRTIO_CONFIG_S_DRIVER_OK) && !v->suspended;
}

static long vhost_vdpa_set_status(struct vhost_vdpa *v, u8 __user *statusp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	u8 status, old, added;
	u32 i;

	if (get_user(status, statusp))
		return -EFAULT;
	if (!status)
		return vhost_vdpa_reset(v);

	old = ops->get_status(v->vdpa) & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	added = status & ~old;
	if (status & ~VHOST_VDPA_STATUS_DRIVER_BITS) {
		vv_bad(v, "status %#x has bits a driver may not set\n", status);
		return -EINVAL;
	}
	if (old & ~status) {
		vv_bad(v, "status %#x would clear bits of %#x; write 0 to reset\n",
		       status, old);
		return -EINVAL;
	}
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    (~status & (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER))) {
		vv_bad(v, "FEATURES_OK before ACKNOWLEDGE and DRIVER\n");
		return -EINVAL;
	}
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		vv_bad(v, "DRIVER_OK before the device accepted FEATURES_OK\n");
		return -EINVAL;
	}
	vdpa_set_status(v->vdpa, status);
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    (ops->get_status(v->vdpa) & VIRTIO_CONFIG_S_DRIVER_OK))
		for (i = 0; i < v->nvqs; i++)
			vhost_vdpa_bypass_add(v, &v->vqs[i]);
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(ops->get_status(v->vdpa) & VIRTIO_CONFIG_S_FEATURES_OK))
		vv_bad(v, "device refused FEATURES_OK for features %#llx\n",
		       ops->get_driver_features(v->vdpa));
	return 0;
}

static long vhost_vdpa_set_features(struct vhost_vdpa *v, u64 __user *featurep)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	u64 features, offered;

	if (copy_from_user(&features, featurep, sizeof(features)))
		return -EFAULT;
	if (ops->get_status(v->vdpa) & VIRTIO_CONFIG_S_FEATURES_OK) {
		vv_bad(v, "features are fixed once FEATURES_OK is set\n");
		return -EBUSY;
	}
	offered = ops->get_device_features(v->vdpa);
	if (features & ~offered) {
		vv_bad(v, "features %#llx not offered (%#llx)\n",
		       features & ~offered, offered);
		return -EINVAL;
	}
	return vdpa_set_features(v->vdpa, features);
}

static u64 vhost_vdpa_backend_features(const struct vhost_vdpa *v)
{
	u64 features = VHOST_VDPA_BACKEND_FEATURES;

	if (v->vdpa->config->suspend)
		features |= BIT_ULL(VHOST_BACKEND_F_SUSPEND);
	return features;
}

static long vhost_vdpa_set_backend_features(struct vhost_vdpa *v,
					    u64 __user *featurep)
{
	u64 features, offered = vhost_vdpa_backend_features(v);

	if (copy_from_user(&features, featurep, sizeof(features)))
		return -EFAULT;
	if (features & ~offered) {
		vv_bad(v, "backend features %#llx not supported (%#llx)\n",
		       features & ~offered, offered);
		return -EOPNOTSUPP;
	}
	v->backend_features = features;
	return 0;
}

static long vhost_vdpa_config(struct vhost_vdpa *v,
			      struct vhost_vdpa_config __user *c, bool write)
{
	size_t size = v->vdpa->config->get_config_size(v->vdpa);
	struct vhost_vdpa_config hdr;
	long ret = 0;
	void *buf;

	if (copy_from_user(&hdr, c, sizeof(hdr)))
		return -EFAULT;
	if (!hdr.len || hdr.off > size || hdr.len > size - hdr.off) {
		vv_bad(v, "config access %u+%u outside the %zu byte config space\n",
		       hdr.off, hdr.len, size);
		return -EINVAL;
	}
	if (write) {
		buf = vmemdup_user(c->buf, hdr.len);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
		vdpa_set_config(v->vdpa, hdr.off, buf, hdr.len);
	} else {
		buf = kvzalloc(hdr.len, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		vdpa_get_config(v->vdpa, hdr.off, buf, hdr.len);
		if (copy_to_user(c->buf, buf, hdr.len))
			ret = -EFAULT;
	}
	kvfree(buf);
	return ret;
}

static long vhost_vdpa_set_config_call(struct vhost_vdpa *v, int __user *fdp)
{
	struct eventfd_ctx *old;
	int fd;

	if (get_user(fd, fdp))
		return -EFAULT;
	old = vhost_vdpa_swap_eventfd(&v->cb_lock, &v->config_call, fd);
	if (IS_ERR(old))
		return PTR_ERR(old);
	vhost_vdpa_apply_config_cb(v);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static long vhost_vdpa_get_iova_range(struct vhost_vdpa *v, void __user *argp)
{
	struct vhost_vdpa_iova_range range = {
		.first = v->range.first,
		.last = v->range.last,
	};

	return copy_to_user(argp, &range, sizeof(range)) ? -EFAULT : 0;
}

static long vhost_vdpa_set_group_asid(struct vhost_vdpa *v, void __user *argp)
{
	struct vdpa_device *vdpa = v->vdpa;
	struct vhost_vring_state s;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (s.index >= vdpa->ngroups || s.num >= v->nas) {
		vv_bad(v, "group %u / address space %u out of range (%u / %u)\n",
		       s.index, s.num, vdpa->ngroups, v->nas);
		return -EINVAL;
	}
	if (!vdpa->config->set_group_asid)
		return -EOPNOTSUPP;
	if (vdpa->config->get_status(vdpa) & VIRTIO_CONFIG_S_DRIVER_OK) {
		vv_bad(v, "address spaces are fixed while DRIVER_OK\n");
		return -EBUSY;
	}
	return vdpa->config->set_group_asid(vdpa,
			array_index_nospec(s.index, vdpa->ngroups),
			array_index_nospec(s.num, v->nas));
}

static long vhost_vdpa_suspend(struct vhost_vdpa *v)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	int ret;

	if (!ops->suspend)
		return -EOPNOTSUPP;
	ret = ops->suspend(v->vdpa);
	if (!ret)
		v->suspended = true;
	return ret;
}

/* The calling task's mm becomes the owner; there is only ever one. */
static long vhost_vdpa_set_owner(struct vhost_vdpa *v)
{
	if (v->mm) {
		vv_bad(v, "%s[%d]: device already has an owner\n",
		       current->comm, task_pid_nr(current));
		return -EBUSY;
	}
	mmgrab(current->mm);
	v->mm = current->mm;
	return 0;
}

static long vhost_vdpa_dev_ioctl(struct vhost_vdpa *v, unsigned int cmd,
				 void __user *argp)
{
	struct vdpa_device *vdpa = v->vdpa;
	const struct vdpa_config_ops *ops = vdpa->config;

	switch (cmd) {
	case VHOST_SET_OWNER:
		return vhost_vdpa_set_owner(v);
	case VHOST_GET_FEATURES:
		return put_user(ops->get_device_features(vdpa),
				(u64 __user *)argp);
	case VHOST_SET_FEATURES:
		return vhost_vdpa_set_features(v, argp);
	case VHOST_GET_BACKEND_FEATURES:
		return put_user(vhost_vdpa_backend_features(v),
				(u64 __user *)argp);
	case VHOST_SET_BACKEND_FEATURES:
		return vhost_vdpa_set_backend_features(v, argp);
	case VHOST_VDPA_GET_DEVICE_ID:
		return put_user(ops->get_device_id(vdpa), (u32 __user *)argp);
	case VHOST_VDPA_GET_STATUS:
		return put_user(ops->get_status(vdpa), (u8 __user *)argp);
	case VHOST_VDPA_SET_STATUS:
		return vhost_vdpa_set_status(v, argp);
	case VHOST_VDPA_GET_CONFIG:
		return vhost_vdpa_config(v, argp, false);
	case VHOST_VDPA_SET_CONFIG:
		return vhost_vdpa_config(v, argp, true);
	case VHOST_VDPA_GET_VRING_NUM:
		return put_user(ops->get_vq_num_max(vdpa), (u16 __user *)argp);
	case VHOST_VDPA_SET_CONFIG_CALL:
		return vhost_vdpa_set_config_call(v, argp);
	case VHOST_VDPA_GET_IOVA_RANGE:
		return vhost_vdpa_get_iova_range(v, argp);
	case VHOST_VDPA_GET_CONFIG_SIZE:
		return put_user((u32)ops->get_config_size(vdpa),
				(u32 __user *)argp);
	case VHOST_VDPA_GET_VQS_COUNT:
		return put_user(v->nvqs, (u32 __user *)argp);
	case VHOST_VDPA_GET_GROUP_NUM:
		return put_user(vdpa->ngroups, (u32 __user *)argp);
	case VHOST_VDPA_GET_AS_NUM:
		return put_user(v->nas, (unsigned int __user *)argp);
	case VHOST_VDPA_SET_GROUP_ASID:
		return vhost_vdpa_set_group_asid(v, argp);
	case VHOST_VDPA_SUSPEND:
		return vhost_vdpa_suspend(v);
	case VHOST_SET_MEM_TABLE:
	case VHOST_SET_LOG_BASE:
	case VHOST_SET_LOG_FD:
		/* memory is described by IOTLB messages; no dirty logging */
		return -EOPNOTSUPP;
	default:
		return -ENOIOCTLCMD;
	}
}

/* ------------------------------------------------------------------ */
/* Virtqueues                                                         */

static bool vhost_vdpa_packed(const struct vhost_vdpa *v)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;

	return ops->get_driver_features(v->vdpa) &
	       BIT_ULL(VIRTIO_F_RING_PACKED);
}

static long vhost_vdpa_set_vring_num(struct vhost_vdpa *v, u16 idx,
				     void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vhost_vring_state s;
	u32 min = 1, max;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (!s.num || s.num > VHOST_VDPA_MAX_VQ_SIZE || !is_power_of_2(s.num)) {
		vv_bad(v, "vq %u: size %u is not a power of two in [1, %u]\n",
		       idx, s.num, VHOST_VDPA_MAX_VQ_SIZE);
		return -EINVAL;
	}
	max = ops->get_vq_num_max(v->vdpa);
	if (ops->get_vq_num_min)
		min = ops->get_vq_num_min(v->vdpa);
	if (s.num < min || s.num > max) {
		vv_bad(v, "vq %u: size %u outside [%u, %u]\n", idx, s.num,
		       min, max);
		return -EINVAL;
	}
	ops->set_vq_num(v->vdpa, idx, s.num);
	return 0;
}

/*
 * Split ring: descriptor table 16, available ring 2, used ring 4 bytes
 * aligned; packed ring: descriptor ring 16, both event suppression areas 4.
 * VHOST_VRING_F_LOG is accepted and ignored: there is no dirty logging.
 */
static long vhost_vdpa_set_vring_addr(struct vhost_vdpa *v, u16 idx,
				      void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	u64 avail_align = VRING_AVAIL_ALIGN_SIZE;
	struct vhost_vring_addr a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~BIT(VHOST_VRING_F_LOG)) {
		vv_bad(v, "vq %u: unknown ring address flags %#x\n", idx,
		       a.flags);
		return -EOPNOTSUPP;
	}
	if (vhost_vdpa_packed(v))
		avail_align = VHOST_VDPA_PACKED_EVENT_ALIGN;
	if ((a.desc_user_addr & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (a.avail_user_addr & (avail_align - 1)) ||
	    (a.used_user_addr & (VRING_USED_ALIGN_SIZE - 1))) {
		vv_bad(v, "vq %u: ring areas %#llx/%#llx/%#llx not aligned to %u/%llu/%u\n",
		       idx, a.desc_user_addr, a.avail_user_addr,
		       a.used_user_addr, VRING_DESC_ALIGN_SIZE, avail_align,
		       VRING_USED_ALIGN_SIZE);
		return -EINVAL;
	}
	return ops->set_vq_address(v->vdpa, idx, a.desc_user_addr,
				   a.avail_user_addr, a.used_user_addr);
}

static long vhost_vdpa_set_vring_base(struct vhost_vdpa *v, u16 idx,
				      void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vdpa_vq_state state = {};
	struct vhost_vring_state s;

	if (copy_from_user(&s, argp, sizeof(s)))
		return -EFAULT;
	if (vhost_vdpa_packed(v)) {
		state.packed.last_avail_idx = s.num & 0x7fff;
		state.packed.last_avail_counter = (s.num >> 15) & 1;
		state.packed.last_used_idx = (s.num >> 16) & 0x7fff;
		state.packed.last_used_counter = (s.num >> 31) & 1;
	} else {
		if (s.num > U16_MAX) {
			vv_bad(v, "vq %u: base %u above 65535\n", idx, s.num);
			return -EINVAL;
		}
		state.split.avail_index = s.num;
	}
	return ops->set_vq_state(v->vdpa, idx, &state);
}

static long vhost_vdpa_get_vring_base(struct vhost_vdpa *v, u16 idx,
				      void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vdpa_vq_state state = {};
	struct vhost_vring_state s = { .index = idx };
	long ret;

	ret = ops->get_vq_state(v->vdpa, idx, &state);
	if (ret)
		return ret;
	if (vhost_vdpa_packed(v))
		s.num = state.packed.last_avail_idx |
			state.packed.last_avail_counter << 15 |
			state.packed.last_used_idx << 16 |
			(u32)state.packed.last_used_counter << 31;
	else
		s.num = state.split.avail_index;
	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vhost_vdpa_set_vring_call(struct vhost_vdpa *v, u16 idx,
				      void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vhost_vring_file f;
	struct eventfd_ctx *old;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	old = vhost_vdpa_swap_eventfd(&v->vqs[idx].cb_lock, &v->vqs[idx].call,
				      f.fd);
	if (IS_ERR(old))
		return PTR_ERR(old);
	vhost_vdpa_apply_vq_cb(v, idx);
	if (ops->get_status(v->vdpa) & VIRTIO_CONFIG_S_DRIVER_OK)
		vhost_vdpa_bypass_add(v, &v->vqs[idx]);
	else
		vhost_vdpa_bypass_del(&v->vqs[idx]);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static long vhost_vdpa_set_vring_kick(struct vhost_vdpa *v, u16 idx,
				      void __user *argp)
{
	struct vhost_vdpa_vq *q = &v->vqs[idx];
	struct vhost_vring_file f;
	struct file *file = NULL;
	int ret;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.fd != VHOST_FILE_UNBIND) {
		file = eventfd_fget(f.fd);
		if (IS_ERR(file))
			return PTR_ERR(file);
	}
	if (file == q->kick) {
		if (file)
			fput(file);
		return 0;
	}
	vhost_vdpa_kick_stop(q);
	if (q->kick)
		fput(q->kick);
	q->kick = file;
	if (!file)
		return 0;
	ret = vhost_vdpa_kick_start(v, q);
	if (ret) {
		q->kick = NULL;
		fput(file);
	}
	return ret;
}

/* Kept for the ABI: parents report ring errors through NEEDS_RESET. */
static long vhost_vdpa_set_vring_err(struct vhost_vdpa *v, u16 idx,
				     void __user *argp)
{
	struct vhost_vdpa_vq *q = &v->vqs[idx];
	struct eventfd_ctx *ctx = NULL;
	struct vhost_vring_file f;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(f.fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	if (q->err)
		eventfd_ctx_put(q->err);
	q->err = ctx;
	return 0;
}

static long vhost_vdpa_get_vring_group(struct vhost_vdpa *v, u16 idx,
				       void __user *argp)
{
	struct vdpa_device *vdpa = v->vdpa;
	struct vhost_vring_state s = { .index = idx };

	if (vdpa->config->get_vq_group)
		s.num = vdpa->config->get_vq_group(vdpa, idx);
	if (s.num >= vdpa->ngroups) {
		dev_err_ratelimited(&v->dev, "parent put vq %u in group %u of %u\n",
				    idx, s.num, vdpa->ngroups);
		return -EIO;
	}
	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long vhost_vdpa_vring_ioctl(struct vhost_vdpa *v, unsigned int cmd,
				   void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vhost_vring_state s;
	u32 idx;

	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= v->nvqs) {
		vv_bad(v, "vq %u of %u\n", idx, v->nvqs);
		return -ENOBUFS;
	}
	idx = array_index_nospec(idx, v->nvqs);

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
		if (vhost_vdpa_running(v)) {
			vv_bad(v, "vq %u: ring layout is fixed while DRIVER_OK and not suspended\n",
			       idx);
			return -EINVAL;
		}
		break;
	}

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		return vhost_vdpa_set_vring_num(v, idx, argp);
	case VHOST_SET_VRING_ADDR:
		return vhost_vdpa_set_vring_addr(v, idx, argp);
	case VHOST_SET_VRING_BASE:
		return vhost_vdpa_set_vring_base(v, idx, argp);
	case VHOST_GET_VRING_BASE:
		return vhost_vdpa_get_vring_base(v, idx, argp);
	case VHOST_SET_VRING_CALL:
		return vhost_vdpa_set_vring_call(v, idx, argp);
	case VHOST_VDPA_GET_VRING_GROUP:
		return vhost_vdpa_get_vring_group(v, idx, argp);
	case VHOST_SET_VRING_KICK:
		return vhost_vdpa_set_vring_kick(v, idx, argp);
	case VHOST_SET_VRING_ERR:
		return vhost_vdpa_set_vring_err(v, idx, argp);
	case VHOST_VDPA_SET_VRING_ENABLE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		ops->set_vq_ready(v->vdpa, idx, s.num);
		return 0;
	default:
		return -ENOIOCTLCMD;
	}
}

static bool vhost_vdpa_is_vring_cmd(unsigned int cmd)
{
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
	case VHOST_VDPA_SET_VRING_ENABLE:
	case VHOST_VDPA_GET_VRING_GROUP:
		return true;
	default:
		return false;
	}
}

static long vhost_vdpa_unlocked_ioctl(struct file *filp, unsigned int cmd,
				      unsigned long arg)
{
	struct vhost_vdpa *v = filp->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	if (mutex_lock_killable(&v->lock))
		return -EINTR;
	if (!v->vdpa)
		ret = -ENODEV;
	else if (vhost_vdpa_is_vring_cmd(cmd))
		ret = vhost_vdpa_vring_ioctl(v, cmd, argp);
	else
		ret = vhost_vdpa_dev_ioctl(v, cmd, argp);
	mutex_unlock(&v->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Doorbell pages                                                     */

static int vhost_vdpa_doorbell(struct vhost_vdpa *v, unsigned long index,
			       unsigned long *pfn)
{
	struct vdpa_device *vdpa = v->vdpa;
	struct vdpa_notification_area area;

	lockdep_assert_held(&v->gone_sem);
	if (!vdpa)
		return -ENODEV;
	if (index >= v->nvqs)
		return -EINVAL;
	if (!vdpa->config->get_vq_notification)
		return -EOPNOTSUPP;
	area = vdpa->config->get_vq_notification(vdpa,
						 array_index_nospec(index, v->nvqs));
	if (area.addr & ~PAGE_MASK)
		return -EINVAL;
	if (area.size != PAGE_SIZE)
		return -EOPNOTSUPP;
	*pfn = PHYS_PFN(area.addr);
	return 0;
}

static vm_fault_t vhost_vdpa_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vhost_vdpa *v = vma->vm_private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned long pfn;

	down_read(&v->gone_sem);
	if (!vhost_vdpa_doorbell(v, vma->vm_pgoff, &pfn))
		ret = vmf_insert_pfn(vma, vma->vm_start, pfn);
	up_read(&v->gone_sem);
	return ret;
}

static const struct vm_operations_struct vhost_vdpa_vm_ops = {
	.fault = vhost_vdpa_fault,
};

/* mmap(offset = vq index * PAGE_SIZE, one page, shared, write-only). */
static int vhost_vdpa_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct vhost_vdpa *v = filp->private_data;
	unsigned long pfn;
	int ret;

	if (vma->vm_end - vma->vm_start != PAGE_SIZE ||
	    !(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_READ))
		return -EINVAL;
	down_read(&v->gone_sem);
	ret = vhost_vdpa_doorbell(v, vma->vm_pgoff, &pfn);
	up_read(&v->gone_sem);
	if (ret)
		return ret;
	vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_flags &= ~VM_MAYREAD;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_private_data = v;
	vma->vm_ops = &vhost_vdpa_vm_ops;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open, release, probe, remove                                       */

static int vhost_vdpa_alloc_domain(struct vhost_vdpa *v)
{
	struct device *dma_dev = vdpa_get_dma_dev(v->vdpa);
	struct iommu_domain *domain;
	int ret;

	if (!dma_dev->bus ||
	    !device_iommu_capable(dma_dev, IOMMU_CAP_CACHE_COHERENCY)) {
		dev_warn(&v->dev, "parent has no set_map/dma_map and %s has no coherent IOMMU\n",
			 dev_name(dma_dev));
		return -EOPNOTSUPP;
	}
	domain = iommu_domain_alloc(dma_dev->bus);
	if (!domain)
		return -EIO;
	ret = iommu_attach_device(domain, dma_dev);
	if (ret) {
		iommu_domain_free(domain);
		return ret;
	}
	v->domain = domain;
	if (domain->geometry.force_aperture) {
		v->range.first = domain->geometry.aperture_start;
		v->range.last = domain->geometry.aperture_end;
	}
	return 0;
}

static void vhost_vdpa_free_domain(struct vhost_vdpa *v)
{
	if (!v->domain)
		return;
	iommu_detach_device(v->domain, vdpa_get_dma_dev(v->vdpa));
	iommu_domain_free(v->domain);
	v->domain = NULL;
}

static void vhost_vdpa_free_state(struct vhost_vdpa *v)
{
	kvfree(v->vqs);
	kfree(v->as);
	v->vqs = NULL;
	v->as = NULL;
}

/* Set up a fresh open: virtqueues, address spaces, reset device. */
static int vhost_vdpa_setup(struct vhost_vdpa *v)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vhost_vdpa_vq *q;
	u32 i;
	int ret;

	v->vqs = kvcalloc(v->nvqs, sizeof(*v->vqs), GFP_KERNEL_ACCOUNT);
	v->as = kcalloc(v->nas, sizeof(*v->as), GFP_KERNEL_ACCOUNT);
	if (!v->vqs || !v->as) {
		vhost_vdpa_free_state(v);
		return -ENOMEM;
	}
	for (i = 0; i < v->nvqs; i++) {
		q = &v->vqs[i];
		q->v = v;
		q->index = i;
		spin_lock_init(&q->cb_lock);
		init_waitqueue_func_entry(&q->kick_wait, vhost_vdpa_kick_wake);
	}
	for (i = 0; i < v->nas; i++)
		vhost_iotlb_init(&v->as[i].iotlb, VHOST_VDPA_IOTLB_LIMIT, 0);
	INIT_LIST_HEAD(&v->retired);
	v->mm = NULL;
	v->in_batch = false;
	v->backend_features = 0;
	v->config_call = NULL;
	v->range.first = 0;
	v->range.last = U64_MAX;

	if (!ops->set_map && !ops->dma_map) {
		ret = vhost_vdpa_alloc_domain(v);
		if (ret) {
			vhost_vdpa_free_state(v);
			return ret;
		}
	}
	/* The parent's range first, even in our domain: it may hold some. */
	if (ops->get_iova_range)
		v->range = ops->get_iova_range(v->vdpa);

	ret = vhost_vdpa_reset(v);
	if (ret) {
		vhost_vdpa_free_domain(v);
		vhost_vdpa_free_state(v);
	}
	return ret;
}

/* Quiesce a device that is still there and drop everything it used. */
static void vhost_vdpa_stop(struct vhost_vdpa *v)
{
	struct vdpa_device *vdpa = v->vdpa;
	const struct vdpa_config_ops *ops = vdpa->config;
	struct vdpa_callback cb = {};
	u32 i;

	vhost_vdpa_kick_stop_all(v);
	vhost_vdpa_bypass_del_all(v);
	vdpa_reset(vdpa);
	for (i = 0; i < v->nvqs; i++)
		ops->set_vq_cb(vdpa, i, &cb);
	ops->set_config_cb(vdpa, &cb);

	v->in_batch = false;
	for (i = 0; i < v->nas; i++) {
		vhost_vdpa_unmap(v, i, 0, U64_MAX, &v->retired);
		if (ops->set_map)
			ops->set_map(vdpa, i, &v->as[i].iotlb);
	}
	/* The device is reset: nothing can reach these pages any more. */
	vhost_vdpa_flush_retired(v, U32_MAX);
	vhost_vdpa_free_domain(v);
}

/* Free what an open set up; the device is stopped or gone. */
static void vhost_vdpa_cleanup(struct vhost_vdpa *v)
{
	struct vhost_vdpa_vq *q;
	u32 i;

	for (i = 0; i < v->nvqs; i++) {
		q = &v->vqs[i];
		vhost_vdpa_kick_stop(q);
		vhost_vdpa_bypass_del(q);
		if (q->kick)
			fput(q->kick);
		if (q->call)
			eventfd_ctx_put(q->call);
		if (q->err)
			eventfd_ctx_put(q->err);
	}
	if (v->config_call)
		eventfd_ctx_put(v->config_call);
	v->config_call = NULL;
	if (v->mm)
		mmdrop(v->mm);
	v->mm = NULL;
	vhost_vdpa_free_state(v);
}

static int vhost_vdpa_open(struct inode *inode, struct file *filp)
{
	struct vhost_vdpa *v = container_of(inode->i_cdev, struct vhost_vdpa,
					    cdev);
	int ret;

	mutex_lock(&v->lock);
	if (!v->vdpa)
		ret = -ENODEV;
	else if (v->opened)
		ret = -EBUSY;
	else
		ret = vhost_vdpa_setup(v);
	if (!ret) {
		v->opened = true;
		v->filp = filp;
		filp->private_data = v;
	}
	mutex_unlock(&v->lock);
	if (ret)
		return ret;
	return nonseekable_open(inode, filp);
}

static int vhost_vdpa_release(struct inode *inode, struct file *filp)
{
	struct vhost_vdpa *v = filp->private_data;

	mutex_lock(&v->lock);
	if (v->vdpa)
		vhost_vdpa_stop(v);
	vhost_vdpa_cleanup(v);
	v->opened = false;
	v->filp = NULL;
	mutex_unlock(&v->lock);
	return 0;
}

static const struct file_operations vhost_vdpa_fops = {
	.owner = THIS_MODULE,
	.open = vhost_vdpa_open,
	.release = vhost_vdpa_release,
	.write_iter = vhost_vdpa_write_iter,
	.unlocked_ioctl = vhost_vdpa_unlocked_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vhost_vdpa_mmap,
	.llseek = noop_llseek,
};

static void vhost_vdpa_release_dev(struct device *dev)
{
	struct vhost_vdpa *v = container_of(dev, struct vhost_vdpa, dev);

	mutex_destroy(&v->lock);
	kfree(v);
}

static int vhost_vdpa_check_parent(struct vdpa_device *vdpa)
{
	const u64 need = BIT_ULL(VIRTIO_F_VERSION_1) |
			 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);
	const struct vdpa_config_ops *ops = vdpa->config;

	if ((ops->get_device_features(vdpa) & need) != need) {
		dev_err(&vdpa->dev, "vhost-vdpa needs VERSION_1 and ACCESS_PLATFORM\n");
		return -EOPNOTSUPP;
	}
	if (!vdpa->nvqs || vdpa->nvqs > VHOST_VDPA_MAX_VQS ||
	    !vdpa->ngroups || !vdpa->nas) {
		dev_err(&vdpa->dev, "bad geometry: %u vqs, %u groups, %u address spaces\n",
			vdpa->nvqs, vdpa->ngroups, vdpa->nas);
		return -EINVAL;
	}
	if (!!ops->dma_map != !!ops->dma_unmap) {
		dev_err(&vdpa->dev, "parent has only one of dma_map/dma_unmap\n");
		return -EINVAL;
	}
	if (!ops->set_map && !ops->dma_map && vdpa->nas != 1) {
		dev_err(&vdpa->dev, "a platform IOMMU gives one address space, not %u\n",
			vdpa->nas);
		return -EINVAL;
	}
	return 0;
}

static int vhost_vdpa_probe(struct vdpa_device *vdpa)
{
	struct vhost_vdpa *v;
	int minor, ret;

	ret = vhost_vdpa_check_parent(vdpa);
	if (ret)
		return ret;
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	minor = ida_alloc_max(&vhost_vdpa_ida, VHOST_VDPA_DEV_MAX - 1,
			      GFP_KERNEL);
	if (minor < 0) {
		kfree(v);
		return minor;
	}

	v->minor = minor;
	v->vdpa = vdpa;
	v->nvqs = vdpa->nvqs;
	v->nas = vdpa->nas;
	v->use_va = vdpa->use_va;
	mutex_init(&v->lock);
	init_rwsem(&v->gone_sem);
	spin_lock_init(&v->cb_lock);
	INIT_LIST_HEAD(&v->retired);

	device_initialize(&v->dev);
	v->dev.release = vhost_vdpa_release_dev;
	v->dev.parent = &vdpa->dev;
	v->dev.class = vhost_vdpa_class;
	v->dev.devt = MKDEV(MAJOR(vhost_vdpa_devt), minor);
	ret = dev_set_name(&v->dev, "vhost-vdpa-%d", minor);
	if (ret)
		goto err;
	cdev_init(&v->cdev, &vhost_vdpa_fops);
	v->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&v->cdev, &v->dev);
	if (ret)
		goto err;
	vdpa_set_drvdata(vdpa, v);
	return 0;

err:
	ida_free(&vhost_vdpa_ida, minor);
	put_device(&v->dev);
	return ret;
}

/*
 * Do not wait for user space: stop the device, release what it used, wake
 * the eventfds, zap doorbell mappings, and let the file fail with -ENODEV.
 */
static void vhost_vdpa_remove(struct vdpa_device *vdpa)
{
	struct vhost_vdpa *v = vdpa_get_drvdata(vdpa);

	cdev_device_del(&v->cdev, &v->dev);
	mutex_lock(&v->lock);
	if (v->opened) {
		vhost_vdpa_stop(v);
		vhost_vdpa_wake_eventfds(v);
	}
	down_write(&v->gone_sem);
	v->vdpa = NULL;
	up_write(&v->gone_sem);
	if (v->opened)
		unmap_mapping_range(v->filp->f_mapping, 0, 0, 1);
	mutex_unlock(&v->lock);
	ida_free(&vhost_vdpa_ida, v->minor);
	put_device(&v->dev);
}

static struct vdpa_driver vhost_vdpa_driver = {
	.driver = {
		.name = "vhost_vdpa",
	},
	.probe = vhost_vdpa_probe,
	.remove = vhost_vdpa_remove,
};

static int __init vhost_vdpa_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&vhost_vdpa_devt, 0, VHOST_VDPA_DEV_MAX,
				  "vhost-vdpa");
	if (ret)
		return ret;
	vhost_vdpa_class = class_create(THIS_MODULE, "vhost-vdpa");
	if (IS_ERR(vhost_vdpa_class)) {
		ret = PTR_ERR(vhost_vdpa_class);
		goto unregister_region;
	}
	ret = vdpa_register_driver(&vhost_vdpa_driver);
	if (ret)
		goto destroy_class;
	return 0;

destroy_class:
	class_destroy(vhost_vdpa_class);
unregister_region:
	unregister_chrdev_region(vhost_vdpa_devt, VHOST_VDPA_DEV_MAX);
	return ret;
}
module_init(vhost_vdpa_init);

static void __exit vhost_vdpa_exit(void)
{
	vdpa_unregister_driver(&vhost_vdpa_driver);
	class_destroy(vhost_vdpa_class);
	unregister_chrdev_region(vhost_vdpa_devt, VHOST_VDPA_DEV_MAX);
	ida_destroy(&vhost_vdpa_ida);
}
module_exit(vhost_vdpa_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vDPA devices as /dev/vhost-vdpa-N for user-space drivers");
