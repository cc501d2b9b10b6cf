/*
 * nfs_i.h — private to the NFS backend: the URL parser (exposed so the unit
 * tests can check it without a server), and what protocols/nfs/nfs.c shares
 * with the other files of protocols/nfs/ (see nfs.c) (NFSv3 metadata through cached file handles):
 * the connection and backend structs, the bounded call machinery.
 */
#ifndef UFS_NFS_I_H
#define UFS_NFS_I_H

#include "common/ucred.h"
#include "protocols/backend.h"
#include "protocols/nfs/nfs_fhcache.h"

#include <nfsc/libnfs.h>

/* libnfs 4.0 exports, without declaring it in its header, the function that
 * frees a handle without a CLOSE. A handle opened on a context since
 * discarded, or whose NFSv4 stateid went stale, must not be closed over the
 * current context: that CLOSE fails, the server counts it in the open-owner
 * sequence and libnfs does not, and every later OPEN fails BAD_SEQID. */
void nfs_free_nfsfh(struct nfsfh *nfsfh);
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* nfs://server/export/path[?arg=val[&arg=val]...], parsed and validated. */
struct ufs_nfs_url {
	char *server; /* host as written (no user info) */
	char *path;   /* percent-decoded, absolute, no trailing '/' ("/" stays "/") */
	int version;  /* 3 (default) or 4 */
	char *args;   /* the query, "" when none: applied to each context by libnfs */
};

/*
 * Parse url into *pu (owned strings; free with ufs_nfs_url_free). Accepts the
 * libnfs URL arguments of libnfs 4.0 (version=3|4, uid, gid, tcp-syncnt,
 * nfsport, mountport, autoreconnect, dircache, auto-traverse-mounts,
 * readahead, pagecache, debug, if); an unknown argument, a version other than
 * 3 or 4, a missing server or path, or a bad %XX escape is -EINVAL with a
 * one-line reason in err (without a mount name; the caller prefixes it).
 */
int ufs_nfs_url_parse(const char *url, struct ufs_nfs_url *pu, char *err, size_t errlen);

/* 1 when the URL's query (u->args) sets the libnfs argument name. */
int ufs_nfs_url_has_arg(const struct ufs_nfs_url *u, const char *name);

/* Free what ufs_nfs_url_parse() allocated; safe on a zeroed struct. */
void ufs_nfs_url_free(struct ufs_nfs_url *u);

#define NFS_FHC_SLOTS 32 /* cached read handles per connection */

struct nfs_be;

struct nfs_fhc_ent {
	char *path;
	struct nfsfh *fh;
};

struct nfs_conn {
	pthread_mutex_t lock; /* held for every use of ctx */
	struct nfs_be *nb;
	struct nfs_context *ctx;	       /* NULL: not connected */
	unsigned gen;			       /* bumped whenever ctx is discarded */
	unsigned bound;			       /* live threads bound to it (pool_lock) */
	double deadline;		       /* monotonic end of the backend call in progress */
	struct nfs_fhc_ent fhc[NFS_FHC_SLOTS]; /* read handles, 0 = most recent */
	struct nfs_conn *next;		       /* pool list (pool_lock) */
	int as_caller;			       /* ctx sends auth's creds, not the daemon's */
	struct ufs_cred auth;		       /* AUTH_SYS identity set on ctx (as_caller) */
};

struct nfs_be {
	struct ufs_backend base;
	struct ufs_nfs_url url;
	pthread_key_t key; /* thread -> its nfs_conn */
	pthread_mutex_t pool_lock;
	struct nfs_conn *conns;
	unsigned nconns;    /* conns in the pool list (pool_lock) */
	unsigned max_conns; /* nfs_connections: 0 = one per thread */
	int timeout_ms;
	int pinned_ids; /* the URL sets uid= or gid=: every call uses them */
	/* NFSv3 handle resolution (nfs_meta.c); fhc is NULL for NFSv4 */
	struct ufs_nfs_fhcache *fhc;
	pthread_mutex_t root_lock; /* guards root and root_retry */
	struct ufs_nfs_fh root;	   /* export root from MOUNT; len 0: not known */
	double root_retry;	   /* monotonic time before which MOUNT is not retried */
};

