/*
 * fs.h — entry points of the filesystem daemon (fs/).
 */
#ifndef UFS_FS_H
#define UFS_FS_H

#include <sys/types.h>

#include "common/config.h"

/*
 * Build every backend of cfg, mount the FUSE filesystem at mountpoint and
 * serve until it is unmounted or SIGTERM/SIGINT arrives (then unmount
 * cleanly). cfg stays owned by the caller.
 *
 * ready_fd (or -1): once the mount is live, "OK\n" is written to it and it is
 * closed; if mounting fails a one-line reason ("mount: /mnt/x: not a
 * directory") is written instead. A backend whose server is unreachable does
 * not fail the mount: its subtree reports errors until the server returns
 * and a warning naming it is logged (and written to ready_fd before "OK").
 * A backend with a configuration or credential error (missing bucket, bad
 * key, no such export) fails the mount.
 *
 * Returns 0 after a clean unmount, or -errno.
 */
int ufs_fs_run(struct ufs_config *cfg, const char *mountpoint, int ready_fd);

/* The socket directory of a daemon running as uid (fs/sockdir.c):
 * /run/unifs for root; for another uid /run/user/<uid>/unifs when
 * /run/user/<uid> is a directory (not a symlink) owned by uid, else
 * /tmp/unifs-<uid>. which 0 is where such a daemon starting now puts it;
 * which 1 the other place a running one may have used (/tmp/unifs-<uid>
 * when /run/user/<uid> appeared after it started). Writes into buf; 0, or
 * -ENOENT when there is no such place. Depends on nothing but uid and the
 * file system (no environment). */
int ufs_sock_dir(uid_t uid, unsigned which, char *buf, size_t size);

/* Path of the control socket of the mount at mountpoint (absolute,
 * canonical) whose daemon runs as owner: "<ufs_sock_dir(owner, which)>/
 * <xxh64 of the path>.sock". Writes into buf; 0 or -ENOENT as
 * ufs_sock_dir. */
int ufs_ctl_socket_path(const char *mountpoint, uid_t owner, unsigned which, char *buf,
			size_t size);

#endif
