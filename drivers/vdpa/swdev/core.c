// SPDX-License-Identifier: GPL-2.0
/*
 * Software vDPA device core: the vDPA side of a device whose datapath is
 * kernel code (the simulators, the mediator).
 *
 * One set of vDPA config ops shared by every software device type.  A
 * device reaches driver memory through one IOTLB per address space
 * (IOVA -> physical address), empty after creation and after a reset:
 * vhost-vdpa installs its user's mappings through set_map or
 * dma_map/dma_unmap, the kernel's own virtio drivers (virtio_vdpa) map
 * through the DMA API, whose mappings become entries of address space 0
 * (maps.c) and outlive a reset while they are bound.  Nobody gets a view
 * of all memory.  The datapath runs in kthread workers, as many as the
 * device type asks for (the mediator: one per queue pair), queued by the
 * kicks of their queues; each serves its ready queues of a running device
 * in batches and goes back to sleep once their rings are empty.
 *
 * Every translation of a device happens in its datapath threads, under
 * sim->lock held for reading, and every change of its IOTLBs by a vDPA
 * operation (set_map, dma_map, dma_unmap, reset) holds sim->lock for
 * writing: once a map operation returns, no copy uses the translation it
 * replaced.  iommu_lock, which vringh takes around each lookup and the
 * debugfs view around its walk, is held there only to swap in a tree
 * built beforehand, to delete entries or to add one (dma_map): at most one
 * entry is allocated under it (GFP_ATOMIC, inside vhost_iotlb).  The DMA
 * API's changes (maps.c) take only iommu_lock, and add one entry the same
 * way: a kernel driver maps in atomic context, and unmaps only what the
 * device returned.
 */

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <net/netlink.h>
#include <uapi/linux/vdpa.h>

#include "bufs.h"
#include "maps.h"

#define VDPA_SW_VQ_ALIGN	PAGE_SIZE
#define VDPA_SW_VENDOR_ID	0
/*
 * Most mappings in one address space. The target kernel's vhost_iotlb
 * refuses every mapping when the limit is 0 and -ENOSPC beyond the limit;
 * the vhost-vdpa user's own IOTLB bounds the real number.
 */
#define VDPA_SW_IOTLB_LIMIT	UINT_MAX

/* Chains whose iov arrays grew beyond this many entries give them back. */
#define VDPA_SW_IOV_KEEP	64

static char *map_ops = "set_map";
module_param(map_ops, charp, 0444);
MODULE_PARM_DESC(map_ops,
		 "how devices created afterwards take mappings: \"set_map\" (default) or \"dma\" (dma_map/dma_unmap only, no set_map)");

/*
 * For tests (selftests/lifecycle.sh): hold the moment between a freed
 * device leaving its type's count and the count's waiter being told, the
 * window a module exit that does not wait for the telling would free
 * memory the teller still uses in.  Busy-waits, in an RCU read section.
 */
static unsigned int put_delay_ms;
module_param(put_delay_ms, uint, 0644);
MODULE_PARM_DESC(put_delay_ms,
		 "testing only: milliseconds (at most 2000) between a device freed and its module told so");

/* Status bits that must be set, and those that must not, to run. */
#define VDPA_SW_S_RUN		(VIRTIO_CONFIG_S_FEATURES_OK | \
				 VIRTIO_CONFIG_S_DRIVER_OK)
#define VDPA_SW_S_STOP		(VIRTIO_CONFIG_S_NEEDS_RESET | \
				 VIRTIO_CONFIG_S_FAILED)

/* Caller holds sim->lock. */
static bool vdpa_sw_running(const struct vdpa_sw *sim)
{
	return (READ_ONCE(sim->status) & (VDPA_SW_S_RUN | VDPA_SW_S_STOP)) ==
	       VDPA_SW_S_RUN && !sim->suspended;
}

/* Bounds-check a queue index from a caller; NULL when out of range. */
static struct vdpa_sw_virtqueue *vdpa_sw_vq(struct vdpa_sw *sim, u16 idx)
{
	u32 nvqs = sim->dev_attr.nvqs;

	if (idx >= nvqs) {
		dev_warn_ratelimited(&sim->vdpa.dev,
				     "virtqueue %u out of range (%u queues)\n",
				     idx, nvqs);
		return NULL;
	}
	return &sim->vqs[array_index_nospec(idx, nvqs)];
}

static u16 vdpa_sw_vq_index(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	return vq - sim->vqs;
}

/* Group of a valid queue index. */
static u32 vdpa_sw_group(struct vdpa_sw *sim, u16 idx)
{
	u32 group = 0;

	if (sim->dev_attr.get_vq_group)
		group = sim->dev_attr.get_vq_group(sim, idx);
	if (group >= sim->dev_attr.ngroups)
		group = 0;
	return group;
}

/* The IOTLB a valid queue uses. Caller holds sim->lock. */
static struct vhost_iotlb *vdpa_sw_vq_iotlb(struct vdpa_sw *sim, u16 idx)
{
	return &sim->iommu[sim->group_asid[vdpa_sw_group(sim, idx)]];
}

/*
 * Make @next the IOTLB of address space @asid; @next gets the old tree,
 * which the caller frees (outside iommu_lock).  Caller holds sim->lock.
 */
static void vdpa_sw_iotlb_swap(struct vdpa_sw *sim, u32 asid,
			       struct vhost_iotlb *next)
{
	struct vhost_iotlb *cur = &sim->iommu[asid];
	struct rb_root_cached root;
	unsigned long flags;
	unsigned int nmaps;
	LIST_HEAD(old);

	spin_lock_irqsave(&sim->iommu_lock, flags);
	root = cur->root;
	cur->root = next->root;
	next->root = root;
	nmaps = cur->nmaps;
	cur->nmaps = next->nmaps;
	next->nmaps = nmaps;
	list_splice_init(&cur->list, &old);
	list_splice_init(&next->list, &cur->list);
	list_splice(&old, &next->list);
	vdpa_sw_maps_changed(sim);
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
}

/* Map nothing in address space @asid. Caller holds sim->lock. */
static void vdpa_sw_iotlb_clear(struct vdpa_sw *sim, u32 asid)
{
	struct vhost_iotlb none;

	vhost_iotlb_init(&none, VDPA_SW_IOTLB_LIMIT, 0);
	vdpa_sw_iotlb_swap(sim, asid, &none);
	vhost_iotlb_reset(&none);
}

/* Chains @vq holds: taken from its live ring, not consumed. */
static unsigned int vdpa_sw_vq_held(const struct vdpa_sw_virtqueue *vq)
{
	return vq->bufs.n + (vq->batch ? vq->batch->n : 0);
}

/*
 * Give back every chain @vq holds: those of a batch (not held between
 * calls of process_vq, but a device type may stop in the middle), then
 * those held for a frame.  Caller holds sim->lock, for writing or as the
 * queue's thread.
 */
static void vdpa_sw_vq_release(struct vdpa_sw_virtqueue *vq)
{
	struct vdpa_sw_batch *b = vq->batch;

	if (b && b->n) {
		vdpa_sw_vq_giveback(vq, b->n);
		b->n = 0;
	}
	vdpa_sw_bufs_release(vq);
}

/* Stop using the ring of a queue, keeping its position. */
static void vdpa_sw_vq_stop(struct vdpa_sw_virtqueue *vq)
{
	if (vq->live) {
		vdpa_sw_vq_release(vq);
		vq->avail_idx = vq->vring.last_avail_idx;
	}
	vq->live = false;
}

/*
 * (Re)initialise the host view of a ready queue from its address and size,
 * resuming at its saved position. Returns false if the ring is unusable.
 */
static bool vdpa_sw_vq_start(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	u16 idx = vdpa_sw_vq_index(sim, vq);
	int ret = -EINVAL;

	vdpa_sw_vq_stop(vq);
	if (vq->num && vq->num <= VDPA_SW_VQ_NUM_MAX)
		ret = vringh_init_iotlb(&vq->vring, sim->features, vq->num,
					true,
					(void *)(uintptr_t)vq->desc_addr,
					(void *)(uintptr_t)vq->driver_addr,
					(void *)(uintptr_t)vq->device_addr);
	if (ret) {
		dev_warn_ratelimited(&sim->vdpa.dev,
				     "virtqueue %u: unusable ring of %u entries (%d)\n",
				     idx, vq->num, ret);
		return false;
	}
	vringh_set_iotlb(&vq->vring, vdpa_sw_vq_iotlb(sim, idx),
			 &sim->iommu_lock);
	vringh_iotlb_cache_init(&vq->xlc, &sim->map_gen);
	vq->vring.last_avail_idx = vq->avail_idx;
	vq->vring.last_used_idx = vq->avail_idx;
	vq->need_notify = false;
	vq->live = true;
	return true;
}

static void vdpa_sw_kick_worker(struct vdpa_sw_worker *w)
{
	kthread_queue_work(w->kw, &w->work);
}

