// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vdpa-ioctl: edge cases of the /dev/vhost-vdpa-N ABI, printed as
 * TAP lines ("ok - ..." / "not ok - ...") for selftests/vhost_vdpa*.sh.
 *
 *   vhost-vdpa-ioctl edge DEV        every ioctl: good input, bad index,
 *                                    bad pointer, bad fd, bad size, state
 *   vhost-vdpa-ioctl memlock DEV KB  pinning against RLIMIT_MEMLOCK of KB
 *   vhost-vdpa-ioctl hold DEV MB     map MB, start the device, print
 *                                    "ready", wait for a line on stdin
 *                                    (the test removes the device
 *                                    meanwhile), then check -ENODEV
 *   vhost-vdpa-ioctl pin DEV MB      map MB, print "ready", wait for a line
 *                                    or to be killed
 *   vhost-vdpa-ioctl replay DEV      net device: map memory once, loop a
 *                                    frame back, reset (status 0), set the
 *                                    rings up again without any IOTLB
 *                                    message and loop frames back again:
 *                                    the mappings survive every reset
 *
 * Exit status: 0 when every check passed, 1 otherwise, 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#ifndef VHOST_BACKEND_F_SUSPEND
#define VHOST_BACKEND_F_SUSPEND 0x4
#endif
#ifndef VHOST_VDPA_SUSPEND
#define VHOST_VDPA_SUSPEND _IO(VHOST_VIRTIO, 0x7D)
#endif

/* never mapped; a variable, so the compiler cannot see through it */
void *bad_ptr = (void *)8;
#define BAD_PTR bad_ptr
#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_FOK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK VIRTIO_CONFIG_S_DRIVER_OK

static int failures;

static void tap(bool good, const char *fmt, ...)
{
	va_list ap;

	printf(good ? "ok - " : "not ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!good)
		failures++;
}

/* ret from a syscall that should succeed */
static bool is_ok(long ret, const char *what)
{
	if (ret >= 0) {
		tap(true, "%s", what);
		return true;
	}
	tap(false, "%s: %s", what, strerror(errno));
	return false;
}

/* ret from a syscall that should fail with @want */
static void is_err(long ret, int want, const char *what)
{
	if (ret < 0 && errno == want)
		tap(true, "%s: %s", what, strerror(want));
	else if (ret < 0)
		tap(false, "%s: %s, want %s", what, strerror(errno),
		    strerror(want));
	else
		tap(false, "%s: succeeded, want %s", what, strerror(want));
}

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static ssize_t iotlb(int fd, uint32_t asid, uint8_t type, uint64_t iova,
		     uint64_t size, void *uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.asid = asid,
		.iotlb = {
			.iova = iova,
			.size = size,
			.uaddr = (uintptr_t)uaddr,
			.perm = perm,
			.type = type,
		},
	};

	return write(fd, &m, sizeof(m));
}

static long vm_pin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void *alloc_mem(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %zu: %s\n", len, strerror(errno));
		exit(1);
	}
	return p;
}

static uint8_t status_of(int fd)
{
	uint8_t s = 0xff;

	ioctl(fd, VHOST_VDPA_GET_STATUS, &s);
	return s;
}

static long set_status(int fd, uint8_t s)
{
	return ioctl(fd, VHOST_VDPA_SET_STATUS, &s);
}

/* ------------------------------------------------------------------ */

struct info {
	uint32_t id, nvqs, ngroups, nas, cfg_size;
	uint16_t vq_max;
	uint64_t features, backend;
	struct vhost_vdpa_iova_range range;
};

static void edge_info(int fd, struct info *in)
{
	is_ok(ioctl(fd, VHOST_VDPA_GET_DEVICE_ID, &in->id), "GET_DEVICE_ID");
	tap(in->id == VIRTIO_ID_NET || in->id == VIRTIO_ID_BLOCK,
	    "device id %u is net or blk", in->id);
	is_err(ioctl(fd, VHOST_VDPA_GET_DEVICE_ID, BAD_PTR), EFAULT,
	       "GET_DEVICE_ID to a bad pointer");
	is_ok(ioctl(fd, VHOST_GET_FEATURES, &in->features), "GET_FEATURES");
	tap((in->features >> VIRTIO_F_VERSION_1 & 1) &&
	    (in->features >> VIRTIO_F_ACCESS_PLATFORM & 1),
	    "features %#llx offer VERSION_1 and ACCESS_PLATFORM",
	    (unsigned long long)in->features);
	is_err(ioctl(fd, VHOST_GET_FEATURES, BAD_PTR), EFAULT,
	       "GET_FEATURES to a bad pointer");
	is_ok(ioctl(fd, VHOST_VDPA_GET_VQS_COUNT, &in->nvqs), "GET_VQS_COUNT");
	is_ok(ioctl(fd, VHOST_VDPA_GET_GROUP_NUM, &in->ngroups),
	      "GET_GROUP_NUM");
	is_ok(ioctl(fd, VHOST_VDPA_GET_AS_NUM, &in->nas), "GET_AS_NUM");
	is_ok(ioctl(fd, VHOST_VDPA_GET_CONFIG_SIZE, &in->cfg_size),
	      "GET_CONFIG_SIZE");
	is_ok(ioctl(fd, VHOST_VDPA_GET_VRING_NUM, &in->vq_max),
	      "GET_VRING_NUM");
	is_ok(ioctl(fd, VHOST_VDPA_GET_IOVA_RANGE, &in->range),
	      "GET_IOVA_RANGE");
	tap(in->nvqs && in->ngroups && in->nas && in->cfg_size &&
	    in->vq_max && in->range.first <= in->range.last,
	    "geometry: %u vqs, %u groups, %u address spaces, %u config bytes, vq max %u, IOVA [%#llx, %#llx]",
	    in->nvqs, in->ngroups, in->nas, in->cfg_size, in->vq_max,
	    (unsigned long long)in->range.first,
	    (unsigned long long)in->range.last);
	is_err(ioctl(fd, VHOST_VDPA_GET_IOVA_RANGE, BAD_PTR), EFAULT,
	       "GET_IOVA_RANGE to a bad pointer");
	tap(status_of(fd) == 0, "status is 0 after open (reset on open)");
}

