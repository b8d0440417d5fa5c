// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_vdpa: a virtio transport on top of vDPA devices.
 *
 * Every vDPA device bound to this driver becomes a virtio device on the
 * virtio bus, so the kernel's own virtio drivers (virtio_net, virtio_blk,
 * ...) can drive it.  The virtio_config_ops below translate each virtio
 * transport call into the matching struct vdpa_config_ops call; the
 * virtqueues are ordinary split (or packed) rings from virtio_ring.ko whose
 * addresses are handed to the vDPA parent.
 */

#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vdpa.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define VIRTIO_VDPA_DRV_NAME "virtio_vdpa"

/**
 * struct virtio_vdpa_vq - transport state of one virtqueue
 * @vq: the virtqueue created by vring_create_virtqueue()
 * @affinity: CPU mask the virtio driver asked for (empty: none asked)
 * @irq: the parent's interrupt for this queue, or a negative value
 */
struct virtio_vdpa_vq {
	struct virtqueue *vq;
	cpumask_var_t affinity;
	int irq;
};

/**
 * struct virtio_vdpa_device - a virtio device backed by a vDPA device
 * @vdev: the virtio device registered on the virtio bus
 * @vdpa: the vDPA device it is bound to
 * @nvqs: number of entries in @vqs (the vDPA device's nvqs)
 * @vqs: per queue index state, NULL where no queue was created
 *
 * Locking: @vqs is written by find_vqs/del_vqs and read by the affinity
 * ops.  The virtio core and its drivers call all of them from the driver's
 * probe, remove, freeze/restore and configuration paths, which the driver
 * serialises against each other (the virtio core holds the device lock for
 * probe/remove; drivers hold their own lock, e.g. RTNL, when changing the
 * affinity), so the array needs no lock of its own.  The interrupt path
 * does not use @vqs: each callback carries its virtqueue directly.
 */
struct virtio_vdpa_device {
	struct virtio_device vdev;
	struct vdpa_device *vdpa;
	u32 nvqs;
	struct virtio_vdpa_vq **vqs;
};

static struct virtio_vdpa_device *to_vd_dev(struct virtio_device *vdev)
{
	return container_of(vdev, struct virtio_vdpa_device, vdev);
}

static struct vdpa_device *to_vdpa(struct virtio_device *vdev)
{
	return to_vd_dev(vdev)->vdpa;
}

static void virtio_vdpa_get(struct virtio_device *vdev, unsigned int offset,
			    void *buf, unsigned int len)
{
	vdpa_get_config(to_vdpa(vdev), offset, buf, len);
}

static void virtio_vdpa_set(struct virtio_device *vdev, unsigned int offset,
			    const void *buf, unsigned int len)
{
	vdpa_set_config(to_vdpa(vdev), offset, buf, len);
}

static u32 virtio_vdpa_generation(struct virtio_device *vdev)
{
	struct vdpa_device *vdpa = to_vdpa(vdev);
	const struct vdpa_config_ops *ops = vdpa->config;

	if (!ops->get_generation)
		return 0;
	return ops->get_generation(vdpa);
}

static u8 virtio_vdpa_get_status(struct virtio_device *vdev)
{
	struct vdpa_device *vdpa = to_vdpa(vdev);

	return vdpa->config->get_status(vdpa);
}

static void virtio_vdpa_set_status(struct virtio_device *vdev, u8 status)
{
	vdpa_set_status(to_vdpa(vdev), status);
}

static void virtio_vdpa_reset(struct virtio_device *vdev)
{
	struct vdpa_device *vdpa = to_vdpa(vdev);
	int ret;

	ret = vdpa_reset(vdpa);
	if (ret)
		dev_err(&vdev->dev, "vDPA device reset failed: %d\n", ret);
}

static bool virtio_vdpa_notify(struct virtqueue *vq)
{
	struct vdpa_device *vdpa = to_vdpa(vq->vdev);

	vdpa->config->kick_vq(vdpa, vq->index);
	return true;
}

static irqreturn_t virtio_vdpa_vq_cb(void *private)
{
	return vring_interrupt(0, private);
}

static irqreturn_t virtio_vdpa_config_cb(void *private)
{
	struct virtio_vdpa_device *vd_dev = private;

	virtio_config_changed(&vd_dev->vdev);
	return IRQ_HANDLED;
}

static void virtio_vdpa_set_config_cb(struct virtio_vdpa_device *vd_dev,
				      bool on)
{
	struct vdpa_device *vdpa = vd_dev->vdpa;
	struct vdpa_callback cb = {};

	if (on) {
		cb.callback = virtio_vdpa_config_cb;
		cb.private = vd_dev;
	}
	vdpa->config->set_config_cb(vdpa, &cb);
}

