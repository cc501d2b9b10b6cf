/*
 * fuse_stats.c — FUSE requests by type, counted and timed.
 *
 * fs_fuse_stats_wrap() keeps a copy of the operation table filled by
 * fs_ops_fill() and replaces each set slot with a wrapper of the same
 * signature that notes the start time, calls the original and then counts
 * one request of that type into a histogram of fs->fstats. The time is that
 * of the handler: every handler of fs/ replies before it returns.
 *
 * Open files: libfuse hands the handlers a zeroed fuse_file_info and the
 * open/create handlers set fi->fh only on success, so fi->fh != 0 after the
 * call counts one open file; release of such a handle counts it closed.
 * The counters are read by `unifs stats` (ctl.c) and the metrics endpoint
 * (metrics.c) alike.
 */
#include "fs/service/service_i.h"

#include <stdlib.h>

static const char *const fstats_names[FS_FOP__COUNT] = {
#define X(op) #op,
    FS_FOPS(X)
#undef X
};

const char *fs_fop_name(enum fs_fop op)
{
	return op < FS_FOP__COUNT ? fstats_names[op] : "other";
}

static void fstats_note(struct fs_fstats *st, enum fs_fop op, double t0)
{
	atomic_fetch_add_explicit(&st->n[op], 1, memory_order_relaxed);
	ufs_hist_observe(&st->seconds[op], ufs_mono_now() - t0);
}

static struct fs_fstats *fstats_of(fuse_req_t req)
{
	return ((struct ufs_fs *)fuse_req_userdata(req))->fstats;
}

/* A wrapper of op with parameters params, passing args on. */
#define FSTATS_WRAP(op, params, args)                                                              \
	static void fstats_##op params                                                             \
	{                                                                                          \
		struct fs_fstats *st = fstats_of(req);                                             \
		double t0 = ufs_mono_now();                                                        \
		st->orig.op args;                                                                  \
		fstats_note(st, FS_FOP_##op, t0);                                                  \
	}

/* The same, counting the handle an open-like op set up (see the top). */
#define FSTATS_WRAP_OPEN(op, params, args)                                                         \
	static void fstats_##op params                                                             \
	{                                                                                          \
		struct fs_fstats *st = fstats_of(req);                                             \
		double t0 = ufs_mono_now();                                                        \
		st->orig.op args;                                                                  \
		if (fi->fh)                                                                        \
			atomic_fetch_add_explicit(&st->open_handles, 1, memory_order_relaxed);     \
		fstats_note(st, FS_FOP_##op, t0);                                                  \
	}

/* The same, counting the handle a release-like op closes. */
#define FSTATS_WRAP_RELEASE(op)                                                                    \
	static void fstats_##op(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)         \
	{                                                                                          \
		struct fs_fstats *st = fstats_of(req);                                             \
		double t0 = ufs_mono_now();                                                        \
		int had = fi->fh != 0;                                                             \
		st->orig.op(req, ino, fi);                                                         \
		if (had)                                                                           \
			atomic_fetch_sub_explicit(&st->open_handles, 1, memory_order_relaxed);     \
		fstats_note(st, FS_FOP_##op, t0);                                                  \
	}

FSTATS_WRAP(lookup, (fuse_req_t req, fuse_ino_t parent, const char *name), (req, parent, name))
FSTATS_WRAP(forget, (fuse_req_t req, fuse_ino_t ino, uint64_t n), (req, ino, n))
FSTATS_WRAP(forget_multi, (fuse_req_t req, size_t count, struct fuse_forget_data *f),
	    (req, count, f))
FSTATS_WRAP(getattr, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FSTATS_WRAP(setattr,
	    (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
	     struct fuse_file_info *fi),
	    (req, ino, attr, to_set, fi))
FSTATS_WRAP(readlink, (fuse_req_t req, fuse_ino_t ino), (req, ino))
FSTATS_WRAP(mknod, (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev),
	    (req, parent, name, mode, rdev))
FSTATS_WRAP(mkdir, (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode),
	    (req, parent, name, mode))
FSTATS_WRAP(unlink, (fuse_req_t req, fuse_ino_t parent, const char *name), (req, parent, name))
FSTATS_WRAP(rmdir, (fuse_req_t req, fuse_ino_t parent, const char *name), (req, parent, name))
FSTATS_WRAP(symlink, (fuse_req_t req, const char *link, fuse_ino_t parent, const char *name),
	    (req, link, parent, name))
FSTATS_WRAP(rename,
	    (fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	     const char *newname, unsigned int flags),
	    (req, parent, name, newparent, newname, flags))
FSTATS_WRAP(link, (fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname),
	    (req, ino, newparent, newname))
FSTATS_WRAP(statfs, (fuse_req_t req, fuse_ino_t ino), (req, ino))
FSTATS_WRAP(access, (fuse_req_t req, fuse_ino_t ino, int mask), (req, ino, mask))
FSTATS_WRAP_OPEN(create,
		 (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi),
		 (req, parent, name, mode, fi))
FSTATS_WRAP(flush, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FSTATS_WRAP(fsync, (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi),
	    (req, ino, datasync, fi))
FSTATS_WRAP_OPEN(open, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FSTATS_WRAP(opendir, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FSTATS_WRAP(read,
	    (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi),
	    (req, ino, size, off, fi))
FSTATS_WRAP(readdir,
	    (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi),
	    (req, ino, size, off, fi))
FSTATS_WRAP(readdirplus,
	    (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi),
	    (req, ino, size, off, fi))
FSTATS_WRAP_RELEASE(release)
FSTATS_WRAP(releasedir, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FSTATS_WRAP(write,
	    (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	     struct fuse_file_info *fi),
	    (req, ino, buf, size, off, fi))

int fs_fuse_stats_wrap(struct ufs_fs *fs, struct fuse_lowlevel_ops *ops)
{
	fs->fstats = calloc(1, sizeof(*fs->fstats));
	if (!fs->fstats)
		return -1;
	fs->fstats->orig = *ops;
#define X(op)                                                                                      \
	if (ops->op)                                                                               \
		ops->op = fstats_##op;
	FS_FOPS(X)
#undef X
	return 0;
}

void fs_fuse_stats_free(struct ufs_fs *fs)
{
	free(fs->fstats);
	fs->fstats = NULL;
}
