/*
 * nfs_meta.c — NFSv3 metadata calls through cached file handles.
 *
 * Design
 * - libnfs's path-based calls walk the path from the export root with one
 *   LOOKUP per component on every call (a stat 6 levels deep = 7 RPCs).
 *   Here the backend keeps one path -> file handle cache (nfs_fhcache.c),
 *   shared by all its connections (handles are server-wide), and issues
 *   the RPCs itself with libnfs's raw API on the calling thread's conn
 *   (nfs_get_rpc_context), waited for by ufs_nfs_exec(): same deadline
 *   (op_timeout), reconnect and retry-once as every other call in nfs.c.
 * - Resolving a path = the longest cached ancestor, then one LOOKUP per
 *   missing component, each cached. Only directories are cached: the last
 *   component of a path is always looked up in its parent (the LOOKUP
 *   returns the attributes too), so a warm stat is one RPC and a file
 *   replaced under the same name is never answered from a stale handle.
 *   list() is READDIRPLUS in cookie/cookieverf pages on the directory's
 *   handle; it caches the handles of the subdirectories it returns.
 * - The export root handle comes from our own MOUNT (MNT) call on a
 *   short-lived RPC context (portmapper -> mountd), once per backend; the
 *   installed libnfs headers offer no other way to its bytes. Until it is
 *   known (MOUNT failing, e.g. no portmapper; retried every
 *   NFS3_ROOT_RETRY s) every call falls back to the path-based API.
 * - Staleness. A cached handle names a directory object, not a name:
 *   another client may rename it behind our back. So (1) an entry is
 *   trusted for the mount's attr_ttl (NFS3_FH_TTL_ZERO when attr_ttl is 0:
 *   other clients' directory renames show within that long even without
 *   attribute caching), then walked again; (2) whenever a LOOKUP returns a
 *   handle for a path different from the cached one, the path's cached
 *   subtree is dropped, and since the last component is always looked up,
 *   the kernel's own per-component revalidation (each FUSE lookup is a
 *   getattr here) re-binds a replaced directory as soon as the kernel asks,
 *   usually well before (1); (3) a call that fails with ESTALE, or with
 *   ENOENT/ENOTDIR after using a cached handle, is retried once with a
 *   fresh walk from the root (ESTALE also forgets the root handle, so a
 *   server that changed its handles is re-MOUNTed); (4) our own unlink,
 *   rmdir and rename drop the affected paths (a directory: its subtree).
 *   A server restart keeps the handles valid (ganesha's VFS handles
 *   persist); if it does not, (2) recovers.
 * - nfsstat3 -> errno is nfs3_errno(), the only place.
 */
#include "protocols/nfs/nfs_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>

#define NFS3_FHC_CAP 16384     /* cached directory handles per backend */
#define NFS3_FH_TTL_ZERO 1.0   /* handle trust (s) on a mount with attr_ttl = 0 */
#define NFS3_ROOT_RETRY 30.0   /* s between MOUNT attempts after a failure */
#define NFS3_DIRCOUNT 16384    /* READDIRPLUS: bytes of names/cookies per page */
#define NFS3_MAXCOUNT 65536    /* READDIRPLUS: bytes of reply per page */
#define NFS3_STATFS_BLOCK 4096 /* f_bsize reported, as libnfs does */

void ufs_nfs3_init(struct nfs_be *nb, const struct ufs_config *g)
{
	double ttl = g && g->attr_ttl > 0 ? g->attr_ttl : NFS3_FH_TTL_ZERO;

	pthread_mutex_init(&nb->root_lock, NULL);
	if (nb->url.version == 3)
		nb->fhc = ufs_nfs_fhcache_new(NFS3_FHC_CAP, ttl);
}

void ufs_nfs3_fini(struct nfs_be *nb)
{
	ufs_nfs_fhcache_free(nb->fhc);
	nb->fhc = NULL;
	pthread_mutex_destroy(&nb->root_lock);
}

/* ---- raw calls ------------------------------------------------------------ */

static int nfs3_errno(nfsstat3 st)
{
	switch (st) {
	case NFS3_OK:
		return 0;
	case NFS3ERR_PERM:
		return -EPERM;
	case NFS3ERR_NOENT:
		return -ENOENT;
	case NFS3ERR_NXIO:
		return -ENXIO;
	case NFS3ERR_ACCES:
		return -EACCES;
	case NFS3ERR_EXIST:
		return -EEXIST;
	case NFS3ERR_XDEV:
		return -EXDEV;
	case NFS3ERR_NODEV:
		return -ENODEV;
	case NFS3ERR_NOTDIR:
		return -ENOTDIR;
	case NFS3ERR_ISDIR:
		return -EISDIR;
	case NFS3ERR_INVAL:
	case NFS3ERR_BADTYPE:
		return -EINVAL;
	case NFS3ERR_FBIG:
		return -EFBIG;
	case NFS3ERR_NOSPC:
		return -ENOSPC;
	case NFS3ERR_ROFS:
		return -EROFS;
	case NFS3ERR_MLINK:
		return -EMLINK;
	case NFS3ERR_NAMETOOLONG:
		return -ENAMETOOLONG;
	case NFS3ERR_NOTEMPTY:
		return -ENOTEMPTY;
	case NFS3ERR_DQUOT:
		return -EDQUOT;
	case NFS3ERR_STALE:
	case NFS3ERR_BADHANDLE:
		return -ESTALE;
	case NFS3ERR_REMOTE:
		return -EREMOTE;
	case NFS3ERR_NOTSUPP:
		return -EOPNOTSUPP;
	case NFS3ERR_TOOSMALL:
		return -ERANGE;
	case NFS3ERR_JUKEBOX:
		return -EAGAIN;
	default: /* IO, NOT_SYNC, BAD_COOKIE, SERVERFAULT */
		return -EIO;
	}
}

