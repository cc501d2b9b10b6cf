/*
 * ufs_fsx.c — a seeded random-operation file-data consistency tester.
 *
 * One file is driven by a deterministic stream of operations (read, write,
 * mmap read, mmap write, truncate, fallocate with and without KEEP_SIZE,
 * punch hole, zero range, copy_file_range, O_DIRECT read/write, fsync,
 * close/reopen) while an in-memory model holds what every byte must be.
 * After every operation the size the kernel reports (fstat) is compared with
 * the model; every read is compared byte for byte; every so often, and at
 * the end, the whole file is read back (and, with -B, the backing file the
 * mount stores it in too, and size and mtime as stat(2) shows them through
 * the mount are compared with the backing file's at every close, or with
 * -a after every operation).
 *
 * Determinism: the operation stream depends only on the seed and the
 * options. An operation kind that the file system refuses (EOPNOTSUPP,
 * ENOSYS, EINVAL for an fallocate mode; EXDEV for copy_file_range) is
 * switched off at its first refusal and counted; the stream goes on with the
 * same random numbers, so the same seed on the same file system replays the
 * same run. A failure prints the last operations, the first differing bytes,
 * writes the whole log to FILE.fsxlog and prints the command that replays it.
 *
 * Close-to-open file systems (object stores: a descriptor opened later sees
 * what another wrote once it is flushed) take -s: the checks through a new
 * descriptor fsync the file first. -1 sends O_DIRECT through the one
 * descriptor (fcntl F_SETFL) instead of a second one opened with O_DIRECT.
 *
 * Usage: ufs_fsx [-N ops] [-S seed] [-l maxlen] [-o maxoplen] [-c checkevery]
 *                [-B backing-file [-a]] [-x kinds-off] [-s] [-1] [-q] FILE
 * kinds-off: letters of kinds to switch off: r w m M t f k p z c d o
 * (read, write, mmap read, mmap write, truncate, fallocate, fallocate
 * KEEP_SIZE, punch hole, zero range, copy_file_range, O_DIRECT, close/open).
 * -q prints only the result line. Exit: 0 clean, 1 miscompare or unexpected
 * error, 2 usage.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIO_ALIGN 4096
#define LOG_TAIL 40

enum op_kind {
	OP_READ,
	OP_WRITE,
	OP_MAPREAD,
	OP_MAPWRITE,
	OP_TRUNCATE,
	OP_FALLOC,
	OP_FALLOC_KEEP,
	OP_PUNCH,
	OP_ZERO,
	OP_COPY,
	OP_DIRECT,
	OP_REOPEN,
	OP_FSYNC,
	OP_NKINDS
};

static const char kind_letter[OP_NKINDS + 1] = "rwmMtfkpzcdoy";
static const char *const kind_name[OP_NKINDS] = {
    "read",  "write",	   "mapread",	 "mapwrite", "truncate",   "fallocate", "falloc_keep",
    "punch", "zero_range", "copy_range", "direct",   "close_open", "fsync"};
/* Relative weights of the kinds in the stream. */
static const unsigned kind_weight[OP_NKINDS] = {20, 20, 6, 6, 6, 4, 4, 5, 5, 6, 6, 3, 2};

struct logent {
	uint32_t kind;
	uint32_t flags;	  /* kind-specific: direct write/read, zero keep */
	uint64_t a, b, c; /* offset/len or src/dst/len, size for truncate */
	uint64_t size_after;
	int result; /* 0, or the errno of a refusal */
};

struct fsx {
	const char *path, *backing;
	char *argv_line;
	uint64_t seed, rng;
	long nops, checkevery;
	uint64_t maxlen, maxoplen;
	int fd, dfd; /* buffered and O_DIRECT descriptors */
	unsigned char *good, *buf, *dbuf;
	uint64_t size;
	int on[OP_NKINDS];
	long refused[OP_NKINDS];
	long done[OP_NKINDS];
	struct logent *log;
	long opno;
	int quiet;
	int cto;	/* -s: close-to-open (fsync before a check through a new open) */
	int one;	/* -1: O_DIRECT through the one descriptor */
	int attr_every; /* -a: with -B, attributes compared after every op */
};

/* ---- deterministic numbers (splitmix64) --------------------------------- */

