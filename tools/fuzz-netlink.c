// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-netlink: random and mutated requests to the "vdpa" generic netlink
 * family.
 *
 * Each iteration sends one request (sometimes two in one datagram) built
 * from random choices: any command id, any flags (dump or not), random
 * attributes 0..VDPA_ATTR_MAX+5 with payloads of the wrong size, strings
 * without a NUL, empty and 64 KiB names, nested garbage, corrupted
 * lengths; and, one time in five, a valid-ish DEV_NEW/DEV_DEL/DEV_GET on
 * the real management devices (vdpasim_net, vdpasim_blk) with names
 * starting with "fz", so that devices come and go.  Some dumps are
 * abandoned half way by closing the socket.  Replies are parsed with
 * libnl's attribute parser; a malformed one is a failure.  Every 64
 * iterations and at the end, devices that did not exist when the run
 * started are deleted (so do not create devices next to a run).
 *
 * With -u the requests are sent by an unprivileged user (uid 65534) for
 * half of the time and by root inside a new user namespace for the other
 * half; every well-formed admin request (DEV_NEW, DEV_DEL, DEV_VSTATS_GET)
 * must then fail with EPERM.
 *
 * Output: "fuzz-netlink: N inputs, seed S (...)"; one input is one
 * request sent.  Exit status 1 on a kernel report or a failed check.
 */
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vdpa.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "fuzz.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK	11
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED	0x100
#endif

#define REQ_CAP		(256 * 1024)
#define RX_CAP		(256 * 1024)
#define NLA_PAYLOAD_MAX	(0xffff - NLA_HDRLEN)
#define UNPRIV_UID	65534
#define CLEAN_EVERY	64
#define CMD_LAST	VDPA_CMD_DEV_VSTATS_GET
#define MAX_DEVS	64
#define NAME_CAP	256

/* Counters shared with the unprivileged children (MAP_SHARED). */
struct counts {
	unsigned long inputs, iters;
	unsigned long acked_ok, acked_err, dumps, cut_dumps, replies;
	unsigned long created, perm_checked, failures;
	unsigned long last_iter;
	bool reported;
	bool no_userns;		/* unshare(CLONE_NEWUSER) refused */
};

struct devlist;

struct nlf {
	struct fz f;
	int family;
	int sock;
	uint32_t seq;
	uint32_t want;		/* sequence number whose answer counts */
	bool unpriv;		/* expect EPERM for admin commands */
	struct counts *c;
	uint8_t *req;
	size_t len;
	uint8_t *rx;
	struct devlist *before;	/* devices that existed at start */
};

/* What came back for one request. */
struct result {
	bool acked;
	int err;
	char msg[128];		/* extack message */
	unsigned int data;
	bool done;
};

/* ---- sockets ---- */

static int nl_open(struct nlf *n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	int one = 1, buf = 1 << 20;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (s < 0)
		fz_die(&n->f, FZ_EXIT_SETUP, "netlink socket: %s", strerror(errno));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)))
		fz_die(&n->f, FZ_EXIT_SETUP, "bind: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return s;
}

static void nl_reopen(struct nlf *n)
{
	close(n->sock);
	n->sock = nl_open(n);
}

static int resolve_family(struct fz *f)
{
	struct nl_sock *sk = nl_socket_alloc();
	int id;

	if (!sk || genl_connect(sk))
		fz_die(f, FZ_EXIT_SETUP, "cannot connect to generic netlink");
	id = genl_ctrl_resolve(sk, VDPA_GENL_NAME);
	nl_socket_free(sk);
	if (id < 0)
		fz_die(f, FZ_EXIT_SETUP, "no \"%s\" family: %s (modules loaded?)",
		       VDPA_GENL_NAME, nl_geterror(id));
	return id;
}

/* ---- building requests ---- */