static void edge_backend(int fd, struct info *in)
{
	uint64_t f;

	is_ok(ioctl(fd, VHOST_GET_BACKEND_FEATURES, &in->backend),
	      "GET_BACKEND_FEATURES");
	tap((in->backend & 0xe) == 0xe && !(in->backend >> 5),
	    "backend features %#llx: IOTLB_MSG_V2, BATCH, ASID; nothing unknown",
	    (unsigned long long)in->backend);
	f = 1ULL << 63;
	is_err(ioctl(fd, VHOST_SET_BACKEND_FEATURES, &f), EOPNOTSUPP,
	       "SET_BACKEND_FEATURES with an unknown bit");
	f = 1ULL << 5;
	is_err(ioctl(fd, VHOST_SET_BACKEND_FEATURES, &f), EOPNOTSUPP,
	       "SET_BACKEND_FEATURES with RESUME (not offered)");
	is_err(ioctl(fd, VHOST_SET_BACKEND_FEATURES, BAD_PTR), EFAULT,
	       "SET_BACKEND_FEATURES from a bad pointer");
	f = in->backend;
	is_ok(ioctl(fd, VHOST_SET_BACKEND_FEATURES, &f),
	      "SET_BACKEND_FEATURES with everything offered");
}

static void edge_status(int fd, struct info *in)
{
	uint64_t f = in->features;

	is_err(set_status(fd, S_DOK), EINVAL, "status DRIVER_OK from 0");
	is_err(set_status(fd, S_FOK), EINVAL,
	       "status FEATURES_OK without ACKNOWLEDGE|DRIVER");
	is_err(set_status(fd, VIRTIO_CONFIG_S_NEEDS_RESET), EINVAL,
	       "status NEEDS_RESET (device-owned)");
	is_err(set_status(fd, 0x10), EINVAL, "status with an undefined bit");
	is_err(ioctl(fd, VHOST_VDPA_SET_STATUS, BAD_PTR), EFAULT,
	       "SET_STATUS from a bad pointer");
	is_ok(set_status(fd, S_ACK), "status ACKNOWLEDGE");
	is_ok(set_status(fd, S_ACK | S_DRV), "status +DRIVER");
	is_err(set_status(fd, S_DRV), EINVAL, "status clearing ACKNOWLEDGE");
	is_err(set_status(fd, S_ACK | S_DRV | S_FOK | S_DOK), EINVAL,
	       "DRIVER_OK together with FEATURES_OK");
	f = ~in->features & ~0ULL;
	if (f) {
		f |= in->features;
		is_err(ioctl(fd, VHOST_SET_FEATURES, &f), EINVAL,
		       "SET_FEATURES with bits not offered");
	}
	is_err(ioctl(fd, VHOST_SET_FEATURES, BAD_PTR), EFAULT,
	       "SET_FEATURES from a bad pointer");
	f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	is_ok(ioctl(fd, VHOST_SET_FEATURES, &f), "SET_FEATURES");
	is_ok(set_status(fd, S_ACK | S_DRV | S_FOK), "status +FEATURES_OK");
	tap(status_of(fd) == (S_ACK | S_DRV | S_FOK), "GET_STATUS reads %#x back",
	    status_of(fd));
	is_err(ioctl(fd, VHOST_SET_FEATURES, &f), EBUSY,
	       "SET_FEATURES after FEATURES_OK");
	is_ok(set_status(fd, 0), "status 0 resets");
	tap(status_of(fd) == 0, "status reads 0 after reset");
}

static void edge_config(int fd, struct info *in)
{
	struct vhost_vdpa_config *c = calloc(1, sizeof(*c) + in->cfg_size + 16);
	struct vhost_vdpa_config hdr;

	if (!c)
		exit(1);
	c->off = 0;
	c->len = in->cfg_size;
	is_ok(ioctl(fd, VHOST_VDPA_GET_CONFIG, c), "GET_CONFIG of the whole space");
	c->len = 0;
	is_err(ioctl(fd, VHOST_VDPA_GET_CONFIG, c), EINVAL, "GET_CONFIG of 0 bytes");
	c->len = in->cfg_size + 1;
	is_err(ioctl(fd, VHOST_VDPA_GET_CONFIG, c), EINVAL,
	       "GET_CONFIG one byte past the end");
	c->off = in->cfg_size + 1;
	c->len = 1;
	is_err(ioctl(fd, VHOST_VDPA_GET_CONFIG, c), EINVAL,
	       "GET_CONFIG at an offset past the end");
	c->off = 0xffffffff;
	c->len = 2;
	is_err(ioctl(fd, VHOST_VDPA_GET_CONFIG, c), EINVAL,
	       "GET_CONFIG with off+len wrapping");
	is_err(ioctl(fd, VHOST_VDPA_GET_CONFIG, BAD_PTR), EFAULT,
	       "GET_CONFIG from a bad pointer");
	/* a header that fits, whose buffer does not */
	hdr.off = 0;
	hdr.len = in->cfg_size;
	{
		long page = sysconf(_SC_PAGESIZE);
		uint8_t *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct vhost_vdpa_config *edge;

		munmap(two + page, page);
		edge = (void *)(two + page - sizeof(hdr));
		*edge = hdr;
		is_err(ioctl(fd, VHOST_VDPA_GET_CONFIG, edge), EFAULT,
		       "GET_CONFIG into a buffer that runs off the mapping");
		is_err(ioctl(fd, VHOST_VDPA_SET_CONFIG, edge), EFAULT,
		       "SET_CONFIG from a buffer that runs off the mapping");
		munmap(two, page);
	}
	c->off = 0;
	c->len = in->cfg_size + 1;
	is_err(ioctl(fd, VHOST_VDPA_SET_CONFIG, c), EINVAL,
	       "SET_CONFIG one byte past the end");
	c->len = 0;
	is_err(ioctl(fd, VHOST_VDPA_SET_CONFIG, c), EINVAL, "SET_CONFIG of 0 bytes");
	if (in->id == VIRTIO_ID_NET) {
		uint8_t mac[6];

		c->off = 0;
		c->len = 6;
		is_ok(ioctl(fd, VHOST_VDPA_GET_CONFIG, c), "GET_CONFIG of the MAC");
		memcpy(mac, c->buf, 6);
		is_ok(ioctl(fd, VHOST_VDPA_SET_CONFIG, c),
		      "SET_CONFIG of the same MAC");
		is_ok(ioctl(fd, VHOST_VDPA_GET_CONFIG, c), "GET_CONFIG again");
		tap(!memcmp(mac, c->buf, 6), "MAC unchanged");
	}
	free(c);
}

