// SPDX-License-Identifier: GPL-2.0
/*
 * Who maps what into a software device's address spaces, apart from the
 * vDPA map operations of its user (core.c):
 *
 * - the DMA API of the kernel's own virtio drivers (virtio_vdpa): every
 *   mapping becomes one IOTLB entry of address space 0, at an IOVA taken
 *   from the device's own allocator, so the device reaches exactly the
 *   memory the driver mapped, as behind an IOMMU, and nothing else;
 * - a debugfs view of every address space, for an operator who wants to
 *   see what a device can reach (and for the tests).
 *
 * Locking: the DMA API may be called in atomic context (a driver's
 * transmit path, its NAPI poll), so its entries are added and deleted under
 * &vdpa_sw.iommu_lock alone, without &vdpa_sw.lock; an entry is allocated
 * there (vhost_iotlb allocates with GFP_ATOMIC).  A driver unmaps a buffer
 * only once the device returned it, or after a reset, which waits for the
 * datapath: no copy uses an entry the DMA API deleted.  Nothing else
 * changes address space 0 while virtio_vdpa is bound (the map operations
 * are vhost-vdpa's), and a reset keeps it then: the mappings belong to the
 * driver's DMA API, which unmaps them itself.
 */

#include <linux/debugfs.h>
#include <linux/dma-map-ops.h>
#include <linux/seq_file.h>

#include "maps.h"

/* The address space the DMA API maps into. */
#define VDPA_SW_DMA_ASID	0

static struct dentry *vdpa_sw_debugfs;

static struct vdpa_sw *vdpa_sw_of_dev(struct device *dev)
{
	return vdpa_to_sim(dev_to_vdpa(dev));
}

static u32 vdpa_sw_dma_perm(enum dma_data_direction dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return VHOST_MAP_RO;
	case DMA_FROM_DEVICE:
		return VHOST_MAP_WO;
	default:
		return VHOST_MAP_RW;
	}
}

/* Pages of IOVA space a mapping of @size bytes at @pa takes. */
static unsigned long vdpa_sw_dma_pages(struct vdpa_sw *sim, u64 pa,
				       size_t size)
{
	struct iova_domain *iovad = &sim->iovad;

	return iova_align(iovad, iova_offset(iovad, pa) + size) >>
	       iova_shift(iovad);
}

static dma_addr_t vdpa_sw_dma_map_pa(struct vdpa_sw *sim, phys_addr_t pa,
				     size_t size, u32 perm)
{
	struct iova_domain *iovad = &sim->iovad;
	unsigned long npages = vdpa_sw_dma_pages(sim, pa, size);
	unsigned long pfn, flags;
	dma_addr_t dma;
	int ret;

	if (!size)
		return DMA_MAPPING_ERROR;
	pfn = alloc_iova_fast(iovad, npages,
			      DMA_BIT_MASK(64) >> iova_shift(iovad), true);
	if (!pfn)
		return DMA_MAPPING_ERROR;
	dma = ((dma_addr_t)pfn << iova_shift(iovad)) + iova_offset(iovad, pa);
	spin_lock_irqsave(&sim->iommu_lock, flags);
	ret = vhost_iotlb_add_range(&sim->iommu[VDPA_SW_DMA_ASID], dma,
				    dma + size - 1, pa, perm);
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
	if (ret) {
		free_iova_fast(iovad, pfn, npages);
		return DMA_MAPPING_ERROR;
	}
	return dma;
}

static void vdpa_sw_dma_unmap_iova(struct vdpa_sw *sim, dma_addr_t dma,
				   size_t size)
{
	struct iova_domain *iovad = &sim->iovad;
	unsigned long flags;

	spin_lock_irqsave(&sim->iommu_lock, flags);
	vhost_iotlb_del_range(&sim->iommu[VDPA_SW_DMA_ASID], dma,
			      dma + size - 1);
	vdpa_sw_maps_changed(sim);
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
	free_iova_fast(iovad, iova_pfn(iovad, dma),
		       vdpa_sw_dma_pages(sim, dma, size));
}

static dma_addr_t vdpa_sw_dma_map_page(struct device *dev, struct page *page,
				       unsigned long offset, size_t size,
				       enum dma_data_direction dir,
				       unsigned long attrs)
{
	return vdpa_sw_dma_map_pa(vdpa_sw_of_dev(dev),
				  page_to_phys(page) + offset, size,
				  vdpa_sw_dma_perm(dir));
}

static void vdpa_sw_dma_unmap_page(struct device *dev, dma_addr_t dma,
				   size_t size, enum dma_data_direction dir,
				   unsigned long attrs)
{
	vdpa_sw_dma_unmap_iova(vdpa_sw_of_dev(dev), dma, size);
}

static void vdpa_sw_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
				 int nents, enum dma_data_direction dir,
				 unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vdpa_sw_dma_unmap_iova(vdpa_sw_of_dev(dev), sg_dma_address(sg),
				       sg_dma_len(sg));
}

