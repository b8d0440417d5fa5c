/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vdpa_mediator: a software virtio-net vDPA device whose queues are served
 * by copying frames to and from a real network device (the lower device).
 */
#ifndef _VDPA_MEDIATOR_H
#define _VDPA_MEDIATOR_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <uapi/linux/vdpa.h>
#include <uapi/linux/virtio_net.h>

#include "../swdev/swdev.h"

#define MED_HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
/* Frames a receive queue holds for the driver before it drops. */
#define MED_RX_BACKLOG		1024

/* Group 0: the data queues; group 1: the control queue. */
#define MED_GROUP_CVQ		1
#define MED_NGROUPS		2
#define MED_NAS			2

/* Why a frame was dropped: one counter per reason and queue. */
enum med_drop {
	MED_DROP_NOT_RUNNING,	/* RX: the driver has not set DRIVER_OK, or
				 * reset the device with frames queued
				 */
	MED_DROP_BACKLOG,	/* RX: the driver gave no buffers in time */
	MED_DROP_TOO_LONG,	/* longer than the buffer (RX), the MTU (TX) */
	MED_DROP_BAD_HEADER,	/* no virtio-net header fits the frame (RX),
				 * the driver's header is not usable (TX)
				 */
	MED_DROP_NOMEM,		/* no memory to copy, segment or checksum */
	MED_DROP_LINK_DOWN,	/* TX: the lower device has no carrier */
	MED_DROP_LOWER,		/* TX: the lower device refused the frame */
	MED_DROP_NUM,
};

/* Pages a transmit queue keeps for its frames (pool.c). */
#define MED_POOL_PAGES		16

/**
 * struct med_pool_page - a page of a transmit queue's pool
 * @page: the page (of order PAGE_ALLOC_COSTLY_ORDER), or NULL
 * @bias: references to @page the pool holds; the page's other references
 *	are its fragments in flight
 */
struct med_pool_page {
	struct page *page;
	unsigned int bias;
};

/**
 * struct med_pool - buffers of a transmit queue's frames (pool.c)
 * @pages: the pages
 * @cur: index in @pages of the page fragments are carved from
 * @offset: bytes of that page already carved
 *
 * Used by the queue's datapath thread only, with &vdpa_sw.lock held for
 * reading, and drained with it held for writing.
 */
struct med_pool {
	struct med_pool_page pages[MED_POOL_PAGES];
	unsigned int cur;
	unsigned int offset;
};

/**
 * struct med_queue - mediator state of one queue (a pair's receive or
 *	transmit side)
 * @backlog: frames from the lower device waiting for driver buffers
 *	(receive side only)
 * @drops: frames dropped on this queue, by reason
 * @pool: buffers of transmitted frames (transmit side only)
 *
 * @backlog has its own lock; @drops are atomic: the lower device's receive
 * path (softirq) and the datapath thread both update them.
 */
struct med_queue {
	struct sk_buff_head backlog;
	atomic64_t drops[MED_DROP_NUM];
	struct med_pool pool;
};

struct med_lower;

/**
 * struct med_filter - what the device receives besides frames for its MAC
 *	address and broadcast (VIRTIO_NET_F_CTRL_RX)
 * @rcu: frees a replaced filter after the rx handlers that may read it
 * @promisc: every frame the lower receives
 * @allmulti: every multicast frame
 * @uc: unicast addresses of MAC_TABLE_SET (never more than fit)
 * @mc: multicast addresses of MAC_TABLE_SET (more than fit: all)
 *
 * Never changed once published (&med_dev.filter): replaced whole.
 */
struct med_filter {
	struct rcu_head rcu;
	bool promisc;
	bool allmulti;
	struct vdpa_sw_mac_table uc;
	struct vdpa_sw_mac_table mc;
};