static void edge_vring_index(int fd, struct info *in)
{
	struct vhost_vring_state s = { in->nvqs, 0 };
	struct vhost_vring_file f = { in->nvqs, -1 };
	struct vhost_vring_addr a = { .index = in->nvqs };

	is_err(ioctl(fd, VHOST_SET_VRING_NUM, &s), ENOBUFS,
	       "SET_VRING_NUM on vq == count");
	s.index = 0xffffffff;
	is_err(ioctl(fd, VHOST_SET_VRING_NUM, &s), ENOBUFS,
	       "SET_VRING_NUM on vq 0xffffffff");
	s.index = in->nvqs;
	is_err(ioctl(fd, VHOST_SET_VRING_BASE, &s), ENOBUFS,
	       "SET_VRING_BASE bad index");
	is_err(ioctl(fd, VHOST_GET_VRING_BASE, &s), ENOBUFS,
	       "GET_VRING_BASE bad index");
	is_err(ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s), ENOBUFS,
	       "SET_VRING_ENABLE bad index");
	is_err(ioctl(fd, VHOST_VDPA_GET_VRING_GROUP, &s), ENOBUFS,
	       "GET_VRING_GROUP bad index");
	is_err(ioctl(fd, VHOST_SET_VRING_ADDR, &a), ENOBUFS,
	       "SET_VRING_ADDR bad index");
	is_err(ioctl(fd, VHOST_SET_VRING_KICK, &f), ENOBUFS,
	       "SET_VRING_KICK bad index");
	is_err(ioctl(fd, VHOST_SET_VRING_CALL, &f), ENOBUFS,
	       "SET_VRING_CALL bad index");
	is_err(ioctl(fd, VHOST_SET_VRING_NUM, BAD_PTR), EFAULT,
	       "SET_VRING_NUM from a bad pointer");
	is_err(ioctl(fd, VHOST_GET_VRING_BASE, BAD_PTR), EFAULT,
	       "GET_VRING_BASE from a bad pointer");
}

static void edge_vring(int fd, struct info *in)
{
	struct vhost_vring_state s = { 0, 0 };
	struct vhost_vring_addr a = { 0 };
	struct vhost_vring_file f = { 0, -5 };
	int efd = eventfd(0, EFD_CLOEXEC), nfd = open("/dev/null", O_RDONLY);

	is_err(ioctl(fd, VHOST_SET_VRING_NUM, &s), EINVAL, "SET_VRING_NUM 0");
	s.num = 3;
	is_err(ioctl(fd, VHOST_SET_VRING_NUM, &s), EINVAL,
	       "SET_VRING_NUM 3 (not a power of two)");
	s.num = in->vq_max * 2U;
	if (s.num <= 32768)
		is_err(ioctl(fd, VHOST_SET_VRING_NUM, &s), EINVAL,
		       "SET_VRING_NUM above the maximum");
	s.num = in->vq_max < 64 ? in->vq_max : 64;
	is_ok(ioctl(fd, VHOST_SET_VRING_NUM, &s), "SET_VRING_NUM");
	s.num = 0x10000;
	is_err(ioctl(fd, VHOST_SET_VRING_BASE, &s), EINVAL,
	       "SET_VRING_BASE 0x10000");
	s.num = 5;
	is_ok(ioctl(fd, VHOST_SET_VRING_BASE, &s), "SET_VRING_BASE 5");
	s.num = 0;
	is_ok(ioctl(fd, VHOST_GET_VRING_BASE, &s), "GET_VRING_BASE");
	tap(s.num == 5 && s.index == 0, "GET_VRING_BASE reads 5 back (%u)",
	    s.num);
	a.desc_user_addr = 0x1001;
	a.avail_user_addr = 0x3000;
	a.used_user_addr = 0x4000;
	is_err(ioctl(fd, VHOST_SET_VRING_ADDR, &a), EINVAL,
	       "SET_VRING_ADDR misaligned descriptor table");
	a.desc_user_addr = 0x1000;
	a.flags = 0x80;
	is_err(ioctl(fd, VHOST_SET_VRING_ADDR, &a), EOPNOTSUPP,
	       "SET_VRING_ADDR unknown flag");
	a.flags = 0;
	is_ok(ioctl(fd, VHOST_SET_VRING_ADDR, &a), "SET_VRING_ADDR");
	is_err(ioctl(fd, VHOST_SET_VRING_ADDR, BAD_PTR), EFAULT,
	       "SET_VRING_ADDR from a bad pointer");

	is_err(ioctl(fd, VHOST_SET_VRING_KICK, &f), EBADF, "SET_VRING_KICK fd -5");
	is_err(ioctl(fd, VHOST_SET_VRING_CALL, &f), EBADF, "SET_VRING_CALL fd -5");
	f.fd = nfd;
	is_err(ioctl(fd, VHOST_SET_VRING_KICK, &f), EINVAL,
	       "SET_VRING_KICK with a non-eventfd");
	is_err(ioctl(fd, VHOST_SET_VRING_CALL, &f), EINVAL,
	       "SET_VRING_CALL with a non-eventfd");
	f.fd = efd;
	is_ok(ioctl(fd, VHOST_SET_VRING_KICK, &f), "SET_VRING_KICK");
	is_ok(ioctl(fd, VHOST_SET_VRING_CALL, &f), "SET_VRING_CALL");
	f.fd = -1;
	is_ok(ioctl(fd, VHOST_SET_VRING_KICK, &f), "SET_VRING_KICK unbind");
	is_ok(ioctl(fd, VHOST_SET_VRING_CALL, &f), "SET_VRING_CALL unbind");
	f.fd = -5;
	is_err(ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, &f.fd), EBADF,
	       "SET_CONFIG_CALL fd -5");
	is_err(ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, &nfd), EINVAL,
	       "SET_CONFIG_CALL with a non-eventfd");
	is_ok(ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, &efd), "SET_CONFIG_CALL");
	f.fd = -1;
	is_ok(ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, &f.fd),
	      "SET_CONFIG_CALL unbind (-1)");
	is_err(ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, BAD_PTR), EFAULT,
	       "SET_CONFIG_CALL from a bad pointer");
	s.index = 0;
	s.num = 1;
	is_ok(ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s), "SET_VRING_ENABLE");
	s.num = 0;
	is_ok(ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &s), "SET_VRING_DISABLE");
	close(efd);
	close(nfd);
}

