/*
 * direct_probe.c — a libunifs client for the integration tests and the
 * benchmark (not installed).
 *
 *   direct_probe read FILE [OUT]       read FILE through the direct path in
 *                                      batches of 16 MiB entries; write it to
 *                                      OUT (default: discard); "bytes secs"
 *                                      (PROBE_PASSES=N: N passes, a line each)
 *   direct_probe write FILE SRC [PART] create/truncate FILE and write SRC in
 *                                      batches of PART bytes (default 16 MiB),
 *                                      deregister (commit), close
 *   direct_probe rowrite FILE          write on a read-only handle: errno name
 *   direct_probe io FILE MODE OP       open FILE with MODE (r, w, rw, rt:
 *                                      O_RDONLY|O_TRUNC; no O_CREAT), register,
 *                                      one 1-byte OP (read|write, a zero byte
 *                                      at offset 0): OK or the errno name
 *                                      (of the open or register too)
 *   direct_probe revoke FILE           read after close(fd): errno name
 *   direct_probe hold FILE             read 1 byte, print "ready", then read
 *                                      again after each line on stdin: the
 *                                      result (bytes or errno name)
 *   direct_probe prefetch FILE...      ufs_prefetch the files
 * Exit status 0 unless a call failed unexpectedly (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <unifs/direct.h>

#define PROBE_CHUNK (16u << 20)
#define PROBE_DEPTH 8

static int die(const char *what, long rc)
{
	fprintf(stderr, "direct_probe: %s: %s\n", what, strerror((int)-rc));
	return 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *errname(long rc)
{
	switch (-rc) {
	case EBADF:
		return "EBADF";
	case EACCES:
		return "EACCES";
	case EINVAL:
		return "EINVAL";
	case ENOTCONN:
		return "ENOTCONN";
	case ENOTTY:
		return "ENOTTY";
	case EAGAIN:
		return "EAGAIN";
	default:
		return rc >= 0 ? "OK" : strerror((int)-rc);
	}
}

/* Open path and register it. fd or -1 (message printed). */
static int probe_open(const char *path, int flags, ufs_handle_t *ph)
{
	int fd = open(path, flags, 0644), rc;

	if (fd < 0) {
		perror(path);
		return -1;
	}
	rc = ufs_handle_register(fd, ph);
	if (rc < 0) {
		die("register", rc);
		close(fd);
		return -1;
	}
	return fd;
}

/* Run the entries of op over file bytes [base, base + len) (at most one
 * window: PROBE_DEPTH parts), buffer offset 0, all in flight at once.
 * Bytes or -errno. */
static long long probe_window(ufs_handle_t h, ufs_buf_t b, ufs_batch_t bt, enum ufs_op op,
			      uint64_t base, uint64_t len, size_t part)
{
	struct ufs_io_entry e[PROBE_DEPTH] = {{0}};
	struct ufs_io_event ev[PROBE_DEPTH];
	unsigned n = 0, got = 0;
	long long total = 0;
	int rc;

	for (uint64_t at = 0; at < len && n < PROBE_DEPTH; at += part, n++)
		e[n] = (struct ufs_io_entry){h,
					     op,
					     (int64_t)(base + at),
					     len - at < part ? (size_t)(len - at) : part,
					     b,
					     (size_t)at,
					     NULL};
	rc = ufs_batch_submit(bt, e, n);
	while (rc >= 0 && got < n) {
		int k = ufs_batch_wait(bt, n - got, PROBE_DEPTH, ev, -1);

		if (k < 0)
			rc = k;
		for (int i = 0; i < k; i++) {
			if (ev[i].res < 0)
				rc = (int)ev[i].res;
			else
				total += ev[i].res;
		}
		got += k > 0 ? (unsigned)k : 0;
	}
	return rc < 0 ? rc : total;
}

/* Read the whole file once through buffer b in windows of win bytes
 * (written to out when out >= 0). Bytes read, or -errno. */
static long long probe_read_pass(ufs_handle_t h, ufs_buf_t b, ufs_batch_t bt, uint64_t size,
				 size_t win, int out)
{
	long long total = 0;

	for (uint64_t off = 0; off < size; off += win) {
		uint64_t len = size - off < win ? size - off : win;
		long long n = probe_window(h, b, bt, UFS_OP_READ, off, len, PROBE_CHUNK);

		if (n < 0)
			return n;
		if (out >= 0 && write(out, ufs_buf_ptr(b), (size_t)n) != n)
			return -EIO;
		total += n;
	}
	return total;
}

