// SPDX-License-Identifier: GPL-2.0
/*
 * Simulated virtio-net vDPA device: a loopback NIC.
 *
 * A frame sent on transmit queue 2k+1 comes back on receive queue 2k.
 * Where the control queue is depends on the negotiated features (virtio
 * 1.2, 5.1.2): queue 2 without VIRTIO_NET_F_MQ, queue 2 * max_vqp with it.
 * It sits alone in group 1 so that a vhost-vdpa user can give it its own
 * address space.
 */

#include <linux/debugfs.h>
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/vdpa.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>

#include "../swdev/swdev.h"

#define VDPASIM_NET_NAME	"vdpasim_net"
#define VDPASIM_NET_MAX_VQP	256
#define VDPASIM_NET_HDR_LEN	sizeof(struct virtio_net_hdr_v1)

#define VDPASIM_NET_FEATURES	(VDPA_SW_FEATURES | \
				 BIT_ULL(VIRTIO_NET_F_MAC) | \
				 BIT_ULL(VIRTIO_NET_F_MTU) | \
				 BIT_ULL(VIRTIO_NET_F_STATUS) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_VQ) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
				 BIT_ULL(VIRTIO_NET_F_MQ))
/* Group 0: the data queues; group 1: the control queue. */
#define VDPASIM_NET_GROUP_CVQ	1
#define VDPASIM_NET_NGROUPS	2
#define VDPASIM_NET_NAS		2

static unsigned int max_vqp = 8;
module_param(max_vqp, uint, 0444);
MODULE_PARM_DESC(max_vqp, "Most queue pairs a device can be given (1-256, default 8)");

/**
 * struct vdpasim_net - a simulated virtio-net device
 * @sim: the software-device core; must stay the first member
 * @mac_init: MAC address provisioned (or drawn) at creation
 * @mtu: MTU in the config space; longer frames are dropped
 * @max_vqp: queue pairs provisioned at creation
 * @mac: MAC address in the config space (control command MAC_ADDR_SET)
 * @cur_vqp: queue pairs the driver selected (control command VQ_PAIRS_SET)
 * @roles_valid: the core's &vdpa_sw_virtqueue.passive flags follow the
 *	roles of @roles_features and @roles_vqp
 * @roles_features: features the passive flags were derived from
 * @roles_vqp: @cur_vqp the passive flags were derived from
 * @link_up: link state (debugfs "link"); survives resets
 * @buf: bounce buffer of PAGE_SIZE bytes for the loopback copy
 * @debugfs: this device's debugfs directory
 *
 * @mac_init, @mtu and @max_vqp are set at creation; @mac, @cur_vqp,
 * @roles_*, @link_up and @buf are protected by &vdpa_sw.lock; @debugfs is
 * set at creation and cleared under the management device's lock
 * (dev_del).
 */
struct vdpasim_net {
	struct vdpa_sw sim;
	u8 mac_init[ETH_ALEN];
	u16 mtu;
	u16 max_vqp;
	u8 mac[ETH_ALEN];
	u16 cur_vqp;
	bool roles_valid;
	u64 roles_features;
	u16 roles_vqp;
	bool link_up;
	u8 *buf;
	struct dentry *debugfs;
};

static_assert(offsetof(struct vdpasim_net, sim) == 0);

static struct dentry *vdpasim_net_debugfs;
static struct vdpa_sw_devices vdpasim_net_devices =
	VDPA_SW_DEVICES_INIT(vdpasim_net_devices);

static struct vdpasim_net *sim_to_net(struct vdpa_sw *sim)
{
	return container_of(sim, struct vdpasim_net, sim);
}

/*
 * The role of queue @idx (see vdpa_sw_net_queue_role()).  Caller holds
 * &vdpa_sw.lock, or accepts a stale answer (get_vq_group may be asked
 * without it; features do not change while the device runs).
 */
static enum vdpa_sw_net_role vdpa_sw_net_role(const struct vdpasim_net *net,
					      u16 idx)
{
	return vdpa_sw_net_queue_role(READ_ONCE(net->sim.features), idx,
				      net->max_vqp, READ_ONCE(net->cur_vqp));
}

/*
 * Make the core's passive flags follow the roles: the thread serves only
 * transmit queues and the control queue.  Returns true if a flag changed.
 * Caller holds &vdpa_sw.lock.
 */
