// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa-nl-probe: feed the "vdpa" generic netlink family hand-built
 * requests, most of them malformed, and check that each one is refused
 * with the expected errno and extack message.  A few valid requests
 * around them show that the family keeps working.  Output is TAP; the
 * exit status is non-zero when a check fails.
 *
 * As root (the default) the probe creates one device (--dev) on the net
 * management device (--mgmtdev), runs the malformed series against it and
 * deletes it again.  With --unpriv it expects to run without CAP_NET_ADMIN:
 * the device named by --dev must already exist, read commands must work
 * and every admin command must fail with EPERM.
 */
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vdpa.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED	0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS	0x200
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK	10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK	11
#endif

/* Largest attribute payload a 16-bit nla_len can describe. */
#define NLA_MAX_PAYLOAD	(0xffff - NLA_HDRLEN)
#define REQ_SIZE	(80 * 1024)
#define RX_SIZE		(256 * 1024)
#define NAME_MAX_LEN	63	/* longest accepted device name */

/* Request flags understood by run_req(). */
#define RQ_DUMP		0x1

/* Extack regex meaning "any non-empty message". */
#define ANY_MSG		""

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct probe {
	struct nl_sock *sk;
	int family;
	unsigned int seq;
	const char *dev;
	const char *mgmtdev;
	const char *blk_mgmtdev;
	bool unpriv;
	bool verbose;
	int count;
	int failed;
	uint64_t net_features;		/* supported by --mgmtdev */
	bool have_features;
	unsigned char *rx;
};

/* What one request got back. */
struct reply {
	int err;			/* 0 or a negative errno */
	char msg[256];			/* extack message, "" when none */
	int off;			/* extack attribute offset, -1 when none */
	int nmsgs;			/* data messages */
	const char *want;		/* name to look for in data messages */
	bool found;			/* a data message carried @want */
	uint64_t features;		/* SUPPORTED_FEATURES of that message */
	bool has_features;
	int nprefix;			/* data messages whose name starts with --dev */
	char bad[256];			/* first malformed data attribute */
};

static void tap(struct probe *p, bool ok, const char *desc)
{
	p->count++;
	if (!ok)
		p->failed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", p->count, desc);
	fflush(stdout);
}

static void diag_reply(const struct reply *r)
{
	printf("#   got: errno %d (%s) extack \"%s\" offset %d, %d data message(s)\n",
	       -r->err, r->err ? strerror(-r->err) : "success", r->msg, r->off,
	       r->nmsgs);
	if (r->bad[0])
		printf("#   malformed reply: %s\n", r->bad);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "vdpa-nl-probe: %s: %s\n", what, nl_geterror(err));
	printf("Bail out! %s\n", what);
	exit(2);
}

/* ---- building requests ---- */

static struct nl_msg *req_new(struct probe *p, int cmd)
{
	struct nl_msg *msg = nlmsg_alloc_size(REQ_SIZE);

	if (!msg)
		die("nlmsg_alloc_size", -NLE_NOMEM);
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, p->family, 0, 0,
			 cmd, VDPA_GENL_VERSION))
		die("genlmsg_put", -NLE_NOMEM);
	return msg;
}

/* Offset from the start of the message at which the next attribute goes. */
static int next_off(struct nl_msg *msg)
{
	return NLMSG_ALIGN(nlmsg_hdr(msg)->nlmsg_len);
}

static int put_raw(struct nl_msg *msg, int type, const void *data, int len)
{
	int off = next_off(msg);
	int err = nla_put(msg, type, len, data);

	if (err < 0)
		die("nla_put", err);
	return off;
}

static int put_str(struct nl_msg *msg, int type, const char *s)
{
	return put_raw(msg, type, s, strlen(s) + 1);
}

static int put_u16(struct nl_msg *msg, int type, uint16_t v)
{
	return put_raw(msg, type, &v, sizeof(v));
}

static int put_u32(struct nl_msg *msg, int type, uint32_t v)
{
	return put_raw(msg, type, &v, sizeof(v));
}

static int put_u64(struct nl_msg *msg, int type, uint64_t v)
{
	return put_raw(msg, type, &v, sizeof(v));
}

/* A request naming one device (DEV_NAME) or management device. */
static struct nl_msg *req_dev(struct probe *p, int cmd, const char *name)
{
	struct nl_msg *msg = req_new(p, cmd);

	put_str(msg, VDPA_ATTR_DEV_NAME, name);
	return msg;
}

static struct nl_msg *req_mgmt(struct probe *p, int cmd, const char *mgmt)
{
	struct nl_msg *msg = req_new(p, cmd);

	put_str(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, mgmt);
	return msg;
}

/* DEV_NEW of @name on @mgmt, to which a test adds its own attributes. */
static struct nl_msg *req_add(struct probe *p, const char *name,
			      const char *mgmt)
{
	struct nl_msg *msg = req_new(p, VDPA_CMD_DEV_NEW);

	put_str(msg, VDPA_ATTR_DEV_NAME, name);
	put_str(msg, VDPA_ATTR_MGMTDEV_DEV_NAME, mgmt);
	return msg;
}

/* ---- parsing answers ---- */

static void note_bad(struct reply *r, const char *what, int type, int len)
{
	if (!r->bad[0])
		snprintf(r->bad, sizeof(r->bad), "%s %d (%d)", what, type, len);
}

/* Attribute sizes iproute2 6.1 insists on when it reads a reply. */
static int reply_attr_size(int type)
{
	switch (type) {
	case VDPA_ATTR_DEV_ID:
	case VDPA_ATTR_DEV_VENDOR_ID:
	case VDPA_ATTR_DEV_MAX_VQS:
	case VDPA_ATTR_DEV_MGMTDEV_MAX_VQS:
	case VDPA_ATTR_DEV_QUEUE_INDEX:
		return 4;
	case VDPA_ATTR_DEV_MAX_VQ_SIZE:
	case VDPA_ATTR_DEV_MIN_VQ_SIZE:
	case VDPA_ATTR_DEV_NET_CFG_MAX_VQP:
	case VDPA_ATTR_DEV_NET_CFG_MTU:
	case VDPA_ATTR_DEV_NET_STATUS:
		return 2;
	case VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES:
	case VDPA_ATTR_DEV_NEGOTIATED_FEATURES:
	case VDPA_ATTR_DEV_SUPPORTED_FEATURES:
	case VDPA_ATTR_DEV_VENDOR_ATTR_VALUE:
	case VDPA_ATTR_DEV_FEATURES:
	case VDPA_ATTR_VDPA_DEV_SUPPORTED_FEATURES:
		return 8;
	case VDPA_ATTR_DEV_NET_CFG_MACADDR:
		return 6;
	default:
		return 0;
	}
}

