// SPDX-License-Identifier: GPL-2.0
/*
 * The "vdpa" generic netlink family: list management devices, add, delete
 * and show vDPA devices, show their config space and vendor statistics.
 * Wire-compatible with iproute2's vdpa tool (uapi/linux/vdpa.h).
 *
 * Every handler runs without the genetlink mutex (parallel_ops) and takes
 * vdpa_dev_lock itself: for writing when it adds or deletes a device, for
 * reading otherwise.  A delete drops it while the device's driver lets go
 * (vdpa_dev_del_begin()), so a driver that waits for its users stalls no
 * other request.
 */
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <net/genetlink.h>
#include <uapi/linux/vdpa.h>

#include "vdpa_internal.h"

/* Longest device and management device name, without the NUL. */
#define VDPA_NL_NAME_MAX	63

static const struct nla_policy vdpa_nl_policy[VDPA_ATTR_MAX + 1] = {
	[VDPA_ATTR_MGMTDEV_BUS_NAME] = { .type = NLA_NUL_STRING,
					 .len = VDPA_NL_NAME_MAX },
	[VDPA_ATTR_MGMTDEV_DEV_NAME] = { .type = NLA_NUL_STRING,
					 .len = VDPA_NL_NAME_MAX },
	[VDPA_ATTR_DEV_NAME] = { .type = NLA_NUL_STRING,
				 .len = VDPA_NL_NAME_MAX },
	[VDPA_ATTR_DEV_NET_CFG_MACADDR] = NLA_POLICY_ETH_ADDR,
	[VDPA_ATTR_DEV_NET_CFG_MTU] = { .type = NLA_U16 },
	[VDPA_ATTR_DEV_NET_CFG_MAX_VQP] = { .type = NLA_U16 },
	[VDPA_ATTR_DEV_QUEUE_INDEX] = { .type = NLA_U32 },
	[VDPA_ATTR_DEV_FEATURES] = { .type = NLA_U64 },
};

static struct genl_family vdpa_nl_family __ro_after_init;

/*
 * A management device is "bus/dev" when its device sits on a bus and
 * just "dev" otherwise: requests carry the bus name exactly when it has one.
 */
static bool vdpa_nl_mgmtdev_is(const struct vdpa_mgmt_dev *mdev,
			       const char *busname, const char *devname)
{
	const struct bus_type *bus = mdev->device->bus;

	if (!!busname != !!bus)
		return false;
	if (busname && strcmp(bus->name, busname))
		return false;
	return !strcmp(dev_name(mdev->device), devname);
}

static struct vdpa_mgmt_dev *vdpa_nl_find_mgmtdev(struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct vdpa_mgmt_dev *mdev;
	const char *busname = NULL;
	const char *devname;

	lockdep_assert_held(&vdpa_dev_lock);

	if (!attrs[VDPA_ATTR_MGMTDEV_DEV_NAME]) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "management device name is required");
		return ERR_PTR(-EINVAL);
	}
	devname = nla_data(attrs[VDPA_ATTR_MGMTDEV_DEV_NAME]);
	if (attrs[VDPA_ATTR_MGMTDEV_BUS_NAME])
		busname = nla_data(attrs[VDPA_ATTR_MGMTDEV_BUS_NAME]);

	list_for_each_entry(mdev, &vdpa_mgmtdev_list, list) {
		if (vdpa_nl_mgmtdev_is(mdev, busname, devname))
			return mdev;
	}

	NL_SET_ERR_MSG_ATTR(info->extack, attrs[VDPA_ATTR_MGMTDEV_DEV_NAME],
			    "management device not found");
	return ERR_PTR(-ENODEV);
}

static int vdpa_nl_put_mgmtdev_handle(struct sk_buff *msg,
				      const struct vdpa_mgmt_dev *mdev)
{
	const struct bus_type *bus = mdev->device->bus;

	if (bus && nla_put_string(msg, VDPA_ATTR_MGMTDEV_BUS_NAME, bus->name))
		return -EMSGSIZE;
	if (nla_put_string(msg, VDPA_ATTR_MGMTDEV_DEV_NAME,
			   dev_name(mdev->device)))
		return -EMSGSIZE;
	return 0;
}

/* The device classes (virtio device ids) a management device can create. */
static u64 vdpa_nl_mgmtdev_classes(const struct vdpa_mgmt_dev *mdev)
{
	const struct virtio_device_id *id;
	u64 classes = 0;

	for (id = mdev->id_table; id->device; id++) {
		if (id->device < 64)
			classes |= BIT_ULL(id->device);
	}
	return classes;
}

