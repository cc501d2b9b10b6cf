/*
 * pool.c — the worker pool of pool.h: up to max threads running embedded
 * jobs from one FIFO queue.
 *
 * States: running (stop == 0) -> stopping (stop == 1, set by destroy: no
 * job is queued any more; workers exit once the job in hand is done, or,
 * with UFS_POOL_DRAIN, once the queue is empty; destroy then runs what is
 * left with cancelled = 1 and frees the pool).
 * Invariants (lock held): queued == length of the queue; idle == workers
 * waiting for a job; nthreads <= max. A lazy pool starts a worker on a
 * submit that finds no more idle workers than queued jobs (so every queued
 * job has a worker coming for it), as long as fewer than max run.
 * Locks: pool.lock and each ufs_pool_batch.lock are leaves, never held together;
 * jobs run with neither held.
 */
#include "common/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ufs_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a job was queued, or stop */
	struct ufs_job *head, *tail;
	unsigned queued, idle;
	int stop;
	unsigned flags;
	unsigned max, nthreads;
	pthread_t *threads;
	char name[16]; /* "" : unnamed */
};

/* ---- batches ---- */

void ufs_pool_batch_init(struct ufs_pool_batch *b)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->done, NULL);
	b->pending = 0;
}

void ufs_pool_batch_fini(struct ufs_pool_batch *b)
{
	pthread_cond_destroy(&b->done);
	pthread_mutex_destroy(&b->lock);
}

static void batch_add(struct ufs_pool_batch *b)
{
	pthread_mutex_lock(&b->lock);
	b->pending++;
	pthread_mutex_unlock(&b->lock);
}

/* One job of b finished (or was never queued). */
static void batch_done(struct ufs_pool_batch *b)
{
	pthread_mutex_lock(&b->lock);
	b->pending--;
	pthread_cond_broadcast(&b->done);
	pthread_mutex_unlock(&b->lock);
}

void ufs_pool_batch_wait(struct ufs_pool_batch *b, unsigned max)
{
	pthread_mutex_lock(&b->lock);
	while (b->pending > max)
		pthread_cond_wait(&b->done, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

/* ---- workers ---- */

/* Run j and count it out of its batch (read first: run may free j). */
static void pool_run(struct ufs_job *j, int cancelled)
{
	struct ufs_pool_batch *b = j->batch;

	j->run(j, cancelled);
	if (b)
		batch_done(b);
}

/* Take the queue's first job, or NULL when there is none. Lock held. */
static struct ufs_job *pool_take_locked(struct ufs_pool *p)
{
	struct ufs_job *j = p->head;

	if (!j)
		return NULL;
	p->head = j->next;
	if (!p->head)
		p->tail = NULL;
	j->next = NULL;
	p->queued--;
	return j;
}

/* The next job for a worker, or NULL once it must exit. Lock held. */
static struct ufs_job *pool_next_locked(struct ufs_pool *p)
{
	while (!p->head && !p->stop) {
		p->idle++;
		pthread_cond_wait(&p->wake, &p->lock);
		p->idle--;
	}
	if (p->stop && !(p->flags & UFS_POOL_DRAIN))
		return NULL;
	return pool_take_locked(p);
}

static void *pool_worker(void *arg)
{
	struct ufs_pool *p = arg;
	struct ufs_job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		j = pool_next_locked(p);
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return NULL;
		pool_run(j, 0);
	}
}

/* Start one more worker. 0 or -EAGAIN. Lock held (or not yet shared). */
static int pool_start_locked(struct ufs_pool *p)
{
	if (pthread_create(&p->threads[p->nthreads], NULL, pool_worker, p) != 0)
		return -EAGAIN;
	if (p->name[0])
		pthread_setname_np(p->threads[p->nthreads], p->name);
	p->nthreads++;
	return 0;
}

/* ---- the pool ---- */

struct ufs_pool *ufs_pool_create(unsigned nthreads, const char *name, unsigned flags)
{
	struct ufs_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->threads = calloc(nthreads ? nthreads : 1, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->flags = flags;
	p->max = nthreads;
	if (name)
		strncpy(p->name, name, sizeof(p->name) - 1);
	if (flags & UFS_POOL_LAZY)
		return p;
	while (p->nthreads < nthreads && pool_start_locked(p) == 0)
		;
	if (p->nthreads == 0 && nthreads > 0) {
		ufs_pool_destroy(p);
		return NULL;
	}
	return p;
}

/* Whether a lazy pool needs one more worker for one more job. Lock held. */
static int pool_wants_worker(const struct ufs_pool *p)
{
	return (p->flags & UFS_POOL_LAZY) && p->idle <= p->queued && p->nthreads < p->max;
}

int ufs_pool_submit_batch(struct ufs_pool *p, struct ufs_pool_batch *b, struct ufs_job *j)
{
	int rc = 0;

	j->next = NULL;
	j->batch = b;
	if (b)
		batch_add(b);
	pthread_mutex_lock(&p->lock);
	if (p->stop)
		rc = -ESHUTDOWN;
	else if (pool_wants_worker(p) && pool_start_locked(p) < 0 && p->nthreads == 0)
		rc = -EAGAIN;
	if (rc == 0) {
		if (p->tail)
			p->tail->next = j;
		else
			p->head = j;
		p->tail = j;
		p->queued++;
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	if (rc < 0 && b)
		batch_done(b);
	return rc;
}

int ufs_pool_submit(struct ufs_pool *p, struct ufs_job *j)
{
	return ufs_pool_submit_batch(p, NULL, j);
}

unsigned ufs_pool_threads(struct ufs_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->nthreads;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void ufs_pool_destroy(struct ufs_pool *p)
{
	struct ufs_job *j;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while ((j = pool_take_locked(p))) /* the workers are gone: no lock needed */
		pool_run(j, 1);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}
