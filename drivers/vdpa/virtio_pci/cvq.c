// SPDX-License-Identifier: GPL-2.0
/*
 * The function's control queue, driven by the adapter itself: for a MAC
 * provisioned with `vdpa dev add ... mac M`, set with
 * VIRTIO_NET_CTRL_MAC_ADDR_SET each time the driver starts the device (a
 * reset gives the function its own MAC back), and for the commands of the
 * driver's control queue when the adapter relays them (relay.c).
 *
 * The ring is the adapter's (coherent DMA memory, laid out as a legacy
 * function needs it), one command at a time, polled: callers sleep, and
 * the device's relay lock or its start serializes them.  In a vhost_vdpa
 * user's IOMMU domain the function cannot reach the kernel's DMA
 * addresses: the ring is mapped there too, in a window at the top of what
 * the function can address, which vvp_cvq_iova_range() keeps from the
 * user.  The user's buffers could still point the function there, so only
 * the used ring and the answer are writable in the window.
 *
 * Layout, in pages: descriptors and available ring (read-only in the
 * window), used ring and answer (writable), command (read-only).
 */

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/iommu.h>
#include <linux/sizes.h>
#include <linux/virtio_ring.h>
#include <uapi/linux/virtio_net.h>

#include "vvp.h"

/* How long a command waits for the function to answer. */
#define VVP_CVQ_TIMEOUT_MS	2000

/* The IOVA window of the ring in a user's domain; the ring fits. */
#define VVP_CVQ_WINDOW		SZ_2M

/* Ring fields are little-endian: VERSION_1, or a legacy function on x86. */
#define VVP_LE16(x)	((__force __virtio16)cpu_to_le16(x))
#define VVP_LE32(x)	((__force __virtio32)cpu_to_le32(x))
#define VVP_LE64(x)	((__force __virtio64)cpu_to_le64(x))

/* The used ring: after the descriptors and the available ring, aligned. */
static size_t vvp_cvq_used_offset(u16 num)
{
	return ALIGN(num * sizeof(struct vring_desc) +
		     sizeof(__virtio16) * (3 + num), VIRTIO_PCI_VRING_ALIGN);
}

/* The function's answer, right after the used ring. */
static size_t vvp_cvq_ack_offset(u16 num)
{
	return vring_size(num, VIRTIO_PCI_VRING_ALIGN);
}

static size_t vvp_cvq_cmd_offset(u16 num)
{
	return PAGE_ALIGN(vvp_cvq_ack_offset(num) + 1);
}

/*
 * The window's first IOVA in @domain: at the top of its aperture, below
 * 2^44 for a legacy function (a 32-bit page frame number).
 */
static u64 vvp_cvq_window(struct vvp *vp, struct iommu_domain *domain)
{
	u64 end = domain->geometry.force_aperture ?
		  domain->geometry.aperture_end : U64_MAX;

	if (vp->tp == &vvp_legacy)
		end = min_t(u64, end, BIT_ULL(32 + VIRTIO_PCI_QUEUE_ADDR_SHIFT) - 1);
	return (end - VVP_CVQ_WINDOW + 1) & ~(u64)(VVP_CVQ_WINDOW - 1);
}

/**
 * vvp_cvq_iova_range() - the IOVAs a vhost_vdpa user may map
 * @d: the device
 *
 * Context: any context.
 * Return: in a user's IOMMU domain its aperture, without the control
 * queue's window when the adapter needs it there (a provisioned MAC);
 * else everything.
 */
struct vdpa_iova_range vvp_cvq_iova_range(struct vvp_dev *d)
{
	struct iommu_domain *domain;
	struct vdpa_iova_range range = { .first = 0, .last = U64_MAX };

	domain = iommu_get_domain_for_dev(&d->vp->pdev->dev);
	if (!domain || domain->type != IOMMU_DOMAIN_UNMANAGED)
		return range;
	if (domain->geometry.force_aperture) {
		range.first = domain->geometry.aperture_start;
		range.last = domain->geometry.aperture_end;
	}
	if (vvp_owns_cvq(d))
		range.last = vvp_cvq_window(d->vp, domain) - 1;
	return range;
}

/**
 * vvp_cvq_free() - free the control queue's memory, if any
 * @d: the device; its function is still there, not running
 *
 * Context: process context.
 */
void vvp_cvq_free(struct vvp_dev *d)
{
	struct vvp_cvq *cvq = &d->cvq;

	if (cvq->ring)
		dma_free_attrs(&d->vp->pdev->dev, cvq->size, cvq->ring,
			       cvq->ring_dma, DMA_ATTR_FORCE_CONTIGUOUS);
	cvq->ring = NULL;
}

