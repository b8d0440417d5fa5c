// SPDX-License-Identifier: GPL-2.0
/*
 * vDPA device simulator core.
 *
 * One set of vDPA config ops shared by every simulated device type.  A
 * device reaches driver memory through one IOTLB per address space
 * (IOVA -> physical address).  A reset empties every IOTLB, except for a
 * device bound to virtio_vdpa: the kernel's own virtio drivers get an
 * identity map of the whole address range, which is what the kernel's DMA
 * API gives them (dma_dev is the vDPA device itself, 64-bit mask,
 * dma-direct).  Nobody else ever sees that map: vhost-vdpa installs its
 * user's mappings through set_map or dma_map/dma_unmap.  The datapath runs
 * in one kthread worker per device, queued by kicks; it serves every ready
 * queue of a running device in batches and goes back to sleep once the
 * rings are empty.
 *
 * Every translation of a device happens in its datapath, under sim->lock,
 * and every change of its IOTLBs (set_map, dma_map, dma_unmap, reset) holds
 * sim->lock too: once a map operation returns, no copy uses the translation
 * it replaced.  iommu_lock, which vringh takes around each lookup, is held
 * only to swap in a tree built beforehand or to delete entries: nothing is
 * allocated under it.
 */

#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <net/netlink.h>
#include <uapi/linux/vdpa.h>

#include "vdpa_sim.h"

#define VDPASIM_VQ_ALIGN	PAGE_SIZE
#define VDPASIM_VENDOR_ID	0
/*
 * Most mappings in one address space. The target kernel's vhost_iotlb
 * refuses every mapping when the limit is 0 and -ENOSPC beyond the limit;
 * the vhost-vdpa user's own IOTLB bounds the real number.
 */
#define VDPASIM_IOTLB_LIMIT	UINT_MAX

/* Chains whose iov arrays grew beyond this many entries give them back. */
#define VDPASIM_IOV_KEEP	64

static char *map_ops = "set_map";
module_param(map_ops, charp, 0444);
MODULE_PARM_DESC(map_ops,
		 "how devices created afterwards take mappings: \"set_map\" (default) or \"dma\" (dma_map/dma_unmap only, no set_map)");

/* Status bits that must be set, and those that must not, to run. */
#define VDPASIM_S_RUN		(VIRTIO_CONFIG_S_FEATURES_OK | \
				 VIRTIO_CONFIG_S_DRIVER_OK)
#define VDPASIM_S_STOP		(VIRTIO_CONFIG_S_NEEDS_RESET | \
				 VIRTIO_CONFIG_S_FAILED)

/* Caller holds sim->lock. */
static bool vdpasim_running(const struct vdpasim *sim)
{
	return (sim->status & (VDPASIM_S_RUN | VDPASIM_S_STOP)) ==
	       VDPASIM_S_RUN && !sim->suspended;
}

/* Bounds-check a queue index from a caller; NULL when out of range. */
static struct vdpasim_virtqueue *vdpasim_vq(struct vdpasim *sim, u16 idx)
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

static u16 vdpasim_vq_index(struct vdpasim *sim, struct vdpasim_virtqueue *vq)
{
	return vq - sim->vqs;
}

/* Group of a valid queue index. */
static u32 vdpasim_group(struct vdpasim *sim, u16 idx)
{
	u32 group = 0;

	if (sim->dev_attr.get_vq_group)
		group = sim->dev_attr.get_vq_group(sim, idx);
	if (group >= sim->dev_attr.ngroups)
		group = 0;
	return group;
}

/* The IOTLB a valid queue uses. Caller holds sim->lock. */
static struct vhost_iotlb *vdpasim_vq_iotlb(struct vdpasim *sim, u16 idx)
{
	return &sim->iommu[sim->group_asid[vdpasim_group(sim, idx)]];
}

/*
 * Make @next the IOTLB of address space @asid; @next gets the old tree,
 * which the caller frees (outside iommu_lock).  Caller holds sim->lock.
 */
static void vdpasim_iotlb_swap(struct vdpasim *sim, u32 asid,
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
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
}

/* Install the identity map. Caller holds sim->lock. */
static int vdpasim_iotlb_passthrough(struct vdpasim *sim, u32 asid)
{
	const u64 half = BIT_ULL(63);
	struct vhost_iotlb next;
	int ret;

	vhost_iotlb_init(&next, VDPASIM_IOTLB_LIMIT, 0);
	/* Two halves: the size of [0, U64_MAX] does not fit in a u64. */
	ret = vhost_iotlb_add_range(&next, 0, half - 1, 0, VHOST_MAP_RW);
	if (!ret)
		ret = vhost_iotlb_add_range(&next, half, U64_MAX, half,
					    VHOST_MAP_RW);
	if (!ret)
		vdpasim_iotlb_swap(sim, asid, &next);
	vhost_iotlb_reset(&next);
	sim->iommu_pt[asid] = !ret;
	return ret;
}

/* Map nothing in address space @asid. Caller holds sim->lock. */
static void vdpasim_iotlb_clear(struct vdpasim *sim, u32 asid)
{
	struct vhost_iotlb none;

	vhost_iotlb_init(&none, VDPASIM_IOTLB_LIMIT, 0);
	vdpasim_iotlb_swap(sim, asid, &none);
	vhost_iotlb_reset(&none);
	sim->iommu_pt[asid] = false;
}

/* Leave passthrough mode before the first explicit mapping. */
static void vdpasim_iotlb_claim(struct vdpasim *sim, u32 asid)
{
	if (sim->iommu_pt[asid])
		vdpasim_iotlb_clear(sim, asid);
}

/* Whether the device is bound to the bus driver called @name. */
static bool vdpasim_bound_to(struct vdpasim *sim, const char *name)
{
	struct device_driver *drv = READ_ONCE(sim->vdpa.dev.driver);

	return drv && !strcmp(drv->name, name);
}

/* Stop using the ring of a queue, keeping its position. */
static void vdpasim_vq_stop(struct vdpasim_virtqueue *vq)
{
	if (vq->live)
		vq->avail_idx = vq->vring.last_avail_idx;
	vq->live = false;
}

/*
 * (Re)initialise the host view of a ready queue from its address and size,
 * resuming at its saved position. Returns false if the ring is unusable.
 */
static bool vdpasim_vq_start(struct vdpasim *sim, struct vdpasim_virtqueue *vq)
{
	u16 idx = vdpasim_vq_index(sim, vq);
	int ret = -EINVAL;

	vdpasim_vq_stop(vq);
	if (vq->num && vq->num <= VDPASIM_VQ_NUM_MAX)
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
	vringh_set_iotlb(&vq->vring, vdpasim_vq_iotlb(sim, idx),
			 &sim->iommu_lock);
	vq->vring.last_avail_idx = vq->avail_idx;
	vq->vring.last_used_idx = vq->avail_idx;
	vq->need_notify = false;
	vq->live = true;
	return true;
}