/* PROBE_PASSES (default 1) passes over the file with one buffer: the first
 * pays for the buffer's first touch, later ones show the steady state of a
 * loader that allocates its buffers once. One "bytes secs" line per pass. */
static int probe_read(const char *path, const char *outp)
{
	size_t win = (size_t)PROBE_CHUNK * PROBE_DEPTH; /* cut to the file size below */
	int out = outp ? open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
	int passes = getenv("PROBE_PASSES") ? atoi(getenv("PROBE_PASSES")) : 1;
	ufs_handle_t h;
	ufs_buf_t b;
	ufs_batch_t bt;
	double t0 = now();
	long long n = 0;
	uint64_t size;
	int fd = probe_open(path, O_RDONLY, &h);

	if (fd < 0 || (outp && out < 0))
		return 1;
	size = ufs_handle_size(h);
	if (size && size < win)
		win = (size_t)size;
	if ((n = ufs_buf_alloc(win, &b)) < 0 || (n = ufs_batch_setup(PROBE_DEPTH, &bt)) < 0)
		return die("setup", (long)n);
	for (int pass = 0; pass < passes; pass++, t0 = now()) {
		n = probe_read_pass(h, b, bt, size, win, pass == 0 ? out : -1);
		if (n < 0)
			return die("read", (long)n);
		printf("%lld %.3f\n", n, now() - t0);
	}
	ufs_batch_destroy(bt);
	ufs_buf_free(b);
	ufs_handle_deregister(h);
	close(fd);
	return out >= 0 && close(out) < 0;
}

/* Submit the write entries of src bytes [base, base + len) from buffer
 * offset boff, in parts. Count submitted, or -errno. */
static int probe_wsubmit(ufs_handle_t h, ufs_buf_t b, ufs_batch_t bt, uint64_t base, size_t len,
			 size_t boff, size_t part)
{
	struct ufs_io_entry e[PROBE_DEPTH];
	unsigned n = 0;
	int rc;

	for (size_t at = 0; at < len && n < PROBE_DEPTH; at += part, n++)
		e[n] = (struct ufs_io_entry){h,
					     UFS_OP_WRITE,
					     (int64_t)(base + at),
					     len - at < part ? len - at : part,
					     b,
					     boff + at,
					     NULL};
	rc = ufs_batch_submit(bt, e, n);
	return rc < 0 ? rc : (int)n;
}

/* Wait for n completions. 0 or the first -errno. */
static int probe_wwait(ufs_batch_t bt, int n)
{
	struct ufs_io_event ev[PROBE_DEPTH];
	int rc = 0;

	while (n > 0) {
		int k = ufs_batch_wait(bt, (unsigned)n, PROBE_DEPTH, ev, -1);

		if (k < 0)
			return k;
		for (int i = 0; i < k; i++)
			if (ev[i].res < 0 && rc == 0)
				rc = (int)ev[i].res;
		n -= k;
	}
	return rc;
}

/* Checkpoint save: two half-buffers, so the next window is read from SRC
 * while the previous one is being written (entries stay in file order). */
static int probe_write(const char *path, const char *src, size_t part)
{
	size_t half = part * (PROBE_DEPTH / 2);
	int in = open(src, O_RDONLY), fd, inflight = 0, side = 0;
	ufs_handle_t h;
	ufs_buf_t b;
	ufs_batch_t bt;
	double t0 = now();
	long long total = 0, n;

	if (in < 0)
		return die(src, -errno);
	fd = probe_open(path, O_WRONLY | O_CREAT | O_TRUNC, &h);
	if (fd < 0)
		return 1;
	if ((n = ufs_buf_alloc(2 * half, &b)) < 0 || (n = ufs_batch_setup(PROBE_DEPTH, &bt)) < 0)
		return die("setup", (long)n);
	for (;;) {
		char *p = (char *)ufs_buf_ptr(b) + side * half;
		ssize_t got = pread(in, p, half, total);

		if (got < 0)
			return die("read source", -errno);
		if ((n = probe_wwait(bt, inflight)) < 0)
			return die("write", (long)n);
		inflight = 0;
		if (got == 0)
			break;
		n = probe_wsubmit(h, b, bt, (uint64_t)total, (size_t)got, side * half, part);
		if (n < 0)
			return die("write", (long)n);
		inflight = (int)n;
		total += got;
		side ^= 1;
	}
	ufs_batch_destroy(bt);
	n = ufs_handle_deregister(h);
	if (n < 0)
		return die("commit", (long)n);
	if (close(fd) < 0)
		return die("close", -errno);
	printf("%lld %.3f\n", total, now() - t0);
	ufs_buf_free(b);
	close(in);
	return 0;
}

