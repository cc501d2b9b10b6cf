/*
 * nfs_ns.c — NFS attributes, listing and namespace operations (unlink,
 * mkdir, rmdir, rename, symlink, link, readlink, setattr, statfs): the NFSv3
 * handle path of nfs_meta.c first, libnfs's path-based calls otherwise.
 * Design: protocols/nfs/nfs.c.
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

#include <nfsc/libnfs.h>

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
	pattr->rdev = st->nfs_rdev;
	pattr->blocks = (st->nfs_used + 511) / 512; /* NFSv3 "used", NFSv4 space_used */
	pattr->has_blocks = 1;
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

	return ufs_nfs_exec(c, &call, nfs_lstat64_async(c->ctx, a->path, ufs_nfs_call_cb, &call),
			    "stat");
}

int ufs_nfs_lstat(struct nfs_be *nb, const char *abs, struct nfs_stat_64 *pst)
{
	struct nfs_stat_args a = {.path = abs};
	int rc = ufs_nfs_run(nb, nfs_op_lstat, &a);

	ufs_be_count(&nb->base, UFS_REQ_HEAD, 0, 0);
	if (rc == 0)
		*pst = a.st;
	return rc;
}

int ufs_nfsbe_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	struct nfs_stat_64 st;
	int rc = ufs_nfs3_getattr(ufs_nfs_be_of(be), path, pattr);
	char *abs;

	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	abs = ufs_nfs_abspath(path, &rc);
	if (!abs)
		return rc;
	rc = ufs_nfs_lstat(ufs_nfs_be_of(be), abs, &st);
	if (rc == 0)
		nfs_stat_to_attr(&st, pattr);
	free(abs);
	return rc;
}

/* ---- list ------------------------------------------------------------------ */

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
	/* no file id: libnfs 4.0's NFSv4 READDIR fills d->inode with the
	 * entry's cookie, not its fileid (getattr's), and an inode shown two
	 * ids looks replaced (ufs_itab_check_attr), two names of one file
	 * unrelated. (NFSv3 lists through nfs3_list, with real fileids.) */
	pattr->ino = 0;
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

	return ufs_nfs_exec(c, &call, nfs_opendir_async(c->ctx, a->path, ufs_nfs_call_cb, &call),
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

int ufs_nfsbe_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	struct nfs_be *nb = ufs_nfs_be_of(be);
	struct nfs_dir_args a = {.path = NULL};
	struct nfs_conn *c = ufs_nfs_conn_get(nb);
	int rc = ufs_nfs3_list(nb, dir, cb, arg);
	char *abs;

	if (rc != UFS_NFS3_FALLBACK)
		return rc;
	abs = ufs_nfs_abspath(dir, &rc);
	if (!abs)
		return rc;
	ufs_be_count(be, UFS_REQ_LIST, 0, 0);
	a.path = abs;
	rc = c ? ufs_nfs_run_on(c, nfs_op_opendir, &a) : -ENOMEM;
	if (rc == 0) {
		rc = nfs_list_entries(&a, cb, arg);
		nfs_closedir(NULL, a.dir); /* NULL: free, no dircache */
	}
	free(abs);
	return rc;
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
	NFS_MKNOD,
};

/* One path-based call: p1 (and p2) absolute paths, or a symlink target. */
struct nfs_simple {
	enum nfs_simple_kind kind;
	const char *p1, *p2;
	int mode, uid, gid, dev;
	uint64_t size;
	struct timeval tv[2];
};

static int nfs_simple_start(struct nfs_context *ctx, struct nfs_simple *a, struct nfs_call *k)
{
	switch (a->kind) {
	case NFS_UNLINK:
		return nfs_unlink_async(ctx, a->p1, ufs_nfs_call_cb, k);
	case NFS_MKDIR:
		return nfs_mkdir2_async(ctx, a->p1, a->mode, ufs_nfs_call_cb, k);
	case NFS_RMDIR:
		return nfs_rmdir_async(ctx, a->p1, ufs_nfs_call_cb, k);
	case NFS_RENAME:
		return nfs_rename_async(ctx, a->p1, a->p2, ufs_nfs_call_cb, k);
	case NFS_SYMLINK:
		return nfs_symlink_async(ctx, a->p1, a->p2, ufs_nfs_call_cb, k);
	case NFS_LINK:
		return nfs_link_async(ctx, a->p1, a->p2, ufs_nfs_call_cb, k);
	case NFS_CHMOD:
		return nfs_lchmod_async(ctx, a->p1, a->mode, ufs_nfs_call_cb, k);
	case NFS_CHOWN:
		return nfs_lchown_async(ctx, a->p1, a->uid, a->gid, ufs_nfs_call_cb, k);
	case NFS_TRUNCATE:
		return nfs_truncate_async(ctx, a->p1, a->size, ufs_nfs_call_cb, k);
	case NFS_UTIMES:
		return nfs_lutimes_async(ctx, a->p1, a->tv, ufs_nfs_call_cb, k);
	case NFS_MKNOD:
		return nfs_mknod_async(ctx, a->p1, a->mode, a->dev, ufs_nfs_call_cb, k);
	}
	return -EINVAL;
}

