// SPDX-License-Identifier: GPL-2.0
/*
 * The vDPA bus: devices, drivers, management devices and the locked
 * config-space accessors declared in <linux/vdpa.h>.
 *
 * A parent driver (a NIC driver, a simulator, an adapter) allocates a
 * vdpa_device with vdpa_alloc_device() and adds it to the bus, either
 * directly with vdpa_register_device() or, when a user asks for it through
 * the management interface, from its vdpa_mgmtdev_ops.dev_add() callback
 * with _vdpa_register_device().  A bus driver (vhost_vdpa, virtio_vdpa)
 * then binds to it and drives it through its vdpa_config_ops.
 */
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/xarray.h>

#include "vdpa_internal.h"

DECLARE_RWSEM(vdpa_dev_lock);
LIST_HEAD(vdpa_mgmtdev_list);

/* Device indexes: the N of the default name "vdpaN". */
static DEFINE_IDA(vdpa_index_ida);

/*
 * Devices whose deletion has begun, by index: no driver may bind to them
 * any more.  Entries are added and removed under vdpa_dev_lock held for
 * writing; vdpa_dev_match() reads them under RCU (xa_load).
 */
static DEFINE_XARRAY(vdpa_deleting);

static int vdpa_dev_match(struct device *dev, struct device_driver *drv)
{
	struct vdpa_device *vdev = dev_to_vdpa(dev);

	if (xa_load(&vdpa_deleting, vdev->index))
		return 0;
	/* An override names the one driver this device may bind to. */
	if (vdev->driver_override)
		return !strcmp(vdev->driver_override, drv->name);

	return 1;
}

static int vdpa_dev_probe(struct device *dev)
{
	struct vdpa_device *vdev = dev_to_vdpa(dev);
	struct vdpa_driver *drv = drv_to_vdpa(dev->driver);
	const struct vdpa_config_ops *ops = vdev->config;
	u32 max_num, min_num = 1;

	max_num = ops->get_vq_num_max(vdev);
	if (ops->get_vq_num_min)
		min_num = ops->get_vq_num_min(vdev);
	if (!max_num || max_num < min_num) {
		dev_err(dev, "bad virtqueue size range [%u, %u]\n",
			min_num, max_num);
		return -EINVAL;
	}

	return drv->probe ? drv->probe(vdev) : 0;
}

static void vdpa_dev_remove(struct device *dev)
{
	struct vdpa_device *vdev = dev_to_vdpa(dev);
	struct vdpa_driver *drv = drv_to_vdpa(dev->driver);

	if (drv->remove)
		drv->remove(vdev);
}

static ssize_t driver_override_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct vdpa_device *vdev = dev_to_vdpa(dev);
	int err;

	err = driver_set_override(dev, &vdev->driver_override, buf, count);
	return err ? err : count;
}

static ssize_t driver_override_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct vdpa_device *vdev = dev_to_vdpa(dev);
	ssize_t len;

	device_lock(dev);
	len = sysfs_emit(buf, "%s\n", vdev->driver_override);
	device_unlock(dev);
	return len;
}
static DEVICE_ATTR_RW(driver_override);

static struct attribute *vdpa_dev_attrs[] = {
	&dev_attr_driver_override.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vdpa_dev);

static struct bus_type vdpa_bus = {
	.name = "vdpa",
	.dev_groups = vdpa_dev_groups,
	.match = vdpa_dev_match,
	.probe = vdpa_dev_probe,
	.remove = vdpa_dev_remove,
};

static void vdpa_release_dev(struct device *dev)
{
	struct vdpa_device *vdev = dev_to_vdpa(dev);
	const struct vdpa_config_ops *ops = vdev->config;

	if (ops && ops->free)
		ops->free(vdev);
	ida_free(&vdpa_index_ida, vdev->index);
	kfree(vdev->driver_override);
	kfree(vdev);
}

