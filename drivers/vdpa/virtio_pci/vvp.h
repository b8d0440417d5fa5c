/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vdpa_virtio_pci: a virtio-pci function (modern or legacy) as a vDPA
 * device.  Shared between the PCI driver (main.c), the vDPA operations
 * (vdpa.c), the function's control queue (cvq.c) and the relay of the
 * driver's (relay.c), the two register layouts (modern.c, legacy.c) and
 * the quirk table (quirks.c).
 */
#ifndef _VVP_H
#define _VVP_H

#include <linux/if_ether.h>
#include <linux/interrupt.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/vdpa.h>
#include <linux/virtio_pci_legacy.h>
#include <linux/virtio_pci_modern.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_net.h>

/* Queues a function may have: rx/tx for 128 pairs and a control queue. */
#define VVP_MAX_VQS		257

/* Deviations from the virtio spec, from the quirk table or quirks=. */
#define VVP_Q_LEGACY		BIT(0)	/* use the 0.9.5 interface */
#define VVP_Q_MRG_RXBUF		BIT(1)	/* fails unless MRG_RXBUF is used */
#define VVP_Q_FIXED_QSIZE	BIT(2)	/* queue size cannot be changed */
#define VVP_Q_NO_DOORBELL_MMAP	BIT(3)	/* doorbells unsafe to map */

/* What a virtio-net driver cannot use without a control queue. */
#define VVP_NET_CVQ_FEATURES	(BIT_ULL(VIRTIO_NET_F_CTRL_VQ) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_RX) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_RX_EXTRA) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_VLAN) | \
				 BIT_ULL(VIRTIO_NET_F_GUEST_ANNOUNCE) | \
				 BIT_ULL(VIRTIO_NET_F_MQ) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
				 BIT_ULL(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | \
				 BIT_ULL(VIRTIO_NET_F_RSS) | \
				 BIT_ULL(VIRTIO_NET_F_HASH_REPORT) | \
				 BIT_ULL(VIRTIO_NET_F_NOTF_COAL))

struct vvp;

/**
 * struct vvp_transport - one register layout of virtio-pci
 * @name: "modern" or "legacy", for messages
 * @probe: map the registers; 0 or -errno (-ENODEV: not this layout)
 * @remove: undo @probe
 * @get_features: the device's feature bits
 * @set_features: write the driver's feature bits
 * @get_status: read the device status
 * @set_status: write the device status (0 resets)
 * @num_queues: how many queues the device has
 * @queue_max: the most entries queue @idx takes
 * @setup_queue: program queue @idx (size, addresses, MSI-X vector) and
 *	enable it; 0 or -errno
 * @config_vector: program the config-change MSI-X vector; 0 or -errno
 * @config_base: the device-specific config space (moves for legacy)
 * @config_len: its length
 * @generation: the config generation counter
 * @map_notify: the doorbell of queue @idx, and its physical address
 * @unmap_notify: undo @map_notify
 */
struct vvp_transport {
	const char *name;
	int (*probe)(struct vvp *vp);
	void (*remove)(struct vvp *vp);
	u64 (*get_features)(struct vvp *vp);
	void (*set_features)(struct vvp *vp, u64 features);
	u8 (*get_status)(struct vvp *vp);
	void (*set_status)(struct vvp *vp, u8 status);
	u16 (*num_queues)(struct vvp *vp);
	u16 (*queue_max)(struct vvp *vp, u16 idx);
	int (*setup_queue)(struct vvp *vp, u16 idx, u32 num, u64 desc,
			   u64 driver, u64 device, u16 vector);
	int (*config_vector)(struct vvp *vp, u16 vector);
	void __iomem *(*config_base)(struct vvp *vp);
	size_t (*config_len)(struct vvp *vp);
	u32 (*generation)(struct vvp *vp);
	void __iomem *(*map_notify)(struct vvp *vp, u16 idx,
				    resource_size_t *pa);
	void (*unmap_notify)(struct vvp *vp, void __iomem *addr);
};

extern const struct vvp_transport vvp_modern;
extern const struct vvp_transport vvp_legacy;

/**
 * struct vvp_vq - one virtqueue as the vDPA driver set it up
 * @desc: descriptor area address
 * @driver: driver (avail) area address
 * @device: device (used) area address
 * @num: entries
 * @ready: the driver enabled it
 * @cb: the driver's interrupt callback; under @cb_lock, which the
 *	interrupt handler takes
 * @cb_lock: protects @cb
 * @irq: its interrupt while DRIVER_OK, or -1
 * @irq_name: the name of @irq in /proc/interrupts
 */
