/*
 * bwlimit.h — a backend's bandwidth limit (bwlimit.c): the bucket its
 * reads and writes are charged to, for backend.c.
 */
#ifndef UFS_BWLIMIT_H
#define UFS_BWLIMIT_H

#include "protocols/backend.h"

/* Set be->bwlimit from its mount's bwlimit key, else the [global] bucket
 * (NULL: no limit). Out of memory leaves the mount unlimited, with a
 * warning. Called by ufs_be_init() once mcfg, gcfg and name are set. */
void ufs_be_bwlimit_init(struct ufs_backend *be);

/* Free the mount's own bucket; be->bwlimit becomes NULL. */
void ufs_be_bwlimit_fini(struct ufs_backend *be);

/* When be has a bucket, replace the writer *pw just opened with one that
 * charges every pwrite to it before passing it on (its other slots pass
 * through, NULL where *pw's are). 0, or -ENOMEM after aborting *pw
 * (*pw = NULL). */
int ufs_be_bwlimit_writer(struct ufs_backend *be, struct ufs_writer **pw);

#endif