static bool vdpa_config_ops_valid(struct device *parent,
				  const struct vdpa_config_ops *config,
				  unsigned int ngroups, unsigned int nas,
				  bool use_va)
{
	if (!config) {
		dev_err(parent, "vdpa: no config ops\n");
		return false;
	}
	if (!!config->dma_map != !!config->dma_unmap) {
		dev_err(parent, "vdpa: dma_map and dma_unmap go together\n");
		return false;
	}
	if (use_va && !config->dma_map && !config->set_map) {
		dev_err(parent, "vdpa: virtual addressing needs set_map or dma_map\n");
		return false;
	}
	if (!ngroups || !nas) {
		dev_err(parent, "vdpa: needs at least one group and address space\n");
		return false;
	}
	return true;
}

/**
 * __vdpa_alloc_device - allocate and initialize a vDPA device
 * @parent: the parent device
 * @config: the operations the device implements
 * @ngroups: the number of virtqueue groups the device supports
 * @nas: the number of address spaces the device supports
 * @size: size of the parent structure that embeds struct vdpa_device at
 *	  offset 0
 * @name: name of the device, or NULL for "vdpa<index>"
 * @use_va: whether the device takes user virtual addresses in its
 *	    mappings instead of physical ones
 *
 * Drivers should use the vdpa_alloc_device() wrapper instead.  The device
 * is initialized but not on the bus; release it with put_device(), which
 * calls @config->free once the last reference goes.  Until this function
 * returns successfully, @config->free is never called.
 *
 * Context: process context; may sleep.
 * Return: the new device, or an ERR_PTR(): -EINVAL for inconsistent ops or
 * sizes or a @name that vdpa_dev_name_valid() refuses, -ENOMEM when out of
 * memory.
 */
struct vdpa_device *__vdpa_alloc_device(struct device *parent,
					const struct vdpa_config_ops *config,
					unsigned int ngroups, unsigned int nas,
					size_t size, const char *name,
					bool use_va)
{
	struct vdpa_device *vdev;
	int index, err;

	if (!vdpa_config_ops_valid(parent, config, ngroups, nas, use_va))
		return ERR_PTR(-EINVAL);
	if (size < sizeof(*vdev))
		return ERR_PTR(-EINVAL);
	if (name && !vdpa_dev_name_valid(name)) {
		dev_err(parent, "vdpa: invalid device name '%s'\n", name);
		return ERR_PTR(-EINVAL);
	}

	vdev = kzalloc(size, GFP_KERNEL);
	if (!vdev)
		return ERR_PTR(-ENOMEM);

	index = ida_alloc(&vdpa_index_ida, GFP_KERNEL);
	if (index < 0) {
		kfree(vdev);
		return ERR_PTR(index);
	}

	vdev->index = index;
	vdev->dev.bus = &vdpa_bus;
	vdev->dev.parent = parent;
	vdev->dev.release = vdpa_release_dev;
	vdev->dma_dev = &vdev->dev;
	vdev->ngroups = ngroups;
	vdev->nas = nas;
	vdev->use_va = use_va;
	init_rwsem(&vdev->cf_lock);
	device_initialize(&vdev->dev);

	if (name)
		err = dev_set_name(&vdev->dev, "%s", name);
	else
		err = dev_set_name(&vdev->dev, "vdpa%u", index);
	if (err) {
		put_device(&vdev->dev);
		return ERR_PTR(err);
	}

	/* From here on the release path hands the device to config->free. */
	vdev->config = config;
	return vdev;
}
EXPORT_SYMBOL_GPL(__vdpa_alloc_device);

static int __vdpa_register_device(struct vdpa_device *vdev, u32 nvqs)
{
	struct vdpa_device *other;

	lockdep_assert_held_write(&vdpa_dev_lock);

	other = vdpa_find_device(dev_name(&vdev->dev));
	if (other) {
		put_device(&other->dev);
		return -EEXIST;
	}

	vdev->nvqs = nvqs;
	return device_add(&vdev->dev);
}

/**
 * _vdpa_register_device - add a vDPA device to the bus from a mgmtdev
 * @vdev: the device, from vdpa_alloc_device(), with @vdev->mdev set
 * @nvqs: the number of virtqueues the device has
 *
 * For the &vdpa_mgmtdev_ops.dev_add callback only: the management
 * interface calls it with vdpa_dev_lock already held.  Bus drivers may bind
 * to the device before this returns.  On failure the caller still owns its
 * reference and drops it with put_device().
 *
 * Context: process context, vdpa_dev_lock held for writing.
 * Return: 0 on success, -EINVAL without a management device, -EEXIST if a
 * device with the same name exists, or another -errno from device_add().
 */