static bool is_string_attr(int type)
{
	return type == VDPA_ATTR_MGMTDEV_BUS_NAME ||
	       type == VDPA_ATTR_MGMTDEV_DEV_NAME ||
	       type == VDPA_ATTR_DEV_NAME ||
	       type == VDPA_ATTR_DEV_VENDOR_ATTR_NAME;
}

static bool string_ok(const struct nlattr *a)
{
	const char *s = nla_data(a);
	int len = nla_len(a);

	return len > 0 && memchr(s, '\0', len) == s + len - 1;
}

/*
 * Attributes iproute2 6.1 cannot do without in a reply of command @cmd:
 * it drops the whole answer when one is missing.
 */
static const int *reply_required(int cmd)
{
	static const int mgmtdev[] = { VDPA_ATTR_MGMTDEV_DEV_NAME, 0 };
	static const int dev[] = { VDPA_ATTR_MGMTDEV_DEV_NAME,
				   VDPA_ATTR_DEV_NAME, VDPA_ATTR_DEV_ID, 0 };
	static const int config[] = { VDPA_ATTR_DEV_NAME, VDPA_ATTR_DEV_ID, 0 };
	static const int none[] = { 0 };

	switch (cmd) {
	case VDPA_CMD_MGMTDEV_NEW:
		return mgmtdev;
	case VDPA_CMD_DEV_NEW:
		return dev;
	case VDPA_CMD_DEV_CONFIG_GET:
		return config;
	default:
		return none;
	}
}

static void check_required(struct reply *r, int cmd, struct nlattr **tb)
{
	const int *req;

	for (req = reply_required(cmd); *req; req++)
		if (!tb[*req])
			note_bad(r, "iproute2 drops it, no attribute", *req, cmd);
}

/* Check each attribute of a data message, then pick out the name. */
static void parse_data(struct reply *r, struct nlmsghdr *nlh,
		       const char *prefix)
{
	struct nlattr *tb[VDPA_ATTR_MAX + 1] = { NULL };
	struct nlattr *a, *head, *name;
	struct genlmsghdr *g;
	int rem, type, size;

	r->nmsgs++;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
		note_bad(r, "short data message, length", nlh->nlmsg_len, 0);
		return;
	}
	g = NLMSG_DATA(nlh);
	head = (struct nlattr *)((char *)g + GENL_HDRLEN);
	rem = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	nla_for_each_attr(a, head, rem, rem) {
		type = nla_type(a);
		size = reply_attr_size(type);
		if (size && nla_len(a) != size)
			note_bad(r, "wrong size of attribute", type, nla_len(a));
		if (is_string_attr(type) && !string_ok(a))
			note_bad(r, "not NUL-terminated: attribute", type,
				 nla_len(a));
		if (type <= VDPA_ATTR_MAX)
			tb[type] = a;
	}
	if (rem > 0)
		note_bad(r, "trailing bytes:", rem, 0);
	check_required(r, g->cmd, tb);

	name = tb[VDPA_ATTR_DEV_NAME] ? tb[VDPA_ATTR_DEV_NAME] :
	       tb[VDPA_ATTR_MGMTDEV_DEV_NAME];
	if (!name || !string_ok(name))
		return;
	if (prefix && !strncmp(nla_data(name), prefix, strlen(prefix)))
		r->nprefix++;
	if (!r->want || strcmp(nla_data(name), r->want))
		return;
	r->found = true;
	if (tb[VDPA_ATTR_DEV_SUPPORTED_FEATURES] &&
	    nla_len(tb[VDPA_ATTR_DEV_SUPPORTED_FEATURES]) == 8) {
		r->features = nla_get_u64(tb[VDPA_ATTR_DEV_SUPPORTED_FEATURES]);
		r->has_features = true;
	}
}

/* Extended ack TLVs: the message and the offending attribute's offset. */
static void parse_tlvs(struct reply *r, void *head, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	struct nlattr *a;

	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, head, len, NULL) < 0)
		return;
	a = tb[NLMSGERR_ATTR_MSG];
	if (a && nla_len(a) > 0)
		snprintf(r->msg, sizeof(r->msg), "%.*s", nla_len(a),
			 (char *)nla_data(a));
	a = tb[NLMSGERR_ATTR_OFFS];
	if (a && nla_len(a) == 4)
		r->off = nla_get_u32(a);
}

static void parse_error(struct reply *r, struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = NLMSG_DATA(nlh);
	int hlen = sizeof(*e), len = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (len < hlen) {
		r->err = -EBADMSG;
		return;
	}
	r->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	parse_tlvs(r, (char *)e + hlen, len - hlen);
}

static void parse_done(struct reply *r, struct nlmsghdr *nlh)
{
	int len = nlh->nlmsg_len - NLMSG_HDRLEN;
	int *code = NLMSG_DATA(nlh);

	if (len < (int)sizeof(int))
		return;
	r->err = *code;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		parse_tlvs(r, (char *)code + NLMSG_ALIGN(sizeof(int)),
			   len - NLMSG_ALIGN(sizeof(int)));
}

/* Returns true when @nlh ends the exchange. */
static bool handle_one(struct probe *p, struct reply *r, struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_seq != p->seq)
		return false;
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		parse_error(r, nlh);
		return true;
	case NLMSG_DONE:
		parse_done(r, nlh);
		return true;
	case NLMSG_NOOP:
		return false;
	default:
		if (nlh->nlmsg_type == p->family)
			parse_data(r, nlh, p->dev);
		else
			note_bad(r, "foreign message type", nlh->nlmsg_type,
				 0);
		return false;
	}
}

