// SPDX-License-Identifier: GPL-2.0
/*
 * Frames that span several chains (VIRTIO_NET_F_MRG_RXBUF).
 *
 * A receive queue of mergeable buffers takes as many chains as the frame
 * needs, copies it across their writable parts and returns them all with
 * one update of the used ring: the driver reads the count of buffers in
 * the first one's header and expects the others to be there with it.
 *
 * When the ring holds fewer chains than the frame needs, the queue keeps
 * those it took (&vdpa_sw_virtqueue.bufs) and the ring looks empty to the
 * core, which enables the driver's notifications: the driver's next kick
 * serves the frame with the chains it added.  Giving them back instead
 * would make the ring look busy at once, and the queue's thread would spin
 * until the driver adds more.  Chains held are not consumed: the core
 * gives them back whenever it stops using the ring and leaves them out of
 * the queue's state (get_vq_state).
 */

#include <linux/slab.h>

#include "bufs.h"

/*
 * What a queue keeps between frames: arrays for 64 chains and 256 kvecs
 * (4.5 KiB).  A frame over more, of many small buffers, grows them for
 * itself only: up to 256 chains of 256 descriptors would be 1 MiB.
 */
#define VDPA_SW_BUFS_KEEP	64
#define VDPA_SW_BUFS_IOV_KEEP	256

/* Room for @extra more kvecs in @iov. */
static int vdpa_sw_kiov_reserve(struct vringh_kiov *iov, unsigned int extra)
{
	unsigned int max = iov->max_num & ~VRINGH_IOV_ALLOCATED;
	unsigned int want = iov->used + extra;
	struct kvec *v;

	if (want <= max)
		return 0;
	want = max_t(unsigned int, roundup_pow_of_two(want), 8);
	v = krealloc_array(iov->max_num & VRINGH_IOV_ALLOCATED ? iov->iov : NULL,
			   want, sizeof(*v), GFP_NOIO | __GFP_NOWARN);
	if (!v)
		return -ENOMEM;
	iov->iov = v;
	iov->max_num = want | VRINGH_IOV_ALLOCATED;
	return 0;
}

/* Add the chain vdpa_sw_vq_get() just took to @vq->bufs. */
static int vdpa_sw_bufs_add(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq)
{
	struct vdpa_sw_bufs *b = &vq->bufs;
	struct vringh_kiov *w = &vq->wiov;
	size_t room = vringh_kiov_length(w);
	struct vring_used_elem *used;
	int ret;

	if (b->n == b->max) {
		used = krealloc_array(b->used, b->max + 8, sizeof(*used),
				      GFP_NOIO | __GFP_NOWARN);
		if (!used)
			return -ENOMEM;
		b->used = used;
		b->max += 8;
	}
	ret = vdpa_sw_kiov_reserve(&b->iov, w->used - w->i);
	if (ret)
		return ret;
	memcpy(&b->iov.iov[b->iov.used], &w->iov[w->i],
	       (w->used - w->i) * sizeof(*w->iov));
	b->iov.used += w->used - w->i;
	b->used[b->n].id = cpu_to_vdpa_sw32(sim, vq->head);
	b->used[b->n].len = cpu_to_vdpa_sw32(sim, room);
	b->n++;
	b->room += room;
	return 0;
}

/* Empty @vq->bufs, keeping its arrays up to their usual size. */
static void vdpa_sw_bufs_clear(struct vdpa_sw_bufs *b)
{
	b->n = 0;
	b->room = 0;
	if (b->max > VDPA_SW_BUFS_KEEP) {
		kfree(b->used);
		b->used = NULL;
		b->max = 0;
	}
	if ((b->iov.max_num & ~VRINGH_IOV_ALLOCATED) > VDPA_SW_BUFS_IOV_KEEP)
		vringh_kiov_cleanup(&b->iov);
	b->iov.i = 0;
	b->iov.used = 0;
	b->iov.consumed = 0;
}

/* Chains of @b that @len bytes fill, from the first (at least one). */
static unsigned int vdpa_sw_bufs_needed(struct vdpa_sw *sim,
					const struct vdpa_sw_bufs *b,
					size_t len)
{
	unsigned int i = 0;

	do {
		len -= min_t(size_t, len, vdpa_sw32_to_cpu(sim, b->used[i].len));
	} while (++i < b->n && len);
	return i;
}

