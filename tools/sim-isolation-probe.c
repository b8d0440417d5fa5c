// SPDX-License-Identifier: GPL-2.0
/*
 * sim-isolation-probe: check that a vhost-vdpa user reaches only the memory
 * it mapped, on a loopback virtio-net device (vdpasim_net).
 *
 * The probe plays a malicious ring writer.  It keeps two pages of its own
 * memory outside of every mapping: a "secret" page, filled with a pattern
 * the device must never read, and a "victim" page, filled with a pattern
 * the device must never overwrite.  It looks up their physical addresses
 * in /proc/self/pagemap (root only), because a device whose address space
 * is an identity map would reach them there, and points descriptors at
 * them.  Scenarios:
 *
 *   nomap    map nothing at all; rings, TX buffer (the secret) and RX
 *            buffer (the victim) are given by physical address
 *   partial  map only the rings and one TX/RX buffer page (IOVA == virtual
 *            address); TX descriptors point at the secret and RX
 *            descriptors at the victim, both by physical address and by
 *            (unmapped) IOVA == virtual address
 *   reopen   a first open maps the secret and victim pages and closes the
 *            device without unmapping; a second open maps only its rings
 *            and buffers and points descriptors at the first user's IOVAs
 *   roused   map the rings with the used rings read-only (IOTLB perm RO)
 *            and start the device with nothing posted: the device cannot
 *            write used->flags; it must set NEEDS_RESET within 5 s, and
 *            its datapath thread (given by name, third argument) must then
 *            stop using CPU (less than 0.1 s of CPU time in 3 s)
 *   stray    map the rings and buffers (IOVA == virtual address) and send
 *            a TX frame at STRAY_IOVA, which neither an IOVA nor a user
 *            address of any mapping covers: NEEDS_RESET within 5 s (the
 *            test then checks the kernel's fault line has no DPDK hint)
 *   pamode   what DPDK 22.11 does in its default IOVA mode: map the rings
 *            at IOVA == virtual address but the two buffer pages at
 *            PAMODE_IOVA, and send a TX frame at a buffer's virtual
 *            address, in the first and then (a second open) in the second
 *            page: NEEDS_RESET within 5 s each time (the test checks both
 *            fault lines name --iova-mode=va)
 *   desctab  as "stray", with a good TX frame but the TX descriptor table
 *            at STRAY_IOVA (the test checks the fault line names the
 *            descriptor table, not a buffer)
 *
 * Passing means: the secret never shows up in a mapped RX buffer, the
 * victim page keeps its pattern, and no descriptor pointing at unmapped
 * memory completes with data.  The device may stop the queue or set
 * NEEDS_RESET; the probe prints what it saw.
 *
 * Exit status: 0 isolated, 1 the device reached unmapped memory, 2 usage
 * or setup error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define PG		4096UL
#define QSIZE		8U
#define NET_HDR_LEN	12U
#define FRAME_LEN	256U
#define RX_QUEUE	0U
#define TX_QUEUE	1U

/* An address no mapping of the probe covers, as IOVA or user address. */
#define STRAY_IOVA	0x5a5a5000ULL
/* Where "pamode" maps the buffer pages: not their virtual address. */
#define PAMODE_IOVA	0x40000000ULL

#define EXIT_LEAK	1
#define EXIT_SETUP	2

/* Pages of the probe's arena. */
enum {
	P_RXRING, P_TXRING, P_TXBUF, P_RXBUF,	/* mapped in "partial" */
	P_SECRET, P_VICTIM,			/* never mapped (but "reopen") */
	P_COUNT
};

struct arena {
	uint8_t *mem;
	uint64_t pa[P_COUNT];
};

struct ring {
	unsigned int index;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_a, avail_a, used_a;	/* addresses given to the device */
	uint16_t avail_idx;
	int kick, call;
};

static const char *dev_path;
static bool leaked;

static void fail_setup(const char *what)
{
	fprintf(stderr, "sim-isolation-probe: %s: %s\n", what, strerror(errno));
	exit(EXIT_SETUP);
}

