/*
 * budget.h — the one global memory budget ([global] memory) shared by cached
 * blocks, read-ahead and write buffers. A counting reservation: callers
 * acquire bytes before allocating and release them after freeing. When an
 * acquire would exceed the limit, the registered reclaim hooks are asked, in
 * the order they were registered, to free memory (the daemon registers the
 * block cache first, which drops speculative blocks first, then the metadata
 * cache, which drops cached listings); if that is not enough the caller
 * waits (bounded) or fails.
 */
#ifndef UFS_BUDGET_H
#define UFS_BUDGET_H

#include <stdint.h>

struct ufs_budget;

/* Reclaim hook: try to release at least need bytes (by calling
 * ufs_budget_release for what it frees); returns bytes freed. Called without
 * the budget lock held. */
typedef uint64_t (*ufs_reclaim_fn)(void *arg, uint64_t need);

/* New budget of limit bytes; NULL on ENOMEM. */
struct ufs_budget *ufs_budget_create(uint64_t limit);
/* Free; NULL is a no-op. */
void ufs_budget_destroy(struct ufs_budget *b);
#define UFS_BUDGET_MAX_RECLAIM 4

/* Register fn(arg) as a reclaim hook, after those already registered
 * (replacing fn's earlier registration with the same arg). fn NULL removes
 * the hooks registered with arg (arg NULL: every hook). Returns 0, or -ENOSPC
 * past UFS_BUDGET_MAX_RECLAIM hooks. */
int ufs_budget_set_reclaim(struct ufs_budget *b, ufs_reclaim_fn fn, void *arg);
/*
 * Reserve n bytes. Tries reclaim, then waits up to wait_ms (-1: forever) for
 * releases. Returns 0, or -ENOMEM when n exceeds the whole limit or the wait
 * timed out. b == NULL always succeeds (unbounded, e.g. CLI use).
 */
int ufs_budget_acquire(struct ufs_budget *b, uint64_t n, int wait_ms);
/* Reserve only if it fits now (no reclaim, no wait): 0 or -ENOMEM. */
int ufs_budget_try(struct ufs_budget *b, uint64_t n);
/* Change the limit; when less than what is reserved, ask the reclaim hooks
 * (the cache: idle buffers first, then blocks; then cached listings) for the excess. Returns the
 * bytes the hook freed. */
uint64_t ufs_budget_set_limit(struct ufs_budget *b, uint64_t limit);
/* Return n bytes; wakes waiters. */
void ufs_budget_release(struct ufs_budget *b, uint64_t n);
/* Bytes reserved now / the limit / the highest reservation seen. */
uint64_t ufs_budget_used(const struct ufs_budget *b);
uint64_t ufs_budget_limit(const struct ufs_budget *b);
uint64_t ufs_budget_peak(const struct ufs_budget *b);

#endif
