/*
 * test_direct.c — the direct path end to end without FUSE: the daemon's
 * server (fs/direct*.c) runs in this process over a fake open file, and
 * libunifs (lib/) talks to it through its real socket and rings, with the
 * grant the ioctl would return. Covers read/write through chunked fan-out,
 * the commit error at deregister, and every refusal the issue lists:
 * forged token, another uid, a revoked (closed) file, buffer ranges,
 * negative/overflowing offsets, write on a read-only handle, read on a
 * write-only one, a full ring, a client dying mid-batch (nothing leaks),
 * and the daemon going away while a client is attached (an error, not a
 * hang); and the bounds on what a client can make the daemon hold: one
 * grant per open file and uid, grants per file and per uid, sessions per
 * uid, buffer size (a sparse buffer is not pre-faulted). ufs_read_into
 * (the caller's own memory, staged): byte-exact at any offset, length and
 * alignment, short at end of file, several entries in flight, an error
 * mid-way, and a forked child that stages through memory of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs/direct/direct_i.h"
#include "lib/direct_i.h"

#define FAKE_MAX (24u << 20)

struct fake_file {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int gated;	  /* reads wait while set */
	uint64_t fail_at; /* reads reaching past it fail with -EIO (0: none) */
	unsigned waiting;
	uint8_t *data;
	size_t size;
	int commit_rc;
};

static ssize_t fake_read(struct ufs_fs *fs, void *p, void *buf, size_t len, uint64_t off)
{
	struct fake_file *f = p;

	(void)fs;
	pthread_mutex_lock(&f->lock);
	f->waiting++;
	while (f->gated)
		pthread_cond_wait(&f->cond, &f->lock);
	f->waiting--;
	if (f->fail_at && off + len > f->fail_at) {
		pthread_mutex_unlock(&f->lock);
		return -EIO;
	}
	if (off >= f->size)
		len = 0;
	else if (len > f->size - off)
		len = f->size - off;
	memcpy(buf, f->data + off, len);
	pthread_mutex_unlock(&f->lock);
	return (ssize_t)len;
}

static ssize_t fake_write(struct ufs_fs *fs, void *p, const void *buf, size_t len, uint64_t off)
{
	struct fake_file *f = p;

	(void)fs;
	if (off + len > FAKE_MAX)
		return -EFBIG;
	pthread_mutex_lock(&f->lock);
	memcpy(f->data + off, buf, len);
	if (off + len > f->size)
		f->size = off + len;
	pthread_mutex_unlock(&f->lock);
	return (ssize_t)len;
}

static int fake_commit(struct ufs_fs *fs, void *p)
{
	(void)fs;
	return ((struct fake_file *)p)->commit_rc;
}

static const struct fs_direct_file_ops fake_ops = {fake_read, fake_write, fake_commit};

struct env {
	struct ufs_config cfg;
	struct ufs_fs fs;
	char mnt[64];
	struct fake_file file;
	struct fake_file other; /* a second open file (same data) */
	struct lib_sess *s;
};

static void fake_gate(struct fake_file *f, int on)
{
	pthread_mutex_lock(&f->lock);
	f->gated = on;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[256];

	e->cfg.block_size = 1 << 20; /* reads fan out in 1 MiB chunks */
	e->cfg.workers = 4;
	snprintf(e->mnt, sizeof(e->mnt), "/test-direct-%d-%ld", (int)getpid(), random());
	e->fs.cfg = &e->cfg;
	e->fs.mountpoint = e->mnt;
	e->file.data = calloc(1, FAKE_MAX);
	pthread_mutex_init(&e->file.lock, NULL);
	pthread_cond_init(&e->file.cond, NULL);
	e->other.data = e->file.data;
	pthread_mutex_init(&e->other.lock, NULL);
	pthread_cond_init(&e->other.cond, NULL);
	assert_int_equal(fs_direct_start(&e->fs, err, sizeof(err)), 0);
	ufs_driver_open();
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	ufs_driver_close();
	fs_direct_stop(&e->fs);
	free(e->file.data);
	free(e);
	return 0;
}

#define RO FS_DIRECT_READ
#define WO FS_DIRECT_WRITE
#define RW (FS_DIRECT_READ | FS_DIRECT_WRITE)

