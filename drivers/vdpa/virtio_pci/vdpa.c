// SPDX-License-Identifier: GPL-2.0
/*
 * The vDPA device made of a virtio-pci function: the vDPA operations and
 * the management device's dev_add/dev_del.
 *
 * The driver's queue set-up is kept in software and written to the
 * function when it sets DRIVER_OK, together with one MSI-X vector per
 * queue (or one shared by all, when the function has too few) and one for
 * config changes.  Queue indexes differ between driver and function only
 * for the control queue of a net device provisioned with fewer pairs than
 * the function has, when the driver uses the function's own; a relayed
 * control queue (relay.c) is no queue of the function at all.
 */

#include <linux/etherdevice.h>
#include <linux/iommu.h>
#include <linux/iopoll.h>
#include <asm/unaligned.h>
#include <uapi/linux/vdpa.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>

#include "vvp.h"

static struct vvp *vvp_of(struct vdpa_device *vdpa)
{
	return vdpa_to_vvp(vdpa)->vp;
}

static bool vvp_is_net(const struct vvp *vp)
{
	return vp->device_id == VIRTIO_ID_NET;
}

/* The function is in an IOMMU domain of a vhost_vdpa user. */
static bool vvp_in_user_domain(struct vvp *vp)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(&vp->pdev->dev);

	return domain && domain->type == IOMMU_DOMAIN_UNMANAGED;
}

/* The driver's control queue, once it negotiated one. */
static u16 vvp_driver_cvq(struct vvp_dev *d)
{
	return d->driver_features & BIT_ULL(VIRTIO_NET_F_MQ) ?
	       2 * d->max_vqp : 2;
}

/* Queue @idx is the driver's control queue, relayed. */
static bool vvp_is_relayed(struct vvp_dev *d, u16 idx)
{
	return d->cvq_mode == VVP_CVQ_RELAY && idx == vvp_driver_cvq(d);
}

/*
 * Queue @idx of the function is the driver's to use: a data queue of the
 * pairs the features give it, or its control queue when it is the
 * function's own.  Any other slot (the control queue the adapter keeps,
 * queues of pairs not negotiated) never reaches the function.
 */
static bool vvp_hw_vq_usable(struct vvp_dev *d, u16 idx)
{
	u64 f = d->driver_features;
	u16 pairs;

	if (!vvp_is_net(d->vp))
		return idx < d->nvqs;
	pairs = f & BIT_ULL(VIRTIO_NET_F_MQ) ? d->max_vqp : 1;
	return idx < 2 * pairs ||
	       (d->cvq_mode == VVP_CVQ_PASS && idx == vvp_driver_cvq(d));
}

/* The function's index of the driver's queue @idx. */
static u16 vvp_hw_index(struct vvp_dev *d, u16 idx)
{
	if (d->cvq_mode != VVP_CVQ_PASS || idx != vvp_driver_cvq(d) ||
	    !(d->driver_features & BIT_ULL(VIRTIO_NET_F_MQ)))
		return idx;
	return d->vp->cvq;
}

/*
 * How the driver's control queue would be served now: relayed for a
 * kernel driver; for a vhost_vdpa user, whose domain says nothing of what
 * the CPU may write for it, the function's own if that can be, else none.
 */
static enum vvp_cvq_mode vvp_cvq_mode(struct vvp_dev *d)
{
	if (!vvp_is_net(d->vp) ||
	    !(d->features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)))
		return VVP_CVQ_NONE;
	if (!vvp_in_user_domain(d->vp))
		return VVP_CVQ_RELAY;
	return d->vp->cvq_pass && !vvp_owns_cvq(d) ? VVP_CVQ_PASS :
						      VVP_CVQ_NONE;
}