static uint64_t rnd(struct fsx *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(struct fsx *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

/* ---- reporting ---------------------------------------------------------- */

static void log_print(const struct fsx *t, FILE *out, long from)
{
	for (long i = from < 0 ? 0 : from; i <= t->opno && i < t->nops; i++) {
		const struct logent *e = &t->log[i];

		fprintf(out,
			"%6ld %-11s a=%-8" PRIu64 " b=%-8" PRIu64 " c=%-8" PRIu64
			" fl=%u size->%" PRIu64 "%s%s\n",
			i, kind_name[e->kind], e->a, e->b, e->c, e->flags, e->size_after,
			e->result ? " refused: " : "", e->result ? strerror(e->result) : "");
	}
}

/* Print the failure with the log tail and the replay command; exit 1. */
static void die(struct fsx *t, const char *fmt, ...)
{
	char logpath[4096];
	va_list ap;
	FILE *f;

	fprintf(stderr, "ufs_fsx: FAIL at op %ld (seed %" PRIu64 "): ", t->opno, t->seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nlast operations:\n");
	log_print(t, stderr, t->opno - LOG_TAIL);
	snprintf(logpath, sizeof(logpath), "%s.fsxlog", t->path);
	f = fopen(logpath, "w");
	if (f) {
		log_print(t, f, 0);
		fclose(f);
		fprintf(stderr, "whole log: %s\n", logpath);
	}
	fprintf(stderr, "replay: %s\n", t->argv_line);
	exit(1);
}

static void sys_fail(struct fsx *t, const char *what)
{
	die(t, "%s: %s", what, strerror(errno));
}

/* Compare got[0..len) with the model at off; die on the first difference. */
static void check_bytes(struct fsx *t, const unsigned char *got, uint64_t off, uint64_t len,
			const char *how)
{
	for (uint64_t i = 0; i < len; i++) {
		if (got[i] == t->good[off + i])
			continue;
		uint64_t end = i + 16 < len ? i + 16 : len;
		char want[64] = "", have[64] = "";

		for (uint64_t j = i, k = 0; j < end; j++, k += 3) {
			snprintf(want + k, sizeof(want) - k, "%02x ", t->good[off + j]);
			snprintf(have + k, sizeof(have) - k, "%02x ", got[j]);
		}
		die(t,
		    "%s: byte %" PRIu64 " (file offset 0x%" PRIx64 ") differs\n  expected %s\n"
		    "  got      %s",
		    how, i, off + i, want, have);
	}
}

/* ---- file handling ------------------------------------------------------ */

static void open_file(struct fsx *t, int create)
{
	t->fd = open(t->path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0644);
	if (t->fd < 0)
		sys_fail(t, "open");
	t->dfd = -1;
	if (t->on[OP_DIRECT] && !t->one) {
		t->dfd = open(t->path, O_RDWR | O_DIRECT);
		if (t->dfd < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
			t->on[OP_DIRECT] = 0;
			t->refused[OP_DIRECT]++;
		} else if (t->dfd < 0) {
			sys_fail(t, "open O_DIRECT");
		}
	}
}

static void close_file(struct fsx *t)
{
	if (close(t->fd) < 0)
		sys_fail(t, "close");
	if (t->dfd >= 0 && close(t->dfd) < 0)
		sys_fail(t, "close O_DIRECT");
	t->fd = t->dfd = -1;
}

static void check_size(struct fsx *t, const char *after)
{
	struct stat st;

	if (fstat(t->fd, &st) < 0)
		sys_fail(t, "fstat");
	if ((uint64_t)st.st_size != t->size)
		die(t, "after %s: fstat size %lld, expected %" PRIu64, after, (long long)st.st_size,
		    t->size);
}

/* With -B: the attributes the mount shows (stat of the path, as ls does)
 * equal the backing file's: size and mtime. (Allocated blocks move behind
 * any client's back: delayed allocation, writeback; not compared.) */
static void check_attrs(struct fsx *t, const char *when)
{
	struct stat m, b;

	if (!t->backing)
		return;
	if (stat(t->path, &m) < 0 || stat(t->backing, &b) < 0)
		sys_fail(t, "stat for the attribute check");
	if (m.st_size != b.st_size || m.st_mtim.tv_sec != b.st_mtim.tv_sec ||
	    m.st_mtim.tv_nsec != b.st_mtim.tv_nsec)
		die(t,
		    "%s: the mount shows size %lld blocks %lld mtime %lld.%09ld, the backing file "
		    "size %lld blocks %lld mtime %lld.%09ld",
		    when, (long long)m.st_size, (long long)m.st_blocks, (long long)m.st_mtim.tv_sec,
		    m.st_mtim.tv_nsec, (long long)b.st_size, (long long)b.st_blocks,
		    (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
}

/* Read [off, off+len) through fd into buf, all of it (short only at EOF). */
static ssize_t read_all(int fd, unsigned char *buf, uint64_t len, uint64_t off)
{
	uint64_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (uint64_t)n;
	}
	return (ssize_t)got;
}

static void write_all(struct fsx *t, int fd, const unsigned char *buf, uint64_t len, uint64_t off)
{
	uint64_t put = 0;

	while (put < len) {
		ssize_t n = pwrite(fd, buf + put, len - put, (off_t)(off + put));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			sys_fail(t, "pwrite");
		put += (uint64_t)n;
	}
}

/* Whole-file check through a fresh read of path (the mount or backing). */
static void check_whole(struct fsx *t, const char *path, const char *what)
{
	unsigned char *b = malloc(t->size + 1);
	int fd;
	ssize_t n;

	if (t->cto && t->fd >= 0 && fsync(t->fd) < 0)
		sys_fail(t, "fsync before a check through a new descriptor");
	fd = open(path, O_RDONLY);
	if (!b || fd < 0)
		sys_fail(t, what);
	n = read_all(fd, b, t->size + 1, 0);
	if (n < 0)
		sys_fail(t, what);
	close(fd);
	if ((uint64_t)n != t->size)
		die(t, "%s: %zd bytes read, expected %" PRIu64, what, n, t->size);
	check_bytes(t, b, 0, t->size, what);
	free(b);
}

/* ---- the model ---------------------------------------------------------- */

static void model_grow(struct fsx *t, uint64_t end)
{
	if (end > t->size) {
		memset(t->good + t->size, 0, end - t->size);
		t->size = end;
	}
}

static void model_truncate(struct fsx *t, uint64_t size)
{
	if (size > t->size)
		model_grow(t, size);
	else
		t->size = size;
}

/* The bytes op opno writes: recognisable in a dump (op number + offset). */
static void fill_pattern(struct fsx *t, unsigned char *p, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		p[i] = (unsigned char)(((off + i) % 251) ^ ((uint64_t)t->opno * 7) ^ 0x5a);
	if (len && p[0] == 0)
		p[0] = 1; /* never all zeros: a lost write must show */
}

/* What a read of len bytes at off returns by the model (short at EOF). */
static uint64_t model_readable(const struct fsx *t, uint64_t off, uint64_t len)
{
	return off >= t->size ? 0 : (len < t->size - off ? len : t->size - off);
}

/* ---- operations ----------------------------------------------------------- */

static void op_read(struct fsx *t, uint64_t off, uint64_t len)
{
	uint64_t want = model_readable(t, off, len);
	ssize_t n = read_all(t->fd, t->buf, len, off);

	if (n < 0)
		sys_fail(t, "pread");
	if ((uint64_t)n != want)
		die(t, "read at %" PRIu64 " len %" PRIu64 ": %zd bytes, expected %" PRIu64, off,
		    len, n, want);
	check_bytes(t, t->buf, off, want, "read");
}

static void op_write(struct fsx *t, uint64_t off, uint64_t len)
{
	fill_pattern(t, t->buf, off, len);
	write_all(t, t->fd, t->buf, len, off);
	model_grow(t, off + len);
	memcpy(t->good + off, t->buf, len);
}

/* mmap [off, off+len) of the file (off rounded down to a page). */
static unsigned char *map_range(struct fsx *t, uint64_t off, uint64_t len, int prot,
				uint64_t *pdelta, uint64_t *pmaplen)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t base = off - off % pg;
	void *p;

	*pdelta = off - base;
	*pmaplen = len + *pdelta;
	p = mmap(NULL, *pmaplen, prot, MAP_SHARED, t->fd, (off_t)base);
	if (p == MAP_FAILED)
		sys_fail(t, "mmap");
	return p;
}

static void op_mapread(struct fsx *t, uint64_t off, uint64_t len)
{
	uint64_t delta, maplen;
	unsigned char *p;

	if (t->size == 0)
		return;
	off %= t->size;
	if (len > t->size - off)
		len = t->size - off;
	p = map_range(t, off, len, PROT_READ, &delta, &maplen);
	memcpy(t->buf, p + delta, len);
	munmap(p, maplen);
	check_bytes(t, t->buf, off, len, "mmap read");
}

static void op_mapwrite(struct fsx *t, uint64_t off, uint64_t len)
{
	uint64_t delta, maplen;
	unsigned char *p;

	if (off + len > t->size) { /* extend first, as fsx does */
		if (ftruncate(t->fd, (off_t)(off + len)) < 0)
			sys_fail(t, "ftruncate (mmap write extend)");
		model_grow(t, off + len);
	}
	fill_pattern(t, t->buf, off, len);
	p = map_range(t, off, len, PROT_READ | PROT_WRITE, &delta, &maplen);
	memcpy(p + delta, t->buf, len);
	if (msync(p, maplen, MS_SYNC) < 0)
		sys_fail(t, "msync");
	munmap(p, maplen);
	memcpy(t->good + off, t->buf, len);
}

static void op_truncate(struct fsx *t, uint64_t size)
{
	if (ftruncate(t->fd, (off_t)size) < 0)
		sys_fail(t, "ftruncate");
	model_truncate(t, size);
}

/* 1 when err means "this file system does not do that" (kind goes off). */
static int refusal(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL || err == EXDEV;
}

/* fallocate(mode) and update the model; returns 0 or the refusal errno. */
static int op_fallocate(struct fsx *t, int mode, uint64_t off, uint64_t len)
{
	if (fallocate(t->fd, mode, (off_t)off, (off_t)len) < 0) {
		if (refusal(errno))
			return errno;
		sys_fail(t, "fallocate");
	}
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
		uint64_t end = off + len < t->size ? off + len : t->size;

		if (off < end)
			memset(t->good + off, 0, end - off);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE))
		model_grow(t, off + len);
	return 0;
}

static int op_copy(struct fsx *t, uint64_t src, uint64_t dst, uint64_t len)
{
	loff_t in = (loff_t)src, out = (loff_t)dst;
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = copy_file_range(t->fd, &in, t->fd, &out, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && done == 0 && refusal(errno))
			return errno;
		if (n < 0)
			sys_fail(t, "copy_file_range");
		if (n == 0)
			break; /* source EOF */
		done += (uint64_t)n;
	}
	if (done) {
		model_grow(t, dst + done);
		memmove(t->good + dst, t->good + src, done);
	}
	return 0;
}

