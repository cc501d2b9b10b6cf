/*
 * pool.h — one worker pool: up to n threads running jobs from one FIFO queue.
 *
 * Jobs are embedded in their owners (no allocation per job); a job's run()
 * is told whether it was cancelled (the pool stopped before it started), and
 * must clean up either way. Workers are long-lived, so a backend's
 * per-thread connection is reused job after job: N workers = N parallel
 * connections. Options (flags of ufs_pool_create):
 *   - threads started all at once (default), or on demand (UFS_POOL_LAZY:
 *     a submit that finds no idle worker starts one, up to n);
 *   - at destroy, queued jobs cancelled (default: run with cancelled = 1 on
 *     the destroying thread once the workers are gone) or drained
 *     (UFS_POOL_DRAIN: the workers run them all first).
 * A batch (struct ufs_pool_batch) counts the jobs submitted with it that
 * have not finished, so a caller can wait for all of them, or for room below
 * a bound.
 */
#ifndef UFS_POOL_H
#define UFS_POOL_H

#include <pthread.h>

struct ufs_pool_batch;

/* A unit of work embedded in its owner. next and batch are the pool's. */
struct ufs_job {
	void (*run)(struct ufs_job *j, int cancelled);
	struct ufs_job *next;
	struct ufs_pool_batch *batch;
};

/* Jobs in flight of one submitter (see ufs_pool_submit_batch). */
struct ufs_pool_batch {
	pthread_mutex_t lock;
	pthread_cond_t done;
	unsigned pending; /* submitted, run() not returned yet */
};

struct ufs_pool;

enum {
	UFS_POOL_LAZY = 1,  /* start threads on demand, up to nthreads */
	UFS_POOL_DRAIN = 2, /* destroy runs every queued job (cancelled = 0) first */
};

/* A pool of up to nthreads workers named name (<= 15 chars; NULL: unnamed),
 * flags UFS_POOL_*. Without UFS_POOL_LAZY they all start now, and NULL
 * comes back when none could (nthreads 0 makes a pool whose jobs only run,
 * cancelled, at destroy). NULL on ENOMEM. */
struct ufs_pool *ufs_pool_create(unsigned nthreads, const char *name, unsigned flags);
/* Queue j (FIFO); the pool never frees j. 0, -ESHUTDOWN once destroy began,
 * or -EAGAIN when a lazy pool has no thread and cannot start one (j is not
 * queued either way). */
int ufs_pool_submit(struct ufs_pool *p, struct ufs_job *j);
/* ufs_pool_submit, with j counted in b until its run() returns (b must
 * outlive that: ufs_pool_batch_wait(b, 0) before freeing it). */
int ufs_pool_submit_batch(struct ufs_pool *p, struct ufs_pool_batch *b, struct ufs_job *j);
/* Threads running now. */
unsigned ufs_pool_threads(struct ufs_pool *p);
/* Stop: running jobs finish; queued ones are drained or cancelled (see
 * flags); the workers are joined and the pool freed. NULL is a no-op. */
void ufs_pool_destroy(struct ufs_pool *p);

/* An empty batch. */
void ufs_pool_batch_init(struct ufs_pool_batch *b);
/* Wait until at most max jobs of b are pending (0: all of them finished). */
void ufs_pool_batch_wait(struct ufs_pool_batch *b, unsigned max);
/* Free what init made (no job pending). */
void ufs_pool_batch_fini(struct ufs_pool_batch *b);

#endif