static void receive(struct probe *p, struct reply *r)
{
	int fd = nl_socket_get_fd(p->sk);
	struct nlmsghdr *nlh;
	ssize_t n;
	int len;

	for (;;) {
		n = recv(fd, p->rx, RX_SIZE, MSG_TRUNC);
		if (n < 0) {
			r->err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			snprintf(r->msg, sizeof(r->msg), "(no answer)");
			return;
		}
		if (n > RX_SIZE) {
			note_bad(r, "answer truncated at", RX_SIZE, n);
			n = RX_SIZE;
		}
		len = n;
		for (nlh = (struct nlmsghdr *)p->rx; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len))
			if (handle_one(p, r, nlh))
				return;
	}
}

/*
 * Send @msg (its nlmsg_len may have been forged by the caller) and
 * collect the answer in @r.  Frees @msg.
 */
static void run_req(struct probe *p, struct nl_msg *msg, int flags,
		    struct reply *r, const char *want)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err;

	memset(r, 0, sizeof(*r));
	r->off = -1;
	r->want = want;
	nlh->nlmsg_seq = ++p->seq;
	nlh->nlmsg_pid = 0;
	nlh->nlmsg_flags = NLM_F_REQUEST |
			   (flags & RQ_DUMP ? NLM_F_DUMP : NLM_F_ACK);
	err = nl_sendto(p->sk, nlh, nlh->nlmsg_len);
	nlmsg_free(msg);
	if (err < 0) {
		r->err = -EIO;
		snprintf(r->msg, sizeof(r->msg), "(send failed: %s)",
			 nl_geterror(err));
		return;
	}
	receive(p, r);
}

/* ---- checks ---- */

static bool msg_matches(const char *re, const char *msg)
{
	regex_t rx;
	bool match;

	if (!re)
		return true;
	if (!*re)
		return *msg != '\0';
	if (regcomp(&rx, re, REG_EXTENDED | REG_ICASE | REG_NOSUB))
		return false;
	match = !regexec(&rx, msg, 0, NULL, 0);
	regfree(&rx);
	return match;
}

/*
 * expect_err - the request must fail with errno @e1 (or @e2 when not 0),
 * an extack message matching @re (NULL: not checked, "": any non-empty
 * message) and, when the kernel reports an offset and @off >= 0, that
 * offset.
 */
static bool expect_err(struct probe *p, const char *desc, struct nl_msg *msg,
		       int flags, int e1, int e2, const char *re, int off)
{
	struct reply r;
	bool ok;

	run_req(p, msg, flags, &r, NULL);
	ok = (r.err == -e1 || (e2 && r.err == -e2)) && msg_matches(re, r.msg) &&
	     (off < 0 || r.off < 0 || r.off == off);
	tap(p, ok, desc);
	if (!ok || p->verbose) {
		printf("#   want: errno %d%s%s extack /%s/ offset %d\n", e1,
		       e2 ? " or " : "", e2 ? strerror(e2) : "", re ? re : "*",
		       off);
		diag_reply(&r);
	}
	return ok;
}

/* The request must fail, with whatever errno. */
static bool expect_fail(struct probe *p, const char *desc, struct nl_msg *msg,
			int flags)
{
	struct reply r;
	bool ok;

	run_req(p, msg, flags, &r, NULL);
	ok = r.err < 0 && r.err != -ETIMEDOUT;
	tap(p, ok, desc);
	if (!ok || p->verbose)
		diag_reply(&r);
	return ok;
}

/* Rejected by attribute validation (the policy): EINVAL or ERANGE. */
static bool expect_policy(struct probe *p, const char *desc,
			  struct nl_msg *msg, int flags, int off)
{
	return expect_err(p, desc, msg, flags, EINVAL, ERANGE, ANY_MSG, off);
}

/* The request must succeed with at least @min data messages. */
static bool expect_ok(struct probe *p, const char *desc, struct nl_msg *msg,
		      int flags, const char *want, int min, struct reply *out)
{
	struct reply r;
	bool ok;

	run_req(p, msg, flags, &r, want);
	ok = !r.err && r.nmsgs >= min && (!want || r.found) && !r.bad[0];
	tap(p, ok, desc);
	if (!ok || p->verbose) {
		if (want && !r.found)
			printf("#   no answer names \"%s\"\n", want);
		diag_reply(&r);
	}
	if (out)
		*out = r;
	return ok;
}

/* ---- the tests ---- */

static char *make_name(const char *prefix, int len)
{
	char *s = malloc(len + 1);
	int n = strlen(prefix);

	if (!s)
		die("malloc", -NLE_NOMEM);
	memset(s, 'n', len);
	memcpy(s, prefix, n < len ? n : len);
	s[len] = '\0';
	return s;
}

static char *suffixed(const char *base, const char *suffix)
{
	char *s = malloc(strlen(base) + strlen(suffix) + 1);

	if (!s)
		die("malloc", -NLE_NOMEM);
	strcpy(s, base);
	strcat(s, suffix);
	return s;
}

static void test_valid_reads(struct probe *p, const char *tag)
{
	char desc[160];
	struct reply r;

	snprintf(desc, sizeof(desc), "%s: MGMTDEV_GET dump lists %s", tag,
		 p->mgmtdev);
	expect_ok(p, desc, req_new(p, VDPA_CMD_MGMTDEV_GET), RQ_DUMP,
		  p->mgmtdev, 1, NULL);
	snprintf(desc, sizeof(desc), "%s: MGMTDEV_GET %s", tag, p->mgmtdev);
	if (expect_ok(p, desc, req_mgmt(p, VDPA_CMD_MGMTDEV_GET, p->mgmtdev),
		      0, p->mgmtdev, 1, &r) && r.has_features) {
		p->net_features = r.features;
		p->have_features = true;
	}
	snprintf(desc, sizeof(desc), "%s: DEV_GET dump succeeds", tag);
	expect_ok(p, desc, req_new(p, VDPA_CMD_DEV_GET), RQ_DUMP, NULL, 0, NULL);
	snprintf(desc, sizeof(desc), "%s: DEV_CONFIG_GET dump succeeds", tag);
	expect_ok(p, desc, req_new(p, VDPA_CMD_DEV_CONFIG_GET), RQ_DUMP, NULL,
		  0, NULL);
}

