// SPDX-License-Identifier: GPL-2.0
/*
 * Receive filter: what the device takes from the lower device beyond the
 * frames for its own MAC address, as the driver sets it with the control
 * commands of VIRTIO_NET_F_CTRL_RX (promiscuous, all-multicast, the
 * unicast and multicast tables).
 *
 * The filter is a snapshot published with RCU: the rx handler reads it in
 * softirq, the control queue's thread replaces it whole under
 * &vdpa_sw.lock (held for reading; the other threads only read it).  The
 * lower receives for the table's addresses: unicast ones through its
 * unicast filter (refused when it has none, as for the device's own MAC),
 * multicast ones through its multicast list.  Promiscuous and
 * all-multicast modes make the lower promiscuous or all-multicast too,
 * from a work item: that needs RTNL, which the datapath thread must never
 * wait for (virtio_net sends its control commands under RTNL and spins
 * until the thread has answered).  A lower that cannot be promiscuous
 * (ENA) still gives the device every frame it receives.  The filter after
 * a reset takes every multicast frame the lower receives, without making
 * it all-multicast: only a filter the driver set does.
 */

#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "mediator.h"

/*
 * After a reset: the device's own address, broadcast and all multicast.
 * Shared by every device and never written (not const: RCU publishes it).
 */
static struct med_filter med_filter_default = {
	.allmulti = true,
};

/* Whether the lower must be all-multicast for @f (see above). */
static bool med_filter_allmulti(const struct med_filter *f)
{
	return f->allmulti && f != &med_filter_default;
}

/* Whether @t holds @addr. */
static bool med_table_has(const struct vdpa_sw_mac_table *t, const u8 *addr)
{
	u32 i, n = min_t(u32, t->n, VDPA_SW_MAC_TABLE_MAX);

	for (i = 0; i < n; i++)
		if (ether_addr_equal(t->addr[i], addr))
			return true;
	return false;
}

/**
 * med_filter_wants() - whether the device receives a frame
 * @med: the device
 * @dest: the frame's destination address
 * @take: set to true when the frame is the device's alone (the host
 *	stack does not get it), false when the device gets a copy
 *
 * Context: RCU read side (the rx handler).
 * Return: true if the device receives the frame.
 */
bool med_filter_wants(struct med_dev *med, const u8 *dest, bool *take)
{
	const struct med_filter *f = rcu_dereference(med->filter);

	*take = false;
	if (is_multicast_ether_addr(dest))
		return is_broadcast_ether_addr(dest) || f->allmulti ||
		       f->promisc || f->mc.n > VDPA_SW_MAC_TABLE_MAX ||
		       med_table_has(&f->mc, dest);
	if (ether_addr_equal(dest, med->mac) || med_table_has(&f->uc, dest)) {
		*take = true;
		return true;
	}
	return f->promisc;
}

/* Let the lower receive for @f's addresses; undone on failure. */
static int med_filter_claim(struct med_dev *med, const struct med_filter *f)
{
	struct net_device *lower = med->lower->netdev;
	u32 u, m, mc_n = min_t(u32, f->mc.n, VDPA_SW_MAC_TABLE_MAX);
	int ret;

	for (u = 0; u < f->uc.n; u++) {
		ret = med_mac_claim(med, f->uc.addr[u]);
		if (ret)
			goto undo_uc;
	}
	for (m = 0; m < mc_n; m++) {
		ret = dev_mc_add(lower, f->mc.addr[m]);
		if (ret)
			goto undo_mc;
	}
	return 0;

undo_mc:
	while (m--)
		dev_mc_del(lower, f->mc.addr[m]);
undo_uc:
	while (u--)
		med_mac_release(med, f->uc.addr[u]);
	return ret;
}

static void med_filter_release(struct med_dev *med, const struct med_filter *f)
{
	struct net_device *lower = med->lower->netdev;
	u32 i;

	for (i = 0; i < f->uc.n; i++)
		med_mac_release(med, f->uc.addr[i]);
	for (i = 0; i < f->mc.n && i < VDPA_SW_MAC_TABLE_MAX; i++)
		dev_mc_del(lower, f->mc.addr[i]);
}

/*
 * Publish @next and free the filter it replaces.  With @new_tables, @next
 * has tables of its own, claimed, and the old ones are released; else it
 * took over the old filter's tables and their claims.
 */
static void med_filter_publish(struct med_dev *med, struct med_filter *next,
			       bool new_tables)
{
	struct med_filter *old = rcu_dereference_protected(med->filter,
					lockdep_is_held(&med->sim.lock));
	bool mode = next->promisc != old->promisc ||
		    med_filter_allmulti(next) != med_filter_allmulti(old);

	rcu_assign_pointer(med->filter, next);
	if (new_tables)
		med_filter_release(med, old);
	if (old != &med_filter_default)
		kfree_rcu(old, rcu);
	if (mode)
		schedule_work(&med->mode_work);
}

/* A copy of the filter in use, to change. Caller holds &vdpa_sw.lock. */
static struct med_filter *med_filter_copy(struct med_dev *med)
{
	const struct med_filter *f = rcu_dereference_protected(med->filter,
					lockdep_is_held(&med->sim.lock));

	return kmemdup(f, sizeof(*f), GFP_KERNEL);
}

