/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Software vDPA device core: the state and helpers shared by the devices
 * whose datapath is kernel code (vdpa_sim_net, vdpa_sim_blk, vdpa_mediator).
 */
#ifndef _VDPA_SWDEV_H
#define _VDPA_SWDEV_H

#include <linux/completion.h>
#include <linux/iova.h>
#include <linux/kthread.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_byteorder.h>
#include <linux/vringh.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_net.h>

#include "../../vhost/vringh_cache.h"

/* Largest ring a driver may ask for (ops->get_vq_num_max). */
#define VDPA_SW_VQ_NUM_MAX	256
/* Buffers one virtqueue may consume before the thread yields. */
#define VDPA_SW_BATCH		64
/* Descriptors per chain a queue can hold before its iovs grow. */
#define VDPA_SW_IOV_INIT	4
/* Most chains vdpa_sw_vq_get_batch() takes at once. */
#define VDPA_SW_GET_BATCH	16

/* process_vq: the queue waits for vdpa_sw_schedule(), see there. */
#define VDPA_SW_VQ_IDLE		(-EAGAIN)

/* Features every software device offers. */
#define VDPA_SW_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM))

struct vdpa_sw;

/**
 * struct vdpa_sw_devices - the devices of one device type not yet freed
 * @count: devices not yet freed, plus one for the type's module until its
 *	exit starts
 * @gone: completed when @count drops to zero
 *
 * The last reference to a device may be dropped after its module's exit
 * started (vdpa_mgmtdev_unregister() only unregisters devices): the exit
 * waits in vdpa_sw_devices_wait() until the core freed every device, so
 * the device type's hooks are never called into a freed module.
 * Initialise with VDPA_SW_DEVICES_INIT().
 */
struct vdpa_sw_devices {
	atomic_t count;
	struct completion gone;
};

#define VDPA_SW_DEVICES_INIT(name) {					\
	.count = ATOMIC_INIT(1),					\
	.gone = COMPLETION_INITIALIZER((name).gone),			\
}

/**
 * struct vdpa_sw_vq_stats - counters of one virtqueue (vendor statistics)
 * @received_desc: descriptor chains taken from the available ring
 * @completed_desc: descriptor chains returned through the used ring
 * @bytes: payload bytes moved by this queue (device specific)
 * @frames: frames moved by this queue (device specific); a frame may
 *	take several chains
 * @dropped: requests or frames dropped (device specific)
 */
struct vdpa_sw_vq_stats {
	u64 received_desc;
	u64 completed_desc;
	u64 bytes;
	u64 frames;
	u64 dropped;
};

/**
 * struct vdpa_sw_bufs - chains a queue holds for one frame that spans
 *	several of them (VIRTIO_NET_F_MRG_RXBUF), see bufs.c
 * @iov: the writable parts of the chains, in the order they were taken
 * @used: the chains' heads (&vring_used_elem.id) and writable bytes
 *	(&vring_used_elem.len, the bytes written once they are completed),
 *	in the ring's byte order
 * @n: chains held; taken from the ring, neither completed nor given back
 * @max: entries of @used allocated
 * @room: writable bytes of the chains held
 */
struct vdpa_sw_bufs {
	struct vringh_kiov iov;
	struct vring_used_elem *used;
	unsigned int n;
	unsigned int max;
	size_t room;
};

/**
 * struct vdpa_sw_batch - chains a queue took together, see
 *	vdpa_sw_vq_get_batch()
 * @riov: device-readable part of each chain
 * @wiov: device-writable part of each chain
 * @rvec: initial storage of @riov (they grow on demand; one grown past 64
 *	kvecs goes back to it at the next batch, so a queue keeps at most
 *	32 KiB of kvecs between batches)
 * @wvec: initial storage of @wiov
 * @head: head of each chain
 * @used: the used elements vdpa_sw_vq_put_batch() writes
 * @n: chains held: taken, neither returned nor given back
 */
