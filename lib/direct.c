/*
 * direct.c — libunifs: driver, sessions, handles, buffers and prefetch.
 *
 * ufs_handle_register() asks the mount for a token with the UFS_IOC_DIRECT
 * ioctl on the caller's fd, finds (or opens) the session of the socket the
 * answer names and registers the token there. A session is set up once per
 * mount: a SOCK_SEQPACKET connection, a sealed ring memfd and two eventfds
 * passed with HELLO. Buffers are sealed memfds, registered lazily with each
 * session they are used with; a small pool of them stages ufs_read_into
 * (direct_stage.c) between calls. State: the driver's reference count and the
 * session list, under g_lock; each session's socket under its own lock.
 */
#include "lib/direct_i.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define LIB_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

_Static_assert(UFS_BUF_MAX == UDW_BUF_MAX, "the buffer bound of the header and the daemon");
#define LIB_HUGE (2u << 20)

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_refs;
static struct lib_sess *g_sessions;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static uint64_t g_serial; /* of the last session opened */

/* The staging buffers of ufs_read_into kept between calls, under their own
 * lock; g_stage_gen moves on when they are dropped, and a buffer of an
 * older generation given back is freed instead of kept. */
#define LIB_STAGE_IDLE 2
static pthread_mutex_t g_stage_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ufs_buf *g_stage_idle[LIB_STAGE_IDLE];
static unsigned g_stage_nidle;
static uint64_t g_stage_gen;

static void buf_unmap(struct ufs_buf *b)
{
	munmap(b->ptr, b->size);
	close(b->fd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* In a forked child the parent's sessions are not ours (one ring, two
 * producers): forget them; the child opens its own on first use. Handles
 * and buffer registrations made before the fork fail there (-EINVAL). */
static void lib_atfork_child(void)
{
	struct lib_sess *s;

	pthread_mutex_init(&g_lock, NULL);
	while ((s = g_sessions)) {
		g_sessions = s->next;
		s->dead = 1;
		s->next = NULL;
		if (s->ring)
			munmap(s->ring, s->ring_bytes);
		close(s->sfd);
		close(s->efd_sq);
		close(s->efd_cq);
		s->ring = NULL;
		s->sfd = s->efd_sq = s->efd_cq = -1;
		/* s itself stays allocated: pre-fork handles still point to it */
	}
	/* the idle staging buffers are shared memory with the parent: a child
	 * staging through them would overwrite the parent's bytes */
	pthread_mutex_init(&g_stage_lock, NULL);
	while (g_stage_nidle)
		buf_unmap(g_stage_idle[--g_stage_nidle]);
	g_stage_gen++;
}

static void lib_init(void)
{
	pthread_atfork(NULL, NULL, lib_atfork_child);
}

int ufs_driver_open(void)
{
	pthread_once(&g_once, lib_init);
	pthread_mutex_lock(&g_lock);
	g_refs++;
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static void sess_destroy(struct lib_sess *s)
{
	if (s->ring)
		munmap(s->ring, s->ring_bytes);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->efd_sq >= 0)
		close(s->efd_sq);
	if (s->efd_cq >= 0)
		close(s->efd_cq);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

/* Free the idle staging buffers; those in use are freed when given back. */
static void stage_drop(void)
{
	struct ufs_buf *b[LIB_STAGE_IDLE];
	unsigned n;

	pthread_mutex_lock(&g_stage_lock);
	n = g_stage_nidle;
	memcpy(b, g_stage_idle, sizeof(b));
	g_stage_nidle = 0;
	g_stage_gen++;
	pthread_mutex_unlock(&g_stage_lock);
	for (unsigned i = 0; i < n; i++)
		ufs_buf_free(b[i]);
}

void ufs_driver_close(void)
{
	struct lib_sess *s;
	int last = 0;

	pthread_mutex_lock(&g_lock);
	if (g_refs > 0 && --g_refs == 0) {
		last = 1;
		while ((s = g_sessions)) {
			g_sessions = s->next;
			sess_destroy(s);
		}
	}
	pthread_mutex_unlock(&g_lock);
	if (last)
		stage_drop(); /* their sessions are gone: just unmapped */
}

/* Send m (+payload, fds) and receive the reply into m. */
int lib_sess_call(struct lib_sess *s, struct udw_msg *m, const void *payload, size_t plen,
		  const int *fds, int nfd)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = {0};
	struct iovec iov[2] = {{m, sizeof(*m)}, {(void *)payload, plen}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = plen ? 2 : 1};
	ssize_t n;

	if (s->dead)
		return -ENOTCONN;
	if (nfd > 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	}
	if (sendmsg(s->sfd, &mh, MSG_NOSIGNAL) < 0) {
		int e = errno;

		/* a server that turned us away left its answer (-EUSERS) */
		if (recv(s->sfd, m, sizeof(*m), MSG_DONTWAIT) == (ssize_t)sizeof(*m) &&
		    m->status < 0) {
			s->dead = 1;
			return m->status;
		}
		s->dead = e == EPIPE || e == ECONNRESET;
		return s->dead ? -ENOTCONN : -e;
	}
	do
		n = recv(s->sfd, m, sizeof(*m), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m)) {
		s->dead = 1;
		return -ENOTCONN;
	}
	return m->status;
}

