// SPDX-License-Identifier: GPL-2.0
/*
 * The driver's control queue, relayed.  vDPA (6.1) gives every queue one
 * size, and a function's control queue is often smaller than its data
 * queues (QEMU: 64 against 256); with a provisioned MAC the adapter needs
 * the function's control queue itself.  So when the device is in the
 * kernel's DMA domain (virtio_vdpa), the driver's control queue is not
 * the function's: the adapter reads each command from the driver's ring,
 * has the function execute it on the adapter's own control queue
 * (cvq.c), and completes it with the function's answer.
 *
 * The driver's ring is in the function's DMA address space.  The CPU
 * reaches it through the IOMMU's translation when the domain translates
 * and the function uses it, else through the direct mapping: it sees what
 * the function would.
 * Kernel drivers only: a vhost_vdpa user's domain tells nothing of what
 * the user allowed the device to write, so there the control queue is
 * the function's own or none (vdpa.c, vvp_cvq_mode()).
 *
 * Commands are rare and short: one work item runs them in order, and its
 * lock (&vvp_relay.lock) lets a reset wait for the command in flight.
 */

#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_net.h>

#include "vvp.h"

/* CPU access to @len bytes at the function's DMA address @addr. */
static int vvp_relay_access(struct vvp_dev *d, u64 addr, void *buf,
			    size_t len, bool write)
{
	struct device *dev = &d->vp->pdev->dev;
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	bool phys = vvp_bypasses_iommu(d->vp);
	phys_addr_t pa;
	size_t n;
	void *va;

	if (addr + len < addr)
		return -EFAULT;
	while (len) {
		n = min_t(size_t, len, PAGE_SIZE - offset_in_page(addr));
		if (phys)
			pa = addr;
		else if (domain && domain->type != IOMMU_DOMAIN_IDENTITY)
			pa = iommu_iova_to_phys(domain, addr);
		else
			pa = dma_to_phys(dev, addr);
		if (!pa || !pfn_valid(PHYS_PFN(pa)))
			return -EFAULT;
		va = kmap_local_page(pfn_to_page(PHYS_PFN(pa)));
		if (write)
			memcpy(va + offset_in_page(pa), buf, n);
		else
			memcpy(buf, va + offset_in_page(pa), n);
		kunmap_local(va);
		addr += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int vvp_relay_read16(struct vvp_dev *d, u64 addr, u16 *val)
{
	__le16 v;
	int ret = vvp_relay_access(d, addr, &v, sizeof(v), false);

	*val = le16_to_cpu(v);
	return ret;
}

static int vvp_relay_write16(struct vvp_dev *d, u64 addr, u16 val)
{
	__le16 v = cpu_to_le16(val);

	return vvp_relay_access(d, addr, &v, sizeof(v), true);
}

/**
 * struct vvp_relay_cmd - one command read from the driver's ring
 * @head: its chain's first descriptor
 * @len: bytes read into vvp_cvq_buf(), header included
 * @ack: where the driver wants the answer
 * @has_ack: @ack is set (a writable descriptor came)
 * @too_long: it did not fit; answered VIRTIO_NET_ERR unread
 */
struct vvp_relay_cmd {
	u16 head;
	size_t len;
	u64 ack;
	bool has_ack;
	bool too_long;
};

/*
 * Follow the chain at @cmd->head: readable descriptors (the command),
 * then writable ones, whose first byte takes the answer.  One indirect
 * table at most; as many descriptors as the ring has entries, per table.
 */
static int vvp_relay_read_cmd(struct vvp_dev *d, struct vvp_vq *vq,
			      struct vvp_relay_cmd *cmd)
{
	u8 *buf = vvp_cvq_buf(d);
	u64 table = vq->desc;
	u32 max = vq->num, seen = 0;
	struct vring_desc desc;
	bool indirect = false;
	u16 i = cmd->head, flags;
	u32 len;
	int ret;

	cmd->len = 0;
	cmd->has_ack = false;
	cmd->too_long = false;
	for (;;) {
		if (i >= max || ++seen > max)
			return -EINVAL;
		ret = vvp_relay_access(d, table + i * sizeof(desc), &desc,
				       sizeof(desc), false);
		if (ret)
			return ret;
		flags = le16_to_cpu((__force __le16)desc.flags);
		len = le32_to_cpu((__force __le32)desc.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect || !len || len % sizeof(desc))
				return -EINVAL;
			indirect = true;
			table = le64_to_cpu((__force __le64)desc.addr);
			max = min_t(u32, len / sizeof(desc), vq->num);
			i = 0;
			seen = 0;
			continue;
		}
		if (flags & VRING_DESC_F_WRITE) {
			if (!cmd->has_ack && len) {
				cmd->ack = le64_to_cpu((__force __le64)desc.addr);
				cmd->has_ack = true;
			}
		} else if (cmd->has_ack) {
			return -EINVAL;
		} else if (len > VVP_CVQ_CMD_MAX - cmd->len) {
			cmd->too_long = true;
		} else if (!cmd->too_long) {
			ret = vvp_relay_access(d,
					       le64_to_cpu((__force __le64)desc.addr),
					       buf + cmd->len, len, false);
			if (ret)
				return ret;
			cmd->len += len;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = le16_to_cpu((__force __le16)desc.next);
	}
	return cmd->has_ack ? 0 : -EINVAL;
}

/* What the device answers, from the function or in its place. */
static u8 vvp_relay_exec(struct vvp_dev *d, struct vvp_relay_cmd *cmd)
{
	struct virtio_net_ctrl_hdr *hdr = vvp_cvq_buf(d);
	struct virtio_net_ctrl_mq *mq = (void *)(hdr + 1);
	u16 pairs;
	int ret;

	if (cmd->too_long || cmd->len < sizeof(*hdr))
		return VIRTIO_NET_ERR;
	/* Pairs beyond those provisioned are not the driver's to enable. */
	if (hdr->class == VIRTIO_NET_CTRL_MQ &&
	    hdr->cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
		if (cmd->len < sizeof(*hdr) + sizeof(*mq))
			return VIRTIO_NET_ERR;
		pairs = le16_to_cpu((__force __le16)mq->virtqueue_pairs);
		if (pairs < 1 || pairs > d->max_vqp)
			return VIRTIO_NET_ERR;
	}
	ret = vvp_cvq_exec(d, cmd->len);
	if (ret < 0) {
		dev_warn(&d->vdpa.dev, "control command %u.%u: the function did not answer: %d\n",
			 hdr->class, hdr->cmd, ret);
		d->failed = true;
		d->relay.on = false;
		return VIRTIO_NET_ERR;
	}
	return ret;
}

/* Put @cmd in the used ring and publish it. */
static int vvp_relay_complete(struct vvp_dev *d, struct vvp_vq *vq,
			      struct vvp_relay_cmd *cmd)
{
	struct vvp_relay *r = &d->relay;
	struct vring_used_elem elem = {
		.id = (__force __virtio32)cpu_to_le32(cmd->head),
		.len = (__force __virtio32)cpu_to_le32(1),
	};
	u64 used = vq->device;
	int ret;

	ret = vvp_relay_access(d, used + 4 + (r->used_idx % vq->num) *
			       sizeof(elem), &elem, sizeof(elem), true);
	if (ret)
		return ret;
	/* The element before the index that publishes it. */
	smp_wmb();
	return vvp_relay_write16(d, used + 2, ++r->used_idx);
}

/*
 * The ring looked empty: with EVENT_IDX, ask for a kick at the next
 * command (avail_event), then look again, as the driver publishes its
 * index before it reads ours.  1 if a command came meanwhile.
 */
static int vvp_relay_rearm(struct vvp_dev *d, struct vvp_vq *vq)
{
	u16 last = d->relay.last_avail, avail;
	int ret;

	if (!(d->driver_features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX)))
		return 0;
	ret = vvp_relay_write16(d, vq->device + 4 +
				vq->num * sizeof(struct vring_used_elem), last);
	if (ret)
		return ret;
	/* avail_event before the index: pairs with the driver's barrier. */
	smp_mb();
	ret = vvp_relay_read16(d, vq->driver + 2, &avail);
	return ret ? ret : avail != last;
}

static void vvp_relay_signal(struct vvp_vq *vq)
{
	unsigned long flags;

	spin_lock_irqsave(&vq->cb_lock, flags);
	if (vq->cb.callback)
		vq->cb.callback(vq->cb.private);
	spin_unlock_irqrestore(&vq->cb_lock, flags);
}

/* One command if the driver posted one: 1, 0 if none, or -errno. */
static int vvp_relay_one(struct vvp_dev *d, struct vvp_vq *vq)
{
	struct vvp_relay *r = &d->relay;
	struct vvp_relay_cmd cmd;
	u8 ack;
	u16 avail;
	int ret;

	ret = vvp_relay_read16(d, vq->driver + 2, &avail);
	if (ret || avail == r->last_avail)
		return ret;
	if ((u16)(avail - r->last_avail) > vq->num)
		return -EINVAL;
	/* The index before the entries it publishes. */
	smp_rmb();
	ret = vvp_relay_read16(d, vq->driver + 4 +
			       (r->last_avail % vq->num) * 2, &cmd.head);
	if (!ret)
		ret = vvp_relay_read_cmd(d, vq, &cmd);
	if (ret)
		return ret;
	ack = vvp_relay_exec(d, &cmd);
	ret = vvp_relay_access(d, cmd.ack, &ack, 1, true);
	if (ret)
		return ret;
	r->last_avail++;
	ret = vvp_relay_complete(d, vq, &cmd);
	if (ret)
		return ret;
	vvp_relay_signal(vq);
	return 1;
}

static void vvp_relay_work(struct work_struct *work)
{
	struct vvp_relay *r = container_of(work, struct vvp_relay, work);
	struct vvp_dev *d = container_of(r, struct vvp_dev, relay);
	struct vvp_vq *vq;
	int ret = 0;

	mutex_lock(&r->lock);
	vq = &d->vqs[r->idx];
	while (r->on && vq->ready) {
		ret = vvp_relay_one(d, vq);
		if (!ret)
			ret = vvp_relay_rearm(d, vq);
		if (ret <= 0)
			break;
		cond_resched();
	}
	if (ret < 0) {
		dev_warn_ratelimited(&d->vdpa.dev, "control queue %u: a bad ring or command (%d): the device needs a reset\n",
				     r->idx, ret);
		d->failed = true;
		r->on = false;
	}
	mutex_unlock(&r->lock);
}

/**
 * vvp_relay_init() - set up the relay of a device, at dev_add
 * @d: the device
 *
 * Context: process context.
 */
void vvp_relay_init(struct vvp_dev *d)
{
	mutex_init(&d->relay.lock);
	INIT_WORK(&d->relay.work, vvp_relay_work);
}

/**
 * vvp_relay_start() - relay queue @idx from now on (DRIVER_OK)
 * @d: the device, its control queue set up on the function
 * @idx: the driver's control queue
 *
 * Context: process context.
 */
void vvp_relay_start(struct vvp_dev *d, u16 idx)
{
	struct vvp_relay *r = &d->relay;

	mutex_lock(&r->lock);
	r->idx = idx;
	r->last_avail = 0;
	r->used_idx = 0;
	r->on = true;
	mutex_unlock(&r->lock);
	vvp_relay_kick(d);
}

/**
 * vvp_relay_kick() - the driver posted commands
 * @d: the device
 *
 * On an unbound worker: a kernel driver may spin for the answer on the
 * CPU that kicked.
 *
 * Context: any context.
 */
void vvp_relay_kick(struct vvp_dev *d)
{
	queue_work(system_unbound_wq, &d->relay.work);
}

/**
 * vvp_relay_stop() - stop relaying, after the command in flight (reset)
 * @d: the device
 *
 * Context: process context; sleeps up to a command's timeout.
 */
void vvp_relay_stop(struct vvp_dev *d)
{
	mutex_lock(&d->relay.lock);
	d->relay.on = false;
	mutex_unlock(&d->relay.lock);
	cancel_work_sync(&d->relay.work);
}