/* The features offered when the control queue is served as @mode. */
static u64 vvp_offered(struct vvp_dev *d, enum vvp_cvq_mode mode)
{
	switch (mode) {
	case VVP_CVQ_NONE:
		return vvp_is_net(d->vp) ? d->features & ~VVP_NET_CVQ_FEATURES :
					   d->features;
	default:
		/* No RING_PACKED is passed: the relay reads split rings. */
		return d->features;
	}
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                         */

static irqreturn_t vvp_vq_irq(int irq, void *arg)
{
	struct vvp_vq *vq = arg;

	spin_lock(&vq->cb_lock);
	if (vq->cb.callback)
		vq->cb.callback(vq->cb.private);
	spin_unlock(&vq->cb_lock);
	return IRQ_HANDLED;
}

/* Too few vectors: one interrupt for every queue. */
static irqreturn_t vvp_shared_irq(int irq, void *arg)
{
	struct vvp_dev *d = arg;
	u16 i;

	for (i = 0; i < d->nvqs; i++)
		vvp_vq_irq(irq, &d->vqs[i]);
	return IRQ_HANDLED;
}

static irqreturn_t vvp_config_irq(int irq, void *arg)
{
	struct vvp_dev *d = arg;

	spin_lock(&d->config_lock);
	if (d->config_cb.callback)
		d->config_cb.callback(d->config_cb.private);
	spin_unlock(&d->config_lock);
	return IRQ_HANDLED;
}

static void vvp_free_irqs(struct vvp_dev *d)
{
	struct pci_dev *pdev = d->vp->pdev;
	u16 i;

	for (i = 0; i < d->nvqs; i++) {
		if (d->vqs[i].irq >= 0)
			free_irq(d->vqs[i].irq, &d->vqs[i]);
		d->vqs[i].irq = -1;
	}
	if (d->shared_irq)
		free_irq(pci_irq_vector(pdev, 1), d);
	if (d->config_irq >= 0)
		free_irq(d->config_irq, d);
	d->config_irq = -1;
	d->shared_irq = false;
	pci_free_irq_vectors(pdev);
	d->irqs_on = false;
}

/* Vector 0: config changes; then one per queue, or vector 1 for all. */
static int vvp_request_irqs(struct vvp_dev *d)
{
	struct pci_dev *pdev = d->vp->pdev;
	const char *name = dev_name(&d->vdpa.dev);
	bool shared = false;
	struct vvp_vq *vq;
	int ret, irq;
	u16 i;

	ret = pci_alloc_irq_vectors(pdev, d->nvqs + 1, d->nvqs + 1,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		ret = pci_alloc_irq_vectors(pdev, 2, 2, PCI_IRQ_MSIX);
		if (ret < 0)
			return ret;
		shared = true;
	}
	d->irqs_on = true;
	snprintf(d->config_irq_name, sizeof(d->config_irq_name), "%s-config",
		 name);
	irq = pci_irq_vector(pdev, 0);
	ret = request_irq(irq, vvp_config_irq, 0, d->config_irq_name, d);
	if (ret)
		goto err;
	d->config_irq = irq;
	if (shared) {
		ret = request_irq(pci_irq_vector(pdev, 1), vvp_shared_irq, 0,
				  name, d);
		if (ret)
			goto err;
		d->shared_irq = true;
		return 0;
	}
	for (i = 0; i < d->nvqs; i++) {
		vq = &d->vqs[i];
		snprintf(vq->irq_name, sizeof(vq->irq_name), "%s-vq%u", name,
			 i);
		irq = pci_irq_vector(pdev, i + 1);
		ret = request_irq(irq, vvp_vq_irq, 0, vq->irq_name, vq);
		if (ret)
			goto err;
		vq->irq = irq;
	}
	return 0;
err:
	vvp_free_irqs(d);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Start and reset                                                    */

/*
 * A legacy function takes only the descriptor table's page frame: the
 * driver area must follow the table and the device area start at the next
 * 4096-byte boundary after it (virtio 0.9.5, 2.3).
 */
static bool vvp_legacy_layout_ok(const struct vvp_vq *vq, u64 desc,
				 u64 driver, u64 device)
{
	u64 used = ALIGN(driver + 2 * (3 + vq->num), VIRTIO_PCI_VRING_ALIGN);

	return IS_ALIGNED(desc, VIRTIO_PCI_VRING_ALIGN) &&
	       desc >> VIRTIO_PCI_QUEUE_ADDR_SHIFT <= U32_MAX &&
	       driver == desc + 16 * vq->num && device == used;
}

static int vvp_setup_vq(struct vvp_dev *d, u16 idx)
{
	struct vvp_vq *vq = &d->vqs[idx];
	struct vvp *vp = d->vp;
	u16 vector = d->shared_irq ? 1 : idx + 1;
	int ret = -EINVAL;

	if (vp->tp == &vvp_legacy &&
	    !vvp_legacy_layout_ok(vq, vq->desc, vq->driver, vq->device))
		goto out;
	ret = vp->tp->setup_queue(vp, vvp_hw_index(d, idx), vq->num, vq->desc,
				  vq->driver, vq->device, vector);
out:
	if (ret)
		dev_warn(&d->vdpa.dev, "queue %u (%u entries) refused by the function: %d\n",
			 idx, vq->num, ret);
	return ret;
}

/* What a vhost_vdpa user's IOMMU domain cannot carry: DMA around it. */
static int vvp_user_domain_ok(struct vvp_dev *d)
{
	struct vvp *vp = d->vp;

	if (vvp_in_user_domain(vp) && vvp_bypasses_iommu(vp)) {
		dev_warn(&d->vdpa.dev, "the function bypasses the IOMMU (no ACCESS_PLATFORM): not for a vhost_vdpa user\n");
		return -EPERM;
	}
	return 0;
}

static int vvp_start(struct vvp_dev *d)
{
	struct vvp *vp = d->vp;
	int ret;
	u16 i;

	ret = vvp_user_domain_ok(d);
	if (ret)
		return ret;
	ret = vvp_request_irqs(d);
	if (ret) {
		dev_warn(&d->vdpa.dev, "no MSI-X vectors for %u queues: %d\n",
			 d->nvqs, ret);
		return ret;
	}
	ret = vp->tp->config_vector(vp, 0);
	for (i = 0; !ret && i < d->nvqs; i++)
		if (d->vqs[i].ready && vvp_hw_vq_usable(d, i))
			ret = vvp_setup_vq(d, i);
	if (!ret && (vvp_owns_cvq(d) || d->cvq_mode == VVP_CVQ_RELAY))
		ret = vvp_cvq_setup(d);
	if (ret)
		vvp_free_irqs(d);
	return ret;
}

/* Buffers the driver added before DRIVER_OK: a kick then went nowhere. */
static void vvp_kick_ready(struct vvp_dev *d)
{
	u16 i, hw;

	for (i = 0; i < d->nvqs; i++) {
		if (!d->vqs[i].ready || !vvp_hw_vq_usable(d, i))
			continue;
		hw = vvp_hw_index(d, i);
		iowrite16(hw, d->vp->notify[hw]);
	}
}

/**
 * vvp_hw_reset() - reset the function and wait until it reads back 0
 * @vp: the function
 *
 * The function must read back 0 after a reset (virtio 1.2, 4.1.4.3.2);
 * one that does not within a second is reported.
 *
 * Context: process context; sleeps.
 */
void vvp_hw_reset(struct vvp *vp)
{
	u8 status;

	vp->tp->set_status(vp, 0);
	/* Surprise removal: reads give all ones, nothing to wait for. */
	if (!pci_device_is_present(vp->pdev))
		return;
	if (read_poll_timeout(vp->tp->get_status, status, !status, 1000,
			      USEC_PER_SEC, false, vp))
		pci_warn(vp->pdev, "still status 0x%x a second after reset\n",
			 status);
}

static void vvp_reset_state(struct vvp_dev *d)
{
	struct vvp_vq *vq;
	unsigned long flags;
	u16 i;

	for (i = 0; i < d->nvqs; i++) {
		vq = &d->vqs[i];
		vq->desc = 0;
		vq->driver = 0;
		vq->device = 0;
		vq->num = 0;
		vq->ready = false;
		spin_lock_irqsave(&vq->cb_lock, flags);
		vq->cb.callback = NULL;
		vq->cb.private = NULL;
		spin_unlock_irqrestore(&vq->cb_lock, flags);
	}
	d->driver_features = 0;
	d->cvq_mode = VVP_CVQ_NONE;
	d->status = 0;
	d->failed = false;
}

/*
 * The function runs: the provisioned MAC, the relay, then buffers already
 * posted.
 */
static void vvp_started(struct vvp_dev *d)
{
	int ret;

	if (vvp_owns_cvq(d)) {
		ret = vvp_cvq_set_mac(d, d->mac);
		if (ret) {
			dev_warn(&d->vdpa.dev, "the function did not take MAC %pM: %d\n",
				 d->mac, ret);
			d->failed = true;
			return;
		}
	}
	if (d->cvq_mode == VVP_CVQ_RELAY)
		vvp_relay_start(d, vvp_driver_cvq(d));
	vvp_kick_ready(d);
}

static int vvp_reset(struct vdpa_device *vdpa)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);

	vvp_relay_stop(d);
	vvp_hw_reset(d->vp);
	vvp_cvq_stop(d);
	if (d->irqs_on)
		vvp_free_irqs(d);
	vvp_reset_state(d);
	return 0;
}