static int vdpa_nl_fill_mgmtdev(struct sk_buff *msg,
				const struct vdpa_mgmt_dev *mdev,
				u32 portid, u32 seq, int flags)
{
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &vdpa_nl_family, flags,
			  VDPA_CMD_MGMTDEV_NEW);
	if (!hdr)
		return -EMSGSIZE;

	if (vdpa_nl_put_mgmtdev_handle(msg, mdev) ||
	    nla_put_u64_64bit(msg, VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES,
			      vdpa_nl_mgmtdev_classes(mdev), VDPA_ATTR_PAD) ||
	    nla_put_u32(msg, VDPA_ATTR_DEV_MGMTDEV_MAX_VQS,
			mdev->max_supported_vqs) ||
	    nla_put_u64_64bit(msg, VDPA_ATTR_DEV_SUPPORTED_FEATURES,
			      mdev->supported_features, VDPA_ATTR_PAD)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}

	genlmsg_end(msg, hdr);
	return 0;
}

static int vdpa_nl_cmd_mgmtdev_get_doit(struct sk_buff *skb,
					struct genl_info *info)
{
	struct vdpa_mgmt_dev *mdev;
	struct sk_buff *msg;
	int err;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	down_read(&vdpa_dev_lock);
	mdev = vdpa_nl_find_mgmtdev(info);
	if (IS_ERR(mdev))
		err = PTR_ERR(mdev);
	else
		err = vdpa_nl_fill_mgmtdev(msg, mdev, info->snd_portid,
					   info->snd_seq, 0);
	up_read(&vdpa_dev_lock);

	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int vdpa_nl_cmd_mgmtdev_get_dumpit(struct sk_buff *msg,
					  struct netlink_callback *cb)
{
	struct vdpa_mgmt_dev *mdev;
	int start = cb->args[0];
	int idx = 0;

	down_read(&vdpa_dev_lock);
	list_for_each_entry(mdev, &vdpa_mgmtdev_list, list) {
		if (idx >= start &&
		    vdpa_nl_fill_mgmtdev(msg, mdev,
					 NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI))
			break;
		idx++;
	}
	up_read(&vdpa_dev_lock);

	cb->args[0] = idx;
	return msg->len;
}

/* The device name of a request: present, not empty, usable in sysfs. */
static const char *vdpa_nl_dev_name(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VDPA_ATTR_DEV_NAME];
	const char *name;

	if (!attr) {
		NL_SET_ERR_MSG_MOD(info->extack, "device name is required");
		return NULL;
	}
	name = nla_data(attr);
	if (!vdpa_dev_name_valid(name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "device name must be non-empty, without '/', and not '.' or '..'");
		return NULL;
	}
	return name;
}

/* Look the request's device up; the caller drops the reference. */
static struct vdpa_device *vdpa_nl_find_dev(struct genl_info *info)
{
	struct vdpa_device *vdev;
	const char *name;

	name = vdpa_nl_dev_name(info);
	if (!name)
		return ERR_PTR(-EINVAL);

	vdev = vdpa_find_device(name);
	if (!vdev) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VDPA_ATTR_DEV_NAME],
				    "device not found");
		return ERR_PTR(-ENODEV);
	}
	return vdev;
}

static int vdpa_nl_parse_net_config(struct genl_info *info,
				    struct vdpa_dev_set_config *config)
{
	struct nlattr **attrs = info->attrs;
	struct nlattr *attr;

	attr = attrs[VDPA_ATTR_DEV_NET_CFG_MACADDR];
	if (attr) {
		memcpy(config->net.mac, nla_data(attr), ETH_ALEN);
		if (!is_valid_ether_addr(config->net.mac)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "MAC address must be a valid unicast address");
			return -EINVAL;
		}
		config->mask |= BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR);
	}

	attr = attrs[VDPA_ATTR_DEV_NET_CFG_MTU];
	if (attr) {
		config->net.mtu = nla_get_u16(attr);
		if (config->net.mtu < ETH_MIN_MTU) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "MTU must be at least 68");
			return -EINVAL;
		}
		config->mask |= BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU);
	}

	attr = attrs[VDPA_ATTR_DEV_NET_CFG_MAX_VQP];
	if (attr) {
		config->net.max_vq_pairs = nla_get_u16(attr);
		if (!config->net.max_vq_pairs) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "max_vqp must be at least 1");
			return -EINVAL;
		}
		config->mask |= BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
	}
	return 0;
}