/*
 * Hand the ring of @vq to the parent: callback, size, addresses, initial
 * state, then mark the queue ready.
 */
static int virtio_vdpa_enable_vq(struct virtio_vdpa_device *vd_dev,
				 struct virtqueue *vq, bool has_callback)
{
	struct vdpa_device *vdpa = vd_dev->vdpa;
	const struct vdpa_config_ops *ops = vdpa->config;
	struct vdpa_callback cb = {};
	struct vdpa_vq_state state = {};
	u16 index = vq->index;
	int ret;

	if (has_callback) {
		cb.callback = virtio_vdpa_vq_cb;
		cb.private = vq;
	}
	ops->set_vq_cb(vdpa, index, &cb);
	ops->set_vq_num(vdpa, index, virtqueue_get_vring_size(vq));

	ret = ops->set_vq_address(vdpa, index, virtqueue_get_desc_addr(vq),
				  virtqueue_get_avail_addr(vq),
				  virtqueue_get_used_addr(vq));
	if (ret) {
		dev_err(&vd_dev->vdev.dev,
			"vq %u: parent refused the ring addresses: %d\n",
			index, ret);
		return ret;
	}

	/* A fresh ring starts at index 0; packed rings at wrap counter 1. */
	if (virtio_has_feature(&vd_dev->vdev, VIRTIO_F_RING_PACKED)) {
		state.packed.last_avail_counter = 1;
		state.packed.last_used_counter = 1;
	}
	ret = ops->set_vq_state(vdpa, index, &state);
	if (ret) {
		dev_err(&vd_dev->vdev.dev,
			"vq %u: parent refused the initial state: %d\n",
			index, ret);
		return ret;
	}

	ops->set_vq_ready(vdpa, index, 1);
	return 0;
}

static void virtio_vdpa_disable_vq(struct vdpa_device *vdpa, u16 index)
{
	const struct vdpa_config_ops *ops = vdpa->config;
	struct vdpa_callback cb = {};

	ops->set_vq_ready(vdpa, index, 0);
	ops->set_vq_cb(vdpa, index, &cb);
}

static struct virtio_vdpa_vq *virtio_vdpa_alloc_vq_info(struct vdpa_device *vdpa,
							u16 index)
{
	const struct vdpa_config_ops *ops = vdpa->config;
	struct virtio_vdpa_vq *info;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return NULL;
	if (!zalloc_cpumask_var(&info->affinity, GFP_KERNEL)) {
		kfree(info);
		return NULL;
	}
	info->irq = ops->get_vq_irq ? ops->get_vq_irq(vdpa, index) : -ENOENT;
	return info;
}

static void virtio_vdpa_free_vq_info(struct virtio_vdpa_vq *info)
{
	if (info->irq >= 0)
		irq_update_affinity_hint(info->irq, NULL);
	free_cpumask_var(info->affinity);
	kfree(info);
}

static struct virtqueue *
virtio_vdpa_setup_vq(struct virtio_vdpa_device *vd_dev, u16 index,
		     vq_callback_t *callback, const char *name, bool ctx)
{
	struct vdpa_device *vdpa = vd_dev->vdpa;
	const struct vdpa_config_ops *ops = vdpa->config;
	struct device *dev = &vd_dev->vdev.dev;
	struct virtio_vdpa_vq *info;
	struct virtqueue *vq;
	u16 max_num, min_num;
	int ret;

	if (ops->get_vq_ready(vdpa, index)) {
		dev_err(dev, "vq %u is already in use\n", index);
		return ERR_PTR(-EBUSY);
	}

	max_num = ops->get_vq_num_max(vdpa);
	min_num = ops->get_vq_num_min ? ops->get_vq_num_min(vdpa) : 1;
	if (!max_num || !min_num || min_num > max_num) {
		dev_err(dev, "vq %u: bad queue size limits %u..%u\n",
			index, min_num, max_num);
		return ERR_PTR(-EINVAL);
	}

	info = virtio_vdpa_alloc_vq_info(vdpa, index);
	if (!info)
		return ERR_PTR(-ENOMEM);

	vq = vring_create_virtqueue(index, max_num, ops->get_vq_align(vdpa),
				    &vd_dev->vdev, true, max_num != min_num,
				    ctx, virtio_vdpa_notify, callback, name);
	if (!vq) {
		dev_err(dev, "vq %u: cannot allocate a ring of %u entries\n",
			index, max_num);
		ret = -ENOMEM;
		goto err_info;
	}
	if (virtqueue_get_vring_size(vq) < min_num) {
		dev_err(dev, "vq %u: ring of %u entries is below the minimum %u\n",
			index, virtqueue_get_vring_size(vq), min_num);
		ret = -ENOMEM;
		goto err_vq;
	}
	vq->num_max = max_num;

	ret = virtio_vdpa_enable_vq(vd_dev, vq, !!callback);
	if (ret)
		goto err_disable;

	info->vq = vq;
	vd_dev->vqs[index] = info;
	return vq;

err_disable:
	virtio_vdpa_disable_vq(vdpa, index);
err_vq:
	vring_del_virtqueue(vq);
err_info:
	virtio_vdpa_free_vq_info(info);
	return ERR_PTR(ret);
}

