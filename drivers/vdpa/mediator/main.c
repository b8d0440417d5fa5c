// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_mediator: virtio-net vDPA devices over any network device.
 *
 * The operator lists lower devices in the module parameter "lower" (names
 * in the initial network namespace, comma-separated), at load time or by
 * writing /sys/module/vdpa_mediator/parameters/lower.  Each lower gets a
 * management device on its parent device (an ENA or any PCI NIC shows as
 * pci/<BDF>), or, for a lower without one (veth), on a root device named
 * after it.  "vdpa dev add ... mgmtdev <it>" then creates the device
 * (dev.c).  A lower that goes away takes its management device and device
 * with it.
 */

#include <linux/if_arp.h>
#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/virtio_ids.h>

#include "mediator.h"

#define MED_LOWER_LEN	256

/*
 * med_lock serialises changes of the list of lowers (parameter writes, the
 * reaper, module init and exit).  It nests outside the vDPA core's device
 * lock and RTNL.  The list itself is changed under med_lock and RTNL, so
 * the netdev notifier reads it under RTNL alone.
 */
static DEFINE_MUTEX(med_lock);
static LIST_HEAD(med_lowers);
/* The parameter as last written; under the module's parameter lock. */
static char med_lower_param[MED_LOWER_LEN];
/* Lowers are attached between init and exit only; under med_lock. */
static bool med_ready;

static struct virtio_device_id med_id_table[] = {
	{ VIRTIO_ID_NET, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static void med_reap(struct work_struct *work);
static DECLARE_WORK(med_reap_work, med_reap);

/* The entry of @netdev. Caller holds RTNL or med_lock. */
static struct med_lower *med_find(const struct net_device *netdev)
{
	struct med_lower *lower;

	list_for_each_entry(lower, &med_lowers, node)
		if (lower->netdev == netdev)
			return lower;
	return NULL;
}

/* The entry listed as @name. Caller holds med_lock. */
static struct med_lower *med_find_name(const char *name)
{
	struct med_lower *lower;

	list_for_each_entry(lower, &med_lowers, node)
		if (!strcmp(lower->name, name))
			return lower;
	return NULL;
}

/* The device the management device of @netdev is registered on. */
static struct device *med_mgmt_device(struct med_lower *lower)
{
	struct device *parent = lower->netdev->dev.parent;
	struct med_lower *other;

