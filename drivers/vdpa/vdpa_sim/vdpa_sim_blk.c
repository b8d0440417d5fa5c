// SPDX-License-Identifier: GPL-2.0
/*
 * Simulated virtio-blk vDPA device: a RAM disk with one request queue.
 *
 * Storage is allocated one page at a time on first write, so a device
 * costs nothing until written to; pages fully covered by a discard or a
 * write-zeroes request are freed again.  The pages are charged to the
 * memory cgroup of the task that created the device.
 *
 * A request runs under the device lock, which resets and configuration
 * reads wait for, so its work is bounded: read and write requests beyond
 * the advertised SIZE_MAX / SEG_MAX are refused, and discard and write
 * zeroes requests cover a bounded range and visit only allocated pages.
 */

#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/xarray.h>
#include <uapi/linux/virtio_blk.h>
#include <uapi/linux/virtio_ids.h>

#include "../swdev/swdev.h"

#define VDPASIM_BLK_NAME	"vdpasim_blk"
#define VDPASIM_BLK_SECTOR_SHIFT 9
#define VDPASIM_BLK_SECTOR_SIZE	BIT(VDPASIM_BLK_SECTOR_SHIFT)
#define VDPASIM_BLK_MAX_MB	SZ_1M	/* MiB: 1 TiB */
#define VDPASIM_BLK_SEG_MAX	64
#define VDPASIM_BLK_SIZE_MAX	SZ_64K
/* Discard / write zeroes: at most 16 segments of 16 MiB per request. */
#define VDPASIM_BLK_DWZ_MAX_SECTORS (SZ_16M >> VDPASIM_BLK_SECTOR_SHIFT)
#define VDPASIM_BLK_DWZ_MAX_SEG	16
/* Page allocations of the datapath (see vdpasim_blk_page()). */
#define VDPASIM_BLK_GFP		(GFP_NOIO | __GFP_NOWARN | __GFP_ACCOUNT)

#define VDPASIM_BLK_FEATURES	(VDPA_SW_FEATURES | \
				 BIT_ULL(VIRTIO_BLK_F_SIZE_MAX) | \
				 BIT_ULL(VIRTIO_BLK_F_SEG_MAX) | \
				 BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) | \
				 BIT_ULL(VIRTIO_BLK_F_FLUSH) | \
				 BIT_ULL(VIRTIO_BLK_F_DISCARD) | \
				 BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES))

/* Checked when written, at load or at run time: 1..VDPASIM_BLK_MAX_MB. */
static int vdpasim_blk_set_capacity(const char *val,
				    const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, VDPASIM_BLK_MAX_MB);
}

static const struct kernel_param_ops vdpasim_blk_capacity_ops = {
	.set = vdpasim_blk_set_capacity,
	.get = param_get_uint,
};

static unsigned int capacity_mb = 128;
module_param_cb(capacity_mb, &vdpasim_blk_capacity_ops, &capacity_mb, 0644);
MODULE_PARM_DESC(capacity_mb, "Capacity of new devices in MiB (1-1048576, default 128)");

/**
 * struct vdpasim_blk - a simulated virtio-blk device
 * @sim: the software-device core; must stay the first member
 * @capacity: size in 512-byte sectors, set at creation
 * @memcg: memory cgroup of the creator, charged for @pages (a reference;
 *	NULL without memory cgroups)
 * @pages: page index -> struct page holding that part of the disk; a
 *	missing page reads as zeroes. Changed only by the datapath, under
 *	&vdpa_sw.lock.
 * @oversized: read and write requests refused for exceeding SIZE_MAX or
 *	SEG_MAX since the last reset, under &vdpa_sw.lock
 */
struct vdpasim_blk {
	struct vdpa_sw sim;
	u64 capacity;
	struct mem_cgroup *memcg;
	struct xarray pages;
	u64 oversized;
};

static_assert(offsetof(struct vdpasim_blk, sim) == 0);