struct vdpa_sw_batch {
	struct vringh_kiov riov[VDPA_SW_GET_BATCH];
	struct vringh_kiov wiov[VDPA_SW_GET_BATCH];
	struct kvec rvec[VDPA_SW_GET_BATCH][VDPA_SW_IOV_INIT];
	struct kvec wvec[VDPA_SW_GET_BATCH][VDPA_SW_IOV_INIT];
	u16 head[VDPA_SW_GET_BATCH];
	struct vring_used_elem used[VDPA_SW_GET_BATCH];
	unsigned int n;
};

/**
 * struct vdpa_sw_virtqueue - one virtqueue of a software device
 * @vring: host view of the ring, valid while @live
 * @riov: device-readable part of the chain being served
 * @wiov: device-writable part of the chain being served
 * @rvec: initial storage of @riov (it grows on demand)
 * @wvec: initial storage of @wiov
 * @xlc: the last IOTLB map vringh found for this queue, valid while
 *	&vdpa_sw.map_gen does not move, and the IOVA its last failed access
 *	could not reach (vdpa_sw_vq_error())
 * @head: head of the chain being served
 * @bufs: chains held for one frame, between calls of the datapath thread
 *	while the ring has too few (vdpa_sw_vq_get_bufs())
 * @batch: chains taken together (vdpa_sw_vq_get_batch()), allocated at
 *	the first batch; none are held between calls of
 *	&vdpa_sw_dev_attr.process_vq
 * @ready: the driver enabled the queue (set_vq_ready)
 * @live: @vring was initialised from the current address and size
 * @passive: the thread never serves this queue on its own: another queue
 *	consumes its buffers (the receive queues of the net device)
 * @need_notify: chains were completed since the driver was last notified
 * @worker: the datapath thread that serves this queue, set at creation
 * @num: ring size set by the driver
 * @desc_addr: IOVA of the descriptor table
 * @driver_addr: IOVA of the available ring
 * @device_addr: IOVA of the used ring
 * @avail_idx: next available index to serve while the ring is not @live
 * @cb: driver callback for used buffers
 * @stats: counters, reported through vendor statistics
 *
 * Every field but @worker is protected by &vdpa_sw.lock: written with it
 * held for writing, or, by the queue's own datapath thread only, for
 * reading (the ring state, @bufs, @stats, @need_notify); @passive
 * included: the device type sets it under that lock (the net device from
 * the negotiated features), and the thread reads it under the lock for
 * each queue.
 */
struct vdpa_sw_virtqueue {
	struct vringh vring;
	struct vringh_kiov riov;
	struct vringh_kiov wiov;
	struct kvec rvec[VDPA_SW_IOV_INIT];
	struct kvec wvec[VDPA_SW_IOV_INIT];
	struct vringh_iotlb_cache xlc;
	u16 head;
	struct vdpa_sw_bufs bufs;
	struct vdpa_sw_batch *batch;
	bool ready;
	bool live;
	bool passive;
	bool need_notify;
	u32 worker;
	u32 num;
	u64 desc_addr;
	u64 driver_addr;
	u64 device_addr;
	u16 avail_idx;
	struct vdpa_callback cb;
	struct vdpa_sw_vq_stats stats;
};

/**
 * struct vdpa_sw_dev_attr - what a software device type provides
 * @id: virtio device id
 * @nvqs: number of virtqueues
 * @ngroups: number of virtqueue groups
 * @nas: number of address spaces
 * @config_size: size of the device-specific configuration space
 * @alloc_size: size of the device type's structure, which embeds
 *	&struct vdpa_sw as its first member
 * @device_features: features offered to the driver
 * @process_vq: serve up to @budget chains of a ready, non-passive queue of a
 *	running device; return the number served (@budget means "more may be
 *	pending") or a negative errno when the ring is malformed, which makes
 *	the device set NEEDS_RESET, or %VDPA_SW_VQ_IDLE when the queue waits
 *	for work that does not come from the driver (received frames, a lower
 *	device's queue to restart): the driver's notifications stay off and
 *	the queue is served again after vdpa_sw_schedule(). Called by the
 *	queue's datapath thread with &vdpa_sw.lock held for reading: queues
 *	of different threads are served in parallel.
 * @nworkers: datapath threads (0: one)
 * @get_vq_worker: optional; the thread (below @nworkers, else 0) that
 *	serves a queue, asked once per queue at creation, before the device
 *	type's own state is set: a function of the index (default 0).  Queues
 *	that share state in their datapath share a thread.
 * @get_vq_group: optional; the group of a queue (default 0)
 * @get_config: fill the whole configuration space from the device state
 * @set_config: optional; apply a configuration space the driver wrote to
 * @get_stats: optional; append vendor statistics of a queue to @msg (the
 *	default reports received_desc and completed_desc)
 * @reset: optional; reset device-specific state
 * @free: optional; free device-specific resources
 * @devices: the type's count of devices, for its module's exit
 *
 * All hooks run with &vdpa_sw.lock held for writing except @process_vq
 * (for reading), @get_vq_worker and @free.
 */