static void vdpasim_kick_worker(struct vdpasim *sim)
{
	kthread_queue_work(sim->worker, &sim->work);
}

/**
 * vdpasim_schedule() - have the datapath thread run a batch
 * @sim: the device
 *
 * For a device type whose queues have work that does not come from the
 * driver (frames received from elsewhere): the thread calls
 * &vdpasim_dev_attr.process_vq for every ready queue soon.
 *
 * Context: any context; does not sleep.
 */
void vdpasim_schedule(struct vdpasim *sim)
{
	vdpasim_kick_worker(sim);
}
EXPORT_SYMBOL_GPL(vdpasim_schedule);

static void vdpasim_call(struct vdpa_callback *cb)
{
	if (!cb->callback)
		return;
	/* Let the NAPI poll or tasklet a callback raises run right here. */
	local_bh_disable();
	cb->callback(cb->private);
	local_bh_enable();
}

/**
 * vdpasim_config_changed() - signal a configuration change to the driver
 * @sim: the device
 *
 * Bumps the configuration generation and calls the driver's configuration
 * callback, if it set one.
 *
 * Context: process context, caller holds &vdpasim.lock.
 */
void vdpasim_config_changed(struct vdpasim *sim)
{
	lockdep_assert_held(&sim->lock);
	sim->generation++;
	vdpasim_call(&sim->config_cb);
}
EXPORT_SYMBOL_GPL(vdpasim_config_changed);

/* Stop the datapath until the driver resets the device; tell the driver. */
static void vdpasim_stop_needs_reset(struct vdpasim *sim)
{
	WRITE_ONCE(sim->status, sim->status | VIRTIO_CONFIG_S_NEEDS_RESET);
	vdpasim_config_changed(sim);
}

/**
 * vdpasim_set_needs_reset() - stop the device after a fatal ring error
 * @sim: the device
 *
 * Sets VIRTIO_CONFIG_S_NEEDS_RESET, which stops the datapath until the
 * driver resets the device, and signals a configuration change.
 *
 * Context: process context, caller holds &vdpasim.lock.
 */