static void test_dev_reads(struct probe *p, const char *tag)
{
	char desc[160];

	snprintf(desc, sizeof(desc), "%s: DEV_GET %s", tag, p->dev);
	expect_ok(p, desc, req_dev(p, VDPA_CMD_DEV_GET, p->dev), 0, p->dev, 1,
		  NULL);
	snprintf(desc, sizeof(desc), "%s: DEV_GET dump lists %s", tag, p->dev);
	expect_ok(p, desc, req_new(p, VDPA_CMD_DEV_GET), RQ_DUMP, p->dev, 1,
		  NULL);
	snprintf(desc, sizeof(desc), "%s: DEV_CONFIG_GET %s", tag, p->dev);
	expect_ok(p, desc, req_dev(p, VDPA_CMD_DEV_CONFIG_GET, p->dev), 0,
		  p->dev, 1, NULL);
	snprintf(desc, sizeof(desc), "%s: DEV_CONFIG_GET dump lists %s", tag,
		 p->dev);
	expect_ok(p, desc, req_new(p, VDPA_CMD_DEV_CONFIG_GET), RQ_DUMP, p->dev,
		  1, NULL);
}

/* Requests that lack a required attribute, or carry none at all. */
static void test_missing(struct probe *p)
{
	struct nl_msg *m;

	expect_err(p, "DEV_NEW without attributes", req_new(p, VDPA_CMD_DEV_NEW),
		   0, EINVAL, 0, "name is required", -1);
	expect_err(p, "DEV_NEW without DEV_NAME",
		   req_mgmt(p, VDPA_CMD_DEV_NEW, p->mgmtdev), 0, EINVAL, 0,
		   "(^|: )device name is required", -1);
	expect_err(p, "DEV_NEW without management device name",
		   req_dev(p, VDPA_CMD_DEV_NEW, "nlprobe-nomgmt"), 0, EINVAL, 0,
		   "management device name is required", -1);
	m = req_dev(p, VDPA_CMD_DEV_NEW, "nlprobe-nomgmt");
	put_str(m, VDPA_ATTR_MGMTDEV_BUS_NAME, "pci");
	expect_err(p, "DEV_NEW with a bus name but no management device name",
		   m, 0, EINVAL, 0, "management device name is required", -1);
	expect_err(p, "DEV_DEL without attributes", req_new(p, VDPA_CMD_DEV_DEL),
		   0, EINVAL, 0, NULL, -1);
	expect_err(p, "DEV_GET (doit) without attributes",
		   req_new(p, VDPA_CMD_DEV_GET), 0, EINVAL, 0, NULL, -1);
	expect_err(p, "DEV_CONFIG_GET (doit) without attributes",
		   req_new(p, VDPA_CMD_DEV_CONFIG_GET), 0, EINVAL, 0, NULL, -1);
	expect_err(p, "DEV_VSTATS_GET without attributes",
		   req_new(p, VDPA_CMD_DEV_VSTATS_GET), 0, EINVAL, 0, NULL, -1);
	expect_err(p, "DEV_VSTATS_GET without QUEUE_INDEX",
		   req_dev(p, VDPA_CMD_DEV_VSTATS_GET, p->dev), 0, EINVAL, 0,
		   NULL, -1);
	expect_err(p, "MGMTDEV_GET (doit) without attributes",
		   req_new(p, VDPA_CMD_MGMTDEV_GET), 0, EINVAL, 0, NULL, -1);
}

/* Names that do not exist. */
static void test_not_found(struct probe *p)
{
	const char *nodev = "nlprobe-missing";
	struct nl_msg *m;

	expect_err(p, "DEV_GET of a missing device",
		   req_dev(p, VDPA_CMD_DEV_GET, nodev), 0, ENODEV, 0,
		   "device not found", -1);
	expect_err(p, "DEV_CONFIG_GET of a missing device",
		   req_dev(p, VDPA_CMD_DEV_CONFIG_GET, nodev), 0, ENODEV, 0,
		   "device not found", -1);
	expect_err(p, "DEV_DEL of a missing device",
		   req_dev(p, VDPA_CMD_DEV_DEL, nodev), 0, ENODEV, 0,
		   "device not found", -1);
	m = req_dev(p, VDPA_CMD_DEV_VSTATS_GET, nodev);
	put_u32(m, VDPA_ATTR_DEV_QUEUE_INDEX, 0);
	expect_err(p, "DEV_VSTATS_GET of a missing device", m, 0, ENODEV, 0,
		   "device not found", -1);
	expect_err(p, "MGMTDEV_GET of a missing management device",
		   req_mgmt(p, VDPA_CMD_MGMTDEV_GET, "nlprobe-nomgmt"), 0,
		   ENODEV, 0, NULL, -1);
	m = req_mgmt(p, VDPA_CMD_MGMTDEV_GET, p->mgmtdev);
	put_str(m, VDPA_ATTR_MGMTDEV_BUS_NAME, "pci");
	expect_err(p, "MGMTDEV_GET pci/<simulator> (simulators have no bus)",
		   m, 0, ENODEV, 0, NULL, -1);
	expect_err(p, "DEV_NEW on a missing management device",
		   req_add(p, "nlprobe-x", "nlprobe-nomgmt"), 0, ENODEV, 0,
		   "management device not found", -1);
}

/* Commands the family does not implement, and doit-only ones as dumps. */
static void test_commands(struct probe *p)
{
	static const int cmds[] = { VDPA_CMD_UNSPEC, VDPA_CMD_MGMTDEV_NEW,
				    VDPA_CMD_DEV_VSTATS_GET + 1,
				    VDPA_CMD_DEV_VSTATS_GET + 2, 64, 255 };
	static const int doit_only[] = { VDPA_CMD_DEV_NEW, VDPA_CMD_DEV_DEL,
					  VDPA_CMD_DEV_VSTATS_GET };
	char desc[120];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(desc, sizeof(desc), "command %d is not supported",
			 cmds[i]);
		expect_err(p, desc, req_dev(p, cmds[i], p->dev), 0, EOPNOTSUPP,
			   0, NULL, -1);
		snprintf(desc, sizeof(desc), "command %d as a dump is not supported",
			 cmds[i]);
		expect_err(p, desc, req_new(p, cmds[i]), RQ_DUMP, EOPNOTSUPP,
			   0, NULL, -1);
	}
	for (i = 0; i < ARRAY_SIZE(doit_only); i++) {
		snprintf(desc, sizeof(desc), "command %d cannot be dumped",
			 doit_only[i]);
		expect_err(p, desc, req_new(p, doit_only[i]), RQ_DUMP,
			   EOPNOTSUPP, 0, NULL, -1);
	}
}

