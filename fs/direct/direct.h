/*
 * direct.h — the direct-path room (fs/direct/): the server libunifs
 * clients talk to (lib/direct_wire.h), as the rest of the daemon sees it:
 * started and stopped by daemon.c, given open files by ops_file.c (the
 * UFS_IOC_DIRECT ioctl), read for counters by the service room.
 *
 * Files: direct.c (socket, grants, sessions), direct_io.c (entries and the
 * worker pool), direct_prefetch.c (warming the cache by path),
 * direct_done.c (completions); direct_i.h is private to the room.
 *
 * The room calls the inode room and below (cache/, common/); the open
 * files it is given are reached through struct fs_direct_file_ops.
 */
#ifndef UFS_FS_DIRECT_H
#define UFS_FS_DIRECT_H

#include <stdint.h>
#include <sys/types.h>

#include "fs/fs_types.h"

struct udw_grant;

/* What the direct path may do with an open file (given by ops_file.c). */
struct fs_direct_file_ops {
	/* Read/write through the open file f as FUSE reads/writes do: bytes or -errno. */
	ssize_t (*read)(struct ufs_fs *fs, void *f, void *buf, size_t len, uint64_t off);
	ssize_t (*write)(struct ufs_fs *fs, void *f, const void *buf, size_t len, uint64_t off);
	/* Commit what was written (as close(2) does). 0 or -errno. */
	int (*commit)(struct ufs_fs *fs, void *f);
};

struct fs_direct_stats {
	uint64_t sessions, sessions_active, handles, entries;
	uint64_t bytes_read, bytes_written, errors;
	uint64_t prefetch_files, prefetch_bytes, prefetch_dropped;
};

/* Start the direct-path server of fs (socket next to the control socket).
 * 0 or -errno with a message. */
int fs_direct_start(struct ufs_fs *fs, char *err, size_t errlen);
/* Stop it: every session is closed once its entries finished; no-op when
 * not started. */
void fs_direct_stop(struct ufs_fs *fs);
/* What an open file's fd was opened for (its open(2) access mode). */
#define FS_DIRECT_READ 1
#define FS_DIRECT_WRITE 2
/*
 * A token for open file f (inode ino, opened for mode: FS_DIRECT_* bits)
 * usable by uid, and the server's socket path, in *pg. A second call for
 * the same f and uid gives the same token. 0, or -ENOTTY without a server,
 * -EMFILE past the bounds (grants per open file, per uid: direct_i.h).
 */
int fs_direct_grant(struct ufs_fs *fs, void *f, const struct fs_direct_file_ops *ops, uint64_t ino,
		    unsigned mode, uid_t uid, struct udw_grant *pg);
/* f is being closed: revoke its tokens and handles; returns once no entry
 * uses f any more. */
void fs_direct_revoke(struct ufs_fs *fs, void *f);
/* Counters of the direct path (zeros without a server). */
void fs_direct_get_stats(struct ufs_fs *fs, struct fs_direct_stats *pst);

#endif
