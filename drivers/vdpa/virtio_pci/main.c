// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_virtio_pci: turns a virtio-pci function, modern or legacy, into a
 * vDPA device with a management device named pci/<BDF>.
 *
 * The driver has no ID table: a function is bound to it only when the
 * operator asks (driver_override), so ordinary virtio devices stay with
 * virtio-pci.  Documentation/virtio_pci_adapter.rst is the operator's
 * guide and the design.
 */

#include <linux/module.h>
#include <uapi/linux/vdpa.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>
#include <uapi/linux/virtio_ring.h>

#include "vvp.h"

#define VVP_NAME	"vdpa_virtio_pci"

/*
 * Feature bits passed through: the device type's (0-23, 50-63) and the
 * transport features the adapter honours.  Any other transport feature
 * (RING_PACKED, whose ring state the adapter cannot set or read, SR_IOV,
 * NOTIFICATION_DATA, RING_RESET, legacy-only bits...) is hidden.
 */
#define VVP_FEATURES_PASSED	(GENMASK_ULL(23, 0) | GENMASK_ULL(63, 50) | \
				 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) | \
				 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | \
				 BIT_ULL(VIRTIO_F_VERSION_1) | \
				 BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | \
				 BIT_ULL(VIRTIO_F_IN_ORDER) | \
				 BIT_ULL(VIRTIO_F_ORDER_PLATFORM))

static const struct vdpa_mgmtdev_ops vvp_mgmt_ops = {
	.dev_add = vvp_dev_add,
	.dev_del = vvp_dev_del,
};

/*
 * Present a legacy function as a VERSION_1 one: a little-endian config
 * space and ring (true on x86 only), and the 12-byte virtio-net header,
 * which a legacy function uses only with MRG_RXBUF.
 */
static int vvp_legacy_features(struct vvp *vp, u64 hw)
{
	if (!IS_ENABLED(CONFIG_X86)) {
		pci_err(vp->pdev, "a legacy function is little-endian only on x86: not supported here\n");
		return -ENODEV;
	}
	/* A VERSION_1 driver may put the header and data in one buffer. */
	if (!(hw & BIT_ULL(VIRTIO_F_ANY_LAYOUT))) {
		pci_err(vp->pdev, "a legacy function without ANY_LAYOUT cannot be presented as VERSION_1\n");
		return -ENODEV;
	}
	vp->hw_extra_features = BIT_ULL(VIRTIO_F_ANY_LAYOUT);
	vp->quirks |= VVP_Q_FIXED_QSIZE | VVP_Q_NO_DOORBELL_MMAP;
	if (vp->device_id == VIRTIO_ID_NET) {
		vp->quirks |= VVP_Q_MRG_RXBUF;
		hw &= ~BIT_ULL(VIRTIO_NET_F_GSO);
	}
	vp->virt_features = BIT_ULL(VIRTIO_F_VERSION_1) |
			    BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);
	vp->features = (lower_32_bits(hw) & VVP_FEATURES_PASSED) |
		       vp->virt_features;
	return 0;
}

static int vvp_modern_features(struct vvp *vp, u64 hw)
{
	if (!(hw & BIT_ULL(VIRTIO_F_VERSION_1))) {
		pci_err(vp->pdev, "modern function without VERSION_1\n");
		return -ENODEV;
	}
	/*
	 * Without ACCESS_PLATFORM the function bypasses the IOMMU: virtio_vdpa
	 * then gives it physical addresses, and vhost_vdpa's users are
	 * refused at DRIVER_OK (vvp_start()).
	 */
	if (!(hw & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)))
		pci_info(vp->pdev, "no ACCESS_PLATFORM: the function bypasses the IOMMU, so no vhost_vdpa user\n");
	vp->features = hw & VVP_FEATURES_PASSED;
	return 0;
}

/* The smallest of the queue sizes in [first, last); 0 if one is absent. */
static u16 vvp_queue_min(struct vvp *vp, u16 first, u16 last)
{
	u16 i, size, min = U16_MAX;

	if (first >= last)
		return 0;
	for (i = first; i < last; i++) {
		size = vp->tp->queue_max(vp, i);
		if (!size)
			return 0;
		if (vp->quirks & VVP_Q_FIXED_QSIZE && i > first && size != min)
			return 0;
		min = min(min, size);
	}
	return min;
}

/*
 * vDPA (6.1) has one queue size for all queues.  A net function's control
 * queue is often smaller than its data queues (QEMU: 64 against 256):
 * rather than shrink every ring to it, the adapter relays the driver's
 * commands to it (relay.c), and a driver uses it as its own only when it
 * is as large as the data queues (@cvq_pass).
 */
