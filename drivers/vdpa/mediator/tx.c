// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit: descriptor chains of a transmit queue become frames sent on the
 * lower device's transmit queue of the same pair (modulo its queues).
 *
 * One copy: from the driver's buffers straight into the frame.  The
 * virtio-net header becomes the frame's checksum and GSO state.  Frames go
 * out through the lower's queue directly, without its qdisc (as AF_PACKET's
 * qdisc bypass does): a stopped queue is back-pressure, the chain stays in
 * the ring and the queue is served again a jiffy later.  That path
 * (__dev_direct_xmit()) checksums in software for a lower without checksum
 * offload but drops a GSO frame the lower cannot take, so such frames are
 * segmented here first (ENA has no TSO).
 */

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/virtio_net.h>

#include "mediator.h"

/* Largest frame a chain may carry: a GSO frame of 64 KiB plus its header. */
#define MED_TX_MAX		(GSO_LEGACY_MAX_SIZE + VLAN_ETH_HLEN)
/* Frames up to this size are built in one linear buffer. */
#define MED_TX_LINEAR		SKB_MAX_ORDER(0, 2)
/* Linear part of a larger frame: room for its headers. */
#define MED_TX_HEAD		256

/*
 * A frame of @len bytes: from the queue's pool (pool.c) when it fits and
 * a page is free; else linear when small, page fragments otherwise.
 */
static struct sk_buff *med_tx_alloc(struct med_queue *q,
				    struct net_device *lower, size_t len)
{
	size_t linear = len <= MED_TX_LINEAR ? len : MED_TX_HEAD;
	struct sk_buff *skb;
	int err;

	skb = med_pool_skb(&q->pool, lower, len);
	if (skb)
		return skb;
	skb = alloc_skb_with_frags(linear, len - linear,
				   PAGE_ALLOC_COSTLY_ORDER, &err, GFP_NOIO);
	if (!skb)
		return NULL;
	skb_put(skb, linear);
	skb->data_len = len - linear;
	skb->len += len - linear;
	skb->dev = lower;
	return skb;
}

/* Copy the rest of the readable part of chain @i of the batch into @skb. */
static int med_tx_copy(struct vdpa_sw_virtqueue *vq, unsigned int i,
		       struct sk_buff *skb)
{
	unsigned int linear = skb_headlen(skb);
	ssize_t ret;
	int f;

	ret = vdpa_sw_batch_pull(vq, i, skb->data, linear);
	if (ret != linear)
		return ret < 0 ? ret : -EFAULT;
	for (f = 0; f < skb_shinfo(skb)->nr_frags; f++) {
		skb_frag_t *frag = &skb_shinfo(skb)->frags[f];

		ret = vdpa_sw_batch_pull(vq, i, skb_frag_address(frag),
					 skb_frag_size(frag));
		if (ret != skb_frag_size(frag))
			return ret < 0 ? ret : -EFAULT;
	}
	return 0;
}

/* Give @skb the checksum and GSO state the driver's header asks for. */
static int med_tx_offload(struct med_dev *med, struct sk_buff *skb,
			  const struct virtio_net_hdr_mrg_rxbuf *hdr)
{
	skb_reset_mac_header(skb);
	skb->protocol = eth_hdr(skb)->h_proto;
	skb_set_network_header(skb, ETH_HLEN);
	if (eth_type_vlan(skb->protocol))
		skb_set_network_header(skb, VLAN_ETH_HLEN);
	return virtio_net_hdr_to_skb(skb, &hdr->hdr,
				     vdpa_sw_is_little_endian(&med->sim));
}

/*
 * Send @skb on queue @lower_q of the lower device, segmented first when it
 * is a GSO frame the lower cannot take.  Consumes @skb; counts what the
 * lower did not take.
 */
static void med_tx_xmit(struct med_queue *q, struct sk_buff *skb,
			u16 lower_q)
{
	netdev_features_t features = netif_skb_features(skb);
	struct sk_buff *segs, *next;

	if (!skb_is_gso(skb) || !netif_needs_gso(skb, features)) {
		/* Frees the frame when the lower does not take it. */
		if (dev_direct_xmit(skb, lower_q) != NET_XMIT_SUCCESS)
			med_count_drop(q, MED_DROP_LOWER);
		return;
	}
	segs = skb_gso_segment(skb, features & ~NETIF_F_GSO_MASK);
	if (IS_ERR_OR_NULL(segs)) {
		kfree_skb(skb);
		med_count_drop(q, MED_DROP_BAD_HEADER);
		return;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		if (dev_direct_xmit(skb, lower_q) != NET_XMIT_SUCCESS)
			med_count_drop(q, MED_DROP_LOWER);
	}
}

/*
 * Send the frame of chain @i of the batch, or count why not.  Returns 0, or
 * a negative errno if driver memory is not reachable (the device then
 * needs a reset).
 */