static bool vdpasim_net_sync_roles(struct vdpasim_net *net)
{
	struct vdpa_sw *sim = &net->sim;
	bool changed = false;
	u32 i;

	if (net->roles_valid && net->roles_features == sim->features &&
	    net->roles_vqp == net->cur_vqp)
		return false;
	for (i = 0; i < sim->dev_attr.nvqs; i++) {
		enum vdpa_sw_net_role role = vdpa_sw_net_role(net, i);
		bool passive = role != VDPA_SW_NET_TX && role != VDPA_SW_NET_CVQ;

		changed |= sim->vqs[i].passive != passive;
		sim->vqs[i].passive = passive;
	}
	net->roles_valid = true;
	net->roles_features = sim->features;
	net->roles_vqp = net->cur_vqp;
	return changed;
}

/*
 * After a reset the features are not known yet: leave every queue that
 * may be served once they are (the transmit queues, both places of the
 * control queue) to the thread.  The first batch after DRIVER_OK calls
 * vdpasim_net_sync_roles(), so a queue that turns out to be a receive or
 * unused queue costs one empty call.  Caller holds &vdpa_sw.lock.
 */
static void vdpasim_net_reset_roles(struct vdpasim_net *net)
{
	struct vdpa_sw *sim = &net->sim;
	u32 i;

	for (i = 0; i < sim->dev_attr.nvqs; i++)
		sim->vqs[i].passive = !(i & 1) && i != 2 &&
				      i != 2 * net->max_vqp;
	net->roles_valid = false;
}

static u32 vdpasim_net_get_vq_group(struct vdpa_sw *sim, u16 idx)
{
	return vdpa_sw_net_role(sim_to_net(sim), idx) == VDPA_SW_NET_CVQ ?
	       VDPASIM_NET_GROUP_CVQ : 0;
}

static void vdpasim_net_copy_stats(struct vdpa_sw_virtqueue *txq,
				   struct vdpa_sw_virtqueue *rxq, size_t len)
{
	txq->stats.bytes += len;
	rxq->stats.bytes += len;
}

/*
 * A ring call on the RX queue failed (or a push into its chain fell short):
 * the RX queue faults, and its error ends the TX queue's batch.
 */
static int vdpasim_net_rx_fault(struct vdpasim_net *net,
				struct vdpa_sw_virtqueue *rxq, ssize_t ret)
{
	int err = ret < 0 ? ret : -EFAULT;

	vdpa_sw_vq_error(&net->sim, rxq, err);
	return err;
}

/*
 * Copy the frame (after its header) from the TX chain into the RX chain.
 * A buffer that cannot be reached faults its own queue: the RX queue here,
 * the TX queue through the error returned to the core.
 */
static int vdpasim_net_copy(struct vdpasim_net *net,
			    struct vdpa_sw_virtqueue *txq,
			    struct vdpa_sw_virtqueue *rxq, size_t len)
{
	struct virtio_net_hdr_v1 hdr = {
		.gso_type = VIRTIO_NET_HDR_GSO_NONE,
		.num_buffers = cpu_to_vdpa_sw16(&net->sim, 1),
	};
	ssize_t ret;

	vringh_kiov_advance(&txq->riov, VDPASIM_NET_HDR_LEN);
	ret = vdpa_sw_push(rxq, &hdr, sizeof(hdr));
	if (ret < 0 || (size_t)ret != sizeof(hdr))
		return vdpasim_net_rx_fault(net, rxq, ret);
	while (len) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE);

		ret = vdpa_sw_pull(txq, net->buf, chunk);
		if (ret < 0 || (size_t)ret != chunk)
			return ret < 0 ? ret : -EFAULT;
		ret = vdpa_sw_push(rxq, net->buf, chunk);
		if (ret < 0 || (size_t)ret != chunk)
			return vdpasim_net_rx_fault(net, rxq, ret);
		len -= chunk;
	}
	return 0;
}

/*
 * Deliver the frame of the current TX chain to the paired RX queue, or drop
 * it (too long, no RX buffer, RX queue not usable). Returns 0, or a
 * negative errno if a ring is malformed or a buffer not reachable.
 */
static int vdpasim_net_deliver(struct vdpasim_net *net,
			       struct vdpa_sw_virtqueue *txq,
			       struct vdpa_sw_virtqueue *rxq)
{
	struct vdpa_sw *sim = &net->sim;
	size_t total = vringh_kiov_length(&txq->riov);
	size_t len;
	int ret;