static int vvp_net_queues(struct vvp *vp)
{
	void __iomem *cfg = vp->tp->config_base(vp);
	u16 cvq_size;

	vp->hw_max_vqp = 1;
	if (vp->features & BIT_ULL(VIRTIO_NET_F_MQ))
		vp->hw_max_vqp = ioread16(cfg + offsetof(struct virtio_net_config,
							 max_virtqueue_pairs));
	if (!vp->hw_max_vqp || 2 * vp->hw_max_vqp > vp->hw_nvqs)
		return -ENODEV;
	vp->qsize = vvp_queue_min(vp, 0, 2 * vp->hw_max_vqp);
	if (!vp->qsize)
		return -ENODEV;
	vp->cvq = -1;
	if (!(vp->features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)))
		return 0;
	cvq_size = 2 * vp->hw_max_vqp < vp->hw_nvqs ?
		   vp->tp->queue_max(vp, 2 * vp->hw_max_vqp) : 0;
	if (!cvq_size) {
		pci_info(vp->pdev, "CTRL_VQ without a control queue: its features not offered\n");
		vp->features &= ~VVP_NET_CVQ_FEATURES;
		return 0;
	}
	vp->cvq = 2 * vp->hw_max_vqp;
	vp->cvq_pass = cvq_size == vp->qsize ||
		       (cvq_size > vp->qsize &&
			!(vp->quirks & VVP_Q_FIXED_QSIZE));
	if (!vp->cvq_pass)
		pci_info(vp->pdev, "control queue of %u entries, data queues of %u: relayed for kernel drivers, not offered to vhost_vdpa users\n",
			 cvq_size, vp->qsize);
	return 0;
}

static void vvp_unmap_notify(struct vvp *vp)
{
	u16 i;

	for (i = 0; vp->notify && i < vp->hw_nvqs; i++)
		if (vp->notify[i])
			vp->tp->unmap_notify(vp, vp->notify[i]);
	kfree(vp->notify);
	kfree(vp->notify_pa);
	vp->notify = NULL;
	vp->notify_pa = NULL;
}

/* A doorbell page user space may map: its own, inside the notify area. */
static bool vvp_doorbell_page_ok(struct vvp *vp, u16 idx)
{
	resource_size_t pa = vp->notify_pa[idx];
	u16 j;

	if (!pa || !PAGE_ALIGNED(pa) || vp->tp != &vvp_modern ||
	    pa + PAGE_SIZE > vp->modern.notify_pa + vp->modern.notify_len)
		return false;
	for (j = 0; j < idx; j++)
		if (vp->notify_pa[j] == pa)
			return false;
	return true;
}

/* Doorbells; mappable by users only if each has a page of its own. */
static int vvp_map_notify(struct vvp *vp)
{
	u16 i;

	vp->notify = kcalloc(vp->hw_nvqs, sizeof(*vp->notify), GFP_KERNEL);
	vp->notify_pa = kcalloc(vp->hw_nvqs, sizeof(*vp->notify_pa),
				GFP_KERNEL);
	if (!vp->notify || !vp->notify_pa)
		goto err;
	vp->page_per_vq = !(vp->quirks & VVP_Q_NO_DOORBELL_MMAP);
	for (i = 0; i < vp->hw_nvqs; i++) {
		vp->notify[i] = vp->tp->map_notify(vp, i, &vp->notify_pa[i]);
		if (!vp->notify[i])
			goto err;
		if (!vvp_doorbell_page_ok(vp, i))
			vp->page_per_vq = false;
	}
	return 0;
err:
	vvp_unmap_notify(vp);
	return -ENOMEM;
}

/*
 * QEMU's virtio-net adds the queues of its other pairs only when MQ is
 * negotiated: before, it has one pair and the control queue.  So the
 * queues are counted with the features a driver could take written
 * (FEATURES_OK on a modern one); vvp_examine() resets it after.
 */
static void vvp_negotiate_all(struct vvp *vp)
{
	u8 status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	vp->tp->set_status(vp, status);
	/* What a driver could take: no legacy-only bit (BAD_FEATURE...). */
	vp->tp->set_features(vp, (vp->features & ~vp->virt_features) |
			     vp->hw_extra_features);
	if (vp->tp == &vvp_modern)
		vp->tp->set_status(vp, status | VIRTIO_CONFIG_S_FEATURES_OK);
}

/* Queues and doorbells, with the function's features written. */
static int vvp_examine_queues(struct vvp *vp)
{
	int ret;

	vvp_negotiate_all(vp);
	vp->hw_nvqs = min_t(u16, vp->tp->num_queues(vp), VVP_MAX_VQS);
	if (vp->device_id == VIRTIO_ID_NET) {
		ret = vvp_net_queues(vp);
	} else {
		vp->qsize = vvp_queue_min(vp, 0, vp->hw_nvqs);
		ret = vp->qsize ? 0 : -ENODEV;
	}
	if (ret) {
		pci_err(vp->pdev, "queues the adapter cannot present (%u queues)\n",
			vp->hw_nvqs);
		return ret;
	}
	return vvp_map_notify(vp);
}