static struct nlmsghdr *msg_begin(struct nlf *n, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *h;
	struct genlmsghdr *g;

	n->len = NLMSG_ALIGN(n->len);
	h = (struct nlmsghdr *)(n->req + n->len);
	memset(h, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = n->family;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = ++n->seq;
	g = NLMSG_DATA(h);
	g->cmd = cmd;
	g->version = VDPA_GENL_VERSION;
	n->len += NLMSG_HDRLEN + GENL_HDRLEN;
	return h;
}

static void msg_end(struct nlf *n, struct nlmsghdr *h)
{
	h->nlmsg_len = n->req + n->len - (uint8_t *)h;
}

static bool room(const struct nlf *n, size_t len)
{
	return n->len + NLA_HDRLEN + NLA_ALIGN(len) + 64 < REQ_CAP;
}

static struct nlattr *attr_put(struct nlf *n, uint16_t type, const void *data,
			       size_t len)
{
	struct nlattr *a;

	if (len > NLA_PAYLOAD_MAX)
		len = NLA_PAYLOAD_MAX;
	if (!room(n, len))
		return NULL;
	a = (struct nlattr *)(n->req + n->len);
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (data)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
	memset((uint8_t *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	n->len += NLA_HDRLEN + NLA_ALIGN(len);
	return a;
}

static void attr_str(struct nlf *n, uint16_t type, const char *s)
{
	attr_put(n, type, s, strlen(s) + 1);
}

static void attr_int(struct nlf *n, uint16_t type, uint64_t v, size_t size)
{
	attr_put(n, type, &v, size);
}

static const char * const mgmtdevs[] = { "vdpasim_net", "vdpasim_blk" };

/* A device name: mostly fz0..fz7, sometimes odd or very long. */
static void pick_name(struct nlf *n, char *buf, size_t cap)
{
	static const char * const odd[] = {
		"", "fz/x", "fz\nx", "fz x", ".", "..", "fz%s%n", "fz0\0hidden",
		"vdpasim_net", "FZ0",
	};
	struct fz *f = &n->f;
	size_t len, i;

	switch (fz_below(f, 8)) {
	case 0:
		snprintf(buf, cap, "%s", odd[fz_below(f, FZ_ARRAY_SIZE(odd))]);
		return;
	case 1:
		len = fz_chance(f, 50) ? 60 + fz_below(f, 8) : fz_below(f, cap - 1);
		if (len > cap - 1)
			len = cap - 1;
		buf[0] = 'f';
		buf[1] = 'z';
		for (i = 2; i < len; i++)
			buf[i] = 'a' + fz_below(f, 26);
		buf[len > 2 ? len : 2] = '\0';
		return;
	default:
		snprintf(buf, cap, "fz%u", (unsigned int)fz_below(f, 8));
	}
}

/* A payload of the right kind for @type, as far as we know it. */
static void attr_valid(struct nlf *n, uint16_t type)
{
	struct fz *f = &n->f;
	char name[80];
	uint8_t mac[6];

	switch (type) {
	case VDPA_ATTR_MGMTDEV_BUS_NAME:
		attr_str(n, type, fz_chance(f, 50) ? "" : "pci");
		break;
	case VDPA_ATTR_MGMTDEV_DEV_NAME:
		attr_str(n, type, mgmtdevs[fz_below(f, 2)]);
		break;
	case VDPA_ATTR_DEV_NAME:
	case VDPA_ATTR_DEV_VENDOR_ATTR_NAME:
		pick_name(n, name, sizeof(name));
		attr_str(n, type, name);
		break;
	case VDPA_ATTR_DEV_NET_CFG_MACADDR:
		fz_fill(f, mac, sizeof(mac));
		mac[0] &= 0xfe;
		attr_put(n, type, mac, sizeof(mac));
		break;
	case VDPA_ATTR_DEV_NET_STATUS:
		attr_int(n, type, fz_rand(f), 1);
		break;
	case VDPA_ATTR_DEV_NET_CFG_MAX_VQP:
		attr_int(n, type, fz_chance(f, 70) ? 1 + fz_below(f, 4) : fz_edge(f), 2);
		break;
	case VDPA_ATTR_DEV_NET_CFG_MTU:
	case VDPA_ATTR_DEV_MAX_VQ_SIZE:
	case VDPA_ATTR_DEV_MIN_VQ_SIZE:
		attr_int(n, type, fz_chance(f, 50) ? 68 + fz_below(f, 9000) : fz_edge(f), 2);
		break;
	case VDPA_ATTR_DEV_ID:
	case VDPA_ATTR_DEV_VENDOR_ID:
	case VDPA_ATTR_DEV_MAX_VQS:
	case VDPA_ATTR_DEV_MGMTDEV_MAX_VQS:
	case VDPA_ATTR_DEV_QUEUE_INDEX:
		attr_int(n, type, fz_chance(f, 50) ? fz_below(f, 8) : fz_edge(f), 4);
		break;
	default:
		attr_int(n, type, fz_edge(f), 8);
		break;
	}
}

static void attr_garbage(struct nlf *n, uint16_t type, unsigned int depth);

/* Random children inside a nest attribute. */
static void attr_nest(struct nlf *n, uint16_t type, unsigned int depth)
{
	struct nlattr *a = attr_put(n, type | NLA_F_NESTED, NULL, 0);
	unsigned int i, k = fz_below(&n->f, 5);
	size_t start = n->len;

	if (!a)
		return;
	for (i = 0; i < k; i++)
		attr_garbage(n, fz_below(&n->f, VDPA_ATTR_MAX + 6), depth + 1);
	if (n->len - start + NLA_HDRLEN <= 0xffff)
		a->nla_len = NLA_HDRLEN + n->len - start;
}

/* A payload of the wrong kind: size, missing NUL, huge, nested... */
static void attr_garbage(struct nlf *n, uint16_t type, unsigned int depth)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 64 };
	struct fz *f = &n->f;
	uint8_t buf[256];
	size_t len, i;
	uint8_t *p;

	switch (fz_below(f, 7)) {
	case 0:		/* integer of a wrong size */
		len = sizes[fz_below(f, FZ_ARRAY_SIZE(sizes))];
		fz_fill(f, buf, len);
		attr_put(n, type, buf, len);
		break;
	case 1:		/* string without its NUL */
		len = 1 + fz_below(f, 80);
		for (i = 0; i < len; i++)
			buf[i] = 'a' + fz_below(f, 26);
		attr_put(n, type, buf, len);
		break;
	case 2:		/* empty */
		attr_put(n, type, NULL, 0);
		break;
	case 3:		/* huge name, NUL-terminated or not */
		len = fz_chance(f, 50) ? NLA_PAYLOAD_MAX - fz_below(f, 4) :
					 64 + fz_below(f, 8192);
		p = malloc(len);
		if (!p)
			break;
		memset(p, 'z', len);
		p[0] = 'f';
		if (fz_chance(f, 50))
			p[len - 1] = '\0';
		attr_put(n, type, p, len);
		free(p);
		break;
	case 4:		/* nested garbage */
		if (depth < 3) {
			attr_nest(n, type, depth);
			break;
		}
		fallthrough;
	case 5:		/* random bytes */
		len = fz_below(f, sizeof(buf));
		fz_fill(f, buf, len);
		attr_put(n, type, buf, len);
		break;
	default:
		attr_valid(n, type);
		break;
	}
}

static uint16_t pick_type(struct fz *f)
{
	uint16_t t = fz_below(f, VDPA_ATTR_MAX + 6);

	if (fz_chance(f, 5))
		t = fz_rand(f);
	else if (fz_chance(f, 5))
		t |= fz_chance(f, 50) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER;
	return t;
}

static uint8_t pick_cmd(struct fz *f)
{
	if (fz_chance(f, 80))
		return fz_below(f, CMD_LAST + 4);
	if (fz_chance(f, 50))
		return fz_below(f, 16);
	return fz_rand(f);
}

static uint16_t pick_flags(struct fz *f)
{
	uint16_t flags = NLM_F_REQUEST;

	if (fz_chance(f, 3))
		flags = 0;
	if (fz_chance(f, 70))
		flags |= NLM_F_ACK;
	if (fz_chance(f, 30))
		flags |= NLM_F_DUMP;
	if (fz_chance(f, 5))
		flags |= fz_rand(f);
	return flags;
}

/* A fully random request. */
static void build_random(struct nlf *n)
{
	struct fz *f = &n->f;
	struct nlmsghdr *h = msg_begin(n, pick_cmd(f), pick_flags(f));
	struct genlmsghdr *g = NLMSG_DATA(h);
	unsigned int i, k = fz_below(f, 9);

	if (fz_chance(f, 5))
		g->version = fz_rand(f);
	if (fz_chance(f, 5))
		g->reserved = fz_rand(f);
	for (i = 0; i < k; i++) {
		uint16_t t = pick_type(f);

		if (fz_chance(f, 50))
			attr_valid(n, t & NLA_TYPE_MASK);
		else
			attr_garbage(n, t, 0);
	}
	msg_end(n, h);
}

/* DEV_NEW, DEV_DEL, DEV_GET, CONFIG_GET or VSTATS_GET that could work. */
static void build_validish(struct nlf *n)
{
	static const uint8_t cmds[] = {
		VDPA_CMD_DEV_NEW, VDPA_CMD_DEV_NEW, VDPA_CMD_DEV_DEL,
		VDPA_CMD_DEV_GET, VDPA_CMD_DEV_CONFIG_GET,
		VDPA_CMD_DEV_VSTATS_GET, VDPA_CMD_MGMTDEV_GET,
	};
	struct fz *f = &n->f;
	uint8_t cmd = cmds[fz_below(f, FZ_ARRAY_SIZE(cmds))];
	struct nlmsghdr *h = msg_begin(n, cmd, NLM_F_REQUEST | NLM_F_ACK);
	char name[80];

	pick_name(n, name, sizeof(name));
	if (fz_chance(f, 10))
		snprintf(name, sizeof(name), "fz%u", (unsigned int)fz_below(f, 8));
	if (cmd != VDPA_CMD_MGMTDEV_GET)
		attr_str(n, VDPA_ATTR_DEV_NAME, name);
	if (cmd == VDPA_CMD_DEV_NEW || cmd == VDPA_CMD_MGMTDEV_GET)
		attr_valid(n, VDPA_ATTR_MGMTDEV_DEV_NAME);
	if (cmd == VDPA_CMD_DEV_NEW) {
		if (fz_chance(f, 30))
			attr_valid(n, VDPA_ATTR_DEV_NET_CFG_MACADDR);
		if (fz_chance(f, 40))
			attr_valid(n, VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
		if (fz_chance(f, 30))
			attr_valid(n, VDPA_ATTR_DEV_NET_CFG_MTU);
		if (fz_chance(f, 20))
			attr_int(n, VDPA_ATTR_DEV_FEATURES, fz_chance(f, 50) ?
				 fz_rand(f) : 1ULL << 32 | fz_rand(f) >> 40, 8);
	}
	if (cmd == VDPA_CMD_DEV_VSTATS_GET)
		attr_valid(n, VDPA_ATTR_DEV_QUEUE_INDEX);
	if (fz_chance(f, 10))
		attr_garbage(n, pick_type(f), 0);
	msg_end(n, h);
}

/* ---- replies ---- */

static void check_data(struct nlf *n, struct nlmsghdr *h)
{
	struct nlattr *tb[VDPA_ATTR_MAX + 1];
	int err = genlmsg_parse(h, 0, tb, VDPA_ATTR_MAX, NULL);

	n->c->replies++;
	if (err < 0) {
		n->c->failures++;
		printf("fuzz-netlink: malformed reply to seed %llu iteration %lu: %s\n",
		       (unsigned long long)n->f.seed, n->f.iter, nl_geterror(err));
		return;
	}
	if (tb[VDPA_ATTR_DEV_NAME])
		nla_get_string(tb[VDPA_ATTR_DEV_NAME]);
}

static void check_error(struct nlf *n, struct nlmsghdr *h, struct result *r)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlmsgerr *e = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_HDRLEN, hlen = sizeof(*e);

	if (len < hlen) {
		n->c->failures++;
		printf("fuzz-netlink: short error message (%d bytes)\n", len);
		return;
	}
	r->acked = true;
	r->err = e->error;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		hlen += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	if (len <= hlen ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((uint8_t *)e + hlen), len - hlen, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0)
		snprintf(r->msg, sizeof(r->msg), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

/*
 * Read what the kernel queued for our requests.  @cut: stop
 * after the first datagram (the caller then abandons the dump).
 */
static void receive(struct nlf *n, struct result *r, bool cut)
{
	struct nlmsghdr *h;
	ssize_t len;
	int rem, flags = MSG_DONTWAIT;

	for (;;) {
		len = recv(n->sock, n->rx, RX_CAP, flags);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return;
		rem = len;
		for (h = (struct nlmsghdr *)n->rx; NLMSG_OK(h, rem);
		     h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				if (h->nlmsg_seq == n->want)
					check_error(n, h, r);
			} else if (h->nlmsg_type == NLMSG_DONE) {
				r->done = true;
			} else if (h->nlmsg_type == n->family) {
				r->data++;
				check_data(n, h);
			}
		}
		if (cut)
			return;
	}
}

/* Send the request built in n->req; returns false if the send failed. */
static bool send_req(struct nlf *n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	n->c->inputs++;
	n->f.inputs++;
	n->want = n->seq;
	return sendto(n->sock, n->req, n->len, 0, (struct sockaddr *)&sa,
		      sizeof(sa)) >= 0;
}

static bool is_admin(uint8_t cmd)
{
	return cmd == VDPA_CMD_DEV_NEW || cmd == VDPA_CMD_DEV_DEL ||
	       cmd == VDPA_CMD_DEV_VSTATS_GET;
}

/* Flags the netlink core lets through to the family's permission check. */
static bool plain_flags(uint16_t flags)
{
	uint16_t dump = flags & NLM_F_DUMP;

	return !(flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_DUMP)) &&
	       (!dump || dump == NLM_F_DUMP);
}

/*
 * Unprivileged: a well-formed admin request must get EPERM.  Generic
 * netlink itself refuses a non-zero reserved header byte and unknown or
 * ambiguous nlmsg_flags (EINVAL) before it looks at permissions: such
 * requests are not checked.
 */
static void check_perm(struct nlf *n, const struct nlmsghdr *h,
		       const struct result *r)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);

	if (!n->unpriv || !(h->nlmsg_flags & NLM_F_REQUEST) ||
	    h->nlmsg_len != n->len || n->len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    g->reserved || !is_admin(g->cmd) || !plain_flags(h->nlmsg_flags))
		return;
	n->c->perm_checked++;
	if (r->acked && r->err == -EPERM)
		return;
	n->c->failures++;
	if (n->c->failures < 10)
		printf("fuzz-netlink: unpriv cmd %u flags %#x: %s \"%s\" (seed %llu iter %lu)\n",
		       g->cmd, h->nlmsg_flags,
		       r->acked ? strerror(-r->err) : "no answer", r->msg,
		       (unsigned long long)n->f.seed, n->f.iter);
}

