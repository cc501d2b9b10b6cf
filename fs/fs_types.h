/*
 * fs_types.h — struct ufs_fs, the one mounted filesystem every room of fs/
 * works on (fs/ops, fs/inode, fs/io, fs/direct, fs/service; daemon.c
 * builds it).
 *
 * One struct ufs_fs per mount holds everything the FUSE operations need. It
 * is built by daemon.c before the session starts and torn down after it
 * ends; during the session its fields are read-only (the objects they point
 * to are thread-safe), so operations never lock the struct itself. Each
 * room owns the objects behind its own fields (named below) and offers
 * them to the others only through its header.
 *
 * FUSE API version: 3.12 (FUSE_USE_VERSION 312), the one whose loop config
 * can raise max_threads; libfuse's 3.5 loop config caps the worker threads
 * at 10, and one hung backend could then starve every other subtree. Every
 * file of fs/ includes libfuse through this header, so all agree on it.
 */
#ifndef UFS_FS_TYPES_H
#define UFS_FS_TYPES_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/config.h"
#include "protocols/backend.h"

struct ufs_ctl;
struct fs_fstats;
struct fs_metrics;
struct ufs_direct;
struct fs_offline;
struct fs_wshares;

struct ufs_fs {
	struct ufs_config *cfg;
	char *mountpoint;      /* canonical */
	struct ufs_ns *ns;     /* mount table (inode/namespace.c) */
	struct ufs_itab *itab; /* inode table (inode/itab.c) */
	struct ufs_meta *meta;
	struct ufs_budget *budget;
	struct ufs_cache *cache; /* NULL: reads go straight to the backends */
	struct ufs_backend **be; /* one per mount, index = mount index */
	size_t n_be;
	uid_t uid; /* owner reported for UFS_UID_OWNER */
	gid_t gid;
	struct timespec started; /* mtime of synthetic directories */
	atomic_int init_done;	 /* the kernel's INIT was answered */
	struct fuse_session *se;
	struct ufs_ctl *ctl;	    /* control socket (service/ctl.c) */
	struct fs_fstats *fstats;   /* FUSE requests by type (service/fuse_stats.c) */
	struct fs_metrics *metrics; /* Prometheus endpoint, NULL = off (service/metrics.c) */

	atomic_uint_least64_t read_bytes; /* delivered to readers (FUSE read replies) */
	struct ufs_direct *direct;	  /* direct-path server (direct/), or NULL */
	struct fs_offline *offline;	  /* one per mount (inode/offline.c) */
	struct fs_wshares *wshares;	  /* object-store write sides by inode (io/wshare.c) */
};

#endif