	if (total < VDPASIM_NET_HDR_LEN) {
		dev_dbg_ratelimited(&sim->vdpa.dev, "TX chain of %zu bytes\n",
				    total);
		goto drop_tx;
	}
	len = total - VDPASIM_NET_HDR_LEN;
	if (len > net->mtu + ETH_HLEN || !vdpa_sw_vq_usable(sim, rxq))
		goto drop_tx;

	ret = vdpa_sw_vq_get(sim, rxq);
	if (ret < 0)
		return vdpasim_net_rx_fault(net, rxq, ret);
	if (!ret)
		goto drop_rx;
	if (vringh_kiov_length(&rxq->wiov) < VDPASIM_NET_HDR_LEN + len)
		goto give_back;
	ret = vdpasim_net_copy(net, txq, rxq, len);
	if (ret) {
		/*
		 * A buffer the device cannot reach: the queue faults
		 * (NEEDS_RESET), as for a ring, rather than losing the frame
		 * unseen.
		 */
		vdpa_sw_vq_unget(sim, rxq);
		return ret;
	}
	ret = vdpa_sw_vq_put(sim, rxq, VDPASIM_NET_HDR_LEN + len);
	if (ret)
		return vdpasim_net_rx_fault(net, rxq, ret);
	vdpasim_net_copy_stats(txq, rxq, len);
	return 0;

give_back:
	vdpa_sw_vq_unget(sim, rxq);
drop_rx:
	rxq->stats.dropped++;
drop_tx:
	txq->stats.dropped++;
	return 0;
}

static int vdpasim_net_tx(struct vdpasim_net *net,
			  struct vdpa_sw_virtqueue *txq, unsigned int budget)
{
	struct vdpa_sw *sim = &net->sim;
	struct vdpa_sw_virtqueue *rxq = txq - 1;
	unsigned int n;
	int ret = 0;

	for (n = 0; n < budget; n++) {
		ret = vdpa_sw_vq_get(sim, txq);
		if (ret <= 0)
			break;
		ret = vdpasim_net_deliver(net, txq, rxq);
		if (ret)
			break;
		ret = vdpa_sw_vq_put(sim, txq, 0);
		if (ret)
			break;
	}
	if (ret < 0)
		return ret;
	ret = vdpa_sw_vq_notify(sim, rxq);
	if (ret < 0)
		return vdpasim_net_rx_fault(net, rxq, ret);
	return n;
}

/* MAC_ADDR_SET: the loopback takes any address. */
static int vdpasim_net_set_mac(struct vdpa_sw *sim, const u8 *mac)
{
	ether_addr_copy(sim_to_net(sim)->mac, mac);
	vdpa_sw_generation_bump(sim);
	return 0;
}

static const struct vdpa_sw_net_ctrl vdpa_sw_net_ctrl = {
	.set_mac = vdpasim_net_set_mac,
};

static int vdpasim_net_process_vq(struct vdpa_sw *sim,
				  struct vdpa_sw_virtqueue *vq,
				  unsigned int budget)
{
	struct vdpasim_net *net = sim_to_net(sim);
	int n;

	vdpasim_net_sync_roles(net);
	switch (vdpa_sw_net_role(net, vq - sim->vqs)) {
	case VDPA_SW_NET_TX:
		return vdpasim_net_tx(net, vq, budget);
	case VDPA_SW_NET_CVQ:
		n = vdpa_sw_net_cvq(sim, vq, budget, net->max_vqp,
				    &net->cur_vqp, &vdpa_sw_net_ctrl);
		/*
		 * VQ_PAIRS_SET changed which transmit queues are served:
		 * another pass serves what the new ones already hold.
		 */
		if (n >= 0 && vdpasim_net_sync_roles(net))
			n = budget;
		return n;
	default:
		/*
		 * Receive queues are filled by their transmit queue; queues
		 * beyond the current pairs are not served.
		 */
		return 0;
	}
}

static void vdpasim_net_get_config(struct vdpa_sw *sim, void *config)
{
	struct vdpasim_net *net = sim_to_net(sim);
	struct virtio_net_config *cfg = config;

	memset(cfg, 0, sizeof(*cfg));
	ether_addr_copy(cfg->mac, net->mac);
	cfg->status = cpu_to_vdpa_sw16(sim, net->link_up ?
				       VIRTIO_NET_S_LINK_UP : 0);
	cfg->max_virtqueue_pairs = cpu_to_vdpa_sw16(sim, net->max_vqp);
	cfg->mtu = cpu_to_vdpa_sw16(sim, net->mtu);
}

