/*
 * nfs.c — the NFS backend (libnfs 4.0): nfs://server/export/path[?version=3|4].
 *
 * Design
 * - Connections. libnfs 4.0 is not thread-safe, so every calling thread gets
 *   its own struct nfs_conn (one nfs_context = one TCP connection + mount),
 *   bound through a per-backend pthread key; a thread that exits hands its
 *   conn back to the backend's pool for the next new thread. N worker
 *   threads therefore give N connections (nconnect-style parallelism). A conn
 *   is used under its own mutex, because a writer opened on one thread's
 *   conn may be driven later from another FUSE thread.
 * - Bounded calls. We use libnfs's async API with our own poll loop and a
 *   deadline of op_timeout per backend call (connect + mount included), so
 *   no call can hang, whatever state the socket is in. On the deadline, on a
 *   dead socket, or on libnfs's own RPC timeout the context is discarded
 *   (destroyed; its cached handles closed) and gen is bumped; the next call
 *   reconnects. A connection lost in the middle of a call is reconnected and
 *   the call retried once within the same deadline, so the subtree recovers
 *   by itself when the server comes back. Failures map to -ETIMEDOUT
 *   (deadline), -ECONNREFUSED (cannot connect/mount), -EHOSTDOWN (lost again
 *   right after reconnecting).
 * - Handles, not path walks, on the data path. Reads go through a per-conn
 *   LRU of open read handles (struct nfsfh) keyed by path: the path is walked
 *   once per conn, then every read is a GETATTR + READs on the cached handle,
 *   all in flight together (the GETATTR pins the version: size or mtime
 *   different from the obj's -> -ESTALE; a stale or changed cached handle is
 *   reopened once before answering). A large read is split into rsize chunks
 *   that are all in flight at once on the conn. Writers own one nfsfh
 *   (pwrite in wsize chunks, pipelined; ftruncate; fsync = COMMIT; close =
 *   COMMIT + close). Opening a handle (reader or writer) uses libnfs's
 *   path-based open, which walks the path with LOOKUPs.
 *   A handle cached before the file was replaced under the same name still
 *   answers for the old version as long as the obj names that version
 *   (consistent bytes; the cache above moves on when its attributes expire).
 * - Metadata over NFSv3 (getattr, list, mkdir, unlink, rmdir, rename,
 *   symlink, readlink, link, setattr, statfs) goes through file handles:
 *   protocols/nfs_meta.c keeps a per-backend path -> directory handle cache
 *   shared by all conns and issues raw NFSv3 RPCs on the calling thread's
 *   conn (same deadline and reconnect as here), so a warm stat is one
 *   LOOKUP in the cached parent, not one LOOKUP per path component; its
 *   design comment says how long a cached handle is trusted. When the
 *   export root handle cannot be had (MOUNT failing) and over NFSv4, the
 *   calls below use libnfs's path-based API (nfs_lstat64, nfs_mkdir2...,
 *   one LOOKUP per component each time; libnfs 4.0's NFSv4 client offers
 *   no raw handle API worth building on).
 * - list() is READDIRPLUS: attributes come with the entries, never one
 *   GETATTR per entry (path-based: nfs_opendir()). libnfs's own dircache is
 *   off (the cache layer above owns caching and its TTLs).
 * - NFSv4 with libnfs 4.0 ("not yet functional" per its own header) works
 *   with these workarounds: a unique client name per context, WRITEs of at
 *   most NFS_V4_WRITE_MAX bytes (pipelined), O_TRUNC as a SETATTR after the
 *   open, handles reopened on OLD/BAD_STATEID, a fresh context (new open
 *   owner) on BAD_SEQID. NFSv3 is the fast, recommended path.
 * - SIGPIPE is blocked in the calling thread during libnfs calls and a
 *   pending one consumed, so a server dying mid-send cannot kill the daemon.
 *
 * Lock order: nfs_be.pool_lock (pool bookkeeping only) and nfs_conn.lock
 * are never held together; nfs_conn.lock is held for the whole backend
 * call on that conn (it is the libnfs context's lock). List callbacks run
 * without any lock held.
 */
#include "protocols/nfs_i.h"

#include "protocols/backend.h"
#include "protocols/http/http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

#define NFS_MAX_INFLIGHT 32 /* READ/WRITE chunks in flight per call */
/* libnfs 4.0's NFSv4 client does not learn rsize/wsize and encodes a WRITE
 * into a ~4 KiB buffer (larger ones fail with "ZDR error: Failed to encode
 * COMPOUND4args"), so NFSv4 writes go in small chunks, pipelined. */
#define NFS_V4_READ_MAX (1u << 20)
#define NFS_V4_WRITE_MAX 3072u

double ufs_nfs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- URL ----------------------------------------------------------------- */

static const char *const nfs_known_args[] = {
    "version",
    "uid",
    "gid",
    "tcp-syncnt",
    "nfsport",
    "mountport",
    "autoreconnect",
    "dircache",
    "auto-traverse-mounts",
    "readahead",
    "pagecache",
    "debug",
    "if",
    NULL,
};

static int nfs_arg_known(const char *name, size_t len)
{
	for (int i = 0; nfs_known_args[i]; i++)
		if (strlen(nfs_known_args[i]) == len && strncmp(nfs_known_args[i], name, len) == 0)
			return 1;
	return 0;
}

/* Check one "name=value" argument; updates *pversion. */
static int nfs_url_arg(const char *a, size_t len, int *pversion, char *err, size_t errlen)
{
	const char *eq = memchr(a, '=', len);

	if (!eq || eq == a || eq + 1 == a + len) {
		snprintf(err, errlen, "malformed NFS URL argument '%.*s' (use name=value)",
			 (int)len, a);
		return -EINVAL;
	}
	if (!nfs_arg_known(a, (size_t)(eq - a))) {
		snprintf(err, errlen,
			 "unknown NFS URL argument '%.*s' (libnfs knows version, uid, gid, "
			 "tcp-syncnt, nfsport, mountport, autoreconnect, dircache, readahead, ...)",
			 (int)(eq - a), a);
		return -EINVAL;
	}
	if (eq - a == 7 && strncmp(a, "version", 7) == 0) {
		if (a + len - eq != 2 || (eq[1] != '3' && eq[1] != '4')) {
			snprintf(err, errlen, "NFS version must be 3 or 4, not '%.*s'",
				 (int)(a + len - eq - 1), eq + 1);
			return -EINVAL;
		}
		*pversion = eq[1] - '0';
	}
	return 0;
}