/* Reads what a successful reply (res: the XXX3res) holds into out: 0 or
 * -errno. */
typedef int (*nfs3_decode_fn)(void *res, void *out);

/* One raw NFSv3 call in flight: k is what ufs_nfs_exec() waits on. */
struct nfs3_rpc {
	struct nfs_call k;
	nfs3_decode_fn decode; /* NULL: only the status matters */
	void *out;
};

/* rpc_cb of every raw call: every XXX3res starts with its nfsstat3. */
static void nfs3_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct nfs3_rpc *r = priv;

	(void)rpc;
	r->k.done = 1;
	if (status == RPC_STATUS_SUCCESS && data) {
		nfsstat3 st = *(nfsstat3 *)data;

		r->k.err = nfs3_errno(st);
		if (st == NFS3_OK && r->decode)
			r->k.err = r->decode(data, r->out);
		return;
	}
	/* ufs_nfs_exec() turns ETIMEDOUT/EINTR into a discarded context */
	r->k.err = status == RPC_STATUS_TIMEOUT	 ? -ETIMEDOUT
		   : status == RPC_STATUS_CANCEL ? -EINTR
						 : -EIO;
	snprintf(r->k.msg, sizeof(r->k.msg), "%s",
		 status == RPC_STATUS_ERROR && data ? (const char *)data : "");
}

/* Wait for the call r that start (a rpc_nfs3_*_async result) queued. */
static int nfs3_wait(struct nfs_conn *c, struct nfs3_rpc *r, int start, const char *what)
{
	return ufs_nfs_exec(c, &r->k, start < 0 ? -EIO : 0, what);
}

static struct rpc_context *nfs3_rpc_of(struct nfs_conn *c)
{
	return nfs_get_rpc_context(c->ctx);
}

/* The wire form of fh (borrowing its bytes). */
static nfs_fh3 nfs3_fh(const struct ufs_nfs_fh *fh)
{
	nfs_fh3 f = {.data = {.data_len = fh->len, .data_val = (char *)fh->data}};

	return f;
}

static int nfs3_fh_copy(struct ufs_nfs_fh *dst, unsigned len, const char *val)
{
	if (len == 0 || len > UFS_NFS_FH_MAX)
		return -EIO;
	dst->len = len;
	memcpy(dst->data, val, len);
	return 0;
}

static void nfs3_attr(const fattr3 *a, struct ufs_attr *pattr)
{
	memset(pattr, 0, sizeof(*pattr));
	pattr->mode = ufs_nfs_ftype_mode(a->type) | (a->mode & 07777);
	pattr->nlink = a->nlink;
	pattr->uid = a->uid;
	pattr->gid = a->gid;
	pattr->size = a->size;
	pattr->ino = a->fileid;
	pattr->rdev = makedev(a->rdev.specdata1, a->rdev.specdata2);
	pattr->blocks = (a->used + 511) / 512;
	pattr->has_blocks = 1;
	pattr->atime.tv_sec = a->atime.seconds;
	pattr->atime.tv_nsec = a->atime.nseconds;
	pattr->mtime.tv_sec = a->mtime.seconds;
	pattr->mtime.tv_nsec = a->mtime.nseconds;
	pattr->ctime.tv_sec = a->ctime.seconds;
	pattr->ctime.tv_nsec = a->ctime.nseconds;
}

/* An object: its handle and, when the reply had them, its attributes. */
struct nfs3_obj {
	struct ufs_nfs_fh fh;
	int has_attr;
	struct ufs_attr attr;
};

static void nfs3_post_attr(const post_op_attr *pa, struct nfs3_obj *o)
{
	o->has_attr = pa->attributes_follow != 0;
	if (o->has_attr)
		nfs3_attr(&pa->post_op_attr_u.attributes, &o->attr);
}

static int nfs3_decode_lookup(void *res, void *out)
{
	LOOKUP3resok *ok = &((LOOKUP3res *)res)->LOOKUP3res_u.resok;
	struct nfs3_obj *o = out;

	nfs3_post_attr(&ok->obj_attributes, o);
	return nfs3_fh_copy(&o->fh, ok->object.data.data_len, ok->object.data.data_val);
}

