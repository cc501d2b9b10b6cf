/*
 * queue.c — the bounded queue between the walk (one producer) and
 * the copy workers (many consumers): a ring of `cap` item pointers under one
 * mutex, with "not full" / "not empty" conditions. Its capacity is what
 * keeps the engine's memory independent of the number of files.
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct mig_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	struct mig_item **ring;
	size_t cap, head, len;
	int closed;
};

int mig_queue_create(size_t cap, struct mig_queue **pq)
{
	struct mig_queue *q = calloc(1, sizeof(*q));

	if (q)
		q->ring = calloc(cap ? cap : 1, sizeof(*q->ring));
	if (!q || !q->ring) {
		free(q);
		return -ENOMEM;
	}
	q->cap = cap ? cap : 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	*pq = q;
	return 0;
}

void mig_queue_push(struct mig_queue *q, struct mig_item *it)
{
	pthread_mutex_lock(&q->lock);
	while (q->len == q->cap)
		pthread_cond_wait(&q->not_full, &q->lock);
	q->ring[(q->head + q->len) % q->cap] = it;
	q->len++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

struct mig_item *mig_queue_pop(struct mig_queue *q)
{
	struct mig_item *it = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->len == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->len) {
		it = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->lock);
	return it;
}

void mig_queue_close(struct mig_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
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
	while (q->len) {
		mig_item_free(q->ring[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}
