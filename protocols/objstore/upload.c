/*
 * upload.c — the part-upload pipeline (see upload.h).
 *
 * State, all under u->lock:
 *   queue   parts submitted and not yet picked by a thread (FIFO);
 *   busy    parts queued + running; submit waits while busy == parallel;
 *   queued  parts in the queue; idle threads waiting for one;
 *   err     the first part error (later parts are dropped, not uploaded);
 *   stop    set by destroy: threads exit once the queue is empty.
 * Threads are started on demand, one per submit while fewer than parallel
 * exist and none is idle. Invariant: busy == queue length + parts running.
 * Budget reservations are taken before malloc and released after free; a
 * buffer of the pool's size is taken from the pool (idle: already charged)
 * or mapped by it after the reservation, and goes back to it still charged.
 */
#include "protocols/objstore/upload.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/budget.h"
#include "common/bufpool.h"

struct upload_part {
	struct upload_part *next;
	uint32_t index;
	char *buf;
	size_t cap, len;
};

struct ufs_upload {
	struct ufs_budget *budget;
	struct ufs_bufpool *pool; /* NULL: malloc only */
	unsigned parallel;
	int wait_ms;
	ufs_upload_part_fn fn;
	void *arg;

	pthread_mutex_t lock;
	pthread_cond_t cv; /* queue grew, a part finished, or stop */
	struct upload_part *head, *tail;
	unsigned busy, queued, idle, nthreads;
	pthread_t *threads;
	int err;
	int stop;
};

int ufs_upload_create(struct ufs_budget *budget, struct ufs_bufpool *pool, unsigned parallel,
		      int wait_ms, ufs_upload_part_fn fn, void *arg, struct ufs_upload **pu)
{
	struct ufs_upload *u = calloc(1, sizeof(*u));

	if (parallel == 0)
		parallel = 1;
	if (u)
		u->threads = calloc(parallel, sizeof(*u->threads));
	if (!u || !u->threads) {
		free(u);
		return -ENOMEM;
	}
	u->budget = budget;
	u->pool = pool;
	u->parallel = parallel;
	u->wait_ms = wait_ms;
	u->fn = fn;
	u->arg = arg;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cv, NULL);
	*pu = u;
	return 0;
}

/* True when a buffer of cap bytes belongs to the pool's size. */
static int upload_pooled(const struct ufs_upload *u, size_t cap)
{
	return u->pool && cap == ufs_bufpool_size(u->pool);
}

int ufs_upload_alloc(struct ufs_upload *u, size_t cap, char **pbuf)
{
	int rc;

	*pbuf = upload_pooled(u, cap) ? ufs_bufpool_take(u->pool) : NULL;
	if (*pbuf)
		return 0;
	rc = ufs_budget_acquire(u->budget, cap, u->wait_ms);
	if (rc)
		return rc;
	*pbuf = upload_pooled(u, cap) ? ufs_bufpool_map(u->pool) : malloc(cap);
	if (!*pbuf) {
		ufs_budget_release(u->budget, cap);
		return -ENOMEM;
	}
	return 0;
}

void ufs_upload_free(struct ufs_upload *u, char *buf, size_t cap)
{
	if (!buf)
		return;
	if (upload_pooled(u, cap)) {
		ufs_bufpool_put(u->pool, buf);
		return;
	}
	free(buf);
	ufs_budget_release(u->budget, cap);
}

static void upload_part_free(struct ufs_upload *u, struct upload_part *p)
{
	ufs_upload_free(u, p->buf, p->cap);
	free(p);
}

/* Next queued part, or NULL when stopping with an empty queue. Lock held. */
static struct upload_part *upload_next(struct ufs_upload *u)
{
	struct upload_part *p;

	while (!u->head && !u->stop) {
		u->idle++;
		pthread_cond_wait(&u->cv, &u->lock);
		u->idle--;
	}
	p = u->head;
	if (p) {
		u->queued--;
		u->head = p->next;
		if (!u->head)
			u->tail = NULL;
	}
	return p;
}

static void *upload_thread(void *arg)
{
	struct ufs_upload *u = arg;
	struct upload_part *p;

	pthread_mutex_lock(&u->lock);
	while ((p = upload_next(u)) != NULL) {
		int skip = u->err != 0, rc = 0;

		pthread_mutex_unlock(&u->lock);
		if (!skip)
			rc = u->fn(u->arg, p->index, p->buf, p->len);
		upload_part_free(u, p);
		pthread_mutex_lock(&u->lock);
		if (rc && !u->err)
			u->err = rc;
		u->busy--;
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* Start one more thread unless an idle one will take the next part or the
 * cap is reached. Lock held. */
static int upload_spawn(struct ufs_upload *u)
{
	if (u->idle > u->queued || u->nthreads == u->parallel)
		return 0;
	if (pthread_create(&u->threads[u->nthreads], NULL, upload_thread, u) != 0)
		return u->nthreads > 0 ? 0 : -EAGAIN;
	u->nthreads++;
	return 0;
}

int ufs_upload_submit(struct ufs_upload *u, uint32_t index, char *buf, size_t cap, size_t len)
{
	struct upload_part *p = malloc(sizeof(*p));
	int rc;

	if (!p) {
		ufs_upload_free(u, buf, cap);
		return -ENOMEM;
	}
	*p = (struct upload_part){NULL, index, buf, cap, len};
	pthread_mutex_lock(&u->lock);
	while (u->busy >= u->parallel && !u->err)
		pthread_cond_wait(&u->cv, &u->lock);
	rc = u->err ? u->err : upload_spawn(u);
	if (rc == 0) {
		if (u->tail)
			u->tail->next = p;
		else
			u->head = p;
		u->tail = p;
		u->busy++;
		u->queued++;
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->lock);
	if (rc)
		upload_part_free(u, p);
	return rc;
}

int ufs_upload_wait(struct ufs_upload *u)
{
	int rc;

	pthread_mutex_lock(&u->lock);
	while (u->busy > 0)
		pthread_cond_wait(&u->cv, &u->lock);
	rc = u->err;
	pthread_mutex_unlock(&u->lock);
	return rc;
}

void ufs_upload_destroy(struct ufs_upload *u)
{
	struct upload_part *p;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	while ((p = u->head) != NULL) {
		u->head = p->next;
		u->busy--;
		u->queued--;
		upload_part_free(u, p);
	}
	u->tail = NULL;
	u->stop = 1;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->lock);
	for (unsigned i = 0; i < u->nthreads; i++)
		pthread_join(u->threads[i], NULL);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->lock);
	free(u->threads);
	free(u);
}