static void virtio_vdpa_del_vq(struct virtio_vdpa_device *vd_dev,
			       struct virtqueue *vq)
{
	unsigned int index = vq->index;
	struct virtio_vdpa_vq *info;

	virtio_vdpa_disable_vq(vd_dev->vdpa, index);
	vring_del_virtqueue(vq);

	if (index < vd_dev->nvqs && vd_dev->vqs[index]) {
		info = vd_dev->vqs[index];
		vd_dev->vqs[index] = NULL;
		virtio_vdpa_free_vq_info(info);
	}
}

static void virtio_vdpa_del_vqs(struct virtio_device *vdev)
{
	struct virtio_vdpa_device *vd_dev = to_vd_dev(vdev);
	struct virtqueue *vq, *n;

	virtio_vdpa_set_config_cb(vd_dev, false);
	list_for_each_entry_safe(vq, n, &vdev->vqs, list)
		virtio_vdpa_del_vq(vd_dev, vq);
}

static int virtio_vdpa_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
				struct virtqueue *vqs[],
				vq_callback_t *callbacks[],
				const char * const names[], const bool *ctx,
				struct irq_affinity *desc)
{
	struct virtio_vdpa_device *vd_dev = to_vd_dev(vdev);
	unsigned int i, used = 0, index = 0;
	int ret;

	/* A NULL name marks a queue the driver does not use: no index. */
	for (i = 0; i < nvqs; i++)
		if (names[i])
			used++;
	if (used > vd_dev->nvqs) {
		dev_err(&vdev->dev, "driver wants %u vqs, device has %u\n",
			used, vd_dev->nvqs);
		return -EINVAL;
	}

	for (i = 0; i < nvqs; i++) {
		if (!names[i]) {
			vqs[i] = NULL;
			continue;
		}
		vqs[i] = virtio_vdpa_setup_vq(vd_dev, index++, callbacks[i],
					      names[i], ctx ? ctx[i] : false);
		if (IS_ERR(vqs[i])) {
			ret = PTR_ERR(vqs[i]);
			goto err;
		}
	}

	virtio_vdpa_set_config_cb(vd_dev, true);
	return 0;

err:
	virtio_vdpa_del_vqs(vdev);
	return ret;
}

static void virtio_vdpa_synchronize_cbs(struct virtio_device *vdev)
{
	struct virtio_vdpa_device *vd_dev = to_vd_dev(vdev);
	u32 i;

	/* Parents with real interrupts: wait for running handlers. */
	for (i = 0; i < vd_dev->nvqs; i++)
		if (vd_dev->vqs[i] && vd_dev->vqs[i]->irq >= 0)
			synchronize_irq(vd_dev->vqs[i]->irq);
	/* Everything else: the core's best-effort fallback. */
	synchronize_rcu();
}

static u64 virtio_vdpa_get_features(struct virtio_device *vdev)
{
	struct vdpa_device *vdpa = to_vdpa(vdev);

	return vdpa->config->get_device_features(vdpa);
}

static int virtio_vdpa_finalize_features(struct virtio_device *vdev)
{
	int ret;

	/* Keep only the transport bits this ring implementation knows. */
	vring_transport_features(vdev);

	ret = vdpa_set_features(to_vdpa(vdev), vdev->features);
	if (ret)
		dev_err(&vdev->dev, "vDPA device refused features %#llx: %d\n",
			vdev->features, ret);
	return ret;
}

static const char *virtio_vdpa_bus_name(struct virtio_device *vdev)
{
	return dev_name(&to_vdpa(vdev)->dev);
}

static int virtio_vdpa_set_vq_affinity(struct virtqueue *vq,
				       const struct cpumask *cpu_mask)
{
	struct virtio_vdpa_device *vd_dev = to_vd_dev(vq->vdev);
	struct virtio_vdpa_vq *info;

	if (vq->index >= vd_dev->nvqs || !vd_dev->vqs[vq->index])
		return -EINVAL;
	info = vd_dev->vqs[vq->index];

	if (cpu_mask)
		cpumask_copy(info->affinity, cpu_mask);
	else
		cpumask_clear(info->affinity);

	/* Only a parent with a real interrupt can route it. */
	if (info->irq >= 0)
		irq_update_affinity_hint(info->irq,
					 cpu_mask ? info->affinity : NULL);
	return 0;
}