static int nfs_url_args(const char *q, int *pversion, char *err, size_t errlen)
{
	while (*q) {
		size_t len = strcspn(q, "&");
		int rc = len ? nfs_url_arg(q, len, pversion, err, errlen) : 0;

		if (rc < 0)
			return rc;
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* Decode the path part [p, end) into an absolute path without trailing '/'. */
static char *nfs_url_path(const char *p, size_t len)
{
	char *raw = strndup(p, len);
	char *path = raw && !strstr(raw, "%00") ? ufs_uri_decode(raw, len) : NULL;
	size_t n;

	free(raw);
	if (!path)
		return NULL;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	return path;
}

int ufs_nfs_url_parse(const char *url, struct ufs_nfs_url *pu, char *err, size_t errlen)
{
	const char *host = url + 6, *slash, *q;
	int rc;

	memset(pu, 0, sizeof(*pu));
	pu->version = 3;
	if (strncmp(url, "nfs://", 6) != 0) {
		snprintf(err, errlen, "%s: not an nfs:// URL", url);
		return -EINVAL;
	}
	slash = strchr(host, '/');
	q = strchr(host, '?');
	if (!slash || (q && q < slash) || slash == host || memchr(host, '@', slash - host)) {
		snprintf(err, errlen, "%s: expected nfs://server/export[/path][?version=3|4]", url);
		return -EINVAL;
	}
	pu->server = strndup(host, (size_t)(slash - host));
	pu->path = nfs_url_path(slash, q ? (size_t)(q - slash) : strlen(slash));
	pu->args = strdup(q ? q + 1 : "");
	if (!pu->server || !pu->path || !pu->args) {
		snprintf(err, errlen, "%s: bad %%XX escape in the path", url);
		ufs_nfs_url_free(pu);
		return -EINVAL;
	}
	rc = nfs_url_args(pu->args, &pu->version, err, errlen);
	if (rc < 0)
		ufs_nfs_url_free(pu);
	return rc;
}

void ufs_nfs_url_free(struct ufs_nfs_url *u)
{
	free(u->server);
	free(u->path);
	free(u->args);
	memset(u, 0, sizeof(*u));
}

int ufs_nfs_path_check(const char *path)
{
	if (path[0] == '/')
		return -EINVAL;
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return -EINVAL;
	return 0;
}

char *ufs_nfs_abspath(const char *path, int *perr)
{
	size_t n = strlen(path);
	char *abs;

	*perr = ufs_nfs_path_check(path);
	if (*perr < 0)
		return NULL;
	*perr = -ENOMEM;
	abs = malloc(n + 2);
	if (abs) {
		abs[0] = '/';
		memcpy(abs + 1, path, n + 1);
	}
	return abs;
}

/* ---- async calls and the bounded wait ----------------------------------- */

static void nfs_call_cb(int err, struct nfs_context *ctx, void *data, void *priv)
{
	struct nfs_call *c = priv;

	(void)ctx;
	c->done = 1;
	c->err = err;
	if (err < 0) {
		snprintf(c->msg, sizeof(c->msg), "%s", data ? (const char *)data : "");
		return;
	}
	if (c->res == NFS_RES_PTR)
		*(void **)c->out = data;
	else if (c->res == NFS_RES_BYTES && err > 0 && data)
		memcpy(c->out, data, (size_t)err < c->cap ? (size_t)err : c->cap);
	else if (c->res == NFS_RES_COPY && data)
		memcpy(c->out, data, c->cap);
	else if (c->res == NFS_RES_STR && data)
		snprintf(c->out, c->cap, "%s", (const char *)data);
}

static void nfs_noop_cb(int err, struct nfs_context *ctx, void *data, void *priv)
{
	(void)err;
	(void)ctx;
	(void)data;
	(void)priv;
}

static void nfs_fhc_clear(struct nfs_conn *c);

/* Destroy the context (pending callbacks fire with an error) and forget
 * every handle opened on it. */
static void nfs_conn_discard(struct nfs_conn *c)
{
	if (!c->ctx)
		return;
	nfs_fhc_clear(c);
	nfs_destroy_context(c->ctx);
	c->ctx = NULL;
	c->gen++;
}

static int nfs_calls_done(struct nfs_call *const *calls, int n)
{
	for (int i = 0; i < n; i++)
		if (!calls[i]->done)
			return 0;
	return 1;
}

int ufs_nfs_poll(int fd, int events, double deadline)
{
	struct pollfd p = {.fd = fd, .events = (short)events};
	double left = deadline - ufs_nfs_now();

	if (left <= 0)
		return -ETIMEDOUT;
	return poll(&p, 1, left > 0.1 ? 100 : (int)(left * 1000) + 1) > 0 ? p.revents : 0;
}

/* Drive c->ctx until every call is done. 0, or -ETIMEDOUT at the deadline /
 * -ECONNRESET when the connection died; on failure the context is gone. */
static int nfs_conn_wait(struct nfs_conn *c, struct nfs_call *const *calls, int n)
{
	while (!nfs_calls_done(calls, n)) {
		int r = ufs_nfs_poll(nfs_get_fd(c->ctx), nfs_which_events(c->ctx), c->deadline);

		if (r < 0) {
			nfs_conn_discard(c);
			return -ETIMEDOUT;
		}
		if (nfs_service(c->ctx, r) < 0 || nfs_get_fd(c->ctx) < 0) {
			nfs_conn_discard(c);
			return -ECONNRESET;
		}
	}
	return 0;
}

/* Record a failed call's server message for logs. */
static void nfs_note_error(struct nfs_conn *c, const char *what, int err, const char *msg)
{
	ufs_be_set_error(&c->nb->base, "nfs %s: %s (%s)", what, msg[0] ? msg : "error",
			 strerror(-err));
}

/* The errno a failed call stands for. libnfs 4.0 reports NFSv4 state
 * errors (OLD/BAD_STATEID: another OPEN of the same file by this client
 * moved the open stateid on) as -ERANGE; here they mean "reopen the
 * handle", -EBADF, which the callers do once. */
static int nfs_call_errno(const struct nfs_call *k)
{
	if (k->err < 0 && strstr(k->msg, "_STATEID"))
		return -EBADF;
	return k->err;
}

/*
 * Finish the calls started on c (queued = the start functions' worst
 * return): wait, then turn connection-level failures into a discarded
 * context and -ECONNRESET/-ETIMEDOUT. Returns 0 when every call completed
 * (each call's own status is in call->err), or that failure.
 */
static int nfs_finish(struct nfs_conn *c, struct nfs_call *const *calls, int n, int queued)
{
	int rc = nfs_conn_wait(c, calls, n);

	if (rc == 0 && queued < 0) {
		snprintf(calls[0]->msg, sizeof(calls[0]->msg), "%s", nfs_get_error(c->ctx));
		calls[0]->err = queued;
	}
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if (calls[i]->err == -ETIMEDOUT || calls[i]->err == -EINTR) {
			nfs_conn_discard(c); /* libnfs's own RPC timeout fired */
			return -ETIMEDOUT;
		}
	}
	if (nfs_get_fd(c->ctx) < 0) {
		nfs_conn_discard(c);
		return -ECONNRESET;
	}
	return 0;
}

/* Wait for one call started with status queued; its result or -errno. */
int ufs_nfs_exec(struct nfs_conn *c, struct nfs_call *call, int queued, const char *what)
{
	struct nfs_call *calls[1] = {call};
	int rc;

	if (queued < 0)
		call->done = 1;
	rc = nfs_finish(c, calls, 1, queued);
	if (rc < 0)
		return rc;
	if (call->err < 0)
		nfs_note_error(c, what, call->err, call->msg);
	if (call->err < 0 && strstr(call->msg, "NFS4ERR_BAD_SEQID")) {
		/* libnfs 4.0 lost track of its NFSv4.0 open-owner sequence (it does
		 * not count a failed OPEN): a fresh context starts a new owner. */
		nfs_conn_discard(c);
		return -ECONNRESET;
	}
	return nfs_call_errno(call);
}

/* ---- connections ---------------------------------------------------------- */

/* Apply the URL's libnfs arguments (version, uid, ...) to ctx. */
static int nfs_ctx_apply_args(struct nfs_be *nb, struct nfs_context *ctx)
{
	struct nfs_url *u;
	char *s;

	nfs_set_version(ctx, nb->url.version); /* NFS_V3 = 3, NFS_V4 = 4 */
	if (!nb->url.args[0])
		return 0;
	if (asprintf(&s, "nfs://?%s", nb->url.args) < 0)
		return -ENOMEM;
	u = nfs_parse_url_incomplete(ctx, s);
	free(s);
	if (!u)
		return -EINVAL;
	nfs_destroy_url(u);
	return 0;
}

/* NFSv4.0: every context is its own client. libnfs 4.0 gives all contexts
 * of a process the same client name, so a second SETCLIENTID would make
 * the server drop the first context's state (NFS4ERR_STALE_CLIENTID). */
static void nfs_ctx_set_client(struct nfs_context *ctx)
{
	static atomic_uint seq;
	unsigned n = atomic_fetch_add(&seq, 1);
	char host[64] = "", name[128], verifier[8];
	struct timespec ts;

	gethostname(host, sizeof(host) - 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof(name), "unifs-%s-%ld-%u-%ld", host, (long)getpid(), n,
		 (long)ts.tv_sec);
	nfs4_set_client_name(ctx, name);
	memcpy(verifier, &ts.tv_nsec, 4);
	memcpy(verifier + 4, &n, 4);
	nfs4_set_verifier(ctx, verifier);
}

/* Map a failed mount to an errno: a connection that could not be made or
 * was dropped is -ECONNREFUSED; the export's own answer stays as it is. */
static int nfs_mount_errno(int rc, const struct nfs_call *call)
{
	if (rc == -ECONNRESET)
		return -ECONNREFUSED;
	if (rc < 0)
		return rc;
	if (strstr(call->msg, "connect") || strstr(call->msg, "Connect"))
		return -ECONNREFUSED;
	return call->err == -EFAULT || call->err == 0 ? -EIO : call->err;
}

/* Create and mount a fresh context on c (c->lock held). */
static int nfs_conn_connect(struct nfs_conn *c)
{
	struct nfs_be *nb = c->nb;
	struct nfs_call call = {.res = NFS_RES_NONE};
	int rc;

	c->ctx = nfs_init_context();
	if (!c->ctx)
		return -ENOMEM;
	nfs_set_dircache(c->ctx, 0);
	nfs_set_autoreconnect(c->ctx, 0); /* we reconnect, within our deadline */
	rc = nfs_ctx_apply_args(nb, c->ctx);
	nfs_set_timeout(c->ctx, nb->timeout_ms);
	if (nb->url.version == 4)
		nfs_ctx_set_client(c->ctx);
	if (rc == 0)
		rc = nfs_finish(
		    c, (struct nfs_call *[]){&call}, 1,
		    nfs_mount_async(c->ctx, nb->url.server, nb->url.path, nfs_call_cb, &call));
	if (rc == 0 && call.err == 0)
		return 0;
	rc = nfs_mount_errno(rc, &call);
	nfs_note_error(c, "mount", rc, call.msg);
	nfs_conn_discard(c);
	return rc;
}

static struct nfs_conn *nfs_conn_new(struct nfs_be *nb)
{
	struct nfs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->nb = nb;
	return c;
}

static void nfs_conn_free(struct nfs_conn *c)
{
	nfs_conn_discard(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* pthread key destructor: the exiting thread's conn goes back to the pool. */
static void nfs_conn_unbind(void *v)
{
	struct nfs_conn *c = v;

	pthread_mutex_lock(&c->nb->pool_lock);
	c->bound = 0;
	pthread_mutex_unlock(&c->nb->pool_lock);
}

/* The calling thread's conn (bound on first use), or NULL on ENOMEM. */
static struct nfs_conn *nfs_conn_get(struct nfs_be *nb)
{
	struct nfs_conn *c = pthread_getspecific(nb->key);

	if (c)
		return c;
	pthread_mutex_lock(&nb->pool_lock);
	for (c = nb->conns; c && c->bound; c = c->next)
		;
	if (!c && (c = nfs_conn_new(nb)) != NULL) {
		c->next = nb->conns;
		nb->conns = c;
	}
	if (c)
		c->bound = 1;
	pthread_mutex_unlock(&nb->pool_lock);
	if (c)
		pthread_setspecific(nb->key, c);
	return c;
}

/* Block SIGPIPE in this thread while libnfs writes to a socket the server
 * may have closed (libnfs does not ask for MSG_NOSIGNAL everywhere). */
static void nfs_sigpipe_block(sigset_t *pold)
{
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, pold);
}

/* Consume a SIGPIPE raised meanwhile, then restore the thread's mask. */
static void nfs_sigpipe_restore(const sigset_t *old)
{
	const struct timespec zero = {0, 0};
	sigset_t pipe, pending;

	if (!sigismember(old, SIGPIPE)) {
		sigemptyset(&pipe);
		sigaddset(&pipe, SIGPIPE);
		if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Run op on conn c within one op_timeout, connecting first if needed; a
 * connection lost during op is re-established and op retried once. */
static int nfs_run_on(struct nfs_conn *c, nfs_op_fn op, void *arg)
{
	sigset_t old;
	int rc;

	nfs_sigpipe_block(&old);
	pthread_mutex_lock(&c->lock);
	c->deadline = ufs_nfs_now() + c->nb->timeout_ms / 1000.0;
	for (int attempt = 0;; attempt++) {
		rc = c->ctx ? 0 : nfs_conn_connect(c);
		if (rc == 0)
			rc = op(c, arg);
		if (rc != -ECONNRESET)
			break;
		if (attempt == 1) {
			rc = -EHOSTDOWN;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	nfs_sigpipe_restore(&old);
	return rc;
}

/* Run op on the calling thread's connection. */
int ufs_nfs_run(struct nfs_be *nb, nfs_op_fn op, void *arg)
{
	struct nfs_conn *c = nfs_conn_get(nb);

	return c ? nfs_run_on(c, op, arg) : -ENOMEM;
}

/* ---- read handle cache (per conn, c->lock held) -------------------------- */

static void nfs_fhc_close(struct nfs_conn *c, struct nfs_fhc_ent *e)
{
	if (nfs_close_async(c->ctx, e->fh, nfs_noop_cb, NULL) < 0)
		ufs_be_set_error(&c->nb->base, "nfs close: %s", nfs_get_error(c->ctx));
	free(e->path);
	e->path = NULL;
	e->fh = NULL;
}

static void nfs_fhc_clear(struct nfs_conn *c)
{
	for (int i = 0; i < NFS_FHC_SLOTS && c->fhc[i].path; i++)
		nfs_fhc_close(c, &c->fhc[i]);
}

static void nfs_fhc_remove(struct nfs_conn *c, int i)
{
	nfs_fhc_close(c, &c->fhc[i]);
	memmove(&c->fhc[i], &c->fhc[i + 1], (NFS_FHC_SLOTS - 1 - (size_t)i) * sizeof(c->fhc[0]));
	c->fhc[NFS_FHC_SLOTS - 1].path = NULL;
	c->fhc[NFS_FHC_SLOTS - 1].fh = NULL;
}

static void nfs_fhc_drop(struct nfs_conn *c, const char *path)
{
	for (int i = 0; i < NFS_FHC_SLOTS && c->fhc[i].path; i++) {
		if (strcmp(c->fhc[i].path, path) == 0) {
			nfs_fhc_remove(c, i);
			return;
		}
	}
}

void ufs_nfs_conn_forget(struct nfs_conn *c, const char *path)
{
	int rc;
	char *abs = ufs_nfs_abspath(path, &rc);

	if (abs)
		nfs_fhc_drop(c, abs);
	free(abs);
}

/* Cached handle of path moved to the front, or NULL. */
static struct nfsfh *nfs_fhc_find(struct nfs_conn *c, const char *path)
{
	for (int i = 0; i < NFS_FHC_SLOTS && c->fhc[i].path; i++) {
		if (strcmp(c->fhc[i].path, path) == 0) {
			struct nfs_fhc_ent e = c->fhc[i];
			memmove(&c->fhc[1], &c->fhc[0], (size_t)i * sizeof(c->fhc[0]));
			c->fhc[0] = e;
			return e.fh;
		}
	}
	return NULL;
}

static int nfs_fhc_insert(struct nfs_conn *c, const char *path, struct nfsfh *fh)
{
	char *dup = strdup(path);

	if (!dup) {
		struct nfs_fhc_ent e = {.path = NULL, .fh = fh};
		nfs_fhc_close(c, &e);
		return -ENOMEM;
	}
	if (c->fhc[NFS_FHC_SLOTS - 1].path)
		nfs_fhc_close(c, &c->fhc[NFS_FHC_SLOTS - 1]);
	memmove(&c->fhc[1], &c->fhc[0], (NFS_FHC_SLOTS - 1) * sizeof(c->fhc[0]));
	c->fhc[0].path = dup;
	c->fhc[0].fh = fh;
	return 0;
}

/* Open path with flags (and mode when creating) on c; *pfh or -errno. */
static int nfs_open_fh(struct nfs_conn *c, const char *path, int flags, int mode,
		       struct nfsfh **pfh)
{
	struct nfs_call call = {.res = NFS_RES_PTR, .out = pfh};

	*pfh = NULL;
	ufs_be_count(&c->nb->base, UFS_REQ_OTHER, 0, 0);
	if (flags & O_CREAT)
		return ufs_nfs_exec(
		    c, &call,
		    nfs_create_async(c->ctx, path, flags & ~O_CREAT, mode, nfs_call_cb, &call),
		    "create");
	return ufs_nfs_exec(c, &call, nfs_open_async(c->ctx, path, flags, nfs_call_cb, &call),
			    "open");
}

/* ---- attributes ------------------------------------------------------------ */

static void nfs_stat_to_attr(const struct nfs_stat_64 *st, struct ufs_attr *pattr)
{
	memset(pattr, 0, sizeof(*pattr));
	pattr->mode = (uint32_t)st->nfs_mode;
	pattr->nlink = (uint32_t)st->nfs_nlink;
	pattr->uid = (uint32_t)st->nfs_uid;
	pattr->gid = (uint32_t)st->nfs_gid;
	pattr->size = st->nfs_size;
	pattr->ino = st->nfs_ino;
	pattr->atime.tv_sec = (time_t)st->nfs_atime;
	pattr->atime.tv_nsec = (long)st->nfs_atime_nsec;
	pattr->mtime.tv_sec = (time_t)st->nfs_mtime;
	pattr->mtime.tv_nsec = (long)st->nfs_mtime_nsec;
	pattr->ctime.tv_sec = (time_t)st->nfs_ctime;
	pattr->ctime.tv_nsec = (long)st->nfs_ctime_nsec;
}

struct nfs_stat_args {
	const char *path;
	struct nfs_stat_64 st;
};

static int nfs_op_lstat(struct nfs_conn *c, void *arg)
{
	struct nfs_stat_args *a = arg;
	struct nfs_call call = {.res = NFS_RES_COPY, .out = &a->st, .cap = sizeof(a->st)};

	return ufs_nfs_exec(c, &call, nfs_lstat64_async(c->ctx, a->path, nfs_call_cb, &call),
			    "stat");
}

static int nfs_lstat(struct nfs_be *nb, const char *abs, struct nfs_stat_64 *pst)
{
	struct nfs_stat_args a = {.path = abs};
	int rc = ufs_nfs_run(nb, nfs_op_lstat, &a);

	ufs_be_count(&nb->base, UFS_REQ_HEAD, 0, 0);
	if (rc == 0)
		*pst = a.st;
	return rc;
}

static int nfsbe_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	struct nfs_stat_64 st;
	int rc = ufs_nfs3_getattr(ufs_nfs_be_of(be), path, pattr);
	char *abs;

	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	abs = ufs_nfs_abspath(path, &rc);
	if (!abs)
		return rc;
	rc = nfs_lstat(ufs_nfs_be_of(be), abs, &st);
	if (rc == 0)
		nfs_stat_to_attr(&st, pattr);
	free(abs);
	return rc;
}

/* ---- list ------------------------------------------------------------------ */

uint32_t ufs_nfs_ftype_mode(unsigned type)
{
	static const uint32_t fmt[] = {0,	S_IFREG, S_IFDIR,  S_IFBLK,
				       S_IFCHR, S_IFLNK, S_IFSOCK, S_IFIFO};

	return type < sizeof(fmt) / sizeof(fmt[0]) ? fmt[type] : 0;
}

static uint32_t nfs_dirent_mode(const struct nfsdirent *d)
{
	if (d->mode & S_IFMT)
		return d->mode;
	if (!ufs_nfs_ftype_mode(d->type))
		return 0; /* no attributes for this entry: type unknown */
	return ufs_nfs_ftype_mode(d->type) | (d->mode & 07777);
}

static void nfs_dirent_to_attr(const struct nfsdirent *d, struct ufs_attr *pattr)
{
	memset(pattr, 0, sizeof(*pattr));
	pattr->mode = nfs_dirent_mode(d);
	pattr->nlink = d->nlink;
	pattr->uid = d->uid;
	pattr->gid = d->gid;
	pattr->size = d->size;
	pattr->ino = d->inode;
	pattr->atime.tv_sec = d->atime.tv_sec;
	pattr->atime.tv_nsec = (long)d->atime_nsec;
	pattr->mtime.tv_sec = d->mtime.tv_sec;
	pattr->mtime.tv_nsec = (long)d->mtime_nsec;
	pattr->ctime.tv_sec = d->ctime.tv_sec;
	pattr->ctime.tv_nsec = (long)d->ctime_nsec;
}

struct nfs_dir_args {
	const char *path;
	struct nfsdir *dir;
};

static int nfs_op_opendir(struct nfs_conn *c, void *arg)
{
	struct nfs_dir_args *a = arg;
	struct nfs_call call = {.res = NFS_RES_PTR, .out = &a->dir};

	return ufs_nfs_exec(c, &call, nfs_opendir_async(c->ctx, a->path, nfs_call_cb, &call),
			    "readdir");
}

/* Feed the entries of an open dir to cb (no lock held: the entries are
 * plain memory owned by the nfsdir). */
static int nfs_list_entries(struct nfs_dir_args *a, ufs_list_cb cb, void *arg)
{
	struct nfsdirent *d;
	struct ufs_attr attr;
	int rc = 0;

	while (rc == 0 && (d = nfs_readdir(NULL, a->dir)) != NULL) {
		if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)
			continue;
		nfs_dirent_to_attr(d, &attr);
		rc = cb(arg, d->name, &attr);
	}
	return rc;
}

static int nfsbe_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	struct nfs_be *nb = ufs_nfs_be_of(be);
	struct nfs_dir_args a = {.path = NULL};
	struct nfs_conn *c = nfs_conn_get(nb);
	int rc = ufs_nfs3_list(nb, dir, cb, arg);
	char *abs;

	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	abs = ufs_nfs_abspath(dir, &rc);
	if (!abs)
		return rc;
	ufs_be_count(be, UFS_REQ_LIST, 0, 0);
	a.path = abs;
	rc = c ? nfs_run_on(c, nfs_op_opendir, &a) : -ENOMEM;
	if (rc == 0) {
		rc = nfs_list_entries(&a, cb, arg);
		nfs_closedir(NULL, a.dir); /* NULL: free, no dircache */
	}
	free(abs);
	return rc;
}

/* ---- read -------------------------------------------------------------------- */

struct nfs_read_args {
	const struct ufs_obj *obj;
	const char *path; /* absolute */
	uint64_t off;
	size_t len;
	char *buf;
	size_t got; /* bytes read so far */
};

/* -ESTALE unless st is obj's version. */
static int nfs_same_version(const struct nfs_stat_64 *st, const struct ufs_obj *obj)
{
	if (st->nfs_size != obj->size || (int64_t)st->nfs_mtime != (int64_t)obj->mtime.tv_sec ||
	    (long)st->nfs_mtime_nsec != obj->mtime.tv_nsec)
		return -ESTALE;
	return 0;
}

/* Start READs of [a->off + a->got, +want) in rsize chunks; returns how many
 * calls were started (their status in the queued worst case *pq). */
static int nfs_read_start(struct nfs_conn *c, struct nfsfh *fh, struct nfs_read_args *a,
			  size_t want, struct nfs_call *calls, int *pq)
{
	size_t chunk = (size_t)nfs_get_readmax(c->ctx);
	int n = 0;

	if (chunk == 0) /* libnfs 4.0 does not learn it over NFSv4 */
		chunk = NFS_V4_READ_MAX;
	if (chunk > want)
		chunk = want ? want : 1;
	for (size_t done = 0; done < want && n < NFS_MAX_INFLIGHT; n++) {
		size_t len = want - done < chunk ? want - done : chunk;
		struct nfs_call *k = &calls[n];

		*k = (struct nfs_call){
		    .res = NFS_RES_BYTES, .out = a->buf + a->got + done, .cap = len};
		int q = nfs_pread_async(c->ctx, fh, a->off + a->got + done, len, nfs_call_cb, k);
		if (q < 0) {
			k->done = 1;
			k->err = q;
			*pq = q;
		}
		done += len;
	}
	return n;
}

/* Account the finished chunk reads in order; returns -errno, or 0 with
 * a->got advanced over the contiguous data (a short chunk stops there: the
 * rest is read in the next round unless at end of file). */
static int nfs_read_collect(struct nfs_conn *c, struct nfs_read_args *a, struct nfs_call *calls,
			    int n, int *pzero)
{
	for (int i = 0; i < n; i++) {
		if (calls[i].err < 0) {
			nfs_note_error(c, "read", calls[i].err, calls[i].msg);
			return nfs_call_errno(&calls[i]);
		}
		a->got += (size_t)calls[i].err;
		if ((size_t)calls[i].err < calls[i].cap) {
			*pzero = calls[i].err == 0;
			break;
		}
	}
	return 0;
}

/* One pinned round: GETATTR + the chunk READs in flight together. *peof is
 * set when the read reached the end of the file. */
static int nfs_read_round(struct nfs_conn *c, struct nfsfh *fh, struct nfs_read_args *a, int *peof)
{
	struct nfs_call calls[NFS_MAX_INFLIGHT + 1];
	struct nfs_call *ptrs[NFS_MAX_INFLIGHT + 1];
	struct nfs_stat_64 st;
	int queued = 0, n, rc, zero = 0;

	calls[0] = (struct nfs_call){.res = NFS_RES_COPY, .out = &st, .cap = sizeof(st)};
	queued = nfs_fstat64_async(c->ctx, fh, nfs_call_cb, &calls[0]);
	if (queued < 0)
		calls[0].done = 1;
	n = 1 + nfs_read_start(c, fh, a, a->len - a->got, calls + 1, &queued);
	for (int i = 0; i < n; i++)
		ptrs[i] = &calls[i];
	rc = nfs_finish(c, ptrs, n, queued);
	if (rc < 0)
		return rc;
	if (calls[0].err < 0)
		return nfs_call_errno(&calls[0]);
	rc = nfs_same_version(&st, a->obj);
	if (rc == 0)
		rc = nfs_read_collect(c, a, calls + 1, n - 1, &zero);
	*peof = zero || a->off + a->got >= st.nfs_size;
	return rc;
}

/* The cached read handle of a->path, opened if needed; *pcached says which. */
static int nfs_read_fh(struct nfs_conn *c, const char *path, struct nfsfh **pfh, int *pcached)
{
	struct nfsfh *fh = nfs_fhc_find(c, path);
	int rc;

	*pcached = fh != NULL;
	if (!fh) {
		rc = nfs_open_fh(c, path, O_RDONLY, 0, &fh);
		if (rc < 0)
			return rc;
		rc = nfs_fhc_insert(c, path, fh);
		if (rc < 0)
			return rc;
	}
	*pfh = fh;
	return 0;
}

static int nfs_op_read(struct nfs_conn *c, void *arg)
{
	struct nfs_read_args *a = arg;
	int rc = 0, eof = 0, cached, retried = 0;
	struct nfsfh *fh;

	a->got = 0;
	while (rc == 0 && !eof && a->got < a->len) {
		rc = nfs_read_fh(c, a->path, &fh, &cached);
		if (rc == 0)
			rc = nfs_read_round(c, fh, a, &eof);
		if (!retried && (rc == -EBADF || (rc == -ESTALE && cached && a->got == 0))) {
			nfs_fhc_drop(c, a->path); /* stale, replaced or lost state: reopen once */
			retried = 1;
			rc = 0;
		}
	}
	return rc == -EBADF ? -EIO : rc;
}

static ssize_t nfsbe_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off,
			  size_t len, void *buf)
{
	struct nfs_read_args a = {.obj = obj, .off = off, .len = len, .buf = buf};
	int rc;
	char *abs = ufs_nfs_abspath(obj->path, &rc);

	if (!abs)
		return rc;
	a.path = abs;
	rc = ufs_nfs_run(ufs_nfs_be_of(be), nfs_op_read, &a);
	free(abs);
	ufs_be_count(be, UFS_REQ_GET, rc == 0 ? a.got : 0, 0);
	return rc < 0 ? rc : (ssize_t)a.got;
}

/* ---- writer -------------------------------------------------------------------- */

struct nfs_writer {
	struct ufs_writer base;
	struct nfs_conn *c; /* the conn fh belongs to */
	struct nfsfh *fh;   /* NULL: (re)open on next use */
	unsigned gen;	    /* c->gen when fh was opened */
	char *path;	    /* absolute, for reopening after a reconnect */
	int oflags;	    /* access mode (+O_APPEND) for reopening */
	int err;	    /* first error, returned by close() */
	/* arguments of the op in progress */
	const char *wbuf;
	size_t wlen;
	uint64_t woff;
};

/* The writer's handle on the current context (reopened after a reconnect). */
static int nfs_writer_fh(struct nfs_conn *c, struct nfs_writer *w)
{
	if (w->fh && w->gen == c->gen)
		return 0;
	if (w->fh) /* opened on a discarded context: free it */
		nfs_close_async(c->ctx, w->fh, nfs_noop_cb, NULL);
	w->fh = NULL;
	w->gen = c->gen;
	return nfs_open_fh(c, w->path, w->oflags, 0, &w->fh);
}

static int nfs_w_do_pwrite(struct nfs_conn *c, struct nfs_writer *w)
{
	struct nfs_call calls[NFS_MAX_INFLIGHT];
	struct nfs_call *ptrs[NFS_MAX_INFLIGHT];
	size_t chunk, done = 0;
	int rc;

	chunk = c->nb->url.version == 4 ? NFS_V4_WRITE_MAX : (size_t)nfs_get_writemax(c->ctx);
	if (chunk == 0)
		chunk = NFS_V4_WRITE_MAX;
	while (done < w->wlen) {
		int n = 0, queued = 0;
		for (size_t s = done; s < w->wlen && n < NFS_MAX_INFLIGHT; n++) {
			size_t len = w->wlen - s < chunk ? w->wlen - s : chunk;
			calls[n] = (struct nfs_call){.res = NFS_RES_NONE};
			ptrs[n] = &calls[n];
			int q = nfs_pwrite_async(c->ctx, w->fh, w->woff + s, len, w->wbuf + s,
						 nfs_call_cb, &calls[n]);
			if (q < 0) {
				calls[n].done = 1;
				calls[n].err = queued = q;
			}
			s += len;
		}
		rc = nfs_finish(c, ptrs, n, queued);
		for (int i = 0; rc == 0 && i < n; i++) {
			size_t want = w->wlen - done < chunk ? w->wlen - done : chunk;
			if (calls[i].err < 0) {
				nfs_note_error(c, "write", calls[i].err, calls[i].msg);
				rc = nfs_call_errno(&calls[i]);
			} else if ((size_t)calls[i].err != want) {
				rc = -EIO; /* libnfs loops short writes itself */
			}
			done += want;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A writer step run on the writer's conn with its handle. */
struct nfs_wop {
	struct nfs_writer *w;
	int (*fn)(struct nfs_conn *c, struct nfs_writer *w);
};

/* Run o->fn with a valid handle; a handle whose NFSv4 state was lost is
 * reopened and the step retried once. */
static int nfs_op_writer(struct nfs_conn *c, void *arg)
{
	struct nfs_wop *o = arg;

	for (int attempt = 0; attempt < 2; attempt++) {
		int rc = nfs_writer_fh(c, o->w);

		if (rc == 0)
			rc = o->fn(c, o->w);
		if (rc != -EBADF)
			return rc;
		o->w->gen = c->gen - 1; /* forces nfs_writer_fh() to reopen */
	}
	return -EIO;
}

static int nfs_writer_run(struct nfs_writer *w, int (*fn)(struct nfs_conn *, struct nfs_writer *))
{
	struct nfs_wop o = {.w = w, .fn = fn};

	return nfs_run_on(w->c, nfs_op_writer, &o);
}

static int nfs_writer_fail(struct nfs_writer *w, int rc)
{
	if (rc < 0 && w->err == 0)
		w->err = rc;
	return rc;
}

static ssize_t nfs_w_pwrite(struct ufs_writer *uw, const void *buf, size_t len, uint64_t off)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;
	int rc;

	w->wbuf = buf;
	w->wlen = len;
	w->woff = off;
	rc = nfs_writer_run(w, nfs_w_do_pwrite);
	ufs_be_count(uw->be, UFS_REQ_PUT, 0, rc == 0 ? len : 0);
	return rc < 0 ? nfs_writer_fail(w, rc) : (ssize_t)len;
}

static int nfs_w_do_ftruncate(struct nfs_conn *c, struct nfs_writer *w)
{
	struct nfs_call call = {.res = NFS_RES_NONE};

	return ufs_nfs_exec(
	    c, &call, nfs_ftruncate_async(c->ctx, w->fh, w->woff, nfs_call_cb, &call), "truncate");
}

static int nfs_w_truncate(struct ufs_writer *uw, uint64_t size)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;

	w->woff = size;
	ufs_be_count(uw->be, UFS_REQ_OTHER, 0, 0);
	return nfs_writer_fail(w, nfs_writer_run(w, nfs_w_do_ftruncate));
}

static int nfs_w_do_fsync(struct nfs_conn *c, struct nfs_writer *w)
{
	struct nfs_call call = {.res = NFS_RES_NONE};

	return ufs_nfs_exec(c, &call, nfs_fsync_async(c->ctx, w->fh, nfs_call_cb, &call), "commit");
}

static int nfs_w_fsync(struct ufs_writer *uw)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;
	int rc;

	ufs_be_count(uw->be, UFS_REQ_OTHER, 0, 0);
	rc = nfs_writer_fail(w, nfs_writer_run(w, nfs_w_do_fsync));
	return rc < 0 ? rc : w->err;
}

static int nfs_op_wclose(struct nfs_conn *c, void *arg)
{
	struct nfs_writer *w = arg;
	struct nfs_call call = {.res = NFS_RES_NONE};
	struct nfsfh *fh = w->fh;

	w->fh = NULL;
	if (!fh)
		return 0;
	if (w->gen != c->gen) { /* opened on a discarded context: just free it */
		nfs_close_async(c->ctx, fh, nfs_noop_cb, NULL);
		return 0;
	}
	return ufs_nfs_exec(c, &call, nfs_close_async(c->ctx, fh, nfs_call_cb, &call), "close");
}

static void nfs_writer_free(struct nfs_writer *w)
{
	free(w->path);
	free(w);
}

static int nfs_w_close(struct ufs_writer *uw)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;
	int rc;

	if (w->err == 0)
		nfs_w_fsync(uw); /* COMMIT, like close(2) on an NFS mount */
	rc = nfs_run_on(w->c, nfs_op_wclose, w);
	if (w->err == 0)
		w->err = rc;
	rc = w->err;
	nfs_writer_free(w);
	return rc;
}

static void nfs_w_abort(struct ufs_writer *uw)
{
	struct nfs_writer *w = (struct nfs_writer *)uw;

	nfs_run_on(w->c, nfs_op_wclose, w);
	nfs_writer_free(w);
}

static const struct ufs_writer_ops nfs_writer_ops = {
    .pwrite = nfs_w_pwrite,
    .truncate = nfs_w_truncate,
    .fsync = nfs_w_fsync,
    .close = nfs_w_close,
    .abort = nfs_w_abort,
};

struct nfs_open_args {
	struct nfs_writer *w;
	int flags;
	int mode;
};

/* Open w->path, creating it when asked. O_CREAT without O_EXCL must not
 * reset an existing file's mode (CREATE3 UNCHECKED would): open it, and
 * create exclusively only when missing. *pcreated tells which happened. */
static int nfs_open_or_create(struct nfs_conn *c, struct nfs_open_args *a, int *pcreated)
{
	struct nfs_writer *w = a->w;
	int acc = a->flags & O_ACCMODE;
	int rc = -ENOENT;

	*pcreated = 0;
	for (int tries = 0; tries < 3; tries++) {
		if (!(a->flags & O_EXCL))
			rc = nfs_open_fh(c, w->path, acc, 0, &w->fh);
		if (rc != -ENOENT || !(a->flags & O_CREAT))
			return rc;
		rc = nfs_open_fh(c, w->path, O_CREAT | O_EXCL | acc, a->mode, &w->fh);
		*pcreated = rc == 0;
		if (rc != -EEXIST || (a->flags & O_EXCL))
			return rc;
	}
	return rc;
}

/* O_TRUNC is applied with a SETATTR after the open (libnfs 4.0's NFSv4
 * open with O_TRUNC fails with ERANGE). */
static int nfs_op_open_writer(struct nfs_conn *c, void *arg)
{
	struct nfs_open_args *a = arg;
	int created, rc;

	a->w->gen = c->gen;
	rc = nfs_open_or_create(c, a, &created);
	if (rc < 0 || created || !(a->flags & O_TRUNC))
		return rc;
	a->w->woff = 0;
	return nfs_w_do_ftruncate(c, a->w);
}

static int nfsbe_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
			     struct ufs_writer **pw)
{
	struct nfs_be *nb = ufs_nfs_be_of(be);
	struct nfs_writer *w = calloc(1, sizeof(*w));
	int acc = (flags & O_ACCMODE) == O_RDWR ? O_RDWR : O_WRONLY;
	struct nfs_open_args a = {.w = w, .flags = (flags & ~O_ACCMODE) | acc, .mode = (int)mode};
	int rc = -ENOMEM;