int _vdpa_register_device(struct vdpa_device *vdev, u32 nvqs)
{
	if (!vdev->mdev)
		return -EINVAL;

	return __vdpa_register_device(vdev, nvqs);
}
EXPORT_SYMBOL_GPL(_vdpa_register_device);

/**
 * vdpa_register_device - add a vDPA device to the bus
 * @vdev: the device, from vdpa_alloc_device()
 * @nvqs: the number of virtqueues the device has
 *
 * For parents that create their devices themselves, outside the
 * management interface.  On failure the caller still owns its reference
 * and drops it with put_device().
 *
 * Context: process context; takes vdpa_dev_lock.
 * Return: 0 on success, -EEXIST if a device with the same name exists, or
 * another -errno from device_add().
 */
int vdpa_register_device(struct vdpa_device *vdev, u32 nvqs)
{
	int err;

	down_write(&vdpa_dev_lock);
	err = __vdpa_register_device(vdev, nvqs);
	up_write(&vdpa_dev_lock);
	return err;
}
EXPORT_SYMBOL_GPL(vdpa_register_device);

/**
 * _vdpa_unregister_device - remove a vDPA device from the bus from a mgmtdev
 * @vdev: the device to remove
 *
 * For the &vdpa_mgmtdev_ops.dev_del callback only, which runs with
 * vdpa_dev_lock held.  The bound driver is removed first; the device is
 * freed when its last reference goes.
 *
 * Context: process context, vdpa_dev_lock held for writing.
 */
void _vdpa_unregister_device(struct vdpa_device *vdev)
{
	lockdep_assert_held_write(&vdpa_dev_lock);
	device_unregister(&vdev->dev);
}
EXPORT_SYMBOL_GPL(_vdpa_unregister_device);

/**
 * vdpa_unregister_device - remove a vDPA device from the bus
 * @vdev: the device to remove, added with vdpa_register_device()
 *
 * Context: process context; takes vdpa_dev_lock.
 */
void vdpa_unregister_device(struct vdpa_device *vdev)
{
	down_write(&vdpa_dev_lock);
	device_unregister(&vdev->dev);
	up_write(&vdpa_dev_lock);
}
EXPORT_SYMBOL_GPL(vdpa_unregister_device);

/**
 * __vdpa_register_driver - register a vDPA bus driver
 * @drv: the driver
 * @owner: the module that provides it
 *
 * Use the vdpa_register_driver() wrapper, or module_vdpa_driver().
 *
 * Context: process context.
 * Return: 0 on success or a -errno from driver_register().
 */
int __vdpa_register_driver(struct vdpa_driver *drv, struct module *owner)
{
	drv->driver.bus = &vdpa_bus;
	drv->driver.owner = owner;
	return driver_register(&drv->driver);
}
EXPORT_SYMBOL_GPL(__vdpa_register_driver);

/**
 * vdpa_unregister_driver - unregister a vDPA bus driver
 * @drv: the driver, registered with vdpa_register_driver()
 *
 * Context: process context.
 */
void vdpa_unregister_driver(struct vdpa_driver *drv)
{
	driver_unregister(&drv->driver);
}
EXPORT_SYMBOL_GPL(vdpa_unregister_driver);

static bool vdpa_mgmtdev_same(const struct vdpa_mgmt_dev *a,
			      const struct vdpa_mgmt_dev *b)
{
	return a->device->bus == b->device->bus &&
	       !strcmp(dev_name(a->device), dev_name(b->device));
}

/**
 * vdpa_mgmtdev_register - register a management device
 * @mdev: the management device; @mdev->device, @mdev->ops (with both
 *	  callbacks) and @mdev->id_table must be set
 *
 * Afterwards users can list it and create devices on it with the "vdpa"
 * generic netlink family (iproute2's vdpa tool).
 *
 * Context: process context; takes vdpa_dev_lock.
 * Return: 0 on success, -EINVAL for an incomplete @mdev, -EEXIST if a
 * management device with the same name is registered.
 */
