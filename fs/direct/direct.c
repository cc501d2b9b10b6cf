/*
 * direct.c — the direct-path server: libunifs clients set up a session here
 * (see lib/direct_wire.h for the protocol) and then submit entries through
 * shared-memory rings.
 *
 * Who may use it: exactly who could use the file through open(2). On a
 * root mount a client is a local process of any uid (the socket is 0666 in
 * the 0755 /run/unifs): any user of an allow_other mount. On a user's own
 * mount only that user (socket 0600 in its 0700 directory, fs/sockdir.c;
 * the ioctl of another uid gets -EACCES, even with allow_other). It gets a token only
 * through the UFS_IOC_DIRECT ioctl on a regular file it opened on the
 * mount (the kernel checked its access; ops_file.c refuses directory fds).
 * The token is bound to that open file, the fd's open mode (a read needs
 * an fd opened for reading, a write one opened for writing: -EBADF
 * otherwise, checked per entry in direct_io.c) and the caller's uid, and
 * REGISTER accepts it only from a peer of that uid (SO_PEERCRED). Writes
 * and commits run as the opener (ops_file.c). Closing the file (FUSE
 * release) revokes the token and every handle made from it.
 *
 * A client is hostile until proven otherwise. Memory from it (ring,
 * buffers) is mapped only when its memfd is sealed against shrinking and
 * growing, so it can never SIGBUS the daemon, and without pre-faulting
 * (an entry populates the range it uses); ring indices and entries are
 * checked before use. What one user can make the daemon hold is bounded
 * (direct_i.h): one grant per open file and uid (a repeated ioctl gets the
 * same token), grants per file and per uid (-EMFILE), live sessions per
 * uid (-EUSERS, sent unasked before the connection is closed), handles,
 * buffers and mapped bytes per session, jobs per entry, queued prefetch
 * paths per session. Refusals are logged at most once a second.
 *
 * Threads: one accept thread; one thread per session that answers setup
 * requests and drains the submission ring; a worker pool (direct_io.c).
 * A session ends when its socket closes (client exit or crash, or
 * fs_direct_stop shutting it down): it waits for its entries in flight,
 * then unmaps and frees everything it holds.
 */
#include "fs/direct/direct_i.h"
#include "fs/fs.h"
#include "fs/sockdir.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define DIRECT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)
#define DIRECT_CQ_WAIT_MS 5

/* 1 when a refusal may be logged: one a second, so that a hostile client
 * cannot flood the log. */
static int direct_may_warn(struct ufs_direct *d)
{
	int64_t now = (int64_t)time(NULL), last = atomic_load(&d->warned);

	return now != last && atomic_compare_exchange_strong(&d->warned, &last, now);
}

/* ---- grants ---- */

/* The live grant of (f, uid), counting in *pnfile the live grants of f and
 * in *pnuid those of uid; d->lock held. */
static struct direct_grant *grant_scan(struct ufs_direct *d, const void *f, uid_t uid,
				       unsigned *pnfile, unsigned *pnuid)
{
	struct direct_grant *found = NULL;

	*pnfile = *pnuid = 0;
	for (struct direct_grant *g = d->grants; g; g = g->next) {
		if (g->revoked)
			continue;
		*pnfile += g->file == f;
		*pnuid += g->uid == uid;
		if (g->file == f && g->uid == uid)
			found = g;
	}
	return found;
}

/* Fill the ioctl's answer for g. */
static void grant_answer(const struct ufs_direct *d, const struct direct_grant *g,
			 struct udw_grant *pg)
{
	memset(pg, 0, sizeof(*pg));
	memcpy(pg->token, g->token, sizeof(pg->token));
	pg->ino = g->ino;
	pg->writable = (g->mode & FS_DIRECT_WRITE) != 0;
	snprintf(pg->sock, sizeof(pg->sock), "%s", d->path);
}

/* A new grant of f for uid, listed; d->lock held. NULL: -errno in *prc. */
static struct direct_grant *grant_new(struct ufs_direct *d, void *f,
				      const struct fs_direct_file_ops *ops, uint64_t ino,
				      unsigned mode, uid_t uid, int *prc)
{
	struct direct_grant *g = calloc(1, sizeof(*g));

	*prc = g ? 0 : -ENOMEM;
	if (g && getrandom(g->token, sizeof(g->token), 0) != sizeof(g->token)) {
		free(g);
		g = NULL;
		*prc = -EIO;
	}
	if (!g)
		return NULL;
	g->file = f;
	g->ops = ops;
	g->ino = ino;
	g->mode = mode;
	g->uid = uid;
	g->refs = 1;
	g->next = d->grants;
	d->grants = g;
	return g;
}