struct vdpa_sw_dev_attr {
	u32 id;
	u32 nvqs;
	u32 ngroups;
	u32 nas;
	size_t config_size;
	size_t alloc_size;
	u64 device_features;
	int (*process_vq)(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			  unsigned int budget);
	u32 nworkers;
	u32 (*get_vq_worker)(struct vdpa_sw *sim, u16 idx);
	u32 (*get_vq_group)(struct vdpa_sw *sim, u16 idx);
	void (*get_config)(struct vdpa_sw *sim, void *config);
	void (*set_config)(struct vdpa_sw *sim, const void *config);
	int (*get_stats)(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			 struct sk_buff *msg, struct netlink_ext_ack *extack);
	void (*reset)(struct vdpa_sw *sim);
	void (*free)(struct vdpa_sw *sim);
	struct vdpa_sw_devices *devices;
};

/**
 * struct vdpa_sw_worker - a datapath thread and the queues it serves
 * @sim: its device
 * @kw: the thread
 * @work: one batch over its queues, queued by their kicks
 * @id: its index in &vdpa_sw.workers
 */
struct vdpa_sw_worker {
	struct vdpa_sw *sim;
	struct kthread_worker *kw;
	struct kthread_work work;
	u32 id;
};

/**
 * struct vdpa_sw - a software vDPA device
 * @vdpa: the vDPA device; must stay the first member
 * @dev_attr: the device type's description, copied at creation
 * @lock: held for writing by every operation on the device state below,
 *	for reading by each datapath thread across its batch: the threads
 *	serve their own queues in parallel, never while the state changes;
 *	nests outside @state_lock and @iommu_lock
 * @vqs: the virtqueues, @dev_attr.nvqs entries
 * @config: configuration space buffer, @dev_attr.config_size bytes
 * @config_cb: driver callback for configuration changes
 * @status: virtio status; written under @lock held for writing, or held
 *	for reading and @state_lock (a thread sets NEEDS_RESET); read
 *	locklessly
 * @suspended: the driver suspended the device (ops->suspend)
 * @features: features the driver accepted
 * @generation: configuration generation, bumped on every change, as
 *	@status is written
 * @state_lock: serialises the datapath threads' changes of @status and
 *	@generation
 * @group_asid: address space of each virtqueue group
 * @iommu_lock: taken by vringh around each translation (with interrupts
 *	off); the core holds it, with &vdpa_sw.lock, only to swap in a tree
 *	built beforehand or to delete entries, never to allocate
 * @iommu: one IOTLB per address space (IOVA -> physical address); changed
 *	under &vdpa_sw.lock, which every translation also holds, except by
 *	the DMA API of a kernel driver (maps.c, under @iommu_lock)
 * @map_gen: incremented under @iommu_lock whenever a map of @iommu is
 *	removed or replaced (vdpa_sw_maps_changed()): the queues' vringh
 *	translation caches check it
 * @iovad: IOVAs of the DMA API's mappings (maps.c)
 * @debugfs: the device's debugfs directory
 * @workers: the datapath threads, @nworkers of them
 * @nworkers: number of @workers
 */
struct vdpa_sw {
	struct vdpa_device vdpa;
	struct vdpa_sw_dev_attr dev_attr;

	struct rw_semaphore lock; /* device state and datapath, see above */
	struct vdpa_sw_virtqueue *vqs;
	void *config;
	struct vdpa_callback config_cb;
	u8 status;
	bool suspended;
	u64 features;
	u32 generation;
	spinlock_t state_lock; /* threads' @status, @generation: see above */
	u32 *group_asid;

