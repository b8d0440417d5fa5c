/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h: what the fuzzers (fuzz-netlink, fuzz-vhost, fuzz-ring) share:
 * a deterministic PRNG, the common options, the replay state file and a
 * watch on the kernel log.
 *
 * A run is a sequence of iterations.  Iteration I of seed S draws its
 * random numbers from a generator seeded by (S, I) alone, so
 * "-s S -i I -n 1" replays just that iteration and "-s S -n I+1" replays
 * the run up to it.  Before each iteration the pair "S I" is written to
 * the state file (-o): after a crash that file names the input to replay.
 * An iteration is made of inputs (one syscall or one corruption each);
 * the programs count both.
 *
 * After every iteration the kernel log (/dev/kmsg) is read for new
 * records; a BUG/WARNING/Oops/KASAN/lockdep... report stops the run with
 * "kernel report after seed S iteration I" and exit status 1.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FZ_EXIT_REPORT	1	/* kernel report or failed check */
#define FZ_EXIT_SETUP	2	/* usage or setup error */

#define FZ_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#ifndef fallthrough
#define fallthrough	__attribute__((__fallthrough__))
#endif

struct fz {
	const char *name;	/* "netlink", "vhost", "ring" */
	uint64_t seed;
	uint64_t rng;		/* state of the current iteration */
	unsigned long iter;	/* current iteration */
	unsigned long first;	/* -i: first iteration */
	unsigned long max_iter;	/* -n: iterations to run, 0: no bound */
	unsigned int seconds;	/* -t: time bound, 0: none */
	double t0, deadline;
	unsigned long inputs;	/* inputs run so far */
	unsigned long iters;	/* iterations run so far */
	int state_fd;		/* -o, or -1 */
	int kmsg_fd;		/* /dev/kmsg, or -1 */
	bool verbose;		/* -v */
	bool reported;		/* the kernel logged a report */
	regex_t bad;		/* what a kernel report looks like */
};

static inline double fz_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint64_t fz_splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* xorshift64*: the generator every random choice goes through. */
static inline uint64_t fz_rand(struct fz *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n), n > 0 (the bias is irrelevant here). */
static inline uint64_t fz_below(struct fz *f, uint64_t n)
{
	return n ? fz_rand(f) % n : 0;
}

/* True with probability pct percent. */
static inline bool fz_chance(struct fz *f, unsigned int pct)
{
	return fz_below(f, 100) < pct;
}

/* A value that often sits on a boundary: 0, 1, -1, 2^k +- 1, random. */
static inline uint64_t fz_edge(struct fz *f)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 255, 256, 511, 512, 4095,
		4096, 4097, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
		0x80000000, 0xfffffffe, 0xffffffff, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xfffffffffffff000ULL, 0xffffffffffffffffULL,
		0xffff888000000000ULL, 0xffffffff81000000ULL,
	};
	unsigned int k;

	switch (fz_below(f, 4)) {
	case 0:
		return v[fz_below(f, FZ_ARRAY_SIZE(v))];
	case 1:
		k = fz_below(f, 64);
		return (1ULL << k) + fz_below(f, 3) - 1;
	case 2:
		return fz_below(f, 1024);
	default:
		return fz_rand(f);
	}
}

static inline void fz_fill(struct fz *f, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			r = fz_rand(f);
		p[i] = r;
		r >>= 8;
	}
}

static inline void fz_die(const struct fz *f, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz-%s: ", f->name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static inline void fz_usage_common(void)
{
	fprintf(stderr,
		"  -s SEED     seed of the run (default: from the clock)\n"
		"  -n N        run at most N iterations\n"
		"  -i I        start at iteration I (replay: -s S -i I -n 1)\n"
		"  -t SECONDS  stop after SECONDS (default 10 unless -n)\n"
		"  -o FILE     write \"SEED ITERATION\" to FILE before each iteration\n"
		"  -v          print each iteration to stderr\n");
}

static inline unsigned long fz_num(const struct fz *f, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (!*s || *end || errno)
		fz_die(f, FZ_EXIT_SETUP, "bad number \"%s\"", s);
	return v;
}

/*
 * Take one common option; returns false when @c is not one of them.
 * Programs call this from their getopt loop with "s:n:i:t:o:v" in the
 * option string.
 */
static inline bool fz_option(struct fz *f, int c, const char *arg)
{
	switch (c) {
	case 's':
		f->seed = strtoull(arg, NULL, 0);
		return true;
	case 'n':
		f->max_iter = fz_num(f, arg);
		return true;
	case 'i':
		f->first = fz_num(f, arg);
		return true;
	case 't':
		f->seconds = fz_num(f, arg);
		return true;
	case 'o':
		f->state_fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				   0644);
		if (f->state_fd < 0)
			fz_die(f, FZ_EXIT_SETUP, "%s: %s", arg, strerror(errno));
		return true;
	case 'v':
		f->verbose = true;
		return true;
	default:
		return false;
	}
}