static void edge_groups(int fd, struct info *in)
{
	struct vhost_vring_state s;
	uint32_t i;
	bool good = true;

	for (i = 0; i < in->nvqs; i++) {
		s = (struct vhost_vring_state){ i, 0xdead };
		if (ioctl(fd, VHOST_VDPA_GET_VRING_GROUP, &s) ||
		    s.num >= in->ngroups || s.index != i)
			good = false;
	}
	tap(good, "GET_VRING_GROUP of every vq is below %u", in->ngroups);
	s = (struct vhost_vring_state){ in->ngroups, 0 };
	is_err(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s), EINVAL,
	       "SET_GROUP_ASID on group == count");
	s = (struct vhost_vring_state){ 0, in->nas };
	is_err(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s), EINVAL,
	       "SET_GROUP_ASID to asid == count");
	s = (struct vhost_vring_state){ 0xffffffff, 0xffffffff };
	is_err(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s), EINVAL,
	       "SET_GROUP_ASID 0xffffffff");
	is_err(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, BAD_PTR), EFAULT,
	       "SET_GROUP_ASID from a bad pointer");
	if (in->ngroups > 1 && in->nas > 1) {
		s = (struct vhost_vring_state){ in->ngroups - 1, in->nas - 1 };
		is_ok(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s),
		      "SET_GROUP_ASID last group to last address space");
		s.num = 0;
		is_ok(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s),
		      "SET_GROUP_ASID back to 0");
	}
}

static void edge_misc(int fd)
{
	uint64_t x = 0;
	char buf[8];
	void *p;

	is_err(ioctl(fd, _IO(VHOST_VIRTIO, 0x6f), NULL), ENOTTY,
	       "an unknown ioctl");
	is_err(ioctl(fd, VHOST_SET_LOG_BASE, &x), EOPNOTSUPP, "SET_LOG_BASE");
	is_err(ioctl(fd, VHOST_SET_LOG_FD, &x), EOPNOTSUPP, "SET_LOG_FD");
	is_err(ioctl(fd, VHOST_SET_MEM_TABLE, &x), EOPNOTSUPP, "SET_MEM_TABLE");
	is_err(read(fd, buf, sizeof(buf)), EINVAL, "read()");

	p = mmap(NULL, 2 * getpagesize(), PROT_WRITE, MAP_SHARED, fd, 0);
	is_err(p == MAP_FAILED ? -1 : 0, EINVAL, "mmap of two pages");
	p = mmap(NULL, getpagesize(), PROT_WRITE, MAP_PRIVATE, fd, 0);
	is_err(p == MAP_FAILED ? -1 : 0, EINVAL, "private mmap");
	p = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	is_err(p == MAP_FAILED ? -1 : 0, EINVAL, "readable mmap");
	p = mmap(NULL, getpagesize(), PROT_WRITE, MAP_SHARED, fd,
		 (off_t)1 << 30);
	is_err(p == MAP_FAILED ? -1 : 0, EINVAL, "mmap of a vq that does not exist");
	p = mmap(NULL, getpagesize(), PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		tap(errno == EOPNOTSUPP || errno == EINVAL,
		    "doorbell mmap of vq 0 refused (%s): parent has no page-sized doorbell",
		    strerror(errno));
	} else {
		tap(true, "doorbell mmap of vq 0");
		munmap(p, getpagesize());
	}
}

static void edge_iotlb_owner(int fd, void *mem)
{
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, 0x100000, 4096, mem, 3), EPERM,
	       "IOTLB update before SET_OWNER");
	is_ok(ioctl(fd, VHOST_SET_OWNER, NULL), "SET_OWNER");
	is_err(ioctl(fd, VHOST_SET_OWNER, NULL), EBUSY, "second SET_OWNER");
}