struct vvp_vq {
	u64 desc;
	u64 driver;
	u64 device;
	u32 num;
	bool ready;
	struct vdpa_callback cb;
	spinlock_t cb_lock;	/* protects cb */
	int irq;
	char irq_name[32];
};

/* The longest command the adapter passes on, header included. */
#define VVP_CVQ_CMD_MAX		2048

/**
 * struct vvp_cvq - the function's control queue, when the adapter uses it
 * @ring: ring, command and answer (coherent DMA memory), or NULL
 * @ring_dma: their DMA address
 * @size: their size, whole pages
 * @domain: the user's IOMMU domain the ring is mapped in, or NULL
 * @base: the ring's address for the function: @ring_dma, or its IOVA
 *	in @domain
 * @num: ring entries
 * @hw_idx: the queue's index on the function
 * @avail_idx: commands posted since the last start
 */
struct vvp_cvq {
	void *ring;
	dma_addr_t ring_dma;
	size_t size;
	struct iommu_domain *domain;
	u64 base;
	u16 num;
	u16 hw_idx;
	u16 avail_idx;
};

/**
 * enum vvp_cvq_mode - how the driver's control queue is served
 * @VVP_CVQ_NONE: the driver has none
 * @VVP_CVQ_PASS: it is the function's own (the same size as the data
 *	queues, and no MAC provisioned)
 * @VVP_CVQ_RELAY: the adapter relays its commands (relay.c)
 */
enum vvp_cvq_mode {
	VVP_CVQ_NONE,
	VVP_CVQ_PASS,
	VVP_CVQ_RELAY,
};

/**
 * struct vvp_relay - the driver's control queue when relayed
 * @lock: protects the fields below while DRIVER_OK; held across a
 *	command, so a reset waits for the one in flight
 * @work: runs the commands
 * @on: relaying (from DRIVER_OK to reset, or a fault)
 * @idx: the driver's control queue
 * @last_avail: the next available entry to take
 * @used_idx: the used ring's index
 */
struct vvp_relay {
	struct mutex lock;	/* serializes the commands with start and reset */
	struct work_struct work;
	bool on;
	u16 idx;
	u16 last_avail;
	u16 used_idx;
};

/**
 * struct vvp_dev - the vDPA device made of a function
 * @vdpa: the vDPA device; must stay the first member
 * @vp: the function; the vDPA core calls no operation but free after
 *	unregistration, so it outlives every use
 * @vqs: the @nvqs queues the driver sees
 * @nvqs: queues presented: data queues of @max_vqp pairs, then the
 *	control queue if the function has one the driver may use
 * @max_vqp: queue pairs presented (provisioned, or the function's)
 * @mtu: MTU presented in config space (0: the function's own)
 * @mac: MAC provisioned, set on the function through @cvq at each start
 * @cvq: the function's control queue, the adapter's when @mac is set or
 *	the driver's is relayed (its memory from the first start to dev_del)
 * @cvq_mode: how the driver's control queue is served, fixed when the
 *	driver writes its features
 * @relay: the driver's control queue, when relayed
 * @hw_features: features written to the function besides the driver's
 *	(CTRL_VQ and CTRL_MAC_ADDR when a MAC is provisioned)
 * @features: the features presented
 * @virt_features: of @features, those the adapter adds and the function
 *	never sees (VERSION_1 and ACCESS_PLATFORM on legacy, MTU when
 *	provisioned on a function without it)
 * @driver_features: what the driver wrote
 * @status: the status the driver wrote, as the driver sees it
 * @failed: DRIVER_OK could not be set up: NEEDS_RESET until reset
 * @config_cb: the driver's config-change callback, under @config_lock
 * @config_lock: protects @config_cb
 * @config_irq: the config-change interrupt while DRIVER_OK, or -1
 * @shared_irq: all queue callbacks share one interrupt (too few vectors)
 * @irqs_on: MSI-X vectors are allocated (from DRIVER_OK to reset)
 * @config_irq_name: the name of @config_irq in /proc/interrupts
 *
 * The vDPA drivers (virtio_vdpa, vhost_vdpa) serialize their calls of
 * the operations, except kick_vq, which their datapath calls at any time:
 * it reads only @status and @driver_features, which change while no kick
 * can come (the driver starts or resets the device).  The interrupt
 * handlers read nothing but the callbacks, under their locks.
 */