static int nfs3_lookup(struct nfs_conn *c, const struct ufs_nfs_fh *dir, const char *name,
		       struct nfs3_obj *o)
{
	struct nfs3_rpc r = {.decode = nfs3_decode_lookup, .out = o};
	LOOKUP3args args = {.what = {.dir = nfs3_fh(dir), .name = (char *)name}};

	return nfs3_wait(c, &r, rpc_nfs3_lookup_async(nfs3_rpc_of(c), nfs3_cb, &args, &r),
			 "lookup");
}

static int nfs3_decode_getattr(void *res, void *out)
{
	struct nfs3_obj *o = out;

	nfs3_attr(&((GETATTR3res *)res)->GETATTR3res_u.resok.obj_attributes, &o->attr);
	o->has_attr = 1;
	return 0;
}

static int nfs3_getattr(struct nfs_conn *c, struct nfs3_obj *o)
{
	struct nfs3_rpc r = {.decode = nfs3_decode_getattr, .out = o};
	GETATTR3args args = {.object = nfs3_fh(&o->fh)};

	return nfs3_wait(c, &r, rpc_nfs3_getattr_async(nfs3_rpc_of(c), nfs3_cb, &args, &r),
			 "getattr");
}

/* ---- the export root (MOUNT) --------------------------------------------- */

/* One step of the MOUNT exchange. */
struct nfs3_mnt {
	int done, status;
	struct ufs_nfs_fh *fh;
	char msg[160];
};

static void nfs3_mnt_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	struct nfs3_mnt *m = priv;
	mountres3 *res = data;

	(void)rpc;
	m->done = 1;
	m->status = status == RPC_STATUS_SUCCESS ? 0 : -EIO;
	if (status == RPC_STATUS_ERROR && data)
		snprintf(m->msg, sizeof(m->msg), "%s", (const char *)data);
	if (m->status < 0 || !m->fh || !res)
		return;
	if (res->fhs_status != MNT3_OK) {
		snprintf(m->msg, sizeof(m->msg), "MNT status %d", (int)res->fhs_status);
		m->status = -EACCES;
		return;
	}
	m->status = nfs3_fh_copy(m->fh, res->mountres3_u.mountinfo.fhandle.fhandle3_len,
				 res->mountres3_u.mountinfo.fhandle.fhandle3_val);
}

/* Drive rpc until m is done or the deadline passes. */
static int nfs3_mnt_wait(struct rpc_context *rpc, struct nfs3_mnt *m, int start, double deadline)
{
	if (start < 0)
		return -EIO;
	while (!m->done) {
		int r = ufs_nfs_poll(rpc_get_fd(rpc), rpc_which_events(rpc), deadline);

		if (r < 0)
			return r;
		if (rpc_service(rpc, r) < 0)
			return -EIO;
	}
	return m->status;
}

/* MOUNT nb's export on a fresh RPC context: its root handle into *fh. */
static int nfs3_mount_root(struct nfs_be *nb, double deadline, struct ufs_nfs_fh *fh)
{
	struct rpc_context *rpc = rpc_init_context();
	struct nfs3_mnt conn = {0}, mnt = {.fh = fh};
	int rc;

	if (!rpc)
		return -ENOMEM;
	rc = nfs3_mnt_wait(rpc, &conn,
			   rpc_connect_program_async(rpc, nb->url.server, MOUNT_PROGRAM, MOUNT_V3,
						     nfs3_mnt_cb, &conn),
			   deadline);
	if (rc == 0)
		rc = nfs3_mnt_wait(rpc, &mnt,
				   rpc_mount3_mnt_async(rpc, nfs3_mnt_cb, nb->url.path, &mnt),
				   deadline);
	if (rc < 0)
		ufs_be_set_error(&nb->base, "nfs mount (for the root handle): %s (%s)",
				 conn.msg[0] ? conn.msg : mnt.msg, strerror(-rc));
	rpc_destroy_context(rpc);
	return rc;
}

/* The export root's handle, MOUNTing once; UFS_NFS3_FALLBACK when unknown. */
static int nfs3_root(struct nfs_conn *c, struct ufs_nfs_fh *fh)
{
	struct nfs_be *nb = c->nb;
	double now = ufs_nfs_now();

	pthread_mutex_lock(&nb->root_lock);
	if (nb->root.len == 0 && now >= nb->root_retry &&
	    nfs3_mount_root(nb, c->deadline, &nb->root) < 0) {
		nb->root.len = 0;
		nb->root_retry = ufs_nfs_now() + NFS3_ROOT_RETRY;
	}
	*fh = nb->root;
	pthread_mutex_unlock(&nb->root_lock);
	return fh->len ? 0 : UFS_NFS3_FALLBACK;
}