static void leak(const char *fmt, const char *scenario)
{
	printf("LEAK %s: ", scenario);
	printf(fmt, scenario);
	printf("\n");
	leaked = true;
}

static uint8_t secret_byte(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 13));
}

static uint8_t victim_byte(size_t i)
{
	return (uint8_t)(0x3c ^ (i * 7));
}

static uint8_t *page(struct arena *a, unsigned int p)
{
	return a->mem + p * PG;
}

static uint64_t vaddr(struct arena *a, unsigned int p)
{
	return (uintptr_t)page(a, p);
}

/* Physical address of a locked, populated page. */
static uint64_t phys_of(void *p)
{
	uint64_t ent;
	off_t off = (uintptr_t)p / PG * sizeof(ent);
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		fail_setup("open /proc/self/pagemap");
	if (pread(fd, &ent, sizeof(ent), off) != sizeof(ent))
		fail_setup("read /proc/self/pagemap");
	close(fd);
	if (!(ent & (1ULL << 63)) || !(ent & ((1ULL << 55) - 1))) {
		errno = EPERM;
		fail_setup("page frame number (need root)");
	}
	return (ent & ((1ULL << 55) - 1)) * PG;
}

static void arena_init(struct arena *a)
{
	unsigned int i;
	size_t j;

	a->mem = mmap(NULL, P_COUNT * PG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (a->mem == MAP_FAILED)
		fail_setup("mmap");
	if (mlock(a->mem, P_COUNT * PG))
		fail_setup("mlock");
	memset(a->mem, 0, P_COUNT * PG);
	for (j = 0; j < PG; j++) {
		page(a, P_SECRET)[j] = secret_byte(j);
		page(a, P_VICTIM)[j] = victim_byte(j);
	}
	for (i = 0; i < P_COUNT; i++)
		a->pa[i] = phys_of(page(a, i));
}

/* Whether @len bytes at @p contain a run of the secret pattern. */
static bool has_secret(const uint8_t *p, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i + 1 < len; i++) {
		/* Any 16 consecutive secret bytes, at any secret offset. */
		unsigned int off;
		bool hit = false;

		for (off = 0; off < 256 && !hit; off++)
			hit = p[i] == secret_byte(off) &&
			      p[i + 1] == secret_byte(off + 1);
		run = hit ? run + 1 : 0;
		if (run >= 16)
			return true;
	}
	return false;
}

static bool victim_intact(struct arena *a)
{
	size_t j;

	for (j = 0; j < PG; j++)
		if (page(a, P_VICTIM)[j] != victim_byte(j))
			return false;
	return true;
}

static bool secret_intact(struct arena *a)
{
	size_t j;

	for (j = 0; j < PG; j++)
		if (page(a, P_SECRET)[j] != secret_byte(j))
			return false;
	return true;
}

static void xioctl(int fd, unsigned long req, void *arg, const char *name)
{
	if (ioctl(fd, req, arg))
		fail_setup(name);
}

static void set_status(int fd, uint8_t s)
{
	xioctl(fd, VHOST_VDPA_SET_STATUS, &s, "SET_STATUS");
}

static uint8_t get_status(int fd)
{
	uint8_t s;

	xioctl(fd, VHOST_VDPA_GET_STATUS, &s, "GET_STATUS");
	return s;
}

