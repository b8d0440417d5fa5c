// SPDX-License-Identifier: GPL-2.0
/*
 * irqbypass_test: an irq bypass consumer for tests, standing in for KVM's
 * irqfd.  A process writes the number of one of its eventfds, e.g. the
 * call eventfd it gave a virtqueue with VHOST_SET_VRING_CALL, to
 * /sys/kernel/debug/irqbypass_test/consumer; the consumer is registered
 * with that eventfd's context as its token, and so is connected to the
 * producer that vhost_vdpa registers for the same call eventfd, if any.
 * /sys/kernel/debug/irqbypass_test/state then reads
 * "irq N adds A dels D": the interrupt of the last producer connected
 * (-1 for none yet) and how often one was connected and disconnected
 * since the consumer was registered.  Writing "unregister" (or unloading
 * the module) unregisters the consumer and puts the eventfd.
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/eventfd.h>
#include <linux/irqbypass.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/string.h>

/*
 * ibt_lock serializes registration: ibt_consumer.token and ibt_ctx, which
 * are set and cleared only under it.  The manager calls add_producer and
 * del_producer under its own mutex, from inside irq_bypass_register_*()
 * and irq_bypass_unregister_*(), which ibt_lock may be holding: so the
 * callbacks must not take ibt_lock (that would invert the order) and keep
 * what they record in atomics instead.
 */
static DEFINE_MUTEX(ibt_lock);
static struct eventfd_ctx *ibt_ctx;
static atomic_t ibt_irq = ATOMIC_INIT(-1);
static atomic_t ibt_adds = ATOMIC_INIT(0);
static atomic_t ibt_dels = ATOMIC_INIT(0);
static struct dentry *ibt_dir;

static int ibt_add_producer(struct irq_bypass_consumer *cons,
			    struct irq_bypass_producer *prod)
{
	atomic_set(&ibt_irq, prod->irq);
	atomic_inc(&ibt_adds);
	return 0;
}

static void ibt_del_producer(struct irq_bypass_consumer *cons,
			     struct irq_bypass_producer *prod)
{
	atomic_inc(&ibt_dels);
}

static struct irq_bypass_consumer ibt_consumer = {
	.add_producer = ibt_add_producer,
	.del_producer = ibt_del_producer,
};

/* Unregister the consumer and put its eventfd; under ibt_lock. */
static void ibt_unregister(void)
{
	lockdep_assert_held(&ibt_lock);
	if (!ibt_ctx)
		return;
	irq_bypass_unregister_consumer(&ibt_consumer);
	ibt_consumer.token = NULL;
	eventfd_ctx_put(ibt_ctx);
	ibt_ctx = NULL;
}

/* Register the consumer on the caller's eventfd @fd; under ibt_lock. */
static int ibt_register(int fd)
{
	struct eventfd_ctx *ctx;
	int ret;

	lockdep_assert_held(&ibt_lock);
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	ibt_unregister();
	atomic_set(&ibt_irq, -1);
	atomic_set(&ibt_adds, 0);
	atomic_set(&ibt_dels, 0);
	ibt_consumer.token = ctx;
	ret = irq_bypass_register_consumer(&ibt_consumer);
	if (ret) {
		ibt_consumer.token = NULL;
		eventfd_ctx_put(ctx);
		return ret;
	}
	ibt_ctx = ctx;
	return 0;
}

static ssize_t ibt_consumer_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	char buf[16];
	int fd, ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	mutex_lock(&ibt_lock);
	if (sysfs_streq(buf, "unregister")) {
		ibt_unregister();
		ret = 0;
	} else {
		ret = kstrtoint(buf, 0, &fd);
		if (!ret)
			ret = fd < 0 ? -EBADF : ibt_register(fd);
	}
	mutex_unlock(&ibt_lock);
	return ret ?: len;
}

static const struct file_operations ibt_consumer_fops = {
	.owner = THIS_MODULE,
	.write = ibt_consumer_write,
};

static int ibt_state_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "irq %d adds %d dels %d\n", atomic_read(&ibt_irq),
		   atomic_read(&ibt_adds), atomic_read(&ibt_dels));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ibt_state);

static int __init ibt_init(void)
{
	ibt_dir = debugfs_create_dir("irqbypass_test", NULL);
	debugfs_create_file("consumer", 0200, ibt_dir, NULL,
			    &ibt_consumer_fops);
	debugfs_create_file("state", 0400, ibt_dir, NULL, &ibt_state_fops);
	return 0;
}

static void __exit ibt_exit(void)
{
	debugfs_remove_recursive(ibt_dir);
	mutex_lock(&ibt_lock);
	ibt_unregister();
	mutex_unlock(&ibt_lock);
}

module_init(ibt_init);
module_exit(ibt_exit);
MODULE_DESCRIPTION("irq bypass consumer for tests: records the producer of an eventfd");
MODULE_LICENSE("GPL");