/* The root handle may be stale: MOUNT again on the next call. */
static void nfs3_root_forget(struct nfs_be *nb)
{
	pthread_mutex_lock(&nb->root_lock);
	nb->root.len = 0;
	nb->root_retry = 0;
	pthread_mutex_unlock(&nb->root_lock);
}

/* Trusted as usable: NFSv3 and the root not known to be unavailable. */
static int nfs3_usable(struct nfs_be *nb)
{
	int ok;

	if (!nb->fhc)
		return 0;
	pthread_mutex_lock(&nb->root_lock);
	ok = nb->root.len > 0 || ufs_nfs_now() >= nb->root_retry;
	pthread_mutex_unlock(&nb->root_lock);
	return ok;
}

/* ---- resolving paths -------------------------------------------------------- */

/* Store a freshly looked-up directory handle; a different cached one first
 * drops its whole subtree (the name now names another directory, so the
 * handles cached below it are the old directory's). */
static void nfs3_learn(struct nfs_be *nb, const char *path, const struct ufs_nfs_fh *fh)
{
	struct ufs_nfs_fh old;
	double now = ufs_nfs_now();

	if (ufs_nfs_fhcache_get(nb->fhc, path, &old, now) == 0 &&
	    (old.len != fh->len || memcmp(old.data, fh->data, fh->len) != 0))
		ufs_nfs_fhcache_drop(nb->fhc, path, 1);
	ufs_nfs_fhcache_put(nb->fhc, path, fh, now);
}

/*
 * The handle of directory path ("" = root) into *fh: from the longest
 * cached ancestor (none with fresh) plus one LOOKUP per missing component,
 * each stored. *pcached is set when a cached handle was used.
 */
static int nfs3_resolve(struct nfs_conn *c, const char *path, int fresh, struct ufs_nfs_fh *fh,
			int *pcached)
{
	size_t len = strlen(path), n = 0;
	char *buf;
	int rc = nfs3_root(c, fh);

	if (rc < 0 || len == 0)
		return rc;
	if (!fresh)
		n = ufs_nfs_fhcache_longest(c->nb->fhc, path, fh, ufs_nfs_now());
	*pcached |= n > 0;
	buf = strdup(path);
	if (!buf)
		return -ENOMEM;
	while (rc == 0 && n < len) {
		size_t start = n ? n + 1 : 0, end = start + strcspn(path + start, "/");
		struct nfs3_obj o;

		buf[end] = '\0';
		rc = nfs3_lookup(c, fh, buf + start, &o);
		if (rc == 0 && o.has_attr && !S_ISDIR(o.attr.mode))
			rc = -ENOTDIR;
		if (rc == 0) {
			nfs3_learn(c->nb, buf, &o.fh);
			*fh = o.fh;
		}
		buf[end] = path[end];
		n = end;
	}
	free(buf);
	return rc;
}

/* path split into its parent directory's handle and its last name. */
struct nfs3_at {
	struct ufs_nfs_fh dir;
	char *parent; /* owned; "" for the root */
	const char *name;
};

static int nfs3_at(struct nfs_conn *c, const char *path, int fresh, struct nfs3_at *at,
		   int *pcached)
{
	const char *slash = strrchr(path, '/');

	at->name = slash ? slash + 1 : path;
	at->parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	if (!at->parent)
		return -ENOMEM;
	if (!at->name[0])
		return -EINVAL; /* the root has no parent */
	return nfs3_resolve(c, at->parent, fresh, &at->dir, pcached);
}

/* The object path names ("" = root), looked up in its parent, with its
 * attributes; a directory is cached on the way. */
static int nfs3_obj_of(struct nfs_conn *c, const char *path, int fresh, struct nfs3_obj *o,
		       int *pcached)
{
	struct nfs3_at at;
	int rc;

	memset(o, 0, sizeof(*o));
	if (!path[0]) {
		rc = nfs3_root(c, &o->fh);
		return rc < 0 ? rc : nfs3_getattr(c, o);
	}
	rc = nfs3_at(c, path, fresh, &at, pcached);
	if (rc == 0)
		rc = nfs3_lookup(c, &at.dir, at.name, o);
	if (rc == 0 && !o->has_attr)
		rc = nfs3_getattr(c, o);
	if (rc == 0 && S_ISDIR(o->attr.mode))
		nfs3_learn(c->nb, path, &o->fh);
	free(at.parent);
	return rc;
}

/* ---- running a call: fallback, validation, retry on staleness -------------- */

/* One attempt of a call; fresh = walk from the root. */
typedef int (*nfs3_step_fn)(struct nfs_conn *c, void *arg, int fresh, int *pcached);

struct nfs3_op {
	nfs3_step_fn step;
	void *arg;
};

/* nfs_op_fn: the step, retried once on a fresh walk when a stale handle
 * may be the cause. */