int fs_direct_grant(struct ufs_fs *fs, void *f, const struct fs_direct_file_ops *ops, uint64_t ino,
		    unsigned mode, uid_t uid, struct udw_grant *pg)
{
	struct ufs_direct *d = fs->direct;
	struct direct_grant *g;
	unsigned nfile, nuid;
	int rc = 0;

	if (!d)
		return -ENOTTY;
	if (d->owner != 0 && uid != d->owner) {
		if (direct_may_warn(d))
			ufs_warn(
			    "direct: uid %u refused: this user mount's direct path is uid %u's",
			    (unsigned)uid, (unsigned)d->owner);
		return -EACCES;
	}
	pthread_mutex_lock(&d->lock);
	g = grant_scan(d, f, uid, &nfile, &nuid);
	if (!g && (nfile >= DIRECT_GRANTS_PER_FILE || nuid >= DIRECT_GRANTS_PER_UID))
		rc = -EMFILE;
	else if (!g)
		g = grant_new(d, f, ops, ino, mode, uid, &rc);
	if (g)
		grant_answer(d, g, pg);
	pthread_mutex_unlock(&d->lock);
	if (rc == -EMFILE && direct_may_warn(d))
		ufs_warn("direct: uid %u holds too many grants (%u of this open file, %u in all)",
			 (unsigned)uid, nfile, nuid);
	return rc;
}

/* Drop one reference of g; d->lock held. */
static void grant_unref(struct direct_grant *g)
{
	if (--g->refs == 0)
		free(g);
}

void fs_direct_revoke(struct ufs_fs *fs, void *f)
{
	struct ufs_direct *d = fs->direct;
	struct direct_grant **pp;
	int busy = 1;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	while (busy) {
		busy = 0;
		for (struct direct_grant *g = d->grants; g; g = g->next)
			if (g->file == f) {
				g->revoked = 1;
				busy |= g->inflight != 0;
			}
		if (busy)
			pthread_cond_wait(&d->cond, &d->lock);
	}
	for (pp = &d->grants; *pp;) {
		struct direct_grant *g = *pp;

		if (g->file != f) {
			pp = &g->next;
			continue;
		}
		*pp = g->next;
		g->file = NULL;
		grant_unref(g);
	}
	pthread_mutex_unlock(&d->lock);
}

/* The live grant holding token, with a new reference; d->lock held. */
static struct direct_grant *grant_find(struct ufs_direct *d, const uint8_t *token)
{
	for (struct direct_grant *g = d->grants; g; g = g->next) {
		unsigned diff = 0;

		for (int i = 0; i < UDW_TOKEN_LEN; i++)
			diff |= g->token[i] ^ token[i];
		if (diff == 0 && !g->revoked) {
			g->refs++;
			return g;
		}
	}
	return NULL;
}

/* Wait until nothing of s runs; s->lock held. */
static void sess_wait_idle(struct direct_sess *s)
{
	while (s->inflight)
		pthread_cond_wait(&s->idle, &s->lock);
}

/* ---- setup requests ---- */

/* Map the sealed memfd fd of min to max bytes, without pre-faulting it (an
 * entry faults in the range it uses: direct_io.c). 0 or -errno (-EPERM: not
 * sealed, -EFBIG: over max); fd is closed either way. */
static int sess_map(int fd, uint64_t min, uint64_t max, void **pp, size_t *psize)
{
	int seals = fcntl(fd, F_GET_SEALS);
	struct stat st;
	void *p;
	int rc = 0;

	if (seals < 0 || (seals & DIRECT_SEALS) != DIRECT_SEALS)
		rc = -EPERM;
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
		 (uint64_t)st.st_size < min)
		rc = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		rc = -EFBIG;
	if (rc == 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			rc = -errno;
		else {
			*pp = p;
			*psize = (size_t)st.st_size;
		}
	}
	close(fd);
	return rc;
}