	if (w)
		w->path = ufs_nfs_abspath(path, &rc);
	if (w)
		w->c = nfs_conn_get(nb);
	if (!w || !w->path || !w->c) {
		if (w)
			nfs_writer_free(w);
		return rc;
	}
	w->base.ops = &nfs_writer_ops;
	w->base.be = be;
	w->oflags = acc | (flags & O_APPEND);
	rc = nfs_run_on(w->c, nfs_op_open_writer, &a);
	if (rc < 0) {
		nfs_writer_free(w);
		return rc;
	}
	*pw = &w->base;
	return 0;
}

/* ---- namespace operations ---------------------------------------------------- */

enum nfs_simple_kind {
	NFS_UNLINK,
	NFS_MKDIR,
	NFS_RMDIR,
	NFS_RENAME,
	NFS_SYMLINK,
	NFS_LINK,
	NFS_CHMOD,
	NFS_CHOWN,
	NFS_TRUNCATE,
	NFS_UTIMES,
};

/* One path-based call: p1 (and p2) absolute paths, or a symlink target. */
struct nfs_simple {
	enum nfs_simple_kind kind;
	const char *p1, *p2;
	int mode, uid, gid;
	uint64_t size;
	struct timeval tv[2];
};

static int nfs_simple_start(struct nfs_context *ctx, struct nfs_simple *a, struct nfs_call *k)
{
	switch (a->kind) {
	case NFS_UNLINK:
		return nfs_unlink_async(ctx, a->p1, nfs_call_cb, k);
	case NFS_MKDIR:
		return nfs_mkdir2_async(ctx, a->p1, a->mode, nfs_call_cb, k);
	case NFS_RMDIR:
		return nfs_rmdir_async(ctx, a->p1, nfs_call_cb, k);
	case NFS_RENAME:
		return nfs_rename_async(ctx, a->p1, a->p2, nfs_call_cb, k);
	case NFS_SYMLINK:
		return nfs_symlink_async(ctx, a->p1, a->p2, nfs_call_cb, k);
	case NFS_LINK:
		return nfs_link_async(ctx, a->p1, a->p2, nfs_call_cb, k);
	case NFS_CHMOD:
		return nfs_lchmod_async(ctx, a->p1, a->mode, nfs_call_cb, k);
	case NFS_CHOWN:
		return nfs_lchown_async(ctx, a->p1, a->uid, a->gid, nfs_call_cb, k);
	case NFS_TRUNCATE:
		return nfs_truncate_async(ctx, a->p1, a->size, nfs_call_cb, k);
	case NFS_UTIMES:
		return nfs_lutimes_async(ctx, a->p1, a->tv, nfs_call_cb, k);
	}
	return -EINVAL;
}