static void one_request(struct nlf *n)
{
	struct fz *f = &n->f;
	struct nlmsghdr *h;
	struct result r = { 0 };
	bool dump, cut;
	uint32_t seq;
	uint8_t cmd;

	n->len = 0;
	if (fz_chance(f, 20))
		build_validish(n);
	else
		build_random(n);
	h = (struct nlmsghdr *)n->req;
	cmd = ((struct genlmsghdr *)NLMSG_DATA(h))->cmd;
	seq = h->nlmsg_seq;
	dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (fz_chance(f, 5)) {		/* a second request in the datagram */
		size_t first = n->len;

		build_random(n);
		h = (struct nlmsghdr *)n->req;
		if (fz_chance(f, 50))
			n->len = first + fz_below(f, n->len - first);
	} else if (fz_chance(f, 4)) {	/* a lying nlmsg_len */
		h->nlmsg_len = fz_chance(f, 50) ? fz_below(f, h->nlmsg_len + 64) :
						  fz_edge(f);
	} else if (fz_chance(f, 3)) {	/* truncated datagram */
		n->len = fz_below(f, n->len + 1);
	}
	cut = dump && fz_chance(f, 20);
	if (!send_req(n))
		return;
	n->want = seq;	/* the answer checked is the first request's */
	receive(n, &r, cut);
	if (dump)
		n->c->dumps++;
	if (cut) {
		n->c->cut_dumps++;
		nl_reopen(n);
	}
	if (r.acked && !r.err)
		n->c->acked_ok++;
	else if (r.acked)
		n->c->acked_err++;
	if (r.acked && !r.err && cmd == VDPA_CMD_DEV_NEW)
		n->c->created++;
	check_perm(n, h, &r);
}

