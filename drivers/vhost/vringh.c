// SPDX-License-Identifier: GPL-2.0
/* Placeholder until the ring library lands. */
#include <linux/module.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Host-side virtio ring helpers (placeholder)");