static struct vdpa_sw_devices vdpasim_blk_devices =
	VDPA_SW_DEVICES_INIT(vdpasim_blk_devices);

static struct vdpasim_blk *sim_to_blk(struct vdpa_sw *sim)
{
	return container_of(sim, struct vdpasim_blk, sim);
}

static struct device *blk_dev(struct vdpasim_blk *blk)
{
	return &blk->sim.vdpa.dev;
}

static bool vdpasim_blk_range_ok(struct vdpasim_blk *blk, u64 sector,
				 u64 nr_sectors)
{
	if (sector <= blk->capacity && nr_sectors <= blk->capacity - sector)
		return true;
	dev_dbg_ratelimited(blk_dev(blk),
			    "request [%llu, +%llu) beyond %llu sectors\n",
			    sector, nr_sectors, blk->capacity);
	return false;
}

/* The page backing byte @pos, allocated if @alloc; NULL if none. */
static struct page *vdpasim_blk_page(struct vdpasim_blk *blk, u64 pos,
				     bool alloc)
{
	unsigned long index = pos >> PAGE_SHIFT;
	struct page *page;
	void *old;

	struct mem_cgroup *memcg;

	page = xa_load(&blk->pages, index);
	if (page || !alloc)
		return page;
	/*
	 * No I/O from reclaim: it could be waiting for this very device.
	 * The datapath thread charges the device's creator.
	 */
	memcg = set_active_memcg(blk->memcg);
	page = alloc_page(VDPASIM_BLK_GFP | __GFP_ZERO);
	if (page) {
		old = xa_store(&blk->pages, index, page, VDPASIM_BLK_GFP);
		if (xa_is_err(old)) {
			__free_page(page);
			page = NULL;
		}
	}
	set_active_memcg(memcg);
	return page;
}