/* One small entry of op on h: its result. */
static long probe_one(ufs_handle_t h, enum ufs_op op)
{
	ufs_buf_t b;
	long rc = ufs_buf_alloc(4096, &b);

	if (rc < 0)
		return rc;
	rc = op == UFS_OP_READ ? (long)ufs_read(h, b, 1, 0, 0) : (long)ufs_write(h, b, 1, 0, 0);
	ufs_buf_free(b);
	return rc;
}

static int probe_rowrite(const char *path)
{
	ufs_handle_t h;
	int fd = probe_open(path, O_RDONLY, &h);

	if (fd < 0)
		return 1;
	printf("%s\n", errname(probe_one(h, UFS_OP_WRITE)));
	ufs_handle_deregister(h);
	close(fd);
	return 0;
}

static int probe_io(const char *path, const char *mode, const char *op)
{
	int flags = strcmp(mode, "w") == 0    ? O_WRONLY
		    : strcmp(mode, "rw") == 0 ? O_RDWR
		    : strcmp(mode, "rt") == 0 ? O_RDONLY | O_TRUNC
					      : O_RDONLY;
	int fd = open(path, flags);
	ufs_handle_t h;
	long rc;

	if (fd < 0) {
		printf("%s\n", errname(-errno));
		return 0;
	}
	rc = ufs_handle_register(fd, &h);
	if (rc == 0) {
		rc = probe_one(h, strcmp(op, "write") == 0 ? UFS_OP_WRITE : UFS_OP_READ);
		ufs_handle_deregister(h);
	}
	printf("%s\n", errname(rc));
	close(fd);
	return 0;
}

/* Read after close(fd): revoked once the kernel sent the release. */
static int probe_revoke(const char *path)
{
	ufs_handle_t h;
	int fd = probe_open(path, O_RDONLY, &h);
	long rc = 0;

	if (fd < 0)
		return 1;
	if ((rc = probe_one(h, UFS_OP_READ)) != 1)
		return die("read before close", rc < 0 ? rc : -EIO);
	close(fd);
	for (int i = 0; i < 100 && rc >= 0; i++) {
		rc = probe_one(h, UFS_OP_READ);
		if (rc >= 0)
			usleep(20000);
	}
	printf("%s\n", errname(rc));
	ufs_handle_deregister(h); /* frees the handle; the daemon already revoked it */
	return 0;
}

static int probe_hold(const char *path)
{
	ufs_handle_t h;
	char line[64];
	int fd = probe_open(path, O_RDONLY, &h);

	if (fd < 0)
		return 1;
	printf("ready %s\n", errname(probe_one(h, UFS_OP_READ)));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		printf("%s\n", errname(probe_one(h, UFS_OP_READ)));
		fflush(stdout);
	}
	ufs_handle_deregister(h); /* frees the handle even when the daemon is gone */
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 3) {
		fprintf(stderr,
			"usage: direct_probe read|write|rowrite|io|revoke|hold|prefetch FILE...\n");
		return 2;
	}
	ufs_driver_open();
	if (strcmp(argv[1], "read") == 0)
		rc = probe_read(argv[2], argc > 3 ? argv[3] : NULL);
	else if (strcmp(argv[1], "write") == 0 && argc > 3)
		rc = probe_write(argv[2], argv[3],
				 argc > 4 ? strtoul(argv[4], NULL, 0) : PROBE_CHUNK);
	else if (strcmp(argv[1], "rowrite") == 0)
		rc = probe_rowrite(argv[2]);
	else if (strcmp(argv[1], "io") == 0 && argc > 4)
		rc = probe_io(argv[2], argv[3], argv[4]);
	else if (strcmp(argv[1], "revoke") == 0)
		rc = probe_revoke(argv[2]);
	else if (strcmp(argv[1], "hold") == 0)
		rc = probe_hold(argv[2]);
	else if (strcmp(argv[1], "prefetch") == 0)
		rc = ufs_prefetch((const char *const *)argv + 2, (size_t)argc - 2) < 0;
	else
		rc = 2;
	ufs_driver_close();
	return rc;
}