/* A sealed memfd of size bytes (flags: memfd_create's), mapped shared at
 * *pptr. fd or -errno. */
static int lib_memfd_try(const char *name, size_t size, unsigned flags, void **pptr)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | flags), rc;
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) == 0 && fcntl(fd, F_ADD_SEALS, LIB_SEALS) == 0) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (p != MAP_FAILED) {
			*pptr = p;
			return fd;
		}
	}
	rc = -errno;
	close(fd);
	return rc;
}

/* A sealed shared memfd; hugepages first when huge and size allows. */
static int lib_memfd(const char *name, size_t size, int huge, void **pptr)
{
	int fd = -1;

	if (huge && size % LIB_HUGE == 0)
		fd = lib_memfd_try(name, size, MFD_HUGETLB, pptr);
	return fd >= 0 ? fd : lib_memfd_try(name, size, 0, pptr);
}

static int sess_connect(struct lib_sess *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rfd, fds[3];
	struct udw_msg m = {.op = UDW_HELLO, .a = UFS_RING_ENTRIES};
	int rc;

	memcpy(sa.sun_path, s->sock, sizeof(sa.sun_path) - 1);
	s->sfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s->sfd < 0 || connect(s->sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == ENOENT || errno == ECONNREFUSED ? -ENOTCONN : -errno;
	s->efd_sq = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->efd_cq = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd_sq < 0 || s->efd_cq < 0)
		return -errno;
	s->ring_bytes = udw_ring_bytes(UFS_RING_ENTRIES);
	rfd = lib_memfd("unifs-ring", s->ring_bytes, 0, (void **)&s->ring);
	if (rfd < 0)
		return rfd;
	s->ring->entries = UFS_RING_ENTRIES;
	fds[0] = rfd;
	fds[1] = s->efd_sq;
	fds[2] = s->efd_cq;
	rc = lib_sess_call(s, &m, NULL, 0, fds, 3);
	close(rfd);
	return rc;
}

/* 1 if s is still a live session of this process with that serial. */
static int lib_sess_alive(struct lib_sess *s, uint64_t serial)
{
	int alive = 0;

	pthread_mutex_lock(&g_lock);
	for (struct lib_sess *t = g_sessions; t; t = t->next)
		alive |= t == s && t->serial == serial;
	pthread_mutex_unlock(&g_lock);
	return alive;
}