static void iotlb_perm(int fd, uint8_t type, uint64_t iova, uint64_t size,
		       uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = iova,
			.size = size,
			.uaddr = uaddr,
			.perm = perm,
			.type = type,
		},
	};

	if (write(fd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		fail_setup("IOTLB message");
}

static void iotlb(int fd, uint8_t type, uint64_t iova, uint64_t size,
		  uint64_t uaddr)
{
	iotlb_perm(fd, type, iova, size, uaddr, VHOST_ACCESS_RW);
}

/* Map pages [@first, @first + @n) of the arena at IOVA == their address. */
static void map_pages(int fd, struct arena *a, unsigned int first,
		      unsigned int n)
{
	iotlb(fd, VHOST_IOTLB_UPDATE, vaddr(a, first), n * PG,
	      vaddr(a, first));
}

/* Open the device and negotiate up to FEATURES_OK. */
static int dev_open(void)
{
	uint64_t want = (1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	uint64_t features;
	uint8_t s;
	int fd;

	fd = open(dev_path, O_RDWR);
	if (fd < 0)
		fail_setup(dev_path);
	xioctl(fd, VHOST_SET_OWNER, NULL, "SET_OWNER");
	xioctl(fd, VHOST_GET_FEATURES, &features, "GET_FEATURES");
	if ((features & want) != want) {
		errno = ENOTSUP;
		fail_setup("device features");
	}
	xioctl(fd, VHOST_SET_BACKEND_FEATURES, &backend,
	       "SET_BACKEND_FEATURES");
	set_status(fd, 0);
	s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	set_status(fd, s);
	xioctl(fd, VHOST_SET_FEATURES, &want, "SET_FEATURES");
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	set_status(fd, s);
	if (!(get_status(fd) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		errno = EINVAL;
		fail_setup("FEATURES_OK refused");
	}
	return fd;
}

/*
 * Lay a ring out in arena page @p (descriptors, avail at 512, used at
 * 1024) and tell the device where it is: by physical address or by IOVA.
 */
static void ring_setup(int fd, struct arena *a, struct ring *r,
		       unsigned int index, unsigned int p, bool by_pa)
{
	uint64_t base = by_pa ? a->pa[p] : vaddr(a, p);
	struct vhost_vring_state num = { index, QSIZE };
	struct vhost_vring_state base_st = { index, 0 };
	struct vhost_vring_addr addr = { .index = index };
	struct vhost_vring_file f;

	memset(page(a, p), 0, PG);
	r->index = index;
	r->desc = (void *)page(a, p);
	r->avail = (void *)(page(a, p) + 512);
	r->used = (void *)(page(a, p) + 1024);
	r->desc_a = base;
	r->avail_a = base + 512;
	r->used_a = base + 1024;
	r->avail_idx = 0;
	addr.desc_user_addr = r->desc_a;
	addr.avail_user_addr = r->avail_a;
	addr.used_user_addr = r->used_a;
	r->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->kick < 0 || r->call < 0)
		fail_setup("eventfd");
	xioctl(fd, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
	xioctl(fd, VHOST_SET_VRING_BASE, &base_st, "SET_VRING_BASE");
	xioctl(fd, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
	f = (struct vhost_vring_file){ index, r->kick };
	xioctl(fd, VHOST_SET_VRING_KICK, &f, "SET_VRING_KICK");
	f = (struct vhost_vring_file){ index, r->call };
	xioctl(fd, VHOST_SET_VRING_CALL, &f, "SET_VRING_CALL");
}

static void ring_close(struct ring *r)
{
	close(r->kick);
	close(r->call);
}

static void start(int fd)
{
	struct vhost_vring_state on;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		on = (struct vhost_vring_state){ i, 1 };
		xioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &on,
		       "SET_VRING_ENABLE");
	}
	set_status(fd, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void post(struct ring *r, uint16_t id, uint64_t addr, uint32_t len,
		 uint16_t flags)
{
	uint64_t one = 1;

	r->desc[id].addr = addr;
	r->desc[id].len = len;
	r->desc[id].flags = flags;
	r->desc[id].next = 0;
	r->avail->ring[r->avail_idx % QSIZE] = id;
	r->avail_idx++;
	__atomic_store_n(&r->avail->idx, r->avail_idx, __ATOMIC_RELEASE);
	if (write(r->kick, &one, sizeof(one)) != sizeof(one))
		fail_setup("kick");
}

static uint16_t used_idx(struct ring *r)
{
	return __atomic_load_n(&r->used->idx, __ATOMIC_ACQUIRE);
}

/*
 * Wait until the device acted on what was posted: it returned the TX chain
 * or stopped with NEEDS_RESET (at most 5 s), then a little longer for
 * anything it might still write.
 */
static void settle(int fd, struct ring *tx)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	unsigned int i;

	for (i = 0; i < 250; i++) {
		if (used_idx(tx) ||
		    (get_status(fd) & VIRTIO_CONFIG_S_NEEDS_RESET))
			break;
		nanosleep(&ts, NULL);
	}
	if (i == 250)
		printf("(the device did not act within 5 s) ");
	ts.tv_nsec = 200 * 1000 * 1000;
	nanosleep(&ts, NULL);
}

/* A TX frame (header + @len bytes) taken from the mapped TX buffer page. */
static void post_good_tx(struct arena *a, struct ring *tx, uint16_t id,
			 uint64_t addr)
{
	uint8_t *f = page(a, P_TXBUF);

	memset(f, 0, NET_HDR_LEN);
	memset(f + NET_HDR_LEN, 0xff, 12);	/* broadcast MACs */
	f[NET_HDR_LEN + 12] = 0x88;
	f[NET_HDR_LEN + 13] = 0xb5;
	memset(f + NET_HDR_LEN + 14, 0x5a, FRAME_LEN - 14);
	post(tx, id, addr, NET_HDR_LEN + FRAME_LEN, 0);
}

static void report(int fd, struct ring *rx, struct ring *tx)
{
	printf("status %#x, rx used %u, tx used %u\n", get_status(fd),
	       used_idx(rx), used_idx(tx));
}

/* Map nothing; everything by physical address. */
static void scenario_nomap(struct arena *a)
{
	struct ring rx, tx;
	int fd = dev_open();

	ring_setup(fd, a, &rx, RX_QUEUE, P_RXRING, true);
	ring_setup(fd, a, &tx, TX_QUEUE, P_TXRING, true);
	start(fd);
	/* Fill the rings through our own mapping; the device sees PAs. */
	post(&rx, 0, a->pa[P_VICTIM], PG, VRING_DESC_F_WRITE);
	post(&tx, 0, a->pa[P_SECRET], NET_HDR_LEN + FRAME_LEN, 0);
	settle(fd, &tx);
	printf("nomap: ");
	report(fd, &rx, &tx);
	if (used_idx(&rx) || used_idx(&tx))
		leak("%s: the device used a ring it was never given", "nomap");
	if (!victim_intact(a))
		leak("%s: the device wrote to an unmapped page", "nomap");
	ring_close(&rx);
	ring_close(&tx);
	close(fd);
}

/*
 * One open with the rings and one buffer page each way mapped (IOVA ==
 * virtual address) and one descriptor at unmapped memory, @bad.  @write:
 * @bad is an RX buffer and a good frame is sent; otherwise @bad is the TX
 * frame and a mapped RX buffer waits for it.
 */
static void partial_case(struct arena *a, const char *name, bool write,
			 uint64_t bad)
{
	struct ring rx, tx;
	int fd = dev_open();

	map_pages(fd, a, P_RXRING, 4);
	ring_setup(fd, a, &rx, RX_QUEUE, P_RXRING, false);
	ring_setup(fd, a, &tx, TX_QUEUE, P_TXRING, false);
	start(fd);
	memset(page(a, P_RXBUF), 0, PG);
	if (write) {
		post(&rx, 0, bad, PG, VRING_DESC_F_WRITE);
		post_good_tx(a, &tx, 0, vaddr(a, P_TXBUF));
	} else {
		post(&rx, 0, vaddr(a, P_RXBUF), PG, VRING_DESC_F_WRITE);
		post(&tx, 0, bad, NET_HDR_LEN + FRAME_LEN, 0);
	}
	settle(fd, &tx);
	printf("%s: %s %#llx: ", name, write ? "RX buffer at" : "TX frame at",
	       (unsigned long long)bad);
	report(fd, &rx, &tx);
	if (has_secret(page(a, P_RXBUF), PG))
		leak("%s: secret bytes reached the RX buffer", name);
	if (write && used_idx(&rx))
		leak("%s: an RX buffer in unmapped memory was used", name);
	if (!victim_intact(a))
		leak("%s: the device wrote to an unmapped page", name);
	ring_close(&rx);
	ring_close(&tx);
	close(fd);
}

/* Descriptors at the secret and victim pages, by IOVA and by PA. */
static void scenario_partial(struct arena *a, const char *name)
{
	partial_case(a, name, false, vaddr(a, P_SECRET));
	partial_case(a, name, false, a->pa[P_SECRET]);
	partial_case(a, name, true, vaddr(a, P_VICTIM));
	partial_case(a, name, true, a->pa[P_VICTIM]);
}

/* A previous user's mappings must not survive its close. */
static void scenario_reopen(struct arena *a)
{
	int fd = dev_open();

	/* First user: everything mapped, then gone without unmapping. */
	map_pages(fd, a, 0, P_COUNT);
	close(fd);
	scenario_partial(a, "reopen");
}

/* Tell the device @r's descriptor table is at @iova; the probe writes its own. */
static void move_desc(int fd, const struct ring *r, uint64_t iova)
{
	struct vhost_vring_addr addr = {
		.index = r->index,
		.desc_user_addr = iova,
		.avail_user_addr = r->avail_a,
		.used_user_addr = r->used_a,
	};

	xioctl(fd, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
}

/*
 * One open with the rings mapped at their virtual addresses and the
 * buffer pages mapped at @buf_iova (their virtual address, or not), an RX
 * buffer at @rx and a TX frame at @bad, or the TX descriptor table at
 * @tx_desc if it is not 0, which must not be reachable: the device must
 * stop with NEEDS_RESET and use neither buffer.
 */
static void fault_case(struct arena *a, const char *name, uint64_t buf_iova,
		       uint64_t rx_addr, uint64_t bad, uint64_t tx_desc)
{
	struct ring rx, tx;
	int fd = dev_open();

	map_pages(fd, a, P_RXRING, 2);
	iotlb(fd, VHOST_IOTLB_UPDATE, buf_iova, 2 * PG, vaddr(a, P_TXBUF));
	ring_setup(fd, a, &rx, RX_QUEUE, P_RXRING, false);
	ring_setup(fd, a, &tx, TX_QUEUE, P_TXRING, false);
	if (tx_desc)
		move_desc(fd, &tx, tx_desc);
	start(fd);
	post(&rx, 0, rx_addr, PG, VRING_DESC_F_WRITE);
	post(&tx, 0, bad, NET_HDR_LEN + FRAME_LEN, 0);
	settle(fd, &tx);
	printf("%s: TX frame at %#llx, buffers mapped at IOVA %#llx: ", name,
	       (unsigned long long)bad, (unsigned long long)buf_iova);
	report(fd, &rx, &tx);
	if (!(get_status(fd) & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		printf("FAIL %s: no NEEDS_RESET within 5 s\n", name);
		leaked = true;
	}
	if (used_idx(&rx) || used_idx(&tx))
		leak("%s: a chain with an unreachable buffer completed", name);
	ring_close(&rx);
	ring_close(&tx);
	close(fd);
}

/* A TX frame at an address nobody mapped in any way. */
static void scenario_stray(struct arena *a)
{
	fault_case(a, "stray", vaddr(a, P_TXBUF), vaddr(a, P_RXBUF),
		   STRAY_IOVA, 0);
}

/* A good TX frame, but the TX descriptor table where nothing is mapped. */
static void scenario_desctab(struct arena *a)
{
	fault_case(a, "desctab", vaddr(a, P_TXBUF), vaddr(a, P_RXBUF),
		   vaddr(a, P_TXBUF), STRAY_IOVA);
}

/*
 * Buffers mapped at PAMODE_IOVA, TX frames given by virtual address, in
 * each of the two pages (two pinned ranges unless they are physically
 * contiguous).
 */
static void scenario_pamode(struct arena *a)
{
	fault_case(a, "pamode", PAMODE_IOVA, PAMODE_IOVA + PG,
		   vaddr(a, P_TXBUF), 0);
	fault_case(a, "pamode", PAMODE_IOVA, PAMODE_IOVA,
		   vaddr(a, P_RXBUF) + 256, 0);
}

/* utime + stime, in clock ticks, of the thread whose name is @comm. */
static long long thread_cpu(const char *comm)
{
	char path[300], name[64], buf[1024], *p;
	struct dirent *de;
	long long ut, st;
	DIR *proc;
	FILE *f;

	proc = opendir("/proc");
	if (!proc)
		fail_setup("/proc");
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
		name[strcspn(name, "\n")] = 0;
		if (strcmp(name, comm))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		closedir(proc);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f))
			fail_setup(path);
		fclose(f);
		/* Fields 14 and 15, after the ")" that ends the name. */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
				 &ut, &st) != 2)
			fail_setup("parse /proc/PID/stat");
		return ut + st;
	}
	errno = ESRCH;
	fail_setup(comm);
	return 0;
}