static void edge_iotlb_bad(int fd, struct info *in, uint8_t *mem)
{
	struct vhost_msg_v2 m = { .type = 9 };
	uint64_t base = 0x40000000;

	is_err(write(fd, &m, sizeof(m)), EINVAL, "IOTLB message of type 9");
	m.type = VHOST_IOTLB_MSG_V2;
	m.iotlb.type = VHOST_IOTLB_MISS;
	m.iotlb.size = 4096;
	is_err(write(fd, &m, sizeof(m)), EINVAL, "IOTLB MISS from user space");
	is_err(write(fd, &m, 10), EINVAL, "10-byte IOTLB write");
	is_err(write(fd, BAD_PTR, sizeof(m)), EFAULT,
	       "IOTLB write from a bad pointer");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base, 0, mem, 3), EINVAL,
	       "IOTLB update of size 0");
	is_err(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, base, 0, mem, 3), EINVAL,
	       "IOTLB invalidate of size 0");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base, 4096, mem, 0), EINVAL,
	       "IOTLB update with perm 0");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base, 4096, mem, 4), EINVAL,
	       "IOTLB update with perm 4");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, ~0ULL - 100, 4096, mem, 3),
	       EINVAL, "IOTLB update whose IOVA wraps");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base, 4096, (void *)4096, 3),
	       EFAULT, "IOTLB update of unmapped user memory");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base, 4096,
		     (void *)0xffff888000000000ULL, 3), EFAULT,
	       "IOTLB update of a kernel address");
	if (in->range.first > 0)
		is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, in->range.first - 4096,
			     4096, mem, 3), EINVAL,
		       "IOTLB update below the IOVA range");
	if (in->range.last < ~0ULL)
		is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, in->range.last, 4096,
			     mem, 3), EINVAL,
		       "IOTLB update beyond the IOVA range");
	if (!in->range.first && in->range.last == ~0ULL)
		printf("# IOVA range is everything: no out-of-range case\n");
	is_err(iotlb(fd, in->nas, VHOST_IOTLB_UPDATE, base, 4096, mem, 3),
	       EINVAL, "IOTLB update of asid == count (ASID acked)");
	is_err(iotlb(fd, 0xffffffff, VHOST_IOTLB_INVALIDATE, base, 4096, mem,
		     3), EINVAL, "IOTLB invalidate of asid 0xffffffff");
}

static void edge_iotlb(int fd, struct info *in)
{
	size_t len = 1 << 20;
	uint8_t *mem = alloc_mem(len);
	uint64_t base = 0x40000000, f;
	long pin0;

	edge_iotlb_owner(fd, mem);
	edge_iotlb_bad(fd, in, mem);
	pin0 = vm_pin_kb();
	is_ok(iotlb(fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, NULL, 0),
	      "IOTLB BATCH_BEGIN");
	is_ok(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base, len, mem, 3),
	      "IOTLB update of 1 MiB");
	is_ok(iotlb(fd, 0, VHOST_IOTLB_BATCH_END, 0, 0, NULL, 0),
	      "IOTLB BATCH_END");
	tap(vm_pin_kb() - pin0 == 1024, "VmPin grew by 1024 kB (%ld)",
	    vm_pin_kb() - pin0);
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base, len, mem, 3), EEXIST,
	       "IOTLB update of the same range");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base + len - 4096, 8192, mem, 3),
	       EEXIST, "IOTLB update overlapping the end");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base - 4096, 8192, mem, 1),
	       EEXIST, "IOTLB update overlapping the start");
	is_ok(iotlb(fd, 0, VHOST_IOTLB_UPDATE, base + len, 4096, mem + 8191, 1),
	      "IOTLB update, read-only, unaligned user address, adjacent");
	if (in->nas > 1) {
		is_ok(iotlb(fd, in->nas - 1, VHOST_IOTLB_UPDATE, base, 8192,
			    mem, 3), "same IOVA in the last address space");
		is_ok(iotlb(fd, in->nas - 1, VHOST_IOTLB_INVALIDATE, 0, ~0ULL,
			    NULL, 0), "invalidate all of the last address space");
	}
	is_ok(iotlb(fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, NULL, 0),
	      "IOTLB BATCH_BEGIN");
	is_ok(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, 0, ~0ULL, NULL, 0),
	      "IOTLB invalidate of everything inside a batch");
	printf("# VmPin inside the batch: %ld kB\n", vm_pin_kb() - pin0);
	is_ok(iotlb(fd, 0, VHOST_IOTLB_BATCH_END, 0, 0, NULL, 0),
	      "IOTLB BATCH_END");
	tap(vm_pin_kb() == pin0, "VmPin back to %ld kB (%ld)", pin0,
	    vm_pin_kb());
	is_ok(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, base, 4096, NULL, 0),
	      "IOTLB invalidate of nothing");

	/* Without the ASID backend feature the asid field is ignored. */
	f = in->backend & ~(1ULL << VHOST_BACKEND_F_IOTLB_ASID);
	ioctl(fd, VHOST_SET_BACKEND_FEATURES, &f);
	is_ok(iotlb(fd, 77, VHOST_IOTLB_UPDATE, base, 4096, mem, 3),
	      "asid 77 ignored without IOTLB_ASID");
	{
		struct vhost_msg v1 = { .type = VHOST_IOTLB_MSG };

		v1.iotlb = (struct vhost_iotlb_msg){ base, 4096, 0, 0,
			VHOST_IOTLB_INVALIDATE };
		tap(write(fd, &v1, sizeof(v1)) == sizeof(v1),
		    "version 1 IOTLB invalidate");
	}
	tap(vm_pin_kb() == pin0, "VmPin back to %ld kB", pin0);
	f = in->backend;
	ioctl(fd, VHOST_SET_BACKEND_FEATURES, &f);
	munmap(mem, len);
}