static int nfs3_op_run(struct nfs_conn *c, void *v)
{
	struct nfs3_op *op = v;

	for (int fresh = 0;; fresh++) {
		int cached = 0;
		int rc = op->step(c, op->arg, fresh, &cached);
		int stale = rc == -ESTALE || (cached && (rc == -ENOENT || rc == -ENOTDIR));

		if (fresh || !stale)
			return rc;
		if (rc == -ESTALE)
			nfs3_root_forget(c->nb);
	}
}

/* Run step on the fast path for paths p1 (and p2 unless NULL), counting a
 * request of kind; UFS_NFS3_FALLBACK when the backend cannot. */
static int nfs3_run(struct nfs_be *nb, enum ufs_req_kind kind, const char *p1, const char *p2,
		    nfs3_step_fn step, void *arg)
{
	struct nfs3_op op = {.step = step, .arg = arg};

	if (!nfs3_usable(nb))
		return UFS_NFS3_FALLBACK;
	if (ufs_nfs_path_check(p1) < 0 || (p2 && ufs_nfs_path_check(p2) < 0))
		return -EINVAL;
	ufs_be_count(&nb->base, kind, 0, 0);
	return ufs_nfs_run(nb, nfs3_op_run, &op);
}

/* ---- getattr, readlink, setattr ------------------------------------------- */

struct nfs3_getattr_args {
	const char *path;
	struct ufs_attr *attr;
};

static int nfs3_step_getattr(struct nfs_conn *c, void *arg, int fresh, int *pcached)
{
	struct nfs3_getattr_args *a = arg;
	struct nfs3_obj o;
	int rc = nfs3_obj_of(c, a->path, fresh, &o, pcached);

	if (rc == 0)
		*a->attr = o.attr;
	return rc;
}

int ufs_nfs3_getattr(struct nfs_be *nb, const char *path, struct ufs_attr *pattr)
{
	struct nfs3_getattr_args a = {.path = path, .attr = pattr};

	return nfs3_run(nb, UFS_REQ_HEAD, path, NULL, nfs3_step_getattr, &a);
}

struct nfs3_readlink_args {
	const char *path;
	char *buf;
	size_t size;
};

static int nfs3_decode_readlink(void *res, void *out)
{
	struct nfs3_readlink_args *a = out;
	const char *data = ((READLINK3res *)res)->READLINK3res_u.resok.data;

	snprintf(a->buf, a->size, "%s", data ? data : "");
	return 0;
}

static int nfs3_step_readlink(struct nfs_conn *c, void *arg, int fresh, int *pcached)
{
	struct nfs3_readlink_args *a = arg;
	struct nfs3_rpc r = {.decode = nfs3_decode_readlink, .out = a};
	struct nfs3_obj o;
	READLINK3args args;
	int rc = nfs3_obj_of(c, a->path, fresh, &o, pcached);

	if (rc < 0)
		return rc;
	args.symlink = nfs3_fh(&o.fh);
	return nfs3_wait(c, &r, rpc_nfs3_readlink_async(nfs3_rpc_of(c), nfs3_cb, &args, &r),
			 "readlink");
}

int ufs_nfs3_readlink(struct nfs_be *nb, const char *path, char *buf, size_t size)
{
	struct nfs3_readlink_args a = {.path = path, .buf = buf, .size = size};
	int rc;

	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	rc = nfs3_run(nb, UFS_REQ_HEAD, path, NULL, nfs3_step_readlink, &a);
	return rc < 0 ? rc : (int)strlen(buf);
}

struct nfs3_setattr_args {
	const char *path;
	sattr3 sa;
};

static int nfs3_step_setattr(struct nfs_conn *c, void *arg, int fresh, int *pcached)
{
	struct nfs3_setattr_args *a = arg;
	struct nfs3_rpc r = {.decode = NULL};
	struct nfs3_obj o;
	SETATTR3args args = {.new_attributes = a->sa};
	int rc = nfs3_obj_of(c, a->path, fresh, &o, pcached);

	if (rc < 0)
		return rc;
	args.object = nfs3_fh(&o.fh);
	return nfs3_wait(c, &r, rpc_nfs3_setattr_async(nfs3_rpc_of(c), nfs3_cb, &args, &r),
			 "setattr");
}

/* How to set one time: now (server clock), the given one, or not at all. */
static time_how nfs3_time(unsigned to_set, unsigned given, unsigned now, const struct timespec *ts,
			  nfstime3 *t)
{
	if (to_set & now)
		return SET_TO_SERVER_TIME;
	if (!(to_set & given))
		return DONT_CHANGE;
	t->seconds = (u_int)ts->tv_sec;
	t->nseconds = (u_int)ts->tv_nsec;
	return SET_TO_CLIENT_TIME;
}

