/*
 * backend.c — the common backend head, and the guarded ufs_be_*() calls
 * every layer above protocols/ uses. The backends call its helpers; the
 * scheme registry that knows the backends is registry.c, so no backend and
 * this file call each other.
 *
 * Health (namespace isolation): a call that fails with an "unreachable"
 * errno (ufs_errno_is_unreachable) marks the backend down and logs it once.
 * While down, calls fail at once with -EHOSTDOWN until retry_at; the first
 * call after that goes to the server again (one probe at a time is not
 * enforced: a few concurrent callers may probe together, which is harmless).
 * A success marks it up again and logs the recovery. So a dead server costs
 * one op_timeout, then fast errors, and the subtree heals by itself.
 *
 * A connection reset (-ECONNRESET: a proxy or the server dropped one
 * connection, possibly mid-body) is not "unreachable": the protocols retry
 * it on a fresh connection inside the call (http.c, nfs_conn.c), and a call
 * that still ends in a reset is reported as -EIO to its caller without
 * touching the health state, so other callers go on. Only BE_RESETS_DOWN
 * calls in a row ending in a reset, with no answer between them, mark the
 * backend down (a server that accepts connections and drops every one).
 *
 * Bandwidth (bwlimit.c): a read's bytes are charged to the backend's
 * bucket once they came back (the caller sleeps there, outside the timed
 * call), and writers are wrapped so each pwrite is charged before it goes.
 *
 * Lock order: be->lock is a leaf lock, never held across a backend call.
 */
#include "protocols/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/ratelimit.h"
#include "protocols/bwlimit.h"

#define BE_RESETS_DOWN 3 /* calls in a row ending in a reset that mark the backend down */

void ufs_be_init(struct ufs_backend *be, const struct ufs_backend_ops *ops,
		 const struct ufs_mount_cfg *m, const struct ufs_config *g)
{
	be->ops = ops;
	be->mcfg = m;
	be->gcfg = g;
	be->name = strdup(m->prefix ? m->prefix : "/");
	be->readonly = m->readonly || (g && g->readonly);
	pthread_mutex_init(&be->lock, NULL);
	ufs_be_bwlimit_init(be);
}

void ufs_be_fini(struct ufs_backend *be)
{
	ufs_be_bwlimit_fini(be);
	pthread_mutex_destroy(&be->lock);
	free(be->name);
	be->name = NULL;
}

int ufs_be_desc_host(struct ufs_be_desc *out, const char *url, const char *def_port)
{
	const char *h = strstr(url, "://"), *end;
	const char *colon;

	if (!h)
		return -EINVAL;
	h += 3;
	end = h + strcspn(h, "/?#");
	colon = memchr(h, ':', (size_t)(end - h));
	snprintf(out->host, sizeof(out->host), "%.*s", (int)((colon ? colon : end) - h), h);
	if (colon)
		snprintf(out->port, sizeof(out->port), "%.*s", (int)(end - colon - 1), colon + 1);
	else
		snprintf(out->port, sizeof(out->port), "%s", def_port);
	return out->host[0] ? 0 : -EINVAL;
}

void ufs_backend_destroy(struct ufs_backend *be)
{
	if (be)
		be->ops->destroy(be);
}