/* Only a legacy driver may write the MAC address through the config. */
static void vdpasim_net_set_config(struct vdpa_sw *sim, const void *config)
{
	const struct virtio_net_config *cfg = config;

	if (!vdpa_sw_has_feature(sim, VIRTIO_F_VERSION_1))
		ether_addr_copy(sim_to_net(sim)->mac, cfg->mac);
}

static int vdpasim_net_get_stats(struct vdpa_sw *sim,
				 struct vdpa_sw_virtqueue *vq,
				 struct sk_buff *msg,
				 struct netlink_ext_ack *extack)
{
	u32 idx = vq - sim->vqs;
	int ret;

	ret = vdpa_sw_put_stat(msg, "received_desc", vq->stats.received_desc);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "completed_desc",
				       vq->stats.completed_desc);
	if (ret || vdpa_sw_net_role(sim_to_net(sim), idx) == VDPA_SW_NET_CVQ)
		return ret;
	ret = vdpa_sw_put_stat(msg, "bytes", vq->stats.bytes);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "dropped", vq->stats.dropped);
	return ret;
}

static void vdpasim_net_reset(struct vdpa_sw *sim)
{
	struct vdpasim_net *net = sim_to_net(sim);

	ether_addr_copy(net->mac, net->mac_init);
	net->cur_vqp = 1;
	vdpasim_net_reset_roles(net);
}

static void vdpasim_net_free(struct vdpa_sw *sim)
{
	struct vdpasim_net *net = sim_to_net(sim);

	debugfs_remove(net->debugfs);
	kfree(net->buf);
}

static const struct vdpa_sw_dev_attr vdpasim_net_attr = {
	.id		= VIRTIO_ID_NET,
	.ngroups	= VDPASIM_NET_NGROUPS,
	.nas		= VDPASIM_NET_NAS,
	.config_size	= sizeof(struct virtio_net_config),
	.alloc_size	= sizeof(struct vdpasim_net),
	.process_vq	= vdpasim_net_process_vq,
	.get_vq_group	= vdpasim_net_get_vq_group,
	.get_config	= vdpasim_net_get_config,
	.set_config	= vdpasim_net_set_config,
	.get_stats	= vdpasim_net_get_stats,
	.reset		= vdpasim_net_reset,
	.free		= vdpasim_net_free,
	.devices	= &vdpasim_net_devices,
};

static ssize_t vdpasim_net_link_read(struct file *file, char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	struct vdpasim_net *net = file->private_data;
	char buf[4];
	int len;

	down_write(&net->sim.lock);
	len = scnprintf(buf, sizeof(buf), "%d\n", net->link_up);
	up_write(&net->sim.lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t vdpasim_net_link_write(struct file *file,
				      const char __user *ubuf, size_t count,
				      loff_t *ppos)
{
	struct vdpasim_net *net = file->private_data;
	unsigned int up;
	int ret;

	ret = kstrtouint_from_user(ubuf, count, 0, &up);
	if (ret)
		return ret;
	if (up > 1)
		return -EINVAL;
	down_write(&net->sim.lock);
	if (net->link_up != up) {
		net->link_up = up;
		vdpa_sw_config_changed(&net->sim);
	}
	up_write(&net->sim.lock);
	return count;
}

static const struct file_operations vdpasim_net_link_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= vdpasim_net_link_read,
	.write	= vdpasim_net_link_write,
	.llseek	= default_llseek,
};

/* Check provisioned attributes; the vDPA core checked the basic ranges. */
static int vdpasim_net_config(struct vdpa_mgmt_dev *mdev, const char *name,
			      const struct vdpa_dev_set_config *config,
			      struct vdpa_sw_dev_attr *attr, u16 *vqp,
			      u16 *mtu)
{
	u64 features;
	int ret;

	ret = vdpa_sw_net_features(mdev->device, name, config,
				   VDPASIM_NET_FEATURES, &features);
	if (ret)
		return ret;
	*vqp = 1;
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP)) {
		*vqp = config->net.max_vq_pairs;
		if (!*vqp || *vqp > max_vqp) {
			dev_warn(mdev->device, "%s: max_vqp %u not in 1..%u\n",
				 name, *vqp, max_vqp);
			return -EINVAL;
		}
	}
	*mtu = ETH_DATA_LEN;
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU)) {
		*mtu = config->net.mtu;
		if (*mtu < ETH_MIN_MTU) {
			dev_warn(mdev->device, "%s: mtu %u below %u\n", name,
				 *mtu, ETH_MIN_MTU);
			return -EINVAL;
		}
	}
	if ((config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR)) &&
	    !is_valid_ether_addr(config->net.mac)) {
		dev_warn(mdev->device, "%s: invalid MAC address %pM\n", name,
			 config->net.mac);
		return -EINVAL;
	}
	*attr = vdpasim_net_attr;
	attr->nvqs = 2 * *vqp + 1;
	attr->device_features = features;
	return 0;
}

