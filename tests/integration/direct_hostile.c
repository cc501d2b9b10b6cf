/*
 * direct_hostile.c — a hostile direct-path client for
 * tests/integration/test_direct_hostile.sh (not installed). It speaks the
 * wire protocol (lib/direct_wire.h) itself, so nothing libunifs checks on
 * the client side stands between it and the daemon (it borrows only the
 * library's request/reply call, lib_sess_call).
 *
 *   direct_hostile ioctl PATH [N]   N (default 1) UFS_IOC_DIRECT ioctls on one
 *                                   fd of PATH (a directory too): "OK" or the
 *                                   errno name of the first failure
 *   direct_hostile wild FILE SEED N N random entries (wild handles, buffers,
 *                                   offsets, lengths) on a session of FILE,
 *                                   then corrupt ring indices: "OK" when every
 *                                   entry completed with a sane result
 *   direct_hostile kill FILE        a child fills its ring with big reads of
 *                                   FILE and is killed with them in flight
 *   direct_hostile sessions FILE N  N sessions opened (registered, a buffer
 *                                   added) and dropped, one after another
 *   direct_hostile hold FILE N      open N sessions and keep them: "K ERR"
 *                                   (K set up, ERR the first refusal or OK)
 *   direct_hostile buf FILE BYTES   add a sparse sealed buffer of BYTES:
 *                                   prints the result, then "ready" and holds
 *                                   it until stdin closes
 * Exit status 0 unless something unexpected happened (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/direct_i.h"

#define H_RING 64
#define H_BUF (1u << 20)
#define H_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

struct hsess {
	int sfd, efd_sq, efd_cq;
	struct udw_ring *ring;
	uint32_t handle, buf, sent;
};

static const char *errname(int e)
{
	static char other[32];

	switch (e) {
	case 0:
		return "OK";
	case ENOTTY:
		return "ENOTTY";
	case EISDIR:
		return "EISDIR";
	case EBADF:
		return "EBADF";
	case EFBIG:
		return "EFBIG";
	case EUSERS:
		return "EUSERS";
	case EMFILE:
		return "EMFILE";
	case ENOSPC:
		return "ENOSPC";
	case ENOTCONN:
		return "ENOTCONN";
	default:
		snprintf(other, sizeof(other), "errno%d", e);
		return other;
	}
}

/* The grant of path (a file or a directory) after n ioctls on one fd, which
 * stays open (the grant lives as long as it). 0 or errno. */
static int h_grant(const char *path, struct udw_grant *g, int n)
{
	int fd = open(path, O_RDONLY), e = 0;

	if (fd < 0)
		return errno;
	for (int i = 0; i < n && e == 0; i++)
		if (ioctl(fd, UFS_IOC_DIRECT, g) < 0)
			e = errno;
	return e;
}

/* A sealed memfd of size bytes, mapped at *pp when pp. fd or -1. */
static int h_memfd(size_t size, void **pp)
{
	int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, H_SEALS) < 0)
		return -1;
	if (pp) {
		*pp = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (*pp == MAP_FAILED)
			return -1;
	}
	return fd;
}

/* One request (fds passed when nfd) and its reply in m, through the
 * library's own call (which reads a refusal too): the status, or -ENOTCONN
 * when the daemon hung up. */
static int h_call(struct hsess *s, struct udw_msg *m, const int *fds, int nfd)
{
	static struct lib_sess ls; /* only its socket and state are used */

	ls.sfd = s->sfd;
	ls.dead = 0;
	return lib_sess_call(&ls, m, NULL, 0, fds, nfd);
}

/* Connect to the server of g, HELLO, register g, add a buffer of bufsize
 * (0: none). 0 or -errno. */
