/*
 * fill.c — filling the disk tier without slowing the reads that feed it.
 *
 * A block read from a backend is queued here (ufs_fill_queue, called by
 * whoever filled it: a reader or a read-ahead job) and stored by one job on
 * the cache's disk-writer pool (c->disk_pool, a common/pool.h pool of one
 * thread) that drains the queue oldest first. The read path never waits:
 *   - queueing is a list append under ufs_cache.lock; a full queue (the disk
 *     slower than the network for a while) skips the block and counts it;
 *   - a queued block is not pinned: memory stays the cache's to reclaim, and
 *     a block that leaves memory before its turn (evicted, dropped) is taken
 *     off the queue and counted as evicted (ufs_fill_forget_locked, called
 *     from the table removal in block.c);
 *   - a failed store (ENOSPC after the tier's own eviction, an I/O error)
 *     is counted; the data is simply not cached.
 * The writer pins the block only while disk.c writes it (O_DIRECT from the
 * block's own buffer: no copy, no dirty page cache; see disk.c), and its I/O
 * is in the idle class: the disk serves readers first.
 *
 * States of a block here: not queued -> queued (disk_q, on dq) -> taken by
 * the writer (pinned, off dq) -> stored or failed; queued -> evicted (left
 * memory first); not queued -> skipped (the queue was full). States of the job: idle (disk_running
 * 0) -> submitted/running (disk_running 1, set by the producer that found it idle; cleared by the
 * job under the lock when it finds the queue empty, so a block queued after that submits it again).
 * At unmount, ufs_pool_destroy runs a queued job with cancelled = 1: it still drains the queue
 * (what was read survives into the next mount; the queue is bounded, so is the wait).
 *
 * Invariants (ufs_cache.lock): disk_q == 1 iff the block is on dq; a block on
 * dq is in the table and READY; disk_pending == length of dq <= disk_max.
 * Lock order: ufs_cache.lock -> ufs_pool.lock (submit); the store runs with
 * no lock held. Counters are atomics.
 */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_i.h"
#include "common/budget.h"

#define FILL_WINDOW_NS 1000000000ULL /* disk_write_bps is measured over ~1 s */
#define FILL_IOPRIO_WHO_PROCESS 1    /* linux/ioprio.h; who = 0: this thread */
#define FILL_IOPRIO_IDLE (3 << 13)   /* IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT */

/* Put the disk writer's I/O in the idle class, where the I/O scheduler has
 * classes (mq-deadline, BFQ): the disk serves everyone else first (a reader
 * of the tier, a server on the same disk); mq-deadline's prio_aging_expire
 * bounds how long a fill can wait. Once per worker thread. */
static void fill_lower_ioprio(void)
{
	static _Thread_local int done;

	if (done)
		return;
	done = 1;
	syscall(SYS_ioprio_set, FILL_IOPRIO_WHO_PROCESS, 0, FILL_IOPRIO_IDLE);
}

static uint64_t fill_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Take b off the queue. Lock held. */
static void fill_unlink_locked(struct ufs_cache *c, struct ufs_block *b)
{
	if (b->dprev)
		b->dprev->dnext = b->dnext;
	else
		c->dq_head = b->dnext;
	if (b->dnext)
		b->dnext->dprev = b->dprev;
	else
		c->dq_tail = b->dprev;
	b->dprev = b->dnext = NULL;
	b->disk_q = 0;
	c->disk_pending--;
}

/* The oldest queued block, pinned and off the queue; NULL (and the job marked
 * idle) when the queue is empty. */
static struct ufs_block *fill_next(struct ufs_cache *c)
{
	struct ufs_block *b;