/**
 * med_set_rx() - the control command PROMISC or ALLMULTI
 * @sim: the device
 * @cmd: VIRTIO_NET_CTRL_RX_PROMISC or VIRTIO_NET_CTRL_RX_ALLMULTI
 * @on: turn it on or off
 *
 * Context: the control queue's datapath thread, with &vdpa_sw.lock held
 * for reading.
 * Return: 0, or -ENOMEM.
 */
int med_set_rx(struct vdpa_sw *sim, u8 cmd, bool on)
{
	struct med_dev *med = sim_to_med(sim);
	struct med_filter *next = med_filter_copy(med);

	if (!next)
		return -ENOMEM;
	if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
		next->promisc = on;
	else
		next->allmulti = on;
	med_filter_publish(med, next, false);
	return 0;
}

/**
 * med_set_mac_table() - the control command MAC_TABLE_SET
 * @sim: the device
 * @uc: unicast addresses to receive for besides the device's own
 * @mc: multicast addresses to receive for (all, if more than fit)
 *
 * Context: the control queue's datapath thread, with &vdpa_sw.lock held
 * for reading.
 * Return: 0; -EOPNOTSUPP when the lower cannot receive for the unicast
 * addresses (no unicast filter, or more than fit); -ENOMEM.
 */
int med_set_mac_table(struct vdpa_sw *sim, const struct vdpa_sw_mac_table *uc,
		      const struct vdpa_sw_mac_table *mc)
{
	struct med_dev *med = sim_to_med(sim);
	struct med_filter *next;
	int ret;

	if (uc->n > VDPA_SW_MAC_TABLE_MAX) {
		dev_warn_ratelimited(&sim->vdpa.dev,
				     "MAC table of %u unicast addresses refused: at most %u\n",
				     uc->n, VDPA_SW_MAC_TABLE_MAX);
		return -EOPNOTSUPP;
	}
	next = med_filter_copy(med);
	if (!next)
		return -ENOMEM;
	next->uc = *uc;
	next->mc = *mc;
	ret = med_filter_claim(med, next);
	if (ret) {
		dev_warn_ratelimited(&sim->vdpa.dev,
				     "MAC table refused: %s cannot receive for its addresses (%d)\n",
				     med->lower->netdev->name, ret);
		kfree(next);
		return ret;
	}
	med_filter_publish(med, next, true);
	return 0;
}

/**
 * med_filter_reset() - back to the filter after creation
 * @med: the device
 *
 * Context: process context, &vdpa_sw.lock held (or the device not yet
 * registered).
 */
void med_filter_reset(struct med_dev *med)
{
	if (rcu_access_pointer(med->filter) != &med_filter_default)
		med_filter_publish(med, &med_filter_default, true);
}

/* Turn a mode of the lower on or off as @want says; *@is: it is on. */
static void med_lower_mode(struct med_dev *med, const char *mode,
			   int (*set)(struct net_device *dev, int inc),
			   bool want, bool *is)
{
	struct net_device *lower = med->lower->netdev;
	int ret;

	if (want == *is)
		return;
	ret = set(lower, want ? 1 : -1);
	if (!ret)
		*is = want;
	else
		dev_warn(&med->sim.vdpa.dev, "%s: %s mode not changed: %d\n",
			 lower->name, mode, ret);
}

/* Make the lower promiscuous and all-multicast while the filter is. */
static void med_mode_work(struct work_struct *work)
{
	struct med_dev *med = container_of(work, struct med_dev, mode_work);
	const struct med_filter *f;
	bool promisc, allmulti;

	rtnl_lock();
	rcu_read_lock();
	f = rcu_dereference(med->filter);
	promisc = f->promisc;
	allmulti = med_filter_allmulti(f);
	rcu_read_unlock();
	if (med->lower->gone) {
		/* An unregistered lower is not changed any more. */
		med->lower_promisc = false;
		med->lower_allmulti = false;
	} else {
		med_lower_mode(med, "promiscuous", dev_set_promiscuity,
			       promisc, &med->lower_promisc);
		med_lower_mode(med, "all-multicast", dev_set_allmulti,
			       allmulti, &med->lower_allmulti);
	}
	rtnl_unlock();
}

/**
 * med_filter_init() - the filter of a new device
 * @med: the device
 *
 * Context: process context, before the device is registered.
 */
void med_filter_init(struct med_dev *med)
{
	RCU_INIT_POINTER(med->filter, &med_filter_default);
	INIT_WORK(&med->mode_work, med_mode_work);
}

/**
 * med_filter_exit() - the device goes: its addresses, promiscuous and
 *	all-multicast modes leave the lower
 * @med: the device
 *
 * Context: process context, the device unregistered.
 */
void med_filter_exit(struct med_dev *med)
{
	down_write(&med->sim.lock);
	med_filter_reset(med);
	up_write(&med->sim.lock);
	cancel_work_sync(&med->mode_work);
	rtnl_lock();
	if (!med->lower->gone) {
		med_lower_mode(med, "promiscuous", dev_set_promiscuity, false,
			       &med->lower_promisc);
		med_lower_mode(med, "all-multicast", dev_set_allmulti, false,
			       &med->lower_allmulti);
	}
	med->lower_promisc = false;
	med->lower_allmulti = false;
	rtnl_unlock();
}