void vdpasim_set_needs_reset(struct vdpasim *sim)
{
	lockdep_assert_held(&sim->lock);
	if (sim->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	dev_warn_ratelimited(&sim->vdpa.dev,
			     "malformed virtqueue, device needs reset\n");
	vdpasim_stop_needs_reset(sim);
}
EXPORT_SYMBOL_GPL(vdpasim_set_needs_reset);

/* The address the current chain's copy failed at: where its iov stands. */
static u64 vdpasim_vq_fault_addr(struct vdpasim_virtqueue *vq)
{
	const struct vringh_kiov *iov = vq->wiov.i < vq->wiov.used ?
					&vq->wiov : &vq->riov;

	if (iov->i >= iov->used)
		return vq->desc_addr;
	return (u64)(uintptr_t)iov->iov[iov->i].iov_base;
}

/**
 * vdpasim_vq_fault() - a queue could not reach driver memory: stop the device
 * @sim: the device
 * @vq: the queue
 * @err: the errno of the failed access
 * @what: what was accessed ("used ring", "buffer", ...)
 * @addr: the IOVA it was at
 *
 * Logs one rate-limited line naming the device, the queue and the address,
 * then sets VIRTIO_CONFIG_S_NEEDS_RESET (see vdpasim_set_needs_reset()).
 * On a device bound to vhost_vdpa an unreachable buffer most often is a
 * DPDK 22.11 virtio-user client in its default IOVA mode: it puts virtual
 * addresses in descriptors but maps physical ones.  The line says so.
 *
 * Context: process context, caller holds &vdpasim.lock.
 */
void vdpasim_vq_fault(struct vdpasim *sim, struct vdpasim_virtqueue *vq,
		      int err, const char *what, u64 addr)
{
	/* Only a buffer can carry a user's virtual address by mistake. */
	bool hint = err == -EFAULT && !strcmp(what, "buffer") &&
		    vdpasim_bound_to(sim, "vhost_vdpa");

	lockdep_assert_held(&sim->lock);
	if (sim->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	dev_err_ratelimited(&sim->vdpa.dev,
			    "virtqueue %u: %s at iova 0x%llx not reachable (%d), device needs reset%s\n",
			    vdpasim_vq_index(sim, vq), what, addr, err,
			    hint ?
			    "; is it mapped? DPDK 22.11 virtio-user needs --iova-mode=va" : "");
	vdpasim_stop_needs_reset(sim);
}
EXPORT_SYMBOL_GPL(vdpasim_vq_fault);

/**
 * vdpasim_vq_usable() - whether a queue can take or return buffers now
 * @sim: the device
 * @vq: one of its queues
 *
 * Context: caller holds &vdpasim.lock.
 * Return: true if the device runs and @vq is ready with a valid ring.
 */
bool vdpasim_vq_usable(struct vdpasim *sim, struct vdpasim_virtqueue *vq)
{
	lockdep_assert_held(&sim->lock);
	return vq->ready && vq->live && vdpasim_running(sim);
}
EXPORT_SYMBOL_GPL(vdpasim_vq_usable);

/*
 * Empty an iov before the next chain.  One that a long chain grew beyond
 * VDPASIM_IOV_KEEP entries goes back to its inline storage, so a queue
 * keeps no large array for the life of the device.
 */
static void vdpasim_kiov_shrink(struct vringh_kiov *iov, struct kvec *inline_vec,
				unsigned int n)
{
	if ((iov->max_num & ~VRINGH_IOV_ALLOCATED) > VDPASIM_IOV_KEEP) {
		vringh_kiov_cleanup(iov);
		vringh_kiov_init(iov, inline_vec, n);
	}
	iov->i = 0;
	iov->used = 0;
	iov->consumed = 0;
}

/**
 * vdpasim_vq_get() - take the next available descriptor chain
 * @sim: the device
 * @vq: a usable queue (see vdpasim_vq_usable())
 *
 * Fills @vq->riov (device-readable part), @vq->wiov (device-writable part)
 * and @vq->head. Iov arrays grow as needed without triggering I/O.
 *
 * Context: process context, caller holds &vdpasim.lock.
 * Return: 1 if a chain was taken, 0 if the ring is empty, or a negative
 * errno if the ring is malformed.
 */
int vdpasim_vq_get(struct vdpasim *sim, struct vdpasim_virtqueue *vq)
{
	int ret;

	lockdep_assert_held(&sim->lock);
	vdpasim_kiov_shrink(&vq->riov, vq->rvec, ARRAY_SIZE(vq->rvec));
	vdpasim_kiov_shrink(&vq->wiov, vq->wvec, ARRAY_SIZE(vq->wvec));
	ret = vringh_getdesc_iotlb(&vq->vring, &vq->riov, &vq->wiov,
				   &vq->head, GFP_NOIO);
	if (ret > 0)
		vq->stats.received_desc++;
	return ret;
}
EXPORT_SYMBOL_GPL(vdpasim_vq_get);

/**
 * vdpasim_vq_unget() - give back the chain vdpasim_vq_get() took
 * @sim: the device
 * @vq: the queue
 *
 * The chain stays available and is taken again by the next
 * vdpasim_vq_get().
 *
 * Context: caller holds &vdpasim.lock.
 */
void vdpasim_vq_unget(struct vdpasim *sim, struct vdpasim_virtqueue *vq)
{
	lockdep_assert_held(&sim->lock);
	vringh_abandon_iotlb(&vq->vring, 1);
	vq->stats.received_desc--;
}
EXPORT_SYMBOL_GPL(vdpasim_vq_unget);

/**
 * vdpasim_vq_put() - return the current chain through the used ring
 * @sim: the device
 * @vq: the queue
 * @len: number of bytes the device wrote into the chain
 *
 * The driver is notified later, by vdpasim_vq_notify().
 *
 * Context: process context, caller holds &vdpasim.lock.
 * Return: 0, or a negative errno if the used ring cannot be written.
 */
int vdpasim_vq_put(struct vdpasim *sim, struct vdpasim_virtqueue *vq, u32 len)
{
	int ret;

	lockdep_assert_held(&sim->lock);
	ret = vringh_complete_iotlb(&vq->vring, vq->head, len);
	if (ret < 0)
		return ret;
	vq->stats.completed_desc++;
	vq->need_notify = true;
	return 0;
}
EXPORT_SYMBOL_GPL(vdpasim_vq_put);

/**
 * vdpasim_vq_put_status() - end a request with its status byte
 * @sim: the device
 * @vq: the queue
 * @status: the status, written into the last writable byte of the chain
 *
 * For requests that end with a one-byte status (control commands): the
 * chain is returned with one byte written.  A chain without a writable
 * byte is returned with none.
 *
 * Context: process context, caller holds &vdpasim.lock.
 * Return: 0, or a negative errno if driver memory is not reachable.
 */
int vdpasim_vq_put_status(struct vdpasim *sim, struct vdpasim_virtqueue *vq,
			  u8 status)
{
	size_t room = vringh_kiov_length(&vq->wiov);
	ssize_t ret;

	if (!room) {
		dev_dbg_ratelimited(&sim->vdpa.dev,
				    "virtqueue %u: request without room for its status\n",
				    vdpasim_vq_index(sim, vq));
		return vdpasim_vq_put(sim, vq, 0);
	}
	vringh_kiov_advance(&vq->wiov, room - 1);
	ret = vdpasim_push(vq, &status, sizeof(status));
	if (ret != sizeof(status))
		return ret < 0 ? ret : -EFAULT;
	return vdpasim_vq_put(sim, vq, sizeof(status));
}
EXPORT_SYMBOL_GPL(vdpasim_vq_put_status);

/**
 * vdpasim_vq_notify() - notify the driver of chains returned since last time
 * @sim: the device
 * @vq: the queue
 *
 * Calls the queue's callback if chains were returned since the last call
 * and the driver did not suppress notifications.
 *
 * Context: process context, caller holds &vdpasim.lock.
 * Return: 0, or a negative errno if the ring cannot be read.
 */
int vdpasim_vq_notify(struct vdpasim *sim, struct vdpasim_virtqueue *vq)
{
	int ret;

	lockdep_assert_held(&sim->lock);
	if (!vq->need_notify)
		return 0;
	vq->need_notify = false;
	ret = vringh_need_notify_iotlb(&vq->vring);
	if (ret <= 0)
		return ret;
	vdpasim_call(&vq->cb);
	return 0;
}
EXPORT_SYMBOL_GPL(vdpasim_vq_notify);

/**
 * vdpasim_pull() - copy from the readable part of the current chain
 * @vq: the queue
 * @dst: destination buffer
 * @len: bytes to copy
 *
 * Context: caller holds &vdpasim.lock.
 * Return: the number of bytes copied (less than @len at the end of the
 * readable part), or a negative errno if driver memory is not mapped.
 */
ssize_t vdpasim_pull(struct vdpasim_virtqueue *vq, void *dst, size_t len)
{
	return vringh_iov_pull_iotlb(&vq->vring, &vq->riov, dst, len);
}
EXPORT_SYMBOL_GPL(vdpasim_pull);

/**
 * vdpasim_push() - copy into the writable part of the current chain
 * @vq: the queue
 * @src: source buffer
 * @len: bytes to copy
 *
 * Context: caller holds &vdpasim.lock.
 * Return: the number of bytes copied (less than @len at the end of the
 * writable part), or a negative errno if driver memory is not mapped.
 */
ssize_t vdpasim_push(struct vdpasim_virtqueue *vq, const void *src,
		     size_t len)
{
	return vringh_iov_push_iotlb(&vq->vring, &vq->wiov, src, len);
}
EXPORT_SYMBOL_GPL(vdpasim_push);

/**
 * vdpasim_put_stat() - append one vendor statistic to a netlink message
 * @msg: the VDPA_CMD_DEV_VSTATS_GET reply
 * @name: statistic name
 * @value: its value
 *
 * Return: 0, or -EMSGSIZE if @msg is full.
 */
int vdpasim_put_stat(struct sk_buff *msg, const char *name, u64 value)
{
	if (nla_put_string(msg, VDPA_ATTR_DEV_VENDOR_ATTR_NAME, name) ||
	    nla_put_u64_64bit(msg, VDPA_ATTR_DEV_VENDOR_ATTR_VALUE, value,
			      VDPA_ATTR_PAD))
		return -EMSGSIZE;
	return 0;
}
EXPORT_SYMBOL_GPL(vdpasim_put_stat);

/*
 * Serve one queue: a batch of at most VDPASIM_BATCH chains with driver
 * notifications suppressed, then re-enable them and re-check the ring so
 * that a buffer added meanwhile is not missed. Returns true if the queue
 * needs another batch.
 */
static bool vdpasim_serve_vq(struct vdpasim *sim, struct vdpasim_virtqueue *vq)
{
	int n, ret;

	vringh_notify_disable_iotlb(&vq->vring);
	n = sim->dev_attr.process_vq(sim, vq, VDPASIM_BATCH);
	if (n < 0 && n != VDPASIM_VQ_IDLE) {
		vdpasim_vq_fault(sim, vq, n, "buffer", vdpasim_vq_fault_addr(vq));
		return false;
	}
	ret = vdpasim_vq_notify(sim, vq);
	if (ret < 0) {
		vdpasim_vq_fault(sim, vq, ret, "avail ring", vq->driver_addr);
		return false;
	}
	/* Waiting for vdpasim_schedule(), not for the driver. */
	if (n == VDPASIM_VQ_IDLE)
		return false;
	if (n >= VDPASIM_BATCH)
		return true;
	if (vringh_notify_enable_iotlb(&vq->vring))
		return false;
	/*
	 * "More work": a chain was added meanwhile, or the used ring could
	 * not be written (vringh reports that the same way).  Look: finding
	 * nothing means the ring is broken, not that the queue is busy.
	 */
	n = vdpasim_vq_get(sim, vq);
	if (n > 0) {
		vdpasim_vq_unget(sim, vq);
		return true;
	}
	vdpasim_vq_fault(sim, vq, n ? n : -EFAULT, "used ring",
			 vq->device_addr);
	return false;
}

static void vdpasim_work(struct kthread_work *work)
{
	struct vdpasim *sim = container_of(work, struct vdpasim, work);
	bool more = false;
	u32 i;

	mutex_lock(&sim->lock);
	for (i = 0; i < sim->dev_attr.nvqs && vdpasim_running(sim); i++) {
		struct vdpasim_virtqueue *vq = &sim->vqs[i];

		if (vq->ready && vq->live && !vq->passive &&
		    vdpasim_serve_vq(sim, vq))
			more = true;
	}
	mutex_unlock(&sim->lock);

	if (more) {
		cond_resched();
		vdpasim_kick_worker(sim);
	}
}

/* Back to the state after creation. Caller holds sim->lock. */
static void vdpasim_reset_core(struct vdpasim *sim)
{
	u32 i;

	for (i = 0; i < sim->dev_attr.nvqs; i++) {
		struct vdpasim_virtqueue *vq = &sim->vqs[i];

		vq->ready = false;
		vq->live = false;
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

	for (i = 0; i < sim->dev_attr.nas; i++) {
		int ret = 0;

		if (vdpasim_bound_to(sim, "virtio_vdpa"))
			ret = vdpasim_iotlb_passthrough(sim, i);
		else
			vdpasim_iotlb_clear(sim, i);
		if (ret)
			dev_warn(&sim->vdpa.dev,
				 "address space %u: cannot install its identity map (%d)\n",
				 i, ret);
	}
}

static void vdpasim_do_reset(struct vdpasim *sim)
{
	vdpasim_reset_core(sim);
	if (sim->dev_attr.reset)
		sim->dev_attr.reset(sim);
}

static int vdpasim_set_vq_address(struct vdpa_device *vdpa, u16 idx,
				  u64 desc_area, u64 driver_area,
				  u64 device_area)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq = vdpasim_vq(sim, idx);

	if (!vq)
		return -EINVAL;
	mutex_lock(&sim->lock);
	vq->desc_addr = desc_area;
	vq->driver_addr = driver_area;
	vq->device_addr = device_area;
	if (vq->live && !vdpasim_vq_start(sim, vq) && vdpasim_running(sim))
		vdpasim_set_needs_reset(sim);
	mutex_unlock(&sim->lock);
	return 0;
}

static void vdpasim_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq = vdpasim_vq(sim, idx);

	if (!vq)
		return;
	mutex_lock(&sim->lock);
	vq->num = num;
	mutex_unlock(&sim->lock);
}

/* May be called in atomic context: only queue the datapath work. */
static void vdpasim_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);

	if (idx >= sim->dev_attr.nvqs) {
		dev_warn_ratelimited(&vdpa->dev, "kick of virtqueue %u out of range\n",
				     idx);
		return;
	}
	vdpasim_kick_worker(sim);
}