int ufs_nfs3_setattr(struct nfs_be *nb, const char *path, const struct ufs_attr *attr,
		     unsigned to_set)
{
	struct nfs3_setattr_args a = {.path = path};
	sattr3 *sa = &a.sa;

	sa->mode.set_it = (to_set & UFS_SET_MODE) != 0;
	sa->mode.set_mode3_u.mode = attr->mode & 07777;
	sa->uid.set_it = (to_set & UFS_SET_UID) != 0;
	sa->uid.set_uid3_u.uid = attr->uid;
	sa->gid.set_it = (to_set & UFS_SET_GID) != 0;
	sa->gid.set_gid3_u.gid = attr->gid;
	sa->size.set_it = (to_set & UFS_SET_SIZE) != 0;
	sa->size.set_size3_u.size = attr->size;
	sa->atime.set_it = nfs3_time(to_set, UFS_SET_ATIME, UFS_SET_ATIME_NOW, &attr->atime,
				     &sa->atime.set_atime_u.atime);
	sa->mtime.set_it = nfs3_time(to_set, UFS_SET_MTIME, UFS_SET_MTIME_NOW, &attr->mtime,
				     &sa->mtime.set_mtime_u.mtime);
	return nfs3_run(nb, UFS_REQ_OTHER, path, NULL, nfs3_step_setattr, &a);
}

/* ---- list --------------------------------------------------------------------- */

struct nfs3_ent {
	char *name;
	struct ufs_attr attr;
};

struct nfs3_list_args {
	const char *path;
	struct nfs_be *nb;
	struct nfs3_ent *ents;
	size_t n, cap;
	cookie3 cookie;
	cookieverf3 verf;
	int eof;
};

static void nfs3_list_clear(struct nfs3_list_args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->ents[i].name);
	free(a->ents);
	a->ents = NULL;
	a->n = a->cap = 0;
}

/* Keep one entry; a subdirectory's handle goes to the cache. */
static int nfs3_list_add(struct nfs3_list_args *a, const entryplus3 *e)
{
	struct nfs3_ent *ent;
	struct ufs_nfs_fh fh;
	char *child;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct nfs3_ent *ents = realloc(a->ents, cap * sizeof(*ents));

		if (!ents)
			return -ENOMEM;
		a->ents = ents;
		a->cap = cap;
	}
	ent = &a->ents[a->n];
	memset(&ent->attr, 0, sizeof(ent->attr)); /* no attributes: type unknown */
	if (e->name_attributes.attributes_follow)
		nfs3_attr(&e->name_attributes.post_op_attr_u.attributes, &ent->attr);
	ent->name = strdup(e->name);
	if (!ent->name)
		return -ENOMEM;
	a->n++;
	if (!S_ISDIR(ent->attr.mode) || !e->name_handle.handle_follows ||
	    nfs3_fh_copy(&fh, e->name_handle.post_op_fh3_u.handle.data.data_len,
			 e->name_handle.post_op_fh3_u.handle.data.data_val) < 0)
		return 0;
	if (asprintf(&child, "%s%s%s", a->path, a->path[0] ? "/" : "", e->name) < 0)
		return -ENOMEM;
	nfs3_learn(a->nb, child, &fh);
	free(child);
	return 0;
}

static int nfs3_decode_readdirplus(void *res, void *out)
{
	READDIRPLUS3resok *ok = &((READDIRPLUS3res *)res)->READDIRPLUS3res_u.resok;
	struct nfs3_list_args *a = out;
	int rc = 0;

	memcpy(a->verf, ok->cookieverf, sizeof(a->verf));
	a->eof = ok->reply.eof != 0;
	/* libnfs 4.0's decoder may place entries at 4-byte aligned addresses:
	 * read each one through an aligned copy */
	for (const void *p = ok->reply.entries; p && rc == 0;) {
		entryplus3 e;

		memcpy(&e, p, sizeof(e));
		a->cookie = e.cookie;
		if (strcmp(e.name, ".") != 0 && strcmp(e.name, "..") != 0)
			rc = nfs3_list_add(a, &e);
		p = e.nextentry;
	}
	if (rc == 0 && !a->eof && !ok->reply.entries)
		rc = -EIO; /* no progress: the server would loop us forever */
	return rc;
}

static int nfs3_step_list(struct nfs_conn *c, void *arg, int fresh, int *pcached)
{
	struct nfs3_list_args *a = arg;
	READDIRPLUS3args args = {.dircount = NFS3_DIRCOUNT, .maxcount = NFS3_MAXCOUNT};
	struct ufs_nfs_fh dir;
	int rc = nfs3_resolve(c, a->path, fresh, &dir, pcached);

	nfs3_list_clear(a); /* a retried attempt starts over */
	a->cookie = 0;
	memset(a->verf, 0, sizeof(a->verf));
	a->eof = 0;
	args.dir = nfs3_fh(&dir);
	while (rc == 0 && !a->eof) {
		struct nfs3_rpc r = {.decode = nfs3_decode_readdirplus, .out = a};

		args.cookie = a->cookie;
		memcpy(args.cookieverf, a->verf, sizeof(args.cookieverf));
		rc =
		    nfs3_wait(c, &r, rpc_nfs3_readdirplus_async(nfs3_rpc_of(c), nfs3_cb, &args, &r),
			      "readdir");
	}
	return rc;
}