static int nfs_op_simple(struct nfs_conn *c, void *arg)
{
	static const char *const what[] = {"unlink", "mkdir", "rmdir", "rename",   "symlink",
					   "link",   "chmod", "chown", "truncate", "utimes"};
	struct nfs_simple *a = arg;
	struct nfs_call call = {.res = NFS_RES_NONE};
	int rc = ufs_nfs_exec(c, &call, nfs_simple_start(c->ctx, a, &call), what[a->kind]);

	if (rc == 0 && (a->kind == NFS_UNLINK || a->kind == NFS_RENAME))
		nfs_fhc_drop(c, a->p1);
	if (rc == 0 && a->kind == NFS_RENAME)
		nfs_fhc_drop(c, a->p2);
	return rc;
}

/* Run one simple call on backend-relative path(s) (p2 may be NULL; with
 * raw_p1 the first is passed as is, e.g. a symlink target). */
static int nfs_simple_run(struct ufs_backend *be, struct nfs_simple *a, const char *p1,
			  const char *p2, int raw_p1)
{
	char *abs1 = NULL, *abs2 = NULL;
	int rc = 0;

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	if (!raw_p1 && !(abs1 = ufs_nfs_abspath(p1, &rc)))
		return rc;
	if (p2 && !(abs2 = ufs_nfs_abspath(p2, &rc))) {
		free(abs1);
		return rc;
	}
	a->p1 = raw_p1 ? p1 : abs1;
	a->p2 = abs2;
	rc = ufs_nfs_run(ufs_nfs_be_of(be), nfs_op_simple, a);
	free(abs1);
	free(abs2);
	return rc;
}