static u8 vvp_get_status(struct vdpa_device *vdpa)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	u8 status = d->status;

	/* A modern function may refuse FEATURES_OK: it says so there. */
	if (d->vp->tp == &vvp_modern)
		status = d->vp->tp->get_status(d->vp);
	if (d->failed)
		status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	return status;
}

static void vvp_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	struct vvp *vp = d->vp;

	if (!status) {
		vvp_reset(vdpa);
		return;
	}
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(d->status & VIRTIO_CONFIG_S_DRIVER_OK) && vvp_start(d)) {
		d->failed = true;
		status &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	vp->tp->set_status(vp, status);
	if ((status & ~d->status) & VIRTIO_CONFIG_S_DRIVER_OK)
		vvp_started(d);
	d->status = status;
}

/* ------------------------------------------------------------------ */
/* Virtqueues                                                         */

static int vvp_set_vq_address(struct vdpa_device *vdpa, u16 idx, u64 desc,
			      u64 driver, u64 device)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	struct vvp_vq *vq = &d->vqs[idx];

	if (d->vp->tp == &vvp_legacy && vq->num && !vvp_is_relayed(d, idx) &&
	    !vvp_legacy_layout_ok(vq, desc, driver, device)) {
		dev_warn_ratelimited(&vdpa->dev,
				     "queue %u: a legacy function needs the legacy ring layout (4096-aligned table, driver area after it, device area at the next 4096 bytes)\n",
				     idx);
		return -EINVAL;
	}
	vq->desc = desc;
	vq->driver = driver;
	vq->device = device;
	return 0;
}