	if (!parent) {
		lower->root = root_device_register(lower->name);
		return IS_ERR(lower->root) ? ERR_CAST(lower->root) :
					     lower->root;
	}
	list_for_each_entry(other, &med_lowers, node) {
		if (other->mgmt.device == parent) {
			pr_warn("%s: %s already has the management device of %s\n",
				lower->name, other->name, dev_name(parent));
			return ERR_PTR(-EBUSY);
		}
	}
	return parent;
}

static void med_lower_free(struct med_lower *lower)
{
	if (!IS_ERR_OR_NULL(lower->root))
		root_device_unregister(lower->root);
	dev_put(lower->netdev);
	kfree(lower);
}

/* Start serving the lower device called @name. Caller holds med_lock. */
static int med_lower_add(const char *name)
{
	struct med_lower *lower;
	struct device *dev;
	int ret;

	lower = kzalloc(sizeof(*lower), GFP_KERNEL);
	if (!lower)
		return -ENOMEM;
	strscpy(lower->name, name, sizeof(lower->name));
	lower->netdev = dev_get_by_name(&init_net, name);
	if (!lower->netdev) {
		pr_warn("lower %s: no such network device\n", name);
		kfree(lower);
		return -ENODEV;
	}
	ret = -EINVAL;
	if (lower->netdev->type != ARPHRD_ETHER ||
	    (lower->netdev->flags & IFF_LOOPBACK)) {
		pr_warn("lower %s: not an Ethernet device\n", name);
		goto err;
	}
	dev = med_mgmt_device(lower);
	ret = PTR_ERR_OR_ZERO(dev);
	if (ret)
		goto err;
	lower->mgmt.device = dev;
	lower->mgmt.ops = &med_mgmtdev_ops;
	lower->mgmt.id_table = med_id_table;
	lower->mgmt.config_attr_mask = MED_CONFIG_ATTRS;
	lower->mgmt.supported_features = med_attr.device_features;
	lower->mgmt.max_supported_vqs =
		2 * lower->netdev->real_num_tx_queues + 1;
	ret = vdpa_mgmtdev_register(&lower->mgmt);
	if (ret)
		goto err;

	rtnl_lock();
	list_add_tail(&lower->node, &med_lowers);
	/* Unregistered before the notifier could see it in the list. */
	if (lower->netdev->reg_state != NETREG_REGISTERED) {
		lower->gone = true;
		schedule_work(&med_reap_work);
	}
	rtnl_unlock();
	pr_info("lower %s: management device %s\n", name, dev_name(dev));
	return 0;

err:
	med_lower_free(lower);
	return ret;
}

/* Stop serving a lower: delete its device first. Caller holds med_lock. */
static void med_lower_del(struct med_lower *lower)
{
	vdpa_mgmtdev_unregister(&lower->mgmt);
	rtnl_lock();
	list_del(&lower->node);
	rtnl_unlock();
	pr_info("lower %s: released\n", lower->name);
	med_lower_free(lower);
}

/* Whether @name is in the comma-separated list @names. */
static bool med_listed(const char *names, const char *name)
{
	size_t len = strlen(name);
	const char *p = names;

	while ((p = strstr(p, name))) {
		if ((p == names || p[-1] == ',') &&
		    (p[len] == ',' || p[len] == '\0'))
			return true;
		p += len;
	}
	return false;
}

/*
 * Serve exactly the lowers listed in @names: release the others, add the
 * new ones.  Returns 0 or the first error.  Caller holds med_lock.
 */
static int med_apply(const char *names)
{
	struct med_lower *lower, *tmp;
	char *list, *cur, *name;
	int ret = 0, err;

	list_for_each_entry_safe(lower, tmp, &med_lowers, node)
		if (!med_listed(names, lower->name))
			med_lower_del(lower);

	list = kstrdup(names, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cur = list;
	while ((name = strsep(&cur, ","))) {
		if (!*name || med_find_name(name))
			continue;
		err = med_lower_add(name);
		if (err && !ret)
			ret = err;
	}
	kfree(list);
	return ret;
}

static int med_lower_set(const char *val, const struct kernel_param *kp)
{
	char names[MED_LOWER_LEN];
	char *list;
	int ret = 0;

	if (strscpy(names, val, sizeof(names)) < 0)
		return -ENAMETOOLONG;
	list = strim(names);
	mutex_lock(&med_lock);
	if (med_ready)
		ret = med_apply(list);
	mutex_unlock(&med_lock);
	/* Reads back as written; dmesg names a lower that was not served. */
	strscpy(med_lower_param, list, sizeof(med_lower_param));
	return ret;
}

static int med_lower_get(char *buffer, const struct kernel_param *kp)
{
	return scnprintf(buffer, PAGE_SIZE, "%s\n", med_lower_param);
}

static const struct kernel_param_ops med_lower_ops = {
	.set = med_lower_set,
	.get = med_lower_get,
};
module_param_cb(lower, &med_lower_ops, NULL, 0644);
MODULE_PARM_DESC(lower, "Lower network devices, comma-separated names (read at load and on every write)");

/* Release the lowers that were unregistered. */
static void med_reap(struct work_struct *work)
{
	struct med_lower *lower, *tmp;

	mutex_lock(&med_lock);
	list_for_each_entry_safe(lower, tmp, &med_lowers, node)
		if (READ_ONCE(lower->gone))
			med_lower_del(lower);
	mutex_unlock(&med_lock);
}

static int med_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *netdev = netdev_notifier_info_to_dev(ptr);
	struct med_lower *lower = med_find(netdev);

	if (!lower)
		return NOTIFY_DONE;
	switch (event) {
	case NETDEV_UNREGISTER:
		/* Its reference goes in med_reap(), after RTNL. */
		WRITE_ONCE(lower->gone, true);
		med_detach(lower);
		schedule_work(&med_reap_work);
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
	case NETDEV_CHANGEMTU:
		med_link_changed(lower);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block med_netdev_notifier = {
	.notifier_call = med_netdev_event,
};

static int __init med_init(void)
{
	int ret;

	ret = register_netdevice_notifier(&med_netdev_notifier);
	if (ret)
		return ret;
	mutex_lock(&med_lock);
	med_ready = true;
	/* A missing lower is named in dmesg; the others are served. */
	med_apply(med_lower_param);
	mutex_unlock(&med_lock);
	return 0;
}

static void __exit med_exit(void)
{
	struct med_lower *lower, *tmp;

	mutex_lock(&med_lock);
	med_ready = false;
	list_for_each_entry_safe(lower, tmp, &med_lowers, node)
		med_lower_del(lower);
	mutex_unlock(&med_lock);
	unregister_netdevice_notifier(&med_netdev_notifier);
	flush_work(&med_reap_work);
	med_devices_wait();
}

module_init(med_init);
module_exit(med_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vDPA virtio-net devices over any network device, copying in kernel threads");