/* The session of socket path sock, opened on first use; g_lock held. */
static int sess_get(const char *sock, struct lib_sess **ps)
{
	struct lib_sess *s;
	int rc;

	for (s = g_sessions; s; s = s->next)
		if (strcmp(s->sock, sock) == 0 && !s->dead) {
			*ps = s;
			return 0;
		}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->sfd = s->efd_sq = s->efd_cq = -1;
	s->n = UFS_RING_ENTRIES;
	s->nfree = UFS_RING_ENTRIES;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	snprintf(s->sock, sizeof(s->sock), "%s", sock);
	s->serial = ++g_serial;
	rc = sess_connect(s);
	if (rc < 0) {
		sess_destroy(s);
		return rc;
	}
	s->next = g_sessions;
	g_sessions = s;
	*ps = s;
	return 0;
}

int lib_sess_open(const char *sock, struct lib_sess **ps)
{
	int rc;

	pthread_mutex_lock(&g_lock);
	rc = g_refs > 0 ? sess_get(sock, ps) : -EINVAL;
	pthread_mutex_unlock(&g_lock);
	return rc;
}

/* The grant of fd (ioctl) and its session. */
static int lib_grant(int fd, struct udw_grant *g, struct lib_sess **ps)
{
	memset(g, 0, sizeof(*g));
	if (ioctl(fd, UFS_IOC_DIRECT, g) < 0)
		return errno == EINVAL || errno == ENOSYS ? -ENOTTY : -errno;
	g->sock[sizeof(g->sock) - 1] = '\0';
	return lib_sess_open(g->sock, ps);
}

int lib_register_grant(struct lib_sess *s, const struct udw_grant *g, ufs_handle_t *ph)
{
	struct udw_msg m = {.op = UDW_REGISTER};
	struct ufs_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	memcpy(m.token, g->token, sizeof(m.token));
	pthread_mutex_lock(&s->lock);
	rc = lib_sess_call(s, &m, NULL, 0, NULL, 0);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		free(h);
		return rc;
	}
	h->s = s;
	h->id = (uint32_t)m.a;
	h->writable = (int)m.b;
	*ph = h;
	return 0;
}

int ufs_handle_register(int fd, ufs_handle_t *ph)
{
	struct udw_grant g;
	struct lib_sess *s;
	struct stat st;
	int rc = lib_grant(fd, &g, &s);

	if (rc == 0)
		rc = lib_register_grant(s, &g, ph);
	if (rc == 0 && fstat(fd, &st) == 0)
		(*ph)->size = (uint64_t)st.st_size;
	return rc;
}

int ufs_handle_deregister(ufs_handle_t h)
{
	struct udw_msg m = {.op = UDW_DEREGISTER};
	int rc;

	if (!h)
		return -EINVAL;
	m.a = h->id;
	pthread_mutex_lock(&h->s->lock);
	rc = lib_sess_call(h->s, &m, NULL, 0, NULL, 0);
	pthread_mutex_unlock(&h->s->lock);
	free(h);
	return rc;
}

uint64_t ufs_handle_size(ufs_handle_t h)
{
	return h ? h->size : 0;
}

int ufs_buf_alloc(size_t size, ufs_buf_t *pb)
{
	struct ufs_buf *b;

	if (size == 0)
		return -EINVAL;
	if (size > UFS_BUF_MAX)
		return -EFBIG; /* the daemon would refuse it */
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = lib_memfd("unifs-buf", size, 1, &b->ptr);
	if (b->fd < 0) {
		int rc = b->fd;

		free(b);
		return rc;
	}
	b->size = size;
	pthread_mutex_init(&b->lock, NULL);
	*pb = b;
	return 0;
}

void *ufs_buf_ptr(ufs_buf_t b)
{
	return b ? b->ptr : NULL;
}

size_t ufs_buf_size(ufs_buf_t b)
{
	return b ? b->size : 0;
}