static int vdpa_nl_parse_dev_config(struct genl_info *info,
				    struct vdpa_dev_set_config *config)
{
	struct nlattr *attr = info->attrs[VDPA_ATTR_DEV_FEATURES];

	if (attr) {
		config->device_features = nla_get_u64(attr);
		config->mask |= BIT_ULL(VDPA_ATTR_DEV_FEATURES);
	}
	return vdpa_nl_parse_net_config(info, config);
}

/* Can @mdev create a device with @config? */
static int vdpa_nl_check_dev_config(struct genl_info *info,
				    const struct vdpa_mgmt_dev *mdev,
				    const struct vdpa_dev_set_config *config)
{
	struct netlink_ext_ack *extack = info->extack;
	u64 unsupported = config->mask & ~mdev->config_attr_mask;
	u32 max_vqs = mdev->max_supported_vqs;

	if (unsupported) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[__ffs64(unsupported)],
				    "attribute not supported by the management device");
		return -EOPNOTSUPP;
	}

	if (config->device_features & ~mdev->supported_features) {
		NL_SET_ERR_MSG_ATTR(extack, info->attrs[VDPA_ATTR_DEV_FEATURES],
				    "device features not supported by the management device");
		return -EINVAL;
	}

	if ((config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP)) && max_vqs &&
	    2 * (u32)config->net.max_vq_pairs > max_vqs) {
		NL_SET_ERR_MSG_ATTR(extack,
				    info->attrs[VDPA_ATTR_DEV_NET_CFG_MAX_VQP],
				    "max_vqp exceeds what the management device supports");
		return -EINVAL;
	}
	return 0;
}

static int vdpa_nl_cmd_dev_add_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct vdpa_dev_set_config config = {};
	struct vdpa_mgmt_dev *mdev;
	struct vdpa_device *other;
	const char *name;
	int err;

	name = vdpa_nl_dev_name(info);
	if (!name)
		return -EINVAL;

	err = vdpa_nl_parse_dev_config(info, &config);
	if (err)
		return err;

	down_write(&vdpa_dev_lock);
	mdev = vdpa_nl_find_mgmtdev(info);
	if (IS_ERR(mdev)) {
		err = PTR_ERR(mdev);
		goto out;
	}

	err = vdpa_nl_check_dev_config(info, mdev, &config);
	if (err)
		goto out;

	other = vdpa_find_device(name);
	if (other) {
		put_device(&other->dev);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VDPA_ATTR_DEV_NAME],
				    "device name already exists");
		err = -EEXIST;
		goto out;
	}

	err = mdev->ops->dev_add(mdev, name, &config);
	if (err)
		NL_SET_ERR_MSG_MOD(info->extack,
				   "management device failed to add the device");
out:
	up_write(&vdpa_dev_lock);
	return err;
}

static int vdpa_nl_cmd_dev_del_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct vdpa_device *vdev;
	int err = 0;

	down_write(&vdpa_dev_lock);
	vdev = vdpa_nl_find_dev(info);
	if (IS_ERR(vdev)) {
		err = PTR_ERR(vdev);
		goto out;
	}

	if (!vdev->mdev) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "device was not created by a management device");
		err = -EINVAL;
		goto put;
	}
	err = vdpa_dev_del_begin(vdev);
	if (err) {
		NL_SET_ERR_MSG_MOD(info->extack, "device is already being deleted");
		goto put;
	}
	/*
	 * The lock was dropped while the driver let go: the management
	 * device may have been unregistered meanwhile, deleting its devices.
	 * While @vdev is still registered, its management device is too.
	 */
	if (device_is_registered(&vdev->dev))
		vdev->mdev->ops->dev_del(vdev->mdev, vdev);
	vdpa_dev_del_end(vdev);
put:
	put_device(&vdev->dev);
out:
	up_write(&vdpa_dev_lock);
	return err;
}