int vdpa_mgmtdev_register(struct vdpa_mgmt_dev *mdev)
{
	struct vdpa_mgmt_dev *other;
	int err = 0;

	if (!mdev->device || !mdev->ops || !mdev->ops->dev_add ||
	    !mdev->ops->dev_del || !mdev->id_table)
		return -EINVAL;

	down_write(&vdpa_dev_lock);
	list_for_each_entry(other, &vdpa_mgmtdev_list, list) {
		if (vdpa_mgmtdev_same(mdev, other)) {
			err = -EEXIST;
			goto out;
		}
	}
	list_add_tail(&mdev->list, &vdpa_mgmtdev_list);
out:
	up_write(&vdpa_dev_lock);
	return err;
}
EXPORT_SYMBOL_GPL(vdpa_mgmtdev_register);

static int vdpa_del_if_created_by(struct device *dev, void *data)
{
	struct vdpa_device *vdev = dev_to_vdpa(dev);
	struct vdpa_mgmt_dev *mdev = data;

	if (vdev->mdev == mdev)
		mdev->ops->dev_del(mdev, vdev);
	return 0;
}

/**
 * vdpa_mgmtdev_unregister - unregister a management device
 * @mdev: the management device, registered with vdpa_mgmtdev_register()
 *
 * Deletes every device that was created through @mdev, by calling its
 * &vdpa_mgmtdev_ops.dev_del, before returning.
 *
 * Context: process context; takes vdpa_dev_lock.
 */
void vdpa_mgmtdev_unregister(struct vdpa_mgmt_dev *mdev)
{
	down_write(&vdpa_dev_lock);
	list_del(&mdev->list);
	bus_for_each_dev(&vdpa_bus, NULL, mdev, vdpa_del_if_created_by);
	up_write(&vdpa_dev_lock);
}
EXPORT_SYMBOL_GPL(vdpa_mgmtdev_unregister);

static bool vdpa_config_range_ok(struct vdpa_device *vdev,
				 unsigned int offset, unsigned int len)
{
	size_t size = vdev->config->get_config_size(vdev);

	if (offset <= size && len <= size - offset)
		return true;

	dev_err_ratelimited(&vdev->dev,
			    "config access [%u, +%u) beyond its %zu bytes\n",
			    offset, len, size);
	return false;
}

/**
 * vdpa_get_config - read the device's config space
 * @vdev: the device
 * @offset: where to start reading
 * @buf: where to store what was read
 * @len: how many bytes to read
 *
 * A driver that reads the config space before it has set features is a
 * legacy driver: per the virtio spec it sees the layout that goes with
 * features 0, so those are set first.  An access beyond the config space
 * reads zeroes.
 *
 * Context: process context; takes @vdev->cf_lock.
 */
void vdpa_get_config(struct vdpa_device *vdev, unsigned int offset,
		     void *buf, unsigned int len)
{
	down_read(&vdev->cf_lock);
	if (unlikely(!vdev->features_valid)) {
		up_read(&vdev->cf_lock);
		down_write(&vdev->cf_lock);
		if (!vdev->features_valid)
			vdpa_set_features_unlocked(vdev, 0);
		downgrade_write(&vdev->cf_lock);
	}

	if (vdpa_config_range_ok(vdev, offset, len))
		vdev->config->get_config(vdev, offset, buf, len);
	else
		memset(buf, 0, len);
	up_read(&vdev->cf_lock);
}
EXPORT_SYMBOL_GPL(vdpa_get_config);

/**
 * vdpa_set_config - write the device's config space
 * @vdev: the device
 * @offset: where to start writing
 * @buf: what to write
 * @length: how many bytes to write
 *
 * A write beyond the config space is dropped.
 *
 * Context: process context; takes @vdev->cf_lock.
 */
void vdpa_set_config(struct vdpa_device *vdev, unsigned int offset,
		     const void *buf, unsigned int length)
{
	down_write(&vdev->cf_lock);
	if (vdpa_config_range_ok(vdev, offset, length))
		vdev->config->set_config(vdev, offset, buf, length);
	up_write(&vdev->cf_lock);
}
EXPORT_SYMBOL_GPL(vdpa_set_config);