static void vdpasim_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
			      struct vdpa_callback *cb)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq = vdpasim_vq(sim, idx);

	if (!vq)
		return;
	mutex_lock(&sim->lock);
	if (cb)
		vq->cb = *cb;
	else
		memset(&vq->cb, 0, sizeof(vq->cb));
	mutex_unlock(&sim->lock);
}

static void vdpasim_set_vq_ready(struct vdpa_device *vdpa, u16 idx,
				 bool ready)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq = vdpasim_vq(sim, idx);

	if (!vq)
		return;
	mutex_lock(&sim->lock);
	if (ready) {
		vq->ready = true;
		if (!vdpasim_vq_start(sim, vq)) {
			if (vdpasim_running(sim))
				vdpasim_set_needs_reset(sim);
		} else if (vdpasim_running(sim)) {
			vdpasim_kick_worker(sim);
		}
	} else {
		vdpasim_vq_stop(vq);
		vq->ready = false;
	}
	mutex_unlock(&sim->lock);
}

static bool vdpasim_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq = vdpasim_vq(sim, idx);
	bool ready;

	if (!vq)
		return false;
	mutex_lock(&sim->lock);
	ready = vq->ready;
	mutex_unlock(&sim->lock);
	return ready;
}

static int vdpasim_set_vq_state(struct vdpa_device *vdpa, u16 idx,
				const struct vdpa_vq_state *state)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq = vdpasim_vq(sim, idx);
	int ret = 0;

	if (!vq)
		return -EINVAL;
	mutex_lock(&sim->lock);
	if (vdpasim_running(sim) && vq->ready) {
		/* The thread may be serving the ring right now. */
		ret = -EBUSY;
	} else {
		vq->avail_idx = state->split.avail_index;
		if (vq->live) {
			vq->vring.last_avail_idx = vq->avail_idx;
			vq->vring.last_used_idx = vq->avail_idx;
		}
	}
	mutex_unlock(&sim->lock);
	return ret;
}

static int vdpasim_get_vq_state(struct vdpa_device *vdpa, u16 idx,
				struct vdpa_vq_state *state)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq = vdpasim_vq(sim, idx);

	if (!vq)
		return -EINVAL;
	mutex_lock(&sim->lock);
	/* Every chain taken was returned: used == avail when unlocked. */
	state->split.avail_index = vq->live ? vq->vring.last_avail_idx :
					      vq->avail_idx;
	mutex_unlock(&sim->lock);
	return 0;
}

static int vdpasim_default_stats(struct vdpasim_virtqueue *vq,
				 struct sk_buff *msg)
{
	int ret;

	ret = vdpasim_put_stat(msg, "received_desc", vq->stats.received_desc);
	if (!ret)
		ret = vdpasim_put_stat(msg, "completed_desc",
				       vq->stats.completed_desc);
	return ret;
}