/* Have every datapath thread run a batch. */
static void vdpa_sw_kick_all(struct vdpa_sw *sim)
{
	u32 i;

	for (i = 0; i < sim->nworkers; i++)
		vdpa_sw_kick_worker(&sim->workers[i]);
}

/**
 * vdpa_sw_schedule() - have every datapath thread run a batch
 * @sim: the device
 *
 * For a device type whose queues have work that does not come from the
 * driver (frames received from elsewhere, a lower device's queue that
 * restarted): the threads call &vdpa_sw_dev_attr.process_vq for every
 * ready queue soon.
 *
 * Context: any context; does not sleep.
 */
void vdpa_sw_schedule(struct vdpa_sw *sim)
{
	vdpa_sw_kick_all(sim);
}
EXPORT_SYMBOL_GPL(vdpa_sw_schedule);

/**
 * vdpa_sw_schedule_vq() - have the datapath thread of one queue run a batch
 * @sim: the device
 * @idx: a queue index below &vdpa_sw_dev_attr.nvqs
 *
 * As vdpa_sw_schedule(), for the thread that serves queue @idx only.
 *
 * Context: any context; does not sleep.
 */
void vdpa_sw_schedule_vq(struct vdpa_sw *sim, u16 idx)
{
	vdpa_sw_kick_worker(&sim->workers[sim->vqs[idx].worker]);
}
EXPORT_SYMBOL_GPL(vdpa_sw_schedule_vq);

static void vdpa_sw_call(struct vdpa_callback *cb)
{
	if (!cb->callback)
		return;
	/* Let the NAPI poll or tasklet a callback raises run right here. */
	local_bh_disable();
	cb->callback(cb->private);
	local_bh_enable();
}

/**
 * vdpa_sw_generation_bump() - a field of the configuration space changed
 * @sim: the device
 *
 * Context: process context, caller holds &vdpa_sw.lock (for reading from
 * a datapath thread, for writing elsewhere).
 */
void vdpa_sw_generation_bump(struct vdpa_sw *sim)
{
	lockdep_assert_held(&sim->lock);
	spin_lock(&sim->state_lock);
	WRITE_ONCE(sim->generation, sim->generation + 1);
	spin_unlock(&sim->state_lock);
}
EXPORT_SYMBOL_GPL(vdpa_sw_generation_bump);

/**
 * vdpa_sw_config_changed() - signal a configuration change to the driver
 * @sim: the device
 *
 * Bumps the configuration generation and calls the driver's configuration
 * callback, if it set one.
 *
 * Context: process context, caller holds &vdpa_sw.lock (for reading from
 * a datapath thread, for writing elsewhere).
 */
void vdpa_sw_config_changed(struct vdpa_sw *sim)
{
	vdpa_sw_generation_bump(sim);
	vdpa_sw_call(&sim->config_cb);
}
EXPORT_SYMBOL_GPL(vdpa_sw_config_changed);

/*
 * Stop the datapath until the driver resets the device; tell the driver
 * once.  Caller holds sim->lock, for reading from a datapath thread.
 */
static void vdpa_sw_stop_needs_reset(struct vdpa_sw *sim)
{
	bool first;

	spin_lock(&sim->state_lock);
	first = !(sim->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	WRITE_ONCE(sim->status, sim->status | VIRTIO_CONFIG_S_NEEDS_RESET);
	spin_unlock(&sim->state_lock);
	if (first)
		vdpa_sw_config_changed(sim);
}

/**
 * vdpa_sw_set_needs_reset() - stop the device after a fatal ring error
 * @sim: the device
 *
 * Sets VIRTIO_CONFIG_S_NEEDS_RESET, which stops the datapath until the
 * driver resets the device, and signals a configuration change.
 *
 * Context: process context, caller holds &vdpa_sw.lock (for reading from
 * a datapath thread, for writing elsewhere).
 */
void vdpa_sw_set_needs_reset(struct vdpa_sw *sim)
{
	lockdep_assert_held(&sim->lock);
	if (READ_ONCE(sim->status) & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	dev_warn_ratelimited(&sim->vdpa.dev,
			     "malformed virtqueue, device needs reset\n");
	vdpa_sw_stop_needs_reset(sim);
}
EXPORT_SYMBOL_GPL(vdpa_sw_set_needs_reset);

/* What a fault line adds when vdpa_sw_user_mapped() is true. */
#define VDPA_SW_IOVA_MODE_HINT \
	"; it is a user address mapped at another IOVA: DPDK 22.11 virtio-user needs --iova-mode=va"

/* Most ranges vdpa_sw_user_mapped() looks at: its walk is bounded. */
#define VDPA_SW_USER_MAPPED_MAX	4096

/*
 * Whether @addr is not mapped in @vq's address space (a fault on a mapped
 * address is one of permission) but is a user address inside a range that
 * its vhost-vdpa user mapped at another IOVA.  vhost_vdpa gives each range
 * of pinned pages an opaque struct vdpa_map_file with no file whose offset
 * is the user address the range was pinned from.  Looks at the first
 * VDPA_SW_USER_MAPPED_MAX ranges only.  Caller holds sim->lock (the ranges
 * and their opaque stay); iommu_lock keeps off the DMA API's changes of
 * address space 0.
 */
static bool vdpa_sw_user_mapped(struct vdpa_sw *sim,
				struct vdpa_sw_virtqueue *vq, u64 addr)
{
	struct vhost_iotlb *iotlb = vdpa_sw_vq_iotlb(sim,
						     vdpa_sw_vq_index(sim, vq));
	const struct vdpa_map_file *mf;
	struct vhost_iotlb_map *map;
	unsigned int n = 0;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&sim->iommu_lock, flags);
	if (vhost_iotlb_itree_first(iotlb, addr, addr))
		goto out;
	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX);
	     map && !found && n < VDPA_SW_USER_MAPPED_MAX;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX), n++) {
		mf = map->opaque;
		found = mf && !mf->file && addr >= mf->offset &&
			addr - mf->offset <= map->last - map->start;
	}
out:
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
	return found;
}

/* Whether @addr lies in the @len bytes at @start. */
static bool vdpa_sw_in(u64 addr, u64 start, u64 len)
{
	return addr >= start && addr - start < len;
}

/*
 * What of @vq's driver memory @addr is: one of its rings, else a buffer
 * (an indirect descriptor table included: a descriptor points to it).
 */
static const char *vdpa_sw_vq_part(const struct vdpa_sw_virtqueue *vq,
				   u64 addr)
{
	if (vdpa_sw_in(addr, vq->driver_addr, 6 + 2 * (u64)vq->num))
		return "avail ring";
	if (vdpa_sw_in(addr, vq->desc_addr, 16 * (u64)vq->num))
		return "descriptor table";
	if (vdpa_sw_in(addr, vq->device_addr, 6 + 8 * (u64)vq->num))
		return "used ring";
	return "buffer";
}

/*
 * The line for driver memory @vq could not reach at @addr.  DPDK 22.11
 * gives its rings' addresses as well as its buffers' as virtual ones, so
 * the hint is for any part; only vhost_vdpa's ranges have a struct
 * vdpa_map_file as opaque.
 */
static void vdpa_sw_vq_log_fault(struct vdpa_sw *sim,
				 struct vdpa_sw_virtqueue *vq, u64 addr)
{
	bool hint = vdpa_sw_bound_to(sim, "vhost_vdpa") &&
		    vdpa_sw_user_mapped(sim, vq, addr);

	dev_err_ratelimited(&sim->vdpa.dev,
			    "virtqueue %u: %s at iova 0x%llx not reachable (%d), device needs reset%s\n",
			    vdpa_sw_vq_index(sim, vq), vdpa_sw_vq_part(vq, addr),
			    addr, -EFAULT, hint ? VDPA_SW_IOVA_MODE_HINT : "");
}

/**
 * vdpa_sw_vq_error() - a ring call on a queue failed: log it, stop the device
 * @sim: the device
 * @vq: the queue whose ring call (take, copy or return a chain, notify)
 *	failed
 * @err: the negative errno it returned
 *
 * Logs one rate-limited line naming the device and the queue, then sets
 * VIRTIO_CONFIG_S_NEEDS_RESET (see vdpa_sw_set_needs_reset()); only the
 * first error until the next reset is logged.  For -EFAULT the line names
 * the IOVA vringh could not reach and what lies there: the avail ring, the
 * descriptor table, the used ring, or a buffer (an indirect table counts
 * as one).  On a device bound to vhost_vdpa, when the unreachable address
 * is a user address inside a range the same user mapped (at another
 * IOVA), the line adds the likely cause: a DPDK 22.11 virtio-user client
 * in its default IOVA mode, which gives the virtual addresses of its rings
 * and buffers but maps physical ones, needs --iova-mode=va; checking takes
 * &vdpa_sw.iommu_lock and walks at most 4096 ranges.  Any other errno is a
 * malformed ring (vringh's own warning says what is wrong) or no memory
 * to take a chain.
 *
 * Context: process context, caller holds &vdpa_sw.lock; not
 * &vdpa_sw.iommu_lock.
 */