static int vdpa_nl_fill_dev(struct sk_buff *msg, struct vdpa_device *vdev,
			    u32 portid, u32 seq, int flags)
{
	const struct vdpa_config_ops *ops = vdev->config;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &vdpa_nl_family, flags,
			  VDPA_CMD_DEV_NEW);
	if (!hdr)
		return -EMSGSIZE;

	if ((vdev->mdev && vdpa_nl_put_mgmtdev_handle(msg, vdev->mdev)) ||
	    nla_put_string(msg, VDPA_ATTR_DEV_NAME, dev_name(&vdev->dev)) ||
	    nla_put_u32(msg, VDPA_ATTR_DEV_ID, ops->get_device_id(vdev)) ||
	    nla_put_u32(msg, VDPA_ATTR_DEV_VENDOR_ID, ops->get_vendor_id(vdev)) ||
	    nla_put_u32(msg, VDPA_ATTR_DEV_MAX_VQS, vdev->nvqs) ||
	    nla_put_u16(msg, VDPA_ATTR_DEV_MAX_VQ_SIZE,
			ops->get_vq_num_max(vdev)) ||
	    (ops->get_vq_num_min &&
	     nla_put_u16(msg, VDPA_ATTR_DEV_MIN_VQ_SIZE,
			 ops->get_vq_num_min(vdev)))) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}

	genlmsg_end(msg, hdr);
	return 0;
}

/* Which device a dump continues from, and where it is now. */
struct vdpa_nl_dump {
	struct sk_buff *msg;
	struct netlink_callback *cb;
	int (*fill)(struct sk_buff *msg, struct vdpa_device *vdev,
		    u32 portid, u32 seq, int flags);
	int start;
	int idx;
};

static int vdpa_nl_dump_one(struct vdpa_device *vdev, void *data)
{
	struct vdpa_nl_dump *dump = data;
	int err;

	if (dump->idx >= dump->start) {
		err = dump->fill(dump->msg, vdev,
				 NETLINK_CB(dump->cb->skb).portid,
				 dump->cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (err)
			return err;
	}
	dump->idx++;
	return 0;
}

/* Dump every device with @fill, resuming where the last call stopped. */
static int vdpa_nl_dump_devs(struct sk_buff *msg, struct netlink_callback *cb,
			     int (*fill)(struct sk_buff *msg,
					 struct vdpa_device *vdev,
					 u32 portid, u32 seq, int flags))
{
	struct vdpa_nl_dump dump = {
		.msg = msg,
		.cb = cb,
		.fill = fill,
		.start = cb->args[0],
	};

	down_read(&vdpa_dev_lock);
	vdpa_walk_devices(&dump, vdpa_nl_dump_one);
	up_read(&vdpa_dev_lock);

	cb->args[0] = dump.idx;
	return msg->len;
}

/* Answer a request about one device with @fill. */
static int vdpa_nl_reply_dev(struct genl_info *info,
			     int (*fill)(struct sk_buff *msg,
					 struct vdpa_device *vdev,
					 u32 portid, u32 seq, int flags))
{
	struct vdpa_device *vdev;
	struct sk_buff *msg;
	int err;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	down_read(&vdpa_dev_lock);
	vdev = vdpa_nl_find_dev(info);
	if (IS_ERR(vdev)) {
		err = PTR_ERR(vdev);
	} else {
		err = fill(msg, vdev, info->snd_portid, info->snd_seq, 0);
		put_device(&vdev->dev);
	}
	up_read(&vdpa_dev_lock);

	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int vdpa_nl_cmd_dev_get_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	return vdpa_nl_reply_dev(info, vdpa_nl_fill_dev);
}

static int vdpa_nl_cmd_dev_get_dumpit(struct sk_buff *msg,
				      struct netlink_callback *cb)
{
	return vdpa_nl_dump_devs(msg, cb, vdpa_nl_fill_dev);
}

static bool vdpa_nl_is_le(u64 features)
{
	return virtio_legacy_is_little_endian() ||
	       (features & BIT_ULL(VIRTIO_F_VERSION_1));
}

/*
 * Read the net config space as the device offers it.  Fields the config
 * space is too short for read as zero.  Caller holds vdev->cf_lock.
 */
static void vdpa_nl_read_net_config(struct vdpa_device *vdev,
				    struct virtio_net_config *cfg)
{
	size_t size = vdev->config->get_config_size(vdev);

	memset(cfg, 0, sizeof(*cfg));
	vdev->config->get_config(vdev, 0, cfg, min(size, sizeof(*cfg)));
}

/* The queue pairs a net device has, as seen with @features. */
static u16 vdpa_nl_net_max_vqp(const struct virtio_net_config *cfg,
			       u64 features)
{
	if (!(features & BIT_ULL(VIRTIO_NET_F_MQ)))
		return 1;
	return __virtio16_to_cpu(vdpa_nl_is_le(features),
				 cfg->max_virtqueue_pairs);
}

static int vdpa_nl_put_net_config(struct sk_buff *msg,
				  struct vdpa_device *vdev, u64 features)
{
	struct virtio_net_config cfg;
	bool le = vdpa_nl_is_le(features);

	vdpa_nl_read_net_config(vdev, &cfg);

	if ((features & BIT_ULL(VIRTIO_NET_F_MAC)) &&
	    nla_put(msg, VDPA_ATTR_DEV_NET_CFG_MACADDR, ETH_ALEN, cfg.mac))
		return -EMSGSIZE;
	/* Documented as u8; the kernel has always sent a u16. */
	if ((features & BIT_ULL(VIRTIO_NET_F_STATUS)) &&
	    nla_put_u16(msg, VDPA_ATTR_DEV_NET_STATUS,
			__virtio16_to_cpu(le, cfg.status)))
		return -EMSGSIZE;
	if ((features & BIT_ULL(VIRTIO_NET_F_MTU)) &&
	    nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MTU,
			__virtio16_to_cpu(le, cfg.mtu)))
		return -EMSGSIZE;
	if (nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MAX_VQP,
			vdpa_nl_net_max_vqp(&cfg, features)))
		return -EMSGSIZE;
	return 0;
}