static void vvp_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	vdpa_to_vvp(vdpa)->vqs[idx].num = num;
}

static void vvp_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	u16 hw = vvp_hw_index(d, idx);

	if (!(d->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	if (vvp_is_relayed(d, idx))
		vvp_relay_kick(d);
	else if (vvp_hw_vq_usable(d, idx))
		iowrite16(hw, d->vp->notify[hw]);
}

static void vvp_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
			  struct vdpa_callback *cb)
{
	struct vvp_vq *vq = &vdpa_to_vvp(vdpa)->vqs[idx];
	unsigned long flags;

	spin_lock_irqsave(&vq->cb_lock, flags);
	vq->cb = *cb;
	spin_unlock_irqrestore(&vq->cb_lock, flags);
}

/* A queue enabled after DRIVER_OK is set up at once; none is disabled. */
static void vvp_set_vq_ready(struct vdpa_device *vdpa, u16 idx, bool ready)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	struct vvp_vq *vq = &d->vqs[idx];

	if (ready && !vq->ready && (d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    vvp_hw_vq_usable(d, idx) && vvp_setup_vq(d, idx))
		d->failed = true;
	vq->ready = ready;
	if (vvp_is_relayed(d, idx) && (d->status & VIRTIO_CONFIG_S_DRIVER_OK))
		vvp_relay_kick(d);
}

static bool vvp_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	return vdpa_to_vvp(vdpa)->vqs[idx].ready;
}

/* The function starts each ring at index 0 and cannot say where it is. */
static int vvp_set_vq_state(struct vdpa_device *vdpa, u16 idx,
			    const struct vdpa_vq_state *state)
{
	return state->split.avail_index ? -EOPNOTSUPP : 0;
}

