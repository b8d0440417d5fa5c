// SPDX-License-Identifier: GPL-2.0
/*
 * The mediator device: a virtio-net device on the software-device core,
 * its control queue, configuration space, link state and statistics, and
 * the management operations that create and delete it on a lower device.
 *
 * Queue layout, features and state machine are the core's; the datapath
 * thread calls med_process_vq() for every ready queue and the queue's role
 * decides: transmit (tx.c), receive (rx.c) or control (here).
 */

#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <uapi/linux/virtio_ids.h>

#include "mediator.h"

#define MED_FEATURES	(VDPA_SW_FEATURES | \
			 BIT_ULL(VIRTIO_NET_F_CSUM) | \
			 BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) | \
			 BIT_ULL(VIRTIO_NET_F_MTU) | \
			 BIT_ULL(VIRTIO_NET_F_MAC) | \
			 BIT_ULL(VIRTIO_NET_F_GUEST_TSO4) | \
			 BIT_ULL(VIRTIO_NET_F_GUEST_TSO6) | \
			 BIT_ULL(VIRTIO_NET_F_GUEST_ECN) | \
			 BIT_ULL(VIRTIO_NET_F_HOST_TSO4) | \
			 BIT_ULL(VIRTIO_NET_F_HOST_TSO6) | \
			 BIT_ULL(VIRTIO_NET_F_HOST_ECN) | \
			 BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) | \
			 BIT_ULL(VIRTIO_NET_F_STATUS) | \
			 BIT_ULL(VIRTIO_NET_F_CTRL_VQ) | \
			 BIT_ULL(VIRTIO_NET_F_CTRL_RX) | \
			 BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
			 BIT_ULL(VIRTIO_NET_F_MQ))

static const char * const med_drop_names[MED_DROP_NUM] = {
	[MED_DROP_NOT_RUNNING]	= "drop_not_running",
	[MED_DROP_BACKLOG]	= "drop_no_buffer",
	[MED_DROP_TOO_LONG]	= "drop_too_long",
	[MED_DROP_BAD_HEADER]	= "drop_bad_header",
	[MED_DROP_NOMEM]	= "drop_nomem",
	[MED_DROP_LINK_DOWN]	= "drop_link_down",
	[MED_DROP_LOWER]	= "drop_lower",
};

static struct vdpa_sw_devices med_devices = VDPA_SW_DEVICES_INIT(med_devices);

/* The role of queue @idx. Caller holds &vdpa_sw.lock or accepts a stale one. */
static enum vdpa_sw_net_role med_role(const struct med_dev *med, u16 idx)
{
	return vdpa_sw_net_queue_role(READ_ONCE(med->sim.features), idx,
				      med->max_vqp, READ_ONCE(med->cur_vqp));
}

/* One datapath thread per queue pair; the control queue's is the first. */
static u32 med_get_vq_worker(struct vdpa_sw *sim, u16 idx)
{
	return idx / 2;
}

static u32 med_get_vq_group(struct vdpa_sw *sim, u16 idx)
{
	return med_role(sim_to_med(sim), idx) == VDPA_SW_NET_CVQ ?
	       MED_GROUP_CVQ : 0;
}

/*
 * Whether @netdev receives frames for addresses added to its unicast
 * filter.  ENA sets IFF_UNICAST_FLT but programs no filter
 * (no ndo_set_rx_mode): it receives for its own address only.
 */
static bool med_lower_filters(const struct net_device *netdev)
{
	return (netdev->priv_flags & IFF_UNICAST_FLT) &&
	       netdev->netdev_ops->ndo_set_rx_mode;
}

/**
 * med_mac_claim() - let the lower device receive frames for an address
 * @med: the device
 * @mac: a unicast address: the lower's own, or one its unicast filter
 *	takes (until med_mac_release())
 *
 * Context: process context.
 * Return: 0, -EOPNOTSUPP when the lower cannot, -ENOMEM.
 */
int med_mac_claim(struct med_dev *med, const u8 *mac)
{
	struct net_device *lower = med->lower->netdev;

	if (ether_addr_equal(mac, lower->dev_addr))
		return 0;
	if (!med_lower_filters(lower))
		return -EOPNOTSUPP;
	return dev_uc_add(lower, mac);
}

/**
 * med_mac_release() - undo med_mac_claim()
 * @med: the device
 * @mac: the address it claimed
 *
 * Context: process context.
 */
void med_mac_release(struct med_dev *med, const u8 *mac)
{
	struct net_device *lower = med->lower->netdev;

	if (!ether_addr_equal(mac, lower->dev_addr))
		dev_uc_del(lower, mac);
}

