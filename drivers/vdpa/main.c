// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa.ko: the vDPA bus and its generic netlink management interface, for
 * kernels built without CONFIG_VDPA.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <uapi/linux/vdpa.h>

#include "vdpa_internal.h"

static int __init vdpa_mod_init(void)
{
	int err;

	err = vdpa_bus_init();
	if (err)
		return err;

	err = vdpa_netlink_init();
	if (err)
		goto err_netlink;

	return 0;

err_netlink:
	vdpa_bus_uninit();
	return err;
}

static void __exit vdpa_mod_exit(void)
{
	vdpa_netlink_uninit();
	vdpa_bus_uninit();
}

module_init(vdpa_mod_init);
module_exit(vdpa_mod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vDPA bus and management interface");
MODULE_ALIAS_GENL_FAMILY(VDPA_GENL_NAME);