static int vdpa_nl_put_config(struct sk_buff *msg, struct vdpa_device *vdev)
{
	const struct vdpa_config_ops *ops = vdev->config;
	u64 device_features = ops->get_device_features(vdev);

	if (nla_put_u64_64bit(msg, VDPA_ATTR_VDPA_DEV_SUPPORTED_FEATURES,
			      device_features, VDPA_ATTR_PAD))
		return -EMSGSIZE;

	/* What the driver negotiated exists only once it is accepted. */
	if ((ops->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    nla_put_u64_64bit(msg, VDPA_ATTR_DEV_NEGOTIATED_FEATURES,
			      ops->get_driver_features(vdev), VDPA_ATTR_PAD))
		return -EMSGSIZE;

	switch (ops->get_device_id(vdev)) {
	case VIRTIO_ID_NET:
		return vdpa_nl_put_net_config(msg, vdev, device_features);
	default:
		return 0;
	}
}

static int vdpa_nl_fill_config(struct sk_buff *msg, struct vdpa_device *vdev,
			       u32 portid, u32 seq, int flags)
{
	void *hdr;
	int err;

	hdr = genlmsg_put(msg, portid, seq, &vdpa_nl_family, flags,
			  VDPA_CMD_DEV_CONFIG_GET);
	if (!hdr)
		return -EMSGSIZE;

	/* iproute2 needs the device id to know how to read the config. */
	err = -EMSGSIZE;
	if (nla_put_string(msg, VDPA_ATTR_DEV_NAME, dev_name(&vdev->dev)) ||
	    nla_put_u32(msg, VDPA_ATTR_DEV_ID, vdev->config->get_device_id(vdev)))
		goto err_cancel;

	down_read(&vdev->cf_lock);
	err = vdpa_nl_put_config(msg, vdev);
	up_read(&vdev->cf_lock);
	if (err)
		goto err_cancel;

	genlmsg_end(msg, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(msg, hdr);
	return err;
}

static int vdpa_nl_cmd_dev_config_get_doit(struct sk_buff *skb,
					   struct genl_info *info)
{
	return vdpa_nl_reply_dev(info, vdpa_nl_fill_config);
}

static int vdpa_nl_cmd_dev_config_get_dumpit(struct sk_buff *msg,
					     struct netlink_callback *cb)
{
	return vdpa_nl_dump_devs(msg, cb, vdpa_nl_fill_config);
}

/*
 * The vendor statistics of one queue, after the attributes iproute2
 * expects first.  Caller holds vdev->cf_lock.
 */
static int vdpa_nl_put_vstats(struct sk_buff *msg, struct vdpa_device *vdev,
			      u32 index, struct netlink_ext_ack *extack)
{
	const struct vdpa_config_ops *ops = vdev->config;
	struct virtio_net_config cfg;
	u16 max_vqp = 1;
	u64 features;

	if (!(ops->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "features are not negotiated yet: no driver drives the device");
		return -EAGAIN;
	}
	if (index >= vdev->nvqs) {
		NL_SET_ERR_MSG_MOD(extack, "queue index out of range");
		return -ERANGE;
	}

	features = ops->get_driver_features(vdev);
	if (ops->get_device_id(vdev) == VIRTIO_ID_NET) {
		vdpa_nl_read_net_config(vdev, &cfg);
		max_vqp = vdpa_nl_net_max_vqp(&cfg, features);
	}

	if (nla_put_string(msg, VDPA_ATTR_DEV_NAME, dev_name(&vdev->dev)) ||
	    nla_put_u32(msg, VDPA_ATTR_DEV_ID, ops->get_device_id(vdev)) ||
	    nla_put_u64_64bit(msg, VDPA_ATTR_DEV_NEGOTIATED_FEATURES, features,
			      VDPA_ATTR_PAD) ||
	    nla_put_u16(msg, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, max_vqp) ||
	    nla_put_u32(msg, VDPA_ATTR_DEV_QUEUE_INDEX, index))
		return -EMSGSIZE;

	return ops->get_vendor_vq_stats(vdev, index, msg, extack);
}

static int vdpa_nl_fill_vstats(struct sk_buff *msg, struct vdpa_device *vdev,
			       struct genl_info *info, u32 index)
{
	void *hdr;
	int err;

	if (!vdev->config->get_vendor_vq_stats) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "device does not report vendor statistics");
		return -EOPNOTSUPP;
	}

	hdr = genlmsg_put(msg, info->snd_portid, info->snd_seq,
			  &vdpa_nl_family, 0, VDPA_CMD_DEV_VSTATS_GET);
	if (!hdr)
		return -EMSGSIZE;

	down_read(&vdev->cf_lock);
	err = vdpa_nl_put_vstats(msg, vdev, index, info->extack);
	up_read(&vdev->cf_lock);
	if (err) {
		genlmsg_cancel(msg, hdr);
		return err;
	}

	genlmsg_end(msg, hdr);
	return 0;
}