void vdpa_sw_vq_error(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
		      int err)
{
	const char *why = err == -ENOMEM ? "no memory to take a chain" :
					   "malformed ring";

	lockdep_assert_held(&sim->lock);
	if (READ_ONCE(sim->status) & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	if (err == -EFAULT)
		vdpa_sw_vq_log_fault(sim, vq, vq->xlc.fault);
	else
		dev_err_ratelimited(&sim->vdpa.dev,
				    "virtqueue %u: %s (%d), device needs reset\n",
				    vdpa_sw_vq_index(sim, vq), why, err);
	vdpa_sw_stop_needs_reset(sim);
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_error);

/**
 * vdpa_sw_vq_usable() - whether a queue can take or return buffers now
 * @sim: the device
 * @vq: one of its queues
 *
 * Context: caller holds &vdpa_sw.lock.
 * Return: true if the device runs and @vq is ready with a valid ring.
 */
bool vdpa_sw_vq_usable(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	lockdep_assert_held(&sim->lock);
	return vq->ready && vq->live && vdpa_sw_running(sim);
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_usable);

/*
 * Empty an iov before the next chain.  One that a long chain grew beyond
 * VDPA_SW_IOV_KEEP entries goes back to its inline storage, so a queue
 * keeps no large array for the life of the device.
 */
static void vdpa_sw_kiov_shrink(struct vringh_kiov *iov, struct kvec *inline_vec,
				unsigned int n)
{
	if ((iov->max_num & ~VRINGH_IOV_ALLOCATED) > VDPA_SW_IOV_KEEP) {
		vringh_kiov_cleanup(iov);
		vringh_kiov_init(iov, inline_vec, n);
	}
	iov->i = 0;
	iov->used = 0;
	iov->consumed = 0;
}

/**
 * vdpa_sw_vq_get() - take the next available descriptor chain
 * @sim: the device
 * @vq: a usable queue (see vdpa_sw_vq_usable())
 *
 * Fills @vq->riov (device-readable part), @vq->wiov (device-writable part)
 * and @vq->head. Iov arrays grow as needed without triggering I/O.
 *
 * Context: process context, caller holds &vdpa_sw.lock.
 * Return: 1 if a chain was taken, 0 if the ring is empty, or a negative
 * errno if the ring is malformed.
 */
int vdpa_sw_vq_get(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	int ret;

	lockdep_assert_held(&sim->lock);
	vdpa_sw_kiov_shrink(&vq->riov, vq->rvec, ARRAY_SIZE(vq->rvec));
	vdpa_sw_kiov_shrink(&vq->wiov, vq->wvec, ARRAY_SIZE(vq->wvec));
	ret = vringh_getdesc_iotlb_cached(&vq->vring, &vq->xlc, &vq->riov,
					  &vq->wiov, &vq->head, GFP_NOIO);
	if (ret > 0)
		vq->stats.received_desc++;
	return ret;
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_get);

/**
 * vdpa_sw_vq_unget() - give back the chain vdpa_sw_vq_get() took
 * @sim: the device
 * @vq: the queue
 *
 * The chain stays available and is taken again by the next
 * vdpa_sw_vq_get().
 *
 * Context: caller holds &vdpa_sw.lock.
 */
void vdpa_sw_vq_unget(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	lockdep_assert_held(&sim->lock);
	vdpa_sw_vq_giveback(vq, 1);
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_unget);

/**
 * vdpa_sw_vq_put() - return the current chain through the used ring
 * @sim: the device
 * @vq: the queue
 * @len: number of bytes the device wrote into the chain
 *
 * The driver is notified later, by vdpa_sw_vq_notify().
 *
 * Context: process context, caller holds &vdpa_sw.lock.
 * Return: 0, or a negative errno if the used ring cannot be written.
 */
int vdpa_sw_vq_put(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq, u32 len)
{
	int ret;

	lockdep_assert_held(&sim->lock);
	ret = vringh_complete_iotlb_cached(&vq->vring, &vq->xlc, vq->head,
					   len);
	if (ret < 0)
		return ret;
	vq->stats.completed_desc++;
	vq->need_notify = true;
	return 0;
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_put);

/* A queue's first batch: its arrays, for the life of the device. */
static struct vdpa_sw_batch *vdpa_sw_batch_alloc(void)
{
	struct vdpa_sw_batch *b;
	unsigned int i;

	b = kzalloc(sizeof(*b), GFP_NOIO | __GFP_NOWARN);
	if (!b)
		return NULL;
	for (i = 0; i < VDPA_SW_GET_BATCH; i++) {
		vringh_kiov_init(&b->riov[i], b->rvec[i], VDPA_SW_IOV_INIT);
		vringh_kiov_init(&b->wiov[i], b->wvec[i], VDPA_SW_IOV_INIT);
	}
	return b;
}

static void vdpa_sw_batch_free(struct vdpa_sw_virtqueue *vq)
{
	struct vdpa_sw_batch *b = vq->batch;
	unsigned int i;

	if (!b)
		return;
	for (i = 0; i < VDPA_SW_GET_BATCH; i++) {
		vringh_kiov_cleanup(&b->riov[i]);
		vringh_kiov_cleanup(&b->wiov[i]);
	}
	kfree(b);
	vq->batch = NULL;
}

/**
 * vdpa_sw_vq_get_batch() - take several available chains at once
 * @sim: the device
 * @vq: a usable queue (see vdpa_sw_vq_usable()) that holds no chain
 * @max: most chains to take; at most %VDPA_SW_GET_BATCH are
 *
 * vdpa_sw_vq_get() for a batch: the available index is read once for all
 * of them (vringh_getdescs_iotlb_cached()).  Chain i is in
 * @vq->batch->riov[i], @vq->batch->wiov[i] and @vq->batch->head[i]; copy
 * from it with vdpa_sw_batch_pull(), then return the batch, before
 * process_vq returns, with vdpa_sw_vq_put_batch().  A malformed chain ends
 * a batch: the chains before it are taken, and the next call reports it.
 *
 * Context: process context, caller holds &vdpa_sw.lock.
 * Return: the number of chains taken, 0 if the ring is empty, -ENOMEM, or
 * a negative errno if the ring is malformed.
 */
int vdpa_sw_vq_get_batch(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			 unsigned int max)
{
	struct vdpa_sw_batch *b = vq->batch;
	unsigned int i;
	int ret;

	lockdep_assert_held(&sim->lock);
	if (WARN_ON_ONCE(vdpa_sw_vq_held(vq)))
		return -EINVAL;
	if (unlikely(!b)) {
		b = vdpa_sw_batch_alloc();
		if (!b)
			return -ENOMEM;
		vq->batch = b;
	}
	max = min_t(unsigned int, max, VDPA_SW_GET_BATCH);
	for (i = 0; i < max; i++) {
		vdpa_sw_kiov_shrink(&b->riov[i], b->rvec[i], VDPA_SW_IOV_INIT);
		vdpa_sw_kiov_shrink(&b->wiov[i], b->wvec[i], VDPA_SW_IOV_INIT);
	}
	ret = vringh_getdescs_iotlb_cached(&vq->vring, &vq->xlc, b->riov,
					   b->wiov, b->head, max, GFP_NOIO);
	if (ret > 0) {
		b->n = ret;
		vq->stats.received_desc += ret;
	}
	return ret;
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_get_batch);

/**
 * vdpa_sw_batch_pull() - copy from the readable part of a chain of a batch
 * @vq: the queue
 * @i: the chain, below the number vdpa_sw_vq_get_batch() took
 * @dst: destination buffer
 * @len: bytes to copy
 *
 * Context: caller holds &vdpa_sw.lock, as the queue's datapath thread.
 * Return: the number of bytes copied (less than @len at the end of the
 * readable part), or a negative errno if driver memory is not mapped.
 */
ssize_t vdpa_sw_batch_pull(struct vdpa_sw_virtqueue *vq, unsigned int i,
			   void *dst, size_t len)
{
	struct vdpa_sw_batch *b = vq->batch;

	if (WARN_ON_ONCE(!b || i >= b->n))
		return -EINVAL;
	return vringh_iov_pull_iotlb_cached(&vq->vring, &vq->xlc, &b->riov[i],
					    dst, len);
}
EXPORT_SYMBOL_GPL(vdpa_sw_batch_pull);

/**
 * vdpa_sw_vq_put_batch() - return the first chains of a batch, give back
 *	the others
 * @sim: the device
 * @vq: the queue
 * @n: chains to return, the first @n of the batch; the device wrote
 *	nothing into them (transmit)
 *
 * Returns the @n chains with one update of the used index, and gives back
 * the rest of the batch: they stay available, the next chains taken.  The
 * driver is notified later, by vdpa_sw_vq_notify().  The queue holds no
 * chain afterwards, whatever the result.
 *
 * Context: process context, caller holds &vdpa_sw.lock.
 * Return: 0, or a negative errno if the used ring cannot be written.
 */
int vdpa_sw_vq_put_batch(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			 unsigned int n)
{
	struct vdpa_sw_batch *b = vq->batch;
	unsigned int i;

	lockdep_assert_held(&sim->lock);
	if (WARN_ON_ONCE(!b || n > b->n))
		return -EINVAL;
	vdpa_sw_vq_giveback(vq, b->n - n);
	b->n = 0;
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		b->used[i].id = cpu_to_vdpa_sw32(sim, b->head[i]);
		b->used[i].len = 0;
	}
	return vdpa_sw_vq_complete(vq, b->used, n);
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_put_batch);