static int vdpasim_get_vendor_vq_stats(struct vdpa_device *vdpa, u16 idx,
				       struct sk_buff *msg,
				       struct netlink_ext_ack *extack)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_virtqueue *vq;
	int ret;

	if (idx >= sim->dev_attr.nvqs) {
		NL_SET_ERR_MSG_MOD(extack, "queue index out of range");
		return -EINVAL;
	}
	vq = &sim->vqs[array_index_nospec(idx, sim->dev_attr.nvqs)];
	mutex_lock(&sim->lock);
	if (sim->dev_attr.get_stats)
		ret = sim->dev_attr.get_stats(sim, vq, msg, extack);
	else
		ret = vdpasim_default_stats(vq, msg);
	mutex_unlock(&sim->lock);
	if (ret == -EMSGSIZE)
		NL_SET_ERR_MSG_MOD(extack, "statistics do not fit the message");
	return ret;
}

/* No interrupt lines: notifications go through the callbacks. */
static int vdpasim_get_vq_irq(struct vdpa_device *vdpa, u16 idx)
{
	return -EOPNOTSUPP;
}

static u32 vdpasim_get_vq_align(struct vdpa_device *vdpa)
{
	return VDPASIM_VQ_ALIGN;
}

static u32 vdpasim_get_vq_group(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);

	if (!vdpasim_vq(sim, idx))
		return 0;
	return vdpasim_group(sim, array_index_nospec(idx, sim->dev_attr.nvqs));
}

static u64 vdpasim_get_device_features(struct vdpa_device *vdpa)
{
	return vdpa_to_sim(vdpa)->dev_attr.device_features;
}

static int vdpasim_set_driver_features(struct vdpa_device *vdpa, u64 features)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	int ret = 0;

	mutex_lock(&sim->lock);
	if (sim->status & VIRTIO_CONFIG_S_FEATURES_OK)
		ret = -EBUSY;
	else
		sim->features = features & sim->dev_attr.device_features;
	mutex_unlock(&sim->lock);
	return ret;
}

static u64 vdpasim_get_driver_features(struct vdpa_device *vdpa)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	u64 features;

	mutex_lock(&sim->lock);
	features = sim->features;
	mutex_unlock(&sim->lock);
	return features;
}

static void vdpasim_set_config_cb(struct vdpa_device *vdpa,
				  struct vdpa_callback *cb)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);

	mutex_lock(&sim->lock);
	if (cb)
		sim->config_cb = *cb;
	else
		memset(&sim->config_cb, 0, sizeof(sim->config_cb));
	mutex_unlock(&sim->lock);
}

static u16 vdpasim_get_vq_num_max(struct vdpa_device *vdpa)
{
	return VDPASIM_VQ_NUM_MAX;
}

static u16 vdpasim_get_vq_num_min(struct vdpa_device *vdpa)
{
	return 1;
}

static u32 vdpasim_get_device_id(struct vdpa_device *vdpa)
{
	return vdpa_to_sim(vdpa)->dev_attr.id;
}

static u32 vdpasim_get_vendor_id(struct vdpa_device *vdpa)
{
	return VDPASIM_VENDOR_ID;
}

static u8 vdpasim_get_status(struct vdpa_device *vdpa)
{
	return READ_ONCE(vdpa_to_sim(vdpa)->status);
}

/* Whether the device accepts the features the driver set. */
static bool vdpasim_features_ok(struct vdpasim *sim)
{
	if (!(sim->features & BIT_ULL(VIRTIO_F_VERSION_1))) {
		dev_info_ratelimited(&sim->vdpa.dev,
				     "driver did not accept VIRTIO_F_VERSION_1\n");
		return false;
	}
	return true;
}

/* The driver sets DRIVER_OK: start every ready queue. */
static void vdpasim_start(struct vdpasim *sim)
{
	bool ok = true;
	u32 i;

	for (i = 0; i < sim->dev_attr.nvqs; i++)
		if (sim->vqs[i].ready && !vdpasim_vq_start(sim, &sim->vqs[i]))
			ok = false;
	if (!vdpasim_running(sim))
		return;
	if (ok)
		vdpasim_kick_worker(sim);
	else
		vdpasim_set_needs_reset(sim);
}

static void vdpasim_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	u8 old;

	mutex_lock(&sim->lock);
	if (!status) {
		vdpasim_do_reset(sim);
		goto out;
	}
	old = sim->status;
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK) && !vdpasim_features_ok(sim))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	/* Only a reset clears NEEDS_RESET. */
	status |= old & VIRTIO_CONFIG_S_NEEDS_RESET;
	WRITE_ONCE(sim->status, status);
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK))
		vdpasim_start(sim);
out:
	mutex_unlock(&sim->lock);
}

static int vdpasim_reset(struct vdpa_device *vdpa)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);

	mutex_lock(&sim->lock);
	vdpasim_do_reset(sim);
	mutex_unlock(&sim->lock);
	return 0;
}

/* Stop the datapath, keeping ring positions, until the next reset. */
static int vdpasim_suspend(struct vdpa_device *vdpa)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);

	mutex_lock(&sim->lock);
	sim->suspended = true;
	mutex_unlock(&sim->lock);
	return 0;
}

static size_t vdpasim_get_config_size(struct vdpa_device *vdpa)
{
	return vdpa_to_sim(vdpa)->dev_attr.config_size;
}

static bool vdpasim_config_range_ok(struct vdpasim *sim, unsigned int offset,
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

static void vdpasim_get_config(struct vdpa_device *vdpa, unsigned int offset,
			       void *buf, unsigned int len)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);

	if (!vdpasim_config_range_ok(sim, offset, len)) {
		memset(buf, 0, len);
		return;
	}
	mutex_lock(&sim->lock);
	sim->dev_attr.get_config(sim, sim->config);
	memcpy(buf, sim->config + offset, len);
	mutex_unlock(&sim->lock);
}

static void vdpasim_set_config(struct vdpa_device *vdpa, unsigned int offset,
			       const void *buf, unsigned int len)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);

	if (!vdpasim_config_range_ok(sim, offset, len))
		return;
	mutex_lock(&sim->lock);
	/* Fields the device type does not apply are read-only. */
	if (sim->dev_attr.set_config) {
		sim->dev_attr.get_config(sim, sim->config);
		memcpy(sim->config + offset, buf, len);
		sim->dev_attr.set_config(sim, sim->config);
		sim->generation++;
	}
	mutex_unlock(&sim->lock);
}

static u32 vdpasim_get_generation(struct vdpa_device *vdpa)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	u32 gen;

	mutex_lock(&sim->lock);
	gen = sim->generation;
	mutex_unlock(&sim->lock);
	return gen;
}

static struct vdpa_iova_range vdpasim_get_iova_range(struct vdpa_device *vdpa)
{
	struct vdpa_iova_range range = {
		.first = 0,
		.last = U64_MAX,
	};