static int nfsbe_unlink(struct ufs_backend *be, const char *path)
{
	struct nfs_simple a = {.kind = NFS_UNLINK};
	int rc = ufs_nfs3_unlink(ufs_nfs_be_of(be), path);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, path, NULL, 0);
}

static int nfsbe_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	struct nfs_simple a = {.kind = NFS_MKDIR, .mode = (int)(mode & 07777)};
	int rc = ufs_nfs3_mkdir(ufs_nfs_be_of(be), path, mode);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, path, NULL, 0);
}

static int nfsbe_rmdir(struct ufs_backend *be, const char *path)
{
	struct nfs_simple a = {.kind = NFS_RMDIR};
	int rc = ufs_nfs3_rmdir(ufs_nfs_be_of(be), path);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, path, NULL, 0);
}

static int nfsbe_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	struct nfs_simple a = {.kind = NFS_RENAME};
	struct ufs_attr attr;
	int rc;

	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL; /* NFS has no atomic exchange */
	if (flags & RENAME_NOREPLACE) {
		/* NFSv3/4.0 have no no-replace rename: check, then rename (racy) */
		rc = nfsbe_getattr(be, to, &attr);
		if (rc == 0)
			return -EEXIST;
		if (rc != -ENOENT)
			return rc;
	}
	rc = ufs_nfs3_rename(ufs_nfs_be_of(be), from, to);
	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	return nfs_simple_run(be, &a, from, to, 0);
}