/**
 * vdpa_sw_vq_put_status() - end a request with its status byte
 * @sim: the device
 * @vq: the queue
 * @status: the status, written into the last writable byte of the chain
 *
 * For requests that end with a one-byte status (control commands): the
 * chain is returned with one byte written.  A chain without a writable
 * byte is returned with none.
 *
 * Context: process context, caller holds &vdpa_sw.lock.
 * Return: 0, or a negative errno if driver memory is not reachable.
 */
int vdpa_sw_vq_put_status(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			  u8 status)
{
	size_t room = vringh_kiov_length(&vq->wiov);
	ssize_t ret;

	if (!room) {
		dev_dbg_ratelimited(&sim->vdpa.dev,
				    "virtqueue %u: request without room for its status\n",
				    vdpa_sw_vq_index(sim, vq));
		return vdpa_sw_vq_put(sim, vq, 0);
	}
	vringh_kiov_advance(&vq->wiov, room - 1);
	ret = vdpa_sw_push(vq, &status, sizeof(status));
	if (ret != sizeof(status))
		return ret < 0 ? ret : -EFAULT;
	return vdpa_sw_vq_put(sim, vq, sizeof(status));
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_put_status);

/**
 * vdpa_sw_vq_notify() - notify the driver of chains returned since last time
 * @sim: the device
 * @vq: the queue
 *
 * Calls the queue's callback if chains were returned since the last call
 * and the driver did not suppress notifications.
 *
 * Context: process context, caller holds &vdpa_sw.lock.
 * Return: 0, or a negative errno if the ring cannot be read.
 */
int vdpa_sw_vq_notify(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	int ret;

	lockdep_assert_held(&sim->lock);
	if (!vq->need_notify)
		return 0;
	vq->need_notify = false;
	ret = vringh_need_notify_iotlb_cached(&vq->vring, &vq->xlc);
	if (ret <= 0)
		return ret;
	vdpa_sw_call(&vq->cb);
	return 0;
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_notify);

/**
 * vdpa_sw_pull() - copy from the readable part of the current chain
 * @vq: the queue
 * @dst: destination buffer
 * @len: bytes to copy
 *
 * Context: caller holds &vdpa_sw.lock.
 * Return: the number of bytes copied (less than @len at the end of the
 * readable part), or a negative errno if driver memory is not mapped.
 */
ssize_t vdpa_sw_pull(struct vdpa_sw_virtqueue *vq, void *dst, size_t len)
{
	return vringh_iov_pull_iotlb_cached(&vq->vring, &vq->xlc, &vq->riov,
					    dst, len);
}
EXPORT_SYMBOL_GPL(vdpa_sw_pull);

/**
 * vdpa_sw_push() - copy into the writable part of the current chain
 * @vq: the queue
 * @src: source buffer
 * @len: bytes to copy
 *
 * Context: caller holds &vdpa_sw.lock.
 * Return: the number of bytes copied (less than @len at the end of the
 * writable part), or a negative errno if driver memory is not mapped.
 */
ssize_t vdpa_sw_push(struct vdpa_sw_virtqueue *vq, const void *src,
		     size_t len)
{
	return vringh_iov_push_iotlb_cached(&vq->vring, &vq->xlc, &vq->wiov,
					    src, len);
}
EXPORT_SYMBOL_GPL(vdpa_sw_push);

/**
 * vdpa_sw_put_stat() - append one vendor statistic to a netlink message
 * @msg: the VDPA_CMD_DEV_VSTATS_GET reply
 * @name: statistic name
 * @value: its value
 *
 * Return: 0, or -EMSGSIZE if @msg is full.
 */
int vdpa_sw_put_stat(struct sk_buff *msg, const char *name, u64 value)
{
	if (nla_put_string(msg, VDPA_ATTR_DEV_VENDOR_ATTR_NAME, name) ||
	    nla_put_u64_64bit(msg, VDPA_ATTR_DEV_VENDOR_ATTR_VALUE, value,
			      VDPA_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}
EXPORT_SYMBOL_GPL(vdpa_sw_put_stat);

/*
 * Serve one queue: a batch of at most VDPA_SW_BATCH chains with driver
 * notifications suppressed, then re-enable them and re-check the ring so
 * that a buffer added meanwhile is not missed. Returns true if the queue
 * needs another batch.
 */
static bool vdpa_sw_serve_vq(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	int n, ret;

	vringh_notify_disable_iotlb_cached(&vq->vring, &vq->xlc);
	n = sim->dev_attr.process_vq(sim, vq, VDPA_SW_BATCH);
	if (n < 0 && n != VDPA_SW_VQ_IDLE) {
		vdpa_sw_vq_error(sim, vq, n);
		return false;
	}
	ret = vdpa_sw_vq_notify(sim, vq);
	if (ret < 0) {
		vdpa_sw_vq_error(sim, vq, ret);
		return false;
	}
	/* Waiting for vdpa_sw_schedule(), not for the driver. */
	if (n == VDPA_SW_VQ_IDLE)
		return false;
	if (n >= VDPA_SW_BATCH)
		return true;
	if (vringh_notify_enable_iotlb_cached(&vq->vring, &vq->xlc))
		return false;
	/*
	 * "More work": a chain was added meanwhile, or the used ring could
	 * not be written (vringh reports that the same way).  Look: finding
	 * nothing means the ring is broken, not that the queue is busy.
	 */
	n = vdpa_sw_vq_get(sim, vq);
	if (n > 0) {
		vdpa_sw_vq_unget(sim, vq);
		return true;
	}
	vdpa_sw_vq_error(sim, vq, n ? n : -EFAULT);
	return false;
}

/* One batch of a datapath thread over its own queues. */
static void vdpa_sw_work(struct kthread_work *work)
{
	struct vdpa_sw_worker *w = container_of(work, struct vdpa_sw_worker,
						work);
	struct vdpa_sw *sim = w->sim;
	bool more = false;
	u32 i;

	down_read(&sim->lock);
	for (i = 0; i < sim->dev_attr.nvqs && vdpa_sw_running(sim); i++) {
		struct vdpa_sw_virtqueue *vq = &sim->vqs[i];

		if (vq->worker == w->id && vq->ready && vq->live &&
		    !vq->passive && vdpa_sw_serve_vq(sim, vq))
			more = true;
	}
	up_read(&sim->lock);

	if (more) {
		cond_resched();
		vdpa_sw_kick_worker(w);
	}
}

/* Back to the state after creation. Caller holds sim->lock. */
static void vdpa_sw_reset_core(struct vdpa_sw *sim)
{
	u32 i;

	for (i = 0; i < sim->dev_attr.nvqs; i++) {
		struct vdpa_sw_virtqueue *vq = &sim->vqs[i];

		vdpa_sw_vq_stop(vq);
		vq->ready = false;
		vq->need_notify = false;
		vq->num = 0;
		vq->desc_addr = 0;
		vq->driver_addr = 0;
		vq->device_addr = 0;
		vq->avail_idx = 0;
		memset(&vq->cb, 0, sizeof(vq->cb));
		memset(&vq->stats, 0, sizeof(vq->stats));
	}
	memset(&sim->config_cb, 0, sizeof(sim->config_cb));
	WRITE_ONCE(sim->status, 0);
	sim->suspended = false;
	sim->features = 0;
	sim->generation++;
	for (i = 0; i < sim->dev_attr.ngroups; i++)
		sim->group_asid[i] = 0;

	for (i = 0; i < sim->dev_attr.nas; i++)
		if (!vdpa_sw_dma_keeps(sim, i))
			vdpa_sw_iotlb_clear(sim, i);
}

static void vdpa_sw_do_reset(struct vdpa_sw *sim)
{
	vdpa_sw_reset_core(sim);
	if (sim->dev_attr.reset)
		sim->dev_attr.reset(sim);
}

static int vdpa_sw_set_vq_address(struct vdpa_device *vdpa, u16 idx,
				  u64 desc_area, u64 driver_area,
				  u64 device_area)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq = vdpa_sw_vq(sim, idx);

	if (!vq)
		return -EINVAL;
	down_write(&sim->lock);
	vq->desc_addr = desc_area;
	vq->driver_addr = driver_area;
	vq->device_addr = device_area;
	if (vq->live && !vdpa_sw_vq_start(sim, vq) && vdpa_sw_running(sim))
		vdpa_sw_set_needs_reset(sim);
	up_write(&sim->lock);
	return 0;
}

static void vdpa_sw_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq = vdpa_sw_vq(sim, idx);

	if (!vq)
		return;
	down_write(&sim->lock);
	vq->num = num;
	up_write(&sim->lock);
}

