// SPDX-License-Identifier: GPL-2.0
/*
 * The legacy (virtio 0.9.5) register layout, through the kernel's
 * virtio_pci_legacy_dev library: 32 feature bits, a queue given by the
 * page frame of its descriptor table with the other two areas at fixed
 * offsets after it, one notify port for every queue, and device config
 * space whose offset moves when MSI-X is enabled.
 */

#include "vvp.h"

static int vvp_legacy_probe(struct vvp *vp)
{
	vp->legacy.pci_dev = vp->pdev;
	return vp_legacy_probe(&vp->legacy);
}

static void vvp_legacy_remove(struct vvp *vp)
{
	vp_legacy_remove(&vp->legacy);
}

static u64 vvp_legacy_get_features(struct vvp *vp)
{
	return vp_legacy_get_features(&vp->legacy);
}

static void vvp_legacy_set_features(struct vvp *vp, u64 features)
{
	vp_legacy_set_features(&vp->legacy, lower_32_bits(features));
}

static u8 vvp_legacy_get_status(struct vvp *vp)
{
	return vp_legacy_get_status(&vp->legacy);
}

static void vvp_legacy_set_status(struct vvp *vp, u8 status)
{
	vp_legacy_set_status(&vp->legacy, status);
}

/* Queues have no count register: they end at the first of size 0. */
static u16 vvp_legacy_num_queues(struct vvp *vp)
{
	u16 n = 0;

	while (n < VVP_MAX_VQS && vp_legacy_get_queue_size(&vp->legacy, n))
		n++;
	return n;
}

static u16 vvp_legacy_queue_max(struct vvp *vp, u16 idx)
{
	return vp_legacy_get_queue_size(&vp->legacy, idx);
}

/*
 * The device finds the driver and device areas from the descriptor table's
 * page frame alone (virtio 0.9.5, 2.3): the driver must have laid the ring
 * out that way, which vvp_set_vq_address() checked.
 */
static int vvp_legacy_setup_queue(struct vvp *vp, u16 idx, u32 num, u64 desc,
				  u64 driver, u64 device, u16 vector)
{
	struct virtio_pci_legacy_device *ldev = &vp->legacy;

	if (vp_legacy_get_queue_size(ldev, idx) != num)
		return -EINVAL;
	if (vp_legacy_queue_vector(ldev, idx, vector) != vector)
		return -EBUSY;
	vp_legacy_set_queue_address(ldev, idx,
				    desc >> VIRTIO_PCI_QUEUE_ADDR_SHIFT);
	return 0;
}

static int vvp_legacy_config_vector(struct vvp *vp, u16 vector)
{
	return vp_legacy_config_vector(&vp->legacy, vector) == vector ?
	       0 : -EBUSY;
}

static void __iomem *vvp_legacy_config_base(struct vvp *vp)
{
	return vp->legacy.ioaddr + VIRTIO_PCI_CONFIG_OFF(vp->pdev->msix_enabled);
}

static size_t vvp_legacy_config_len(struct vvp *vp)
{
	return pci_resource_len(vp->pdev, 0) -
	       VIRTIO_PCI_CONFIG_OFF(vp->pdev->msix_enabled);
}

static u32 vvp_legacy_generation(struct vvp *vp)
{
	return 0;
}

/* One I/O port for every queue: nothing a user could map. */
static void __iomem *vvp_legacy_map_notify(struct vvp *vp, u16 idx,
					   resource_size_t *pa)
{
	*pa = 0;
	return vp->legacy.ioaddr + VIRTIO_PCI_QUEUE_NOTIFY;
}

static void vvp_legacy_unmap_notify(struct vvp *vp, void __iomem *addr)
{
}

const struct vvp_transport vvp_legacy = {
	.name		= "legacy",
	.probe		= vvp_legacy_probe,
	.remove		= vvp_legacy_remove,
	.get_features	= vvp_legacy_get_features,
	.set_features	= vvp_legacy_set_features,
	.get_status	= vvp_legacy_get_status,
	.set_status	= vvp_legacy_set_status,
	.num_queues	= vvp_legacy_num_queues,
	.queue_max	= vvp_legacy_queue_max,
	.setup_queue	= vvp_legacy_setup_queue,
	.config_vector	= vvp_legacy_config_vector,
	.config_base	= vvp_legacy_config_base,
	.config_len	= vvp_legacy_config_len,
	.generation	= vvp_legacy_generation,
	.map_notify	= vvp_legacy_map_notify,
	.unmap_notify	= vvp_legacy_unmap_notify,
};
