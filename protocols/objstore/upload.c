/*
 * upload.c — the part-upload pipeline (see upload.h).
 *
 * Parts run as jobs of a lazy common worker pool (common/pool.h) of
 * `parallel` threads, all counted in one batch: a thread starts on a
 * submit that finds none idle for it, up to parallel (so a small file never
 * starts one), and the batch's pending count is the parts queued or
 * running. Submit waits for that count to drop below parallel; wait, for it
 * to reach zero. One writer submits at a time (the writer's own order), so
 * the wait and the submit need no lock together.
 * err (under u->lock) is the first part error: later parts are dropped,
 * not uploaded, and submit returns it. Destroy stops the pool: running
 * parts finish, queued ones run cancelled (freed, not uploaded).
 * Budget reservations are taken before malloc and released after free; a
 * buffer of the pool's size is taken from the pool (idle: already charged)
 * or mapped by it after the reservation, and goes back to it still charged.
 */
#include "protocols/objstore/upload.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "common/budget.h"
#include "common/bufpool.h"
#include "common/pool.h"

struct upload_part {
	struct ufs_job job; /* on u->workers, counted in u->parts */
	struct ufs_upload *u;
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

	struct ufs_pool *workers;    /* lazy, up to parallel threads */
	struct ufs_pool_batch parts; /* parts queued or running */
	pthread_mutex_t lock;	     /* err */
	int err;
};

static void upload_part_run(struct ufs_job *j, int cancelled);

int ufs_upload_create(struct ufs_budget *budget, struct ufs_bufpool *pool, unsigned parallel,
		      int wait_ms, ufs_upload_part_fn fn, void *arg, struct ufs_upload **pu)
{
	struct ufs_upload *u = calloc(1, sizeof(*u));

	if (parallel == 0)
		parallel = 1;
	if (u)
		u->workers = ufs_pool_create(parallel, NULL, UFS_POOL_LAZY);
	if (!u || !u->workers) {
		free(u);
		return -ENOMEM;
	}
	u->budget = budget;
	u->pool = pool;
	u->parallel = parallel;
	u->wait_ms = wait_ms;
	u->fn = fn;
	u->arg = arg;
	ufs_pool_batch_init(&u->parts);
	pthread_mutex_init(&u->lock, NULL);
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

/* The first part error so far, or 0. */
static int upload_err(struct ufs_upload *u)
{
	int err;

	pthread_mutex_lock(&u->lock);
	err = u->err;
	pthread_mutex_unlock(&u->lock);
	return err;
}

/* Keep rc (< 0) unless an error is kept already. */
static void upload_fail(struct ufs_upload *u, int rc)
{
	pthread_mutex_lock(&u->lock);
	if (!u->err)
		u->err = rc;
	pthread_mutex_unlock(&u->lock);
}

/* Store one part (on a worker), unless an earlier part failed or the
 * pipeline is being destroyed (cancelled); free it either way. */
static void upload_part_run(struct ufs_job *j, int cancelled)
{
	struct upload_part *p =
	    (struct upload_part *)((char *)j - offsetof(struct upload_part, job));
	struct ufs_upload *u = p->u;
	int rc = 0;

	if (!cancelled && !upload_err(u))
		rc = u->fn(u->arg, p->index, p->buf, p->len);
	upload_part_free(u, p);
	if (rc)
		upload_fail(u, rc);
}

int ufs_upload_submit(struct ufs_upload *u, uint32_t index, char *buf, size_t cap, size_t len)
{
	struct upload_part *p = malloc(sizeof(*p));
	int rc;

	if (!p) {
		ufs_upload_free(u, buf, cap);
		return -ENOMEM;
	}
	*p = (struct upload_part){.u = u, .index = index, .buf = buf, .cap = cap, .len = len};
	p->job.run = upload_part_run;
	rc = upload_err(u);
	if (rc == 0) {
		/* a part finishing is what frees a slot or sets err */
		ufs_pool_batch_wait(&u->parts, u->parallel - 1);
		rc = upload_err(u);
	}
	if (rc == 0)
		rc = ufs_pool_submit_batch(u->workers, &u->parts, &p->job);
	if (rc)
		upload_part_free(u, p);
	return rc;
}

int ufs_upload_wait(struct ufs_upload *u)
{
	ufs_pool_batch_wait(&u->parts, 0);
	return upload_err(u);
}

void ufs_upload_destroy(struct ufs_upload *u)
{
	if (!u)
		return;
	ufs_pool_destroy(u->workers); /* queued parts run cancelled: dropped */
	ufs_pool_batch_fini(&u->parts);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