int ufs_nfs3_list(struct nfs_be *nb, const char *dir, ufs_list_cb cb, void *arg)
{
	struct nfs3_list_args a = {.path = dir, .nb = nb};
	int rc = nfs3_run(nb, UFS_REQ_LIST, dir, NULL, nfs3_step_list, &a);

	for (size_t i = 0; rc == 0 && i < a.n; i++)
		rc = cb(arg, a.ents[i].name, &a.ents[i].attr);
	nfs3_list_clear(&a);
	return rc;
}

/* ---- namespace changes ----------------------------------------------------- */

enum nfs3_ns_kind {
	NFS3_NS_MKDIR,
	NFS3_NS_UNLINK,
	NFS3_NS_RMDIR,
	NFS3_NS_SYMLINK,
	NFS3_NS_RENAME,
	NFS3_NS_LINK
};

/* One namespace change on path (and p2: the rename target, or the existing
 * file a link points to). */
struct nfs3_ns_args {
	enum nfs3_ns_kind kind;
	const char *path, *p2, *target;
	mode_t mode;
};

static int nfs3_decode_mkdir(void *res, void *out)
{
	MKDIR3resok *ok = &((MKDIR3res *)res)->MKDIR3res_u.resok;
	struct nfs3_obj *o = out;

	if (ok->obj.handle_follows)
		nfs3_fh_copy(&o->fh, ok->obj.post_op_fh3_u.handle.data.data_len,
			     ok->obj.post_op_fh3_u.handle.data.data_val);
	return 0;
}

/* Start the kind's RPC in the directory at (p2at: the second directory for
 * a rename, obj: the link's target object). */
static int nfs3_ns_start(struct nfs_conn *c, struct nfs3_ns_args *a, struct nfs3_at *at,
			 struct nfs3_at *p2at, struct nfs3_obj *obj, struct nfs3_rpc *r)
{
	struct rpc_context *rpc = nfs3_rpc_of(c);
	diropargs3 where = {.dir = nfs3_fh(&at->dir), .name = (char *)at->name};

	switch (a->kind) {
	case NFS3_NS_MKDIR: {
		MKDIR3args args = {.where = where};
		args.attributes.mode.set_it = 1;
		args.attributes.mode.set_mode3_u.mode = a->mode & 07777;
		r->decode = nfs3_decode_mkdir;
		r->out = obj;
		return rpc_nfs3_mkdir_async(rpc, nfs3_cb, &args, r);
	}
	case NFS3_NS_UNLINK: {
		REMOVE3args args = {.object = where};
		return rpc_nfs3_remove_async(rpc, nfs3_cb, &args, r);
	}
	case NFS3_NS_RMDIR: {
		RMDIR3args args = {.object = where};
		return rpc_nfs3_rmdir_async(rpc, nfs3_cb, &args, r);
	}
	case NFS3_NS_SYMLINK: {
		SYMLINK3args args = {.where = where};
		args.symlink.symlink_attributes.mode.set_it = 1;
		args.symlink.symlink_attributes.mode.set_mode3_u.mode = 0777;
		args.symlink.symlink_data = (char *)a->target;
		return rpc_nfs3_symlink_async(rpc, nfs3_cb, &args, r);
	}
	case NFS3_NS_RENAME: {
		RENAME3args args = {.from = where,
				    .to = {.dir = nfs3_fh(&p2at->dir), .name = (char *)p2at->name}};
		return rpc_nfs3_rename_async(rpc, nfs3_cb, &args, r);
	}
	case NFS3_NS_LINK: {
		LINK3args args = {.file = nfs3_fh(&obj->fh), .link = where};
		return rpc_nfs3_link_async(rpc, nfs3_cb, &args, r);
	}
	}
	return -1;
}

/* Resolve what the kind needs besides path's parent: the rename target's
 * parent, or the existing object a link names. */
static int nfs3_ns_prepare(struct nfs_conn *c, struct nfs3_ns_args *a, int fresh,
			   struct nfs3_at *p2at, struct nfs3_obj *obj, int *pcached)
{
	if (a->kind == NFS3_NS_RENAME)
		return nfs3_at(c, a->p2, fresh, p2at, pcached);
	if (a->kind == NFS3_NS_LINK)
		return nfs3_obj_of(c, a->p2, fresh, obj, pcached);
	return 0;
}

static void nfs3_ns_done(struct nfs_conn *c, struct nfs3_ns_args *a, const struct nfs3_obj *obj)
{
	struct ufs_nfs_fhcache *fhc = c->nb->fhc;

	switch (a->kind) {
	case NFS3_NS_MKDIR:
		if (obj->fh.len)
			ufs_nfs_fhcache_put(fhc, a->path, &obj->fh, ufs_nfs_now());
		break;
	case NFS3_NS_UNLINK:
		ufs_nfs_fhcache_drop(fhc, a->path, 0);
		ufs_nfs_conn_forget(c, a->path);
		break;
	case NFS3_NS_RMDIR:
		ufs_nfs_fhcache_drop(fhc, a->path, 1);
		break;
	case NFS3_NS_RENAME:
		ufs_nfs_fhcache_drop(fhc, a->path, 1);
		ufs_nfs_fhcache_drop(fhc, a->p2, 1);
		ufs_nfs_conn_forget(c, a->path);
		ufs_nfs_conn_forget(c, a->p2);
		break;
	case NFS3_NS_SYMLINK:
	case NFS3_NS_LINK:
		break;
	}
}