/*
 * The used rings are read-only for the device. Nothing is posted, so the
 * first thing that fails is writing used->flags when the device re-enables
 * notifications: it must stop with NEEDS_RESET, not retry forever.
 */
static int scenario_roused(struct arena *a, const char *comm)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	long long before, after, hz = sysconf(_SC_CLK_TCK);
	struct ring rx, tx;
	unsigned int i;
	uint8_t s = 0;
	int fd = dev_open();

	/* Descriptors and avail rings RW, used rings (at +1024) RO. */
	for (i = P_RXRING; i <= P_TXRING; i++) {
		iotlb(fd, VHOST_IOTLB_UPDATE, vaddr(a, i), 1024, vaddr(a, i));
		iotlb_perm(fd, VHOST_IOTLB_UPDATE, vaddr(a, i) + 1024,
			   PG - 1024, vaddr(a, i) + 1024, VHOST_ACCESS_RO);
	}
	ring_setup(fd, a, &rx, RX_QUEUE, P_RXRING, false);
	ring_setup(fd, a, &tx, TX_QUEUE, P_TXRING, false);
	start(fd);
	for (i = 0; i < 250; i++) {
		s = get_status(fd);
		if (s & VIRTIO_CONFIG_S_NEEDS_RESET)
			break;
		nanosleep(&ts, NULL);
	}
	printf("roused: status %#x after %u ms\n", s, i * 20);
	if (!(s & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		printf("FAIL roused: no NEEDS_RESET within 5 s\n");
		leaked = true;
	}
	before = thread_cpu(comm);
	sleep(3);
	after = thread_cpu(comm);
	printf("roused: %s used %lld ticks (of %lld/s) in 3 s\n", comm,
	       after - before, hz);
	if ((after - before) * 10 >= hz) {
		printf("FAIL roused: the datapath thread keeps running\n");
		leaked = true;
	}
	ring_close(&rx);
	ring_close(&tx);
	close(fd);
	return leaked ? EXIT_LEAK : 0;
}