	pthread_mutex_lock(&c->lock);
	b = c->dq_head;
	if (b) {
		fill_unlink_locked(c, b);
		ufs_block_pin_locked(c, b);
	} else {
		c->disk_running = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return b;
}

/* Account bytes written now: the counter and the rate of the current
 * window. Disk writer thread only. */
static void fill_account(struct ufs_cache *c, uint64_t bytes)
{
	uint64_t now = fill_now_ns(), start = atomic_load(&c->n.disk_win_start_ns);
	uint64_t win = atomic_fetch_add(&c->n.disk_win_bytes, bytes) + bytes;

	atomic_fetch_add(&c->n.disk_write_bytes, bytes);
	if (start == 0) {
		atomic_store(&c->n.disk_win_start_ns, now);
	} else if (now - start >= FILL_WINDOW_NS) {
		atomic_store(&c->n.disk_write_bps, win * 1000000000ULL / (now - start));
		atomic_store(&c->n.disk_win_bytes, 0);
		atomic_store(&c->n.disk_win_start_ns, now);
	}
}

/* Store one block (pinned by fill_next). */
static void fill_store(struct ufs_cache *c, struct ufs_block *b)
{
	int rc = ufs_disk_write(c->disk, UFS_DISK_BLOCK, &b->key, b->data, b->len);

	if (rc == 0) {
		atomic_fetch_add(&c->n.disk_fills, 1);
		fill_account(c, b->len);
	} else {
		atomic_fetch_add(&c->n.disk_fill_errors, 1);
	}
}

/* The job: drain the queue, also when cancelled (unmount: then on the
 * unmounting thread, at its own I/O priority). */
static void fill_run(struct ufs_job *j, int cancelled)
{
	struct ufs_cache *c = ufs_container_of(j, struct ufs_cache, disk_job);
	struct ufs_block *b;

	if (!cancelled)
		fill_lower_ioprio();
	while ((b = fill_next(c))) {
		fill_store(c, b);
		ufs_block_unpin(c, b);
	}
}

void ufs_fill_init(struct ufs_cache *c)
{
	c->disk_job.run = fill_run;
	/* Queued blocks are not pinned, so the bound is about how stale the
	 * queue may grow, not memory: half the blocks the budget holds. */
	c->disk_max = (unsigned)(ufs_budget_limit(c->budget) / c->bs / 2);
	if (c->disk_max < 4)
		c->disk_max = 4;
}

void ufs_fill_queue(struct ufs_cache *c, struct ufs_block *b)
{
	int start = 0, skip = 0;

	pthread_mutex_lock(&c->lock);
	if (!b->in_table || b->state != UFS_BLK_READY || b->disk_q) {
		/* dropped meanwhile, or queued already: nothing to do */
	} else if (c->disk_pending >= c->disk_max) {
		skip = 1;
	} else {
		b->dprev = c->dq_tail;
		b->dnext = NULL;
		if (c->dq_tail)
			c->dq_tail->dnext = b;
		else
			c->dq_head = b;
		c->dq_tail = b;
		b->disk_q = 1;
		c->disk_pending++;
		if (!c->disk_running)
			c->disk_running = start = 1;
	}
	pthread_mutex_unlock(&c->lock);
	if (skip)
		atomic_fetch_add(&c->n.disk_fill_skips, 1);
	if (start && ufs_pool_submit(c->disk_pool, &c->disk_job) != 0)
		fill_run(&c->disk_job, 1); /* the pool is stopping: unmount */
}

void ufs_fill_forget_locked(struct ufs_cache *c, struct ufs_block *b)
{
	if (!b->disk_q)
		return;
	fill_unlink_locked(c, b);
	atomic_fetch_add(&c->n.disk_fill_evicted, 1);
}

void ufs_fill_stats(struct ufs_cache *c, struct ufs_cache_stats *pst)
{
	uint64_t start = atomic_load(&c->n.disk_win_start_ns);

	pst->disk_fills = atomic_load(&c->n.disk_fills);
	pst->disk_fill_skips = atomic_load(&c->n.disk_fill_skips);
	pst->disk_fill_evicted = atomic_load(&c->n.disk_fill_evicted);
	pst->disk_fill_errors = atomic_load(&c->n.disk_fill_errors);
	pst->disk_write_bytes = atomic_load(&c->n.disk_write_bytes);
	/* a writer idle for two windows writes nothing per second */
	pst->disk_write_bps = start && fill_now_ns() - start < 2 * FILL_WINDOW_NS
				  ? atomic_load(&c->n.disk_write_bps)
				  : 0;
	pthread_mutex_lock(&c->lock);
	pst->disk_fill_pending = c->disk_pending;
	pthread_mutex_unlock(&c->lock);
}