static int nfs_op_simple(struct nfs_conn *c, void *arg)
{
	static const char *const what[] = {"unlink",   "mkdir",	 "rmdir", "rename",
					   "symlink",  "link",	 "chmod", "chown",
					   "truncate", "utimes", "mknod"};
	struct nfs_simple *a = arg;
	struct nfs_call call = {.res = NFS_RES_NONE};
	int rc = ufs_nfs_exec(c, &call, nfs_simple_start(c->ctx, a, &call), what[a->kind]);

	if (rc == 0 && (a->kind == NFS_UNLINK || a->kind == NFS_RENAME))
		ufs_nfs_fhc_drop(c, a->p1, 0);
	if (rc == 0 && a->kind == NFS_RENAME)
		ufs_nfs_fhc_drop(c, a->p2, 0);
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

int ufs_nfsbe_unlink(struct ufs_backend *be, const char *path)
{
	struct nfs_simple a = {.kind = NFS_UNLINK};
	int rc = ufs_nfs3_unlink(ufs_nfs_be_of(be), path);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, path, NULL, 0);
}

int ufs_nfsbe_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	struct nfs_simple a = {.kind = NFS_MKDIR, .mode = (int)(mode & 07777)};
	int rc = ufs_nfs3_mkdir(ufs_nfs_be_of(be), path, mode);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, path, NULL, 0);
}

int ufs_nfsbe_rmdir(struct ufs_backend *be, const char *path)
{
	struct nfs_simple a = {.kind = NFS_RMDIR};
	int rc = ufs_nfs3_rmdir(ufs_nfs_be_of(be), path);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, path, NULL, 0);
}

int ufs_nfsbe_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	struct nfs_simple a = {.kind = NFS_RENAME};
	struct ufs_attr attr;
	int rc;

	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL; /* NFS has no atomic exchange */
	if (flags & RENAME_NOREPLACE) {
		/* NFSv3/4.0 have no no-replace rename: check, then rename (racy) */
		rc = ufs_nfsbe_getattr(be, to, &attr);
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

int ufs_nfsbe_mknod(struct ufs_backend *be, const char *path, mode_t mode, dev_t rdev)
{
	struct nfs_simple a = {.kind = NFS_MKNOD, .mode = (int)mode, .dev = (int)rdev};

	return nfs_simple_run(be, &a, path, NULL, 0);
}

int ufs_nfsbe_symlink(struct ufs_backend *be, const char *target, const char *path)
{
	struct nfs_simple a = {.kind = NFS_SYMLINK};
	int rc = ufs_nfs3_symlink(ufs_nfs_be_of(be), target, path);

	if (rc != UFS_NFS3_FALLBACK)
		return rc;

	return nfs_simple_run(be, &a, target, path, 1);
}

int ufs_nfsbe_link(struct ufs_backend *be, const char *from, const char *to)
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

	return ufs_nfs_exec(c, &call, nfs_readlink_async(c->ctx, a->path, ufs_nfs_call_cb, &call),
			    "readlink");
}

int ufs_nfsbe_readlink(struct ufs_backend *be, const char *path, char *buf, size_t size)
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
	rc = ufs_nfs_lstat(ufs_nfs_be_of(be), abs, &st);
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
int ufs_nfsbe_setattr(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
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

	return ufs_nfs_exec(c, &call, nfs_statvfs64_async(c->ctx, "/", ufs_nfs_call_cb, &call),
			    "statfs");
}

int ufs_nfsbe_statfs(struct ufs_backend *be, struct statvfs *pst)
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