/* Ring layout is fixed while DRIVER_OK, until SUSPEND. */
static void edge_running(int fd, struct info *in)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	struct vhost_vring_addr a = { 0, 0, 0x1000, 0x2000, 0x3000, 0 };
	struct vhost_vring_state s = { 0, 0 };

	set_status(fd, 0);
	set_status(fd, S_ACK | S_DRV);
	ioctl(fd, VHOST_SET_FEATURES, &f);
	set_status(fd, S_ACK | S_DRV | S_FOK);
	is_ok(set_status(fd, S_ACK | S_DRV | S_FOK | S_DOK), "status DRIVER_OK");
	is_err(set_status(fd, S_ACK | S_DRV | S_DOK), EINVAL,
	       "status clearing FEATURES_OK");
	is_err(ioctl(fd, VHOST_SET_VRING_ADDR, &a), EINVAL,
	       "SET_VRING_ADDR while DRIVER_OK");
	is_err(ioctl(fd, VHOST_SET_VRING_BASE, &s), EINVAL,
	       "SET_VRING_BASE while DRIVER_OK");
	if (in->ngroups > 1 && in->nas > 1) {
		s = (struct vhost_vring_state){ 0, 1 };
		is_err(ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &s), EBUSY,
		       "SET_GROUP_ASID while DRIVER_OK");
	}
	s = (struct vhost_vring_state){ 0, 0 };
	if (in->backend & (1ULL << VHOST_BACKEND_F_SUSPEND)) {
		is_ok(ioctl(fd, VHOST_VDPA_SUSPEND), "SUSPEND");
		is_ok(ioctl(fd, VHOST_SET_VRING_ADDR, &a),
		      "SET_VRING_ADDR while suspended");
		is_ok(ioctl(fd, VHOST_SET_VRING_BASE, &s),
		      "SET_VRING_BASE while suspended");
		is_ok(ioctl(fd, VHOST_GET_VRING_BASE, &s),
		      "GET_VRING_BASE while suspended");
	} else {
		is_err(ioctl(fd, VHOST_VDPA_SUSPEND), EOPNOTSUPP,
		       "SUSPEND without parent support");
	}
	is_ok(set_status(fd, 0), "reset");
	is_ok(ioctl(fd, VHOST_SET_VRING_ADDR, &a), "SET_VRING_ADDR after reset");
}

static int cmd_edge(const char *path)
{
	struct info in = { 0 };
	int fd = open_dev(path), fd2;

	fd2 = open(path, O_RDWR);
	is_err(fd2, EBUSY, "second open");
	if (fd2 >= 0)
		close(fd2);
	edge_info(fd, &in);
	edge_backend(fd, &in);
	edge_status(fd, &in);
	edge_config(fd, &in);
	edge_vring_index(fd, &in);
	edge_vring(fd, &in);
	edge_groups(fd, &in);
	edge_misc(fd);
	edge_iotlb(fd, &in);
	edge_running(fd, &in);
	is_ok(close(fd), "close");
	fd = open(path, O_RDWR);
	is_ok(fd, "open again after close");
	tap(status_of(fd) == 0, "status 0 on the new open");
	close(fd);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------------ */

static int cmd_memlock(const char *path)
{
	struct rlimit rl;
	size_t lim, half;
	uint64_t a = 0x10000000, b = 0x80000000;
	uint8_t *mem;
	int fd;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur < 65536) {
		fprintf(stderr, "memlock: run under a finite RLIMIT_MEMLOCK >= 64 KiB\n");
		return 2;
	}
	lim = rl.rlim_cur & ~4095UL;
	half = lim / 2 & ~4095UL;
	printf("# RLIMIT_MEMLOCK %zu kB\n", lim >> 10);
	mem = alloc_mem(lim + 8192);
	fd = open_dev(path);
	is_ok(ioctl(fd, VHOST_SET_OWNER, NULL), "SET_OWNER");
	is_ok(iotlb(fd, 0, VHOST_IOTLB_UPDATE, a, half, mem, 3),
	      "pin half the limit");
	tap(vm_pin_kb() == (long)(half >> 10), "VmPin %ld kB", vm_pin_kb());
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, b, lim, mem, 3), ENOMEM,
	       "pin the whole limit on top of it");
	tap(vm_pin_kb() == (long)(half >> 10), "VmPin unchanged by the failure");
	is_ok(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, a, half, NULL, 0),
	      "invalidate the first half");
	tap(vm_pin_kb() == 0, "VmPin 0 after invalidate (%ld)", vm_pin_kb());
	is_ok(iotlb(fd, 0, VHOST_IOTLB_UPDATE, b, lim, mem, 3),
	      "pin exactly the limit");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, a, 4096, mem + lim, 3), ENOMEM,
	       "one page more");
	tap(vm_pin_kb() == (long)(lim >> 10), "VmPin %ld kB", vm_pin_kb());
	is_ok(close(fd), "close");
	tap(vm_pin_kb() == 0, "VmPin 0 after close (%ld)", vm_pin_kb());
	return failures ? 1 : 0;
}

static void wait_line(void)
{
	char line[64];

	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
}