static int vvp_get_vq_state(struct vdpa_device *vdpa, u16 idx,
			    struct vdpa_vq_state *state)
{
	if (vdpa_to_vvp(vdpa)->status & VIRTIO_CONFIG_S_DRIVER_OK)
		return -EOPNOTSUPP;
	state->split.avail_index = 0;
	return 0;
}

static struct vdpa_notification_area
vvp_get_vq_notification(struct vdpa_device *vdpa, u16 idx)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	struct vdpa_notification_area area = { };

	if (d->vp->page_per_vq && vvp_hw_vq_usable(d, idx)) {
		area.addr = d->vp->notify_pa[vvp_hw_index(d, idx)];
		area.size = PAGE_SIZE;
	}
	return area;
}

static int vvp_get_vq_irq(struct vdpa_device *vdpa, u16 idx)
{
	int irq = vdpa_to_vvp(vdpa)->vqs[idx].irq;

	return irq >= 0 ? irq : -EINVAL;
}

static u32 vvp_get_vq_align(struct vdpa_device *vdpa)
{
	return vvp_of(vdpa)->tp == &vvp_legacy ? VIRTIO_PCI_VRING_ALIGN :
						 SMP_CACHE_BYTES;
}

static u32 vvp_get_vq_group(struct vdpa_device *vdpa, u16 idx)
{
	return 0;
}

static u16 vvp_get_vq_num_max(struct vdpa_device *vdpa)
{
	return vvp_of(vdpa)->qsize;
}

static u16 vvp_get_vq_num_min(struct vdpa_device *vdpa)
{
	struct vvp *vp = vvp_of(vdpa);

	return vp->quirks & VVP_Q_FIXED_QSIZE ? vp->qsize : 1;
}

/* ------------------------------------------------------------------ */
/* Features and config space                                          */

static u64 vvp_get_device_features(struct vdpa_device *vdpa)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);

	return vvp_offered(d, vvp_cvq_mode(d));
}

static int vvp_set_driver_features(struct vdpa_device *vdpa, u64 features)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	enum vvp_cvq_mode mode = vvp_cvq_mode(d);
	struct vvp *vp = d->vp;

	if (features & ~vvp_offered(d, mode))
		return -EINVAL;
	if (vvp_is_net(vp) && (vp->quirks & VVP_Q_MRG_RXBUF) &&
	    !(features & BIT_ULL(VIRTIO_NET_F_MRG_RXBUF))) {
		dev_warn_ratelimited(&vdpa->dev,
				     "the driver must accept MRG_RXBUF: this function fails without it\n");
		return -EINVAL;
	}
	d->driver_features = features;
	d->cvq_mode = vvp_is_net(vp) &&
		      (features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ)) ? mode :
								   VVP_CVQ_NONE;
	vp->tp->set_features(vp, (features & ~d->virt_features) |
			     d->hw_features | vp->hw_extra_features);
	return 0;
}

static u64 vvp_get_driver_features(struct vdpa_device *vdpa)
{
	return vdpa_to_vvp(vdpa)->driver_features;
}

static void vvp_set_config_cb(struct vdpa_device *vdpa,
			      struct vdpa_callback *cb)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	unsigned long flags;

	spin_lock_irqsave(&d->config_lock, flags);
	d->config_cb = *cb;
	spin_unlock_irqrestore(&d->config_lock, flags);
}

static u32 vvp_get_device_id(struct vdpa_device *vdpa)
{
	return vvp_of(vdpa)->device_id;
}

static u32 vvp_get_vendor_id(struct vdpa_device *vdpa)
{
	return vvp_of(vdpa)->pdev->subsystem_vendor;
}

static size_t vvp_get_config_size(struct vdpa_device *vdpa)
{
	struct vvp *vp = vvp_of(vdpa);
	size_t len = vp->tp->config_len(vp);

	return vvp_is_net(vp) ? min(len, sizeof(struct virtio_net_config)) :
				len;
}

/*
 * A config field read the way the spec wants it (virtio 1.2, 4.1.3.1):
 * a 16- or 32-bit field in one access of its width.  Drivers read one
 * field per call (virtio_cread()); anything else goes byte by byte.
 */
