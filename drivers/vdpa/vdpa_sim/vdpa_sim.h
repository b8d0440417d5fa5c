/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vDPA device simulator core: the state and helpers shared by the simulated
 * devices (vdpa_sim_net, vdpa_sim_blk).
 */
#ifndef _VDPA_SIM_H
#define _VDPA_SIM_H

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_byteorder.h>
#include <linux/vringh.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_net.h>

/* Largest ring a driver may ask for (ops->get_vq_num_max). */
#define VDPASIM_VQ_NUM_MAX	256
/* Buffers one virtqueue may consume before the thread yields. */
#define VDPASIM_BATCH		64
/* Descriptors per chain a queue can hold before its iovs grow. */
#define VDPASIM_IOV_INIT	4

/* process_vq: the queue waits for vdpasim_schedule(), see there. */
#define VDPASIM_VQ_IDLE		(-EAGAIN)

/* Features every simulated device offers. */
#define VDPASIM_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM))

struct vdpasim;

/**
 * struct vdpasim_devices - the devices of one device type not yet freed
 * @count: devices not yet freed, plus one for the type's module until its
 *	exit starts
 * @gone: completed when @count drops to zero
 *
 * The last reference to a device may be dropped after its module's exit
 * started (vdpa_mgmtdev_unregister() only unregisters devices): the exit
 * waits in vdpasim_devices_wait() until the core freed every device, so
 * the device type's hooks are never called into a freed module.
 * Initialise with VDPASIM_DEVICES_INIT().
 */
struct vdpasim_devices {
	atomic_t count;
	struct completion gone;
};

#define VDPASIM_DEVICES_INIT(name) {					\
	.count = ATOMIC_INIT(1),					\
	.gone = COMPLETION_INITIALIZER((name).gone),			\
}

/**
 * struct vdpasim_vq_stats - counters of one virtqueue (vendor statistics)
 * @received_desc: descriptor chains taken from the available ring
 * @completed_desc: descriptor chains returned through the used ring
 * @bytes: payload bytes moved by this queue (device specific)
 * @dropped: requests or frames dropped (device specific)
 */
struct vdpasim_vq_stats {
	u64 received_desc;
	u64 completed_desc;
	u64 bytes;
	u64 dropped;
};

/**
 * struct vdpasim_virtqueue - one simulated virtqueue
 * @vring: host view of the ring, valid while @live
 * @riov: device-readable part of the chain being served
 * @wiov: device-writable part of the chain being served
 * @rvec: initial storage of @riov (it grows on demand)
 * @wvec: initial storage of @wiov
 * @head: head of the chain being served
 * @ready: the driver enabled the queue (set_vq_ready)
 * @live: @vring was initialised from the current address and size
 * @passive: the thread never serves this queue on its own: another queue
 *	consumes its buffers (the receive queues of the net device)
 * @need_notify: chains were completed since the driver was last notified
 * @num: ring size set by the driver
 * @desc_addr: IOVA of the descriptor table
 * @driver_addr: IOVA of the available ring
 * @device_addr: IOVA of the used ring
 * @avail_idx: next available index to serve while the ring is not @live
 * @cb: driver callback for used buffers
 * @stats: counters, reported through vendor statistics
 *
 * Every field is protected by &vdpasim.lock, @passive included: the device
 * type sets it under that lock (the net device from the negotiated
 * features), and the worker reads it under the lock for each queue.
 */
struct vdpasim_virtqueue {
	struct vringh vring;
	struct vringh_kiov riov;
	struct vringh_kiov wiov;
	struct kvec rvec[VDPASIM_IOV_INIT];
	struct kvec wvec[VDPASIM_IOV_INIT];
	u16 head;
	bool ready;
	bool live;
	bool passive;
	bool need_notify;
	u32 num;
	u64 desc_addr;
	u64 driver_addr;
	u64 device_addr;
	u16 avail_idx;
	struct vdpa_callback cb;
	struct vdpasim_vq_stats stats;
};

/**
 * struct vdpasim_dev_attr - what a simulated device type provides
 * @id: virtio device id
 * @nvqs: number of virtqueues
 * @ngroups: number of virtqueue groups
 * @nas: number of address spaces
 * @config_size: size of the device-specific configuration space
 * @alloc_size: size of the device type's structure, which embeds
 *	&struct vdpasim as its first member
 * @device_features: features offered to the driver
 * @process_vq: serve up to @budget chains of a ready, non-passive queue of a
 *	running device; return the number served (@budget means "more may be
 *	pending") or a negative errno when the ring is malformed, which makes
 *	the device set NEEDS_RESET, or %VDPASIM_VQ_IDLE when the queue waits
 *	for work that does not come from the driver (received frames, a lower
 *	device's queue to restart): the driver's notifications stay off and
 *	the queue is served again after vdpasim_schedule(). Called with
 *	&vdpasim.lock held.
 * @get_vq_group: optional; the group of a queue (default 0)
 * @get_config: fill the whole configuration space from the device state
 * @set_config: optional; apply a configuration space the driver wrote to
 * @get_stats: optional; append vendor statistics of a queue to @msg (the
 *	default reports received_desc and completed_desc)
 * @reset: optional; reset device-specific state
 * @free: optional; free device-specific resources
 * @devices: the type's count of devices, for its module's exit
 *
 * All hooks run with &vdpasim.lock held except @free.
 */