static int h_open(struct hsess *s, const struct udw_grant *g, size_t bufsize)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct udw_msg m = {.op = UDW_HELLO, .a = H_RING};
	int fds[3], rc;

	memset(s, 0, sizeof(*s));
	s->efd_sq = s->efd_cq = -1;
	memcpy(sa.sun_path, g->sock, sizeof(sa.sun_path) - 1);
	s->sfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s->sfd < 0 || connect(s->sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	s->efd_sq = eventfd(0, EFD_CLOEXEC);
	s->efd_cq = eventfd(0, EFD_CLOEXEC);
	fds[0] = h_memfd(udw_ring_bytes(H_RING), (void **)&s->ring);
	fds[1] = s->efd_sq;
	fds[2] = s->efd_cq;
	if (fds[0] < 0 || s->efd_sq < 0 || s->efd_cq < 0)
		return -errno;
	rc = h_call(s, &m, fds, 3);
	close(fds[0]);
	if (rc < 0)
		return rc;
	m = (struct udw_msg){.op = UDW_REGISTER};
	memcpy(m.token, g->token, sizeof(m.token));
	if ((rc = h_call(s, &m, NULL, 0)) < 0)
		return rc;
	s->handle = (uint32_t)m.a;
	if (bufsize) {
		m = (struct udw_msg){.op = UDW_BUF_ADD};
		fds[0] = h_memfd(bufsize, NULL);
		if (fds[0] < 0)
			return -errno;
		rc = h_call(s, &m, fds, 1);
		close(fds[0]);
		s->buf = (uint32_t)m.a;
	}
	return rc;
}

static void h_close(struct hsess *s)
{
	if (s->ring)
		munmap(s->ring, udw_ring_bytes(H_RING));
	int fds[] = {s->sfd, s->efd_sq, s->efd_cq};

	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Publish e as the next SQE (no room check: the caller keeps < H_RING in
 * flight) and ring the doorbell. */
static void h_submit(struct hsess *s, const struct udw_sqe *e)
{
	uint32_t t = atomic_load(&s->ring->sq_tail);
	uint64_t one = 1;

	udw_sq(s->ring)[t & (H_RING - 1)] = *e;
	atomic_store(&s->ring->sq_tail, t + 1);
	s->sent++;
	(void)!write(s->efd_sq, &one, sizeof(one));
}

/* Wait (10 s at most) for the next CQE into *c. 0, or -1 on timeout. */
static int h_reap(struct hsess *s, struct udw_cqe *c)
{
	for (int i = 0; i < 10000; i++) {
		uint32_t h = atomic_load(&s->ring->cq_head);

		if (atomic_load(&s->ring->cq_tail) != h) {
			*c = udw_cq(s->ring, H_RING)[h & (H_RING - 1)];
			atomic_store(&s->ring->cq_head, h + 1);
			return 0;
		}
		usleep(1000);
	}
	return -1;
}

static uint64_t h_pick(uint64_t sane, uint64_t r)
{
	static const uint64_t wild[] = {0,
					1,
					4095,
					4096,
					H_BUF - 1,
					H_BUF,
					H_BUF + 1,
					INT64_MAX,
					(uint64_t)INT64_MAX + 1,
					UINT64_MAX,
					UINT64_MAX - 4095};

	switch (r % 4) {
	case 0:
		return sane;
	case 1:
		return wild[(r >> 8) % (sizeof(wild) / sizeof(wild[0]))];
	case 2:
		return sane + (r >> 20) % 8192;
	default:
		return ((uint64_t)random() << 33) ^ (uint64_t)random();
	}
}

/* A random entry: each field sane or wild. */
static struct udw_sqe h_wild(const struct hsess *s, uint64_t i)
{
	uint64_t r = ((uint64_t)random() << 31) ^ (uint64_t)random();
	struct udw_sqe e = {
	    .op = (uint32_t)h_pick(UDW_IO_READ + (r & 1), r >> 3),
	    .handle = (uint32_t)h_pick(s->handle, r >> 7),
	    .buf = (uint32_t)h_pick(s->buf, r >> 11),
	    .file_off = h_pick(0, r >> 15),
	    .len = h_pick(4096, r >> 19),
	    .buf_off = h_pick(0, r >> 23),
	    .user_data = i,
	};
	return e;
}

static int h_cmd_wild(const struct udw_grant *g, unsigned seed, unsigned n)
{
	struct hsess s;
	struct udw_cqe c;
	int rc = h_open(&s, g, H_BUF);

	if (rc < 0) {
		fprintf(stderr, "direct_hostile: session: %s\n", strerror(-rc));
		return 1;
	}
	srandom(seed);
	for (unsigned i = 0; i < n; i++) {
		struct udw_sqe e = h_wild(&s, i);

		h_submit(&s, &e);
		if (h_reap(&s, &c) < 0) {
			fprintf(stderr, "direct_hostile: entry %u got no completion\n", i);
			return 1;
		}
		if (c.user_data != i || (c.res > 0 && (uint64_t)c.res > e.len)) {
			fprintf(stderr, "direct_hostile: entry %u: res %lld for len %llu\n", i,
				(long long)c.res, (unsigned long long)e.len);
			return 1;
		}
	}
	/* corrupt indices: the daemon must drop the session, not serve it */
	atomic_store(&s.ring->cq_head, 0x80000000u);
	atomic_store(&s.ring->sq_tail, atomic_load(&s.ring->sq_tail) + 0x40000000u);
	h_submit(&s, &(struct udw_sqe){.op = UDW_IO_READ, .len = 1});
	for (int i = 0; i < 1000; i++) {
		char b;
		ssize_t k = recv(s.sfd, &b, 1, MSG_DONTWAIT);

		if (k == 0 || (k < 0 && errno != EAGAIN)) {
			h_close(&s);
			puts("OK");
			return 0;
		}
		usleep(10000);
	}
	fprintf(stderr, "direct_hostile: a corrupt ring did not end the session\n");
	return 1;
}

/* A child fills its ring with 1 MiB reads and is killed mid-batch. */
static int h_cmd_kill(const struct udw_grant *g)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		struct hsess s;

		if (h_open(&s, g, H_BUF) < 0)
			_exit(1);
		for (uint32_t i = 0; i < H_RING - 1; i++)
			h_submit(&s, &(struct udw_sqe){.op = UDW_IO_READ,
						       .handle = s.handle,
						       .buf = s.buf,
						       .file_off = (uint64_t)i << 20,
						       .len = H_BUF,
						       .user_data = i});
		kill(getpid(), SIGKILL);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st)) {
		fprintf(stderr, "direct_hostile: the child did not get to its batch\n");
		return 1;
	}
	puts("OK");
	return 0;
}