/*
 * Memory for a ring of the size the control queue has now that the
 * features are written (MQ moves it on some functions), kept across
 * starts while that size holds.
 */
static int vvp_cvq_alloc(struct vvp_dev *d)
{
	struct vvp_cvq *cvq = &d->cvq;
	struct vvp *vp = d->vp;
	u16 num;

	num = vp->tp->queue_max(vp, cvq->hw_idx);
	if (!(vp->quirks & VVP_Q_FIXED_QSIZE))
		num = min_t(u16, num, 16);
	if (!num)
		return -ENODEV;
	if (cvq->ring && cvq->num == num)
		return 0;
	vvp_cvq_free(d);
	cvq->num = num;
	cvq->size = vvp_cvq_cmd_offset(num) + PAGE_ALIGN(VVP_CVQ_CMD_MAX);
	if (cvq->size > VVP_CVQ_WINDOW)
		return -E2BIG;
	/* Contiguous: a function that bypasses the IOMMU gets its address. */
	cvq->ring = dma_alloc_attrs(&vp->pdev->dev, cvq->size, &cvq->ring_dma,
				    GFP_KERNEL, DMA_ATTR_FORCE_CONTIGUOUS);
	return cvq->ring ? 0 : -ENOMEM;
}

/* The ring in the user's domain, at the window; see the layout above. */
static int vvp_cvq_map_user(struct vvp_dev *d, struct iommu_domain *domain)
{
	const int ro = IOMMU_READ | IOMMU_CACHE, rw = ro | IOMMU_WRITE;
	struct vvp_cvq *cvq = &d->cvq;
	u64 iova = vvp_cvq_window(d->vp, domain);
	phys_addr_t pa = virt_to_phys(cvq->ring);
	size_t used = vvp_cvq_used_offset(cvq->num);
	size_t cmd = vvp_cvq_cmd_offset(cvq->num);
	int ret;

	ret = iommu_map(domain, iova, pa, used, ro);
	if (ret)
		return ret;
	ret = iommu_map(domain, iova + used, pa + used, cmd - used, rw);
	if (!ret)
		ret = iommu_map(domain, iova + cmd, pa + cmd, cvq->size - cmd,
				ro);
	if (ret) {
		iommu_unmap(domain, iova, cvq->size);
		return ret;
	}
	cvq->domain = domain;
	cvq->base = iova;
	return 0;
}

/**
 * vvp_cvq_stop() - take the ring out of a user's domain, after a reset
 * @d: the device; its function does no DMA now
 *
 * The user's domain outlives the reset: vhost_vdpa resets the device
 * before it frees the domain.
 *
 * Context: process context.
 */
void vvp_cvq_stop(struct vvp_dev *d)
{
	struct vvp_cvq *cvq = &d->cvq;

	if (cvq->domain)
		iommu_unmap(cvq->domain, cvq->base, cvq->size);
	cvq->domain = NULL;
}

/**
 * vvp_cvq_setup() - give the function the control queue, before DRIVER_OK
 * @d: the device, features written
 *
 * Context: process context.
 * Return: 0, -ENOMEM, an IOMMU error, or the function's refusal.
 */
int vvp_cvq_setup(struct vvp_dev *d)
{
	struct iommu_domain *domain;
	struct vvp_cvq *cvq = &d->cvq;
	struct vvp *vp = d->vp;
	struct vring vr;
	int ret;

	cvq->hw_idx = d->driver_features & BIT_ULL(VIRTIO_NET_F_MQ) ?
		      vp->cvq : 2;
	ret = vvp_cvq_alloc(d);
	if (ret)
		return ret;
	memset(cvq->ring, 0, cvq->size);
	cvq->base = vvp_bypasses_iommu(vp) ? virt_to_phys(cvq->ring) :
					     cvq->ring_dma;
	domain = iommu_get_domain_for_dev(&vp->pdev->dev);
	if (domain && domain->type == IOMMU_DOMAIN_UNMANAGED) {
		ret = vvp_cvq_map_user(d, domain);
		if (ret)
			return ret;
	}
	vring_init(&vr, cvq->num, cvq->ring, VIRTIO_PCI_VRING_ALIGN);
	cvq->avail_idx = 0;
	ret = vp->tp->setup_queue(vp, cvq->hw_idx, cvq->num, cvq->base,
				  cvq->base + ((void *)vr.avail - cvq->ring),
				  cvq->base + ((void *)vr.used - cvq->ring),
				  VIRTIO_MSI_NO_VECTOR);
	if (ret)
		vvp_cvq_stop(d);
	return ret;
}

