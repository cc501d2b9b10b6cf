/*
 * pool.h — a fixed set of worker threads running embedded jobs (pool.c).
 */
#ifndef UFS_POOL_H
#define UFS_POOL_H

/* A unit of work embedded in its owner; run() gets cancelled != 0 when the
 * pool is destroyed before the job started (it must still clean up). */
struct ufs_job {
	void (*run)(struct ufs_job *j, int cancelled);
	struct ufs_job *next;
};

struct ufs_pool;

/* Start nthreads workers named name (<= 15 chars). NULL on failure. */
struct ufs_pool *ufs_pool_create(unsigned nthreads, const char *name);
/* Queue j (FIFO). The pool never frees j. 0, or -ESHUTDOWN after destroy began. */
int ufs_pool_submit(struct ufs_pool *p, struct ufs_job *j);
/* Let running jobs finish, run queued ones with cancelled = 1, join, free.
 * NULL is a no-op. */
void ufs_pool_destroy(struct ufs_pool *p);

#endif