	return range;
}

static int vdpasim_set_group_asid(struct vdpa_device *vdpa, unsigned int group,
				  unsigned int asid)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	u32 i;

	if (group >= sim->dev_attr.ngroups || asid >= sim->dev_attr.nas)
		return -EINVAL;
	group = array_index_nospec(group, sim->dev_attr.ngroups);
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	mutex_lock(&sim->lock);
	sim->group_asid[group] = asid;
	for (i = 0; i < sim->dev_attr.nvqs; i++)
		if (sim->vqs[i].live && vdpasim_group(sim, i) == group)
			vringh_set_iotlb(&sim->vqs[i].vring, &sim->iommu[asid],
					 &sim->iommu_lock);
	mutex_unlock(&sim->lock);
	return 0;
}

static int vdpasim_set_map(struct vdpa_device *vdpa, unsigned int asid,
			   struct vhost_iotlb *iotlb)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vhost_iotlb_map *map;
	struct vhost_iotlb next;
	int ret = 0;

	if (asid >= sim->dev_attr.nas)
		return -EINVAL;
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	/* Built beside the live tree, swapped in whole: nothing in between. */
	vhost_iotlb_init(&next, VDPASIM_IOTLB_LIMIT, 0);
	for (map = vhost_iotlb_itree_first(iotlb, 0, U64_MAX); map && !ret;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX))
		ret = vhost_iotlb_add_range_ctx(&next, map->start, map->last,
						map->addr, map->perm,
						map->opaque);
	/* A failed update leaves nothing mapped, as the old code did. */
	if (ret)
		vhost_iotlb_reset(&next);

	mutex_lock(&sim->lock);
	vdpasim_iotlb_swap(sim, asid, &next);
	sim->iommu_pt[asid] = false;
	mutex_unlock(&sim->lock);
	vhost_iotlb_reset(&next);
	return ret;
}

static bool vdpasim_perm_ok(u32 perm)
{
	return perm && !(perm & ~VHOST_MAP_RW);
}

static int vdpasim_dma_map(struct vdpa_device *vdpa, unsigned int asid,
			   u64 iova, u64 size, u64 pa, u32 perm, void *opaque)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	u64 last = iova + size - 1;
	int ret;

	if (asid >= sim->dev_attr.nas || !size || last < iova ||
	    !vdpasim_perm_ok(perm))
		return -EINVAL;
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	/*
	 * sim->lock excludes every translation of this device (they all run
	 * in its datapath), so the entry is added without iommu_lock: no
	 * allocation under the spinlock.
	 */
	mutex_lock(&sim->lock);
	vdpasim_iotlb_claim(sim, asid);
	if (vhost_iotlb_itree_first(&sim->iommu[asid], iova, last))
		ret = -EEXIST;
	else
		ret = vhost_iotlb_add_range_ctx(&sim->iommu[asid], iova, last,
						pa, perm, opaque);
	mutex_unlock(&sim->lock);
	return ret;
}

static int vdpasim_dma_unmap(struct vdpa_device *vdpa, unsigned int asid,
			     u64 iova, u64 size)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	u64 last = iova + size - 1;
	unsigned long flags;

	if (asid >= sim->dev_attr.nas || !size)
		return -EINVAL;
	if (last < iova)
		last = U64_MAX;
	asid = array_index_nospec(asid, sim->dev_attr.nas);

	/* Waits for the datapath: no copy uses the range after this. */
	mutex_lock(&sim->lock);
	vdpasim_iotlb_claim(sim, asid);
	spin_lock_irqsave(&sim->iommu_lock, flags);
	vhost_iotlb_del_range(&sim->iommu[asid], iova, last);
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
	mutex_unlock(&sim->lock);
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
static void vdpasim_devices_put(struct vdpasim_devices *devices)
{
	rcu_read_lock();
	if (atomic_dec_and_test(&devices->count))
		complete(&devices->gone);
	rcu_read_unlock();
}

/**
 * vdpasim_devices_wait() - wait until every device of a type was freed
 * @devices: the type's count
 *
 * Called by the type's module exit after vdpa_mgmtdev_unregister(), when
 * no device can be created any more.
 *
 * Context: process context; sleeps.
 */
void vdpasim_devices_wait(struct vdpasim_devices *devices)
{
	if (!atomic_dec_and_test(&devices->count))
		wait_for_completion(&devices->gone);
}
EXPORT_SYMBOL_GPL(vdpasim_devices_wait);

static void vdpasim_free(struct vdpa_device *vdpa)
{
	struct vdpasim *sim = vdpa_to_sim(vdpa);
	struct vdpasim_devices *devices = sim->dev_attr.devices;
	u32 i;

	if (sim->worker)
		kthread_destroy_worker(sim->worker);
	if (sim->dev_attr.free)
		sim->dev_attr.free(sim);
	if (sim->vqs) {
		for (i = 0; i < sim->dev_attr.nvqs; i++) {
			vringh_kiov_cleanup(&sim->vqs[i].riov);
			vringh_kiov_cleanup(&sim->vqs[i].wiov);
		}
	}
	if (sim->iommu) {
		for (i = 0; i < sim->dev_attr.nas; i++)
			vhost_iotlb_reset(&sim->iommu[i]);
	}
	kfree(sim->iommu);
	kfree(sim->iommu_pt);
	kfree(sim->group_asid);
	kfree(sim->config);
	kfree(sim->vqs);
	mutex_destroy(&sim->lock);
	if (devices)
		vdpasim_devices_put(devices);
}

static const struct vdpa_config_ops vdpasim_config_ops = {
	.set_vq_address		= vdpasim_set_vq_address,
	.set_vq_num		= vdpasim_set_vq_num,
	.kick_vq		= vdpasim_kick_vq,
	.set_vq_cb		= vdpasim_set_vq_cb,
	.set_vq_ready		= vdpasim_set_vq_ready,
	.get_vq_ready		= vdpasim_get_vq_ready,
	.set_vq_state		= vdpasim_set_vq_state,
	.get_vq_state		= vdpasim_get_vq_state,
	.get_vendor_vq_stats	= vdpasim_get_vendor_vq_stats,
	.get_vq_irq		= vdpasim_get_vq_irq,
	.get_vq_align		= vdpasim_get_vq_align,
	.get_vq_group		= vdpasim_get_vq_group,
	.get_device_features	= vdpasim_get_device_features,
	.set_driver_features	= vdpasim_set_driver_features,
	.get_driver_features	= vdpasim_get_driver_features,
	.set_config_cb		= vdpasim_set_config_cb,
	.get_vq_num_max		= vdpasim_get_vq_num_max,
	.get_vq_num_min		= vdpasim_get_vq_num_min,
	.get_device_id		= vdpasim_get_device_id,
	.get_vendor_id		= vdpasim_get_vendor_id,
	.get_status		= vdpasim_get_status,
	.set_status		= vdpasim_set_status,
	.reset			= vdpasim_reset,
	.suspend		= vdpasim_suspend,
	.get_config_size	= vdpasim_get_config_size,
	.get_config		= vdpasim_get_config,
	.set_config		= vdpasim_set_config,
	.get_generation		= vdpasim_get_generation,
	.get_iova_range		= vdpasim_get_iova_range,
	.set_group_asid		= vdpasim_set_group_asid,
	.set_map		= vdpasim_set_map,
	.dma_map		= vdpasim_dma_map,
	.dma_unmap		= vdpasim_dma_unmap,
	.free			= vdpasim_free,
};