static int sess_hello(struct direct_sess *s, struct udw_msg *m, int *fds, int nfd)
{
	uint64_t n = m->a;
	int rc;

	if (s->ring || nfd != 3)
		return -EINVAL;
	if (n == 0 || n > UDW_RING_MAX || (n & (n - 1)))
		return -EINVAL;
	rc = sess_map(fds[0], udw_ring_bytes((uint32_t)n), udw_ring_bytes((uint32_t)n),
		      (void **)&s->ring, &s->ring_bytes);
	fds[0] = -1;
	if (rc < 0)
		return rc;
	s->n = (uint32_t)n;
	s->efd_sq = fds[1];
	s->efd_cq = fds[2];
	fds[1] = fds[2] = -1;
	s->sq_head = atomic_load(&s->ring->sq_tail);
	atomic_store(&s->ring->sq_head, s->sq_head);
	return 0;
}

static int sess_register(struct direct_sess *s, struct udw_msg *m)
{
	struct ufs_direct *d = s->d;
	struct direct_grant *g;
	int i;

	for (i = 0; i < DIRECT_MAX_HANDLES && s->handles[i]; i++)
		;
	if (i == DIRECT_MAX_HANDLES)
		return -EMFILE;
	pthread_mutex_lock(&d->lock);
	g = grant_find(d, m->token);
	if (g && g->uid != s->uid) {
		grant_unref(g);
		g = NULL;
	}
	pthread_mutex_unlock(&d->lock);
	if (!g) {
		if (direct_may_warn(d))
			ufs_warn("direct: refused a token from pid %d uid %u", (int)s->pid,
				 (unsigned)s->uid);
		return -EACCES;
	}
	s->handles[i] = g;
	m->a = (uint64_t)i;
	m->b = (g->mode & FS_DIRECT_WRITE) != 0;
	m->c = 0;
	atomic_fetch_add(&d->n.handles, 1);
	return 0;
}

/* Release handle i of s (no entry of s runs); returns the commit error. */
static int sess_drop_handle(struct direct_sess *s, int i, int commit)
{
	struct ufs_direct *d = s->d;
	struct direct_grant *g = s->handles[i];
	int rc = 0;

	s->handles[i] = NULL;
	pthread_mutex_lock(&d->lock);
	if (commit && (g->mode & FS_DIRECT_WRITE) && !g->revoked) {
		g->inflight++;
		pthread_mutex_unlock(&d->lock);
		rc = g->ops->commit(d->fs, g->file);
		pthread_mutex_lock(&d->lock);
		g->inflight--;
		pthread_cond_broadcast(&d->cond);
	}
	grant_unref(g);
	pthread_mutex_unlock(&d->lock);
	atomic_fetch_sub(&d->n.handles, 1);
	return rc;
}

static int sess_deregister(struct direct_sess *s, struct udw_msg *m)
{
	if (m->a >= DIRECT_MAX_HANDLES || !s->handles[m->a])
		return -EBADF;
	pthread_mutex_lock(&s->lock);
	sess_wait_idle(s);
	pthread_mutex_unlock(&s->lock);
	return sess_drop_handle(s, (int)m->a, 1);
}

static int sess_buf_add(struct direct_sess *s, struct udw_msg *m, int *fds, int nfd)
{
	struct direct_buf *b;
	int i, rc;

	if (nfd != 1)
		return -EINVAL;
	for (i = 0; i < DIRECT_MAX_BUFS && s->bufs[i].p; i++)
		;
	if (i == DIRECT_MAX_BUFS)
		return -ENOSPC;
	b = &s->bufs[i];
	rc = sess_map(fds[0], 1, UDW_BUF_MAX, (void **)&b->p, &b->size);
	fds[0] = -1;
	if (rc == 0 && b->size > DIRECT_SESS_MAP_MAX - s->mapped) {
		munmap(b->p, b->size);
		b->p = NULL;
		b->size = 0;
		rc = -ENOSPC;
	}
	if (rc == 0)
		s->mapped += b->size;
	m->a = (uint64_t)i;
	return rc;
}

static int sess_buf_del(struct direct_sess *s, struct udw_msg *m)
{
	struct direct_buf *b;

	if (m->a >= DIRECT_MAX_BUFS || !s->bufs[m->a].p)
		return -EBADF;
	pthread_mutex_lock(&s->lock);
	sess_wait_idle(s);
	pthread_mutex_unlock(&s->lock);
	b = &s->bufs[m->a];
	munmap(b->p, b->size);
	s->mapped -= b->size;
	b->p = NULL;
	b->size = 0;
	return 0;
}