int lib_buf_id(struct ufs_buf *b, struct lib_sess *s, uint32_t *pid)
{
	struct udw_msg m = {.op = UDW_BUF_ADD};
	int i, rc = -ENOSPC;

	pthread_mutex_lock(&b->lock);
	for (i = 0; i < LIB_BUF_SESSIONS && b->reg[i].s; i++)
		if (b->reg[i].s == s && b->reg[i].serial == s->serial) {
			*pid = b->reg[i].id;
			pthread_mutex_unlock(&b->lock);
			return 0;
		}
	if (i < LIB_BUF_SESSIONS) {
		pthread_mutex_lock(&s->lock);
		rc = lib_sess_call(s, &m, NULL, 0, &b->fd, 1);
		pthread_mutex_unlock(&s->lock);
	}
	if (rc == 0) {
		b->reg[i].s = s;
		b->reg[i].serial = s->serial;
		b->reg[i].id = *pid = (uint32_t)m.a;
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

void ufs_buf_free(ufs_buf_t b)
{
	if (!b)
		return;
	for (int i = 0; i < LIB_BUF_SESSIONS && b->reg[i].s; i++) {
		struct udw_msg m = {.op = UDW_BUF_DEL, .a = b->reg[i].id};
		struct lib_sess *s = b->reg[i].s;

		if (!lib_sess_alive(s, b->reg[i].serial))
			continue;
		pthread_mutex_lock(&s->lock);
		lib_sess_call(s, &m, NULL, 0, NULL, 0);
		pthread_mutex_unlock(&s->lock);
	}
	buf_unmap(b);
}

int lib_stage_get(size_t size, struct ufs_buf **pb)
{
	struct ufs_buf *b = NULL;
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&g_stage_lock);
	gen = g_stage_gen;
	if (g_stage_nidle)
		b = g_stage_idle[--g_stage_nidle];
	pthread_mutex_unlock(&g_stage_lock);
	if (b && b->size != size) {
		ufs_buf_free(b);
		b = NULL;
	}
	if (!b && (rc = ufs_buf_alloc(size, &b)) < 0)
		return rc;
	b->stage_gen = gen;
	*pb = b;
	return 0;
}

void lib_stage_put(struct ufs_buf *b)
{
	pthread_mutex_lock(&g_stage_lock);
	if (b->stage_gen == g_stage_gen && g_stage_nidle < LIB_STAGE_IDLE) {
		g_stage_idle[g_stage_nidle++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&g_stage_lock);
	ufs_buf_free(b);
}

/* The session of the mount holding path (a file or directory on it). */
static int lib_sess_of_path(const char *path, struct lib_sess **ps)
{
	struct udw_grant g;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;

	if (fd < 0)
		return -errno;
	rc = lib_grant(fd, &g, ps);
	close(fd);
	return rc;
}

/* Send one PREFETCH message of the paths in buf (len bytes). */
static int lib_prefetch_send(struct lib_sess *s, const char *buf, size_t len)
{
	struct udw_msg m = {.op = UDW_PREFETCH, .a = len};
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = lib_sess_call(s, &m, buf, len, NULL, 0);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ufs_prefetch(const char *const *paths, size_t n)
{
	struct lib_sess *s;
	char *buf;
	size_t len = 0;
	int rc;

	if (n == 0)
		return 0;
	rc = lib_sess_of_path(paths[0], &s);
	if (rc < 0)
		return rc;
	buf = malloc(UDW_PAYLOAD_MAX);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char real[PATH_MAX];
		size_t l;

		if (!realpath(paths[i], real)) {
			rc = -errno;
			break;
		}
		l = strlen(real) + 1;
		if (len + l > UDW_PAYLOAD_MAX) {
			rc = lib_prefetch_send(s, buf, len);
			len = 0;
		}
		memcpy(buf + len, real, l);
		len += l;
	}
	if (rc == 0 && len)
		rc = lib_prefetch_send(s, buf, len);
	free(buf);
	return rc;
}

int ufs_prefetch_cancel(const char *path)
{
	struct udw_msg m = {.op = UDW_PREFETCH_CANCEL};
	struct lib_sess *s;
	int rc = lib_sess_of_path(path, &s);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	rc = lib_sess_call(s, &m, NULL, 0, NULL, 0);
	pthread_mutex_unlock(&s->lock);
	return rc;
}