int main(int argc, char **argv)
{
	struct arena a;
	const char *what;

	if (argc == 4 && !strcmp(argv[1], "roused")) {
		dev_path = argv[2];
		setvbuf(stdout, NULL, _IOLBF, 0);
		arena_init(&a);
		return scenario_roused(&a, argv[3]);
	}
	if (argc != 3 || (strcmp(argv[1], "nomap") &&
			  strcmp(argv[1], "partial") &&
			  strcmp(argv[1], "reopen") &&
			  strcmp(argv[1], "stray") &&
			  strcmp(argv[1], "desctab") &&
			  strcmp(argv[1], "pamode"))) {
		fprintf(stderr,
			"usage: sim-isolation-probe nomap|partial|reopen|stray|desctab|pamode /dev/vhost-vdpa-N\n"
			"       sim-isolation-probe roused /dev/vhost-vdpa-N THREAD-NAME\n");
		return EXIT_SETUP;
	}
	what = argv[1];
	dev_path = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	arena_init(&a);
	if (!strcmp(what, "nomap"))
		scenario_nomap(&a);
	else if (!strcmp(what, "partial"))
		scenario_partial(&a, "partial");
	else if (!strcmp(what, "stray"))
		scenario_stray(&a);
	else if (!strcmp(what, "desctab"))
		scenario_desctab(&a);
	else if (!strcmp(what, "pamode"))
		scenario_pamode(&a);
	else
		scenario_reopen(&a);
	if (!secret_intact(&a))
		leak("%s: the device wrote to the secret page", what);
	if (leaked)
		return EXIT_LEAK;
	printf("%s: isolated\n", what);
	return 0;
}
