// SPDX-License-Identifier: GPL-2.0
/*
 * Receive: frames of the lower device become used buffers of a receive
 * queue.
 *
 * The lower's rx handler (softirq) keeps the frames for the device: its
 * unicast address (taken from the host stack), broadcast and multicast (a
 * clone: the host stack keeps them too).  It queues them on the backlog of
 * one receive queue (the lower's receive queue or the flow hash, modulo the
 * pairs in use) and wakes the datapath thread, which copies each frame
 * once, from the frame straight into the driver's buffer, behind a
 * virtio-net header that carries its checksum and GSO state.  A GSO frame
 * the driver cannot take is segmented first.
 */

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/virtio_net.h>

#include "mediator.h"

/* Pick the receive queue of a frame. */
static u16 med_rx_pair(struct med_dev *med, struct sk_buff *skb)
{
	u16 pairs = max_t(u16, READ_ONCE(med->cur_vqp), 1);

	if (skb_rx_queue_recorded(skb))
		return skb_get_rx_queue(skb) % pairs;
	return skb_get_hash(skb) % pairs;
}

/**
 * med_rx_handler() - the lower device's rx handler
 * @pskb: the received frame
 *
 * Takes the frames for the device (see above and filter.c) and queues
 * them for the datapath thread.  A frame the device wants but cannot
 * queue is counted and dropped.  The device's MAC address is read without
 * a lock: a frame received while the driver changes it is filtered by the
 * old or the new one.
 *
 * Context: softirq, RCU read side (the lower's receive path).
 * Return: RX_HANDLER_CONSUMED for a unicast frame of the device's
 * addresses, else RX_HANDLER_PASS.
 */
rx_handler_result_t med_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct med_lower *lower = rcu_dereference(skb->dev->rx_handler_data);
	struct med_dev *med = rcu_dereference(lower->med);
	struct med_queue *q;
	bool take;
	u16 pair;

	if (!med || skb->pkt_type == PACKET_LOOPBACK ||
	    !med_filter_wants(med, eth_hdr(skb)->h_dest, &take))
		return RX_HANDLER_PASS;
	pair = med_rx_pair(med, skb);
	q = &med->rxq[pair];
	if (!(READ_ONCE(med->sim.status) & VIRTIO_CONFIG_S_DRIVER_OK)) {
		med_count_drop(q, MED_DROP_NOT_RUNNING);
		goto done;
	}
	if (skb_queue_len(&q->backlog) >= MED_RX_BACKLOG) {
		med_count_drop(q, MED_DROP_BACKLOG);
		goto done;
	}
	skb = take ? skb_share_check(skb, GFP_ATOMIC) :
		     skb_clone(skb, GFP_ATOMIC);
	if (!skb) {
		med_count_drop(q, MED_DROP_NOMEM);
		return take ? RX_HANDLER_CONSUMED : RX_HANDLER_PASS;
	}
	/*
	 * A frame from a local sender (veth) stops charging its socket: a
	 * backlog the driver does not drain must not block the sender.
	 */
	skb_orphan(skb);
	/* The driver gets the whole frame, from its Ethernet header on. */
	skb_push(skb, skb->data - skb_mac_header(skb));
	skb_queue_tail(&q->backlog, skb);
	vdpa_sw_schedule_vq(&med->sim, 2 * pair);
	return take ? RX_HANDLER_CONSUMED : RX_HANDLER_PASS;

done:
	if (!take)
		return RX_HANDLER_PASS;
	kfree_skb(skb);
	return RX_HANDLER_CONSUMED;
}

/* Whether the driver takes GSO frames of @skb's kind as they are. */
static bool med_rx_gso_ok(struct vdpa_sw *sim, struct sk_buff *skb)
{
	unsigned int type = skb_shinfo(skb)->gso_type;

	if (type & ~(SKB_GSO_TCPV4 | SKB_GSO_TCPV6 | SKB_GSO_TCP_ECN |
		     SKB_GSO_DODGY))
		return false;
	if ((type & SKB_GSO_TCP_ECN) &&
	    !vdpa_sw_has_feature(sim, VIRTIO_NET_F_GUEST_ECN))
		return false;
	if (type & SKB_GSO_TCPV4)
		return vdpa_sw_has_feature(sim, VIRTIO_NET_F_GUEST_TSO4);
	return vdpa_sw_has_feature(sim, VIRTIO_NET_F_GUEST_TSO6);
}

/*
 * Make @skb a frame the driver can take: segmented when it cannot take the
 * GSO frame (the segments go back to the head of the backlog), VLAN tag in
 * the frame, checksum resolved when the driver takes no partial checksum.
 * Returns the frame, or NULL when it was segmented or dropped.
 */
static struct sk_buff *med_rx_prepare(struct med_dev *med, struct med_queue *q,
				      struct sk_buff *skb)
{
	struct vdpa_sw *sim = &med->sim;
	bool csum = vdpa_sw_has_feature(sim, VIRTIO_NET_F_GUEST_CSUM);
	struct sk_buff *segs, *next;
	struct sk_buff_head list;
	unsigned long flags;