/* Use @mac from now on. Caller holds &vdpa_sw.lock. */
static int med_mac_set(struct med_dev *med, const u8 *mac)
{
	int ret;

	if (ether_addr_equal(mac, med->mac))
		return 0;
	ret = med_mac_claim(med, mac);
	if (ret)
		return ret;
	med_mac_release(med, med->mac);
	ether_addr_copy(med->mac, mac);
	vdpa_sw_generation_bump(&med->sim);
	return 0;
}

/* MAC_ADDR_SET: an address the lower receives for, or refused. */
static int med_set_mac(struct vdpa_sw *sim, const u8 *mac)
{
	struct med_dev *med = sim_to_med(sim);
	int ret;

	ret = med_mac_set(med, mac);
	if (ret)
		dev_warn_ratelimited(&sim->vdpa.dev, "MAC %pM refused: %s%s\n",
				     mac, med->lower->netdev->name,
				     ret == -EOPNOTSUPP ?
				     " has no unicast filter" :
				     ": no memory for its filter");
	return ret;
}

static const struct vdpa_sw_net_ctrl med_ctrl = {
	.set_mac = med_set_mac,
	.set_rx = med_set_rx,
	.set_mac_table = med_set_mac_table,
};

static int med_process_vq(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			  unsigned int budget)
{
	struct med_dev *med = sim_to_med(sim);
	u16 idx = vq - sim->vqs;
	u16 pairs;
	int n;

	switch (med_role(med, idx)) {
	case VDPA_SW_NET_TX:
		return med_tx(med, vq, idx / 2, budget);
	case VDPA_SW_NET_RX:
		return med_rx(med, vq, idx / 2, budget);
	case VDPA_SW_NET_CVQ:
		pairs = med->cur_vqp;
		n = vdpa_sw_net_cvq(sim, vq, budget, med->max_vqp,
				    &med->cur_vqp, &med_ctrl);
		/*
		 * New pairs were left idle, with notifications off: their
		 * threads serve what they already hold.
		 */
		if (n >= 0 && med->cur_vqp != pairs)
			vdpa_sw_schedule(sim);
		return n;
	default:
		return VDPA_SW_VQ_IDLE;
	}
}

static void med_get_config(struct vdpa_sw *sim, void *config)
{
	struct med_dev *med = sim_to_med(sim);
	struct virtio_net_config *cfg = config;

	memset(cfg, 0, sizeof(*cfg));
	ether_addr_copy(cfg->mac, med->mac);
	cfg->status = cpu_to_vdpa_sw16(sim, med->link_up ?
				       VIRTIO_NET_S_LINK_UP : 0);
	cfg->max_virtqueue_pairs = cpu_to_vdpa_sw16(sim, med->max_vqp);
	cfg->mtu = cpu_to_vdpa_sw16(sim, med->mtu);
}

static int med_get_stats(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			 struct sk_buff *msg, struct netlink_ext_ack *extack)
{
	struct med_dev *med = sim_to_med(sim);
	u16 idx = vq - sim->vqs;
	enum vdpa_sw_net_role role = med_role(med, idx);
	struct med_queue *q;
	int i, ret;

	ret = vdpa_sw_put_stat(msg, "received_desc", vq->stats.received_desc);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "completed_desc",
				       vq->stats.completed_desc);
	if (ret || role == VDPA_SW_NET_CVQ || idx >= 2 * med->max_vqp)
		return ret;
	ret = vdpa_sw_put_stat(msg, "bytes", vq->stats.bytes);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "frames", vq->stats.frames);
	q = idx & 1 ? &med->txq[idx / 2] : &med->rxq[idx / 2];
	for (i = 0; i < MED_DROP_NUM && !ret; i++)
		ret = vdpa_sw_put_stat(msg, med_drop_names[i],
				       atomic64_read(&q->drops[i]));
	return ret;
}

static void med_reset(struct vdpa_sw *sim)
{
	struct med_dev *med = sim_to_med(sim);

	/* The provisioned address was claimed at creation: this cannot fail. */
	if (med_mac_set(med, med->mac_init))
		dev_warn(&sim->vdpa.dev, "cannot restore MAC %pM\n",
			 med->mac_init);
	med_filter_reset(med);
	WRITE_ONCE(med->cur_vqp, 1);
	med_rx_purge(med);
	med_tx_release(med);
}

/* Whether the lower device can carry the device's frames now. */
static bool med_lower_up(struct med_dev *med)
{
	struct net_device *lower = med->lower->netdev;

	return netif_running(lower) && netif_carrier_ok(lower) &&
	       READ_ONCE(lower->mtu) >= med->mtu;
}