static void vvp_config_read(void __iomem *addr, u8 *buf, unsigned int len)
{
	unsigned int i;

	if (len == 2 && IS_ALIGNED((uintptr_t)addr, 2)) {
		put_unaligned_le16(ioread16(addr), buf);
	} else if (len == 4 && IS_ALIGNED((uintptr_t)addr, 4)) {
		put_unaligned_le32(ioread32(addr), buf);
	} else {
		for (i = 0; i < len; i++)
			buf[i] = ioread8(addr + i);
	}
}

/*
 * Provisioned values replace the function's in what the driver reads
 * (little-endian: VERSION_1 is always negotiated).
 */
static void vvp_config_overlay(struct vvp_dev *d, struct virtio_net_config *c)
{
	if (vvp_owns_cvq(d))
		ether_addr_copy(c->mac, d->mac);
	if (d->mtu)
		c->mtu = (__force __virtio16)cpu_to_le16(d->mtu);
	c->max_virtqueue_pairs = (__force __virtio16)cpu_to_le16(d->max_vqp);
}

static void vvp_get_config(struct vdpa_device *vdpa, unsigned int offset,
			   void *buf, unsigned int len)
{
	struct vvp_dev *d = vdpa_to_vvp(vdpa);
	struct vvp *vp = d->vp;
	void __iomem *base = vp->tp->config_base(vp);
	struct virtio_net_config net;
	size_t size = vvp_get_config_size(vdpa);

	if (offset > size || len > size - offset)
		return;
	if (!vvp_is_net(vp)) {
		vvp_config_read(base + offset, buf, len);
		return;
	}
	memset(&net, 0, sizeof(net));
	vvp_config_read(base + offset, (u8 *)&net + offset, len);
	vvp_config_overlay(d, &net);
	memcpy(buf, (u8 *)&net + offset, len);
}

static void vvp_set_config(struct vdpa_device *vdpa, unsigned int offset,
			   const void *buf, unsigned int len)
{
	struct vvp *vp = vvp_of(vdpa);
	void __iomem *base = vp->tp->config_base(vp);
	size_t size = vvp_get_config_size(vdpa);
	unsigned int i;

	/* virtio-net's config space is read-only for a VERSION_1 driver. */
	if (vvp_is_net(vp) || offset > size || len > size - offset)
		return;
	for (i = 0; i < len; i++)
		iowrite8(((const u8 *)buf)[i], base + offset + i);
}

static u32 vvp_get_generation(struct vdpa_device *vdpa)
{
	struct vvp *vp = vvp_of(vdpa);

	return vp->tp->generation(vp);
}

/* Below the control queue's window in a vhost_vdpa user's domain. */
static struct vdpa_iova_range vvp_get_iova_range(struct vdpa_device *vdpa)
{
	return vvp_cvq_iova_range(vdpa_to_vvp(vdpa));
}

static void vvp_free(struct vdpa_device *vdpa)
{
	kfree(vdpa_to_vvp(vdpa)->vqs);
}

/*
 * No set_map/dma_map: the function does DMA through the platform IOMMU,
 * which vhost_vdpa programs with a domain of its own for each user.
 */
static const struct vdpa_config_ops vvp_config_ops = {
	.set_vq_address		= vvp_set_vq_address,
	.set_vq_num		= vvp_set_vq_num,
	.kick_vq		= vvp_kick_vq,
	.set_vq_cb		= vvp_set_vq_cb,
	.set_vq_ready		= vvp_set_vq_ready,
	.get_vq_ready		= vvp_get_vq_ready,
	.set_vq_state		= vvp_set_vq_state,
	.get_vq_state		= vvp_get_vq_state,
	.get_vq_notification	= vvp_get_vq_notification,
	.get_vq_irq		= vvp_get_vq_irq,
	.get_vq_align		= vvp_get_vq_align,
	.get_vq_group		= vvp_get_vq_group,
	.get_device_features	= vvp_get_device_features,
	.set_driver_features	= vvp_set_driver_features,
	.get_driver_features	= vvp_get_driver_features,
	.set_config_cb		= vvp_set_config_cb,
	.get_vq_num_max		= vvp_get_vq_num_max,
	.get_vq_num_min		= vvp_get_vq_num_min,
	.get_device_id		= vvp_get_device_id,
	.get_vendor_id		= vvp_get_vendor_id,
	.get_status		= vvp_get_status,
	.set_status		= vvp_set_status,
	.reset			= vvp_reset,
	.get_config_size	= vvp_get_config_size,
	.get_config		= vvp_get_config,
	.set_config		= vvp_set_config,
	.get_generation		= vvp_get_generation,
	.get_iova_range		= vvp_get_iova_range,
	.free			= vvp_free,
};

