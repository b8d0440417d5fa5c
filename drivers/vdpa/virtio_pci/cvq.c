// SPDX-License-Identifier: GPL-2.0
/*
 * The function's control queue, driven by the adapter itself: a MAC
 * provisioned with `vdpa dev add ... mac M` is set on the function with
 * VIRTIO_NET_CTRL_MAC_ADDR_SET each time the driver starts the device
 * (a reset gives the function its own MAC back).  The driver does not see
 * this queue: a device with a provisioned MAC offers no control queue.
 *
 * The ring is the adapter's (coherent DMA memory, laid out as a legacy
 * function needs it), one command at a time, polled: the driver is
 * starting the device, in process context, and nothing else uses the
 * queue.
 */

#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/virtio_ring.h>
#include <uapi/linux/virtio_net.h>

#include "vvp.h"

/* The command: header, MAC, and the byte the function answers in. */
struct vvp_cvq_cmd {
	struct virtio_net_ctrl_hdr hdr;
	u8 mac[ETH_ALEN];
	u8 ack;
} __packed;

/* How long a start waits for the function to answer. */
#define VVP_CVQ_TIMEOUT_MS	2000

/* Ring fields are little-endian: VERSION_1, or a legacy function on x86. */
#define VVP_LE16(x)	((__force __virtio16)cpu_to_le16(x))
#define VVP_LE32(x)	((__force __virtio32)cpu_to_le32(x))
#define VVP_LE64(x)	((__force __virtio64)cpu_to_le64(x))

static size_t vvp_cvq_cmd_offset(u16 num)
{
	return ALIGN(vring_size(num, VIRTIO_PCI_VRING_ALIGN), SMP_CACHE_BYTES);
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
		dma_free_coherent(&d->vp->pdev->dev, cvq->size, cvq->ring,
				  cvq->ring_dma);
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
	cvq->size = vvp_cvq_cmd_offset(num) + sizeof(struct vvp_cvq_cmd);
	cvq->ring = dma_alloc_coherent(&vp->pdev->dev, cvq->size,
				       &cvq->ring_dma, GFP_KERNEL);
	return cvq->ring ? 0 : -ENOMEM;
}

/**
 * vvp_cvq_setup() - give the function the control queue, before DRIVER_OK
 * @d: the device, features written, MQ not negotiated with the function
 *
 * Context: process context.
 * Return: 0, -ENOMEM, or the function's refusal.
 */
int vvp_cvq_setup(struct vvp_dev *d)
{
	struct vvp_cvq *cvq = &d->cvq;
	struct vvp *vp = d->vp;
	struct vring vr;
	int ret;

	cvq->hw_idx = 2;
	ret = vvp_cvq_alloc(d);
	if (ret)
		return ret;
	memset(cvq->ring, 0, cvq->size);
	vring_init(&vr, cvq->num, cvq->ring, VIRTIO_PCI_VRING_ALIGN);
	cvq->avail_idx = 0;
	return vp->tp->setup_queue(vp, cvq->hw_idx, cvq->num, cvq->ring_dma,
				   cvq->ring_dma + ((void *)vr.avail - cvq->ring),
				   cvq->ring_dma + ((void *)vr.used - cvq->ring),
				   VIRTIO_MSI_NO_VECTOR);
}

/* Post the three-descriptor command chain at the head of the ring. */
static void vvp_cvq_post(struct vvp_cvq *cvq)
{
	dma_addr_t cmd = cvq->ring_dma + vvp_cvq_cmd_offset(cvq->num);
	static const u16 len[] = {
		sizeof(struct virtio_net_ctrl_hdr), ETH_ALEN, 1,
	};
	struct vring vr;
	u16 i;

	vring_init(&vr, cvq->num, cvq->ring, VIRTIO_PCI_VRING_ALIGN);
	for (i = 0; i < 3; i++) {
		vr.desc[i].addr = VVP_LE64(cmd);
		vr.desc[i].len = VVP_LE32(len[i]);
		vr.desc[i].flags = VVP_LE16(i < 2 ? VRING_DESC_F_NEXT :
						    VRING_DESC_F_WRITE);
		vr.desc[i].next = VVP_LE16(i + 1);
		cmd += len[i];
	}
	vr.avail->ring[cvq->avail_idx % cvq->num] = VVP_LE16(0);
	/* The chain before the index that publishes it. */
	dma_wmb();
	vr.avail->idx = VVP_LE16(++cvq->avail_idx);
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
	struct vvp_cvq *cvq = &d->cvq;
	struct vvp_cvq_cmd *cmd = cvq->ring + vvp_cvq_cmd_offset(cvq->num);
	unsigned long end = jiffies + msecs_to_jiffies(VVP_CVQ_TIMEOUT_MS);
	struct vring vr;

	vring_init(&vr, cvq->num, cvq->ring, VIRTIO_PCI_VRING_ALIGN);
	cmd->hdr.class = VIRTIO_NET_CTRL_MAC;
	cmd->hdr.cmd = VIRTIO_NET_CTRL_MAC_ADDR_SET;
	ether_addr_copy(cmd->mac, mac);
	cmd->ack = VIRTIO_NET_ERR;
	vvp_cvq_post(cvq);
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
	return READ_ONCE(cmd->ack) == VIRTIO_NET_OK ? 0 : -EIO;
}