	if (skb_vlan_tag_present(skb)) {
		skb = __vlan_hwaccel_push_inside(skb);
		if (!skb)
			goto nomem;
	}
	if (skb_is_gso(skb) && !med_rx_gso_ok(sim, skb)) {
		segs = __skb_gso_segment(skb, NETIF_F_SG |
					 (csum ? NETIF_F_HW_CSUM : 0), false);
		if (IS_ERR_OR_NULL(segs))
			goto drop;
		consume_skb(skb);
		__skb_queue_head_init(&list);
		skb_list_walk_safe(segs, skb, next) {
			skb_mark_not_on_list(skb);
			__skb_queue_tail(&list, skb);
		}
		/* The rx handler adds to the tail meanwhile. */
		spin_lock_irqsave(&q->backlog.lock, flags);
		skb_queue_splice(&list, &q->backlog);
		spin_unlock_irqrestore(&q->backlog.lock, flags);
		return NULL;
	}
	if (skb->ip_summed == CHECKSUM_PARTIAL && !csum &&
	    skb_checksum_help(skb))
		goto drop;
	return skb;

drop:
	kfree_skb(skb);
nomem:
	med_count_drop(q, MED_DROP_NOMEM);
	return NULL;
}

/* Copy the frame, after its header, into the chains taken for it. */
static int med_rx_copy(struct vdpa_sw_virtqueue *vq, struct sk_buff *skb)
{
	struct skb_seq_state st;
	unsigned int done = 0;
	const u8 *data;
	unsigned int n;
	ssize_t ret;

	skb_prepare_seq_read(skb, 0, skb->len, &st);
	while ((n = skb_seq_read(done, &data, &st))) {
		ret = vdpa_sw_push_bufs(vq, data, n);
		if (ret != n) {
			skb_abort_seq_read(&st);
			return ret < 0 ? ret : -EFAULT;
		}
		done += n;
	}
	return 0;
}

/*
 * Deliver @skb: into one chain, or as many as it fills with mergeable
 * buffers.  Returns 1 if it was delivered, 0 if it was dropped (the chains
 * stay available), -ENOBUFS if the ring has too few chains yet (those taken
 * are held for it), or another negative errno if the ring is broken or
 * driver memory is not reachable.
 */
static int med_rx_one(struct med_dev *med, struct vdpa_sw_virtqueue *vq,
		      struct med_queue *q, struct sk_buff *skb)
{
	struct vdpa_sw *sim = &med->sim;
	struct virtio_net_hdr_mrg_rxbuf hdr = {};
	bool mrg = vdpa_sw_has_feature(sim, VIRTIO_NET_F_MRG_RXBUF);
	size_t len = MED_HDR_LEN + skb->len;
	ssize_t ret;

	if (virtio_net_hdr_from_skb(skb, &hdr.hdr,
				    vdpa_sw_is_little_endian(sim),
				    vdpa_sw_has_feature(sim,
							VIRTIO_NET_F_GUEST_CSUM),
				    0)) {
		med_count_drop(q, MED_DROP_BAD_HEADER);
		return 0;
	}
	ret = vdpa_sw_vq_get_bufs(sim, vq, len, mrg ? vq->num : 1);
	if (ret == -EMSGSIZE || ret == -ENOMEM) {
		med_count_drop(q, ret == -ENOMEM ? MED_DROP_NOMEM :
						   MED_DROP_TOO_LONG);
		return 0;
	}
	if (ret <= 0)
		return ret ? ret : -ENOBUFS;
	hdr.num_buffers = cpu_to_vdpa_sw16(sim, ret);
	ret = vdpa_sw_push_bufs(vq, &hdr, sizeof(hdr));
	if (ret != sizeof(hdr))
		return ret < 0 ? ret : -EFAULT;
	ret = med_rx_copy(vq, skb);
	if (ret)
		return ret;
	ret = vdpa_sw_vq_put_bufs(sim, vq, len);
	if (ret)
		return ret;
	vq->stats.bytes += skb->len;
	vq->stats.frames++;
	return 1;
}

/**
 * med_rx() - serve a receive queue
 * @med: the device
 * @vq: its receive queue of pair @pair
 * @pair: the queue pair
 * @budget: most frames to deliver
 *
 * Context: the queue pair's datapath thread, with &vdpa_sw.lock held for
 * reading.
 * Return: frames served (fewer than @budget when the driver has no buffer
 * for the next one), %VDPA_SW_VQ_IDLE when the backlog is empty, or a
 * negative errno if the ring is broken.
 */
int med_rx(struct med_dev *med, struct vdpa_sw_virtqueue *vq, u16 pair,
	   unsigned int budget)
{
	struct med_queue *q = &med->rxq[pair];
	struct sk_buff *skb;
	unsigned int n = 0;
	int ret;

	while (n < budget) {
		skb = skb_dequeue(&q->backlog);
		if (!skb)
			return VDPA_SW_VQ_IDLE;
		skb = med_rx_prepare(med, q, skb);
		if (!skb)
			continue;
		ret = med_rx_one(med, vq, q, skb);
		if (ret == -ENOBUFS) {
			/* Too few buffers yet: the driver's kick serves it. */
			skb_queue_head(&q->backlog, skb);
			return n;
		}
		if (ret <= 0)
			kfree_skb(skb);
		else
			consume_skb(skb);
		if (ret < 0)
			return ret;
		n++;
	}
	return n;
}

/**
 * med_rx_purge() - drop the frames waiting for the driver
 * @med: the device
 *
 * At reset and when the device goes: the frames are counted as dropped
 * because the device is not running.
 *
 * Context: process context.
 */
void med_rx_purge(struct med_dev *med)
{
	struct sk_buff *skb;
	u16 i;

	for (i = 0; i < med->max_vqp; i++) {
		while ((skb = skb_dequeue(&med->rxq[i].backlog))) {
			med_count_drop(&med->rxq[i], MED_DROP_NOT_RUNNING);
			kfree_skb(skb);
		}
	}
}