/* Queue the prefetch paths of a request and start fetching them. */
static int sess_prefetch(struct direct_sess *s, const char *paths, size_t len)
{
	int rc = direct_prefetch_add(s, paths, len);

	if (rc == 0)
		direct_prefetch_kick(s);
	return rc;
}

/* Answer one request of s (payload: plen bytes after the header). */
static int sess_request(struct direct_sess *s, struct udw_msg *m, const char *payload, size_t plen,
			int *fds, int nfd)
{
	if (m->op != UDW_HELLO && !s->ring)
		return -EPROTO;
	switch (m->op) {
	case UDW_HELLO:
		return sess_hello(s, m, fds, nfd);
	case UDW_REGISTER:
		return sess_register(s, m);
	case UDW_DEREGISTER:
		return sess_deregister(s, m);
	case UDW_BUF_ADD:
		return sess_buf_add(s, m, fds, nfd);
	case UDW_BUF_DEL:
		return sess_buf_del(s, m);
	case UDW_PREFETCH:
		return m->a == plen ? sess_prefetch(s, payload, plen) : -EINVAL;
	case UDW_PREFETCH_CANCEL:
		direct_prefetch_cancel(s);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Collect the fds of a received message (at most 3; more are closed). */
static int sess_fds(struct msghdr *mh, int *fds)
{
	int n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t k;
		int *p = (int *)CMSG_DATA(c);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			if (n < 3)
				fds[n++] = p[i];
			else
				close(p[i]);
		}
	}
	return n;
}