/* A handle on open file f, opened for mode (FS_DIRECT_*), through its grant. */
static ufs_handle_t env_handle_of(struct env *e, struct fake_file *f, unsigned mode)
{
	struct udw_grant g;
	ufs_handle_t h;

	assert_int_equal(fs_direct_grant(&e->fs, f, &fake_ops, 42, mode, getuid(), &g), 0);
	assert_int_equal(lib_sess_open(g.sock, &e->s), 0);
	assert_int_equal(lib_register_grant(e->s, &g, &h), 0);
	return h;
}

static ufs_handle_t env_handle(struct env *e, unsigned mode)
{
	return env_handle_of(e, &e->file, mode);
}

static void test_write_read_fanout(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RW);
	size_t n = (3u << 20) + 12345; /* four chunks, the last one short */
	ufs_buf_t b;
	uint8_t *p;

	assert_int_equal(ufs_buf_alloc(4u << 20, &b), 0);
	p = ufs_buf_ptr(b);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ufs_write(h, b, n, 0, 0), (ssize_t)n);
	assert_int_equal(e->file.size, n);
	memset(p, 0, 4u << 20);
	assert_int_equal(ufs_read(h, b, 4u << 20, 0, 0), (ssize_t)n); /* short at EOF */
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7 + 3))
			fail_msg("byte %zu differs", i);
	assert_int_equal(ufs_read(h, b, 10, (int64_t)n + 5, 0), 0);
	e->file.commit_rc = -EIO; /* the upload failed: deregister says so */
	assert_int_equal(ufs_handle_deregister(h), -EIO);
	e->file.commit_rc = 0;
	ufs_buf_free(b);
}

static void test_bad_entries(void **state)
{
	struct env *e = *state;
	ufs_handle_t rw = env_handle(e, RW), ro = env_handle_of(e, &e->other, RO);
	ufs_buf_t b;

	assert_int_equal(ufs_buf_alloc(1 << 16, &b), 0);
	e->file.size = e->other.size = 100;
	assert_int_equal(ufs_read(rw, b, (1 << 16) + 1, 0, 0), -EINVAL);  /* longer than buf */
	assert_int_equal(ufs_read(rw, b, 16, 0, (1 << 16) - 8), -EINVAL); /* leaves buf */
	assert_int_equal(ufs_read(rw, b, 16, 0, SIZE_MAX - 4), -EINVAL);  /* wraps */
	assert_int_equal(ufs_read(rw, b, 16, -1, 0), -EINVAL);		  /* negative */
	assert_int_equal(ufs_read(rw, b, 16, INT64_MAX - 4, 0), -EINVAL); /* overflows */
	assert_int_equal(ufs_write(ro, b, 16, 0, 0), -EBADF);		  /* read-only */
	assert_int_equal(ufs_read(ro, b, 16, 0, 0), 16);		  /* still fine */
	assert_int_equal(ufs_handle_deregister(ro), 0);
	assert_int_equal(ufs_handle_deregister(rw), 0);
	ufs_buf_free(b);
}

/* A handle of an fd opened write-only reads nothing (the daemon's own
 * reader must never read for it); writes go through. */
static void test_write_only(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, WO);
	ufs_buf_t b;

	assert_int_equal(ufs_buf_alloc(4096, &b), 0);
	memset(ufs_buf_ptr(b), 'w', 16);
	assert_int_equal(ufs_write(h, b, 16, 0, 0), 16);
	assert_int_equal(ufs_read(h, b, 16, 0, 0), -EBADF);
	assert_int_equal(ufs_read(h, b, 0, 0, 0), -EBADF);
	assert_int_equal(ufs_handle_deregister(h), 0);
	ufs_buf_free(b);
}

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* no header in Debian's gcc */
#endif

/* Bytes allocated and not freed, where the sanitizer counts them exactly;
 * 0 elsewhere. */
static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	return 0;
#endif
}

/* One grant per open file and uid (repeated ioctls allocate nothing);
 * bounded per file and per uid. */