/* Features, queues, doorbells: what the management device offers. */
static int vvp_examine(struct vvp *vp)
{
	u64 hw = vp->tp->get_features(vp);
	int ret;

	vp->hw_features = hw;
	vp->device_id = vp->tp == &vvp_modern ? vp->modern.id.device :
						vp->legacy.id.device;
	ret = vp->tp == &vvp_legacy ? vvp_legacy_features(vp, hw) :
				      vvp_modern_features(vp, hw);
	if (ret)
		return ret;
	ret = vvp_examine_queues(vp);
	vvp_hw_reset(vp);
	return ret;
}

/* Modern unless quirked legacy; legacy when the modern layout is absent. */
static int vvp_probe_transport(struct vvp *vp)
{
	int ret = -ENODEV;

	if (!(vp->quirks & VVP_Q_LEGACY)) {
		vp->tp = &vvp_modern;
		ret = vp->tp->probe(vp);
	}
	if (ret == -ENODEV) {
		vp->tp = &vvp_legacy;
		ret = vp->tp->probe(vp);
	}
	if (ret == -ENODEV && vp->quirks & VVP_Q_LEGACY)
		pci_err(vp->pdev, "quirk 'l': the function has no legacy interface\n");
	return ret;
}

/* A legacy function takes rings by a 32-bit page frame number: 44 bits. */
static int vvp_dma_masks(struct vvp *vp)
{
	struct device *dev = &vp->pdev->dev;
	int ret;

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (!ret && vp->tp == &vvp_legacy)
		ret = dma_set_coherent_mask(dev, DMA_BIT_MASK(32 +
					    VIRTIO_PCI_QUEUE_ADDR_SHIFT));
	if (ret)
		pci_err(vp->pdev, "no usable DMA mask: %d\n", ret);
	return ret;
}

static void vvp_mgmt_init(struct vvp *vp)
{
	struct vdpa_mgmt_dev *mgmt = &vp->mgmt;

	vp->id_table[0].device = vp->device_id;
	vp->id_table[0].vendor = VIRTIO_DEV_ANY_ID;
	mgmt->device = &vp->pdev->dev;
	mgmt->ops = &vvp_mgmt_ops;
	mgmt->id_table = vp->id_table;
	mgmt->supported_features = vp->features;
	mgmt->max_supported_vqs = vp->hw_nvqs;
	if (vp->device_id == VIRTIO_ID_NET)
		mgmt->max_supported_vqs = 2 * vp->hw_max_vqp + (vp->cvq >= 0);
	mgmt->config_attr_mask = BIT_ULL(VDPA_ATTR_DEV_FEATURES);
	if (vp->device_id == VIRTIO_ID_NET)
		mgmt->config_attr_mask |= BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR) |
					  BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU) |
					  BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
}

static int vvp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vvp *vp;
	u32 quirks;
	int ret;

	/* No ID table: anything may be bound through driver_override. */
	if (pdev->vendor != PCI_VENDOR_ID_REDHAT_QUMRANET ||
	    pdev->device < 0x1000 || pdev->device > 0x107f)
		return -ENODEV;
	vp = kzalloc(sizeof(*vp), GFP_KERNEL);
	if (!vp)
		return -ENOMEM;
	vp->pdev = pdev;
	quirks = vvp_quirks(pdev);
	vp->quirks = quirks;
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_free;
	pci_set_master(pdev);
	/* MSI-X only: no INTx without a handler while it is off. */
	pci_intx(pdev, 0);
	ret = vvp_probe_transport(vp);
	if (ret)
		goto err_disable;
	ret = vvp_dma_masks(vp);
	if (ret)
		goto err_transport;
	ret = vvp_examine(vp);
	if (ret)
		goto err_transport;
	vvp_mgmt_init(vp);
	pci_set_drvdata(pdev, vp);
	ret = vdpa_mgmtdev_register(&vp->mgmt);
	if (ret)
		goto err_notify;
	pci_info(pdev, "%s virtio-pci, device type %u, %u queues of %u entries, quirks 0x%x: management device pci/%s\n",
		 vp->tp->name, vp->device_id, vp->hw_nvqs, vp->qsize,
		 quirks, pci_name(pdev));
	return 0;

err_notify:
	vvp_unmap_notify(vp);
err_transport:
	vp->tp->remove(vp);
err_disable:
	pci_intx(pdev, 1);
	pci_disable_device(pdev);
err_free:
	kfree(vp);
	return ret;
}

/* Unbind or hot unplug: the device goes first, its drivers reset it. */
static void vvp_remove(struct pci_dev *pdev)
{
	struct vvp *vp = pci_get_drvdata(pdev);

	vdpa_mgmtdev_unregister(&vp->mgmt);
	vvp_unmap_notify(vp);
	vp->tp->remove(vp);
	/* The next driver (virtio-pci, say) may fall back to INTx. */
	pci_intx(pdev, 1);
	pci_disable_device(pdev);
	kfree(vp);
}

static struct pci_driver vvp_pci_driver = {
	.name		= VVP_NAME,
	.probe		= vvp_probe,
	.remove		= vvp_remove,
};

module_pci_driver(vvp_pci_driver);

MODULE_DESCRIPTION("vDPA adapter for virtio-pci functions, modern and legacy");
MODULE_LICENSE("GPL");