/* May be called in atomic context: only queue the datapath work. */
static void vdpa_sw_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);

	if (idx >= sim->dev_attr.nvqs) {
		dev_warn_ratelimited(&vdpa->dev, "kick of virtqueue %u out of range\n",
				     idx);
		return;
	}
	vdpa_sw_schedule_vq(sim, array_index_nospec(idx, sim->dev_attr.nvqs));
}

static void vdpa_sw_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
			      struct vdpa_callback *cb)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq = vdpa_sw_vq(sim, idx);

	if (!vq)
		return;
	down_write(&sim->lock);
	if (cb)
		vq->cb = *cb;
	else
		memset(&vq->cb, 0, sizeof(vq->cb));
	up_write(&sim->lock);
}

static void vdpa_sw_set_vq_ready(struct vdpa_device *vdpa, u16 idx,
				 bool ready)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq = vdpa_sw_vq(sim, idx);

	if (!vq)
		return;
	down_write(&sim->lock);
	if (ready) {
		vq->ready = true;
		if (!vdpa_sw_vq_start(sim, vq)) {
			if (vdpa_sw_running(sim))
				vdpa_sw_set_needs_reset(sim);
		} else if (vdpa_sw_running(sim)) {
			vdpa_sw_schedule_vq(sim, idx);
		}
	} else {
		vdpa_sw_vq_stop(vq);
		vq->ready = false;
	}
	up_write(&sim->lock);
}

static bool vdpa_sw_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq = vdpa_sw_vq(sim, idx);
	bool ready;

	if (!vq)
		return false;
	down_write(&sim->lock);
	ready = vq->ready;
	up_write(&sim->lock);
	return ready;
}

static int vdpa_sw_set_vq_state(struct vdpa_device *vdpa, u16 idx,
				const struct vdpa_vq_state *state)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq = vdpa_sw_vq(sim, idx);
	int ret = 0;

	if (!vq)
		return -EINVAL;
	down_write(&sim->lock);
	if (vdpa_sw_running(sim) && vq->ready) {
		/* The thread may be serving the ring right now. */
		ret = -EBUSY;
	} else {
		vq->avail_idx = state->split.avail_index;
		if (vq->live) {
			vdpa_sw_vq_release(vq);
			vq->vring.last_avail_idx = vq->avail_idx;
			vq->vring.last_used_idx = vq->avail_idx;
		}
	}
	up_write(&sim->lock);
	return ret;
}

static int vdpa_sw_get_vq_state(struct vdpa_device *vdpa, u16 idx,
				struct vdpa_vq_state *state)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq = vdpa_sw_vq(sim, idx);

	if (!vq)
		return -EINVAL;
	down_write(&sim->lock);
	/*
	 * Every chain taken was returned (used == avail when unlocked), but
	 * those held (for a frame, or in a batch), which are not consumed.
	 */
	state->split.avail_index = vq->live ?
				   vq->vring.last_avail_idx -
				   vdpa_sw_vq_held(vq) :
				   vq->avail_idx;
	up_write(&sim->lock);
	return 0;
}

static int vdpa_sw_default_stats(struct vdpa_sw_virtqueue *vq,
				 struct sk_buff *msg)
{
	int ret;

	ret = vdpa_sw_put_stat(msg, "received_desc", vq->stats.received_desc);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "completed_desc",
				       vq->stats.completed_desc);
	return ret;
}

static int vdpa_sw_get_vendor_vq_stats(struct vdpa_device *vdpa, u16 idx,
				       struct sk_buff *msg,
				       struct netlink_ext_ack *extack)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_virtqueue *vq;
	int ret;

	if (idx >= sim->dev_attr.nvqs) {
		NL_SET_ERR_MSG_MOD(extack, "queue index out of range");
		return -EINVAL;
	}
	vq = &sim->vqs[array_index_nospec(idx, sim->dev_attr.nvqs)];
	down_write(&sim->lock);
	if (sim->dev_attr.get_stats)
		ret = sim->dev_attr.get_stats(sim, vq, msg, extack);
	else
		ret = vdpa_sw_default_stats(vq, msg);
	up_write(&sim->lock);
	if (ret == -EMSGSIZE)
		NL_SET_ERR_MSG_MOD(extack, "statistics do not fit the message");
	return ret;
}

/* No interrupt lines: notifications go through the callbacks. */
static int vdpa_sw_get_vq_irq(struct vdpa_device *vdpa, u16 idx)
{
	return -EOPNOTSUPP;
}

static u32 vdpa_sw_get_vq_align(struct vdpa_device *vdpa)
{
	return VDPA_SW_VQ_ALIGN;
}

static u32 vdpa_sw_get_vq_group(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);

	if (!vdpa_sw_vq(sim, idx))
		return 0;
	return vdpa_sw_group(sim, array_index_nospec(idx, sim->dev_attr.nvqs));
}

static u64 vdpa_sw_get_device_features(struct vdpa_device *vdpa)
{
	return vdpa_to_sim(vdpa)->dev_attr.device_features;
}

static int vdpa_sw_set_driver_features(struct vdpa_device *vdpa, u64 features)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	int ret = 0;

	down_write(&sim->lock);
	if (sim->status & VIRTIO_CONFIG_S_FEATURES_OK)
		ret = -EBUSY;
	else
		sim->features = features & sim->dev_attr.device_features;
	up_write(&sim->lock);
	return ret;
}

static u64 vdpa_sw_get_driver_features(struct vdpa_device *vdpa)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	u64 features;

	down_write(&sim->lock);
	features = sim->features;
	up_write(&sim->lock);
	return features;
}

static void vdpa_sw_set_config_cb(struct vdpa_device *vdpa,
				  struct vdpa_callback *cb)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);

	down_write(&sim->lock);
	if (cb)
		sim->config_cb = *cb;
	else
		memset(&sim->config_cb, 0, sizeof(sim->config_cb));
	up_write(&sim->lock);
}

static u16 vdpa_sw_get_vq_num_max(struct vdpa_device *vdpa)
{
	return VDPA_SW_VQ_NUM_MAX;
}

static u16 vdpa_sw_get_vq_num_min(struct vdpa_device *vdpa)
{
	return 1;
}

static u32 vdpa_sw_get_device_id(struct vdpa_device *vdpa)
{
	return vdpa_to_sim(vdpa)->dev_attr.id;
}

static u32 vdpa_sw_get_vendor_id(struct vdpa_device *vdpa)
{
	return VDPA_SW_VENDOR_ID;
}

static u8 vdpa_sw_get_status(struct vdpa_device *vdpa)
{
	return READ_ONCE(vdpa_to_sim(vdpa)->status);
}

/* Whether the device accepts the features the driver set. */
static bool vdpa_sw_features_ok(struct vdpa_sw *sim)
{
	if (!(sim->features & BIT_ULL(VIRTIO_F_VERSION_1))) {
		dev_info_ratelimited(&sim->vdpa.dev,
				     "driver did not accept VIRTIO_F_VERSION_1\n");
		return false;
	}
	return true;
}

/* The driver sets DRIVER_OK: start every ready queue. */
static void vdpa_sw_start(struct vdpa_sw *sim)
{
	bool ok = true;
	u32 i;

	for (i = 0; i < sim->dev_attr.nvqs; i++)
		if (sim->vqs[i].ready && !vdpa_sw_vq_start(sim, &sim->vqs[i]))
			ok = false;
	if (!vdpa_sw_running(sim))
		return;
	if (ok)
		vdpa_sw_kick_all(sim);
	else
		vdpa_sw_set_needs_reset(sim);
}

static void vdpa_sw_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	u8 old;

	down_write(&sim->lock);
	if (!status) {
		vdpa_sw_do_reset(sim);
		goto out;
	}
	old = sim->status;
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK) && !vdpa_sw_features_ok(sim))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	/* Only a reset clears NEEDS_RESET. */
	status |= old & VIRTIO_CONFIG_S_NEEDS_RESET;
	WRITE_ONCE(sim->status, status);
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK))
		vdpa_sw_start(sim);
out:
	up_write(&sim->lock);
}

static int vdpa_sw_reset(struct vdpa_device *vdpa)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);

	down_write(&sim->lock);
	vdpa_sw_do_reset(sim);
	up_write(&sim->lock);
	return 0;
}

/* Stop the datapath, keeping ring positions, until the next reset. */
static int vdpa_sw_suspend(struct vdpa_device *vdpa)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);

	down_write(&sim->lock);
	sim->suspended = true;
	up_write(&sim->lock);
	return 0;
}

static size_t vdpa_sw_get_config_size(struct vdpa_device *vdpa)
{
	return vdpa_to_sim(vdpa)->dev_attr.config_size;
}