static void test_grant_bounds(void **state)
{
	struct env *e = *state;
	struct udw_grant g1, g2;
	char *key = (char *)e->file.data; /* distinct "open files": never used */
	uid_t uid = 4242;
	size_t heap;

	assert_int_equal(fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, uid, &g1), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, uid, &g2), 0);
	assert_memory_equal(g1.token, g2.token, sizeof(g1.token)); /* the same grant */
	heap = heap_in_use();
	for (int i = 0; i < 100000; i++)
		assert_int_equal(fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, uid, &g2), 0);
	assert_int_equal(heap_in_use(), heap);
	for (unsigned i = 1; i < DIRECT_GRANTS_PER_FILE; i++)
		assert_int_equal(fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, uid + i, &g2),
				 0);
	assert_int_equal(
	    fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, uid + DIRECT_GRANTS_PER_FILE, &g2),
	    -EMFILE);
	fs_direct_revoke(&e->fs, &e->file);
	for (unsigned i = 0; i < DIRECT_GRANTS_PER_UID; i++)
		assert_int_equal(fs_direct_grant(&e->fs, key + i, &fake_ops, 42, RO, uid, &g2), 0);
	assert_int_equal(
	    fs_direct_grant(&e->fs, key + DIRECT_GRANTS_PER_UID, &fake_ops, 42, RO, uid, &g2),
	    -EMFILE);
	assert_int_equal(fs_direct_grant(&e->fs, key, &fake_ops, 42, RO, uid + 1, &g2), 0);
	fs_direct_revoke(&e->fs, key); /* closing one makes room for another */
	assert_int_equal(
	    fs_direct_grant(&e->fs, key + DIRECT_GRANTS_PER_UID, &fake_ops, 42, RO, uid, &g2), 0);
	for (unsigned i = 0; i <= DIRECT_GRANTS_PER_UID; i++)
		fs_direct_revoke(&e->fs, key + i);
}

/* VmRSS of this process in KiB. */
static long rss_kib(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (fp)
		fclose(fp);
	return kib;
}

/* BUF_ADD of a sparse sealed memfd of size bytes on the session of h. */
static int add_sparse(struct lib_sess *s, uint64_t size)
{
	struct udw_msg m = {.op = UDW_BUF_ADD};
	int fd = memfd_create("sparse", MFD_CLOEXEC | MFD_ALLOW_SEALING), rc;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	pthread_mutex_lock(&s->lock);
	rc = lib_sess_call(s, &m, NULL, 0, &fd, 1);
	pthread_mutex_unlock(&s->lock);
	close(fd);
	return rc;
}

/* A sparse buffer costs the daemon nothing until used; one over the bound
 * is refused with EFBIG (and by the library before it asks). */
static void test_buf_bounds(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO);
	long before = rss_kib();
	ufs_buf_t b;

	assert_int_equal(add_sparse(e->s, 1ull << 30), 0);
	assert_true(rss_kib() - before < 32 << 10); /* not 1 GiB pre-faulted */
	assert_int_equal(add_sparse(e->s, UDW_BUF_MAX + 4096), -EFBIG);
	assert_int_equal(ufs_buf_alloc(UFS_BUF_MAX + 1, &b), -EFBIG);
	ufs_handle_deregister(h);
}

/* The sessions of one uid are bounded: the one past the bound is answered
 * -EUSERS and closed; the others still work. */