	spinlock_t iommu_lock; /* vringh's lookups in @iommu, see above */
	struct vhost_iotlb *iommu;
	unsigned int map_gen;
	struct iova_domain iovad;
	struct dentry *debugfs;

	struct vdpa_sw_worker *workers;
	u32 nworkers;
};

static inline struct vdpa_sw *vdpa_to_sim(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vdpa_sw, vdpa);
}

static inline bool vdpa_sw_is_little_endian(const struct vdpa_sw *sim)
{
	return virtio_legacy_is_little_endian() ||
	       (sim->features & BIT_ULL(VIRTIO_F_VERSION_1));
}

static inline u16 vdpa_sw16_to_cpu(const struct vdpa_sw *sim, __virtio16 val)
{
	return __virtio16_to_cpu(vdpa_sw_is_little_endian(sim), val);
}

static inline __virtio16 cpu_to_vdpa_sw16(const struct vdpa_sw *sim, u16 val)
{
	return __cpu_to_virtio16(vdpa_sw_is_little_endian(sim), val);
}

static inline u32 vdpa_sw32_to_cpu(const struct vdpa_sw *sim, __virtio32 val)
{
	return __virtio32_to_cpu(vdpa_sw_is_little_endian(sim), val);
}

static inline __virtio32 cpu_to_vdpa_sw32(const struct vdpa_sw *sim, u32 val)
{
	return __cpu_to_virtio32(vdpa_sw_is_little_endian(sim), val);
}

static inline u64 vdpa_sw64_to_cpu(const struct vdpa_sw *sim, __virtio64 val)
{
	return __virtio64_to_cpu(vdpa_sw_is_little_endian(sim), val);
}

static inline __virtio64 cpu_to_vdpa_sw64(const struct vdpa_sw *sim, u64 val)
{
	return __cpu_to_virtio64(vdpa_sw_is_little_endian(sim), val);
}

/* The driver negotiated @bit. Caller holds &vdpa_sw.lock. */
static inline bool vdpa_sw_has_feature(const struct vdpa_sw *sim,
				       unsigned int bit)
{
	return sim->features & BIT_ULL(bit);
}

/* What a virtio-net virtqueue is for under the negotiated features. */
enum vdpa_sw_net_role {
	VDPA_SW_NET_RX,		/* receive queue of a served pair */
	VDPA_SW_NET_TX,		/* transmit queue of a served pair */
	VDPA_SW_NET_CVQ,	/* the control queue */
	VDPA_SW_NET_UNUSED,	/* beyond the current queue pairs */
};

/**
 * vdpa_sw_net_queue_role() - the role of a virtio-net virtqueue
 * @features: the negotiated features
 * @idx: the queue index
 * @max_vqp: queue pairs the device has (max_virtqueue_pairs)
 * @cur_vqp: queue pairs the driver selected (VQ_PAIRS_SET, else 1)
 *
 * The virtio-net queue layout (virtio 1.2, 5.1.2) in one place.  With
 * CTRL_VQ but without MQ there is one pair and the control queue is queue
 * 2; with both, the control queue is queue 2 * @max_vqp and @cur_vqp pairs
 * are served.  Without CTRL_VQ nothing can select pairs: every pair the
 * driver enables is served (DPDK's virtio-user emulates the control queue
 * and enables pairs itself).
 *
 * Return: the role of queue @idx.
 */
static inline enum vdpa_sw_net_role
vdpa_sw_net_queue_role(u64 features, u16 idx, u16 max_vqp, u16 cur_vqp)
{
	bool mq = features & BIT_ULL(VIRTIO_NET_F_MQ);
	u32 pairs = max_vqp;

	if (features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)) {
		if (idx == (mq ? 2 * max_vqp : 2))
			return VDPA_SW_NET_CVQ;
		pairs = mq ? cur_vqp : 1;
	}
	if (idx >= 2 * pairs)
		return VDPA_SW_NET_UNUSED;
	return idx & 1 ? VDPA_SW_NET_TX : VDPA_SW_NET_RX;
}

/* Addresses of one MAC_TABLE_SET table kept; a longer one overflows. */
#define VDPA_SW_MAC_TABLE_MAX	32