static int nfsbe_symlink(struct ufs_backend *be, const char *target, const char *path)
{
	struct nfs_simple a = {.kind = NFS_SYMLINK};
	int rc = ufs_nfs3_symlink(ufs_nfs_be_of(be), target, path);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, target, path, 1);
}

static int nfsbe_link(struct ufs_backend *be, const char *from, const char *to)
{
	struct nfs_simple a = {.kind = NFS_LINK};
	int rc = ufs_nfs3_link(ufs_nfs_be_of(be), from, to);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, from, to, 0);
}

struct nfs_readlink_args {
	const char *path;
	char *buf;
	size_t size;
};

static int nfs_op_readlink(struct nfs_conn *c, void *arg)
{
	struct nfs_readlink_args *a = arg;
	struct nfs_call call = {.res = NFS_RES_STR, .out = a->buf, .cap = a->size};

	return ufs_nfs_exec(c, &call, nfs_readlink_async(c->ctx, a->path, nfs_call_cb, &call),
			    "readlink");
}

static int nfsbe_readlink(struct ufs_backend *be, const char *path, char *buf, size_t size)
{
	struct nfs_readlink_args a = {.buf = buf, .size = size};
	int rc = ufs_nfs3_readlink(ufs_nfs_be_of(be), path, buf, size);
	char *abs;

	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	abs = ufs_nfs_abspath(path, &rc);
	if (!abs)
		return rc;
	if (size == 0) {
		free(abs);
		return -EINVAL;
	}
	buf[0] = '\0';
	a.path = abs;
	ufs_be_count(be, UFS_REQ_HEAD, 0, 0);
	rc = ufs_nfs_run(ufs_nfs_be_of(be), nfs_op_readlink, &a);
	free(abs);
	return rc < 0 ? rc : (int)strlen(buf);
}