static int vdpa_sw_dma_map_sg(struct device *dev, struct scatterlist *sgl,
			      int nents, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg_dma_address(sg) = vdpa_sw_dma_map_pa(vdpa_sw_of_dev(dev),
							sg_phys(sg), sg->length,
							vdpa_sw_dma_perm(dir));
		if (sg_dma_address(sg) == DMA_MAPPING_ERROR) {
			vdpa_sw_dma_unmap_sg(dev, sgl, i, dir, attrs);
			return -ENOMEM;
		}
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

static void *vdpa_sw_dma_alloc(struct device *dev, size_t size,
			       dma_addr_t *dma, gfp_t gfp, unsigned long attrs)
{
	void *addr = alloc_pages_exact(size, gfp);

	if (!addr)
		return NULL;
	*dma = vdpa_sw_dma_map_pa(vdpa_sw_of_dev(dev), virt_to_phys(addr),
				  size, VHOST_MAP_RW);
	if (*dma == DMA_MAPPING_ERROR) {
		free_pages_exact(addr, size);
		return NULL;
	}
	return addr;
}

static void vdpa_sw_dma_free(struct device *dev, size_t size, void *addr,
			     dma_addr_t dma, unsigned long attrs)
{
	vdpa_sw_dma_unmap_iova(vdpa_sw_of_dev(dev), dma, size);
	free_pages_exact(addr, size);
}

static const struct dma_map_ops vdpa_sw_dma_ops = {
	.alloc		= vdpa_sw_dma_alloc,
	.free		= vdpa_sw_dma_free,
	.map_page	= vdpa_sw_dma_map_page,
	.unmap_page	= vdpa_sw_dma_unmap_page,
	.map_sg		= vdpa_sw_dma_map_sg,
	.unmap_sg	= vdpa_sw_dma_unmap_sg,
};

/**
 * vdpa_sw_dma_keeps() - whether address space @asid holds DMA API mappings
 * @sim: the device
 * @asid: an address space
 *
 * Context: caller holds &vdpa_sw.lock.
 * Return: true for address space 0 of a device bound to virtio_vdpa: a
 * reset must keep it.
 */
bool vdpa_sw_dma_keeps(struct vdpa_sw *sim, u32 asid)
{
	return asid == VDPA_SW_DMA_ASID && vdpa_sw_bound_to(sim, "virtio_vdpa");
}

/* One line per mapping: address space, IOVA range, physical address. */
static int vdpa_sw_maps_show(struct seq_file *s, void *unused)
{
	struct vdpa_sw *sim = s->private;
	struct vhost_iotlb_map *map;
	unsigned long flags;
	u32 asid;

	spin_lock_irqsave(&sim->iommu_lock, flags);
	for (asid = 0; asid < sim->dev_attr.nas; asid++)
		for (map = vhost_iotlb_itree_first(&sim->iommu[asid], 0,
						   U64_MAX);
		     map; map = vhost_iotlb_itree_next(map, 0, U64_MAX))
			seq_printf(s, "%u 0x%llx 0x%llx 0x%llx %s%s\n", asid,
				   map->start, map->last, map->addr,
				   map->perm & VHOST_MAP_RO ? "r" : "",
				   map->perm & VHOST_MAP_WO ? "w" : "");
	spin_unlock_irqrestore(&sim->iommu_lock, flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vdpa_sw_maps);

/**
 * vdpa_sw_maps_init() - the DMA API of a new device
 * @sim: the device, its IOTLBs initialised
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int vdpa_sw_maps_init(struct vdpa_sw *sim)
{
	int ret;

	init_iova_domain(&sim->iovad, PAGE_SIZE, 1);
	ret = iova_domain_init_rcaches(&sim->iovad);
	if (ret)
		return ret;
	set_dma_ops(&sim->vdpa.dev, &vdpa_sw_dma_ops);
	return 0;
}

/**
 * vdpa_sw_maps_exit() - undo vdpa_sw_maps_init(), also after it failed
 * @sim: the device, being freed
 *
 * Context: process context.
 */
void vdpa_sw_maps_exit(struct vdpa_sw *sim)
{
	/* init_iova_domain() sets the granule. */
	if (sim->iovad.granule)
		put_iova_domain(&sim->iovad);
}

/**
 * vdpa_sw_maps_show_add() - the debugfs view of a registered device
 * @sim: the device
 *
 * Its name is unique among registered devices.  Failures are ignored, as
 * for any debugfs file.
 *
 * Context: process context.
 */
void vdpa_sw_maps_show_add(struct vdpa_sw *sim)
{
	sim->debugfs = debugfs_create_dir(dev_name(&sim->vdpa.dev),
					  vdpa_sw_debugfs);
	debugfs_create_file("maps", 0400, sim->debugfs, sim,
			    &vdpa_sw_maps_fops);
}

/**
 * vdpa_sw_maps_show_remove() - undo vdpa_sw_maps_show_add()
 * @sim: the device, before it is unregistered
 *
 * Waits for readers of the view.
 *
 * Context: process context.
 */
void vdpa_sw_maps_show_remove(struct vdpa_sw *sim)
{
	debugfs_remove(sim->debugfs);
	sim->debugfs = NULL;
}

/**
 * vdpa_sw_maps_module_init() - what every device's maps need
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int vdpa_sw_maps_module_init(void)
{
	int ret = iova_cache_get();

	if (ret)
		return ret;
	vdpa_sw_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	return 0;
}

/**
 * vdpa_sw_maps_module_exit() - undo vdpa_sw_maps_module_init()
 *
 * Context: module exit.
 */
void vdpa_sw_maps_module_exit(void)
{
	debugfs_remove(vdpa_sw_debugfs);
	iova_cache_put();
}
