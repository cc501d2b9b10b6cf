/*
 * fs.h — entry points of the filesystem daemon (fs/).
 */
#ifndef UFS_FS_H
#define UFS_FS_H

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

/* Path of the control socket of the mount at mountpoint (absolute,
 * canonical): "/run/unifs/<xxh64 of the path>.sock". Writes into buf. */
void ufs_ctl_socket_path(const char *mountpoint, char *buf, size_t size);

#endif
