// SPDX-License-Identifier: GPL-2.0
/* Placeholder until the vhost-vdpa character device lands. */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-vdpa character device (placeholder)");