/* ---- cleanup ---- */

/* Device names seen in a DEV_GET dump. */
struct devlist {
	unsigned int k;
	bool truncated;		/* more devices, or a name too long */
	char name[MAX_DEVS][NAME_CAP];
};

static void list_add(struct devlist *l, const struct nlattr *a)
{
	int len = nla_len(a);

	if (l->k >= MAX_DEVS || len < 1 || len > NAME_CAP) {
		l->truncated = true;
		return;
	}
	memcpy(l->name[l->k], nla_data(a), len);
	l->name[l->k][len - 1] = '\0';
	l->k++;
}

static bool list_has(const struct devlist *l, const char *s)
{
	unsigned int i;

	for (i = 0; i < l->k; i++)
		if (!strcmp(l->name[i], s))
			return true;
	return false;
}

static void list_devs(struct nlf *n, struct devlist *l)
{
	struct nlmsghdr *h;
	ssize_t len;
	int rem;

	l->k = 0;
	l->truncated = false;
	nl_reopen(n);
	n->len = 0;
	h = msg_begin(n, VDPA_CMD_DEV_GET, NLM_F_REQUEST | NLM_F_DUMP);
	msg_end(n, h);
	if (!send_req(n))
		return;
	for (;;) {
		len = recv(n->sock, n->rx, RX_CAP, 0);
		if (len <= 0)
			return;
		rem = len;
		for (h = (struct nlmsghdr *)n->rx; NLMSG_OK(h, rem);
		     h = NLMSG_NEXT(h, rem)) {
			struct nlattr *tb[VDPA_ATTR_MAX + 1];

			if (h->nlmsg_type == NLMSG_DONE ||
			    h->nlmsg_type == NLMSG_ERROR)
				return;
			if (h->nlmsg_type == n->family &&
			    genlmsg_parse(h, 0, tb, VDPA_ATTR_MAX, NULL) >= 0 &&
			    tb[VDPA_ATTR_DEV_NAME])
				list_add(l, tb[VDPA_ATTR_DEV_NAME]);
		}
	}
}