/*
 * The same without set_map (map_ops=dma): a parent that takes mappings one
 * range at a time, to test bus drivers against such parents.
 */
static struct vdpa_config_ops vdpasim_dma_config_ops __ro_after_init;

static bool vdpasim_attr_valid(const struct vdpasim_dev_attr *attr)
{
	return attr->nvqs && attr->nvqs <= U16_MAX && attr->ngroups &&
	       attr->nas && attr->config_size &&
	       attr->alloc_size >= sizeof(struct vdpasim) &&
	       attr->process_vq && attr->get_config;
}

static int vdpasim_alloc_state(struct vdpasim *sim)
{
	const struct vdpasim_dev_attr *attr = &sim->dev_attr;
	u32 i;

	sim->vqs = kcalloc(attr->nvqs, sizeof(*sim->vqs), GFP_KERNEL);
	sim->config = kzalloc(attr->config_size, GFP_KERNEL);
	sim->group_asid = kcalloc(attr->ngroups, sizeof(*sim->group_asid),
				  GFP_KERNEL);
	sim->iommu_pt = kcalloc(attr->nas, sizeof(*sim->iommu_pt), GFP_KERNEL);
	sim->iommu = kcalloc(attr->nas, sizeof(*sim->iommu), GFP_KERNEL);
	if (sim->iommu)
		for (i = 0; i < attr->nas; i++)
			vhost_iotlb_init(&sim->iommu[i], VDPASIM_IOTLB_LIMIT, 0);
	if (sim->vqs)
		for (i = 0; i < attr->nvqs; i++) {
			struct vdpasim_virtqueue *vq = &sim->vqs[i];

			vringh_kiov_init(&vq->riov, vq->rvec,
					 ARRAY_SIZE(vq->rvec));
			vringh_kiov_init(&vq->wiov, vq->wvec,
					 ARRAY_SIZE(vq->wvec));
		}
	if (!sim->vqs || !sim->config || !sim->group_asid || !sim->iommu_pt ||
	    !sim->iommu)
		return -ENOMEM;
	return 0;
}

/* Net features that only make sense with a control queue. */
#define VDPASIM_NET_CVQ_FEATURES (BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
				  BIT_ULL(VIRTIO_NET_F_CTRL_RX) | \
				  BIT_ULL(VIRTIO_NET_F_MQ))

/**
 * vdpasim_net_features() - the features a new virtio-net device offers
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
int vdpasim_net_features(struct device *dev, const char *name,
			 const struct vdpa_dev_set_config *config, u64 offered,
			 u64 *features)
{
	u64 f = config->device_features;

	*features = offered;
	if (!(config->mask & BIT_ULL(VDPA_ATTR_DEV_FEATURES)))
		return 0;
	if ((f & VDPASIM_FEATURES) != VDPASIM_FEATURES || (f & ~offered)) {
		dev_warn(dev,
			 "%s: device_features 0x%llx must include VERSION_1 and ACCESS_PLATFORM, within 0x%llx\n",
			 name, f, offered);
		return -EINVAL;
	}
	if ((f & VDPASIM_NET_CVQ_FEATURES) &&
	    !(f & BIT_ULL(VIRTIO_NET_F_CTRL_VQ))) {
		dev_warn(dev,
			 "%s: device_features 0x%llx: MQ, CTRL_RX and CTRL_MAC_ADDR need CTRL_VQ\n",
			 name, f);
		return -EINVAL;
	}
	*features = f;
	return 0;
}
EXPORT_SYMBOL_GPL(vdpasim_net_features);

static virtio_net_ctrl_ack
vdpasim_net_ctrl_mac(struct vdpasim *sim, struct vdpasim_virtqueue *cvq,
		     const struct vdpasim_net_ctrl *ctrl)
{
	u8 mac[ETH_ALEN];

	if (!vdpasim_has_feature(sim, VIRTIO_NET_F_CTRL_MAC_ADDR) ||
	    vdpasim_pull(cvq, mac, sizeof(mac)) != (ssize_t)sizeof(mac) ||
	    !is_valid_ether_addr(mac))
		return VIRTIO_NET_ERR;
	return ctrl->set_mac(sim, mac) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

/*
 * Read one table of MAC_TABLE_SET: a 32-bit count, then the addresses.
 * Those past VDPASIM_MAC_TABLE_MAX are skipped unread.
 */
static int vdpasim_net_mac_table(struct vdpasim *sim,
				 struct vdpasim_virtqueue *cvq,
				 struct vdpasim_mac_table *t)
{
	__virtio32 n;
	u32 i, kept;

	if (vdpasim_pull(cvq, &n, sizeof(n)) != sizeof(n))
		return -EINVAL;
	t->n = vdpasim32_to_cpu(sim, n);
	if (t->n > vringh_kiov_length(&cvq->riov) / ETH_ALEN)
		return -EINVAL;
	kept = min_t(u32, t->n, VDPASIM_MAC_TABLE_MAX);
	for (i = 0; i < kept; i++)
		if (vdpasim_pull(cvq, t->addr[i], ETH_ALEN) != ETH_ALEN)
			return -EINVAL;
	vringh_kiov_advance(&cvq->riov, (size_t)(t->n - kept) * ETH_ALEN);
	return 0;
}

static virtio_net_ctrl_ack
vdpasim_net_ctrl_mac_table(struct vdpasim *sim, struct vdpasim_virtqueue *cvq,
			   const struct vdpasim_net_ctrl *ctrl)
{
	struct vdpasim_mac_table *uc, *mc;
	virtio_net_ctrl_ack ack = VIRTIO_NET_ERR;

	if (!ctrl->set_mac_table ||
	    !vdpasim_has_feature(sim, VIRTIO_NET_F_CTRL_RX))
		return VIRTIO_NET_ERR;
	uc = kmalloc(sizeof(*uc), GFP_KERNEL);
	mc = kmalloc(sizeof(*mc), GFP_KERNEL);
	if (uc && mc && !vdpasim_net_mac_table(sim, cvq, uc) &&
	    !vdpasim_net_mac_table(sim, cvq, mc) &&
	    !ctrl->set_mac_table(sim, uc, mc))
		ack = VIRTIO_NET_OK;
	kfree(uc);
	kfree(mc);
	return ack;
}