/* timeval of a requested time: now, the given one, or the current one. */
static void nfs_tv(struct timeval *tv, unsigned to_set, unsigned given, unsigned now,
		   const struct timespec *ts, uint64_t cur_s, uint64_t cur_ns)
{
	if (to_set & now) {
		gettimeofday(tv, NULL);
	} else if (to_set & given) {
		tv->tv_sec = ts->tv_sec;
		tv->tv_usec = ts->tv_nsec / 1000;
	} else {
		tv->tv_sec = (time_t)cur_s;
		tv->tv_usec = (suseconds_t)(cur_ns / 1000);
	}
}

/* Fill the chown/utimes arguments, taking the fields not being set from
 * the current attributes. */
static int nfs_setattr_prepare(struct ufs_backend *be, const char *path,
			       const struct ufs_attr *attr, unsigned to_set, struct nfs_simple *a)
{
	const unsigned times =
	    UFS_SET_ATIME | UFS_SET_MTIME | UFS_SET_ATIME_NOW | UFS_SET_MTIME_NOW;
	struct nfs_stat_64 st = {0};
	int rc;
	char *abs = ufs_nfs_abspath(path, &rc);

	if (!abs)
		return rc;
	rc = nfs_lstat(ufs_nfs_be_of(be), abs, &st);
	free(abs);
	if (rc < 0)
		return rc;
	a->uid = (to_set & UFS_SET_UID) ? (int)attr->uid : (int)st.nfs_uid;
	a->gid = (to_set & UFS_SET_GID) ? (int)attr->gid : (int)st.nfs_gid;
	if (to_set & times) {
		nfs_tv(&a->tv[0], to_set, UFS_SET_ATIME, UFS_SET_ATIME_NOW, &attr->atime,
		       st.nfs_atime, st.nfs_atime_nsec);
		nfs_tv(&a->tv[1], to_set, UFS_SET_MTIME, UFS_SET_MTIME_NOW, &attr->mtime,
		       st.nfs_mtime, st.nfs_mtime_nsec);
	}
	return 0;
}

