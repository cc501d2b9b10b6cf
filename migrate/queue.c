/*
 * queue.c — the work queue between the walk (one producer) and the copy
 * workers: every pushed entry runs as a job of a common worker pool
 * (common/pool.h) of nworkers threads, all started at once. The pool is
 * UFS_POOL_DRAIN, so destroy returns only once every pushed entry ran, as
 * a closed queue drained by its workers did.
 *
 * One batch counts the entries pushed and not yet finished; push waits
 * while cap + nworkers of them are alive (cap waiting, one running on each
 * worker). That bound is what keeps the engine's memory independent of the
 * number of files.
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "common/pool.h"

struct mig_queue {
	struct ufs_pool *pool;	     /* UFS_POOL_DRAIN, nworkers threads */
	struct ufs_pool_batch alive; /* entries pushed, not finished */
	unsigned bound;		     /* cap + nworkers: most entries alive */
	mig_item_fn fn;
	struct mig_run *r;
};

int mig_queue_create(unsigned cap, unsigned nworkers, mig_item_fn fn, struct mig_run *r,
		     struct mig_queue **pq)
{
	struct mig_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->pool = ufs_pool_create(nworkers, NULL, UFS_POOL_DRAIN);
	if (!q->pool || ufs_pool_threads(q->pool) < nworkers) {
		ufs_pool_destroy(q->pool); /* all the workers or none */
		free(q);
		return -EAGAIN;
	}
	ufs_pool_batch_init(&q->alive);
	q->bound = (cap ? cap : 1) + nworkers;
	q->fn = fn;
	q->r = r;
	*pq = q;
	return 0;
}

/* An entry's job: handle it, then free it. A drained pool never cancels
 * one (and a cancelled one would still be handled: every entry counts). */
static void queue_run(struct ufs_job *j, int cancelled)
{
	struct mig_item *it = (struct mig_item *)((char *)j - offsetof(struct mig_item, job));

	(void)cancelled;
	it->q->fn(it->q->r, it);
	mig_item_free(it);
}

void mig_queue_push(struct mig_queue *q, struct mig_item *it)
{
	it->job.run = queue_run;
	it->q = q;
	ufs_pool_batch_wait(&q->alive, q->bound - 1);
	if (ufs_pool_submit_batch(q->pool, &q->alive, &it->job) < 0)
		queue_run(&it->job, 0); /* not while q lives; handled here all the same */
}

void mig_item_free(struct mig_item *it)
{
	if (it)
		free(it->rel);
	free(it);
}

void mig_queue_destroy(struct mig_queue *q)
{
	if (!q)
		return;
	ufs_pool_destroy(q->pool); /* every pushed entry runs first */
	ufs_pool_batch_fini(&q->alive);
	free(q);
}