struct vdpasim_dev_attr {
	u32 id;
	u32 nvqs;
	u32 ngroups;
	u32 nas;
	size_t config_size;
	size_t alloc_size;
	u64 device_features;
	int (*process_vq)(struct vdpasim *sim, struct vdpasim_virtqueue *vq,
			  unsigned int budget);
	u32 (*get_vq_group)(struct vdpasim *sim, u16 idx);
	void (*get_config)(struct vdpasim *sim, void *config);
	void (*set_config)(struct vdpasim *sim, const void *config);
	int (*get_stats)(struct vdpasim *sim, struct vdpasim_virtqueue *vq,
			 struct sk_buff *msg, struct netlink_ext_ack *extack);
	void (*reset)(struct vdpasim *sim);
	void (*free)(struct vdpasim *sim);
	struct vdpasim_devices *devices;
};

/**
 * struct vdpasim - a simulated vDPA device
 * @vdpa: the vDPA device; must stay the first member
 * @dev_attr: the device type's description, copied at creation
 * @lock: serialises every operation on the device state below and the
 *	datapath; nests outside @iommu_lock
 * @vqs: the virtqueues, @dev_attr.nvqs entries
 * @config: configuration space buffer, @dev_attr.config_size bytes
 * @config_cb: driver callback for configuration changes
 * @status: virtio status; written under @lock, read locklessly
 * @suspended: the driver suspended the device (ops->suspend)
 * @features: features the driver accepted
 * @generation: configuration generation, bumped on every change
 * @group_asid: address space of each virtqueue group
 * @iommu_lock: taken by vringh around each translation (with interrupts
 *	off); the core holds it, with &vdpasim.lock, only to swap in a tree
 *	built beforehand or to delete entries, never to allocate
 * @iommu: one IOTLB per address space (IOVA -> physical address); changed
 *	only under &vdpasim.lock, which every translation also holds
 * @iommu_pt: the IOTLB of an address space is still the identity
 *	passthrough installed at reset
 * @worker: the datapath thread
 * @work: the datapath batch, queued by kicks
 */
struct vdpasim {
	struct vdpa_device vdpa;
	struct vdpasim_dev_attr dev_attr;

	struct mutex lock; /* device state and datapath, see above */
	struct vdpasim_virtqueue *vqs;
	void *config;
	struct vdpa_callback config_cb;
	u8 status;
	bool suspended;
	u64 features;
	u32 generation;
	u32 *group_asid;

	spinlock_t iommu_lock; /* vringh's lookups in @iommu, see above */
	struct vhost_iotlb *iommu;
	bool *iommu_pt;

	struct kthread_worker *worker;
	struct kthread_work work;
};

static inline struct vdpasim *vdpa_to_sim(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vdpasim, vdpa);
}

static inline bool vdpasim_is_little_endian(const struct vdpasim *sim)
{
	return virtio_legacy_is_little_endian() ||
	       (sim->features & BIT_ULL(VIRTIO_F_VERSION_1));
}

static inline u16 vdpasim16_to_cpu(const struct vdpasim *sim, __virtio16 val)
{
	return __virtio16_to_cpu(vdpasim_is_little_endian(sim), val);
}

static inline __virtio16 cpu_to_vdpasim16(const struct vdpasim *sim, u16 val)
{
	return __cpu_to_virtio16(vdpasim_is_little_endian(sim), val);
}

static inline u32 vdpasim32_to_cpu(const struct vdpasim *sim, __virtio32 val)
{
	return __virtio32_to_cpu(vdpasim_is_little_endian(sim), val);
}

static inline __virtio32 cpu_to_vdpasim32(const struct vdpasim *sim, u32 val)
{
	return __cpu_to_virtio32(vdpasim_is_little_endian(sim), val);
}

static inline u64 vdpasim64_to_cpu(const struct vdpasim *sim, __virtio64 val)
{
	return __virtio64_to_cpu(vdpasim_is_little_endian(sim), val);
}

static inline __virtio64 cpu_to_vdpasim64(const struct vdpasim *sim, u64 val)
{
	return __cpu_to_virtio64(vdpasim_is_little_endian(sim), val);
}

/* The driver negotiated @bit. Caller holds &vdpasim.lock. */
static inline bool vdpasim_has_feature(const struct vdpasim *sim,
				       unsigned int bit)
{
	return sim->features & BIT_ULL(bit);
}

