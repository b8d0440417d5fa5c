// SPDX-License-Identifier: GPL-2.0
/*
 * Buffers for transmitted frames: page fragments carved from a few pages
 * that each transmit queue keeps and reuses.
 *
 * The copy from the driver's buffers overwrites a frame's buffer whole, so
 * it need not be zeroed; but every page the page allocator hands out is
 * (Debian enables init_on_alloc), and so is every kmalloc() buffer.  The
 * kernel's page fragment cache takes a new page whenever its page is used
 * up while some of its fragments are still in flight, which in a steady
 * stream is every time: profiled at 1500 B, clearing those pages took 13%
 * of the datapath thread.  A pool keeps up to MED_POOL_PAGES pages and
 * carves from the next one whose fragments have all come back, so a
 * steady stream allocates and clears no page at all.
 *
 * The page fragment cache's reference scheme, per page: the page holds
 * the pool's reserve of references (&med_pool_page.bias) plus one per
 * fragment in flight, which the frame's last put_page() drops.  Every
 * fragment has come back when the count equals the reserve.
 */

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/skbuff.h>

#include "mediator.h"

#define MED_POOL_ORDER		PAGE_ALLOC_COSTLY_ORDER
#define MED_POOL_SIZE		(PAGE_SIZE << MED_POOL_ORDER)
/* More references than a page has fragments. */
#define MED_POOL_BIAS		MED_POOL_SIZE

/*
 * Make the next page current: the next one whose fragments have all come
 * back, else a new one in the first empty slot.
 */
static struct med_pool_page *med_pool_next(struct med_pool *pool)
{
	struct med_pool_page *p, *empty = NULL;
	unsigned int i;

	for (i = 1; i <= MED_POOL_PAGES; i++) {
		p = &pool->pages[(pool->cur + i) % MED_POOL_PAGES];
		if (p->page && page_ref_count(p->page) == p->bias)
			goto found;
		if (!p->page && !empty)
			empty = p;
	}
	if (!empty)
		return NULL;
	p = empty;
	p->page = alloc_pages(GFP_NOIO | __GFP_COMP | __GFP_NOWARN |
			      __GFP_NORETRY, MED_POOL_ORDER);
	if (!p->page)
		return NULL;
	p->bias = 1;
found:
	page_ref_add(p->page, MED_POOL_BIAS - p->bias);
	p->bias = MED_POOL_BIAS;
	pool->cur = p - pool->pages;
	pool->offset = 0;
	return p;
}

/**
 * med_pool_skb() - a frame for the lower device, its buffer from the pool
 * @pool: the transmit queue's pool
 * @lower: the lower device
 * @len: the frame's length
 *
 * The frame's @len bytes are not initialised: the caller copies them.
 *
 * Context: the queue's datapath thread (the pool's only user).
 * Return: the frame, or NULL when @len does not fit in a pool page or no
 * page is free (the caller allocates otherwise).
 */
struct sk_buff *med_pool_skb(struct med_pool *pool, struct net_device *lower,
			     unsigned int len)
{
	unsigned int size = SKB_DATA_ALIGN(NET_SKB_PAD + len) +
			    SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	struct med_pool_page *p = &pool->pages[pool->cur];
	struct sk_buff *skb;
	void *data;

	if (size > MED_POOL_SIZE)
		return NULL;
	if (!p->page || pool->offset + size > MED_POOL_SIZE) {
		p = med_pool_next(pool);
		if (!p)
			return NULL;
	}
	data = page_address(p->page) + pool->offset;
	skb = build_skb(data, size);
	if (!skb)
		return NULL;
	/* The fragment takes one of the reserve's references. */
	pool->offset += size;
	p->bias--;
	skb_reserve(skb, NET_SKB_PAD);
	skb_put(skb, len);
	skb->dev = lower;
	return skb;
}

/**
 * med_pool_drain() - give the pool's pages back
 * @pool: the pool
 *
 * A page goes back to the page allocator when the last frame carved from
 * it is freed, maybe later.
 *
 * Context: process context; the pool's datapath thread does not use it.
 */
void med_pool_drain(struct med_pool *pool)
{
	unsigned int i;

	for (i = 0; i < MED_POOL_PAGES; i++) {
		struct med_pool_page *p = &pool->pages[i];

		if (p->page)
			__page_frag_cache_drain(p->page, p->bias);
		p->page = NULL;
	}
	pool->cur = 0;
	pool->offset = 0;
}
