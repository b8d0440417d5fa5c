// SPDX-License-Identifier: GPL-2.0
/*
 * The modern (virtio 1.x) register layout, through the kernel's
 * virtio_pci_modern_dev library.
 */

#include "vvp.h"

static int vvp_modern_probe(struct vvp *vp)
{
	vp->modern.pci_dev = vp->pdev;
	return vp_modern_probe(&vp->modern);
}

static void vvp_modern_remove(struct vvp *vp)
{
	vp_modern_remove(&vp->modern);
}

static u64 vvp_modern_get_features(struct vvp *vp)
{
	return vp_modern_get_features(&vp->modern);
}

static void vvp_modern_set_features(struct vvp *vp, u64 features)
{
	vp_modern_set_features(&vp->modern, features);
}

static u8 vvp_modern_get_status(struct vvp *vp)
{
	return vp_modern_get_status(&vp->modern);
}

static void vvp_modern_set_status(struct vvp *vp, u8 status)
{
	vp_modern_set_status(&vp->modern, status);
}

static u16 vvp_modern_num_queues(struct vvp *vp)
{
	return vp_modern_get_num_queues(&vp->modern);
}

static u16 vvp_modern_queue_max(struct vvp *vp, u16 idx)
{
	return vp_modern_get_queue_size(&vp->modern, idx);
}

static int vvp_modern_setup_queue(struct vvp *vp, u16 idx, u32 num, u64 desc,
				  u64 driver, u64 device, u16 vector)
{
	struct virtio_pci_modern_device *mdev = &vp->modern;

	vp_modern_set_queue_size(mdev, idx, num);
	vp_modern_queue_address(mdev, idx, desc, driver, device);
	if (vp_modern_queue_vector(mdev, idx, vector) != vector)
		return -EBUSY;
	vp_modern_set_queue_enable(mdev, idx, true);
	return 0;
}

static int vvp_modern_config_vector(struct vvp *vp, u16 vector)
{
	return vp_modern_config_vector(&vp->modern, vector) == vector ?
	       0 : -EBUSY;
}

static void __iomem *vvp_modern_config_base(struct vvp *vp)
{
	return vp->modern.device;
}

static size_t vvp_modern_config_len(struct vvp *vp)
{
	return vp->modern.device ? vp->modern.device_len : 0;
}

static u32 vvp_modern_generation(struct vvp *vp)
{
	return vp_modern_generation(&vp->modern);
}

static void __iomem *vvp_modern_map_notify(struct vvp *vp, u16 idx,
					   resource_size_t *pa)
{
	return vp_modern_map_vq_notify(&vp->modern, idx, pa);
}

/* Mapped one by one only when the notify area was too big to map whole. */
static void vvp_modern_unmap_notify(struct vvp *vp, void __iomem *addr)
{
	if (!vp->modern.notify_base)
		pci_iounmap(vp->pdev, addr);
}

const struct vvp_transport vvp_modern = {
	.name		= "modern",
	.probe		= vvp_modern_probe,
	.remove		= vvp_modern_remove,
	.get_features	= vvp_modern_get_features,
	.set_features	= vvp_modern_set_features,
	.get_status	= vvp_modern_get_status,
	.set_status	= vvp_modern_set_status,
	.num_queues	= vvp_modern_num_queues,
	.queue_max	= vvp_modern_queue_max,
	.setup_queue	= vvp_modern_setup_queue,
	.config_vector	= vvp_modern_config_vector,
	.config_base	= vvp_modern_config_base,
	.config_len	= vvp_modern_config_len,
	.generation	= vvp_modern_generation,
	.map_notify	= vvp_modern_map_notify,
	.unmap_notify	= vvp_modern_unmap_notify,
};
