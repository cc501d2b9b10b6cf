/*
 * helper_membackend.h — an in-memory backend (struct ufs_backend_ops) for
 * deterministic unit tests. It counts read calls and bytes, can inject
 * errors and delays, and checks a read's pinned identity (size + etag) like
 * a real backend: a changed object fails with -ESTALE.
 */
#ifndef UFS_HELPER_MEMBACKEND_H
#define UFS_HELPER_MEMBACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/backend.h"

/* New empty backend whose key URL is url (e.g. "mem://a"). Free it with
 * ufs_backend_destroy(). NULL on ENOMEM. */
struct ufs_backend *ufs_memb_create(const char *url);
/* Create or replace the object at path with a copy of data; etag is its
 * version tag. 0 or -ENOMEM. */
int ufs_memb_put(struct ufs_backend *be, const char *path, const void *data, size_t size,
		 const char *etag);
/* Fill *pobj with the current identity of path (pobj->path points into the
 * backend). 0 or -ENOENT. */
int ufs_memb_obj(struct ufs_backend *be, const char *path, struct ufs_obj *pobj);
/* Make the next count reads fail with err (count < 0: until reset with 0). */
void ufs_memb_fail(struct ufs_backend *be, int err, int count);
/* Delay every read by us microseconds (outside the backend's lock). */
void ufs_memb_set_delay(struct ufs_backend *be, unsigned us);
/* Read calls made / bytes returned / highest number of reads in flight at once. */
uint64_t ufs_memb_reads(struct ufs_backend *be);
uint64_t ufs_memb_bytes(struct ufs_backend *be);
unsigned ufs_memb_max_inflight(struct ufs_backend *be);
/* Reads whose range touched [off, off+len). */
uint64_t ufs_memb_reads_touching(struct ufs_backend *be, uint64_t off, uint64_t len);
/* Zero the counters. */
void ufs_memb_reset_counts(struct ufs_backend *be);

/*
 * An in-memory object store behind the shared object-store layer
 * (protocols/objstore/): the same primitives S3 and Azure supply, over a
 * flat sorted key space, so object-store semantics are tested without a
 * server. azure_markers: directory markers are "d" objects flagged as
 * folders (Azure) instead of "d/" keys (S3). m supplies the owner/mode keys
 * (borrowed; its prefix names the mount). part_len: bytes per upload part.
 * 0 or -errno with a one-line message in err.
 */
int ufs_memos_create(const struct ufs_mount_cfg *m, int azure_markers, size_t part_len,
		     struct ufs_backend **pbe, char *err, size_t errlen);
/* Store data as the raw key (a folder marker when marker). 0 or -ENOMEM. */
int ufs_memos_put(struct ufs_backend *be, const char *key, const void *data, size_t size,
		  int marker);
/* Does the raw key exist? */
int ufs_memos_has(struct ufs_backend *be, const char *key);
/* on: every listing page says "more" with the same continuation token (a
 * server that loops). */
void ufs_memos_stuck_token(struct ufs_backend *be, int on);

#endif