static bool vdpa_sw_config_range_ok(struct vdpa_sw *sim, unsigned int offset,
				    unsigned int len)
{
	size_t size = sim->dev_attr.config_size;

	if (offset > size || len > size - offset) {
		dev_warn_ratelimited(&sim->vdpa.dev,
				     "config access [%u, +%u) beyond %zu bytes\n",
				     offset, len, size);
		return false;
	}
	return true;
}

static void vdpa_sw_get_config(struct vdpa_device *vdpa, unsigned int offset,
			       void *buf, unsigned int len)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);

	if (!vdpa_sw_config_range_ok(sim, offset, len)) {
		memset(buf, 0, len);
		return;
	}
	down_write(&sim->lock);
	sim->dev_attr.get_config(sim, sim->config);
	memcpy(buf, sim->config + offset, len);
	up_write(&sim->lock);
}

static void vdpa_sw_set_config(struct vdpa_device *vdpa, unsigned int offset,
			       const void *buf, unsigned int len)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);

	if (!vdpa_sw_config_range_ok(sim, offset, len))
		return;
	down_write(&sim->lock);
	/* Fields the device type does not apply are read-only. */
	if (sim->dev_attr.set_config) {
		sim->dev_attr.get_config(sim, sim->config);
		memcpy(sim->config + offset, buf, len);
		sim->dev_attr.set_config(sim, sim->config);
		sim->generation++;
	}
	up_write(&sim->lock);
}

static u32 vdpa_sw_get_generation(struct vdpa_device *vdpa)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	u32 gen;

	down_write(&sim->lock);
	gen = sim->generation;
	up_write(&sim->lock);
	return gen;
}

static struct vdpa_iova_range vdpa_sw_get_iova_range(struct vdpa_device *vdpa)
{
	struct vdpa_iova_range range = {
		.first = 0,
		.last = U64_MAX,
	};

	return range;
}

static int vdpa_sw_set_group_asid(struct vdpa_device *vdpa, unsigned int group,
				  unsigned int asid)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	u32 i;

	if (group >= sim->dev_attr.ngroups || asid >= sim->dev_attr.nas)
		return -EINVAL;
	group = array_index_nospec(group, sim->dev_attr.ngroups);
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	down_write(&sim->lock);
	sim->group_asid[group] = asid;
	for (i = 0; i < sim->dev_attr.nvqs; i++)
		if (sim->vqs[i].live && vdpa_sw_group(sim, i) == group) {
			vringh_set_iotlb(&sim->vqs[i].vring, &sim->iommu[asid],
					 &sim->iommu_lock);
			vringh_iotlb_cache_init(&sim->vqs[i].xlc, &sim->map_gen);
		}
	up_write(&sim->lock);
	return 0;
}

static int vdpa_sw_set_map(struct vdpa_device *vdpa, unsigned int asid,
			   struct vhost_iotlb *iotlb)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vhost_iotlb_map *map;
	struct vhost_iotlb next;
	int ret = 0;

	if (asid >= sim->dev_attr.nas)
		return -EINVAL;
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	/* Built beside the live tree, swapped in whole: nothing in between. */
	vhost_iotlb_init(&next, VDPA_SW_IOTLB_LIMIT, 0);
	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map && !ret;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX))
		ret = vhost_iotlb_add_range_ctx(&next, map->start, map->last,
						map->addr, map->perm,
						map->opaque);
	/* A failed update leaves nothing mapped, as the old code did. */
	if (ret)
		vhost_iotlb_reset(&next);

	down_write(&sim->lock);
	vdpa_sw_iotlb_swap(sim, asid, &next);
	up_write(&sim->lock);
	vhost_iotlb_reset(&next);
	return ret;
}

static bool vdpa_sw_perm_ok(u32 perm)
{
	return perm && !(perm & ~VHOST_MAP_RW);
}

static int vdpa_sw_dma_map(struct vdpa_device *vdpa, unsigned int asid,
			   u64 iova, u64 size, u64 pa, u32 perm, void *opaque)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	u64 last = iova + size - 1;
	unsigned long flags;
	int ret;

	if (asid >= sim->dev_attr.nas || !size || last < iova ||
	    !vdpa_sw_perm_ok(perm))
		return -EINVAL;
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	/* iommu_lock too: the debugfs view walks the tree under it alone. */
	down_write(&sim->lock);
	spin_lock_irqsave(&sim->iommu_lock, flags);
	if (vhost_iotlb_itree_first(&sim->iommu[asid], iova, last))
		ret = -EEXIST;
	else
		ret = vhost_iotlb_add_range_ctx(&sim->iommu[asid], iova, last,
						pa, perm, opaque);
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
	up_write(&sim->lock);
	return ret;
}

static int vdpa_sw_dma_unmap(struct vdpa_device *vdpa, unsigned int asid,
			     u64 iova, u64 size)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	u64 last = iova + size - 1;
	unsigned long flags;

	if (asid >= sim->dev_attr.nas || !size)
		return -EINVAL;
	if (last < iova)
		last = U64_MAX;
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	/* Waits for the datapath: no copy uses the range after this. */
	down_write(&sim->lock);
	spin_lock_irqsave(&sim->iommu_lock, flags);
	vhost_iotlb_del_range(&sim->iommu[asid], iova, last);
	vdpa_sw_maps_changed(sim);
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
	up_write(&sim->lock);
	return 0;
}

/* Called on the last reference; also for a partly created device. */
/*
 * The last device of a type is gone: its module's exit may return.  The
 * decrement to zero is followed only by complete(), whose waiter cannot
 * return before complete() let go of the completion; what is left to run
 * of this module's text is inside an RCU read-side section, which
 * free_module() waits for before freeing a module's text.  (Waking with
 * wake_up() after a counter let the exit return, and the module go, while
 * the waker still was to take the wait queue's lock in that module.)
 */
static void vdpa_sw_devices_put(struct vdpa_sw_devices *devices)
{
	bool last;

	rcu_read_lock();
	last = atomic_dec_and_test(&devices->count);
	mdelay(min(READ_ONCE(put_delay_ms), 2000U));
	if (last)
		complete(&devices->gone);
	rcu_read_unlock();
}

/**
 * vdpa_sw_devices_wait() - wait until every device of a type was freed
 * @devices: the type's count
 *
 * Called by the type's module exit after vdpa_mgmtdev_unregister(), when
 * no device can be created any more.
 *
 * Context: process context; sleeps.
 */
void vdpa_sw_devices_wait(struct vdpa_sw_devices *devices)
{
	if (!atomic_dec_and_test(&devices->count))
		wait_for_completion(&devices->gone);
}
EXPORT_SYMBOL_GPL(vdpa_sw_devices_wait);

/* Stop and free the datapath threads; also after a partial creation. */
static void vdpa_sw_workers_destroy(struct vdpa_sw *sim)
{
	u32 i;

	for (i = 0; i < sim->nworkers; i++)
		if (sim->workers[i].kw)
			kthread_destroy_worker(sim->workers[i].kw);
	kfree(sim->workers);
}

/*
 * One thread per worker the device type asks for, named after the device
 * (and the thread's index when there are several); each queue is given
 * to one of them.
 */
static int vdpa_sw_workers_create(struct vdpa_sw *sim)
{
	const struct vdpa_sw_dev_attr *attr = &sim->dev_attr;
	const char *name = dev_name(&sim->vdpa.dev);
	u32 n = attr->nworkers ? attr->nworkers : 1;
	struct kthread_worker *kw;
	u32 i;

	sim->workers = kcalloc(n, sizeof(*sim->workers), GFP_KERNEL);
	if (!sim->workers)
		return -ENOMEM;
	sim->nworkers = n;
	for (i = 0; i < n; i++) {
		struct vdpa_sw_worker *w = &sim->workers[i];

		w->sim = sim;
		w->id = i;
		kthread_init_work(&w->work, vdpa_sw_work);
		kw = n == 1 ? kthread_create_worker(0, "vdpa-sw-%s", name) :
			      kthread_create_worker(0, "vdpa-sw-%s/%u", name, i);
		if (IS_ERR(kw))
			return PTR_ERR(kw);
		w->kw = kw;
	}
	for (i = 0; i < attr->nvqs; i++) {
		u32 id = attr->get_vq_worker ? attr->get_vq_worker(sim, i) : 0;

		sim->vqs[i].worker = id < n ? id : 0;
	}
	return 0;
}

static void vdpa_sw_free(struct vdpa_device *vdpa)
{
	struct vdpa_sw *sim = vdpa_to_sim(vdpa);
	struct vdpa_sw_devices *devices = sim->dev_attr.devices;
	u32 i;

	vdpa_sw_workers_destroy(sim);
	if (sim->dev_attr.free)
		sim->dev_attr.free(sim);
	if (sim->vqs) {
		for (i = 0; i < sim->dev_attr.nvqs; i++) {
			vringh_kiov_cleanup(&sim->vqs[i].riov);
			vringh_kiov_cleanup(&sim->vqs[i].wiov);
			vdpa_sw_bufs_free(&sim->vqs[i]);
			vdpa_sw_batch_free(&sim->vqs[i]);
		}
	}
	if (sim->iommu) {
		for (i = 0; i < sim->dev_attr.nas; i++)
			vhost_iotlb_reset(&sim->iommu[i]);
	}
	vdpa_sw_maps_exit(sim);
	kfree(sim->iommu);
	kfree(sim->group_asid);
	kfree(sim->config);
	kfree(sim->vqs);
	if (devices)
		vdpa_sw_devices_put(devices);
}