/* Also down once the device no longer receives from the lower. */
static void med_link_work(struct work_struct *work)
{
	struct med_dev *med = container_of(work, struct med_dev, link_work);
	bool up = rcu_access_pointer(med->lower->med) == med &&
		  med_lower_up(med);

	down_write(&med->sim.lock);
	if (med->link_up != up) {
		WRITE_ONCE(med->link_up, up);
		dev_info(&med->sim.vdpa.dev, "link %s (%s)\n",
			 up ? "up" : "down", med->lower->netdev->name);
		vdpa_sw_config_changed(&med->sim);
	}
	up_write(&med->sim.lock);
	if (up)
		vdpa_sw_schedule(&med->sim);
}

/**
 * med_link_changed() - the lower device's state changed
 * @lower: the lower device's entry
 *
 * Context: netdev notifier, RTNL held.
 */
void med_link_changed(struct med_lower *lower)
{
	struct med_dev *med = rtnl_dereference(lower->med);

	if (med)
		schedule_work(&med->link_work);
}

/* After the core stopped the thread; the timer was stopped before. */
static void med_free(struct vdpa_sw *sim)
{
	struct med_dev *med = sim_to_med(sim);

	if (med->rxq)
		med_rx_purge(med);
	if (med->txq)
		med_tx_release(med);
	kfree(med->rxq);
	kfree(med->txq);
}

const struct vdpa_sw_dev_attr med_attr = {
	.id		= VIRTIO_ID_NET,
	.ngroups	= MED_NGROUPS,
	.nas		= MED_NAS,
	.config_size	= sizeof(struct virtio_net_config),
	.alloc_size	= sizeof(struct med_dev),
	.device_features = MED_FEATURES,
	.process_vq	= med_process_vq,
	.get_vq_worker	= med_get_vq_worker,
	.get_vq_group	= med_get_vq_group,
	.get_config	= med_get_config,
	.get_stats	= med_get_stats,
	.reset		= med_reset,
	.free		= med_free,
	.devices	= &med_devices,
};

/* Check the provisioned attributes against the lower device. */
static int med_dev_config(struct med_lower *lower, const char *name,
			  const struct vdpa_dev_set_config *config,
			  u64 *features, u8 *mac, u16 *mtu, u16 *vqp)
{
	struct net_device *netdev = lower->netdev;
	struct device *dev = lower->mgmt.device;
	unsigned int txqs = netdev->real_num_tx_queues;
	int ret;

	ret = vdpa_sw_net_features(dev, name, config, MED_FEATURES, features);
	if (ret)
		return ret;

	*vqp = 1;
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP)) {
		*vqp = config->net.max_vq_pairs;
		if (!*vqp || *vqp > txqs) {
			dev_warn(dev, "%s: max_vqp %u not in 1..%u (the transmit queues of %s)\n",
				 name, *vqp, txqs, netdev->name);
			return -EINVAL;
		}
	}
	*mtu = min_t(unsigned int, READ_ONCE(netdev->mtu), U16_MAX);
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU)) {
		if (config->net.mtu < ETH_MIN_MTU || config->net.mtu > *mtu) {
			dev_warn(dev, "%s: mtu %u not in %u..%u (the MTU of %s)\n",
				 name, config->net.mtu, ETH_MIN_MTU, *mtu,
				 netdev->name);
			return -EINVAL;
		}
		*mtu = config->net.mtu;
	}
	ether_addr_copy(mac, netdev->dev_addr);
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR)) {
		if (!is_valid_ether_addr(config->net.mac)) {
			dev_warn(dev, "%s: invalid MAC address %pM\n", name,
				 config->net.mac);
			return -EINVAL;
		}
		if (!ether_addr_equal(config->net.mac, netdev->dev_addr) &&
		    !med_lower_filters(netdev)) {
			dev_warn(dev, "%s: %s cannot receive for MAC %pM (no unicast filter): leave the MAC out to use its own, %pM\n",
				 name, netdev->name, config->net.mac,
				 netdev->dev_addr);
			return -EOPNOTSUPP;
		}
		ether_addr_copy(mac, config->net.mac);
	}
	return 0;
}

static int med_alloc_queues(struct med_dev *med)
{
	u16 i;

	med->rxq = kcalloc(med->max_vqp, sizeof(*med->rxq), GFP_KERNEL);
	med->txq = kcalloc(med->max_vqp, sizeof(*med->txq), GFP_KERNEL);
	if (!med->rxq || !med->txq)
		return -ENOMEM;
	for (i = 0; i < med->max_vqp; i++)
		skb_queue_head_init(&med->rxq[i].backlog);
	return 0;
}

/* Start receiving from the lower device. Caller holds RTNL. */
static int med_attach(struct med_lower *lower, struct med_dev *med)
{
	int ret;

	if (lower->gone)
		return -ENODEV;
	ret = netdev_rx_handler_register(lower->netdev, med_rx_handler, lower);
	if (ret) {
		dev_warn(lower->mgmt.device,
			 "%s already has a receive handler (bridge, bond, macvlan?): %d\n",
			 lower->netdev->name, ret);
		return ret;
	}
	rcu_assign_pointer(lower->med, med);
	return 0;
}