/**
 * struct med_dev - a mediator device
 * @sim: the software-device core; must stay the first member
 * @lower: the lower device's entry; set at creation
 * @mac_init: MAC address provisioned at creation (default: the lower's)
 * @mtu: MTU in the config space; bounded by the lower's
 * @max_vqp: queue pairs provisioned at creation
 * @mac: MAC address the driver set (control command MAC_ADDR_SET)
 * @cur_vqp: queue pairs the driver selected (control command VQ_PAIRS_SET)
 * @link_up: the lower device has carrier and a large enough MTU
 * @rxq: @max_vqp receive queues, indexed by pair
 * @txq: @max_vqp transmit queues (drop counters, pool), indexed by pair
 * @tx_timer: re-runs transmission once a stopped lower queue may have
 *	restarted
 * @link_work: follows the lower's link state (netdev notifier)
 * @filter: the receive filter; replaced under &vdpa_sw.lock (by the
 *	control queue's thread, or held for writing), read under
 *	RCU by the receive handler
 * @mode_work: makes the lower promiscuous and all-multicast or not, as
 *	@filter is
 * @lower_promisc: the device made the lower promiscuous; under RTNL
 * @lower_allmulti: the device made the lower all-multicast; under RTNL
 *
 * @mac_init, @mtu, @max_vqp, @rxq and @txq (the pointers) are set at
 * creation; @mac and @cur_vqp are written under &vdpa_sw.lock, held for
 * writing or, by the control queue's thread, for reading; @link_up under
 * it held for writing.  All three are read locklessly by the receive
 * handler and the other queue pairs' threads.
 */
struct med_dev {
	struct vdpa_sw sim;
	struct med_lower *lower;
	u8 mac_init[ETH_ALEN];
	u16 mtu;
	u16 max_vqp;
	u8 mac[ETH_ALEN];
	u16 cur_vqp;
	bool link_up;
	struct med_queue *rxq;
	struct med_queue *txq;
	struct timer_list tx_timer;
	struct work_struct link_work;
	struct med_filter __rcu *filter;
	struct work_struct mode_work;
	bool lower_promisc;
	bool lower_allmulti;
};

static_assert(offsetof(struct med_dev, sim) == 0);

/**
 * struct med_lower - a lower device the operator listed in "lower"
 * @node: in the module's list of lowers
 * @netdev: the lower device; referenced until the entry goes
 * @name: its name when it was listed
 * @root: the management device's own device, for a lower without parent
 * @mgmt: the management device, on the netdev's parent or on @root
 * @id_table: what @mgmt creates: virtio-net
 * @med: its device, if any; written under RTNL, read under RTNL or RCU
 *	(the receive handler), tested for NULL under the vDPA core's device
 *	lock (only dev_add sets it, only dev_del and the notifier clear it)
 * @gone: the lower device is being unregistered; set under RTNL
 */
struct med_lower {
	struct list_head node;
	struct net_device *netdev;
	char name[IFNAMSIZ];
	struct device *root;
	struct vdpa_mgmt_dev mgmt;
	struct virtio_device_id id_table[2];
	struct med_dev __rcu *med;
	bool gone;
};

static inline struct med_dev *sim_to_med(struct vdpa_sw *sim)
{
	return container_of(sim, struct med_dev, sim);
}

static inline void med_count_drop(struct med_queue *q, enum med_drop why)
{
	atomic64_inc(&q->drops[why]);
}

/* dev.c */
#define MED_CONFIG_ATTRS	(BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR) | \
				 BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU) | \
				 BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP) | \
				 BIT_ULL(VDPA_ATTR_DEV_FEATURES))
extern const struct vdpa_sw_dev_attr med_attr;
extern const struct vdpa_mgmtdev_ops med_mgmtdev_ops;
void med_link_changed(struct med_lower *lower);
void med_detach(struct med_lower *lower);
void med_devices_wait(void);
int med_mac_claim(struct med_dev *med, const u8 *mac);
void med_mac_release(struct med_dev *med, const u8 *mac);

/* filter.c */
bool med_filter_wants(struct med_dev *med, const u8 *dest, bool *take);
int med_set_rx(struct vdpa_sw *sim, u8 cmd, bool on);
int med_set_mac_table(struct vdpa_sw *sim, const struct vdpa_sw_mac_table *uc,
		      const struct vdpa_sw_mac_table *mc);
void med_filter_reset(struct med_dev *med);
void med_filter_init(struct med_dev *med);
void med_filter_exit(struct med_dev *med);

/* pool.c */
struct sk_buff *med_pool_skb(struct med_pool *pool, struct net_device *lower,
			     unsigned int len);
void med_pool_drain(struct med_pool *pool);

/* tx.c */
void med_tx_release(struct med_dev *med);
int med_tx(struct med_dev *med, struct vdpa_sw_virtqueue *vq, u16 pair,
	   unsigned int budget);
void med_tx_timer(struct timer_list *t);

/* rx.c */
int med_rx(struct med_dev *med, struct vdpa_sw_virtqueue *vq, u16 pair,
	   unsigned int budget);
rx_handler_result_t med_rx_handler(struct sk_buff **pskb);
void med_rx_purge(struct med_dev *med);

#endif /* _VDPA_MEDIATOR_H */