void ufs_be_set_error(struct ufs_backend *be, const char *fmt, ...)
{
	char msg[sizeof(be->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&be->lock);
	memcpy(be->last_error, msg, sizeof(msg));
	pthread_mutex_unlock(&be->lock);
}

void ufs_be_last_error(struct ufs_backend *be, char *buf, size_t size)
{
	pthread_mutex_lock(&be->lock);
	snprintf(buf, size, "%s", be->last_error);
	pthread_mutex_unlock(&be->lock);
}

const char *ufs_req_kind_name(enum ufs_req_kind k)
{
	static const char *const names[UFS_REQ__COUNT] = {"GET",  "HEAD",   "LIST", "PUT",
							  "POST", "DELETE", "COPY", "OTHER"};

	return k < UFS_REQ__COUNT ? names[k] : "OTHER";
}

const char *ufs_be_op_name(enum ufs_be_op o)
{
	static const char *const names[UFS_BE_OP__COUNT] = {
	    "check", "getattr", "list",	     "read",	"open_writer", "unlink",
	    "mkdir", "rmdir",	"rename",    "symlink", "readlink",    "link",
	    "mknod", "xattr",	"fallocate", "setattr", "statfs"};

	return o < UFS_BE_OP__COUNT ? names[o] : "other";
}

void ufs_be_count(struct ufs_backend *be, enum ufs_req_kind k, uint64_t bytes_in,
		  uint64_t bytes_out)
{
	ufs_be_count_code(be, k, 0, bytes_in, bytes_out);
}

void ufs_be_count_code(struct ufs_backend *be, enum ufs_req_kind k, long code, uint64_t bytes_in,
		       uint64_t bytes_out)
{
	size_t slot = code == 0 ? 0 : code >= 100 && code <= 599 ? (size_t)code : UFS_BE_CODE_OTHER;

	atomic_fetch_add_explicit(&be->stats.by_code[k][slot], 1, memory_order_relaxed);
	atomic_fetch_add(&be->stats.req[k], 1);
	if (bytes_in)
		atomic_fetch_add(&be->stats.bytes_in, bytes_in);
	if (bytes_out)
		atomic_fetch_add(&be->stats.bytes_out, bytes_out);
}

void ufs_be_count_error(struct ufs_backend *be)
{
	atomic_fetch_add(&be->stats.errors, 1);
}

void ufs_be_count_retry(struct ufs_backend *be)
{
	atomic_fetch_add(&be->stats.retries, 1);
}

int ufs_errno_is_unreachable(int err)
{
	if (err < 0)
		err = -err;
	return err == ETIMEDOUT || err == ECONNREFUSED || err == EHOSTDOWN || err == EHOSTUNREACH ||
	       err == ENETUNREACH;
}

/* Fail fast while the backend is down and its retry time has not come. */
static int health_gate(struct ufs_backend *be)
{
	int rc = 0;

	pthread_mutex_lock(&be->lock);
	if (be->down && ufs_mono_now() < be->retry_at)
		rc = -EHOSTDOWN;
	pthread_mutex_unlock(&be->lock);
	return rc;
}

/* Account a wrapper call of op that began at t0 (ufs_mono_now()). */
static void op_note(struct ufs_backend *be, enum ufs_be_op op, double t0, long rc)
{
	ufs_hist_observe(&be->stats.op_seconds[op], ufs_mono_now() - t0);
	if (rc < 0)
		atomic_fetch_add_explicit(&be->stats.op_errors[op], 1, memory_order_relaxed);
}

/* Update the health state for a call that ended with rc: 1 when it marks
 * the backend down, -1 when it leaves the state as it is (a reset short of
 * BE_RESETS_DOWN in a row), 0 when the server answered. Lock held. */
static int health_update_locked(struct ufs_backend *be, int rc)
{
	int reset = rc == -ECONNRESET;

	if (reset && ++be->resets < BE_RESETS_DOWN)
		return -1;
	if (reset || (rc < 0 && ufs_errno_is_unreachable(rc))) {
		be->down = 1;
		be->down_errno = -rc;
		be->retry_at = ufs_mono_now() + (be->gcfg ? be->gcfg->retry_down : 2.0);
		return 1;
	}
	be->down = 0; /* the server answered, even if with an error */
	be->resets = 0;
	return 0;
}

/* Record the outcome of a real call of op begun at t0; returns rc, a reset
 * turned into -EIO (see the top). */
static int health_note(struct ufs_backend *be, enum ufs_be_op op, double t0, int rc)
{
	int was_down, now_down;

	op_note(be, op, t0, rc);
	pthread_mutex_lock(&be->lock);
	was_down = be->down;
	now_down = health_update_locked(be, rc);
	pthread_mutex_unlock(&be->lock);
	if (!was_down && now_down == 1)
		ufs_warn("mount %s: %s: server unreachable (%s%s); its subtree reports errors "
			 "until it answers",
			 be->name, be->mcfg ? be->mcfg->url : "?", strerror(-rc),
			 rc == -ECONNRESET ? ", every connection reset" : "");
	else if (was_down && rc >= 0)
		ufs_info("mount %s: server answers again", be->name);
	return rc == -ECONNRESET ? -EIO : rc;
}

static int write_gate(struct ufs_backend *be, const void *slot)
{
	if (be->readonly)
		return -EROFS;
	if (!slot)
		return -ENOTSUP;
	return health_gate(be);
}

#define GUARD_READ(be, slot)                                                                       \
	do {                                                                                       \
		int g_;                                                                            \
		if (!(be)->ops->slot)                                                              \
			return -ENOTSUP;                                                           \
		g_ = health_gate(be);                                                              \
		if (g_)                                                                            \
			return g_;                                                                 \
	} while (0)

#define GUARD_WRITE(be, slot)                                                                      \
	do {                                                                                       \
		int g_ = write_gate((be), (const void *)(be)->ops->slot);                          \
		if (g_)                                                                            \
			return g_;                                                                 \
	} while (0)

int ufs_be_check(struct ufs_backend *be, char *err, size_t errlen)
{
	const double t0 = ufs_mono_now();
	int rc;

	if (!be->ops->check)
		return 0;
	rc = be->ops->check(be, err, errlen);
	return health_note(be, UFS_BE_OP_CHECK, t0, rc);
}

int ufs_be_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	const double t0 = ufs_mono_now();

	GUARD_READ(be, getattr);
	return health_note(be, UFS_BE_OP_GETATTR, t0, be->ops->getattr(be, path, pattr));
}

