/* SPDX-License-Identifier: GPL-2.0 */
/* bufs.c, and the chain accounting it shares with core.c; core only. */
#ifndef _VDPA_SWDEV_BUFS_H
#define _VDPA_SWDEV_BUFS_H

#include "swdev.h"

/*
 * Give back the last @n chains taken from @vq's live ring: they are the
 * next ones taken.  Caller holds &vdpa_sw.lock.
 */
static inline void vdpa_sw_vq_giveback(struct vdpa_sw_virtqueue *vq,
				       unsigned int n)
{
	vringh_abandon_iotlb(&vq->vring, n);
	vq->stats.received_desc -= n;
}

/*
 * Return @n chains taken from @vq's ring with one update of the used
 * index; the driver is notified later (vdpa_sw_vq_notify()).  Caller
 * holds &vdpa_sw.lock.  Returns 0 or the errno of the used ring's write.
 */
static inline int vdpa_sw_vq_complete(struct vdpa_sw_virtqueue *vq,
				      const struct vring_used_elem used[],
				      unsigned int n)
{
	int ret;

	ret = vringh_complete_multi_iotlb_cached(&vq->vring, &vq->xlc, used, n);
	if (ret < 0)
		return ret;
	vq->stats.completed_desc += n;
	vq->need_notify = true;
	return 0;
}

void vdpa_sw_bufs_release(struct vdpa_sw_virtqueue *vq);
void vdpa_sw_bufs_free(struct vdpa_sw_virtqueue *vq);

#endif /* _VDPA_SWDEV_BUFS_H */