/* Receive and answer one request. 0, or -1 when the client is gone. */
static int sess_serve_one(struct direct_sess *s, char *payload)
{
	struct udw_msg m;
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct iovec iov[2] = {{&m, sizeof(m)}, {payload, UDW_PAYLOAD_MAX}};
	struct msghdr mh = {
	    .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	int fds[3] = {-1, -1, -1}, nfd;
	ssize_t n = recvmsg(s->sfd, &mh, MSG_CMSG_CLOEXEC);

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		return -1;
	nfd = sess_fds(&mh, fds);
	if ((size_t)n < sizeof(m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		m.status = -EINVAL;
	else
		m.status = sess_request(s, &m, payload, (size_t)n - sizeof(m), fds, nfd);
	for (int i = 0; i < nfd; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return send(s->sfd, &m, sizeof(m), MSG_NOSIGNAL) == sizeof(m) ? 0 : -1;
}

/* ---- the submission ring ---- */

/* Room for one more completion: CQEs not consumed + entries running < n. */
static int sess_cq_room(struct direct_sess *s)
{
	uint32_t head = atomic_load_explicit(&s->ring->cq_head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&s->ring->cq_tail, memory_order_relaxed);
	uint32_t used = tail - head;
	int room;

	pthread_mutex_lock(&s->lock);
	room = used <= s->n && used + s->entries < s->n;
	if (room)
		s->entries++;
	pthread_mutex_unlock(&s->lock);
	return room;
}

/* Start every SQE the client published. 1: some left (no CQ room), 0:
 * drained, -1: the ring is corrupt. */
static int sess_drain(struct direct_sess *s)
{
	uint32_t tail = atomic_load_explicit(&s->ring->sq_tail, memory_order_acquire);

	if (tail - s->sq_head > s->n)
		return -1;
	while (s->sq_head != tail) {
		struct udw_sqe e = udw_sq(s->ring)[s->sq_head & (s->n - 1)];

		if (!sess_cq_room(s))
			return 1;
		s->sq_head++;
		atomic_store_explicit(&s->ring->sq_head, s->sq_head, memory_order_release);
		pthread_mutex_lock(&s->lock);
		s->inflight++;
		pthread_mutex_unlock(&s->lock);
		direct_io_start(s, &e);
	}
	return 0;
}

/* Drain the ring, then sleep on the doorbell and the socket. 0, or -1 when
 * the session must end. */
static int sess_step(struct direct_sess *s, char *payload)
{
	struct pollfd p[2] = {{.fd = s->sfd, .events = POLLIN},
			      {.fd = s->efd_sq, .events = POLLIN}};
	int rc = s->ring ? sess_drain(s) : 0, timeout = -1;
	uint64_t v;

	if (rc < 0)
		return -1;
	if (rc > 0)
		timeout = DIRECT_CQ_WAIT_MS;
	else if (s->ring) {
		atomic_store(&s->ring->sleeping, 1);
		if (atomic_load(&s->ring->sq_tail) != s->sq_head)
			timeout = 0;
	}
	if (poll(p, s->ring ? 2 : 1, timeout) < 0 && errno != EINTR)
		return -1;
	if (s->ring)
		atomic_store(&s->ring->sleeping, 0);
	if (p[1].revents & POLLIN)
		(void)!read(s->efd_sq, &v, sizeof(v));
	if (p[0].revents & POLLIN)
		return sess_serve_one(s, payload);
	return (p[0].revents & (POLLHUP | POLLERR)) ? -1 : 0;
}

/* Free s once nothing of it runs. */
static void sess_destroy(struct direct_sess *s)
{
	direct_prefetch_cancel(s);
	pthread_mutex_lock(&s->lock);
	sess_wait_idle(s);
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < DIRECT_MAX_HANDLES; i++)
		if (s->handles[i])
			sess_drop_handle(s, i, 0);
	for (int i = 0; i < DIRECT_MAX_BUFS; i++)
		if (s->bufs[i].p)
			munmap(s->bufs[i].p, s->bufs[i].size);
	if (s->ring)
		munmap(s->ring, s->ring_bytes);
	if (s->efd_sq >= 0)
		close(s->efd_sq);
	if (s->efd_cq >= 0)
		close(s->efd_cq);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
}

static void *sess_main(void *arg)
{
	struct direct_sess *s = arg;
	char *payload = malloc(UDW_PAYLOAD_MAX);

	while (payload && sess_step(s, payload) == 0)
		;
	free(payload);
	sess_destroy(s);
	atomic_store(&s->ended, 1);
	atomic_fetch_sub(&s->d->n.sessions_active, 1);
	return NULL;
}

/* ---- the listening socket ---- */

/* Live sessions of uid; d->lock held. */
static unsigned direct_uid_sessions(const struct ufs_direct *d, uid_t uid)
{
	unsigned n = 0;

	for (const struct direct_sess *s = d->sessions; s; s = s->next)
		n += s->uid == uid && !atomic_load(&s->ended);
	return n;
}

/* Turn away the connection fd of uid (too many sessions): one reply with
 * -EUSERS, unasked (the client reads it as the answer to its HELLO). What
 * the client sent is drained first and later sends fail (SHUT_RD): closing
 * with unread data would make its recv fail with ECONNRESET instead. */
static void direct_refuse(struct ufs_direct *d, int fd, uid_t uid)
{
	struct udw_msg m = {.status = -EUSERS};

	(void)!send(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_RD);
	while (recv(fd, &m, sizeof(m), MSG_DONTWAIT) > 0)
		;
	close(fd);
	if (direct_may_warn(d))
		ufs_warn("direct: uid %u has %u sessions: refused another", (unsigned)uid,
			 d->sess_per_uid);
}

static void direct_accept(struct ufs_direct *d)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct direct_sess *s;
	unsigned n;
	int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&d->lock);
	n = direct_uid_sessions(d, cr.uid);
	pthread_mutex_unlock(&d->lock);
	if (n >= d->sess_per_uid) {
		direct_refuse(d, fd, cr.uid);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return;
	}
	s->d = d;
	s->sfd = fd;
	s->efd_sq = s->efd_cq = -1;
	s->uid = cr.uid;
	s->pid = cr.pid;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (pthread_create(&s->thread, NULL, sess_main, s) != 0) {
		sess_destroy(s);
		close(fd);
		free(s);
		return;
	}
	atomic_fetch_add(&d->n.sessions, 1);
	atomic_fetch_add(&d->n.sessions_active, 1);
	pthread_mutex_lock(&d->lock);
	s->next = d->sessions;
	d->sessions = s;
	pthread_mutex_unlock(&d->lock);
}

/* Join and free the sessions that ended. */
static void direct_reap(struct ufs_direct *d, int all)
{
	struct direct_sess **pp = &d->sessions;

	pthread_mutex_lock(&d->lock);
	while (*pp) {
		struct direct_sess *s = *pp;

		if (all)
			shutdown(s->sfd, SHUT_RDWR);
		if (!all && pthread_tryjoin_np(s->thread, NULL) != 0) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		pthread_mutex_unlock(&d->lock);
		if (all)
			pthread_join(s->thread, NULL);
		close(s->sfd);
		free(s);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
}

static void *direct_main(void *arg)
{
	struct ufs_direct *d = arg;

	for (;;) {
		struct pollfd p[2] = {{.fd = d->lfd, .events = POLLIN},
				      {.fd = d->stop[0], .events = POLLIN}};

		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			direct_accept(d);
		direct_reap(d, 0);
	}
	return NULL;
}

/* Listen on the socket beside the control socket (".direct" for ".sock"):
 * every local user's on a root mount, the owner's alone on a user mount. */
static int direct_listen(struct ufs_direct *d, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(d->path)];
	int rc = fs_sock_dir_prepare(dir, sizeof(dir), err, errlen);

	if (rc < 0)
		return rc;
	fs_sock_path(dir, d->fs->mountpoint, ".direct", d->path, sizeof(d->path));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->path);
	unlink(d->path);
	d->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (d->lfd < 0 || bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(d->path, fs_sock_mode(1)) < 0 || listen(d->lfd, 64) < 0) {
		snprintf(err, errlen, "direct path: %s: %s", d->path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Sessions per uid: raise the fd limit to its hard limit (each session
 * holds 3 fds), then allow a uid at most an eighth of it, so that one user
 * cannot take the fds FUSE requests and other users need. */
static unsigned direct_sess_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 16;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur / 8 < DIRECT_SESS_PER_UID ? (unsigned)(rl.rlim_cur / 8)
						     : DIRECT_SESS_PER_UID;
}

int fs_direct_start(struct ufs_fs *fs, char *err, size_t errlen)
{
	struct ufs_direct *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return -ENOMEM;
	d->fs = fs;
	d->owner = geteuid();
	d->lfd = d->stop[0] = d->stop[1] = -1;
	d->sess_per_uid = direct_sess_limit();
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	fs->direct = d;
	rc = direct_listen(d, err, errlen);
	if (rc == 0 && pipe2(d->stop, O_CLOEXEC) < 0)
		rc = -errno;
	if (rc == 0)
		rc = direct_pool_start(d, fs->cfg->workers < 4 ? 4 : fs->cfg->workers);
	if (rc == 0 && pthread_create(&d->thread, NULL, direct_main, d) != 0) {
		direct_pool_stop(d);
		rc = -EAGAIN;
	}
	if (rc < 0) {
		if (d->lfd >= 0) {
			close(d->lfd);
			unlink(d->path);
		}
		if (d->stop[0] >= 0) {
			close(d->stop[0]);
			close(d->stop[1]);
		}
		fs->direct = NULL;
		free(d);
	}
	return rc;
}

void fs_direct_stop(struct ufs_fs *fs)
{
	struct ufs_direct *d = fs->direct;

	if (!d)
		return;
	(void)!write(d->stop[1], "x", 1);
	pthread_join(d->thread, NULL);
	close(d->lfd);
	unlink(d->path);
	direct_reap(d, 1);
	direct_pool_stop(d);
	pthread_mutex_lock(&d->lock);
	while (d->grants) {
		struct direct_grant *g = d->grants;

		d->grants = g->next;
		grant_unref(g);
	}
	pthread_mutex_unlock(&d->lock);
	close(d->stop[0]);
	close(d->stop[1]);
	fs->direct = NULL;
	free(d);
}

void fs_direct_get_stats(struct ufs_fs *fs, struct fs_direct_stats *pst)
{
	struct ufs_direct *d = fs->direct;

	memset(pst, 0, sizeof(*pst));
	if (!d)
		return;
	pst->sessions = atomic_load(&d->n.sessions);
	pst->sessions_active = atomic_load(&d->n.sessions_active);
	pst->handles = atomic_load(&d->n.handles);
	pst->entries = atomic_load(&d->n.entries);
	pst->bytes_read = atomic_load(&d->n.bytes_read);
	pst->bytes_written = atomic_load(&d->n.bytes_written);
	pst->errors = atomic_load(&d->n.errors);
	pst->prefetch_files = atomic_load(&d->n.prefetch_files);
	pst->prefetch_bytes = atomic_load(&d->n.prefetch_bytes);
	pst->prefetch_dropped = atomic_load(&d->n.prefetch_dropped);
}