int ufs_be_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	const double t0 = ufs_mono_now();

	GUARD_READ(be, list);
	return health_note(be, UFS_BE_OP_LIST, t0, be->ops->list(be, dir, cb, arg));
}

/* A listing in pages: the backend's cursor, or for a backend without the
 * list_* slots the whole list() as one page (dir kept for it). */
struct ufs_be_lister {
	struct ufs_backend *be;
	void *cur; /* the backend's cursor; NULL: one-shot */
	char *dir; /* one-shot: the directory */
	int done;  /* one-shot: listed */
};

int ufs_be_list_open(struct ufs_backend *be, const char *dir, const char *token,
		     struct ufs_be_lister **pl)
{
	struct ufs_be_lister *l = calloc(1, sizeof(*l));
	int rc = 0;

	if (!l)
		return -ENOMEM;
	l->be = be;
	if (be->ops->list_open)
		rc = be->ops->list_open(be, dir, token, &l->cur);
	else if (token)
		rc = -EINVAL;
	else if (!(l->dir = strdup(dir)))
		rc = -ENOMEM;
	if (rc < 0) {
		free(l->dir);
		free(l);
		return rc;
	}
	*pl = l;
	return 0;
}

int ufs_be_list_page(struct ufs_be_lister *l, ufs_list_cb cb, void *arg, int *pmore)
{
	struct ufs_backend *be = l->be;
	const double t0 = ufs_mono_now();

	*pmore = 0;
	if (!l->cur) {
		if (l->done)
			return 0;
		l->done = 1;
		return ufs_be_list(be, l->dir, cb, arg);
	}
	GUARD_READ(be, list_page);
	return health_note(be, UFS_BE_OP_LIST, t0, be->ops->list_page(be, l->cur, cb, arg, pmore));
}

const char *ufs_be_list_token(const struct ufs_be_lister *l)
{
	return l->cur ? l->be->ops->list_token(l->cur) : NULL;
}

int ufs_be_list_resumable(const struct ufs_be_lister *l)
{
	return l->cur != NULL;
}

void ufs_be_list_close(struct ufs_be_lister *l)
{
	if (!l)
		return;
	if (l->cur)
		l->be->ops->list_close(l->be, l->cur);
	free(l->dir);
	free(l);
}

ssize_t ufs_be_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		    void *buf)
{
	const double t0 = ufs_mono_now();
	ssize_t n;

	GUARD_READ(be, read);
	n = be->ops->read(be, obj, off, len, buf);
	if (n < 0)
		return health_note(be, UFS_BE_OP_READ, t0, (int)n);
	health_note(be, UFS_BE_OP_READ, t0, 0);
	ufs_ratelimit_take(be->bwlimit, (uint64_t)n);
	return n;
}

int ufs_be_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
		       struct ufs_writer **pw)
{
	const double t0 = ufs_mono_now();
	int rc;