/**
 * vdpa_sw_vq_get_bufs() - take chains until they hold a frame
 * @sim: the device
 * @vq: a usable queue (see vdpa_sw_vq_usable())
 * @len: bytes of the frame, its header included
 * @max: most chains the frame may take (1 without mergeable buffers)
 *
 * Adds chains to those @vq holds until their writable parts hold @len
 * bytes.  When the ring runs out first, the chains stay held for the next
 * call (see above).  Copy the frame with vdpa_sw_push_bufs(), then return
 * the chains with vdpa_sw_vq_put_bufs().
 *
 * Context: the queue's datapath thread, with &vdpa_sw.lock held.
 * Return: the number of chains the frame fills, 0 if the ring has too few
 * chains yet, -EMSGSIZE if @max chains cannot hold it (they are given
 * back), -ENOMEM, or another negative errno if the ring is malformed.
 */
int vdpa_sw_vq_get_bufs(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			size_t len, unsigned int max)
{
	struct vdpa_sw_bufs *b = &vq->bufs;
	int ret;

	lockdep_assert_held(&sim->lock);
	while (b->room < len || !b->n) {
		if (b->n >= max) {
			vdpa_sw_bufs_release(vq);
			return -EMSGSIZE;
		}
		ret = vdpa_sw_vq_get(sim, vq);
		if (ret <= 0)
			return ret;
		ret = vdpa_sw_bufs_add(sim, vq);
		if (ret) {
			vdpa_sw_vq_unget(sim, vq);
			return ret;
		}
	}
	return vdpa_sw_bufs_needed(sim, b, len);
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_get_bufs);

/**
 * vdpa_sw_push_bufs() - copy into the chains vdpa_sw_vq_get_bufs() took
 * @vq: the queue
 * @src: source buffer
 * @len: bytes to copy
 *
 * Context: the queue's datapath thread, with &vdpa_sw.lock held.
 * Return: the number of bytes copied (less than @len at the end of the
 * chains), or a negative errno if driver memory is not mapped.
 */
ssize_t vdpa_sw_push_bufs(struct vdpa_sw_virtqueue *vq, const void *src,
			  size_t len)
{
	return vringh_iov_push_iotlb_cached(&vq->vring, &vq->xlc,
					    &vq->bufs.iov, src, len);
}
EXPORT_SYMBOL_GPL(vdpa_sw_push_bufs);

/**
 * vdpa_sw_vq_put_bufs() - return the chains of a frame through the used ring
 * @sim: the device
 * @vq: the queue
 * @len: bytes written into the chains, in order
 *
 * Returns the chains @len bytes filled with one update of the used ring,
 * and gives back any chain after them.  The driver is notified later, by
 * vdpa_sw_vq_notify().
 *
 * Context: the queue's datapath thread, with &vdpa_sw.lock held.
 * Return: 0, or a negative errno if the used ring cannot be written.
 */
int vdpa_sw_vq_put_bufs(struct vdpa_sw *sim, struct vdpa_sw_virtqueue *vq,
			size_t len)
{
	struct vdpa_sw_bufs *b = &vq->bufs;
	unsigned int n, i;
	size_t part;
	int ret;

	lockdep_assert_held(&sim->lock);
	if (WARN_ON_ONCE(!b->n))
		return -EINVAL;
	n = vdpa_sw_bufs_needed(sim, b, len);
	vdpa_sw_vq_giveback(vq, b->n - n);
	for (i = 0; i < n; i++) {
		part = min_t(size_t, len, vdpa_sw32_to_cpu(sim, b->used[i].len));
		b->used[i].len = cpu_to_vdpa_sw32(sim, part);
		len -= part;
	}
	ret = vdpa_sw_vq_complete(vq, b->used, n);
	vdpa_sw_bufs_clear(b);
	return ret;
}
EXPORT_SYMBOL_GPL(vdpa_sw_vq_put_bufs);

/*
 * Give back the chains @vq holds (its ring still live): the next chains
 * taken from the ring are these.  Caller holds &vdpa_sw.lock, for writing
 * or as the queue's thread.
 */
void vdpa_sw_bufs_release(struct vdpa_sw_virtqueue *vq)
{
	vdpa_sw_vq_giveback(vq, vq->bufs.n);
	vdpa_sw_bufs_clear(&vq->bufs);
}

/* Free @vq's arrays for held chains: the device is being freed. */
void vdpa_sw_bufs_free(struct vdpa_sw_virtqueue *vq)
{
	vringh_kiov_cleanup(&vq->bufs.iov);
	kfree(vq->bufs.used);
	vq->bufs.used = NULL;
	vq->bufs.max = 0;
}
