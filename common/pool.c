/*
 * pool.c — a fixed set of worker threads running jobs from one FIFO queue.
 *
 * Jobs are embedded in their owners (no allocation per job). Each worker is a
 * long-lived thread, so a backend's per-thread connection is reused job after
 * job: N workers = N parallel connections.
 *
 * States: running (stop == 0) -> stopping (stop == 1: workers exit once the
 * job in hand is done; queued jobs are run with cancelled = 1 by destroy).
 * Lock: pool.lock is a leaf; jobs run without it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/pool.h"

struct ufs_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ufs_job *head, *tail;
	int stop;
	unsigned nthreads;
	pthread_t *threads;
};

/* Pop the next job, or NULL once stopping. Caller holds the lock. */
static struct ufs_job *pool_pop_locked(struct ufs_pool *p)
{
	struct ufs_job *j;

	while (!p->head && !p->stop)
		pthread_cond_wait(&p->wake, &p->lock);
	if (p->stop)
		return NULL;
	j = p->head;
	p->head = j->next;
	if (!p->head)
		p->tail = NULL;
	j->next = NULL;
	return j;
}

static void *pool_worker(void *arg)
{
	struct ufs_pool *p = arg;
	struct ufs_job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		j = pool_pop_locked(p);
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return NULL;
		j->run(j, 0);
	}
}

struct ufs_pool *ufs_pool_create(unsigned nthreads, const char *name)
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
	for (unsigned i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_worker, p) != 0)
			break;
		pthread_setname_np(p->threads[i], name);
		p->nthreads++;
	}
	if (p->nthreads == 0 && nthreads > 0) {
		ufs_pool_destroy(p);
		return NULL;
	}
	return p;
}

int ufs_pool_submit(struct ufs_pool *p, struct ufs_job *j)
{
	int rc = 0;

	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stop) {
		rc = -ESHUTDOWN;
	} else {
		if (p->tail)
			p->tail->next = j;
		else
			p->head = j;
		p->tail = j;
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
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
	while ((j = p->head)) {
		p->head = j->next;
		j->next = NULL;
		j->run(j, 1);
	}
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}