/**
 * vdpa_set_status - set the device status
 * @vdev: the device
 * @status: the new virtio device status
 *
 * Serialised with config reads and feature negotiation, so that the
 * management interface never sees a half-done transition.
 *
 * Context: process context; takes @vdev->cf_lock.
 */
void vdpa_set_status(struct vdpa_device *vdev, u8 status)
{
	down_write(&vdev->cf_lock);
	vdev->config->set_status(vdev, status);
	up_write(&vdev->cf_lock);
}
EXPORT_SYMBOL_GPL(vdpa_set_status);

/**
 * vdpa_dev_name_valid - whether a name can be a vDPA device's name
 * @name: the proposed name
 *
 * The name becomes a directory under /sys/bus/vdpa/devices: it must be
 * non-empty, hold no '/' and be neither "." nor "..".
 *
 * Return: true if @name is acceptable.
 */
bool vdpa_dev_name_valid(const char *name)
{
	return *name && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

/**
 * vdpa_dev_del_begin - start deleting a device: unbind it, no new binding
 * @vdev: the device; the caller holds a reference
 *
 * Marks @vdev so that no driver binds to it any more, then releases its
 * driver.  The driver's remove() may wait for the users of its own device
 * (an open /dev/vhost-vdpa-N whose holder is blocked), so it runs with
 * vdpa_dev_lock dropped: the management plane and every other device stay
 * usable meanwhile.  The caller finishes with vdpa_dev_del_end().
 *
 * Context: process context, vdpa_dev_lock held for writing on entry and on
 * return; it is dropped in between.
 * Return: 0, -EBUSY if the deletion of @vdev has already begun, or -ENOMEM.
 */
int vdpa_dev_del_begin(struct vdpa_device *vdev)
{
	int err;

	lockdep_assert_held_write(&vdpa_dev_lock);
	err = xa_insert(&vdpa_deleting, vdev->index, vdev, GFP_KERNEL);
	if (err)
		return err;

	up_write(&vdpa_dev_lock);
	device_release_driver(&vdev->dev);
	down_write(&vdpa_dev_lock);
	return 0;
}

/**
 * vdpa_dev_del_end - the end of a deletion begun with vdpa_dev_del_begin()
 * @vdev: the device
 *
 * Context: process context, vdpa_dev_lock held for writing.
 */
void vdpa_dev_del_end(struct vdpa_device *vdev)
{
	lockdep_assert_held_write(&vdpa_dev_lock);
	xa_erase(&vdpa_deleting, vdev->index);
}

/**
 * vdpa_find_device - look a device on the bus up by name
 * @name: the device name
 *
 * Return: the device with a reference the caller drops with put_device(),
 * or NULL.
 */
struct vdpa_device *vdpa_find_device(const char *name)
{
	struct device *dev = bus_find_device_by_name(&vdpa_bus, NULL, name);

	return dev ? dev_to_vdpa(dev) : NULL;
}

struct vdpa_walk {
	vdpa_dev_visit_fn *fn;
	void *data;
};

static int vdpa_walk_one(struct device *dev, void *data)
{
	struct vdpa_walk *walk = data;

	return walk->fn(dev_to_vdpa(dev), walk->data);
}

/**
 * vdpa_walk_devices - call a function for every device on the bus
 * @data: passed to @fn
 * @fn: called for each device, in bus order; a nonzero return stops the
 *	walk and is returned
 *
 * Return: 0 or the first nonzero value @fn returned.
 */
int vdpa_walk_devices(void *data, vdpa_dev_visit_fn *fn)
{
	struct vdpa_walk walk = { .fn = fn, .data = data };

	return bus_for_each_dev(&vdpa_bus, NULL, &walk, vdpa_walk_one);
}

int __init vdpa_bus_init(void)
{
	return bus_register(&vdpa_bus);
}

void vdpa_bus_uninit(void)
{
	bus_unregister(&vdpa_bus);
	ida_destroy(&vdpa_index_ida);
}