/*
 * Delete every device that was not there when we started (the fuzzer
 * creates "fz..." names but also odd ones such as "FZ0"); false if some
 * would not go.
 */
static bool cleanup(struct nlf *n)
{
	static struct devlist now;
	unsigned int pass, i, left = 0;
	struct result r;

	for (pass = 0; pass < 8; pass++) {
		list_devs(n, &now);
		left = 0;
		for (i = 0; i < now.k; i++) {
			struct nlmsghdr *h;

			if (list_has(n->before, now.name[i]))
				continue;
			left++;
			n->len = 0;
			h = msg_begin(n, VDPA_CMD_DEV_DEL, NLM_F_REQUEST | NLM_F_ACK);
			attr_str(n, VDPA_ATTR_DEV_NAME, now.name[i]);
			msg_end(n, h);
			memset(&r, 0, sizeof(r));
			if (send_req(n))
				receive(n, &r, false);
		}
		if (!left && !now.truncated)
			return true;
	}
	printf("fuzz-netlink: %u devices we created are left over\n", left);
	return false;
}

/* The family still answers: a MGMTDEV_GET dump lists something. */
static bool alive(struct nlf *n)
{
	struct nlmsghdr *h;
	struct result r = { 0 };
	ssize_t len;
	int rem;

	nl_reopen(n);
	n->len = 0;
	h = msg_begin(n, VDPA_CMD_MGMTDEV_GET, NLM_F_REQUEST | NLM_F_DUMP);
	msg_end(n, h);
	if (!send_req(n))
		return false;
	while (!r.done && !r.acked) {
		len = recv(n->sock, n->rx, RX_CAP, 0);
		if (len <= 0)
			break;
		rem = len;
		for (h = (struct nlmsghdr *)n->rx; NLMSG_OK(h, rem);
		     h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_type == NLMSG_DONE)
				r.done = true;
			else if (h->nlmsg_type == NLMSG_ERROR)
				r.acked = true;
			else if (h->nlmsg_type == n->family)
				r.data++;
		}
	}
	return r.done && r.data > 0;
}

