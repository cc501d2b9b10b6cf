/*
 * nfs_fhcache.h — a bounded, thread-safe map from a backend-relative path
 * ("a/b/c", no leading '/', "" is the export root) to its NFSv3 file handle,
 * shared by all connections of one NFS backend (see nfs_fhcache.c).
 */
#ifndef UFS_NFS_FHCACHE_H
#define UFS_NFS_FHCACHE_H

#include <stddef.h>

#define UFS_NFS_FH_MAX 64 /* NFSv3 file handles are at most 64 bytes */

/* One file handle: opaque bytes. */
struct ufs_nfs_fh {
	unsigned len;
	unsigned char data[UFS_NFS_FH_MAX];
};

struct ufs_nfs_fhcache;

/*
 * A cache of at most cap entries (cap >= 1; the least recently used one is
 * evicted), each trusted for ttl seconds after it was stored. NULL on ENOMEM.
 */
struct ufs_nfs_fhcache *ufs_nfs_fhcache_new(size_t cap, double ttl);

/* Free the cache and every entry; NULL is ignored. */
void ufs_nfs_fhcache_free(struct ufs_nfs_fhcache *fc);

/*
 * Store (or replace) path's handle, stored at time now (monotonic seconds);
 * it expires at now + ttl. 0, -EINVAL (fh too long), or -ENOMEM.
 */
int ufs_nfs_fhcache_put(struct ufs_nfs_fhcache *fc, const char *path, const struct ufs_nfs_fh *fh,
			double now);

/*
 * Copy path's handle to *fh and mark it recently used: 0, or -ENOENT when
 * it is not cached or has expired by now (an expired entry is removed).
 */
int ufs_nfs_fhcache_get(struct ufs_nfs_fhcache *fc, const char *path, struct ufs_nfs_fh *fh,
			double now);

/*
 * The longest proper-or-full prefix of path, cut at a '/' boundary, that has
 * a fresh entry: its length in bytes (the prefix is path[0, len)) with its
 * handle in *fh, or 0 when none is cached ("" itself is never looked up).
 */
size_t ufs_nfs_fhcache_longest(struct ufs_nfs_fhcache *fc, const char *path, struct ufs_nfs_fh *fh,
			       double now);

/*
 * Forget path; with subtree also every path under it ("path/..."), as after
 * an rmdir or a rename of a directory. path "" with subtree empties the cache.
 */
void ufs_nfs_fhcache_drop(struct ufs_nfs_fhcache *fc, const char *path, int subtree);

/* Number of entries held (expired ones included until they are touched). */
size_t ufs_nfs_fhcache_count(struct ufs_nfs_fhcache *fc);

#endif