/* O_DIRECT read or write of aligned blocks through t->dfd. */
static void op_direct_io(struct fsx *t, int write, uint64_t off, uint64_t len)
{
	off -= off % DIO_ALIGN;
	len = len < DIO_ALIGN ? DIO_ALIGN : len - len % DIO_ALIGN;
	if (off + len > t->maxlen)
		off = t->maxlen - len;
	if (write) {
		fill_pattern(t, t->dbuf, off, len);
		write_all(t, t->dfd, t->dbuf, len, off);
		model_grow(t, off + len);
		memcpy(t->good + off, t->dbuf, len);
		return;
	}
	ssize_t n = read_all(t->dfd, t->dbuf, len, off);
	uint64_t want = model_readable(t, off, len);

	if (n < 0)
		sys_fail(t, "pread O_DIRECT");
	if ((uint64_t)n != want)
		die(t, "O_DIRECT read at %" PRIu64 " len %" PRIu64 ": %zd bytes, expected %" PRIu64,
		    off, len, n, want);
	check_bytes(t, t->dbuf, off, want, "O_DIRECT read");
}

/* Switch O_DIRECT on the one descriptor on (1) or off (0): -1 mode. */
static void direct_toggle(struct fsx *t, int on)
{
	int fl = fcntl(t->fd, F_GETFL);

	if (fl < 0 || fcntl(t->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0)
		sys_fail(t, "fcntl O_DIRECT");
}

/* O_DIRECT read or write of aligned blocks (through the second descriptor,
 * or with -1 through the one descriptor switched to O_DIRECT). */
static void op_direct(struct fsx *t, int write, uint64_t off, uint64_t len)
{
	if (t->one) {
		int dfd = t->dfd;

		direct_toggle(t, 1);
		t->dfd = t->fd;
		op_direct_io(t, write, off, len);
		t->dfd = dfd;
		direct_toggle(t, 0);
		return;
	}
	op_direct_io(t, write, off, len);
}

static void op_reopen(struct fsx *t)
{
	close_file(t);
	check_attrs(t, "after close");
	open_file(t, 0);
}

/* ---- the stream --------------------------------------------------------- */

static enum op_kind pick_kind(struct fsx *t)
{
	unsigned total = 0, r;

	for (int k = 0; k < OP_NKINDS; k++)
		total += kind_weight[k];
	r = (unsigned)rnd_below(t, total);
	for (int k = 0; k < OP_NKINDS; k++) {
		if (r < kind_weight[k])
			return (enum op_kind)k;
		r -= kind_weight[k];
	}
	return OP_READ;
}

/* Run one operation of kind k with the numbers a, b, c; 0 or a refusal. */
static int run_op(struct fsx *t, enum op_kind k, struct logent *e)
{
	uint64_t off = e->a, len = e->b;

	switch (k) {
	case OP_READ:
		op_read(t, off, len);
		return 0;
	case OP_WRITE:
		op_write(t, off, len);
		return 0;
	case OP_MAPREAD:
		op_mapread(t, off, len);
		return 0;
	case OP_MAPWRITE:
		op_mapwrite(t, off, len);
		return 0;
	case OP_TRUNCATE:
		op_truncate(t, e->c);
		return 0;
	case OP_FALLOC:
		return op_fallocate(t, 0, off, len);
	case OP_FALLOC_KEEP:
		return op_fallocate(t, FALLOC_FL_KEEP_SIZE, off, len);
	case OP_PUNCH:
		return op_fallocate(t, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	case OP_ZERO:
		return op_fallocate(t, FALLOC_FL_ZERO_RANGE | (e->flags ? FALLOC_FL_KEEP_SIZE : 0),
				    off, len);
	case OP_COPY:
		return op_copy(t, off, e->c, len);
	case OP_DIRECT:
		op_direct(t, (int)e->flags, off, len);
		return 0;
	case OP_REOPEN:
		op_reopen(t);
		return 0;
	case OP_FSYNC:
		if (fsync(t->fd) < 0)
			sys_fail(t, "fsync");
		return 0;
	default:
		return 0;
	}
}

/* A copy of b <= maxlen/4 bytes from a (inside the file) to c, the two
 * ranges apart (a source past EOF is legal: a short copy). */
static void draw_copy(struct fsx *t, struct logent *e, uint64_t sz)
{
	e->a = rnd_below(t, sz);
	if (e->b > t->maxlen / 4)
		e->b = 1 + e->b % (t->maxlen / 4);
	if (e->a + e->b > t->maxlen)
		e->b = t->maxlen - e->a;
	if (e->c + e->b > t->maxlen)
		e->c = t->maxlen - e->b;
	if (e->a < e->c + e->b && e->c < e->a + e->b)
		e->c = e->a + 2 * e->b <= t->maxlen ? e->a + e->b : e->a - e->b;
}

/* Draw the numbers of one operation (always the same count of draws). */
static void draw(struct fsx *t, enum op_kind k, struct logent *e)
{
	uint64_t sz = t->size ? t->size : 1;

	e->kind = k;
	e->flags = (uint32_t)rnd_below(t, 2);
	e->b = 1 + rnd_below(t, t->maxoplen);
	e->a = rnd_below(t, t->maxlen);
	e->c = rnd_below(t, t->maxlen);
	if (k == OP_READ || k == OP_PUNCH || k == OP_MAPREAD)
		e->a = rnd_below(t, sz + sz / 8); /* mostly inside the file */
	if (e->a >= t->maxlen)
		e->a = t->maxlen - 1;
	if (e->a + e->b > t->maxlen)
		e->b = t->maxlen - e->a;
	if (k == OP_COPY) /* non-overlapping source and destination */
		draw_copy(t, e, sz);
	if (e->b == 0)
		e->b = 1, e->a = t->maxlen - 1;
}

static void run(struct fsx *t)
{
	for (t->opno = 0; t->opno < t->nops; t->opno++) {
		struct logent *e = &t->log[t->opno];
		enum op_kind k = pick_kind(t);

		draw(t, k, e);
		if (!t->on[k]) {
			e->result = -1; /* switched off: logged as skipped */
			e->size_after = t->size;
			continue;
		}
		e->result = run_op(t, k, e);
		if (e->result) {
			t->on[k] = 0;
			t->refused[k]++;
		} else {
			t->done[k]++;
		}
		e->size_after = t->size;
		check_size(t, kind_name[k]);
		if (t->attr_every)
			check_attrs(t, kind_name[k]);
		if (t->checkevery && t->opno % t->checkevery == t->checkevery - 1)
			check_whole(t, t->path, "whole-file check");
	}
	t->opno = t->nops - 1;
}

/* ---- options ---------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: ufs_fsx [-N ops] [-S seed] [-l maxlen] [-o maxoplen] "
			"[-c checkevery] [-B backing [-a]] [-x kinds-off] [-s] [-1] [-q] FILE\n"
			"kinds: r read, w write, m mmap read, M mmap write, t truncate, "
			"f fallocate, k fallocate keep, p punch, z zero range,\n"
			"       c copy_file_range, d O_DIRECT, o close/open, y fsync\n");
	exit(2);
}

static void kinds_off(struct fsx *t, const char *s)
{
	for (; *s; s++) {
		const char *p = strchr(kind_letter, *s);

		if (!p)
			usage();
		t->on[p - kind_letter] = 0;
	}
}

static char *join_argv(int argc, char **argv)
{
	size_t n = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 3;
	s = calloc(1, n);
	for (int i = 0; s && i < argc; i++) {
		strcat(s, i ? " '" : "'");
		strcat(s, argv[i]);
		strcat(s, "'");
	}
	return s;
}

static void parse(struct fsx *t, int argc, char **argv)
{
	int c;

	t->nops = 10000;
	t->seed = 1;
	t->maxlen = 256 * 1024;
	t->maxoplen = 64 * 1024;
	t->checkevery = 500;
	for (int k = 0; k < OP_NKINDS; k++)
		t->on[k] = 1;
	while ((c = getopt(argc, argv, "N:S:l:o:c:B:x:s1aq")) != -1) {
		switch (c) {
		case 'N':
			t->nops = strtol(optarg, NULL, 0);
			break;
		case 'S':
			t->seed = strtoull(optarg, NULL, 0);
			break;
		case 'l':
			t->maxlen = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			t->maxoplen = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			t->checkevery = strtol(optarg, NULL, 0);
			break;
		case 'B':
			t->backing = optarg;
			break;
		case 'x':
			kinds_off(t, optarg);
			break;
		case 's':
			t->cto = 1;
			break;
		case '1':
			t->one = 1;
			break;
		case 'a':
			t->attr_every = 1;
			break;
		case 'q':
			t->quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || t->nops <= 0 || t->maxlen < 2 * DIO_ALIGN || t->maxoplen < 1 ||
	    t->maxoplen > t->maxlen || t->checkevery < 0)
		usage();
	t->path = argv[optind];
	t->rng = t->seed;
	t->argv_line = join_argv(argc, argv);
}

/* The result line (with -q the only output), then the kinds run. */
static void summary(const struct fsx *t, double secs)
{
	printf("ufs_fsx: %ld operations on %s, seed %" PRIu64 ", final size %" PRIu64
	       ": clean in %.1f s\n",
	       t->nops, t->path, t->seed, t->size, secs);
	for (int k = 0; !t->quiet && k < OP_NKINDS; k++)
		printf("  %-11s %7ld%s\n", kind_name[k], t->done[k],
		       t->refused[k] ? " (refused by the file system: switched off)" : "");
}

int main(int argc, char **argv)
{
	struct fsx t = {0};
	struct timespec t0, t1;

	parse(&t, argc, argv);
	t.good = calloc(1, t.maxlen);
	t.buf = malloc(t.maxlen);
	t.log = calloc((size_t)t.nops, sizeof(*t.log));
	if (!t.good || !t.buf || !t.log || posix_memalign((void **)&t.dbuf, DIO_ALIGN, t.maxlen))
		sys_fail(&t, "malloc");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	open_file(&t, 1);
	run(&t);
	check_whole(&t, t.path, "final check through a new open");
	close_file(&t);
	check_whole(&t, t.path, "final check after close");
	if (t.backing)
		check_whole(&t, t.backing, "final check of the backing file");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	summary(&t, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(t.good);
	free(t.buf);
	free(t.dbuf);
	free(t.log);
	free(t.argv_line);
	return 0;
}