static u8 vdpasim_blk_read(struct vdpasim_blk *blk,
			   struct vdpa_sw_virtqueue *vq, u64 sector,
			   size_t len, size_t *written)
{
	u64 pos = sector << VDPASIM_BLK_SECTOR_SHIFT;

	if (len % VDPASIM_BLK_SECTOR_SIZE ||
	    !vdpasim_blk_range_ok(blk, sector, len >> VDPASIM_BLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	while (len) {
		size_t off = offset_in_page(pos);
		size_t chunk = min_t(size_t, len, PAGE_SIZE - off);
		struct page *page = vdpasim_blk_page(blk, pos, false);
		ssize_t ret;

		if (page) {
			void *src = kmap_local_page(page);

			ret = vdpa_sw_push(vq, src + off, chunk);
			kunmap_local(src);
		} else {
			ret = vdpa_sw_push(vq, page_address(ZERO_PAGE(0)),
					   chunk);
		}
		if (ret < 0 || (size_t)ret != chunk)
			return VIRTIO_BLK_S_IOERR;
		*written += chunk;
		vq->stats.bytes += chunk;
		pos += chunk;
		len -= chunk;
		cond_resched();
	}
	return VIRTIO_BLK_S_OK;
}

static u8 vdpasim_blk_write(struct vdpasim_blk *blk,
			    struct vdpa_sw_virtqueue *vq, u64 sector)
{
	size_t len = vringh_kiov_length(&vq->riov);
	u64 pos = sector << VDPASIM_BLK_SECTOR_SHIFT;

	if (len % VDPASIM_BLK_SECTOR_SIZE ||
	    !vdpasim_blk_range_ok(blk, sector, len >> VDPASIM_BLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	while (len) {
		size_t off = offset_in_page(pos);
		size_t chunk = min_t(size_t, len, PAGE_SIZE - off);
		struct page *page = vdpasim_blk_page(blk, pos, true);
		ssize_t ret;
		void *dst;

		if (!page)
			return VIRTIO_BLK_S_IOERR;
		dst = kmap_local_page(page);
		ret = vdpa_sw_pull(vq, dst + off, chunk);
		kunmap_local(dst);
		if (ret < 0 || (size_t)ret != chunk)
			return VIRTIO_BLK_S_IOERR;
		vq->stats.bytes += chunk;
		pos += chunk;
		len -= chunk;
		cond_resched();
	}
	return VIRTIO_BLK_S_OK;
}

/* Clear [off, off + len) of the page holding byte @pos, if it has one. */
static void vdpasim_blk_zero_part(struct vdpasim_blk *blk, u64 pos,
				  size_t off, size_t len)
{
	struct page *page = vdpasim_blk_page(blk, pos, false);

	if (page)
		memzero_page(page, off, len);
}

/*
 * Zero a non-empty byte range: clear the partly covered pages at its ends
 * and free the allocated pages in between, visiting only those.
 */
static void vdpasim_blk_zero(struct vdpasim_blk *blk, u64 pos, u64 len)
{
	u64 end = pos + len;
	unsigned long first = DIV_ROUND_UP_ULL(pos, PAGE_SIZE);
	unsigned long last = end >> PAGE_SHIFT;	/* first page not covered */
	unsigned long index;
	struct page *page;

	if (first > last) {	/* within one page */
		vdpasim_blk_zero_part(blk, pos, offset_in_page(pos), len);
		return;
	}
	if (offset_in_page(pos))
		vdpasim_blk_zero_part(blk, pos, offset_in_page(pos),
				      PAGE_SIZE - offset_in_page(pos));
	if (offset_in_page(end))
		vdpasim_blk_zero_part(blk, end, 0, offset_in_page(end));
	if (first == last)
		return;
	xa_for_each_range(&blk->pages, index, page, first, last - 1) {
		xa_erase(&blk->pages, index);
		__free_page(page);
		cond_resched();
	}
}

/* Validate one discard / write-zeroes segment; a status on failure. */
static u8 vdpasim_blk_check_seg(struct vdpasim_blk *blk, bool discard,
				const struct virtio_blk_discard_write_zeroes *seg)
{
	u32 flags = le32_to_cpu(seg->flags);
	u32 nr = le32_to_cpu(seg->num_sectors);

	if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
	    (discard && flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	if (nr > VDPASIM_BLK_DWZ_MAX_SECTORS ||
	    !vdpasim_blk_range_ok(blk, le64_to_cpu(seg->sector), nr))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/* Discard and write zeroes both leave the range reading as zeroes. */
static u8 vdpasim_blk_discard_zeroes(struct vdpasim_blk *blk,
				     struct vdpa_sw_virtqueue *vq, bool discard)
{
	struct virtio_blk_discard_write_zeroes segs[VDPASIM_BLK_DWZ_MAX_SEG];
	size_t len = vringh_kiov_length(&vq->riov);
	size_t nseg = len / sizeof(segs[0]);
	unsigned int feature;
	ssize_t ret;
	size_t i;
	u8 status;

	feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
	if (!vdpa_sw_has_feature(&blk->sim, feature))
		return VIRTIO_BLK_S_UNSUPP;
	if (!nseg || len % sizeof(segs[0]) || nseg > ARRAY_SIZE(segs))
		return VIRTIO_BLK_S_IOERR;
	ret = vdpa_sw_pull(vq, segs, len);
	if (ret < 0 || (size_t)ret != len)
		return VIRTIO_BLK_S_IOERR;
	for (i = 0; i < nseg; i++) {
		status = vdpasim_blk_check_seg(blk, discard, &segs[i]);
		if (status != VIRTIO_BLK_S_OK)
			return status;
	}
	for (i = 0; i < nseg; i++)
		vdpasim_blk_zero(blk,
				 le64_to_cpu(segs[i].sector) <<
				 VDPASIM_BLK_SECTOR_SHIFT,
				 (u64)le32_to_cpu(segs[i].num_sectors) <<
				 VDPASIM_BLK_SECTOR_SHIFT);
	return VIRTIO_BLK_S_OK;
}

/* GET_ID: the device name, NUL-padded to VIRTIO_BLK_ID_BYTES. */
static u8 vdpasim_blk_get_id(struct vdpasim_blk *blk,
			     struct vdpa_sw_virtqueue *vq, size_t room,
			     size_t *written)
{
	const char *name = dev_name(blk_dev(blk));
	char id[VIRTIO_BLK_ID_BYTES] = {};
	size_t len = min_t(size_t, room, sizeof(id));
	ssize_t ret;

	memcpy(id, name, min(strlen(name), sizeof(id)));
	ret = vdpa_sw_push(vq, id, len);
	if (ret < 0 || (size_t)ret != len)
		return VIRTIO_BLK_S_IOERR;
	*written = len;
	return VIRTIO_BLK_S_OK;
}

/*
 * Whether @len bytes of data starting at the current position of @iov fit
 * SIZE_MAX and SEG_MAX.  vringh gives an IOTLB ring one iov entry per
 * descriptor, so an entry is a segment (the first one may be the part of
 * the header's descriptor after the header).  A request beyond the limits
 * is counted and refused before any data moves.
 */
static bool vdpasim_blk_segs_ok(struct vdpasim_blk *blk,
				const struct vringh_kiov *iov, size_t len)
{
	unsigned int i, nseg = 0;

	for (i = iov->i; i < iov->used && len; i++) {
		size_t seg = min(iov->iov[i].iov_len, len);

		if (seg > VDPASIM_BLK_SIZE_MAX || ++nseg > VDPASIM_BLK_SEG_MAX) {
			blk->oversized++;
			dev_warn_ratelimited(blk_dev(blk),
					     "request beyond size_max %u or seg_max %u: segment %u of %zu bytes\n",
					     VDPASIM_BLK_SIZE_MAX,
					     VDPASIM_BLK_SEG_MAX, nseg, seg);
			return false;
		}
		len -= seg;
	}
	return true;
}

/*
 * Execute a request whose header is @hdr; @room is the size of the writable
 * part before the status byte. Returns the status; *@written is the number
 * of bytes written before it.
 */
static u8 vdpasim_blk_execute(struct vdpasim_blk *blk,
			      struct vdpa_sw_virtqueue *vq,
			      const struct virtio_blk_outhdr *hdr,
			      size_t room, size_t *written)
{
	struct vdpa_sw *sim = &blk->sim;
	u64 sector = vdpa_sw64_to_cpu(sim, hdr->sector);

	switch (vdpa_sw32_to_cpu(sim, hdr->type)) {
	case VIRTIO_BLK_T_IN:
		if (!vdpasim_blk_segs_ok(blk, &vq->wiov, room))
			return VIRTIO_BLK_S_IOERR;
		return vdpasim_blk_read(blk, vq, sector, room, written);
	case VIRTIO_BLK_T_OUT:
		if (!vdpasim_blk_segs_ok(blk, &vq->riov,
					 vringh_kiov_length(&vq->riov)))
			return VIRTIO_BLK_S_IOERR;
		return vdpasim_blk_write(blk, vq, sector);
	case VIRTIO_BLK_T_FLUSH:
		/* RAM is always stable. */
		return vdpa_sw_has_feature(sim, VIRTIO_BLK_F_FLUSH) ?
		       VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;
	case VIRTIO_BLK_T_GET_ID:
		return vdpasim_blk_get_id(blk, vq, room, written);
	case VIRTIO_BLK_T_DISCARD:
		return vdpasim_blk_discard_zeroes(blk, vq, true);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return vdpasim_blk_discard_zeroes(blk, vq, false);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/*
 * Serve the current chain: header in the readable part, status in the last
 * writable byte. Returns 0, or a negative errno when the chain cannot carry
 * a status (the device then needs a reset).
 */
static int vdpasim_blk_request(struct vdpasim_blk *blk,
			       struct vdpa_sw_virtqueue *vq)
{
	size_t room = vringh_kiov_length(&vq->wiov);
	struct virtio_blk_outhdr hdr;
	size_t written = 0;
	ssize_t ret;
	u8 status;

	if (!room) {
		dev_warn_ratelimited(blk_dev(blk),
				     "request without a status byte\n");
		return -EINVAL;
	}
	room--;
	ret = vdpa_sw_pull(vq, &hdr, sizeof(hdr));
	if (ret < 0 || (size_t)ret != sizeof(hdr))
		status = VIRTIO_BLK_S_IOERR;
	else
		status = vdpasim_blk_execute(blk, vq, &hdr, room, &written);

	/* Rewind whatever was written, then skip to the status byte. */
	vringh_kiov_reset(&vq->wiov);
	vringh_kiov_advance(&vq->wiov, room);
	ret = vdpa_sw_push(vq, &status, sizeof(status));
	if (ret < 0 || (size_t)ret != sizeof(status))
		return ret < 0 ? ret : -EFAULT;
	if (status != VIRTIO_BLK_S_OK)
		vq->stats.dropped++;
	return vdpa_sw_vq_put(&blk->sim, vq, written + sizeof(status));
}

static int vdpasim_blk_process_vq(struct vdpa_sw *sim,
				  struct vdpa_sw_virtqueue *vq,
				  unsigned int budget)
{
	unsigned int n;
	int ret = 0;

	for (n = 0; n < budget; n++) {
		ret = vdpa_sw_vq_get(sim, vq);
		if (ret <= 0)
			break;
		ret = vdpasim_blk_request(sim_to_blk(sim), vq);
		if (ret)
			break;
	}
	return ret < 0 ? ret : n;
}

static void vdpasim_blk_get_config(struct vdpa_sw *sim, void *config)
{
	struct vdpasim_blk *blk = sim_to_blk(sim);
	struct virtio_blk_config *cfg = config;

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = cpu_to_vdpa_sw64(sim, blk->capacity);
	cfg->size_max = cpu_to_vdpa_sw32(sim, VDPASIM_BLK_SIZE_MAX);
	cfg->seg_max = cpu_to_vdpa_sw32(sim, VDPASIM_BLK_SEG_MAX);
	cfg->blk_size = cpu_to_vdpa_sw32(sim, VDPASIM_BLK_SECTOR_SIZE);
	cfg->num_queues = cpu_to_vdpa_sw16(sim, 1);
	cfg->max_discard_sectors = cpu_to_vdpa_sw32(sim,
						    VDPASIM_BLK_DWZ_MAX_SECTORS);
	cfg->max_discard_seg = cpu_to_vdpa_sw32(sim, VDPASIM_BLK_DWZ_MAX_SEG);
	cfg->discard_sector_alignment =
		cpu_to_vdpa_sw32(sim, PAGE_SIZE >> VDPASIM_BLK_SECTOR_SHIFT);
	cfg->max_write_zeroes_sectors =
		cpu_to_vdpa_sw32(sim, VDPASIM_BLK_DWZ_MAX_SECTORS);
	cfg->max_write_zeroes_seg = cpu_to_vdpa_sw32(sim,
						     VDPASIM_BLK_DWZ_MAX_SEG);
	cfg->write_zeroes_may_unmap = 1;
}

static int vdpasim_blk_get_stats(struct vdpa_sw *sim,
				 struct vdpa_sw_virtqueue *vq,
				 struct sk_buff *msg,
				 struct netlink_ext_ack *extack)
{
	int ret;

	ret = vdpa_sw_put_stat(msg, "received_desc", vq->stats.received_desc);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "completed_desc",
				       vq->stats.completed_desc);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "bytes", vq->stats.bytes);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "failed", vq->stats.dropped);
	if (!ret)
		ret = vdpa_sw_put_stat(msg, "oversized",
				       sim_to_blk(sim)->oversized);
	return ret;
}

/* Counters restart at reset, like the core's; the disk keeps its data. */
static void vdpasim_blk_reset(struct vdpa_sw *sim)
{
	sim_to_blk(sim)->oversized = 0;
}

static void vdpasim_blk_free(struct vdpa_sw *sim)
{
	struct vdpasim_blk *blk = sim_to_blk(sim);
	unsigned long index;
	struct page *page;

	xa_for_each(&blk->pages, index, page)
		__free_page(page);
	xa_destroy(&blk->pages);
	mem_cgroup_put(blk->memcg);
}

static const struct vdpa_sw_dev_attr vdpasim_blk_attr = {
	.id		= VIRTIO_ID_BLOCK,
	.nvqs		= 1,
	.ngroups	= 1,
	.nas		= 1,
	.config_size	= sizeof(struct virtio_blk_config),
	.alloc_size	= sizeof(struct vdpasim_blk),
	.device_features = VDPASIM_BLK_FEATURES,
	.process_vq	= vdpasim_blk_process_vq,
	.get_config	= vdpasim_blk_get_config,
	.get_stats	= vdpasim_blk_get_stats,
	.reset		= vdpasim_blk_reset,
	.free		= vdpasim_blk_free,
	.devices	= &vdpasim_blk_devices,
};

static int vdpasim_blk_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			       const struct vdpa_dev_set_config *config)
{
	unsigned int mb = READ_ONCE(capacity_mb);
	struct vdpasim_blk *blk;
	struct vdpa_sw *sim;
	int ret;

	if (config->mask) {
		dev_warn(mdev->device, "%s: block devices take no attributes\n",
			 name);
		return -EOPNOTSUPP;
	}
	sim = vdpa_sw_create(&vdpasim_blk_attr, mdev->device, name);
	if (IS_ERR(sim))
		return PTR_ERR(sim);
	blk = sim_to_blk(sim);
	xa_init(&blk->pages);
	/* The netlink request runs in the task that asked for the device. */
	blk->memcg = get_mem_cgroup_from_mm(current->mm);
	blk->capacity = (u64)mb << (20 - VDPASIM_BLK_SECTOR_SHIFT);

	sim->vdpa.mdev = mdev;
	ret = vdpa_sw_register(sim, vdpasim_blk_attr.nvqs);
	if (ret)
		put_device(&sim->vdpa.dev);
	return ret;
}

static void vdpasim_blk_dev_del(struct vdpa_mgmt_dev *mdev,
				struct vdpa_device *vdpa)
{
	vdpa_sw_unregister(vdpa_to_sim(vdpa));
}

static const struct vdpa_mgmtdev_ops vdpasim_blk_mgmtdev_ops = {
	.dev_add = vdpasim_blk_dev_add,
	.dev_del = vdpasim_blk_dev_del,
};

static struct virtio_device_id vdpasim_blk_id_table[] = {
	{ VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static struct vdpa_mgmt_dev vdpasim_blk_mgmtdev = {
	.ops = &vdpasim_blk_mgmtdev_ops,
	.id_table = vdpasim_blk_id_table,
	.config_attr_mask = 0,
	.supported_features = VDPASIM_BLK_FEATURES,
	.max_supported_vqs = 1,
};

static int __init vdpasim_blk_init(void)
{
	struct device *dev;
	int ret;

	dev = root_device_register(VDPASIM_BLK_NAME);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	vdpasim_blk_mgmtdev.device = dev;
	ret = vdpa_mgmtdev_register(&vdpasim_blk_mgmtdev);
	if (ret)
		root_device_unregister(dev);
	return ret;
}

static void __exit vdpasim_blk_exit(void)
{
	/* Deletes the remaining devices through dev_del. */
	vdpa_mgmtdev_unregister(&vdpasim_blk_mgmtdev);
	/* No dev_add any more: wait until every device was freed. */
	vdpa_sw_devices_wait(&vdpasim_blk_devices);
	root_device_unregister(vdpasim_blk_mgmtdev.device);
}

module_init(vdpasim_blk_init);
module_exit(vdpasim_blk_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated virtio-blk vDPA device (RAM disk)");