static inline void fz_init(struct fz *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->state_fd = -1;
	f->kmsg_fd = -1;
	f->seed = fz_splitmix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	f->seed %= 1000000000;
	f->seconds = ~0U;
}

/* What a kernel report looks like (the test VM's kcheck.sh list). */
static const char * const fz_bad[] = {
	"BUG:", "WARNING:", "Oops", "general protection fault", "kernel BUG",
	"Kernel panic", "possible circular locking", "possible recursive locking",
	"inconsistent lock state", "suspicious RCU usage",
	"lock held when returning", "KASAN", "UBSAN", "refcount_t:",
	"blocked for more than", "detected stall", "soft lockup", "hard LOCKUP",
	"list_add corruption", "list_del corruption", "double free",
	"use-after-free",
};

/* Records of the kernel log from now on are watched for reports. */
static inline void fz_start(struct fz *f)
{
	char bad[1024] = "";
	size_t i;

	for (i = 0; i < FZ_ARRAY_SIZE(fz_bad); i++) {
		if (i)
			strcat(bad, "|");
		strcat(bad, fz_bad[i]);
	}
	if (f->seconds == ~0U)
		f->seconds = f->max_iter ? 0 : 10;
	if (regcomp(&f->bad, bad, REG_EXTENDED | REG_NOSUB))
		fz_die(f, FZ_EXIT_SETUP, "regcomp");
	f->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (f->kmsg_fd >= 0)
		lseek(f->kmsg_fd, 0, SEEK_END);
	f->t0 = fz_now();
	f->deadline = f->seconds ? f->t0 + f->seconds : 0;
	f->iter = f->first;
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, "fuzz-%s: seed %llu, first iteration %lu\n", f->name,
		(unsigned long long)f->seed, f->first);
}

/* New kernel log records since the last call: true if one is a report. */
static inline bool fz_kmsg_report(struct fz *f)
{
	char rec[2048];
	bool found = false;
	ssize_t n;

	if (f->kmsg_fd < 0)
		return false;
	for (;;) {
		n = read(f->kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten records */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (!regexec(&f->bad, rec, 0, NULL, 0) &&
		    !strstr(rec, "module verification failed")) {
			if (!found)
				fprintf(stderr, "fuzz-%s: kernel: %s", f->name,
					rec);
			found = true;
		}
	}
	return found;
}

/*
 * End of the previous iteration (if any) and start of the next: false
 * when the run is over.  The state file names the iteration about to run.
 */
static inline bool fz_next(struct fz *f)
{
	char line[64];
	int len;

	if (f->iters) {
		if (fz_kmsg_report(f)) {
			f->reported = true;
			printf("fuzz-%s: kernel report after seed %llu iteration %lu\n",
			       f->name, (unsigned long long)f->seed, f->iter);
			printf("fuzz-%s: replay with -s %llu -n %lu\n", f->name,
			       (unsigned long long)f->seed, f->iter + 1);
			return false;
		}
		f->iter++;
	}
	if (f->max_iter && f->iters >= f->max_iter)
		return false;
	if (f->deadline && fz_now() >= f->deadline)
		return false;
	f->rng = fz_splitmix(f->seed ^ fz_splitmix(f->iter + 1));
	if (!f->rng)
		f->rng = 1;
	if (f->state_fd >= 0) {
		len = snprintf(line, sizeof(line), "%llu %lu\n",
			       (unsigned long long)f->seed, f->iter);
		if (pwrite(f->state_fd, line, len, 0) != len)
			fz_die(f, FZ_EXIT_SETUP, "state file: %s", strerror(errno));
		if (ftruncate(f->state_fd, len))
			fz_die(f, FZ_EXIT_SETUP, "state file: %s", strerror(errno));
	}
	if (f->verbose)
		fprintf(stderr, "fuzz-%s: seed %llu iteration %lu\n", f->name,
			(unsigned long long)f->seed, f->iter);
	f->iters++;
	return true;
}

/* True while the current iteration may go on (for long iterations). */
static inline bool fz_time_left(const struct fz *f)
{
	return !f->deadline || fz_now() < f->deadline;
}

/* The one summary line; @extra (may be "") follows in parentheses. */
static inline void fz_summary(const struct fz *f, const char *extra)
{
	double secs = fz_now() - f->t0;

	printf("fuzz-%s: %lu inputs, seed %llu (%lu iterations, %.1f s, %.0f inputs/s%s%s)\n",
	       f->name, f->inputs, (unsigned long long)f->seed, f->iters, secs,
	       secs > 0 ? f->inputs / secs : 0.0, *extra ? ", " : "", extra);
}

/* A fresh report check: the final verdict of a run. */
static inline int fz_finish(struct fz *f, int status)
{
	if (f->reported)
		return FZ_EXIT_REPORT;
	if (fz_kmsg_report(f)) {
		printf("fuzz-%s: kernel report at the end of seed %llu (last iteration %lu)\n",
		       f->name, (unsigned long long)f->seed, f->iter);
		status = FZ_EXIT_REPORT;
	}
	return status;
}

#endif /* FUZZ_H */