/* What a virtio-net virtqueue is for under the negotiated features. */
enum vdpasim_net_role {
	VDPASIM_NET_RX,		/* receive queue of a served pair */
	VDPASIM_NET_TX,		/* transmit queue of a served pair */
	VDPASIM_NET_CVQ,	/* the control queue */
	VDPASIM_NET_UNUSED,	/* beyond the current queue pairs */
};

/**
 * vdpasim_net_queue_role() - the role of a virtio-net virtqueue
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
static inline enum vdpasim_net_role
vdpasim_net_queue_role(u64 features, u16 idx, u16 max_vqp, u16 cur_vqp)
{
	bool mq = features & BIT_ULL(VIRTIO_NET_F_MQ);
	u32 pairs = max_vqp;

	if (features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)) {
		if (idx == (mq ? 2 * max_vqp : 2))
			return VDPASIM_NET_CVQ;
		pairs = mq ? cur_vqp : 1;
	}
	if (idx >= 2 * pairs)
		return VDPASIM_NET_UNUSED;
	return idx & 1 ? VDPASIM_NET_TX : VDPASIM_NET_RX;
}

/* Addresses of one MAC_TABLE_SET table kept; a longer one overflows. */
#define VDPASIM_MAC_TABLE_MAX	32

/**
 * struct vdpasim_mac_table - one table of a MAC_TABLE_SET command
 * @n: addresses the driver sent
 * @addr: the first min(@n, %VDPASIM_MAC_TABLE_MAX) of them; a table of
 *	more stands for "every address of this kind" (the spec leaves the
 *	table size to the device; this is what a device that cannot hold
 *	them all does)
 */
struct vdpasim_mac_table {
	u32 n;
	u8 addr[VDPASIM_MAC_TABLE_MAX][ETH_ALEN];
};

/**
 * struct vdpasim_net_ctrl - what a virtio-net device does with control
 *	commands; each returns 0, or a negative errno and the command fails
 * @set_mac: MAC_ADDR_SET (with CTRL_MAC_ADDR): use the valid unicast
 *	address @mac
 * @set_rx: RX class (with CTRL_RX): @cmd is VIRTIO_NET_CTRL_RX_PROMISC or
 *	_ALLMULTI, turned @on or off; NULL for a device without CTRL_RX
 * @set_mac_table: MAC_TABLE_SET (with CTRL_RX): receive for the unicast
 *	addresses of @uc and the multicast ones of @mc as well; NULL for a
 *	device without CTRL_RX
 *
 * Called from the datapath thread with &vdpasim.lock held.
 */
struct vdpasim_net_ctrl {
	int (*set_mac)(struct vdpasim *sim, const u8 *mac);
	int (*set_rx)(struct vdpasim *sim, u8 cmd, bool on);
	int (*set_mac_table)(struct vdpasim *sim,
			     const struct vdpasim_mac_table *uc,
			     const struct vdpasim_mac_table *mc);
};

int vdpasim_net_cvq(struct vdpasim *sim, struct vdpasim_virtqueue *cvq,
		    unsigned int budget, u16 max_vqp, u16 *cur_vqp,
		    const struct vdpasim_net_ctrl *ctrl);
int vdpasim_net_features(struct device *dev, const char *name,
			 const struct vdpa_dev_set_config *config, u64 offered,
			 u64 *features);
void vdpasim_devices_wait(struct vdpasim_devices *devices);
struct vdpasim *vdpasim_create(const struct vdpasim_dev_attr *attr,
			       struct device *parent, const char *name);
int vdpasim_vq_get(struct vdpasim *sim, struct vdpasim_virtqueue *vq);
void vdpasim_vq_unget(struct vdpasim *sim, struct vdpasim_virtqueue *vq);
int vdpasim_vq_put(struct vdpasim *sim, struct vdpasim_virtqueue *vq,
		   u32 len);
int vdpasim_vq_put_status(struct vdpasim *sim, struct vdpasim_virtqueue *vq,
			  u8 status);
int vdpasim_vq_notify(struct vdpasim *sim, struct vdpasim_virtqueue *vq);
bool vdpasim_vq_usable(struct vdpasim *sim, struct vdpasim_virtqueue *vq);
ssize_t vdpasim_pull(struct vdpasim_virtqueue *vq, void *dst, size_t len);
ssize_t vdpasim_push(struct vdpasim_virtqueue *vq, const void *src,
		     size_t len);
void vdpasim_schedule(struct vdpasim *sim);
void vdpasim_config_changed(struct vdpasim *sim);
void vdpasim_set_needs_reset(struct vdpasim *sim);
void vdpasim_vq_fault(struct vdpasim *sim, struct vdpasim_virtqueue *vq,
		      int err, const char *what, u64 addr);
int vdpasim_put_stat(struct sk_buff *msg, const char *name, u64 value);

#endif /* _VDPA_SIM_H */