/**
 * vvp_cvq_buf() - where a command goes before vvp_cvq_exec()
 * @d: the device, control queue set up
 *
 * Context: any context.
 * Return: VVP_CVQ_CMD_MAX bytes: the header, then the command's data.
 */
void *vvp_cvq_buf(struct vvp_dev *d)
{
	return d->cvq.ring + vvp_cvq_cmd_offset(d->cvq.num);
}

/*
 * Post the command at the head of the ring the way a legacy function
 * wants it: the header, the data if any, the answer, each on its own.
 */
static void vvp_cvq_post(struct vvp_cvq *cvq, size_t len)
{
	u64 cmd = cvq->base + vvp_cvq_cmd_offset(cvq->num);
	struct vring vr;
	u16 n = 0;

	vring_init(&vr, cvq->num, cvq->ring, VIRTIO_PCI_VRING_ALIGN);
	vr.desc[n].addr = VVP_LE64(cmd);
	vr.desc[n].len = VVP_LE32(sizeof(struct virtio_net_ctrl_hdr));
	vr.desc[n].flags = VVP_LE16(VRING_DESC_F_NEXT);
	vr.desc[n].next = VVP_LE16(n + 1);
	n++;
	if (len > sizeof(struct virtio_net_ctrl_hdr)) {
		vr.desc[n].addr = VVP_LE64(cmd + sizeof(struct virtio_net_ctrl_hdr));
		vr.desc[n].len = VVP_LE32(len - sizeof(struct virtio_net_ctrl_hdr));
		vr.desc[n].flags = VVP_LE16(VRING_DESC_F_NEXT);
		vr.desc[n].next = VVP_LE16(n + 1);
		n++;
	}
	vr.desc[n].addr = VVP_LE64(cvq->base + vvp_cvq_ack_offset(cvq->num));
	vr.desc[n].len = VVP_LE32(1);
	vr.desc[n].flags = VVP_LE16(VRING_DESC_F_WRITE);
	vr.avail->ring[cvq->avail_idx % cvq->num] = VVP_LE16(0);
	/* The chain before the index that publishes it. */
	dma_wmb();
	vr.avail->idx = VVP_LE16(++cvq->avail_idx);
}

/**
 * vvp_cvq_exec() - have the function execute the command in vvp_cvq_buf()
 * @d: the device, started (DRIVER_OK written), control queue set up
 * @len: the command's length, header included (2..VVP_CVQ_CMD_MAX)
 *
 * After -ETIMEDOUT the function may still use the buffer: the device
 * must be reset before the next command.
 *
 * Context: process context; sleeps while the function answers.
 * Return: the function's answer (VIRTIO_NET_OK or VIRTIO_NET_ERR), or
 * -ETIMEDOUT.
 */
int vvp_cvq_exec(struct vvp_dev *d, size_t len)
{
	struct vvp_cvq *cvq = &d->cvq;
	u8 *ack = cvq->ring + vvp_cvq_ack_offset(cvq->num);
	unsigned long end = jiffies + msecs_to_jiffies(VVP_CVQ_TIMEOUT_MS);
	struct vring vr;

	vring_init(&vr, cvq->num, cvq->ring, VIRTIO_PCI_VRING_ALIGN);
	*ack = VIRTIO_NET_ERR;
	vvp_cvq_post(cvq, len);
	/* The published index before the doorbell. */
	wmb();
	iowrite16(cvq->hw_idx, d->vp->notify[cvq->hw_idx]);
	while (le16_to_cpu((__force __le16)READ_ONCE(vr.used->idx)) !=
	       cvq->avail_idx) {
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		usleep_range(100, 500);
	}
	dma_rmb();
	return READ_ONCE(*ack);
}

/**
 * vvp_cvq_set_mac() - set the function's MAC through its control queue
 * @d: the device, started (DRIVER_OK written), control queue set up
 * @mac: the MAC
 *
 * Context: process context; sleeps while the function answers.
 * Return: 0, -ETIMEDOUT, or -EIO if the function refused the command.
 */
int vvp_cvq_set_mac(struct vvp_dev *d, const u8 *mac)
{
	struct virtio_net_ctrl_hdr *hdr = vvp_cvq_buf(d);
	int ret;

	hdr->class = VIRTIO_NET_CTRL_MAC;
	hdr->cmd = VIRTIO_NET_CTRL_MAC_ADDR_SET;
	ether_addr_copy((u8 *)(hdr + 1), mac);
	ret = vvp_cvq_exec(d, sizeof(*hdr) + ETH_ALEN);
	if (ret < 0)
		return ret;
	return ret == VIRTIO_NET_OK ? 0 : -EIO;
}