static const struct cpumask *
virtio_vdpa_get_vq_affinity(struct virtio_device *vdev, int index)
{
	struct virtio_vdpa_device *vd_dev = to_vd_dev(vdev);
	struct virtio_vdpa_vq *info;

	if (index < 0 || index >= vd_dev->nvqs)
		return NULL;
	info = vd_dev->vqs[index];
	if (!info || cpumask_empty(info->affinity))
		return NULL;
	return info->affinity;
}

static const struct virtio_config_ops virtio_vdpa_config_ops = {
	.get		= virtio_vdpa_get,
	.set		= virtio_vdpa_set,
	.generation	= virtio_vdpa_generation,
	.get_status	= virtio_vdpa_get_status,
	.set_status	= virtio_vdpa_set_status,
	.reset		= virtio_vdpa_reset,
	.find_vqs	= virtio_vdpa_find_vqs,
	.del_vqs	= virtio_vdpa_del_vqs,
	.synchronize_cbs = virtio_vdpa_synchronize_cbs,
	.get_features	= virtio_vdpa_get_features,
	.finalize_features = virtio_vdpa_finalize_features,
	.bus_name	= virtio_vdpa_bus_name,
	.set_vq_affinity = virtio_vdpa_set_vq_affinity,
	.get_vq_affinity = virtio_vdpa_get_vq_affinity,
};

static void virtio_vdpa_release_dev(struct device *dev)
{
	struct virtio_device *vdev = dev_to_virtio(dev);
	struct virtio_vdpa_device *vd_dev = to_vd_dev(vdev);

	kfree(vd_dev->vqs);
	kfree(vd_dev);
}

static int virtio_vdpa_probe(struct vdpa_device *vdpa)
{
	const struct vdpa_config_ops *ops = vdpa->config;
	struct virtio_vdpa_device *vd_dev;
	u32 device_id;
	int ret;

	device_id = ops->get_device_id(vdpa);
	if (!device_id) {
		dev_err(&vdpa->dev, "no virtio device id, not binding\n");
		return -ENODEV;
	}
	if (!vdpa_get_dma_dev(vdpa)) {
		dev_err(&vdpa->dev, "no DMA device, not binding\n");
		return -ENODEV;
	}

	vd_dev = kzalloc(sizeof(*vd_dev), GFP_KERNEL);
	if (!vd_dev)
		return -ENOMEM;
	vd_dev->vqs = kcalloc(min_t(u32, vdpa->nvqs, U16_MAX + 1),
			      sizeof(*vd_dev->vqs), GFP_KERNEL);
	if (!vd_dev->vqs) {
		kfree(vd_dev);
		return -ENOMEM;
	}
	/* The vDPA ops address queues with a u16. */
	vd_dev->nvqs = min_t(u32, vdpa->nvqs, U16_MAX + 1);
	vd_dev->vdpa = vdpa;

	/* virtio_ring maps its rings and buffers through the parent. */
	vd_dev->vdev.dev.parent = vdpa_get_dma_dev(vdpa);
	vd_dev->vdev.dev.release = virtio_vdpa_release_dev;
	vd_dev->vdev.config = &virtio_vdpa_config_ops;
	vd_dev->vdev.id.device = device_id;
	vd_dev->vdev.id.vendor = ops->get_vendor_id(vdpa);

	vdpa_set_drvdata(vdpa, vd_dev);
	ret = register_virtio_device(&vd_dev->vdev);
	if (ret) {
		dev_err(&vdpa->dev, "cannot register virtio device: %d\n",
			ret);
		vdpa_set_drvdata(vdpa, NULL);
		/* The device is initialised now: the release frees it. */
		put_device(&vd_dev->vdev.dev);
		return ret;
	}
	return 0;
}

static void virtio_vdpa_remove(struct vdpa_device *vdpa)
{
	struct virtio_vdpa_device *vd_dev = vdpa_get_drvdata(vdpa);

	unregister_virtio_device(&vd_dev->vdev);
	vdpa_set_drvdata(vdpa, NULL);
}

static struct vdpa_driver virtio_vdpa_driver = {
	.driver = {
		.name	= VIRTIO_VDPA_DRV_NAME,
	},
	.probe	= virtio_vdpa_probe,
	.remove	= virtio_vdpa_remove,
};

module_vdpa_driver(virtio_vdpa_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("virtio transport for vDPA devices");
