/*
 * bufpool.c — the allocator of full-size block buffers: created by the
 * cache, shared with the upload pipeline (parts of the block size).
 *
 * A fresh anonymous page costs a page-zeroing fault on first touch (the top
 * item of a cold read's CPU profile), so block memory is mapped once (small
 * pages: see ufs_bufpool_map; a cache block, written whole, is faulted in
 * with one call: ufs_bufpool_populate), and then recycled: a
 * buffer whose block is evicted or dropped, or whose upload part was stored,
 * comes back here (idle, still charged to the budget) and the next block or
 * part takes it, already faulted.
 * Idle buffers are a LIFO stack (the most recently used is the warmest),
 * linked through their own first bytes, so the pool allocates nothing.
 *
 * Memory goes back to the kernel (munmap, charge released) only
 *  - when the budget needs it for something else (ufs_bufpool_release, from
 *    the reclaim hook: idle buffers go before any cached block), or when the
 *    budget shrinks (the same hook);
 *  - when the pool has been idle (no take or put) for idle_s seconds: a
 *    trimmer thread checks every idle_s seconds and unmaps every idle buffer.
 *
 * Lock: bufpool.lock is a leaf (taken under ufs_cache.lock is allowed; the
 * budget is called without it). States: running -> stopping (destroy).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "common/bufpool.h"

#include "common/budget.h"

struct ufs_bufpool {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* trimmer sleep; signalled at destroy */
	struct ufs_budget *budget;
	size_t bs;
	char *idle; /* stack linked through each buffer's first pointer */
	uint64_t nidle;
	uint64_t last_use_ms;	    /* monotonic time of the last take or put */
	unsigned idle_s;	    /* 0: no trimmer */
	int stop, has_trimmer;	    /* trimmer thread state */
	pthread_t trimmer;	    /* valid when has_trimmer */
	struct ufs_bufpool_stats n; /* under lock */
};

static uint64_t bufpool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Pop an idle buffer or NULL. Lock held. */
static char *bufpool_pop_locked(struct ufs_bufpool *p)
{
	char *b = p->idle;

	if (b) {
		p->idle = *(char **)b;
		p->nidle--;
	}
	return b;
}

/* Unmap a chain of buffers (linked through their first pointer) and return
 * their charge; returns the bytes released. Lock not held. */
static uint64_t bufpool_unmap_chain(struct ufs_bufpool *p, char *chain)
{
	uint64_t bytes = 0;
	char *next;

	for (; chain; chain = next) {
		next = *(char **)chain;
		munmap(chain, p->bs);
		bytes += p->bs;
	}
	ufs_budget_release(p->budget, bytes);
	return bytes;
}

/* Detach up to need bytes of idle buffers (all when need is UINT64_MAX) as a
 * chain. Lock held. */
static char *bufpool_detach_locked(struct ufs_bufpool *p, uint64_t need)
{
	char *chain = NULL, *b;
	uint64_t got = 0;

	while (got < need && (b = bufpool_pop_locked(p))) {
		*(char **)b = chain;
		chain = b;
		got += p->bs;
		p->n.released++;
	}
	return chain;
}

static void *bufpool_trimmer(void *arg)
{
	struct ufs_bufpool *p = arg;
	struct timespec at;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += p->idle_s;
		pthread_cond_timedwait(&p->wake, &p->lock, &at);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		ufs_bufpool_trim(p, bufpool_now_ms());
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct ufs_bufpool *ufs_bufpool_create(struct ufs_budget *budget, size_t bs, unsigned idle_s)
{
	struct ufs_bufpool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	p->budget = budget;
	p->bs = bs;
	p->idle_s = idle_s;
	p->last_use_ms = bufpool_now_ms();
	if (idle_s > 0 && pthread_create(&p->trimmer, NULL, bufpool_trimmer, p) == 0) {
		pthread_setname_np(p->trimmer, "ufs-bufpool");
		p->has_trimmer = 1;
	}
	return p;
}

void ufs_bufpool_destroy(struct ufs_bufpool *p)
{
	char *chain;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (p->has_trimmer)
		pthread_join(p->trimmer, NULL);
	pthread_mutex_lock(&p->lock);
	chain = bufpool_detach_locked(p, UINT64_MAX);
	pthread_mutex_unlock(&p->lock);
	bufpool_unmap_chain(p, chain);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

char *ufs_bufpool_take(struct ufs_bufpool *p)
{
	char *b;

	pthread_mutex_lock(&p->lock);
	b = bufpool_pop_locked(p);
	if (b)
		p->n.reused++;
	p->last_use_ms = bufpool_now_ms();
	pthread_mutex_unlock(&p->lock);
	return b;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* linux/mman.h, Linux 5.14 */
#endif

char *ufs_bufpool_map(struct ufs_bufpool *p)
{
	/* Small pages, not MADV_HUGEPAGE: under a hypervisor a fresh 2 MiB page
	 * costs 2-5x the CPU of 512 small ones, and where memory is full of page
	 * cache also a synchronous compaction (docs/performance.md, "NFS read
	 * path profile"). */
	void *b = mmap(NULL, p->bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->n.mapped++;
	pthread_mutex_unlock(&p->lock);
	return b;
}

void ufs_bufpool_populate(const struct ufs_bufpool *p, char *buf)
{
	/* One loop in the kernel instead of a trap per 4 KiB page; a kernel
	 * without it (EINVAL, before 5.14) faults the pages in on touch. */
	(void)madvise(buf, p->bs, MADV_POPULATE_WRITE);
}

void ufs_bufpool_put(struct ufs_bufpool *p, char *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&p->lock);
	*(char **)buf = p->idle;
	p->idle = buf;
	p->nidle++;
	p->last_use_ms = bufpool_now_ms();
	pthread_mutex_unlock(&p->lock);
}

void ufs_bufpool_unmap(struct ufs_bufpool *p, char *buf)
{
	if (!buf)
		return;
	*(char **)buf = NULL;
	pthread_mutex_lock(&p->lock);
	p->n.released++;
	pthread_mutex_unlock(&p->lock);
	bufpool_unmap_chain(p, buf);
}

uint64_t ufs_bufpool_release(struct ufs_bufpool *p, uint64_t need)
{
	char *chain;

	pthread_mutex_lock(&p->lock);
	chain = bufpool_detach_locked(p, need);
	pthread_mutex_unlock(&p->lock);
	return bufpool_unmap_chain(p, chain);
}

uint64_t ufs_bufpool_trim(struct ufs_bufpool *p, uint64_t now_ms)
{
	char *chain = NULL;

	pthread_mutex_lock(&p->lock);
	if (now_ms >= p->last_use_ms + (uint64_t)p->idle_s * 1000)
		chain = bufpool_detach_locked(p, UINT64_MAX);
	pthread_mutex_unlock(&p->lock);
	return bufpool_unmap_chain(p, chain);
}

size_t ufs_bufpool_size(const struct ufs_bufpool *p)
{
	return p->bs;
}

void ufs_bufpool_get_stats(struct ufs_bufpool *p, struct ufs_bufpool_stats *pst)
{
	pthread_mutex_lock(&p->lock);
	*pst = p->n;
	pst->idle_bytes = p->nidle * p->bs;
	pthread_mutex_unlock(&p->lock);
}