static int nfs3_step_ns(struct nfs_conn *c, void *arg, int fresh, int *pcached)
{
	static const char *const what[] = {"mkdir", "unlink", "rmdir", "symlink", "rename", "link"};
	struct nfs3_ns_args *a = arg;
	struct nfs3_at at = {.parent = NULL}, p2at = {.parent = NULL};
	struct nfs3_obj obj = {.fh = {.len = 0}};
	struct nfs3_rpc r = {.decode = NULL};
	int rc = nfs3_at(c, a->path, fresh, &at, pcached);

	if (rc == 0)
		rc = nfs3_ns_prepare(c, a, fresh, &p2at, &obj, pcached);
	if (rc == 0)
		rc = nfs3_wait(c, &r, nfs3_ns_start(c, a, &at, &p2at, &obj, &r), what[a->kind]);
	if (rc == 0)
		nfs3_ns_done(c, a, &obj);
	free(at.parent);
	free(p2at.parent);
	return rc;
}

static int nfs3_ns(struct nfs_be *nb, struct nfs3_ns_args *a)
{
	return nfs3_run(nb, UFS_REQ_OTHER, a->path, a->p2, nfs3_step_ns, a);
}

int ufs_nfs3_mkdir(struct nfs_be *nb, const char *path, mode_t mode)
{
	struct nfs3_ns_args a = {.kind = NFS3_NS_MKDIR, .path = path, .mode = mode};

	return nfs3_ns(nb, &a);
}

int ufs_nfs3_unlink(struct nfs_be *nb, const char *path)
{
	struct nfs3_ns_args a = {.kind = NFS3_NS_UNLINK, .path = path};

	return nfs3_ns(nb, &a);
}

int ufs_nfs3_rmdir(struct nfs_be *nb, const char *path)
{
	struct nfs3_ns_args a = {.kind = NFS3_NS_RMDIR, .path = path};

	return nfs3_ns(nb, &a);
}

int ufs_nfs3_symlink(struct nfs_be *nb, const char *target, const char *path)
{
	struct nfs3_ns_args a = {.kind = NFS3_NS_SYMLINK, .path = path, .target = target};

	return nfs3_ns(nb, &a);
}

int ufs_nfs3_rename(struct nfs_be *nb, const char *from, const char *to)
{
	struct nfs3_ns_args a = {.kind = NFS3_NS_RENAME, .path = from, .p2 = to};

	return nfs3_ns(nb, &a);
}

int ufs_nfs3_link(struct nfs_be *nb, const char *from, const char *to)
{
	/* the new name is created in its parent; from is the existing object */
	struct nfs3_ns_args a = {.kind = NFS3_NS_LINK, .path = to, .p2 = from};

	return nfs3_ns(nb, &a);
}

/* ---- statfs ------------------------------------------------------------------ */

static int nfs3_decode_fsstat(void *res, void *out)
{
	FSSTAT3resok *ok = &((FSSTAT3res *)res)->FSSTAT3res_u.resok;
	struct statvfs *st = out;

	memset(st, 0, sizeof(*st));
	st->f_bsize = NFS3_STATFS_BLOCK;
	st->f_frsize = NFS3_STATFS_BLOCK;
	st->f_blocks = ok->tbytes / NFS3_STATFS_BLOCK;
	st->f_bfree = ok->fbytes / NFS3_STATFS_BLOCK;
	st->f_bavail = ok->abytes / NFS3_STATFS_BLOCK;
	st->f_files = ok->tfiles;
	st->f_ffree = ok->ffiles;
	st->f_favail = ok->afiles;
	st->f_namemax = 255;
	return 0;
}

static int nfs3_step_statfs(struct nfs_conn *c, void *arg, int fresh, int *pcached)
{
	struct nfs3_rpc r = {.decode = nfs3_decode_fsstat, .out = arg};
	struct ufs_nfs_fh root;
	FSSTAT3args args;
	int rc = nfs3_root(c, &root);

	(void)fresh;
	(void)pcached;
	if (rc < 0)
		return rc;
	args.fsroot = nfs3_fh(&root);
	return nfs3_wait(c, &r, rpc_nfs3_fsstat_async(nfs3_rpc_of(c), nfs3_cb, &args, &r),
			 "statfs");
}

int ufs_nfs3_statfs(struct nfs_be *nb, struct statvfs *pst)
{
	return nfs3_run(nb, UFS_REQ_OTHER, "", NULL, nfs3_step_statfs, pst);
}