/* ------------------------------------------------------------------ */
/* Management: vdpa dev add / del                                     */

/* What the function itself has in a net config field, little-endian. */
static u16 vvp_hw_config16(struct vvp *vp, size_t offset)
{
	return ioread16(vp->tp->config_base(vp) + offset);
}

/*
 * Another MAC than the function's: the adapter sets it through the
 * function's control queue at each start.  The driver's control queue is
 * then relayed (a kernel driver) or absent (a vhost_vdpa user).
 */
static int vvp_net_provision_mac(struct vvp *vp, struct vvp_dev *d,
				 const struct vdpa_dev_set_config *config)
{
	const u64 need = BIT_ULL(VIRTIO_NET_F_CTRL_VQ) |
			 BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR);

	if ((vp->hw_features & need) != need || vp->cvq < 0) {
		pci_warn(vp->pdev, "mac %pM: pci/%s has no control queue command to change its MAC (CTRL_MAC_ADDR)\n",
			 config->net.mac, pci_name(vp->pdev));
		return -EOPNOTSUPP;
	}
	ether_addr_copy(d->mac, config->net.mac);
	if (!(vp->features & BIT_ULL(VIRTIO_NET_F_MAC))) {
		d->features |= BIT_ULL(VIRTIO_NET_F_MAC);
		d->virt_features |= BIT_ULL(VIRTIO_NET_F_MAC);
	}
	d->hw_features = need;
	return 0;
}

/* Provisioning of a net device: checked against what the function has. */
static int vvp_net_provision(struct vvp *vp, struct vvp_dev *d,
			     const struct vdpa_dev_set_config *config)
{
	const char *bdf = pci_name(vp->pdev);
	u8 mac[ETH_ALEN];
	u16 limit;
	int i;

	d->max_vqp = d->features & BIT_ULL(VIRTIO_NET_F_MQ) ?
		     vp->hw_max_vqp : 1;
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MAX_VQP)) {
		if (!config->net.max_vq_pairs ||
		    config->net.max_vq_pairs > d->max_vqp) {
			pci_warn(vp->pdev, "max_vqp %u: pci/%s offers 1..%u\n",
				 config->net.max_vq_pairs, bdf, d->max_vqp);
			return -EINVAL;
		}
		d->max_vqp = config->net.max_vq_pairs;
	}
	/* An indirection table may name pairs beyond those provisioned. */
	if (d->max_vqp < vp->hw_max_vqp)
		d->features &= ~BIT_ULL(VIRTIO_NET_F_RSS);
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MTU)) {
		limit = vp->features & BIT_ULL(VIRTIO_NET_F_MTU) ?
			vvp_hw_config16(vp, offsetof(struct virtio_net_config, mtu)) :
			ETH_DATA_LEN;
		if (config->net.mtu < ETH_MIN_MTU || config->net.mtu > limit) {
			pci_warn(vp->pdev, "mtu %u: pci/%s takes %u..%u\n",
				 config->net.mtu, bdf, ETH_MIN_MTU, limit);
			return -EINVAL;
		}
		d->mtu = config->net.mtu;
		d->features |= BIT_ULL(VIRTIO_NET_F_MTU);
		if (!(vp->features & BIT_ULL(VIRTIO_NET_F_MTU)))
			d->virt_features |= BIT_ULL(VIRTIO_NET_F_MTU);
	}
	if (!(config->mask & BIT_ULL(VDPA_ATTR_DEV_NET_CFG_MACADDR)))
		return 0;
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = ioread8(vp->tp->config_base(vp) + i);
	if ((vp->features & BIT_ULL(VIRTIO_NET_F_MAC)) &&
	    ether_addr_equal(mac, config->net.mac))
		return 0;
	return vvp_net_provision_mac(vp, d, config);
}