/* What a callback stores on success. */
enum nfs_res {
	NFS_RES_NONE,
	NFS_RES_PTR,   /* *(void **)out = data */
	NFS_RES_BYTES, /* copy status bytes (<= cap) to out */
	NFS_RES_COPY,  /* copy cap bytes to out */
	NFS_RES_STR,   /* copy the string data to out (cap incl. NUL) */
};

/* One async libnfs call in flight. */
struct nfs_call {
	enum nfs_res res;
	void *out;
	size_t cap;
	int done;
	int err;       /* libnfs status: >= 0 or -errno */
	char msg[160]; /* libnfs error string when err < 0 */
};

/* A backend call's body, run on a connected conn (c->lock held). */
typedef int (*nfs_op_fn)(struct nfs_conn *c, void *arg);

static inline struct nfs_be *ufs_nfs_be_of(struct ufs_backend *be)
{
	return (struct nfs_be *)be;
}

/* Monotonic clock, seconds. */
double ufs_nfs_now(void);

/* "/" + path (backend-relative) for libnfs; NULL with *perr = -EINVAL for a
 * leading '/' or a ".." component, -ENOMEM. Free the result. */
char *ufs_nfs_abspath(const char *path, int *perr);

/* S_IFREG, S_IFDIR... of an NFSv3 ftype3 (libnfs's dirent type), 0 for
 * none or an unknown one. */
uint32_t ufs_nfs_ftype_mode(unsigned type);

/* 0 when libnfs may be given path (backend-relative), else -EINVAL. */
int ufs_nfs_path_check(const char *path);

/* Wait up to 100 ms (less near deadline, a monotonic time) for events on
 * fd: the returned events (0 when none yet), or -ETIMEDOUT once the
 * deadline has passed. */
int ufs_nfs_poll(int fd, int events, double deadline);

/*
 * Wait for call (started on c with status queued: the start function's
 * return, < 0 when it could not be queued) within c->deadline. Returns the
 * call's status (>= 0 or -errno, logged as what), or -ETIMEDOUT /
 * -ECONNRESET when the connection failed (the context is then discarded).
 */
int ufs_nfs_exec(struct nfs_conn *c, struct nfs_call *call, int queued, const char *what);

/*
 * Run op on the calling thread's conn within one op_timeout, connecting
 * first if needed; a connection lost during op is re-established and op
 * retried once (op must be restartable). op's result, or -errno.
 */
int ufs_nfs_run(struct nfs_be *nb, nfs_op_fn op, void *arg);

/* Close c's cached read handle of the backend-relative path, if any (after
 * an unlink or rename through c; c->lock held). */
void ufs_nfs_conn_forget(struct nfs_conn *c, const char *path);

/* ---- NFSv3 metadata through cached file handles (nfs_meta.c) ----------
 * Each call takes backend-relative paths and returns 0 / a result or
 * -errno, or UFS_NFS3_FALLBACK when this backend cannot take the fast path
 * (NFSv4, or the export's root handle could not be had from MOUNT): the
 * caller then uses libnfs's path-based call. Each counts its request. */
#define UFS_NFS3_FALLBACK (-ENOSYS)

/* Set up nb's handle cache when it speaks NFSv3 (g: the global config,
 * for attr_ttl); without memory for it nb stays on the path-based API. */
void ufs_nfs3_init(struct nfs_be *nb, const struct ufs_config *g);
/* Free what ufs_nfs3_init() set up. */
void ufs_nfs3_fini(struct nfs_be *nb);

int ufs_nfs3_getattr(struct nfs_be *nb, const char *path, struct ufs_attr *pattr);
/* READDIRPLUS in pages; cb is called without any lock held. */
int ufs_nfs3_list(struct nfs_be *nb, const char *dir, ufs_list_cb cb, void *arg);
int ufs_nfs3_mkdir(struct nfs_be *nb, const char *path, mode_t mode);
int ufs_nfs3_unlink(struct nfs_be *nb, const char *path);
int ufs_nfs3_rmdir(struct nfs_be *nb, const char *path);
/* Plain rename (replaces to). */
int ufs_nfs3_rename(struct nfs_be *nb, const char *from, const char *to);
int ufs_nfs3_symlink(struct nfs_be *nb, const char *target, const char *path);
/* Hard link to (new) -> from (existing). */
int ufs_nfs3_link(struct nfs_be *nb, const char *from, const char *to);
/* The target, NUL-terminated and truncated to size - 1 bytes: its length. */
int ufs_nfs3_readlink(struct nfs_be *nb, const char *path, char *buf, size_t size);
/* One SETATTR with the to_set fields (UFS_SET_*) of attr. */
int ufs_nfs3_setattr(struct nfs_be *nb, const char *path, const struct ufs_attr *attr,
		     unsigned to_set);
