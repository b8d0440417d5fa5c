// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_hold: a vDPA bus driver for tests that keeps a reference to every
 * device it was bound to, past the device's removal, until user space
 * writes to /sys/kernel/debug/vdpa_hold/put.  The last reference to a
 * deleted device is then dropped by that writer, outside every lock of the
 * vDPA core, at a moment the test chooses: as a driver or a late user
 * does.  Loaded, it binds to every vDPA device without another driver.
 */

#include <linux/debugfs.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vdpa.h>

/**
 * struct vdpa_hold_ref - one device held
 * @node: entry in vdpa_hold_refs
 * @vdev: the device, referenced
 */
struct vdpa_hold_ref {
	struct list_head node;
	struct vdpa_device *vdev;
};

/* The references held; under vdpa_hold_lock. */
static LIST_HEAD(vdpa_hold_refs);
static DEFINE_MUTEX(vdpa_hold_lock);
static struct dentry *vdpa_hold_dir;

static int vdpa_hold_probe(struct vdpa_device *vdev)
{
	struct vdpa_hold_ref *ref;

	ref = kzalloc(sizeof(*ref), GFP_KERNEL);
	if (!ref)
		return -ENOMEM;
	ref->vdev = vdev;
	get_device(&vdev->dev);
	mutex_lock(&vdpa_hold_lock);
	list_add_tail(&ref->node, &vdpa_hold_refs);
	mutex_unlock(&vdpa_hold_lock);
	return 0;
}

/* The reference outlives the binding: that is the point. */
static void vdpa_hold_remove(struct vdpa_device *vdev)
{
}

/* Drop every reference held, in the caller's context. */
static void vdpa_hold_put_all(void)
{
	struct vdpa_hold_ref *ref, *tmp;
	LIST_HEAD(list);

	mutex_lock(&vdpa_hold_lock);
	list_splice_init(&vdpa_hold_refs, &list);
	mutex_unlock(&vdpa_hold_lock);
	list_for_each_entry_safe(ref, tmp, &list, node) {
		put_device(&ref->vdev->dev);
		kfree(ref);
	}
}

static ssize_t vdpa_hold_put_write(struct file *file, const char __user *buf,
				   size_t len, loff_t *ppos)
{
	vdpa_hold_put_all();
	return len;
}

static const struct file_operations vdpa_hold_put_fops = {
	.owner = THIS_MODULE,
	.write = vdpa_hold_put_write,
};

static struct vdpa_driver vdpa_hold_driver = {
	.driver = {
		.name = "vdpa_hold",
	},
	.probe = vdpa_hold_probe,
	.remove = vdpa_hold_remove,
};

static int __init vdpa_hold_init(void)
{
	int ret;

	vdpa_hold_dir = debugfs_create_dir("vdpa_hold", NULL);
	debugfs_create_file("put", 0200, vdpa_hold_dir, NULL,
			    &vdpa_hold_put_fops);
	ret = vdpa_register_driver(&vdpa_hold_driver);
	if (ret)
		debugfs_remove_recursive(vdpa_hold_dir);
	return ret;
}

static void __exit vdpa_hold_exit(void)
{
	vdpa_unregister_driver(&vdpa_hold_driver);
	debugfs_remove_recursive(vdpa_hold_dir);
	vdpa_hold_put_all();
}

module_init(vdpa_hold_init);
module_exit(vdpa_hold_exit);
MODULE_DESCRIPTION("vDPA bus driver for tests: holds device references");
MODULE_LICENSE("GPL");