static const struct vdpa_config_ops vdpa_sw_config_ops = {
	.set_vq_address		= vdpa_sw_set_vq_address,
	.set_vq_num		= vdpa_sw_set_vq_num,
	.kick_vq		= vdpa_sw_kick_vq,
	.set_vq_cb		= vdpa_sw_set_vq_cb,
	.set_vq_ready		= vdpa_sw_set_vq_ready,
	.get_vq_ready		= vdpa_sw_get_vq_ready,
	.set_vq_state		= vdpa_sw_set_vq_state,
	.get_vq_state		= vdpa_sw_get_vq_state,
	.get_vendor_vq_stats	= vdpa_sw_get_vendor_vq_stats,
	.get_vq_irq		= vdpa_sw_get_vq_irq,
	.get_vq_align		= vdpa_sw_get_vq_align,
	.get_vq_group		= vdpa_sw_get_vq_group,
	.get_device_features	= vdpa_sw_get_device_features,
	.set_driver_features	= vdpa_sw_set_driver_features,
	.get_driver_features	= vdpa_sw_get_driver_features,
	.set_config_cb		= vdpa_sw_set_config_cb,
	.get_vq_num_max		= vdpa_sw_get_vq_num_max,
	.get_vq_num_min		= vdpa_sw_get_vq_num_min,
	.get_device_id		= vdpa_sw_get_device_id,
	.get_vendor_id		= vdpa_sw_get_vendor_id,
	.get_status		= vdpa_sw_get_status,
	.set_status		= vdpa_sw_set_status,
	.reset			= vdpa_sw_reset,
	.suspend		= vdpa_sw_suspend,
	.get_config_size	= vdpa_sw_get_config_size,
	.get_config		= vdpa_sw_get_config,
	.set_config		= vdpa_sw_set_config,
	.get_generation		= vdpa_sw_get_generation,
	.get_iova_range		= vdpa_sw_get_iova_range,
	.set_group_asid		= vdpa_sw_set_group_asid,
	.set_map		= vdpa_sw_set_map,
	.dma_map		= vdpa_sw_dma_map,
	.dma_unmap		= vdpa_sw_dma_unmap,
	.free			= vdpa_sw_free,
};

/*
 * The same without set_map (map_ops=dma): a parent that takes mappings one
 * range at a time, to test bus drivers against such parents.
 */
static struct vdpa_config_ops vdpa_sw_dma_config_ops __ro_after_init;

static bool vdpa_sw_attr_valid(const struct vdpa_sw_dev_attr *attr)
{
	return attr->nvqs && attr->nvqs <= U16_MAX && attr->ngroups &&
	       attr->nas && attr->config_size &&
	       attr->alloc_size >= sizeof(struct vdpa_sw) &&
	       attr->process_vq && attr->get_config;
}

static int vdpa_sw_alloc_state(struct vdpa_sw *sim)
{
	const struct vdpa_sw_dev_attr *attr = &sim->dev_attr;
	u32 i;

	sim->vqs = kcalloc(attr->nvqs, sizeof(*sim->vqs), GFP_KERNEL);
	sim->config = kzalloc(attr->config_size, GFP_KERNEL);
	sim->group_asid = kcalloc(attr->ngroups, sizeof(*sim->group_asid),
				  GFP_KERNEL);
	sim->iommu = kcalloc(attr->nas, sizeof(*sim->iommu), GFP_KERNEL);
	if (sim->iommu)
		for (i = 0; i < attr->nas; i++)
			vhost_iotlb_init(&sim->iommu[i], VDPA_SW_IOTLB_LIMIT, 0);
	if (sim->vqs)
		for (i = 0; i < attr->nvqs; i++) {
			struct vdpa_sw_virtqueue *vq = &sim->vqs[i];

			vringh_kiov_init(&vq->riov, vq->rvec,
					 ARRAY_SIZE(vq->rvec));
			vringh_kiov_init(&vq->wiov, vq->wvec,
					 ARRAY_SIZE(vq->wvec));
		}
	if (!sim->vqs || !sim->config || !sim->group_asid || !sim->iommu)
		return -ENOMEM;
	return vdpa_sw_maps_init(sim);
}

/* Net features that only make sense with a control queue. */
#define VDPA_SW_NET_CVQ_FEATURES (BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
				  BIT_ULL(VIRTIO_NET_F_CTRL_RX) | \
				  BIT_ULL(VIRTIO_NET_F_MQ))

/**
 * vdpa_sw_net_features() - the features a new virtio-net device offers
 * @dev: the management device's device, for messages
 * @name: the new device's name
 * @config: the attributes of "vdpa dev add"
 * @offered: what the device type can offer
 * @features: set to @offered, or to the provisioned device_features
 *
 * Provisioned features must include VERSION_1 and ACCESS_PLATFORM, stay
 * within @offered, and offer MQ and CTRL_MAC_ADDR only with CTRL_VQ.  What
 * a driver accepts is not checked against that: DPDK's virtio-user
 * emulates the control queue itself and accepts CTRL_MAC_ADDR (and MQ)
 * without CTRL_VQ; without a control queue those features have no effect.
 *
 * Context: process context.
 * Return: 0, or -EINVAL with a message naming the device.
 */
int vdpa_sw_net_features(struct device *dev, const char *name,
			 const struct vdpa_dev_set_config *config, u64 offered,
			 u64 *features)
{
	u64 f = config->device_features;

	*features = offered;
	if (!(config->mask & BIT_ULL(VDPA_ATTR_DEV_FEATURES)))
		return 0;
	if ((f & VDPA_SW_FEATURES) != VDPA_SW_FEATURES || (f & ~offered)) {
		dev_warn(dev,
			 "%s: device_features 0x%llx must include VERSION_1 and ACCESS_PLATFORM, within 0x%llx\n",
			 name, f, offered);
		return -EINVAL;
	}
	if ((f & VDPA_SW_NET_CVQ_FEATURES) &&
	    !(f & BIT_ULL(VIRTIO_NET_F_CTRL_VQ))) {
		dev_warn(dev,
			 "%s: device_features 0x%llx: MQ, CTRL_RX and CTRL_MAC_ADDR need CTRL_VQ\n",
			 name, f);
		return -EINVAL;
	}
	*features = f;
	return 0;
}
EXPORT_SYMBOL_GPL(vdpa_sw_net_features);