static void test_sessions_per_uid(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	unsigned cap = e->fs.direct->sess_per_uid;
	int *fds = calloc(cap, sizeof(int)), extra;
	struct udw_msg m;
	struct timeval tv = {.tv_sec = 5};
	ufs_buf_t b;

	memcpy(sa.sun_path, e->s->sock, sizeof(sa.sun_path) - 1);
	assert_true(cap >= 16 && cap <= DIRECT_SESS_PER_UID);
	for (unsigned i = 0; i + 1 < cap; i++) { /* e->s is one */
		fds[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	extra = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(extra, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(recv(extra, &m, sizeof(m), 0), sizeof(m));
	assert_int_equal(m.status, -EUSERS);
	assert_int_equal(recv(extra, &m, sizeof(m), 0), 0); /* and closed */
	close(extra);
	assert_int_equal(ufs_buf_alloc(4096, &b), 0);
	e->file.size = 100;
	assert_int_equal(ufs_read(h, b, 10, 0, 0), 10);
	for (unsigned i = 0; i + 1 < cap; i++)
		close(fds[i]);
	free(fds);
	ufs_handle_deregister(h);
	ufs_buf_free(b);
}

static void test_forged_token(void **state)
{
	struct env *e = *state;
	struct udw_grant g;
	ufs_handle_t h = env_handle(e, RO);

	memset(&g, 0, sizeof(g));
	memset(g.token, 0x5a, sizeof(g.token));
	assert_int_equal(lib_register_grant(e->s, &g, &h), -EACCES);
	ufs_handle_deregister(h);
}

static void test_other_uid(void **state)
{
	struct env *e = *state;
	struct udw_grant g;
	int st;
	pid_t pid;

	if (getuid() != 0)
		skip(); /* needs root to become another uid */
	assert_int_equal(fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, 0, &g), 0);
	pid = fork();
	if (pid == 0) {
		struct lib_sess *s;
		ufs_handle_t h;
		int rc;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		ufs_driver_open();
		rc = lib_sess_open(g.sock, &s);
		if (rc == 0)
			rc = lib_register_grant(s, &g, &h);
		_exit(rc == -EACCES ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_revoked(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO);
	struct udw_grant g;
	ufs_buf_t b;

	assert_int_equal(ufs_buf_alloc(4096, &b), 0);
	e->file.size = 100;
	assert_int_equal(ufs_read(h, b, 10, 0, 0), 10);
	fs_direct_revoke(&e->fs, &e->file); /* what FUSE release does */
	assert_int_equal(ufs_read(h, b, 10, 0, 0), -EBADF);
	ufs_handle_deregister(h);
	/* and the old token no longer registers */
	assert_int_equal(fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, getuid(), &g), 0);
	fs_direct_revoke(&e->fs, &e->file);
	assert_int_equal(lib_register_grant(e->s, &g, &h), -EACCES);
	ufs_buf_free(b);
}

static void wait_for(struct env *e, unsigned waiting)
{
	for (int i = 0; i < 500; i++) {
		unsigned w;

		pthread_mutex_lock(&e->file.lock);
		w = e->file.waiting;
		pthread_mutex_unlock(&e->file.lock);
		if (w >= waiting)
			return;
		usleep(10000);
	}
	fail_msg("reads did not start");
}

static void test_full_ring(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO);
	struct ufs_io_entry en[UFS_RING_ENTRIES];
	struct ufs_io_event ev[UFS_RING_ENTRIES];
	ufs_batch_t a, c;
	ufs_buf_t b;
	int got = 0;

	e->file.size = 4096;
	assert_int_equal(ufs_buf_alloc(4096, &b), 0);
	assert_int_equal(ufs_batch_setup(UFS_RING_ENTRIES, &a), 0);
	assert_int_equal(ufs_batch_setup(4, &c), 0);
	for (unsigned i = 0; i < UFS_RING_ENTRIES; i++)
		en[i] = (struct ufs_io_entry){h, UFS_OP_READ, 0, 16, b, 0, (void *)(uintptr_t)i};
	fake_gate(&e->file, 1);
	assert_int_equal(ufs_batch_submit(a, en, UFS_RING_ENTRIES), 0);
	assert_int_equal(ufs_batch_submit(c, en, 1), -EAGAIN); /* the ring is full */
	assert_int_equal(ufs_batch_submit(a, en, 1), -EAGAIN); /* so is the batch */
	assert_int_equal(ufs_batch_wait(a, 1, 1, ev, 50), -ETIMEDOUT);
	fake_gate(&e->file, 0);
	while (got < UFS_RING_ENTRIES) {
		int k = ufs_batch_wait(a, 1, UFS_RING_ENTRIES, ev, 5000);

		assert_true(k > 0);
		for (int i = 0; i < k; i++)
			assert_int_equal(ev[i].res, 16);
		got += k;
	}
	assert_int_equal(ufs_batch_submit(c, en, 1), 0); /* room again */
	assert_int_equal(ufs_batch_wait(c, 1, 1, ev, 5000), 1);
	ufs_batch_destroy(a);
	ufs_batch_destroy(c);
	ufs_buf_free(b);
	ufs_handle_deregister(h);
}

static struct fs_direct_stats env_stats(struct env *e)
{
	struct fs_direct_stats st;

	fs_direct_get_stats(&e->fs, &st);
	return st;
}

static void test_client_dies_mid_batch(void **state)
{
	struct env *e = *state;
	struct udw_grant g;
	struct fs_direct_stats st = env_stats(e);
	uint64_t before = st.sessions_active;
	int status;
	pid_t pid;

	e->file.size = 1 << 20;
	assert_int_equal(fs_direct_grant(&e->fs, &e->file, &fake_ops, 42, RO, getuid(), &g), 0);
	fake_gate(&e->file, 1);
	pid = fork();
	if (pid == 0) {
		struct ufs_io_entry en[64];
		struct lib_sess *s;
		ufs_handle_t h;
		ufs_batch_t bt;
		ufs_buf_t b;

		ufs_driver_open();
		if (lib_sess_open(g.sock, &s) < 0 || lib_register_grant(s, &g, &h) < 0 ||
		    ufs_buf_alloc(1 << 20, &b) < 0 || ufs_batch_setup(64, &bt) < 0)
			_exit(1);
		for (int i = 0; i < 64; i++)
			en[i] = (struct ufs_io_entry){h, UFS_OP_READ, 0, 1 << 20, b, 0, NULL};
		if (ufs_batch_submit(bt, en, 64) < 0)
			_exit(1);
		pause(); /* killed with everything in flight */
		_exit(0);
	}
	wait_for(e, 4); /* the workers are inside the reads */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fake_gate(&e->file, 0);
	for (int i = 0; i < 500 && env_stats(e).sessions_active > before; i++)
		usleep(10000);
	st = env_stats(e);
	assert_int_equal(st.sessions_active, before); /* freed: ring, buffer, handle */
	fs_direct_revoke(&e->fs, &e->file);
}

static void test_daemon_gone(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO);
	ufs_buf_t b;
	char err[256];

	assert_int_equal(ufs_buf_alloc(4096, &b), 0);
	e->file.size = 100;
	assert_int_equal(ufs_read(h, b, 10, 0, 0), 10);
	fs_direct_stop(&e->fs); /* the daemon unmounts while we are attached */
	assert_int_equal(ufs_read(h, b, 10, 0, 0), -ENOTCONN);
	ufs_handle_deregister(h);
	ufs_buf_free(b);
	assert_int_equal(fs_direct_start(&e->fs, err, sizeof(err)), 0); /* for teardown */
}

/* ---- ufs_read_into: the caller's memory, staged ---- */

#define INTO_SIZE ((20u << 20) + 333) /* 3 staging chunks (8 MiB), the last partial */
#define GUARD 64

static uint8_t into_byte(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 13));
}

