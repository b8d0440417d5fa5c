// SPDX-License-Identifier: GPL-2.0
/*
 * Known deviations of virtio-pci hardware from the spec, keyed by PCI IDs,
 * and more of them from the quirks= module parameter (read at each probe,
 * so writing /sys/module/vdpa_virtio_pci/parameters/quirks and rebinding a
 * function is enough).  Documentation/virtio_pci_adapter.rst lists them.
 */

#include <linux/moduleparam.h>
#include <linux/string.h>

#include "vvp.h"

/**
 * struct vvp_quirk - workarounds for the functions that match
 * @vendor: PCI vendor ID
 * @device: PCI device ID
 * @subvendor: PCI subsystem vendor ID, or PCI_ANY_ID
 * @subdevice: PCI subsystem device ID, or PCI_ANY_ID
 * @flags: VVP_Q_*
 */
struct vvp_quirk {
	u16 vendor;
	u16 device;
	u32 subvendor;
	u32 subdevice;
	u32 flags;
};

static const struct vvp_quirk vvp_quirk_table[] = {
	/*
	 * Transitional virtio-net of bare-metal clouds (Alibaba ECS): only
	 * the legacy interface works, every queue has one fixed size, it
	 * fails without mergeable receive buffers, one notify port.  The
	 * IDs are those of any transitional virtio-net, QEMU's included:
	 * bound to the adapter, they all get the legacy interface.
	 */
	{ PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1000,
	  PCI_SUBVENDOR_ID_REDHAT_QUMRANET, 0x0001,
	  VVP_Q_LEGACY | VVP_Q_MRG_RXBUF | VVP_Q_FIXED_QSIZE |
	  VVP_Q_NO_DOORBELL_MMAP },
};

/* VID:DID[:SVID:SDID]:FLAGS[,...]; hex IDs, FLAGS letters (see below). */
static char vvp_quirk_param[256];
module_param_string(quirks, vvp_quirk_param, sizeof(vvp_quirk_param), 0644);
MODULE_PARM_DESC(quirks,
		 "More quirks: VID:DID[:SVID:SDID]:FLAGS,... in hex; FLAGS of l (legacy interface), m (needs MRG_RXBUF), q (fixed queue size), n (no doorbell mmap)");

static u32 vvp_quirk_flags(const char *s)
{
	u32 flags = 0;

	for (; *s; s++) {
		switch (*s) {
		case 'l':
			flags |= VVP_Q_LEGACY;
			break;
		case 'm':
			flags |= VVP_Q_MRG_RXBUF;
			break;
		case 'q':
			flags |= VVP_Q_FIXED_QSIZE;
			break;
		case 'n':
			flags |= VVP_Q_NO_DOORBELL_MMAP;
			break;
		default:
			return U32_MAX;
		}
	}
	return flags;
}

/* One "VID:DID[:SVID:SDID]:FLAGS" entry; false if it does not parse. */
static bool vvp_quirk_parse(char *entry, struct vvp_quirk *q)
{
	char *field[5];
	unsigned int n = 0, i;
	u16 id[4];

	while (entry && n < ARRAY_SIZE(field))
		field[n++] = strsep(&entry, ":");
	if (entry || (n != 3 && n != 5))
		return false;
	for (i = 0; i < n - 1; i++)
		if (kstrtou16(field[i], 16, &id[i]))
			return false;
	q->vendor = id[0];
	q->device = id[1];
	q->subvendor = n == 5 ? id[2] : PCI_ANY_ID;
	q->subdevice = n == 5 ? id[3] : PCI_ANY_ID;
	q->flags = vvp_quirk_flags(field[n - 1]);
	return q->flags != U32_MAX;
}

static bool vvp_quirk_match(const struct vvp_quirk *q, struct pci_dev *pdev)
{
	return q->vendor == pdev->vendor && q->device == pdev->device &&
	       (q->subvendor == PCI_ANY_ID ||
		q->subvendor == pdev->subsystem_vendor) &&
	       (q->subdevice == PCI_ANY_ID ||
		q->subdevice == pdev->subsystem_device);
}

/* The flags quirks= gives @pdev; a bad entry is reported and skipped. */
static u32 vvp_quirks_param(struct pci_dev *pdev)
{
	char buf[sizeof(vvp_quirk_param)], *s, *entry;
	struct vvp_quirk q;
	u32 flags = 0;

	kernel_param_lock(THIS_MODULE);
	strscpy(buf, vvp_quirk_param, sizeof(buf));
	kernel_param_unlock(THIS_MODULE);
	s = strim(buf);
	while ((entry = strsep(&s, ",")) != NULL) {
		entry = strim(entry);
		if (!*entry)
			continue;
		if (!vvp_quirk_parse(entry, &q)) {
			pci_warn(pdev, "quirks=: ignoring a malformed entry (want VID:DID[:SVID:SDID]:FLAGS, FLAGS of l, m, q, n)\n");
			continue;
		}
		if (vvp_quirk_match(&q, pdev))
			flags |= q.flags;
	}
	return flags;
}

/**
 * vvp_quirks() - the deviations known for a function
 * @pdev: the function
 *
 * Context: process context; takes the module's parameter lock.
 * Return: VVP_Q_* flags from the built-in table and from quirks=.
 */
u32 vvp_quirks(struct pci_dev *pdev)
{
	u32 flags = vvp_quirks_param(pdev);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vvp_quirk_table); i++)
		if (vvp_quirk_match(&vvp_quirk_table[i], pdev))
			flags |= vvp_quirk_table[i].flags;
	return flags;
}