static void start_device(int fd, uint8_t *mem, size_t len, int kick, int call)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t b = 3ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	uint64_t iova = (uintptr_t)mem;
	struct vhost_vring_state num = { 0, 64 }, on = { 0, 1 };
	struct vhost_vring_addr a = { 0, 0, iova, iova + 4096, iova + 8192, 0 };
	struct vhost_vring_file k = { 0, kick }, c = { 0, call };
	bool good;

	good = !ioctl(fd, VHOST_SET_OWNER, NULL) &&
	       !ioctl(fd, VHOST_SET_BACKEND_FEATURES, &b) &&
	       !set_status(fd, S_ACK | S_DRV) &&
	       !ioctl(fd, VHOST_SET_FEATURES, &f) &&
	       !set_status(fd, S_ACK | S_DRV | S_FOK) &&
	       iotlb(fd, 0, VHOST_IOTLB_UPDATE, iova, len, mem, 3) > 0 &&
	       !ioctl(fd, VHOST_SET_VRING_NUM, &num) &&
	       !ioctl(fd, VHOST_SET_VRING_ADDR, &a) &&
	       !ioctl(fd, VHOST_SET_VRING_KICK, &k) &&
	       !ioctl(fd, VHOST_SET_VRING_CALL, &c) &&
	       !ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, &call) &&
	       !ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &on) &&
	       !set_status(fd, S_ACK | S_DRV | S_FOK | S_DOK);
	tap(good, "device started with %zu kB mapped%s%s", len >> 10,
	    good ? "" : ": ", good ? "" : strerror(errno));
}

/* Hold the device while the test removes it; then everything -ENODEV. */
static int cmd_hold(const char *path, size_t mb)
{
	size_t len = mb << 20;
	uint8_t *mem = alloc_mem(len);
	int fd = open_dev(path);
	int kick = eventfd(0, EFD_NONBLOCK), call = eventfd(0, EFD_NONBLOCK);
	struct vhost_vring_file k = { 0, kick };
	struct pollfd p = { .fd = call, .events = POLLIN };
	uint64_t v;
	void *m;

	start_device(fd, mem, len, kick, call);
	tap(vm_pin_kb() == (long)(len >> 10), "VmPin %ld kB", vm_pin_kb());
	printf("ready\n");
	fflush(stdout);
	wait_line();

	tap(poll(&p, 1, 0) == 1, "call/config eventfd woken by the removal");
	while (read(call, &v, sizeof(v)) > 0)
		;
	is_err(ioctl(fd, VHOST_VDPA_GET_STATUS, &v), ENODEV, "GET_STATUS");
	is_err(set_status(fd, 0), ENODEV, "SET_STATUS");
	is_err(ioctl(fd, VHOST_GET_FEATURES, &v), ENODEV, "GET_FEATURES");
	is_err(ioctl(fd, VHOST_SET_VRING_KICK, &k), ENODEV, "SET_VRING_KICK");
	is_err(iotlb(fd, 0, VHOST_IOTLB_UPDATE, 0x1000, 4096, mem, 3), ENODEV,
	       "IOTLB update");
	m = mmap(NULL, getpagesize(), PROT_WRITE, MAP_SHARED, fd, 0);
	is_err(m == MAP_FAILED ? -1 : 0, ENODEV, "doorbell mmap");
	tap(vm_pin_kb() == 0, "pages unpinned at removal (VmPin %ld kB)",
	    vm_pin_kb());
	v = 1;
	tap(write(kick, &v, sizeof(v)) == sizeof(v), "kicking a removed device is harmless");
	is_ok(close(fd), "close after removal");
	return failures ? 1 : 0;
}

/* Pin @mb and wait (or be killed): for leak checks. */
static int cmd_pin(const char *path, size_t mb)
{
	size_t len = mb << 20;
	uint8_t *mem = alloc_mem(len);
	int fd = open_dev(path);

	if (ioctl(fd, VHOST_SET_OWNER, NULL) ||
	    iotlb(fd, 0, VHOST_IOTLB_UPDATE, 0x100000000ULL, len, mem, 3) < 0) {
		fprintf(stderr, "pin: %s\n", strerror(errno));
		return 1;
	}
	printf("ready %ld kB pinned\n", vm_pin_kb());
	fflush(stdout);
	wait_line();
	return 0;
}

/* ------------------------------------------------------------------ */
/* replay: the device keeps its mappings across resets                */

#define RP_NUM		16U
#define RP_BUF		2048U
#define RP_HDR		((unsigned int)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define RP_FRAME	64U
#define RP_VQ_SPAN	0x10000UL	/* rings at +0, +4K, +8K; buffers at +16K */

struct rp_vq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint8_t *bufs;
	uint16_t avail_idx;
	uint16_t used_seen;
	int kick;
};

struct rp {
	int fd;
	uint8_t *mem;
	uint64_t iova;
	struct rp_vq q[2];	/* 0: RX, 1: TX */
};

static uint64_t rp_iova(const struct rp *r, const void *p)
{
	return r->iova + (uint64_t)((const uint8_t *)p - r->mem);
}

/* Negotiate and set both rings up from scratch: no IOTLB message here. */
static bool rp_start(struct rp *r)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	unsigned int i;
	bool good;

	good = !set_status(r->fd, S_ACK) && !set_status(r->fd, S_ACK | S_DRV) &&
	       !ioctl(r->fd, VHOST_SET_FEATURES, &f) &&
	       !set_status(r->fd, S_ACK | S_DRV | S_FOK);
	for (i = 0; good && i < 2; i++) {
		struct rp_vq *q = &r->q[i];
		struct vhost_vring_state num = { i, RP_NUM }, base = { i, 0 };
		struct vhost_vring_state on = { i, 1 };
		struct vhost_vring_addr a = {
			.index = i,
			.desc_user_addr = rp_iova(r, q->desc),
			.avail_user_addr = rp_iova(r, q->avail),
			.used_user_addr = rp_iova(r, q->used),
		};
		struct vhost_vring_file k = { i, q->kick };

		memset(q->desc, 0, 3 * 4096);
		q->avail_idx = 0;
		q->used_seen = 0;
		good = !ioctl(r->fd, VHOST_SET_VRING_NUM, &num) &&
		       !ioctl(r->fd, VHOST_SET_VRING_BASE, &base) &&
		       !ioctl(r->fd, VHOST_SET_VRING_ADDR, &a) &&
		       !ioctl(r->fd, VHOST_SET_VRING_KICK, &k) &&
		       !ioctl(r->fd, VHOST_VDPA_SET_VRING_ENABLE, &on);
	}
	return good && !set_status(r->fd, S_ACK | S_DRV | S_FOK | S_DOK);
}