/* Apply the to_set fields in the order chown, chmod, size, times. */
static int nfsbe_setattr(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
			 unsigned to_set)
{
	const unsigned times =
	    UFS_SET_ATIME | UFS_SET_MTIME | UFS_SET_ATIME_NOW | UFS_SET_MTIME_NOW;
	struct nfs_simple a = {.kind = NFS_CHOWN};
	int rc = ufs_nfs3_setattr(ufs_nfs_be_of(be), path, attr, to_set);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	rc = 0;
	if (to_set & (UFS_SET_UID | UFS_SET_GID | times))
		rc = nfs_setattr_prepare(be, path, attr, to_set, &a);
	if (rc == 0 && (to_set & (UFS_SET_UID | UFS_SET_GID)))
		rc = nfs_simple_run(be, &a, path, NULL, 0);
	a.kind = NFS_CHMOD;
	a.mode = (int)(attr->mode & 07777);
	if (rc == 0 && (to_set & UFS_SET_MODE))
		rc = nfs_simple_run(be, &a, path, NULL, 0);
	a.kind = NFS_TRUNCATE;
	a.size = attr->size;
	if (rc == 0 && (to_set & UFS_SET_SIZE))
		rc = nfs_simple_run(be, &a, path, NULL, 0);
	a.kind = NFS_UTIMES;
	if (rc == 0 && (to_set & times))
		rc = nfs_simple_run(be, &a, path, NULL, 0);
	return rc;
}

static int nfs_op_statvfs(struct nfs_conn *c, void *arg)
{
	struct nfs_call call = {
	    .res = NFS_RES_COPY, .out = arg, .cap = sizeof(struct nfs_statvfs_64)};

	return ufs_nfs_exec(c, &call, nfs_statvfs64_async(c->ctx, "/", nfs_call_cb, &call),
			    "statfs");
}

static int nfsbe_statfs(struct ufs_backend *be, struct statvfs *pst)
{
	struct nfs_statvfs_64 sv;
	int rc = ufs_nfs3_statfs(ufs_nfs_be_of(be), pst);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	rc = ufs_nfs_run(ufs_nfs_be_of(be), nfs_op_statvfs, &sv);
	if (rc < 0)
		return rc;
	memset(pst, 0, sizeof(*pst));
	pst->f_bsize = sv.f_bsize;
	pst->f_frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
	pst->f_blocks = sv.f_blocks;
	pst->f_bfree = sv.f_bfree;
	pst->f_bavail = sv.f_bavail;
	pst->f_files = sv.f_files;
	pst->f_ffree = sv.f_ffree;
	pst->f_favail = sv.f_favail;
	pst->f_fsid = sv.f_fsid;
	pst->f_flag = sv.f_flag;
	pst->f_namemax = sv.f_namemax ? sv.f_namemax : 255;
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------------- */

static void nfsbe_destroy(struct ufs_backend *be)
{
	struct nfs_be *nb = ufs_nfs_be_of(be);
	struct nfs_conn *c = nb->conns, *next;

	pthread_key_delete(nb->key);
	for (; c; c = next) {
		next = c->next;
		nfs_conn_free(c);
	}
	pthread_mutex_destroy(&nb->pool_lock);
	ufs_nfs3_fini(nb);
	ufs_nfs_url_free(&nb->url);
	ufs_be_fini(&nb->base);
	free(nb);
}

static int nfsbe_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
			struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct nfs_be *nb = calloc(1, sizeof(*nb));
	double t = g && g->op_timeout > 0 ? g->op_timeout : 20;
	char why[256];
	int rc;

	if (!nb) {
		snprintf(err, errlen, "mount %s: out of memory", m->prefix);
		return -ENOMEM;
	}
	rc = ufs_nfs_url_parse(m->url, &nb->url, why, sizeof(why));
	if (rc == 0 && pthread_key_create(&nb->key, nfs_conn_unbind) != 0)
		rc = -EAGAIN;
	if (rc < 0) {
		snprintf(err, errlen, "mount %s: %s", m->prefix,
			 rc == -EAGAIN ? "no thread key" : why);
		ufs_nfs_url_free(&nb->url);
		free(nb);
		return rc;
	}
	ufs_be_init(&nb->base, &ufs_nfs_ops, m, g);
	pthread_mutex_init(&nb->pool_lock, NULL);
	ufs_nfs3_init(nb, g);
	/* libnfs takes whole seconds; our own deadline uses the exact value */
	nb->timeout_ms = (int)(t * 1000);
	*pbe = &nb->base;
	return 0;
}

static int nfsbe_check(struct ufs_backend *be, char *err, size_t errlen)
{
	struct nfs_stat_64 st;
	char last[256];
	int rc = nfs_lstat(ufs_nfs_be_of(be), "/", &st);

	if (rc == 0 && (st.nfs_mode & S_IFMT) != S_IFDIR)
		rc = -ENOTDIR;
	if (rc == 0)
		return 0;
	ufs_be_last_error(be, last, sizeof(last));
	if (rc == -ENOENT || rc == -EACCES || rc == -EPERM)
		snprintf(err, errlen, "mount %s: %s: export not found (%s)", be->name,
			 be->mcfg->url, last);
	else if (ufs_errno_is_unreachable(rc))
		snprintf(err, errlen, "mount %s: %s: server unreachable (%s)", be->name,
			 be->mcfg->url, strerror(-rc));
	else
		snprintf(err, errlen, "mount %s: %s: %s (%s)", be->name, be->mcfg->url,
			 strerror(-rc), last);
	return rc;
}

const struct ufs_backend_ops ufs_nfs_ops = {
    .scheme = "nfs",
    .caps = UFS_CAP_POSIX_WRITE | UFS_CAP_HARDLINK | UFS_CAP_SYMLINK | UFS_CAP_CHMOD,
    .create = nfsbe_create,
    .check = nfsbe_check,
    .getattr = nfsbe_getattr,
    .list = nfsbe_list,
    .read = nfsbe_read,
    .open_writer = nfsbe_open_writer,
    .unlink = nfsbe_unlink,
    .mkdir = nfsbe_mkdir,
    .rmdir = nfsbe_rmdir,
    .rename = nfsbe_rename,
    .symlink = nfsbe_symlink,
    .readlink = nfsbe_readlink,
    .link = nfsbe_link,
    .setattr = nfsbe_setattr,
    .statfs = nfsbe_statfs,
    .destroy = nfsbe_destroy,
};