static virtio_net_ctrl_ack
vdpa_sw_net_ctrl_mac(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *cvq,
		     const struct vdpa_sw_net_ctrl *ctrl)
{
	u8 mac[ETH_ALEN];

	if (!vdpa_sw_has_feature(sim, VIRTIO_NET_F_CTRL_MAC_ADDR) ||
	    vdpa_sw_pull(cvq, mac, sizeof(mac)) != (ssize_t)sizeof(mac) ||
	    !is_valid_ether_addr(mac))
		return VIRTIO_NET_ERR;
	return ctrl->set_mac(sim, mac) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

/*
 * Read one table of MAC_TABLE_SET: a 32-bit count, then the addresses.
 * Those past VDPA_SW_MAC_TABLE_MAX are skipped unread.
 */
static int vdpa_sw_net_mac_table(struct vdpa_sw *sim,
				 struct vdpa_sw_virtqueue *cvq,
				 struct vdpa_sw_mac_table *t)
{
	__virtio32 n;
	u32 i, kept;

	if (vdpa_sw_pull(cvq, &n, sizeof(n)) != sizeof(n))
		return -EINVAL;
	t->n = vdpa_sw32_to_cpu(sim, n);
	if (t->n > vringh_kiov_length(&cvq->riov) / ETH_ALEN)
		return -EINVAL;
	kept = min_t(u32, t->n, VDPA_SW_MAC_TABLE_MAX);
	for (i = 0; i < kept; i++)
		if (vdpa_sw_pull(cvq, t->addr[i], ETH_ALEN) != ETH_ALEN)
			return -EINVAL;
	vringh_kiov_advance(&cvq->riov, (size_t)(t->n - kept) * ETH_ALEN);
	return 0;
}

static virtio_net_ctrl_ack
vdpa_sw_net_ctrl_mac_table(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *cvq,
			   const struct vdpa_sw_net_ctrl *ctrl)
{
	struct vdpa_sw_mac_table *uc, *mc;
	virtio_net_ctrl_ack ack = VIRTIO_NET_ERR;

	if (!ctrl->set_mac_table ||
	    !vdpa_sw_has_feature(sim, VIRTIO_NET_F_CTRL_RX))
		return VIRTIO_NET_ERR;
	uc = kmalloc(sizeof(*uc), GFP_KERNEL);
	mc = kmalloc(sizeof(*mc), GFP_KERNEL);
	if (uc && mc && !vdpa_sw_net_mac_table(sim, cvq, uc) &&
	    !vdpa_sw_net_mac_table(sim, cvq, mc) &&
	    !ctrl->set_mac_table(sim, uc, mc))
		ack = VIRTIO_NET_OK;
	kfree(uc);
	kfree(mc);
	return ack;
}

static virtio_net_ctrl_ack
vdpa_sw_net_ctrl_rx(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *cvq,
		    u8 cmd, const struct vdpa_sw_net_ctrl *ctrl)
{
	u8 on;

	if (!ctrl->set_rx || !vdpa_sw_has_feature(sim, VIRTIO_NET_F_CTRL_RX) ||
	    (cmd != VIRTIO_NET_CTRL_RX_PROMISC &&
	     cmd != VIRTIO_NET_CTRL_RX_ALLMULTI) ||
	    vdpa_sw_pull(cvq, &on, sizeof(on)) != sizeof(on))
		return VIRTIO_NET_ERR;
	return ctrl->set_rx(sim, cmd, on) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

static virtio_net_ctrl_ack
vdpa_sw_net_ctrl_mq(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *cvq,
		    u16 max_vqp, u16 *cur_vqp)
{
	struct virtio_net_ctrl_mq mq;
	u16 pairs;

	if (!vdpa_sw_has_feature(sim, VIRTIO_NET_F_MQ) ||
	    vdpa_sw_pull(cvq, &mq, sizeof(mq)) != (ssize_t)sizeof(mq))
		return VIRTIO_NET_ERR;
	pairs = vdpa_sw16_to_cpu(sim, mq.virtqueue_pairs);
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > max_vqp)
		return VIRTIO_NET_ERR;
	WRITE_ONCE(*cur_vqp, pairs);
	return VIRTIO_NET_OK;
}

/**
 * vdpa_sw_net_cvq() - serve a virtio-net control queue
 * @sim: the device
 * @cvq: its control queue
 * @budget: most commands to serve
 * @max_vqp: queue pairs the device has
 * @cur_vqp: queue pairs in use; VQ_PAIRS_SET writes it (WRITE_ONCE())
 * @ctrl: what the device does with the other commands
 *
 * Executes MAC_ADDR_SET (with CTRL_MAC_ADDR), VQ_PAIRS_SET (with MQ), and
 * with CTRL_RX the PROMISC, ALLMULTI and MAC_TABLE_SET commands, if @ctrl
 * has them; any other or short command is answered VIRTIO_NET_ERR.
 *
 * Context: the datapath thread, with &vdpa_sw.lock held.
 * Return: commands served, or a negative errno if the ring is broken.
 */
int vdpa_sw_net_cvq(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *cvq,
		    unsigned int budget, u16 max_vqp, u16 *cur_vqp,
		    const struct vdpa_sw_net_ctrl *ctrl)
{
	struct virtio_net_ctrl_hdr hdr;
	virtio_net_ctrl_ack ack;
	unsigned int n;
	int ret = 0;

	for (n = 0; n < budget; n++) {
		ret = vdpa_sw_vq_get(sim, cvq);
		if (ret <= 0)
			break;
		ack = VIRTIO_NET_ERR;
		if (vdpa_sw_pull(cvq, &hdr, sizeof(hdr)) != sizeof(hdr))
			hdr.class = 0xff;	/* no such class */
		if (hdr.class == VIRTIO_NET_CTRL_MAC &&
		    hdr.cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET)
			ack = vdpa_sw_net_ctrl_mac(sim, cvq, ctrl);
		else if (hdr.class == VIRTIO_NET_CTRL_MAC &&
			 hdr.cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET)
			ack = vdpa_sw_net_ctrl_mac_table(sim, cvq, ctrl);
		else if (hdr.class == VIRTIO_NET_CTRL_RX)
			ack = vdpa_sw_net_ctrl_rx(sim, cvq, hdr.cmd, ctrl);
		else if (hdr.class == VIRTIO_NET_CTRL_MQ &&
			 hdr.cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
			ack = vdpa_sw_net_ctrl_mq(sim, cvq, max_vqp, cur_vqp);
		ret = vdpa_sw_vq_put_status(sim, cvq, ack);
		if (ret)
			break;
	}
	return ret < 0 ? ret : n;
}
EXPORT_SYMBOL_GPL(vdpa_sw_net_cvq);

/**
 * vdpa_sw_create() - allocate and initialise a software device
 * @attr: the device type's description; copied
 * @parent: parent of the vDPA device (the management device)
 * @name: vDPA device name
 *
 * Allocates @attr->alloc_size bytes (the device type's structure, whose
 * first member is &struct vdpa_sw), with the core's config ops, a DMA
 * device with a 64-bit mask, identity-mapped address spaces and a datapath
 * thread; the device is reset. The caller then initialises its own state,
 * sets &vdpa_device.mdev and registers the device; on failure it drops the
 * reference with put_device(), which frees everything through
 * @attr->free and the core's free op. @attr->free is called only for
 * devices this function returned; they count in @attr->devices until
 * freed.
 *
 * Context: process context.
 * Return: the device, or an ERR_PTR() on failure.
 */
struct vdpa_sw *vdpa_sw_create(const struct vdpa_sw_dev_attr *attr,
			       struct device *parent, const char *name)
{
	struct vdpa_device *vdpa;
	struct vdpa_sw *sim;
	int ret;

	if (!vdpa_sw_attr_valid(attr))
		return ERR_PTR(-EINVAL);

	vdpa = __vdpa_alloc_device(parent, strcmp(map_ops, "dma") ?
				   &vdpa_sw_config_ops : &vdpa_sw_dma_config_ops,
				   attr->ngroups, attr->nas, attr->alloc_size,
				   name, false);
	if (IS_ERR(vdpa))
		return ERR_CAST(vdpa);
	sim = vdpa_to_sim(vdpa);
	memset((char *)sim + offsetof(struct vdpa_sw, dev_attr), 0,
	       attr->alloc_size - offsetof(struct vdpa_sw, dev_attr));
	sim->dev_attr = *attr;
	sim->dev_attr.free = NULL;
	sim->dev_attr.devices = NULL;
	init_rwsem(&sim->lock);
	spin_lock_init(&sim->state_lock);
	spin_lock_init(&sim->iommu_lock);

	vdpa->dma_dev = &vdpa->dev;
	ret = dma_coerce_mask_and_coherent(&vdpa->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err;
	ret = vdpa_sw_alloc_state(sim);
	if (ret)
		goto err;

	ret = vdpa_sw_workers_create(sim);
	if (ret)
		goto err;

	down_write(&sim->lock);
	vdpa_sw_reset_core(sim);
	up_write(&sim->lock);
	sim->dev_attr.free = attr->free;
	sim->dev_attr.devices = attr->devices;
	if (attr->devices)
		atomic_inc(&attr->devices->count);
	return sim;

err:
	put_device(&vdpa->dev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vdpa_sw_create);

/**
 * vdpa_sw_register() - make a created device visible on the vDPA bus
 * @sim: from vdpa_sw_create(), its device-specific state initialised
 * @nvqs: its number of virtqueues
 *
 * What _vdpa_register_device() does, plus the core's debugfs view of the
 * device's address spaces (/sys/kernel/debug/vdpa_swdev/NAME/maps).
 *
 * Context: process context, from a management device's dev_add (the vDPA
 * core's device lock held).
 * Return: 0, or a negative errno from _vdpa_register_device().
 */
int vdpa_sw_register(struct vdpa_sw *sim, u32 nvqs)
{
	int ret = _vdpa_register_device(&sim->vdpa, nvqs);

	if (!ret)
		vdpa_sw_maps_show_add(sim);
	return ret;
}
EXPORT_SYMBOL_GPL(vdpa_sw_register);

/**
 * vdpa_sw_unregister() - undo vdpa_sw_register()
 * @sim: the device
 *
 * Context: process context, from a management device's dev_del (the vDPA
 * core's device lock held).
 */
void vdpa_sw_unregister(struct vdpa_sw *sim)
{
	vdpa_sw_maps_show_remove(sim);
	_vdpa_unregister_device(&sim->vdpa);
}
EXPORT_SYMBOL_GPL(vdpa_sw_unregister);

static int __init vdpa_sw_init(void)
{
	if (strcmp(map_ops, "set_map") && strcmp(map_ops, "dma")) {
		pr_err(KBUILD_MODNAME ": map_ops is \"set_map\" or \"dma\", not \"%s\"\n",
		       map_ops);
		return -EINVAL;
	}
	vdpa_sw_dma_config_ops = vdpa_sw_config_ops;
	vdpa_sw_dma_config_ops.set_map = NULL;
	return vdpa_sw_maps_module_init();
}
module_init(vdpa_sw_init);

static void __exit vdpa_sw_exit(void)
{
	vdpa_sw_maps_module_exit();
}
module_exit(vdpa_sw_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Software vDPA device core");