	GUARD_WRITE(be, open_writer);
	rc = health_note(be, UFS_BE_OP_OPEN_WRITER, t0,
			 be->ops->open_writer(be, path, flags, mode, pw));
	return rc == 0 ? ufs_be_bwlimit_writer(be, pw) : rc;
}

int ufs_be_unlink(struct ufs_backend *be, const char *path)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, unlink);
	return health_note(be, UFS_BE_OP_UNLINK, t0, be->ops->unlink(be, path));
}

int ufs_be_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, mkdir);
	return health_note(be, UFS_BE_OP_MKDIR, t0, be->ops->mkdir(be, path, mode));
}

int ufs_be_rmdir(struct ufs_backend *be, const char *path)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, rmdir);
	return health_note(be, UFS_BE_OP_RMDIR, t0, be->ops->rmdir(be, path));
}

int ufs_be_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, rename);
	return health_note(be, UFS_BE_OP_RENAME, t0, be->ops->rename(be, from, to, flags));
}

int ufs_be_symlink(struct ufs_backend *be, const char *target, const char *path)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, symlink);
	return health_note(be, UFS_BE_OP_SYMLINK, t0, be->ops->symlink(be, target, path));
}

int ufs_be_readlink(struct ufs_backend *be, const char *path, char *buf, size_t size)
{
	const double t0 = ufs_mono_now();

	GUARD_READ(be, readlink);
	return health_note(be, UFS_BE_OP_READLINK, t0, be->ops->readlink(be, path, buf, size));
}

int ufs_be_link(struct ufs_backend *be, const char *from, const char *to)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, link);
	return health_note(be, UFS_BE_OP_LINK, t0, be->ops->link(be, from, to));
}

int ufs_be_mknod(struct ufs_backend *be, const char *path, mode_t mode, dev_t rdev)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, mknod);
	return health_note(be, UFS_BE_OP_MKNOD, t0, be->ops->mknod(be, path, mode, rdev));
}

ssize_t ufs_be_getxattr(struct ufs_backend *be, const char *path, const char *name, void *buf,
			size_t size)
{
	const double t0 = ufs_mono_now();

	GUARD_READ(be, getxattr);
	return health_note(be, UFS_BE_OP_XATTR, t0,
			   (int)be->ops->getxattr(be, path, name, buf, size));
}

int ufs_be_setxattr(struct ufs_backend *be, const char *path, const char *name, const void *value,
		    size_t size, int flags)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, setxattr);
	return health_note(be, UFS_BE_OP_XATTR, t0,
			   be->ops->setxattr(be, path, name, value, size, flags));
}

ssize_t ufs_be_listxattr(struct ufs_backend *be, const char *path, char *buf, size_t size)
{
	const double t0 = ufs_mono_now();

	GUARD_READ(be, listxattr);
	return health_note(be, UFS_BE_OP_XATTR, t0, (int)be->ops->listxattr(be, path, buf, size));
}

int ufs_be_removexattr(struct ufs_backend *be, const char *path, const char *name)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, removexattr);
	return health_note(be, UFS_BE_OP_XATTR, t0, be->ops->removexattr(be, path, name));
}

int ufs_be_fallocate(struct ufs_backend *be, const char *path, int mode, uint64_t off, uint64_t len)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, fallocate);
	return health_note(be, UFS_BE_OP_FALLOCATE, t0,
			   be->ops->fallocate(be, path, mode, off, len));
}

int ufs_be_setattr(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
		   unsigned to_set)
{
	const double t0 = ufs_mono_now();

	GUARD_WRITE(be, setattr);
	return health_note(be, UFS_BE_OP_SETATTR, t0, be->ops->setattr(be, path, attr, to_set));
}

int ufs_be_statfs(struct ufs_backend *be, struct statvfs *pst)
{
	const double t0 = ufs_mono_now();

	GUARD_READ(be, statfs);
	return health_note(be, UFS_BE_OP_STATFS, t0, be->ops->statfs(be, pst));
}

char *ufs_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	size_t nl = strlen(name);
	char *out = malloc(dl + nl + 2);

	if (!out)
		return NULL;
	if (dl == 0) {
		memcpy(out, name, nl + 1);
		return out;
	}
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, nl + 1);
	return out;
}
