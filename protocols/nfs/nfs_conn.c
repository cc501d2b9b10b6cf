/*
 * nfs_conn.c — NFS connections and the bounded-wait executor: one libnfs
 * context per calling thread (pooled; shared by threads beyond the mount's
 * nfs_connections), async calls driven by our own poll
 * loop within op_timeout, reconnect-and-retry-once, and the per-conn LRU of
 * open read handles. Knows nothing of the backend's operations.
 * Design and lock order: protocols/nfs/nfs.c.
 */
#include "protocols/nfs/nfs_i.h"

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

#include <nfsc/libnfs-zdr.h>
#include <nfsc/libnfs.h>

double ufs_nfs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- async calls and the bounded wait ----------------------------------- */

void ufs_nfs_call_cb(int err, struct nfs_context *ctx, void *data, void *priv)
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

void ufs_nfs_noop_cb(int err, struct nfs_context *ctx, void *data, void *priv)
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
	c->as_caller = 0;
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
void ufs_nfs_note_error(struct nfs_conn *c, const char *what, int err, const char *msg)
{
	ufs_be_set_error(&c->nb->base, "nfs %s: %s (%s)", what, msg[0] ? msg : "error",
			 strerror(-err));
}

/* The errno a failed call stands for. libnfs 4.0 reports NFSv4 state
 * errors (OLD/BAD_STATEID: another OPEN of the same file by this client
 * moved the open stateid on) as -ERANGE; here they mean "reopen the
 * handle", -EBADF, which the callers do once. */
int ufs_nfs_call_errno(const struct nfs_call *k)
{
	if (k->err < 0 && (strstr(k->msg, "NFS4ERR_EXPIRED") || strstr(k->msg, "STALE_CLIENTID")))
		return -ECONNRESET; /* the lease ran out: a fresh client (run_on) */
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
int ufs_nfs_finish(struct nfs_conn *c, struct nfs_call *const *calls, int n, int queued)
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

static int nfs_conn_connect(struct nfs_conn *c);
static void nfs_conn_auth(struct nfs_conn *c);

/* NFSv4.0 errors after which the server does not advance an open-owner's
 * sequence (RFC 7530, 9.1.7); every other error of OPEN or CLOSE does. */
static int nfs_v4_seqid_kept(const char *msg)
{
	static const char *const kept[] = {"STALE_CLIENTID", "STALE_STATEID", "BAD_STATEID",
					   "BAD_SEQID",	     "BADXDR",	      "RESOURCE",
					   "NOFILEHANDLE",   "MOVED"};

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strstr(msg, kept[i]))
			return 1;
	return 0;
}

/* 1 when a failed call of kind what has left libnfs 4.0's NFSv4.0
 * open-owner sequence behind the server's: the server counts a failed OPEN
 * or CLOSE, libnfs does not, so its next OPEN would reuse the failed one's
 * seqid and get that reply replayed (an exclusive create answered
 * NFS4ERR_NOENT) or BAD_SEQID once the owner holds other opens. */
static int nfs_v4_seqid_lost(const struct nfs_conn *c, const struct nfs_call *call,
			     const char *what)
{
	if (c->nb->url.version != 4 || call->err >= 0 || !strstr(call->msg, "NFS4"))
		return 0;
	if (strcmp(what, "open") != 0 && strcmp(what, "create") != 0 && strcmp(what, "close") != 0)
		return 0;
	return !nfs_v4_seqid_kept(call->msg);
}