/**
 * struct vdpa_sw_mac_table - one table of a MAC_TABLE_SET command
 * @n: addresses the driver sent
 * @addr: the first min(@n, %VDPA_SW_MAC_TABLE_MAX) of them; a table of
 *	more stands for "every address of this kind" (the spec leaves the
 *	table size to the device; this is what a device that cannot hold
 *	them all does)
 */
struct vdpa_sw_mac_table {
	u32 n;
	u8 addr[VDPA_SW_MAC_TABLE_MAX][ETH_ALEN];
};

/**
 * struct vdpa_sw_net_ctrl - what a virtio-net device does with control
 *	commands; each returns 0, or a negative errno and the command fails
 * @set_mac: MAC_ADDR_SET (with CTRL_MAC_ADDR): use the valid unicast
 *	address @mac
 * @set_rx: RX class (with CTRL_RX): @cmd is VIRTIO_NET_CTRL_RX_PROMISC or
 *	_ALLMULTI, turned @on or off; NULL for a device without CTRL_RX
 * @set_mac_table: MAC_TABLE_SET (with CTRL_RX): receive for the unicast
 *	addresses of @uc and the multicast ones of @mc as well; NULL for a
 *	device without CTRL_RX
 *
 * Called from the control queue's datapath thread with &vdpa_sw.lock held
 * for reading.
 */
struct vdpa_sw_net_ctrl {
	int (*set_mac)(struct vdpa_sw *sim, const u8 *mac);
	int (*set_rx)(struct vdpa_sw *sim, u8 cmd, bool on);
	int (*set_mac_table)(struct vdpa_sw *sim,
			     const struct vdpa_sw_mac_table *uc,
			     const struct vdpa_sw_mac_table *mc);
};

int vdpa_sw_net_cvq(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *cvq,
		    unsigned int budget, u16 max_vqp, u16 *cur_vqp,
		    const struct vdpa_sw_net_ctrl *ctrl);
int vdpa_sw_net_features(struct device *dev, const char *name,
			 const struct vdpa_dev_set_config *config, u64 offered,
			 u64 *features);
void vdpa_sw_devices_wait(struct vdpa_sw_devices *devices);
struct vdpa_sw *vdpa_sw_create(const struct vdpa_sw_dev_attr *attr,
			       struct device *parent, const char *name);
int vdpa_sw_register(struct vdpa_sw *sim, u32 nvqs);
void vdpa_sw_unregister(struct vdpa_sw *sim);
int vdpa_sw_vq_get(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq);
void vdpa_sw_vq_unget(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq);
int vdpa_sw_vq_put(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
		   u32 len);
int vdpa_sw_vq_get_batch(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			 unsigned int max);
ssize_t vdpa_sw_batch_pull(struct vdpa_sw_virtqueue *vq, unsigned int i,
			   void *dst, size_t len);
int vdpa_sw_vq_put_batch(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			 unsigned int n);
int vdpa_sw_vq_put_status(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			  u8 status);
int vdpa_sw_vq_notify(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq);
bool vdpa_sw_vq_usable(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq);
ssize_t vdpa_sw_pull(struct vdpa_sw_virtqueue *vq, void *dst, size_t len);
ssize_t vdpa_sw_push(struct vdpa_sw_virtqueue *vq, const void *src,
		     size_t len);
void vdpa_sw_schedule(struct vdpa_sw *sim);
void vdpa_sw_schedule_vq(struct vdpa_sw *sim, u16 idx);
void vdpa_sw_generation_bump(struct vdpa_sw *sim);
void vdpa_sw_config_changed(struct vdpa_sw *sim);
void vdpa_sw_set_needs_reset(struct vdpa_sw *sim);
void vdpa_sw_vq_error(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
		      int err);
int vdpa_sw_put_stat(struct sk_buff *msg, const char *name, u64 value);

/* bufs.c */
int vdpa_sw_vq_get_bufs(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			size_t len, unsigned int max);
ssize_t vdpa_sw_push_bufs(struct vdpa_sw_virtqueue *vq, const void *src,
			  size_t len);
int vdpa_sw_vq_put_bufs(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			size_t len);

#endif /* _VDPA_SWDEV_H */
