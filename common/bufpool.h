/*
 * bufpool.h — recycled fixed-size buffers charged to the memory budget.
 *
 * Fresh anonymous memory costs a page-zeroing fault per page on first touch
 * (on a VM that backs guest memory lazily, several microseconds a page), so
 * buffers of one size are mapped once and then recycled: the block cache's
 * blocks, and upload parts of the same size (a backend's ufs_backend.bufpool,
 * the cache's pool handed over by the daemon). Idle buffers stay charged;
 * they go back to the kernel when the budget needs the memory (the cache's
 * reclaim hook calls ufs_bufpool_release first), or after idle_s seconds
 * without use.
 */
#ifndef UFS_BUFPOOL_H
#define UFS_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

struct ufs_budget;
struct ufs_bufpool;

struct ufs_bufpool_stats {
	uint64_t mapped;     /* buffers mapped fresh (each page faulted and zeroed once) */
	uint64_t reused;     /* buffers handed out again from the idle stack */
	uint64_t released;   /* buffers unmapped (reclaim, budget shrink, idle) */
	uint64_t idle_bytes; /* idle buffers now (charged to the budget) */
};

/* A pool of bs-byte buffers charged to budget; idle buffers are unmapped
 * after idle_s seconds without use (0: only on release). NULL on ENOMEM. */
struct ufs_bufpool *ufs_bufpool_create(struct ufs_budget *budget, size_t bs, unsigned idle_s);
/* Unmap every idle buffer (returning its charge), stop the trimmer, free.
 * Buffers still held by callers must have been given back. NULL is a no-op. */
void ufs_bufpool_destroy(struct ufs_bufpool *p);
/* An idle buffer (already charged, contents undefined) or NULL. */
char *ufs_bufpool_take(struct ufs_bufpool *p);
/* Map a fresh buffer; the caller has charged bs bytes. NULL on ENOMEM. */
char *ufs_bufpool_map(struct ufs_bufpool *p);
/* Fault in all of a fresh buffer from ufs_bufpool_map at once, for a caller
 * about to write it whole (cheaper than a fault per page; best effort). */
void ufs_bufpool_populate(const struct ufs_bufpool *p, char *buf);
/* Give buf back as idle; it stays charged. NULL is a no-op. */
void ufs_bufpool_put(struct ufs_bufpool *p, char *buf);
/* Unmap buf (not idle) and return its charge. NULL is a no-op. */
void ufs_bufpool_unmap(struct ufs_bufpool *p, char *buf);
/* Unmap idle buffers until need bytes are released or none is left;
 * returns the bytes released (their charge is returned to the budget). */
uint64_t ufs_bufpool_release(struct ufs_bufpool *p, uint64_t need);
/* If nothing was taken or put since idle_s seconds before now_ms
 * (CLOCK_MONOTONIC milliseconds), unmap every idle buffer; returns bytes. */
uint64_t ufs_bufpool_trim(struct ufs_bufpool *p, uint64_t now_ms);
/* Counters and idle bytes now. */
void ufs_bufpool_get_stats(struct ufs_bufpool *p, struct ufs_bufpool_stats *pst);
/* The size of every buffer of p. */
size_t ufs_bufpool_size(const struct ufs_bufpool *p);

#endif