static void vdpasim_net_add_debugfs(struct vdpasim_net *net)
{
	net->debugfs = debugfs_create_dir(dev_name(&net->sim.vdpa.dev),
					  vdpasim_net_debugfs);
	debugfs_create_file("link", 0600, net->debugfs, net,
			    &vdpasim_net_link_fops);
}

static int vdpasim_net_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			       const struct vdpa_dev_set_config *config)
{
	struct vdpa_sw_dev_attr attr;
	struct vdpasim_net *net;
	struct vdpa_sw *sim;
	u16 vqp, mtu;
	int ret;

	ret = vdpasim_net_config(mdev, name, config, &attr, &vqp, &mtu);
	if (ret)
		return ret;
	sim = vdpa_sw_create(&attr, mdev->device, name);
	if (IS_ERR(sim))
		return PTR_ERR(sim);
	net = sim_to_net(sim);

	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR))
		ether_addr_copy(net->mac_init, config->net.mac);
	else
		eth_random_addr(net->mac_init);
	net->mtu = mtu;
	net->max_vqp = vqp;
	net->buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!net->buf) {
		ret = -ENOMEM;
		goto err;
	}
	down_write(&sim->lock);
	net->link_up = true;
	vdpasim_net_reset(sim);
	up_write(&sim->lock);

	sim->vdpa.mdev = mdev;
	ret = vdpa_sw_register(sim, attr.nvqs);
	if (ret)
		goto err;
	vdpasim_net_add_debugfs(net);
	return 0;

err:
	put_device(&sim->vdpa.dev);
	return ret;
}

static void vdpasim_net_dev_del(struct vdpa_mgmt_dev *mdev,
				struct vdpa_device *vdpa)
{
	struct vdpasim_net *net = sim_to_net(vdpa_to_sim(vdpa));

	/* Waits for running link reads and writes. */
	debugfs_remove(net->debugfs);
	net->debugfs = NULL;
	vdpa_sw_unregister(&net->sim);
}

static const struct vdpa_mgmtdev_ops vdpasim_net_mgmtdev_ops = {
	.dev_add = vdpasim_net_dev_add,
	.dev_del = vdpasim_net_dev_del,
};

static struct virtio_device_id vdpasim_net_id_table[] = {
	{ VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct vdpa_mgmt_dev vdpasim_net_mgmtdev = {
	.ops = &vdpasim_net_mgmtdev_ops,
	.id_table = vdpasim_net_id_table,
	.config_attr_mask = BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR) |
			    BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU) |
			    BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP) |
			    BIT_ULL(VDPA_ATTR_DEV_FEATURES),
	.supported_features = VDPASIM_NET_FEATURES,
};

static int __init vdpasim_net_init(void)
{
	struct device *dev;
	int ret;

	if (!max_vqp || max_vqp > VDPASIM_NET_MAX_VQP) {
		pr_err("vdpa_sim_net: max_vqp %u not in 1..%u\n", max_vqp,
		       VDPASIM_NET_MAX_VQP);
		return -EINVAL;
	}
	dev = root_device_register(VDPASIM_NET_NAME);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	vdpasim_net_debugfs = debugfs_create_dir("vdpa_sim_net", NULL);
	vdpasim_net_mgmtdev.device = dev;
	vdpasim_net_mgmtdev.max_supported_vqs = 2 * max_vqp + 1;
	ret = vdpa_mgmtdev_register(&vdpasim_net_mgmtdev);
	if (ret) {
		debugfs_remove(vdpasim_net_debugfs);
		root_device_unregister(dev);
	}
	return ret;
}

static void __exit vdpasim_net_exit(void)
{
	/* Deletes the remaining devices through dev_del. */
	vdpa_mgmtdev_unregister(&vdpasim_net_mgmtdev);
	/* No dev_add any more: wait until every device was freed. */
	vdpa_sw_devices_wait(&vdpasim_net_devices);
	debugfs_remove(vdpasim_net_debugfs);
	root_device_unregister(vdpasim_net_mgmtdev.device);
}

module_init(vdpasim_net_init);
module_exit(vdpasim_net_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated virtio-net vDPA device (loopback)");
