/*
 * cache.h — the block cache between fs/ and protocols/ (see
 * docs/architecture.md, "Data flow"). fs/ opens one read stream per open file handle and reads
 * through it; the cache serves blocks from memory, then from the disk tier,
 * then from the backend, and runs read-ahead on its own worker pool.
 *
 * Blocks are block_size bytes, keyed by xxh3_128(backend, path, identity
 * (size, mtime, etag), gen, block index): a new version of an object, or a
 * local write (the caller bumps gen), never hits old blocks.
 */
#ifndef UFS_CACHE_H
#define UFS_CACHE_H

#include <stdint.h>
#include <sys/types.h>

#include "protocols/backend.h"

struct ufs_budget;
struct ufs_meta_dir;
struct ufs_cache;
struct ufs_bufpool;
struct ufs_cache_pin;
struct ufs_rstream;
struct iovec;

struct ufs_cache_cfg {
	struct ufs_budget *budget; /* shared memory budget (required) */
	uint64_t block_size;	   /* bytes, e.g. 8 MiB */
	uint64_t readahead_max;	   /* read-ahead window cap in bytes */
	const char *cache_dir;	   /* disk tier, NULL = memory only */
	uint64_t cache_size;	   /* disk tier bound in bytes */
	unsigned workers;	   /* fetch threads */
};

struct ufs_cache_stats {
	uint64_t mem_hits, mem_misses;
	uint64_t disk_hits, disk_misses, disk_checksum_failures, disk_bytes;
	/* disk-tier fills (never on the read path): blocks stored, skipped (the
	 * queue was full), evicted (left memory before their turn), failed
	 * (ENOSPC, I/O errors), queued now; bytes written, and per second over
	 * the last ~1 s window (0 when idle) */
	uint64_t disk_fills, disk_fill_skips, disk_fill_evicted, disk_fill_errors;
	uint64_t disk_fill_pending;
	uint64_t disk_write_bytes, disk_write_bps;
	uint64_t prefetch_bytes, prefetch_used_bytes, prefetch_wasted_bytes;
	uint64_t fetched_bytes; /* from backends */
	uint64_t mem_used, mem_limit, mem_peak;
	/* block buffers: mapped fresh (pages zeroed by the kernel on first
	 * touch), handed out again, unmapped; idle ones held now */
	uint64_t buf_mapped, buf_reused, buf_released, buf_idle_bytes;
};

/* Create the cache (and its worker pool). 0 or -errno with a message. */
int ufs_cache_create(const struct ufs_cache_cfg *cfg, struct ufs_cache **pc, char *err,
		     size_t errlen);
/* Stop workers, free every block; NULL is a no-op. Streams must be closed.
 * Call it before destroying the backends: queued read-ahead and hint jobs
 * may still be using them until it returns (pending disk writes finish). */
void ufs_cache_destroy(struct ufs_cache *c);

/* Open a read stream over obj (its identity is copied: the pin). gen is the
 * caller's local-write generation for this file. 0 or -ENOMEM. */
int ufs_cache_open(struct ufs_cache *c, struct ufs_backend *be, const struct ufs_obj *obj,
		   uint64_t gen, struct ufs_rstream **ps);
/* Read up to len bytes at off; returns bytes (short only at end of object)
 * or -errno (-ESTALE if the object changed, backend errors as they come).
 * Safe to call from several threads on one stream. */
ssize_t ufs_cache_read(struct ufs_rstream *s, void *buf, size_t len, uint64_t off);
/* A read for the direct path, as O_DIRECT skips the page cache: blocks in
 * memory or on disk are copied from there (a block being fetched is awaited),
 * missing ones are read from the backend straight into buf and not cached,
 * and no read-ahead is planned (the caller runs its own parallel reads).
 * Returns as ufs_cache_read. */
ssize_t ufs_cache_read_through(struct ufs_rstream *s, void *buf, size_t len, uint64_t off);
/*
 * Zero-copy read: like ufs_cache_read (same read-ahead, statistics, -ESTALE
 * and EOF behaviour: bytes, short only at end of object, or -errno), but
 * instead of copying, *ppin is set to a pin whose iovecs (ufs_cache_pin_iov)
 * point into the cached blocks (or an uncached buffer) and cover exactly the
 * returned bytes in order. The memory stays valid and unchanged (its blocks
 * cannot be evicted, freed or reused) until ufs_cache_unpin(*ppin); hold it
 * briefly (pinned blocks count against memory). When the result is <= 0,
 * *ppin is NULL. Safe to call from several threads on one stream.
 */
ssize_t ufs_cache_read_pinned(struct ufs_rstream *s, size_t len, uint64_t off,
			      struct ufs_cache_pin **ppin);
/* The pin's iovecs: *piov set, their count returned (0 for a NULL pin). */
int ufs_cache_pin_iov(const struct ufs_cache_pin *pin, const struct iovec **piov);
/* Release a pin from ufs_cache_read_pinned; NULL is a no-op. May be called
 * from any thread, also after the stream was closed. */
void ufs_cache_unpin(struct ufs_cache_pin *pin);
/* Close the stream; its speculative blocks become evictable first. */
void ufs_cache_close(struct ufs_rstream *s);

/* Directory-order prefetch hint: the reader is likely to open obj next;
 * start fetching its first block(s) in the background. */
void ufs_cache_hint(struct ufs_cache *c, struct ufs_backend *be, const struct ufs_obj *obj);

/*
 * The identity (size, mtime, etag) path of be had when it was last opened
 * through a cache with a disk tier, kept there across mounts (ADDED for the
 * offline epoch 2: a server that is down at remount can still serve what the
 * disk tier holds). 0 and *pobj filled (pobj->path set to NULL: the caller
 * owns the path), or -ENOENT (no disk tier, never opened, record corrupt).
 */
int ufs_cache_last_identity(struct ufs_cache *c, struct ufs_backend *be, const char *path,
			    struct ufs_obj *pobj);

/*
 * Offline listings (offline.c): keep the listing d of directory dir of be in
 * the disk tier (no-op without one, or past 16 MiB encoded), so that a
 * remount with the server down can list what it saw.
 */
void ufs_cache_save_listing(struct ufs_cache *c, struct ufs_backend *be, const char *dir,
			    const struct ufs_meta_dir *d);
/* The listing of dir last saved: 0 and *pd a new listing (sorted, modes and
 * owners as listed), or -ENOENT (no disk tier, never saved, record corrupt)
 * / -ENOMEM. */
int ufs_cache_last_listing(struct ufs_cache *c, struct ufs_backend *be, const char *dir,
			   struct ufs_meta_dir **pd);

/* The pool of block-size buffers (charged to the cache's budget): the daemon
 * lends it to the backends for upload parts of the same size. NULL when c
 * is NULL. */
struct ufs_bufpool *ufs_cache_bufpool(struct ufs_cache *c);

/* Snapshot of the counters. */
void ufs_cache_get_stats(struct ufs_cache *c, struct ufs_cache_stats *pst);

#endif