/* ---- runs ---- */

static void fuzz_loop(struct nlf *n, double until)
{
	struct fz *f = &n->f;

	while (fz_next(f)) {
		n->c->iters++;
		n->c->last_iter = f->iter;
		one_request(n);
		if (!n->unpriv && f->iter % CLEAN_EVERY == CLEAN_EVERY - 1) {
			if (!alive(n)) {
				n->c->failures++;
				printf("fuzz-netlink: no answer after seed %llu iteration %lu\n",
				       (unsigned long long)f->seed, f->iter);
				break;
			}
			cleanup(n);
		}
		if (until && fz_now() >= until)
			break;
	}
	if (f->reported)
		n->c->reported = true;
}

static void drop_to_nobody(struct nlf *n)
{
	if (setgroups(0, NULL) || setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) ||
	    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID))
		fz_die(&n->f, FZ_EXIT_SETUP, "dropping privileges: %s",
		       strerror(errno));
}

/* Root in a new user namespace (uid 0 inside maps to our uid). */
static void enter_userns(struct nlf *n)
{
	char map[64];
	int fd, len;

	if (unshare(CLONE_NEWUSER)) {
		/* Refused in a chroot (the test VM) or by policy. */
		if (errno == EPERM || errno == ENOSPC) {
			n->c->no_userns = true;
			_exit(0);
		}
		fz_die(&n->f, FZ_EXIT_SETUP, "unshare(CLONE_NEWUSER): %s",
		       strerror(errno));
	}
	len = snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)geteuid());
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, map, len) != len)
		fz_die(&n->f, FZ_EXIT_SETUP, "uid_map: %s", strerror(errno));
	close(fd);
}