struct vvp_dev {
	struct vdpa_device vdpa;
	struct vvp *vp;
	struct vvp_vq *vqs;
	u16 nvqs;
	u16 max_vqp;
	u16 mtu;
	u8 mac[ETH_ALEN];
	struct vvp_cvq cvq;
	enum vvp_cvq_mode cvq_mode;
	struct vvp_relay relay;
	u64 hw_features;
	u64 features;
	u64 virt_features;
	u64 driver_features;
	u8 status;
	bool failed;
	struct vdpa_callback config_cb;
	spinlock_t config_lock;	/* protects config_cb */
	int config_irq;
	bool shared_irq;
	bool irqs_on;
	char config_irq_name[32];
};

/**
 * struct vvp - one PCI function driven by the adapter
 * @pdev: the function
 * @tp: its register layout
 * @modern: registers, modern layout
 * @legacy: registers, legacy layout
 * @quirks: VVP_Q_* flags that apply
 * @device_id: virtio device type (VIRTIO_ID_NET...)
 * @hw_nvqs: queues the function has
 * @hw_max_vqp: queue pairs the function has (net)
 * @cvq: index of its control queue when all pairs are used, or -1
 * @cvq_pass: the control queue is as large as the data queues: a driver
 *	may use it as its own
 * @qsize: the entries every presented queue takes at most
 * @hw_features: the function's own features
 * @features: the function's features, as presented (before provisioning)
 * @virt_features: of @features, those the function lacks and the adapter
 *	adds (VERSION_1 and ACCESS_PLATFORM for legacy)
 * @hw_extra_features: written to the function whatever the driver takes
 *	(ANY_LAYOUT for legacy: a VERSION_1 driver relies on it)
 * @notify: each queue's doorbell
 * @notify_pa: and its physical address
 * @page_per_vq: every doorbell sits alone on its page (mappable)
 * @mgmt: its management device, pci/<BDF>
 * @id_table: @mgmt's device type
 * @dev: the vDPA device made of it, or NULL; changed by dev_add/dev_del,
 *	which the vDPA core serializes
 */
struct vvp {
	struct pci_dev *pdev;
	const struct vvp_transport *tp;
	union {
		struct virtio_pci_modern_device modern;
		struct virtio_pci_legacy_device legacy;
	};
	u32 quirks;
	u32 device_id;
	u16 hw_nvqs;
	u16 hw_max_vqp;
	int cvq;
	bool cvq_pass;
	u16 qsize;
	u64 hw_features;
	u64 features;
	u64 virt_features;
	u64 hw_extra_features;
	void __iomem **notify;
	resource_size_t *notify_pa;
	bool page_per_vq;
	struct vdpa_mgmt_dev mgmt;
	struct virtio_device_id id_table[2];
	struct vvp_dev *dev;
};

static inline struct vvp_dev *vdpa_to_vvp(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vvp_dev, vdpa);
}

/* A provisioned MAC: the adapter sets it through the control queue. */
static inline bool vvp_owns_cvq(const struct vvp_dev *d)
{
	return d->hw_features & BIT_ULL(VIRTIO_NET_F_CTRL_VQ);
}

/* A modern function without ACCESS_PLATFORM: its DMA bypasses the IOMMU. */
static inline bool vvp_bypasses_iommu(const struct vvp *vp)
{
	return vp->tp == &vvp_modern &&
	       !(vp->hw_features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM));
}

u32 vvp_quirks(struct pci_dev *pdev);
void vvp_hw_reset(struct vvp *vp);
int vvp_dev_add(struct vdpa_mgmt_dev *mgmt, const char *name,
		const struct vdpa_dev_set_config *config);
void vvp_dev_del(struct vdpa_mgmt_dev *mgmt, struct vdpa_device *vdpa);

struct vdpa_iova_range vvp_cvq_iova_range(struct vvp_dev *d);
int vvp_cvq_setup(struct vvp_dev *d);
void vvp_cvq_stop(struct vvp_dev *d);
void vvp_cvq_free(struct vvp_dev *d);
void *vvp_cvq_buf(struct vvp_dev *d);
int vvp_cvq_exec(struct vvp_dev *d, size_t len);
int vvp_cvq_set_mac(struct vvp_dev *d, const u8 *mac);

void vvp_relay_init(struct vvp_dev *d);
void vvp_relay_start(struct vvp_dev *d, u16 idx);
void vvp_relay_kick(struct vvp_dev *d);
void vvp_relay_stop(struct vvp_dev *d);

#endif /* _VVP_H */