/* The file: INTO_SIZE bytes of a pattern. */
static void into_fill(struct fake_file *f)
{
	for (size_t i = 0; i < INTO_SIZE; i++)
		f->data[i] = into_byte(i);
	f->size = INTO_SIZE;
}

/* ufs_read_into(h, len at off) into a buffer at misalignment mis, guarded
 * on both sides: the bytes of the file (data), nothing written outside. */
static void into_check(ufs_handle_t h, const uint8_t *data, int64_t off, size_t len, size_t mis)
{
	size_t want = (uint64_t)off >= INTO_SIZE	? 0
		      : len > INTO_SIZE - (uint64_t)off ? INTO_SIZE - (size_t)off
							: len;
	uint8_t *m = malloc(len + mis + 2 * GUARD), *dst = m + GUARD + mis;

	assert_non_null(m);
	memset(m, 0xA5, len + mis + 2 * GUARD);
	assert_int_equal(ufs_read_into(h, dst, len, off), (ssize_t)want);
	if (want && memcmp(dst, data + off, want) != 0)
		fail_msg("read_into %zu at %lld (+%zu): bytes differ", len, (long long)off, mis);
	for (size_t i = 0; i < GUARD + mis; i++)
		assert_int_equal(m[i], 0xA5);
	for (size_t i = want; i < len + GUARD; i++)
		if (dst[i] != 0xA5)
			fail_msg("read_into %zu at %lld: byte %zu past the data written", len,
				 (long long)off, i);
	free(m);
}

static void test_read_into_ranges(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO);
	const int64_t offs[] = {0, 1, (8 << 20) - 1, 8 << 20, (13 << 20) + 7, INTO_SIZE - 5};
	const size_t lens[] = {1, 4095, 8 << 20, (8 << 20) + 1, (17 << 20) + 5, INTO_SIZE + 100};

	into_fill(&e->file);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			into_check(h, e->file.data, offs[i], lens[j],
				   (i + j) % 3 == 0 ? 0 : (i * 7 + j) % 61);
	into_check(h, e->file.data, INTO_SIZE, 10, 0);	     /* at end of file: 0 */
	into_check(h, e->file.data, INTO_SIZE + 999, 10, 1); /* past it: 0 */
	assert_int_equal(ufs_read_into(h, NULL, 0, 0), 0);
	assert_int_equal(ufs_read_into(h, NULL, 10, 0), -EINVAL);
	assert_int_equal(ufs_read_into(h, e, 10, -1), -EINVAL);
	assert_int_equal(ufs_read_into(NULL, e, 10, 0), -EINVAL);
	assert_int_equal(ufs_handle_deregister(h), 0);
}

struct into_job {
	ufs_handle_t h;
	uint8_t *dst;
	ssize_t res;
};