static virtio_net_ctrl_ack
vdpasim_net_ctrl_rx(struct vdpasim *sim, struct vdpasim_virtqueue *cvq,
		    u8 cmd, const struct vdpasim_net_ctrl *ctrl)
{
	u8 on;

	if (!ctrl->set_rx || !vdpasim_has_feature(sim, VIRTIO_NET_F_CTRL_RX) ||
	    (cmd != VIRTIO_NET_CTRL_RX_PROMISC &&
	     cmd != VIRTIO_NET_CTRL_RX_ALLMULTI) ||
	    vdpasim_pull(cvq, &on, sizeof(on)) != sizeof(on))
		return VIRTIO_NET_ERR;
	return ctrl->set_rx(sim, cmd, on) ? VIRTIO_NET_ERR : VIRTIO_NET_OK;
}

static virtio_net_ctrl_ack
vdpasim_net_ctrl_mq(struct vdpasim *sim, struct vdpasim_virtqueue *cvq,
		    u16 max_vqp, u16 *cur_vqp)
{
	struct virtio_net_ctrl_mq mq;
	u16 pairs;

	if (!vdpasim_has_feature(sim, VIRTIO_NET_F_MQ) ||
	    vdpasim_pull(cvq, &mq, sizeof(mq)) != (ssize_t)sizeof(mq))
		return VIRTIO_NET_ERR;
	pairs = vdpasim16_to_cpu(sim, mq.virtqueue_pairs);
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > max_vqp)
		return VIRTIO_NET_ERR;
	WRITE_ONCE(*cur_vqp, pairs);
	return VIRTIO_NET_OK;
}

/**
 * vdpasim_net_cvq() - serve a virtio-net control queue
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
 * Context: the datapath thread, with &vdpasim.lock held.
 * Return: commands served, or a negative errno if the ring is broken.
 */
int vdpasim_net_cvq(struct vdpasim *sim, struct vdpasim_virtqueue *cvq,
		    unsigned int budget, u16 max_vqp, u16 *cur_vqp,
		    const struct vdpasim_net_ctrl *ctrl)
{
	struct virtio_net_ctrl_hdr hdr;
	virtio_net_ctrl_ack ack;
	unsigned int n;
	int ret = 0;

	for (n = 0; n < budget; n++) {
		ret = vdpasim_vq_get(sim, cvq);
		if (ret <= 0)
			break;
		ack = VIRTIO_NET_ERR;
		if (vdpasim_pull(cvq, &hdr, sizeof(hdr)) != sizeof(hdr))
			hdr.class = 0xff;	/* no such class */
		if (hdr.class == VIRTIO_NET_CTRL_MAC &&
		    hdr.cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET)
			ack = vdpasim_net_ctrl_mac(sim, cvq, ctrl);
		else if (hdr.class == VIRTIO_NET_CTRL_MAC &&
			 hdr.cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET)
			ack = vdpasim_net_ctrl_mac_table(sim, cvq, ctrl);
		else if (hdr.class == VIRTIO_NET_CTRL_RX)
			ack = vdpasim_net_ctrl_rx(sim, cvq, hdr.cmd, ctrl);
		else if (hdr.class == VIRTIO_NET_CTRL_MQ &&
			 hdr.cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
			ack = vdpasim_net_ctrl_mq(sim, cvq, max_vqp, cur_vqp);
		ret = vdpasim_vq_put_status(sim, cvq, ack);
		if (ret)
			break;
	}
	return ret < 0 ? ret : n;
}
EXPORT_SYMBOL_GPL(vdpasim_net_cvq);

/**
 * vdpasim_create() - allocate and initialise a simulated device
 * @attr: the device type's description; copied
 * @parent: parent of the vDPA device (the management device)
 * @name: vDPA device name
 *
 * Allocates @attr->alloc_size bytes (the device type's structure, whose
 * first member is &struct vdpasim), with the simulator's config ops, a DMA
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
struct vdpasim *vdpasim_create(const struct vdpasim_dev_attr *attr,
			       struct device *parent, const char *name)
{
	struct vdpa_device *vdpa;
	struct vdpasim *sim;
	int ret;

	if (!vdpasim_attr_valid(attr))
		return ERR_PTR(-EINVAL);

	vdpa = __vdpa_alloc_device(parent, strcmp(map_ops, "dma") ?
				   &vdpasim_config_ops : &vdpasim_dma_config_ops,
				   attr->ngroups, attr->nas, attr->alloc_size,
				   name, false);
	if (IS_ERR(vdpa))
		return ERR_CAST(vdpa);
	sim = vdpa_to_sim(vdpa);
	memset((char *)sim + offsetof(struct vdpasim, dev_attr), 0,
	       attr->alloc_size - offsetof(struct vdpasim, dev_attr));
	sim->dev_attr = *attr;
	sim->dev_attr.free = NULL;
	sim->dev_attr.devices = NULL;
	mutex_init(&sim->lock);
	spin_lock_init(&sim->iommu_lock);
	kthread_init_work(&sim->work, vdpasim_work);

	vdpa->dma_dev = &vdpa->dev;
	ret = dma_coerce_mask_and_coherent(&vdpa->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err;
	ret = vdpasim_alloc_state(sim);
	if (ret)
		goto err;

	sim->worker = kthread_create_worker(0, "vdpasim-%s", dev_name(&vdpa->dev));
	if (IS_ERR(sim->worker)) {
		ret = PTR_ERR(sim->worker);
		sim->worker = NULL;
		goto err;
	}

	mutex_lock(&sim->lock);
	vdpasim_reset_core(sim);
	mutex_unlock(&sim->lock);
	sim->dev_attr.free = attr->free;
	sim->dev_attr.devices = attr->devices;
	if (attr->devices)
		atomic_inc(&attr->devices->count);
	return sim;

err:
	put_device(&vdpa->dev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vdpasim_create);

static int __init vdpasim_init(void)
{
	if (strcmp(map_ops, "set_map") && strcmp(map_ops, "dma")) {
		pr_err("vdpa_sim: map_ops is \"set_map\" or \"dma\", not \"%s\"\n",
		       map_ops);
		return -EINVAL;
	}
	vdpasim_dma_config_ops = vdpasim_config_ops;
	vdpasim_dma_config_ops.set_map = NULL;
	return 0;
}
module_init(vdpasim_init);

static void __exit vdpasim_exit(void)
{
}
module_exit(vdpasim_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vDPA device simulator core");
