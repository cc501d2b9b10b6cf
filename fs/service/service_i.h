/*
 * service_i.h — what the files of the daemon services room (fs/service/)
 * share among themselves: the FUSE request counters (fuse_stats.c) and the
 * two formatters of a mount's counters. Private to the room.
 */
#ifndef UFS_FS_SERVICE_I_H
#define UFS_FS_SERVICE_I_H

#include <stdatomic.h>

#include "common/metrics.h"
#include "fs/service/service.h"

/* Write the stats of fs into a malloc'd string (json or text). NULL: ENOMEM. */
char *fs_stats_format(struct ufs_fs *fs, int json);
/* The Prometheus text exposition of fs's counters (malloc'd; NULL when out
 * of memory). Reads the same counters as fs_stats_format(). */
char *fs_metrics_format(struct ufs_fs *fs);

/* ---- fuse_stats.c: FUSE requests by type, counted and timed ---- */

/* The operations fs_ops_fill() sets, in the order they are reported. */
#define FS_FOPS(X)                                                                                 \
	X(lookup)                                                                                  \
	X(forget)                                                                                  \
	X(forget_multi)                                                                            \
	X(getattr)                                                                                 \
	X(setattr)                                                                                 \
	X(readlink)                                                                                \
	X(mknod)                                                                                   \
	X(mkdir)                                                                                   \
	X(unlink)                                                                                  \
	X(rmdir)                                                                                   \
	X(symlink)                                                                                 \
	X(rename)                                                                                  \
	X(link)                                                                                    \
	X(statfs)                                                                                  \
	X(access)                                                                                  \
	X(create)                                                                                  \
	X(flush)                                                                                   \
	X(fsync)                                                                                   \
	X(open)                                                                                    \
	X(opendir)                                                                                 \
	X(read)                                                                                    \
	X(readdir)                                                                                 \
	X(readdirplus)                                                                             \
	X(release)                                                                                 \
	X(releasedir)                                                                              \
	X(write)

enum fs_fop {
#define X(op) FS_FOP_##op,
	FS_FOPS(X)
#undef X
	    FS_FOP__COUNT
};

struct fs_fstats {
	atomic_uint_least64_t n[FS_FOP__COUNT];
	struct ufs_hist seconds[FS_FOP__COUNT];
	atomic_int_least64_t open_handles; /* files open through the mount now */
	struct fuse_lowlevel_ops orig;	   /* the handlers of fs_ops_fill() */
};

/* Name of op as reported ("lookup", ...). */
const char *fs_fop_name(enum fs_fop op);

#endif