/**
 * med_detach() - stop receiving for the lower's device
 * @lower: the lower device's entry
 *
 * The rx handler no longer runs for it when this returns.  The lower's
 * device, if any, sees its link go down.
 *
 * Context: process context, RTNL held.
 */
void med_detach(struct med_lower *lower)
{
	struct med_dev *med = rtnl_dereference(lower->med);

	if (!med)
		return;
	RCU_INIT_POINTER(lower->med, NULL);
	netdev_rx_handler_unregister(lower->netdev);
	schedule_work(&med->link_work);
}

static int med_dev_init(struct med_dev *med, struct med_lower *lower,
			const u8 *mac, u16 mtu, u16 vqp)
{
	int ret;

	med->lower = lower;
	ether_addr_copy(med->mac_init, mac);
	med->mtu = mtu;
	med->max_vqp = vqp;
	timer_setup(&med->tx_timer, med_tx_timer, 0);
	INIT_WORK(&med->link_work, med_link_work);
	med_filter_init(med);
	ret = med_alloc_queues(med);
	if (ret)
		return ret;
	/* The lower's own address, or one its unicast filter takes. */
	ret = med_mac_claim(med, mac);
	if (ret)
		return ret;
	ether_addr_copy(med->mac, mac);
	down_write(&med->sim.lock);
	med_reset(&med->sim);
	med->link_up = med_lower_up(med);
	up_write(&med->sim.lock);
	return 0;
}

/*
 * Unregister a device that no longer receives.  Its driver resets it on
 * the way out, so the thread arms the transmit timer no more and the MAC
 * is the provisioned one again; the device may be freed right after.
 */
static void med_dev_remove(struct med_dev *med)
{
	struct vdpa_device *vdpa = &med->sim.vdpa;

	get_device(&vdpa->dev);
	vdpa_sw_unregister(&med->sim);
	del_timer_sync(&med->tx_timer);
	med_filter_exit(med);
	med_mac_release(med, med->mac);
	put_device(&vdpa->dev);
}

static int med_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
		       const struct vdpa_dev_set_config *config)
{
	struct med_lower *lower = container_of(mdev, struct med_lower, mgmt);
	struct vdpa_sw_dev_attr attr = med_attr;
	struct med_dev *med;
	struct vdpa_sw *sim;
	u8 mac[ETH_ALEN];
	u16 mtu, vqp;
	int ret;

	if (rcu_access_pointer(lower->med)) {
		dev_warn(mdev->device, "%s: %s already has device %s: one per lower device\n",
			 name, lower->netdev->name,
			 dev_name(&rcu_access_pointer(lower->med)->sim.vdpa.dev));
		return -EBUSY;
	}
	ret = med_dev_config(lower, name, config, &attr.device_features, mac,
			     &mtu, &vqp);
	if (ret)
		return ret;
	attr.nvqs = 2 * vqp + 1;
	attr.nworkers = vqp;
	sim = vdpa_sw_create(&attr, mdev->device, name);
	if (IS_ERR(sim))
		return PTR_ERR(sim);
	med = sim_to_med(sim);
	ret = med_dev_init(med, lower, mac, mtu, vqp);
	if (ret)
		goto err;
	sim->vdpa.mdev = mdev;
	ret = vdpa_sw_register(sim, attr.nvqs);
	if (ret)
		goto err_mac;
	rtnl_lock();
	ret = med_attach(lower, med);
	rtnl_unlock();
	if (ret) {
		med_dev_remove(med);
		return ret;
	}
	/* A change of the lower since med_dev_init() had no device to tell. */
	schedule_work(&med->link_work);
	return 0;

err_mac:
	med_mac_release(med, med->mac);
err:
	put_device(&sim->vdpa.dev);
	return ret;
}

static void med_dev_del(struct vdpa_mgmt_dev *mdev, struct vdpa_device *vdpa)
{
	struct med_lower *lower = container_of(mdev, struct med_lower, mgmt);
	struct med_dev *med = sim_to_med(vdpa_to_sim(vdpa));

	rtnl_lock();
	med_detach(lower);
	rtnl_unlock();
	cancel_work_sync(&med->link_work);
	med_dev_remove(med);
}

const struct vdpa_mgmtdev_ops med_mgmtdev_ops = {
	.dev_add = med_dev_add,
	.dev_del = med_dev_del,
};

/**
 * med_devices_wait() - wait until every mediator device was freed
 *
 * Context: module exit, after every management device was unregistered.
 */
void med_devices_wait(void)
{
	vdpa_sw_devices_wait(&med_devices);
}