static int vvp_provision(struct vvp *vp, struct vvp_dev *d,
			 const struct vdpa_dev_set_config *config)
{
	int ret;

	d->features = vp->features;
	if (config->mask & BIT_ULL(VDPA_ATTR_DEV_FEATURES)) {
		if (config->device_features & ~vp->features ||
		    !(config->device_features & BIT_ULL(VIRTIO_F_VERSION_1))) {
			pci_warn(vp->pdev, "device_features 0x%llx: pci/%s offers 0x%llx, VERSION_1 required\n",
				 config->device_features, pci_name(vp->pdev),
				 vp->features);
			return -EINVAL;
		}
		d->features = config->device_features;
	}
	d->virt_features = vp->virt_features;
	if (!vvp_is_net(vp)) {
		d->nvqs = vp->hw_nvqs;
		return 0;
	}
	ret = vvp_net_provision(vp, d, config);
	if (ret)
		return ret;
	d->nvqs = 2 * d->max_vqp +
		  !!(d->features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ));
	return 0;
}

/**
 * vvp_dev_add() - create the vDPA device of a function (vdpa dev add)
 * @mgmt: the function's management device
 * @name: the new device's name
 * @config: what the user provisioned
 *
 * One device per function.  Provisioning is checked against the function:
 * max_vqp up to its queue pairs, mtu up to its MTU (1500 if it has none),
 * mac its own or any the function's control queue takes.
 *
 * Context: process context; the vDPA core holds its device lock.
 * Return: 0, -EBUSY if the function has a device, -EINVAL or -EOPNOTSUPP
 * for provisioning it cannot honour (with a message), or -ENOMEM.
 */
int vvp_dev_add(struct vdpa_mgmt_dev *mgmt, const char *name,
		const struct vdpa_dev_set_config *config)
{
	struct vvp *vp = container_of(mgmt, struct vvp, mgmt);
	struct vvp_dev *d;
	int ret;
	u16 i;

	if (vp->dev) {
		pci_warn(vp->pdev, "pci/%s already has device %s: one per function\n",
			 pci_name(vp->pdev), dev_name(&vp->dev->vdpa.dev));
		return -EBUSY;
	}
	d = vdpa_alloc_device(struct vvp_dev, vdpa, &vp->pdev->dev,
			      &vvp_config_ops, 1, 1, name, false);
	if (IS_ERR(d))
		return PTR_ERR(d);
	d->vp = vp;
	d->config_irq = -1;
	spin_lock_init(&d->config_lock);
	vvp_relay_init(d);
	ret = vvp_provision(vp, d, config);
	if (ret)
		goto err;
	d->vqs = kcalloc(d->nvqs, sizeof(*d->vqs), GFP_KERNEL);
	if (!d->vqs) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < d->nvqs; i++) {
		spin_lock_init(&d->vqs[i].cb_lock);
		d->vqs[i].irq = -1;
	}
	d->vdpa.dma_dev = &vp->pdev->dev;
	d->vdpa.mdev = mgmt;
	ret = _vdpa_register_device(&d->vdpa, d->nvqs);
	if (ret)
		goto err;
	vp->dev = d;
	return 0;
err:
	put_device(&d->vdpa.dev);
	return ret;
}

/**
 * vvp_dev_del() - remove the vDPA device of a function (vdpa dev del)
 * @mgmt: the function's management device
 * @vdpa: its device
 *
 * Context: process context; the vDPA core holds its device lock.
 */
void vvp_dev_del(struct vdpa_mgmt_dev *mgmt, struct vdpa_device *vdpa)
{
	struct vvp *vp = container_of(mgmt, struct vvp, mgmt);

	/* Drivers gone, the DMA memory goes while the function is there. */
	get_device(&vdpa->dev);
	_vdpa_unregister_device(vdpa);
	vvp_relay_stop(vdpa_to_vvp(vdpa));
	vvp_cvq_free(vdpa_to_vvp(vdpa));
	put_device(&vdpa->dev);
	vp->dev = NULL;
}
