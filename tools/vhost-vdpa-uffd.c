// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-vdpa-uffd: IOTLB updates of memory behind a userfaultfd, for
 * selftests/vhost_vdpa_stall.sh.  TAP lines ("ok - ..." / "not ok - ...").
 *
 *   vhost-vdpa-uffd DEV MB serve   a thread serves every missing-page
 *                                  fault with a zero page: the update of
 *                                  MB MiB completes and pins all of it
 *   vhost-vdpa-uffd DEV MB hold    nobody serves the faults: print
 *                                  "ready", then send the update, which
 *                                  must wait until the process is killed;
 *                                  prints "returned ..." if it ever ends
 *
 * Exit status: 0 when every check passed, 1 otherwise (hold: the update
 * returned), 2 on usage or setup errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <linux/vhost.h>

#define IOVA	0x100000000ULL

static int failures;
static bool stop_serving;	/* __atomic: read by the serving thread */

static void tap(bool good, const char *what, long detail)
{
	printf("%s - %s (%ld)\n", good ? "ok" : "not ok", what, detail);
	fflush(stdout);
	if (!good)
		failures++;
}

static void die(const char *what)
{
	fprintf(stderr, "vhost-vdpa-uffd: %s: %s\n", what, strerror(errno));
	exit(2);
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

static ssize_t iotlb(int fd, uint8_t type, uint64_t size, void *uaddr)
{
	struct vhost_msg_v2 m = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = IOVA,
			.size = size,
			.uaddr = (uintptr_t)uaddr,
			.perm = VHOST_ACCESS_RW,
			.type = type,
		},
	};

	return write(fd, &m, sizeof(m));
}

/* Anonymous memory whose missing pages are reported on the returned fd. */
static int uffd_region(void *mem, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)mem, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0)
		die("userfaultfd");
	if (ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API");
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	return uffd;
}

static void *serve(void *arg)
{
	int uffd = *(int *)arg;
	long pg = sysconf(_SC_PAGESIZE), served = 0;
	struct pollfd p = { .fd = uffd, .events = POLLIN };
	struct uffdio_zeropage z = { .range.len = pg };
	struct uffd_msg msg;

	while (!__atomic_load_n(&stop_serving, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		z.range.start = msg.arg.pagefault.address & ~(pg - 1);
		if (ioctl(uffd, UFFDIO_ZEROPAGE, &z) == 0 || errno == EEXIST)
			served++;
	}
	return (void *)served;
}

static int cmd_serve(int fd, void *mem, size_t len, int uffd)
{
	pthread_t t;
	void *served;
	ssize_t n;

	if (pthread_create(&t, NULL, serve, &uffd))
		die("pthread_create");
	n = iotlb(fd, VHOST_IOTLB_UPDATE, len, mem);
	tap(n == sizeof(struct vhost_msg_v2),
	    "IOTLB update of a userfaultfd range completes once faults are served",
	    n < 0 ? -errno : n);
	tap(vm_pin_kb() == (long)(len >> 10), "all of it pinned: VmPin kB",
	    vm_pin_kb());
	n = iotlb(fd, VHOST_IOTLB_INVALIDATE, len, NULL);
	tap(n > 0 && vm_pin_kb() == 0, "invalidate unpins it: VmPin kB",
	    vm_pin_kb());
	__atomic_store_n(&stop_serving, true, __ATOMIC_RELEASE);
	pthread_join(t, &served);
	tap((long)served > 0, "faults served", (long)served);
	return failures ? 1 : 0;
}

static int cmd_hold(int fd, void *mem, size_t len)
{
	ssize_t n;

	printf("ready %d\n", getpid());
	fflush(stdout);
	n = iotlb(fd, VHOST_IOTLB_UPDATE, len, mem);
	printf("returned %zd: %s\n", n, n < 0 ? strerror(errno) : "success");
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	size_t len;
	void *mem;
	int fd, uffd;

	if (argc != 4 || (strcmp(argv[3], "serve") && strcmp(argv[3], "hold"))) {
		fprintf(stderr, "Usage: vhost-vdpa-uffd DEV MB serve|hold\n");
		return 2;
	}
	len = strtoul(argv[2], NULL, 0) << 20;
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(argv[1]);
	if (ioctl(fd, VHOST_SET_OWNER, NULL) ||
	    ioctl(fd, VHOST_SET_BACKEND_FEATURES, &backend))
		die("SET_OWNER/SET_BACKEND_FEATURES");
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	uffd = uffd_region(mem, len);
	if (!strcmp(argv[3], "serve"))
		return cmd_serve(fd, mem, len, uffd);
	return cmd_hold(fd, mem, len);
}