static void *into_thread(void *arg)
{
	struct into_job *j = arg;

	j->res = ufs_read_into(j->h, j->dst, INTO_SIZE, 0);
	return NULL;
}

/* Entries of this process in the ring now. */
static unsigned into_inflight(struct lib_sess *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = UFS_RING_ENTRIES - s->nfree;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* While the daemon's reads are held, more than one entry of the call is in
 * flight: the copy of one chunk overlaps the transfer of the next. */
static void test_read_into_in_flight(void **state)
{
	struct env *e = *state;
	struct into_job j = {.h = env_handle(e, RO), .dst = malloc(INTO_SIZE)};
	pthread_t t;
	unsigned most = 0;

	into_fill(&e->file);
	fake_gate(&e->file, 1);
	assert_int_equal(pthread_create(&t, NULL, into_thread, &j), 0);
	wait_for(e, 4); /* every worker inside a read */
	for (int i = 0; i < 100 && most < 3; i++, usleep(10000))
		if (into_inflight(e->s) > most)
			most = into_inflight(e->s);
	assert_true(most >= 3); /* all 3 chunks of the call */
	fake_gate(&e->file, 0);
	pthread_join(t, NULL);
	assert_int_equal(j.res, INTO_SIZE);
	assert_memory_equal(j.dst, e->file.data, INTO_SIZE);
	free(j.dst);
	assert_int_equal(ufs_handle_deregister(j.h), 0);
}

/* An entry failing mid-way fails the call with its error once everything
 * in flight is back; the next call works (its staging buffer reused). */
static void test_read_into_error(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO), wo = env_handle_of(e, &e->other, WO);
	uint8_t *dst = malloc(INTO_SIZE);

	into_fill(&e->file);
	e->other.size = INTO_SIZE;
	e->file.fail_at = 12 << 20;
	assert_int_equal(ufs_read_into(h, dst, INTO_SIZE, 0), -EIO);
	assert_int_equal(ufs_read_into(h, dst, 4 << 20, 0), 4 << 20); /* before it: fine */
	e->file.fail_at = 0;
	assert_int_equal(ufs_read_into(h, dst, INTO_SIZE, 0), INTO_SIZE);
	assert_memory_equal(dst, e->file.data, INTO_SIZE);
	assert_int_equal(ufs_read_into(wo, dst, 10, 0), -EBADF); /* write-only fd */
	assert_int_equal(into_inflight(e->s), 0);
	free(dst);
	assert_int_equal(ufs_handle_deregister(wo), 0);
	assert_int_equal(ufs_handle_deregister(h), 0);
}

/* A forked child stages through memory of its own while the parent keeps
 * reading through the pooled staging buffer: both get their bytes. */
static void test_read_into_fork(void **state)
{
	struct env *e = *state;
	ufs_handle_t h = env_handle(e, RO);
	uint8_t *dst = malloc(INTO_SIZE);
	struct udw_grant g;
	int status;
	pid_t pid;

	into_fill(&e->file);
	assert_int_equal(ufs_read_into(h, dst, INTO_SIZE, 0), INTO_SIZE); /* pools a buffer */
	assert_int_equal(fs_direct_grant(&e->fs, &e->other, &fake_ops, 42, RO, getuid(), &g), 0);
	e->other.size = INTO_SIZE;
	pid = fork();
	if (pid == 0) {
		struct lib_sess *s;
		ufs_handle_t hc;
		int bad = 0;

		if (lib_sess_open(g.sock, &s) < 0 || lib_register_grant(s, &g, &hc) < 0)
			_exit(2);
		for (int i = 0; i < 8 && !bad; i++) { /* other bytes in each staging slot */
			memset(dst, 0, INTO_SIZE);
			bad = ufs_read_into(hc, dst, INTO_SIZE - 5, 5) != INTO_SIZE - 5 ||
			      memcmp(dst, e->other.data + 5, INTO_SIZE - 5) != 0;
		}
		_exit(bad);
	}
	for (int i = 0; i < 8; i++) {
		memset(dst, 0, INTO_SIZE);
		assert_int_equal(ufs_read_into(h, dst, INTO_SIZE, 0), INTO_SIZE);
		assert_memory_equal(dst, e->file.data, INTO_SIZE);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(dst);
	fs_direct_revoke(&e->fs, &e->other);
	assert_int_equal(ufs_handle_deregister(h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_read_fanout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grant_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buf_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions_per_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_ring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_dies_mid_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_into_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_into_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_into_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_into_fork, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
