/* SPDX-License-Identifier: GPL-2.0 */
/* bufs.c, for the software-device core only. */
#ifndef _VDPA_SWDEV_BUFS_H
#define _VDPA_SWDEV_BUFS_H

#include "swdev.h"

void vdpa_sw_bufs_release(struct vdpa_sw_virtqueue *vq);
void vdpa_sw_bufs_free(struct vdpa_sw_virtqueue *vq);

#endif /* _VDPA_SWDEV_BUFS_H */