int ufs_nfs3_statfs(struct nfs_be *nb, struct statvfs *pst);

/* ---- shared by the layers of the backend (see protocols/nfs/nfs.c) ------ */

/* libnfs callback for a struct nfs_call (priv): records status and result. */
void ufs_nfs_call_cb(int err, struct nfs_context *ctx, void *data, void *priv);
/* libnfs callback that only marks the nfs_call (priv) done. */
void ufs_nfs_noop_cb(int err, struct nfs_context *ctx, void *data, void *priv);
/* Record a failed call's server message for logs. */
void ufs_nfs_note_error(struct nfs_conn *c, const char *what, int err, const char *msg);
/* The errno a failed call stands for (NFSv4 OLD/BAD_STATEID: -EBADF, i.e.
 * "reopen the handle"). */
int ufs_nfs_call_errno(const struct nfs_call *k);
/*
 * Finish the calls started on c (queued = the start functions' worst
 * return): wait, then turn connection-level failures into a discarded
 * context and -ECONNRESET/-ETIMEDOUT. Returns 0 when every call completed
 * (each call's own status is in call->err), or that failure.
 */
int ufs_nfs_finish(struct nfs_conn *c, struct nfs_call *const *calls, int n, int queued);
/* Disconnect and free c (not in any pool list any more). */
void ufs_nfs_conn_free(struct nfs_conn *c);
/* pthread key destructor: the exiting thread's conn goes back to the pool. */
void ufs_nfs_conn_unbind(void *v);
/* The calling thread's conn (bound on first use), or NULL on ENOMEM. */
struct nfs_conn *ufs_nfs_conn_get(struct nfs_be *nb);
/* Run op on conn c within one op_timeout, connecting first if needed; a
 * connection lost during op is re-established and op retried once. */
int ufs_nfs_run_on(struct nfs_conn *c, nfs_op_fn op, void *arg);
/* Close c's cached read handle of the absolute path, if any (c->lock held);
 * stale: its NFSv4 stateid went stale (freed without a CLOSE). */
void ufs_nfs_fhc_drop(struct nfs_conn *c, const char *path, int stale);
/* Cached read handle of the absolute path moved to the front, or NULL. */
struct nfsfh *ufs_nfs_fhc_find(struct nfs_conn *c, const char *path);
/* Cache fh for the absolute path (evicting the oldest): 0 or -ENOMEM. */
int ufs_nfs_fhc_insert(struct nfs_conn *c, const char *path, struct nfsfh *fh);
/* Open path with flags (and mode when creating) on c; *pfh or -errno. */
int ufs_nfs_open_fh(struct nfs_conn *c, const char *path, int flags, int mode, struct nfsfh **pfh);
/* lstat of the absolute path abs through libnfs's path-based API. */
int ufs_nfs_lstat(struct nfs_be *nb, const char *abs, struct nfs_stat_64 *pst);

/* The backend operations (struct ufs_backend_ops contracts, backend.h):
 * namespace ones in nfs_ns.c, data path in nfs_data.c. */
int ufs_nfsbe_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr);
int ufs_nfsbe_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg);
int ufs_nfsbe_unlink(struct ufs_backend *be, const char *path);
int ufs_nfsbe_mkdir(struct ufs_backend *be, const char *path, mode_t mode);
int ufs_nfsbe_rmdir(struct ufs_backend *be, const char *path);
int ufs_nfsbe_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags);
int ufs_nfsbe_symlink(struct ufs_backend *be, const char *target, const char *path);
int ufs_nfsbe_link(struct ufs_backend *be, const char *from, const char *to);
int ufs_nfsbe_mknod(struct ufs_backend *be, const char *path, mode_t mode, dev_t rdev);
int ufs_nfsbe_readlink(struct ufs_backend *be, const char *path, char *buf, size_t size);
int ufs_nfsbe_setattr(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
		      unsigned to_set);
int ufs_nfsbe_statfs(struct ufs_backend *be, struct statvfs *pst);
ssize_t ufs_nfsbe_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		       void *buf);
int ufs_nfsbe_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
			  struct ufs_writer **pw);

#endif