/* Wait for one call started with status queued; its result or -errno. */
int ufs_nfs_exec(struct nfs_conn *c, struct nfs_call *call, int queued, const char *what)
{
	struct nfs_call *calls[1] = {call};
	int rc;

	if (queued < 0)
		call->done = 1;
	rc = ufs_nfs_finish(c, calls, 1, queued);
	if (rc < 0)
		return rc;
	if (call->err < 0)
		ufs_nfs_note_error(c, what, call->err, call->msg);
	if (call->err < 0 &&
	    (strstr(call->msg, "NFS4ERR_BAD_SEQID") || ufs_nfs_call_errno(call) == -ECONNRESET)) {
		/* libnfs 4.0 lost track of its NFSv4.0 open-owner sequence, or
		 * the client's lease expired (libnfs 4.0 never renews it): a fresh
		 * context starts a new client and owner; run_on retries. */
		nfs_conn_discard(c);
		return -ECONNRESET;
	}
	if (nfs_v4_seqid_lost(c, call, what)) { /* go on as a new owner */
		nfs_conn_discard(c);
		if (nfs_conn_connect(c) < 0)
			return -ECONNRESET;
		nfs_conn_auth(c);
	}
	return ufs_nfs_call_errno(call);
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
		rc = ufs_nfs_finish(
		    c, (struct nfs_call *[]){&call}, 1,
		    nfs_mount_async(c->ctx, nb->url.server, nb->url.path, ufs_nfs_call_cb, &call));
	if (rc == 0 && call.err == 0)
		return 0;
	rc = nfs_mount_errno(rc, &call);
	ufs_nfs_note_error(c, "mount", rc, call.msg);
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

void ufs_nfs_conn_free(struct nfs_conn *c)
{
	nfs_conn_discard(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* pthread key destructor: the exiting thread lets go of its conn (back to
 * the pool for the next new thread once no thread is bound to it). */
void ufs_nfs_conn_unbind(void *v)
{
	struct nfs_conn *c = v;

	pthread_mutex_lock(&c->nb->pool_lock);
	c->bound--;
	pthread_mutex_unlock(&c->nb->pool_lock);
}

/* The conn a new thread binds to: a free one, else a new one while the
 * pool is below max_conns (0: no bound), else the least shared one (then
 * its calls queue on the conn's lock). NULL on ENOMEM. pool_lock held. */
static struct nfs_conn *nfs_conn_pick_locked(struct nfs_be *nb)
{
	struct nfs_conn *c, *least = NULL;

	for (c = nb->conns; c; c = c->next)
		if (!least || c->bound < least->bound)
			least = c;
	if (least && (least->bound == 0 || (nb->max_conns && nb->nconns >= nb->max_conns)))
		return least;
	c = nfs_conn_new(nb);
	if (!c)
		return least;
	c->next = nb->conns;
	nb->conns = c;
	nb->nconns++;
	return c;
}

/* The calling thread's conn (bound on first use), or NULL on ENOMEM. */
struct nfs_conn *ufs_nfs_conn_get(struct nfs_be *nb)
{
	struct nfs_conn *c = pthread_getspecific(nb->key);

	if (c)
		return c;
	pthread_mutex_lock(&nb->pool_lock);
	c = nfs_conn_pick_locked(nb);
	if (c)
		c->bound++;
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

/* Max supplementary groups in an AUTH_SYS credential (RFC 5531). */
#define NFS_AUTH_GROUPS 16

static int nfs_cred_same(const struct ufs_cred *a, const struct ufs_cred *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, (size_t)a->ngroups * sizeof(a->groups[0])) == 0;
}

/* Make c's context send the calling thread's caller (common/ucred.h) as its
 * AUTH_SYS credentials, or the daemon's own when there is none or the URL
 * pins uid/gid: the server then decides as for the caller (root_squash
 * included). Set only when it changes (c->lock held, connected). */
static void nfs_conn_auth(struct nfs_conn *c)
{
	const struct ufs_cred *cr = c->nb->pinned_ids ? NULL : ufs_cred_current();
	struct AUTH *a;

	if (!cr && !c->as_caller)
		return;
	if (cr && c->as_caller && nfs_cred_same(cr, &c->auth))
		return;
	if (cr) {
		c->auth = *cr;
		if (c->auth.ngroups > NFS_AUTH_GROUPS)
			c->auth.ngroups = NFS_AUTH_GROUPS;
		a = libnfs_authunix_create("unifs", cr->uid, cr->gid, (uint32_t)c->auth.ngroups,
					   c->auth.groups);
	} else {
		a = libnfs_authunix_create("unifs", (uint32_t)getuid(), (uint32_t)getgid(), 0,
					   NULL);
	}
	if (!a)
		return;
	nfs_set_auth(c->ctx, a);
	c->as_caller = cr != NULL;
}

/* Run op on conn c within one op_timeout, connecting first if needed; a
 * connection lost during op is re-established and op retried once. */
int ufs_nfs_run_on(struct nfs_conn *c, nfs_op_fn op, void *arg)
{
	sigset_t old;
	int rc;

	nfs_sigpipe_block(&old);
	pthread_mutex_lock(&c->lock);
	c->deadline = ufs_nfs_now() + c->nb->timeout_ms / 1000.0;
	for (int attempt = 0;; attempt++) {
		rc = c->ctx ? 0 : nfs_conn_connect(c);
		if (rc == 0) {
			nfs_conn_auth(c);
			rc = op(c, arg);
		}
		if (rc != -ECONNRESET)
			break;
		nfs_conn_discard(c); /* lost connection, or (NFSv4) lost client state */
		if (attempt == 1)    /* reset again: backend.c counts resets in a row */
			break;
	}
	pthread_mutex_unlock(&c->lock);
	nfs_sigpipe_restore(&old);
	return rc;
}

/* Run op on the calling thread's connection. */
int ufs_nfs_run(struct nfs_be *nb, nfs_op_fn op, void *arg)
{
	struct nfs_conn *c = ufs_nfs_conn_get(nb);

	return c ? ufs_nfs_run_on(c, op, arg) : -ENOMEM;
}

/* ---- read handle cache (per conn, c->lock held) -------------------------- */

/* Close e's handle (stale: its NFSv4 stateid went stale, so free it
 * without a CLOSE, see nfs_free_nfsfh in nfs_i.h) and empty e. */
static void nfs_fhc_end(struct nfs_conn *c, struct nfs_fhc_ent *e, int stale)
{
	if (stale)
		nfs_free_nfsfh(e->fh);
	else if (nfs_close_async(c->ctx, e->fh, ufs_nfs_noop_cb, NULL) < 0)
		ufs_be_set_error(&c->nb->base, "nfs close: %s", nfs_get_error(c->ctx));
	free(e->path);
	e->path = NULL;
	e->fh = NULL;
}

static void nfs_fhc_clear(struct nfs_conn *c)
{
	for (int i = 0; i < NFS_FHC_SLOTS && c->fhc[i].path; i++)
		nfs_fhc_end(c, &c->fhc[i], 0);
}

static void nfs_fhc_remove(struct nfs_conn *c, int i, int stale)
{
	nfs_fhc_end(c, &c->fhc[i], stale);
	memmove(&c->fhc[i], &c->fhc[i + 1], (NFS_FHC_SLOTS - 1 - (size_t)i) * sizeof(c->fhc[0]));
	c->fhc[NFS_FHC_SLOTS - 1].path = NULL;
	c->fhc[NFS_FHC_SLOTS - 1].fh = NULL;
}

void ufs_nfs_fhc_drop(struct nfs_conn *c, const char *path, int stale)
{
	for (int i = 0; i < NFS_FHC_SLOTS && c->fhc[i].path; i++) {
		if (strcmp(c->fhc[i].path, path) == 0) {
			nfs_fhc_remove(c, i, stale);
			return;
		}
	}
}

void ufs_nfs_conn_forget(struct nfs_conn *c, const char *path)
{
	int rc;
	char *abs = ufs_nfs_abspath(path, &rc);

	if (abs)
		ufs_nfs_fhc_drop(c, abs, 0);
	free(abs);
}

/* Cached handle of path moved to the front, or NULL. */
struct nfsfh *ufs_nfs_fhc_find(struct nfs_conn *c, const char *path)
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

int ufs_nfs_fhc_insert(struct nfs_conn *c, const char *path, struct nfsfh *fh)
{
	char *dup = strdup(path);

	if (!dup) {
		struct nfs_fhc_ent e = {.path = NULL, .fh = fh};
		nfs_fhc_end(c, &e, 0);
		return -ENOMEM;
	}
	if (c->fhc[NFS_FHC_SLOTS - 1].path)
		nfs_fhc_end(c, &c->fhc[NFS_FHC_SLOTS - 1], 0);
	memmove(&c->fhc[1], &c->fhc[0], (NFS_FHC_SLOTS - 1) * sizeof(c->fhc[0]));
	c->fhc[0].path = dup;
	c->fhc[0].fh = fh;
	return 0;
}

/* Open path with flags (and mode when creating) on c; *pfh or -errno. */
int ufs_nfs_open_fh(struct nfs_conn *c, const char *path, int flags, int mode, struct nfsfh **pfh)
{
	struct nfs_call call = {.res = NFS_RES_PTR, .out = pfh};

	*pfh = NULL;
	ufs_be_count(&c->nb->base, UFS_REQ_OTHER, 0, 0);
	if (flags & O_CREAT)
		return ufs_nfs_exec(
		    c, &call,
		    nfs_create_async(c->ctx, path, flags & ~O_CREAT, mode, ufs_nfs_call_cb, &call),
		    "create");
	return ufs_nfs_exec(c, &call, nfs_open_async(c->ctx, path, flags, ufs_nfs_call_cb, &call),
			    "open");
}
