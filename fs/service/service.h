/*
 * service.h — the daemon services room (fs/service/): the control socket,
 * the Prometheus endpoint and the FUSE request statistics of a mount.
 * daemon.c starts and stops them; no other room calls this one.
 *
 * Files: ctl.c (control socket: `unifs stats`, `unifs ctl`), metrics.c
 * (Prometheus endpoint), fuse_stats.c (FUSE requests by type, counted and
 * timed), stats_fields.c (the one table of counters both ctl.c and
 * metrics.c print). service_i.h holds what they share among themselves.
 *
 * The room reads the counters of the direct, io and inode rooms (and
 * below); none of them calls back.
 */
#ifndef UFS_FS_SERVICE_H
#define UFS_FS_SERVICE_H

#include <stddef.h>

#include "fs/fs_types.h"

/* ---- ctl.c: control socket ---- */

/* Start serving stats on the control socket of fs->mountpoint. 0/-errno. */
int fs_ctl_start(struct ufs_fs *fs, char *err, size_t errlen);
/* Stop the server and remove the socket; no-op when not started. */
void fs_ctl_stop(struct ufs_fs *fs);

/* ---- fuse_stats.c: FUSE requests by type, counted and timed ---- */

/* Allocate fs->fstats and make every set slot of ops a counting wrapper of
 * the original. 0, or -1 when out of memory (ops unchanged). */
int fs_fuse_stats_wrap(struct ufs_fs *fs, struct fuse_lowlevel_ops *ops);
/* Free fs->fstats (after the session ended). */
void fs_fuse_stats_free(struct ufs_fs *fs);

/* ---- metrics.c: the Prometheus endpoint ---- */

/* Serve fs_metrics_format() at http://cfg->metrics/metrics when set. 0, or
 * -errno with a one-line warning naming the address and port in why (an
 * address in use: the caller warns and the mount goes on without metrics). */
int fs_metrics_start(struct ufs_fs *fs, char *why, size_t whylen);
/* Stop serving: waits for a scrape in progress. NULL-safe, idempotent. */
void fs_metrics_stop(struct ufs_fs *fs);

#endif