static void rp_post(struct rp_vq *q, uint16_t id)
{
	uint64_t one = 1;

	q->avail->ring[q->avail_idx % RP_NUM] = id;
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	if (write(q->kick, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

/* The next used element of @q within 5 s, or NULL. */
static struct vring_used_elem *rp_reap(struct rp_vq *q)
{
	int ms;

	for (ms = 0; ms < 5000; ms++) {
		if (__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) !=
		    q->used_seen)
			return &q->used->ring[q->used_seen++ % RP_NUM];
		usleep(1000);
	}
	return NULL;
}

/* Send one frame and check it comes back intact. */
static bool rp_loop(struct rp *r, uint8_t seq)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct rp_vq *rx = &r->q[0], *tx = &r->q[1];
	uint8_t *out = tx->bufs, *in;
	struct vring_used_elem *e;
	unsigned int i;

	for (i = 0; i < RP_NUM; i++) {
		rx->desc[i].addr = rp_iova(r, rx->bufs + i * RP_BUF);
		rx->desc[i].len = RP_BUF;
		rx->desc[i].flags = VRING_DESC_F_WRITE;
	}
	for (i = 0; i < RP_NUM - 1; i++)
		rx->avail->ring[i] = i;
	rx->avail_idx = RP_NUM - 1;
	rp_post(rx, RP_NUM - 1);	/* publishes all RP_NUM, kicks */
	memset(out, 0, RP_HDR);
	memcpy(out + RP_HDR, mac, 6);
	memcpy(out + RP_HDR + 6, mac, 6);
	out[RP_HDR + 12] = 0x88;
	out[RP_HDR + 13] = 0xb5;
	for (i = 14; i < RP_FRAME; i++)
		out[RP_HDR + i] = (uint8_t)(seq * 31 + i);
	tx->desc[0].addr = rp_iova(r, out);
	tx->desc[0].len = RP_HDR + RP_FRAME;
	tx->desc[0].flags = 0;
	rp_post(tx, 0);
	e = rp_reap(rx);
	if (!e) {
		printf("# no frame came back; status %#x\n", status_of(r->fd));
		return false;
	}
	in = rx->bufs + e->id * RP_BUF;
	if (e->len < RP_HDR + RP_FRAME ||
	    memcmp(in + RP_HDR, out + RP_HDR, RP_FRAME)) {
		printf("# frame came back wrong: used id %u len %u\n", e->id,
		       e->len);
		return false;
	}
	return true;
}

static int cmd_replay(const char *path)
{
	uint64_t b = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	size_t len = 2 * RP_VQ_SPAN;
	struct vhost_vdpa_iova_range range;
	struct rp r = { .fd = open_dev(path) };
	unsigned int i, round;
	uint32_t id = 0;

	r.mem = alloc_mem(len);
	r.iova = (uintptr_t)r.mem;
	for (i = 0; i < 2; i++) {
		struct rp_vq *q = &r.q[i];

		q->desc = (void *)(r.mem + i * RP_VQ_SPAN);
		q->avail = (void *)(r.mem + i * RP_VQ_SPAN + 4096);
		q->used = (void *)(r.mem + i * RP_VQ_SPAN + 8192);
		q->bufs = r.mem + i * RP_VQ_SPAN + 16384;
		q->kick = eventfd(0, EFD_CLOEXEC);
	}
	ioctl(r.fd, VHOST_VDPA_GET_DEVICE_ID, &id);
	if (id != VIRTIO_ID_NET || ioctl(r.fd, VHOST_VDPA_GET_IOVA_RANGE, &range)) {
		fprintf(stderr, "replay: %s is not a net device\n", path);
		return 2;
	}
	if (r.iova < range.first || r.iova + len - 1 > range.last)
		r.iova = range.first;
	is_ok(ioctl(r.fd, VHOST_SET_OWNER, NULL), "SET_OWNER");
	is_ok(ioctl(r.fd, VHOST_SET_BACKEND_FEATURES, &b),
	      "SET_BACKEND_FEATURES");
	is_ok(iotlb(r.fd, 0, VHOST_IOTLB_UPDATE, r.iova, len, r.mem, 3),
	      "the only IOTLB update of this run");
	tap(rp_start(&r), "device started");
	tap(rp_loop(&r, 1), "a frame loops back intact before any reset");
	for (round = 2; round <= 3; round++) {
		is_ok(set_status(r.fd, 0), "reset through SET_STATUS 0");
		tap(rp_start(&r), "device set up again without IOTLB messages");
		tap(rp_loop(&r, round),
		    "a frame loops back intact after reset %u", round - 1);
	}
	is_ok(close(r.fd), "close");
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: vhost-vdpa-ioctl edge DEV\n"
		"       vhost-vdpa-ioctl memlock DEV   (under prlimit --memlock=BYTES)\n"
		"       vhost-vdpa-ioctl hold DEV MB\n"
		"       vhost-vdpa-ioctl pin DEV MB\n"
		"       vhost-vdpa-ioctl replay DEV\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "edge") && argc == 3)
		return cmd_edge(argv[2]);
	if (!strcmp(argv[1], "memlock") && argc == 3)
		return cmd_memlock(argv[2]);
	if (!strcmp(argv[1], "hold") && argc == 4)
		return cmd_hold(argv[2], strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "replay") && argc == 3)
		return cmd_replay(argv[2]);
	if (!strcmp(argv[1], "pin") && argc == 4)
		return cmd_pin(argv[2], strtoul(argv[3], NULL, 0));
	usage();
	return 2;
}