static int h_cmd_sessions(const struct udw_grant *g, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct hsess s;
		int rc = h_open(&s, g, i % 2 ? H_BUF : 0);

		h_close(&s);
		if (rc < 0) {
			fprintf(stderr, "direct_hostile: session %u: %s\n", i, strerror(-rc));
			return 1;
		}
	}
	puts("OK");
	return 0;
}

static int h_cmd_hold(const struct udw_grant *g, unsigned n)
{
	struct hsess *s = calloc(n, sizeof(*s));
	struct rlimit rl;
	unsigned k = 0;
	int rc = 0;

	/* three fds a session: raise the soft limit to the hard one */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	while (s && k < n && (rc = h_open(&s[k], g, 0)) == 0)
		k++;
	printf("%u %s\n", k, errname(-rc));
	for (unsigned i = 0; s && i <= k && i < n; i++)
		h_close(&s[i]);
	free(s);
	return 0;
}

static int h_cmd_buf(const struct udw_grant *g, unsigned long long bytes)
{
	struct hsess s;
	char line[8];
	int rc = h_open(&s, g, (size_t)bytes);

	printf("%s\nready\n", errname(-rc));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		;
	h_close(&s);
	return 0;
}

int main(int argc, char **argv)
{
	struct udw_grant g;
	int n = argc > 3 ? atoi(argv[3]) : 1, e;

	if (argc < 3) {
		fprintf(stderr,
			"usage: direct_hostile ioctl|wild|kill|sessions|hold|buf PATH ...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	e = h_grant(argv[2], &g, strcmp(argv[1], "ioctl") == 0 ? n : 1);
	if (strcmp(argv[1], "ioctl") == 0) {
		puts(errname(e));
		return 0;
	}
	if (e) {
		fprintf(stderr, "direct_hostile: ioctl %s: %s\n", argv[2], strerror(e));
		return 1;
	}
	if (strcmp(argv[1], "wild") == 0 && argc > 4)
		return h_cmd_wild(&g, (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	if (strcmp(argv[1], "kill") == 0)
		return h_cmd_kill(&g);
	if (strcmp(argv[1], "sessions") == 0)
		return h_cmd_sessions(&g, (unsigned)n);
	if (strcmp(argv[1], "hold") == 0)
		return h_cmd_hold(&g, (unsigned)n);
	if (strcmp(argv[1], "buf") == 0 && argc > 3)
		return h_cmd_buf(&g, strtoull(argv[3], NULL, 0));
	return 2;
}
