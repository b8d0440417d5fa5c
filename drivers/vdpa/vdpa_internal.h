/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of vdpa.ko share with each other and with nobody else.
 */
#ifndef _VDPA_INTERNAL_H
#define _VDPA_INTERNAL_H

#include <linux/list.h>
#include <linux/rwsem.h>
#include <linux/init.h>
#include <linux/vdpa.h>

/*
 * vdpa_dev_lock serialises the population of the bus against the
 * management plane.  Held for writing: while a management device is
 * registered or unregistered, and while a device is added to or removed
 * from the bus.  Held for reading: while netlink looks devices and
 * management devices up or walks them.  It protects vdpa_mgmtdev_list.
 *
 * A device's deletion releases its driver with vdpa_dev_lock dropped (see
 * vdpa_dev_del_begin()): a driver's remove() may wait for its own users,
 * and nobody else must wait for them.
 *
 * Lock order: vdpa_dev_lock, then a device's lock (driver core, taken
 * when a driver binds during device_add()), then its cf_lock.
 */
extern struct rw_semaphore vdpa_dev_lock;
extern struct list_head vdpa_mgmtdev_list;

struct vdpa_device *vdpa_find_device(const char *name);
bool vdpa_dev_name_valid(const char *name);
int vdpa_dev_del_begin(struct vdpa_device *vdev);
void vdpa_dev_del_end(struct vdpa_device *vdev);
typedef int (vdpa_dev_visit_fn)(struct vdpa_device *vdev, void *data);
int vdpa_walk_devices(void *data, vdpa_dev_visit_fn *fn);

int __init vdpa_bus_init(void);
void vdpa_bus_uninit(void);

int __init vdpa_netlink_init(void);
void vdpa_netlink_uninit(void);

#endif /* _VDPA_INTERNAL_H */
