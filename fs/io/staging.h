/*
 * staging.h — the local staging file of an object-store write (staging.c),
 * private to the I/O room: writepath.c is its one user.
 */
#ifndef UFS_FS_IO_STAGING_H
#define UFS_FS_IO_STAGING_H

#include <stdint.h>
#include <sys/types.h>

#include "protocols/backend.h"

struct fs_stage;

/* New empty staging file in dir (created 0600 and unlinked at once). */
int fs_stage_create(const char *dir, struct fs_stage **ps);
/* Fill st with the current content of obj (st must be empty). 0/-errno. */
int fs_stage_fill(struct fs_stage *st, struct ufs_backend *be, const struct ufs_obj *obj);
/* Write all of buf at off (the file grows as needed): len or -errno. */
ssize_t fs_stage_pwrite(struct fs_stage *st, const void *buf, size_t len, uint64_t off);
/* Read up to len bytes at off: bytes (short only at the end) or -errno. */
ssize_t fs_stage_pread(struct fs_stage *st, void *buf, size_t len, uint64_t off);
/* Set the size of the staged file. 0 or -errno. */
int fs_stage_truncate(struct fs_stage *st, uint64_t size);
/* Size of the staged file. */
uint64_t fs_stage_size(const struct fs_stage *st);
/* Upload the whole file as a new version of rel. 0 or the first -errno. */
int fs_stage_upload(struct fs_stage *st, struct ufs_backend *be, const char *rel);
/* Close and free; NULL is a no-op. */
void fs_stage_destroy(struct fs_stage *st);

#endif