static int vdpa_nl_cmd_dev_vstats_get_doit(struct sk_buff *skb,
					   struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VDPA_ATTR_DEV_QUEUE_INDEX];
	struct vdpa_device *vdev;
	struct sk_buff *msg;
	int err;

	if (!attr) {
		NL_SET_ERR_MSG_MOD(info->extack, "queue index is required");
		return -EINVAL;
	}

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	down_read(&vdpa_dev_lock);
	vdev = vdpa_nl_find_dev(info);
	if (IS_ERR(vdev)) {
		err = PTR_ERR(vdev);
	} else {
		err = vdpa_nl_fill_vstats(msg, vdev, info, nla_get_u32(attr));
		put_device(&vdev->dev);
	}
	up_read(&vdpa_dev_lock);

	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static const struct genl_small_ops vdpa_nl_ops[] = {
	{
		.cmd = VDPA_CMD_MGMTDEV_GET,
		.doit = vdpa_nl_cmd_mgmtdev_get_doit,
		.dumpit = vdpa_nl_cmd_mgmtdev_get_dumpit,
	},
	{
		.cmd = VDPA_CMD_DEV_NEW,
		.doit = vdpa_nl_cmd_dev_add_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = VDPA_CMD_DEV_DEL,
		.doit = vdpa_nl_cmd_dev_del_doit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = VDPA_CMD_DEV_GET,
		.doit = vdpa_nl_cmd_dev_get_doit,
		.dumpit = vdpa_nl_cmd_dev_get_dumpit,
	},
	{
		.cmd = VDPA_CMD_DEV_CONFIG_GET,
		.doit = vdpa_nl_cmd_dev_config_get_doit,
		.dumpit = vdpa_nl_cmd_dev_config_get_dumpit,
	},
	{
		.cmd = VDPA_CMD_DEV_VSTATS_GET,
		.doit = vdpa_nl_cmd_dev_vstats_get_doit,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family vdpa_nl_family __ro_after_init = {
	.name = VDPA_GENL_NAME,
	.version = VDPA_GENL_VERSION,
	.maxattr = VDPA_ATTR_MAX,
	.policy = vdpa_nl_policy,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.small_ops = vdpa_nl_ops,
	.n_small_ops = ARRAY_SIZE(vdpa_nl_ops),
};

int __init vdpa_netlink_init(void)
{
	return genl_register_family(&vdpa_nl_family);
}

void vdpa_netlink_uninit(void)
{
	genl_unregister_family(&vdpa_nl_family);
}