static int med_tx_one(struct med_dev *med, struct vdpa_sw_virtqueue *vq,
		      unsigned int i, u16 pair, u16 lower_q)
{
	struct net_device *lower = med->lower->netdev;
	struct med_queue *q = &med->txq[pair];
	size_t total = vringh_kiov_length(&vq->batch->riov[i]);
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct sk_buff *skb;
	size_t len;
	ssize_t ret;

	if (total < MED_HDR_LEN + ETH_HLEN) {
		med_count_drop(q, MED_DROP_BAD_HEADER);
		return 0;
	}
	len = total - MED_HDR_LEN;
	if (len > MED_TX_MAX) {
		med_count_drop(q, MED_DROP_TOO_LONG);
		return 0;
	}
	ret = vdpa_sw_batch_pull(vq, i, &hdr, sizeof(hdr));
	if (ret != sizeof(hdr))
		return ret < 0 ? ret : -EFAULT;
	if (hdr.hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	    len > med->mtu + VLAN_ETH_HLEN) {
		med_count_drop(q, MED_DROP_TOO_LONG);
		return 0;
	}
	skb = med_tx_alloc(q, lower, len);
	if (!skb) {
		med_count_drop(q, MED_DROP_NOMEM);
		return 0;
	}
	ret = med_tx_copy(vq, i, skb);
	if (ret) {
		kfree_skb(skb);
		return ret;
	}
	if (med_tx_offload(med, skb, &hdr)) {
		kfree_skb(skb);
		med_count_drop(q, MED_DROP_BAD_HEADER);
		return 0;
	}
	if (!READ_ONCE(med->link_up)) {
		kfree_skb(skb);
		med_count_drop(q, MED_DROP_LINK_DOWN);
		return 0;
	}
	vq->stats.bytes += len;
	vq->stats.frames++;
	med_tx_xmit(q, skb, lower_q);
	return 0;
}

/**
 * med_tx_release() - give back what the transmit queues keep between frames
 * @med: the device
 *
 * Context: process context, with &vdpa_sw.lock held for writing (at
 * reset) or the datapath threads stopped.
 */
void med_tx_release(struct med_dev *med)
{
	u16 i;

	for (i = 0; i < med->max_vqp; i++)
		med_pool_drain(&med->txq[i].pool);
}

/*
 * Send the chains of a batch of @n, stopping early at a stopped lower queue
 * (*@stopped) or unreachable driver memory (the device then needs a reset:
 * reported here, since returning the chains done may overwrite the queue's
 * fault address and a stopped lower would hide the error).  Returns the
 * chains done, which the caller returns; it gives back the others.
 */
static unsigned int med_tx_batch(struct med_dev *med,
				 struct vdpa_sw_virtqueue *vq, unsigned int n,
				 u16 pair, u16 lower_q, int *err,
				 bool *stopped)
{
	struct netdev_queue *txq = netdev_get_tx_queue(med->lower->netdev,
						       lower_q);
	unsigned int i;

	*err = 0;
	for (i = 0; i < n; i++) {
		if (i && netif_xmit_frozen_or_drv_stopped(txq)) {
			*stopped = true;
			break;
		}
		*err = med_tx_one(med, vq, i, pair, lower_q);
		if (*err) {
			vdpa_sw_vq_error(&med->sim, vq, *err);
			break;
		}
	}
	return i;
}

/**
 * med_tx() - serve a transmit queue
 * @med: the device
 * @vq: its transmit queue of pair @pair
 * @pair: the queue pair
 * @budget: most chains to serve
 *
 * Takes the chains in batches (vdpa_sw_vq_get_batch()), sends them and
 * returns each batch with one update of the used ring.  A chain not sent
 * when the lower's queue stops stays available, as do the chains after
 * one whose memory is unreachable.
 *
 * Context: the queue pair's datapath thread, with &vdpa_sw.lock held for
 * reading.
 * Return: chains served, %VDPA_SW_VQ_IDLE while the lower's queue is
 * stopped, or a negative errno if the ring is broken.
 */
int med_tx(struct med_dev *med, struct vdpa_sw_virtqueue *vq, u16 pair,
	   unsigned int budget)
{
	struct net_device *lower = med->lower->netdev;
	u16 lower_q = pair % lower->real_num_tx_queues;
	struct netdev_queue *txq = netdev_get_tx_queue(lower, lower_q);
	struct vdpa_sw *sim = &med->sim;
	unsigned int served = 0, done;
	bool stopped = false;
	int ret = 0, err;

	while (served < budget) {
		if (netif_xmit_frozen_or_drv_stopped(txq)) {
			stopped = true;
			break;
		}
		ret = vdpa_sw_vq_get_batch(sim, vq, budget - served);
		if (ret <= 0)
			break;
		done = med_tx_batch(med, vq, ret, pair, lower_q, &err,
				    &stopped);
		ret = vdpa_sw_vq_put_batch(sim, vq, done);
		if (ret) {
			vdpa_sw_vq_error(sim, vq, ret);
			break;
		}
		served += done;
		if (err) {
			ret = err;
			break;
		}
		if (stopped)
			break;
	}
	if (stopped) {
		mod_timer(&med->tx_timer, jiffies + 1);
		return VDPA_SW_VQ_IDLE;
	}
	return ret < 0 ? ret : served;
}

/**
 * med_tx_timer() - a lower queue was stopped: serve the device again
 * @t: &med_dev.tx_timer
 *
 * Context: timer (softirq).
 */
void med_tx_timer(struct timer_list *t)
{
	struct med_dev *med = from_timer(med, t, tx_timer);

	vdpa_sw_schedule(&med->sim);
}