/* Attributes of the wrong type or size. */
static void test_sizes(struct probe *p)
{
	static const unsigned char mac3[3] = { 0x02, 0, 0 };
	static const unsigned char mac7[7] = { 0x02, 0, 0, 0, 0, 1, 0 };
	struct nl_msg *m;
	uint8_t b = 1;
	int off;

	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_u32(m, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 1);
	expect_policy(p, "DEV_NEW max_vqp as u32 (u16 expected)", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_raw(m, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, &b, 1);
	expect_policy(p, "DEV_NEW max_vqp as u8 (u16 expected)", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_u32(m, VDPA_ATTR_DEV_NET_CFG_MTU, 1500);
	expect_policy(p, "DEV_NEW mtu as u32 (u16 expected)", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_raw(m, VDPA_ATTR_DEV_NET_CFG_MTU, NULL, 0);
	expect_policy(p, "DEV_NEW mtu with no payload", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_raw(m, VDPA_ATTR_DEV_NET_CFG_MACADDR, mac3, sizeof(mac3));
	expect_policy(p, "DEV_NEW 3-byte mac", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_raw(m, VDPA_ATTR_DEV_NET_CFG_MACADDR, mac7, sizeof(mac7));
	expect_policy(p, "DEV_NEW 7-byte mac", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_raw(m, VDPA_ATTR_DEV_NET_CFG_MACADDR, NULL, 0);
	expect_policy(p, "DEV_NEW empty mac", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_u32(m, VDPA_ATTR_DEV_FEATURES, 1);
	expect_policy(p, "DEV_NEW device_features as u32 (u64 expected)", m,
		      0, off);
	m = req_dev(p, VDPA_CMD_DEV_VSTATS_GET, p->dev);
	off = put_u16(m, VDPA_ATTR_DEV_QUEUE_INDEX, 0);
	expect_policy(p, "DEV_VSTATS_GET queue index as u16 (u32 expected)",
		      m, 0, off);
	m = req_dev(p, VDPA_CMD_DEV_VSTATS_GET, p->dev);
	off = put_u64(m, VDPA_ATTR_DEV_QUEUE_INDEX, 0);
	expect_policy(p, "DEV_VSTATS_GET queue index as u64 (u32 expected)",
		      m, 0, off);
}

/* Strings: unterminated, empty, wrong characters, 64 bytes to 64 KiB. */
static void test_strings(struct probe *p)
{
	static const int lens[] = { NAME_MAX_LEN + 1, NAME_MAX_LEN + 2, 128,
				    256, 1024, 4096, 16384, NLA_MAX_PAYLOAD - 1 };
	char desc[120], *name;
	struct nl_msg *m;
	unsigned int i;
	int off;

	m = req_new(p, VDPA_CMD_DEV_GET);
	off = put_raw(m, VDPA_ATTR_DEV_NAME, p->dev, strlen(p->dev));
	expect_policy(p, "DEV_GET with a DEV_NAME that is not NUL-terminated",
		      m, 0, off);
	m = req_new(p, VDPA_CMD_DEV_GET);
	off = put_raw(m, VDPA_ATTR_DEV_NAME, NULL, 0);
	expect_policy(p, "DEV_GET with an empty DEV_NAME attribute", m, 0, off);
	m = req_new(p, VDPA_CMD_MGMTDEV_GET);
	off = put_raw(m, VDPA_ATTR_MGMTDEV_DEV_NAME, p->mgmtdev,
		      strlen(p->mgmtdev));
	expect_policy(p, "MGMTDEV_GET with an unterminated management device name",
		      m, 0, off);
	m = req_mgmt(p, VDPA_CMD_MGMTDEV_GET, p->mgmtdev);
	off = put_raw(m, VDPA_ATTR_MGMTDEV_BUS_NAME, "pci", 3);
	expect_policy(p, "MGMTDEV_GET with an unterminated bus name", m, 0, off);
	m = req_new(p, VDPA_CMD_DEV_NEW);
	off = put_raw(m, VDPA_ATTR_DEV_NAME, "nlprobe-x", 9);
	put_str(m, VDPA_ATTR_MGMTDEV_DEV_NAME, p->mgmtdev);
	expect_policy(p, "DEV_NEW with an unterminated device name", m, 0, off);
	m = req_new(p, VDPA_CMD_DEV_NEW);
	off = put_u32(m, VDPA_ATTR_DEV_NAME, 0x41414141);
	put_str(m, VDPA_ATTR_MGMTDEV_DEV_NAME, p->mgmtdev);
	expect_policy(p, "DEV_NEW with a u32 as device name", m, 0, off);

	expect_err(p, "DEV_NEW with an empty device name",
		   req_add(p, "", p->mgmtdev), 0, EINVAL, 0, "name", -1);
	expect_err(p, "DEV_NEW with '/' in the device name",
		   req_add(p, "nlprobe/x", p->mgmtdev), 0, EINVAL, 0, "name", -1);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		name = make_name(p->dev, lens[i]);
		snprintf(desc, sizeof(desc), "DEV_NEW with a %d-byte device name",
			 lens[i]);
		expect_err(p, desc, req_add(p, name, p->mgmtdev), 0, EINVAL,
			   ERANGE, "name|length|range|attribute|policy", -1);
		free(name);
	}
	m = req_new(p, VDPA_CMD_DEV_GET);
	name = make_name(p->dev, NLA_MAX_PAYLOAD - 1);
	put_str(m, VDPA_ATTR_DEV_NAME, name);
	free(name);
	expect_fail(p, "DEV_GET with a 64 KiB device name fails", m, 0);
}

/* Unknown attribute numbers and flag bits, in doit and dump requests. */
static void test_unknown_attrs(struct probe *p)
{
	static const int types[] = { 0, VDPA_ATTR_MAX, VDPA_ATTR_MAX + 1, 255,
				     NLA_TYPE_MASK };
	char desc[120];
	struct nl_msg *m;
	unsigned int i;
	int off;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		m = req_dev(p, VDPA_CMD_DEV_GET, p->dev);
		off = put_u32(m, types[i], 1);
		snprintf(desc, sizeof(desc), "DEV_GET with unknown attribute %d",
			 types[i]);
		expect_policy(p, desc, m, 0, off);
	}
	m = req_new(p, VDPA_CMD_DEV_GET);
	off = put_u32(m, VDPA_ATTR_MAX, 1);
	expect_policy(p, "DEV_GET dump with unknown attribute", m, RQ_DUMP, off);
	m = req_new(p, VDPA_CMD_MGMTDEV_GET);
	off = put_u32(m, VDPA_ATTR_MAX + 5, 1);
	expect_policy(p, "MGMTDEV_GET dump with unknown attribute", m, RQ_DUMP,
		      off);
	m = req_new(p, VDPA_CMD_DEV_CONFIG_GET);
	off = put_raw(m, VDPA_ATTR_DEV_NAME, "abc", 3);
	expect_policy(p, "DEV_CONFIG_GET dump with an unterminated name", m,
		      RQ_DUMP, off);
	m = req_new(p, VDPA_CMD_DEV_GET);
	off = put_u16(m, VDPA_ATTR_DEV_NAME | NLA_F_NESTED, 7);
	expect_policy(p, "DEV_GET dump with a nested DEV_NAME", m, RQ_DUMP, off);

	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = put_u32(m, VDPA_ATTR_MAX, 1);
	expect_policy(p, "DEV_NEW (otherwise valid) with unknown attribute",
		      m, 0, off);
	expect_err(p, "... and it created no device",
		   req_dev(p, VDPA_CMD_DEV_GET, "nlprobe-x"), 0, ENODEV, 0,
		   "device not found", -1);
}

/* Garbage inside nests, and attribute streams that do not parse. */
static void test_garbage(struct probe *p)
{
	static const unsigned char junk[] = { 0xff, 0x00, 0x01, 0x80, 0x0c,
					      0x00, 0x02, 0x00, 0xde, 0xad };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct nl_msg *m;
	int off;

	m = req_new(p, VDPA_CMD_DEV_GET);
	off = put_raw(m, VDPA_ATTR_DEV_NAME | NLA_F_NESTED, junk, sizeof(junk));
	expect_policy(p, "DEV_GET with nested garbage as DEV_NAME", m, 0, off);
	m = req_dev(p, VDPA_CMD_DEV_GET, p->dev);
	off = next_off(m);
	nest = nla_nest_start(m, VDPA_ATTR_MAX + 3);
	put_raw(m, 1, junk, sizeof(junk));
	put_u32(m, 0x3000, 5);
	nla_nest_end(m, nest);
	expect_policy(p, "DEV_GET with an unknown nest of garbage", m, 0, off);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	off = next_off(m);
	nest = nla_nest_start(m, VDPA_ATTR_DEV_NET_CFG_MACADDR);
	put_u16(m, 1, 0);
	nla_nest_end(m, nest);
	expect_policy(p, "DEV_NEW with a nest as mac", m, 0, off);

	m = req_dev(p, VDPA_CMD_DEV_GET, p->dev);
	off = put_u32(m, VDPA_ATTR_DEV_ID, 0);
	nest = (struct nlattr *)((char *)nlmsg_hdr(m) + off);
	nest->nla_len = 200;	/* runs past the end of the message */
	expect_policy(p, "DEV_GET with an attribute longer than the message",
		      m, 0, -1);
	m = req_dev(p, VDPA_CMD_DEV_GET, p->dev);
	off = put_u32(m, VDPA_ATTR_DEV_ID, 0);
	nest = (struct nlattr *)((char *)nlmsg_hdr(m) + off);
	nest->nla_len = 2;	/* shorter than an attribute header */
	expect_policy(p, "DEV_GET with an attribute shorter than its header",
		      m, 0, -1);
	m = req_dev(p, VDPA_CMD_DEV_GET, p->dev);
	nlh = nlmsg_hdr(m);
	memcpy((char *)nlh + nlh->nlmsg_len, junk, 3);
	nlh->nlmsg_len += 3;	/* three stray bytes after the attributes */
	expect_policy(p, "DEV_GET with trailing garbage bytes", m, 0, -1);
	m = req_new(p, VDPA_CMD_DEV_CONFIG_GET);
	nlh = nlmsg_hdr(m);
	memcpy((char *)nlh + nlh->nlmsg_len, junk, 6);
	nlh->nlmsg_len += 6;
	expect_policy(p, "DEV_CONFIG_GET dump with trailing garbage", m,
		      RQ_DUMP, -1);
}

/* Broken generic netlink headers. */
static void test_headers(struct probe *p)
{
	struct genlmsghdr *g;
	struct nl_msg *m;

	m = req_dev(p, VDPA_CMD_DEV_GET, p->dev);
	g = nlmsg_data(nlmsg_hdr(m));
	g->reserved = 0x5a5a;
	expect_err(p, "DEV_GET with the genl reserved field set", m, 0,
		   EINVAL, 0, NULL, -1);
	m = req_new(p, VDPA_CMD_DEV_GET);
	g = nlmsg_data(nlmsg_hdr(m));
	g->reserved = 1;
	expect_err(p, "DEV_GET dump with the genl reserved field set", m,
		   RQ_DUMP, EINVAL, 0, NULL, -1);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	g = nlmsg_data(nlmsg_hdr(m));
	g->reserved = 0x100;
	expect_err(p, "DEV_NEW with the genl reserved field set", m, 0,
		   EINVAL, 0, NULL, -1);
	m = req_new(p, VDPA_CMD_DEV_GET);
	nlmsg_hdr(m)->nlmsg_len = NLMSG_HDRLEN + 2;
	expect_err(p, "message shorter than the genl header", m, 0, EINVAL,
		   0, NULL, -1);
}

/* Well-formed DEV_NEW requests with values the device cannot take. */
static void test_values(struct probe *p)
{
	static const unsigned char macs[][6] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0, 0, 0, 0, 0, 0 },
	};
	static const char * const mac_desc[] = { "multicast", "broadcast", "zero" };
	static const uint16_t vqps[] = { 0, 9, 0xffff };
	char desc[120];
	struct nl_msg *m;
	unsigned int i;
	uint64_t bad;
	int bit;

	for (i = 0; i < 3; i++) {
		m = req_add(p, "nlprobe-x", p->mgmtdev);
		put_raw(m, VDPA_ATTR_DEV_NET_CFG_MACADDR, macs[i], 6);
		snprintf(desc, sizeof(desc), "DEV_NEW with a %s mac", mac_desc[i]);
		expect_err(p, desc, m, 0, EINVAL, 0, "unicast", -1);
	}
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	put_u16(m, VDPA_ATTR_DEV_NET_CFG_MTU, 67);
	expect_err(p, "DEV_NEW with mtu 67", m, 0, EINVAL, 0, "mtu", -1);
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	put_u16(m, VDPA_ATTR_DEV_NET_CFG_MTU, 0);
	expect_err(p, "DEV_NEW with mtu 0", m, 0, EINVAL, 0, "mtu", -1);
	for (i = 0; i < ARRAY_SIZE(vqps); i++) {
		m = req_add(p, "nlprobe-x", p->mgmtdev);
		put_u16(m, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, vqps[i]);
		snprintf(desc, sizeof(desc), "DEV_NEW with max_vqp %u", vqps[i]);
		expect_err(p, desc, m, 0, EINVAL, 0, "max_vqp", -1);
	}
	m = req_add(p, "nlprobe-x", p->mgmtdev);
	put_u64(m, VDPA_ATTR_DEV_FEATURES, ~0ULL);
	expect_err(p, "DEV_NEW with every device feature bit", m, 0, EINVAL, 0,
		   "features", -1);
	if (p->have_features && ~p->net_features) {
		bit = __builtin_ctzll(~p->net_features);
		bad = (p->net_features & (1ULL << 32 | 1ULL << 33)) | 1ULL << bit;
		m = req_add(p, "nlprobe-x", p->mgmtdev);
		put_u64(m, VDPA_ATTR_DEV_FEATURES, bad);
		snprintf(desc, sizeof(desc),
			 "DEV_NEW with unsupported feature bit %d", bit);
		expect_err(p, desc, m, 0, EINVAL, 0, "features", -1);
	}
	expect_err(p, "DEV_NEW with an existing name",
		   req_add(p, p->dev, p->mgmtdev), 0, EEXIST, 0,
		   "device name already exists", -1);
}

/* Provisioning attributes the block simulator does not take. */
static void test_blk_unsupported(struct probe *p)
{
	static const unsigned char mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	struct nl_msg *m;

	if (!p->blk_mgmtdev || !*p->blk_mgmtdev)
		return;
	m = req_add(p, "nlprobe-x", p->blk_mgmtdev);
	put_raw(m, VDPA_ATTR_DEV_NET_CFG_MACADDR, mac, sizeof(mac));
	expect_err(p, "DEV_NEW mac on the block management device", m, 0,
		   EOPNOTSUPP, 0, "not supported by the management device", -1);
	m = req_add(p, "nlprobe-x", p->blk_mgmtdev);
	put_u16(m, VDPA_ATTR_DEV_NET_CFG_MTU, 1500);
	expect_err(p, "DEV_NEW mtu on the block management device", m, 0,
		   EOPNOTSUPP, 0, "not supported by the management device", -1);
	m = req_add(p, "nlprobe-x", p->blk_mgmtdev);
	put_u16(m, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 1);
	expect_err(p, "DEV_NEW max_vqp on the block management device", m, 0,
		   EOPNOTSUPP, 0, "not supported by the management device", -1);
}

/* Vstats need features negotiated by a driver; none is bound here. */
static void test_vstats(struct probe *p)
{
	struct nl_msg *m = req_dev(p, VDPA_CMD_DEV_VSTATS_GET, p->dev);

	put_u32(m, VDPA_ATTR_DEV_QUEUE_INDEX, 0);
	expect_err(p, "DEV_VSTATS_GET before features are negotiated", m, 0,
		   EAGAIN, 0, NULL, -1);
}

/* A name of exactly NAME_MAX_LEN bytes is the longest one accepted. */
static void test_longest_name(struct probe *p)
{
	char *name = make_name(p->dev, NAME_MAX_LEN);

	if (expect_ok(p, "DEV_NEW with a 63-byte device name",
		      req_add(p, name, p->mgmtdev), 0, NULL, 0, NULL))
		expect_ok(p, "DEV_DEL of the 63-byte name",
			  req_dev(p, VDPA_CMD_DEV_DEL, name), 0, NULL, 0,
			  NULL);
	free(name);
}

/* No rejected DEV_NEW may have left a device behind. */
static void test_leftovers(struct probe *p, int want)
{
	char desc[160];
	struct reply r;

	snprintf(desc, sizeof(desc),
		 "rejected requests left no device (%d named %s*)", want,
		 p->dev);
	run_req(p, req_new(p, VDPA_CMD_DEV_GET), RQ_DUMP, &r, NULL);
	tap(p, !r.err && r.nprefix == want, desc);
	if (r.err || r.nprefix != want || p->verbose) {
		printf("#   %d device(s) named %s*\n", r.nprefix, p->dev);
		diag_reply(&r);
	}
	run_req(p, req_new(p, VDPA_CMD_DEV_GET), RQ_DUMP, &r, "nlprobe-x");
	tap(p, !r.err && !r.found, "no device nlprobe-x was created");
}

static void run_root(struct probe *p)
{
	test_valid_reads(p, "before");
	if (!expect_ok(p, "DEV_NEW creates the probe device",
		       req_add(p, p->dev, p->mgmtdev), 0, NULL, 0, NULL))
		printf("# device-dependent checks below will fail\n");
	test_dev_reads(p, "before");
	test_missing(p);
	test_not_found(p);
	test_commands(p);
	test_sizes(p);
	test_strings(p);
	test_unknown_attrs(p);
	test_garbage(p);
	test_headers(p);
	test_values(p);
	test_blk_unsupported(p);
	test_vstats(p);
	test_leftovers(p, 1);
	test_longest_name(p);
	test_valid_reads(p, "after");
	test_dev_reads(p, "after");
	expect_ok(p, "DEV_DEL removes the probe device",
		  req_dev(p, VDPA_CMD_DEV_DEL, p->dev), 0, NULL, 0, NULL);
	expect_err(p, "DEV_GET of the deleted device",
		   req_dev(p, VDPA_CMD_DEV_GET, p->dev), 0, ENODEV, 0,
		   "device not found", -1);
	test_leftovers(p, 0);
}

/* Without CAP_NET_ADMIN: reads work, every admin command is EPERM. */
static void run_unpriv(struct probe *p)
{
	char *other = suffixed(p->dev, "-u");
	struct nl_msg *m;

	test_valid_reads(p, "unprivileged");
	test_dev_reads(p, "unprivileged");
	expect_err(p, "unprivileged: MGMTDEV_GET of a missing one is ENODEV",
		   req_mgmt(p, VDPA_CMD_MGMTDEV_GET, "nlprobe-nomgmt"), 0,
		   ENODEV, 0, NULL, -1);
	m = req_dev(p, VDPA_CMD_DEV_GET, p->dev);
	put_u32(m, VDPA_ATTR_MAX, 1);
	expect_policy(p, "unprivileged: DEV_GET with unknown attribute", m, 0,
		      -1);
	expect_err(p, "unprivileged: DEV_NEW is EPERM",
		   req_add(p, other, p->mgmtdev), 0, EPERM, 0, NULL, -1);
	expect_err(p, "unprivileged: DEV_NEW without attributes is EPERM",
		   req_new(p, VDPA_CMD_DEV_NEW), 0, EPERM, 0, NULL, -1);
	m = req_add(p, other, p->mgmtdev);
	put_u32(m, VDPA_ATTR_MAX, 1);
	expect_err(p, "unprivileged: malformed DEV_NEW is EPERM", m, 0, EPERM,
		   0, NULL, -1);
	expect_err(p, "unprivileged: DEV_DEL is EPERM",
		   req_dev(p, VDPA_CMD_DEV_DEL, p->dev), 0, EPERM, 0, NULL, -1);
	expect_err(p, "unprivileged: DEV_DEL without attributes is EPERM",
		   req_new(p, VDPA_CMD_DEV_DEL), 0, EPERM, 0, NULL, -1);
	m = req_dev(p, VDPA_CMD_DEV_VSTATS_GET, p->dev);
	put_u32(m, VDPA_ATTR_DEV_QUEUE_INDEX, 0);
	expect_err(p, "unprivileged: DEV_VSTATS_GET is EPERM", m, 0, EPERM, 0,
		   NULL, -1);
	expect_err(p, "unprivileged: DEV_VSTATS_GET without attributes is EPERM",
		   req_new(p, VDPA_CMD_DEV_VSTATS_GET), 0, EPERM, 0, NULL, -1);
	expect_ok(p, "unprivileged: the device survived DEV_DEL",
		  req_dev(p, VDPA_CMD_DEV_GET, p->dev), 0, p->dev, 1, NULL);
	expect_err(p, "unprivileged: DEV_NEW created nothing",
		   req_dev(p, VDPA_CMD_DEV_GET, other), 0, ENODEV, 0, NULL, -1);
	free(other);
}

/* ---- setup ---- */

static void resolve(struct probe *p)
{
	struct genl_family *fam;
	struct nl_cache *cache;
	int err;

	err = genl_ctrl_alloc_cache(p->sk, &cache);
	if (err < 0)
		die("reading the generic netlink families", err);
	fam = genl_ctrl_search_by_name(cache, VDPA_GENL_NAME);
	tap(p, fam, "family \"vdpa\" is registered");
	if (!fam) {
		printf("Bail out! no vdpa family (is vdpa.ko loaded?)\n");
		exit(1);
	}
	p->family = genl_family_get_id(fam);
	tap(p, genl_family_get_version(fam) == VDPA_GENL_VERSION,
	    "family version is 1");
	printf("# family id %d version %u maxattr %u\n", p->family,
	       genl_family_get_version(fam), genl_family_get_maxattr(fam));
	genl_family_put(fam);
	nl_cache_free(cache);
}

static void open_socket(struct probe *p)
{
	struct timeval tv = { .tv_sec = 10 };
	int one = 1, fd, err;

	p->sk = nl_socket_alloc();
	if (!p->sk)
		die("nl_socket_alloc", -NLE_NOMEM);
	err = genl_connect(p->sk);
	if (err < 0)
		die("genl_connect", err);
	err = nl_socket_set_buffer_size(p->sk, 1 << 18, 1 << 18);
	if (err < 0)
		die("nl_socket_set_buffer_size", err);
	fd = nl_socket_get_fd(p->sk);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("setsockopt", -nl_syserr2nlerr(errno));
	p->rx = malloc(RX_SIZE);
	if (!p->rx)
		die("malloc", -NLE_NOMEM);
}

static void print_help(const char *prog)
{
	printf("usage: %s [--dev NAME] [--mgmtdev NAME] [--blk-mgmtdev NAME]\n"
	       "       [--unpriv] [--verbose]\n"
	       "  --dev NAME          device to create and probe (default nlprobe0)\n"
	       "  --mgmtdev NAME      net management device (default vdpasim_net)\n"
	       "  --blk-mgmtdev NAME  block management device, \"\" to skip\n"
	       "                      (default vdpasim_blk)\n"
	       "  --unpriv            run without CAP_NET_ADMIN: --dev must exist,\n"
	       "                      admin commands must fail with EPERM\n",
	       prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "mgmtdev", required_argument, NULL, 'm' },
		{ "blk-mgmtdev", required_argument, NULL, 'b' },
		{ "unpriv", no_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct probe p = {
		.dev = "nlprobe0",
		.mgmtdev = "vdpasim_net",
		.blk_mgmtdev = "vdpasim_blk",
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:m:b:uvh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			p.dev = optarg;
			break;
		case 'm':
			p.mgmtdev = optarg;
			break;
		case 'b':
			p.blk_mgmtdev = optarg;
			break;
		case 'u':
			p.unpriv = true;
			break;
		case 'v':
			p.verbose = true;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			print_help(argv[0]);
			return 2;
		}
	}
	if (!*p.dev || strlen(p.dev) > 40) {
		fprintf(stderr, "--dev must be 1 to 40 characters\n");
		return 2;
	}
	open_socket(&p);
	resolve(&p);
	if (p.unpriv)
		run_unpriv(&p);
	else
		run_root(&p);
	printf("1..%d\n", p.count);
	if (p.failed)
		printf("# %d of %d checks failed\n", p.failed, p.count);
	nl_socket_free(p.sk);
	free(p.rx);
	return p.failed ? 1 : 0;
}