/* Run the loop in a child: as nobody, or as root of a new user ns. */
static void child_run(struct nlf *n, bool userns, double until)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		fz_die(&n->f, FZ_EXIT_SETUP, "fork: %s", strerror(errno));
	if (!pid) {
		if (userns)
			enter_userns(n);
		else
			drop_to_nobody(n);
		n->sock = nl_open(n);
		fuzz_loop(n, until);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		n->c->failures++;
		printf("fuzz-netlink: %s child failed (status %#x)\n",
		       userns ? "user namespace" : "unprivileged", status);
	}
	/* Go on from where the child stopped. */
	n->f.iter = n->c->last_iter;
	n->f.iters = n->c->iters;
	n->f.inputs = n->c->inputs;
}

static void usage(void)
{
	fprintf(stderr, "Usage: fuzz-netlink [options]\n");
	fz_usage_common();
	fprintf(stderr, "  -u          unprivileged: admin commands must fail with EPERM\n");
	exit(FZ_EXIT_SETUP);
}

int main(int argc, char **argv)
{
	struct nlf n = { 0 };
	char extra[256];
	int c, status = 0;

	fz_init(&n.f, "netlink");
	while ((c = getopt(argc, argv, "s:n:i:t:o:vuh")) != -1) {
		if (fz_option(&n.f, c, optarg))
			continue;
		if (c == 'u')
			n.unpriv = true;
		else
			usage();
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	n.c = mmap(NULL, sizeof(*n.c), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	n.req = malloc(REQ_CAP);
	n.rx = malloc(RX_CAP);
	if (n.c == MAP_FAILED || !n.req || !n.rx)
		fz_die(&n.f, FZ_EXIT_SETUP, "out of memory");
	n.family = resolve_family(&n.f);
	n.sock = nl_open(&n);
	n.before = calloc(1, sizeof(*n.before));
	if (!n.before)
		fz_die(&n.f, FZ_EXIT_SETUP, "out of memory");
	list_devs(&n, n.before);
	if (n.before->truncated)
		fz_die(&n.f, FZ_EXIT_SETUP, "too many devices to start with");
	n.f.inputs = 0;
	n.c->inputs = 0;
	fz_start(&n.f);

	if (n.unpriv) {
		double mid = n.f.deadline ? n.f.t0 + (n.f.deadline - n.f.t0) / 2 : 0;
		unsigned long half = n.f.max_iter / 2;

		if (n.f.max_iter)
			n.f.max_iter -= half;
		child_run(&n, false, mid);
		n.f.max_iter += half;
		if (!n.c->reported)
			child_run(&n, true, 0);
		if (n.c->no_userns)
			printf("fuzz-netlink: no user namespace (chroot?): not tested\n");
		n.f.reported = n.c->reported;
		cleanup(&n);
	} else {
		fuzz_loop(&n, 0);
		if (!alive(&n)) {
			n.c->failures++;
			printf("fuzz-netlink: the family stopped answering\n");
		}
		if (!cleanup(&n))
			n.c->failures++;
	}
	n.f.inputs = n.c->inputs;
	snprintf(extra, sizeof(extra),
		 "%s%lu acked ok, %lu refused, %lu dumps (%lu cut), %lu replies, %lu created, %lu EPERM checks, %lu failures",
		 n.unpriv ? "unprivileged, " : "", n.c->acked_ok,
		 n.c->acked_err, n.c->dumps, n.c->cut_dumps, n.c->replies,
		 n.c->created, n.c->perm_checked, n.c->failures);
	fz_summary(&n.f, extra);
	if (n.c->failures)
		status = FZ_EXIT_REPORT;
	return fz_finish(&n.f, status);
}
