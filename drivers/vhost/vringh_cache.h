/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vringh extension: IOTLB translations kept between calls.
 *
 * The target kernel's <linux/vringh.h> is the API vendor drivers build
 * against, and struct vringh cannot grow.  These functions are additions:
 * the *_iotlb functions of that header with one more argument, a
 * translation cache the caller keeps per ring.  Each *_iotlb call looks up
 * the IOTLB once under its lock (more when a chain spans several maps);
 * with a cache, a ring whose rings and buffers sit in one map (DPDK's huge
 * pages) is looked up once per change of the maps, not once per call.
 */
#ifndef _VRINGH_CACHE_H
#define _VRINGH_CACHE_H

#include <linux/types.h>
#include <linux/vringh.h>

/**
 * struct vringh_iotlb_cache - the last IOTLB map a ring's calls found
 * @gen: the owner's map generation, which it increments under the IOTLB
 *	lock whenever it removes or replaces a map (adding one needs not);
 *	a translation is used only while @gen still reads @seen
 * @seen: *@gen when the map was looked up
 * @ok: the fields below hold a map
 * @perm: its VHOST_MAP_* permissions
 * @start: its first IOVA
 * @last: its last IOVA
 * @pa: the physical address of @start
 * @fault: the IOVA the last access that failed could not reach (no map,
 *	or not the permission it needed): where a ring or buffer fault is,
 *	for the caller's report after a call returned -EFAULT
 *
 * Initialise with vringh_iotlb_cache_init(); the caller serialises all
 * calls that use one cache, as it serialises the calls on its ring.
 */
struct vringh_iotlb_cache {
	const unsigned int *gen;
	unsigned int seen;
	bool ok;
	u32 perm;
	u64 start;
	u64 last;
	u64 pa;
	u64 fault;
};

void vringh_iotlb_cache_init(struct vringh_iotlb_cache *cache,
			     const unsigned int *gen);
int vringh_getdesc_iotlb_cached(struct vringh *vrh,
				struct vringh_iotlb_cache *cache,
				struct vringh_kiov *riov,
				struct vringh_kiov *wiov, u16 *head, gfp_t gfp);
int vringh_getdescs_iotlb_cached(struct vringh *vrh,
				 struct vringh_iotlb_cache *cache,
				 struct vringh_kiov riov[],
				 struct vringh_kiov wiov[], u16 heads[],
				 unsigned int max, gfp_t gfp);
ssize_t vringh_iov_pull_iotlb_cached(struct vringh *vrh,
				     struct vringh_iotlb_cache *cache,
				     struct vringh_kiov *riov, void *dst,
				     size_t len);
ssize_t vringh_iov_push_iotlb_cached(struct vringh *vrh,
				     struct vringh_iotlb_cache *cache,
				     struct vringh_kiov *wiov, const void *src,
				     size_t len);
int vringh_complete_iotlb_cached(struct vringh *vrh,
				 struct vringh_iotlb_cache *cache, u16 head,
				 u32 len);
int vringh_complete_multi_iotlb_cached(struct vringh *vrh,
				       struct vringh_iotlb_cache *cache,
				       const struct vring_used_elem used[],
				       unsigned int num_used);
bool vringh_notify_enable_iotlb_cached(struct vringh *vrh,
				       struct vringh_iotlb_cache *cache);
void vringh_notify_disable_iotlb_cached(struct vringh *vrh,
					struct vringh_iotlb_cache *cache);
int vringh_need_notify_iotlb_cached(struct vringh *vrh,
				    struct vringh_iotlb_cache *cache);

#endif /* _VRINGH_CACHE_H */
