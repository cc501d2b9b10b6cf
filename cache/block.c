/*
 * block.c — the memory tier: a keyed table of blocks, eviction from the LRU
 * lists, single-flight filling and read-ahead jobs. A block's buffer, pins,
 * LRU list and end are blockmem.c's; the rules below hold for both files.
 *
 * Block life:  QUEUED --(job starts / a reader steals it)--> FETCHING
 *              FETCHING --(filled)--> READY --(evicted / dropped)--> freed
 *              FETCHING --(error)--> FAILED (out of the table at once)
 * A block enters the table as QUEUED (read-ahead) or FETCHING (a reader's
 * miss), so one block is never fetched twice at once: later readers pin it
 * and wait on ufs_cache.filled. A reader that finds a QUEUED block steals
 * it and fills it itself rather than wait behind the queue.
 *
 * Invariants (under ufs_cache.lock):
 *  - refs counts pins: the filling thread, each reader copying out, each
 *    zero-copy read holding it (a struct ufs_cache_pin of cache.c, until
 *    ufs_cache_unpin), a queued prefetch job, the disk writer while it
 *    stores the block (fill.c; a block merely queued for the disk is not
 *    pinned: it may be evicted, and is then skipped). Data is read or
 *    written only pinned.
 *  - a block is on an LRU list iff it is in the table, READY and refs == 0:
 *    once_lru holds blocks marked `once` (read to their end by a sequential
 *    reader of an object at least as large as the budget: LRU could never keep
 *    such an object for a re-read), spec_lru read-ahead blocks nobody read
 *    yet, main_lru the rest. Eviction takes once_lru first, then spec_lru,
 *    then main_lru, oldest first; pinned and in-flight blocks are never
 *    evicted.
 *  - use-once: while once_lru holds more than once_keep bytes (a quarter of
 *    the budget: a tail for readers lagging behind on the same object), a new
 *    buffer is taken from its oldest block before fresh budget (passing over
 *    blocks still queued for the disk tier, which a lagging disk would
 *    otherwise lose; only when the budget runs out are they evicted). A streaming
 *    read then cycles through a small set of buffers instead of growing to
 *    the whole budget.
 *  - every buffer (data of a block, or idle in the pool, bufpool.c) is
 *    charged to the budget for its cap bytes. bs-sized buffers are mapped
 *    once and recycled: a block that leaves memory gives its buffer back to
 *    the pool, which unmaps only for reclaim (budget needed elsewhere or
 *    shrunk) or after UFS_POOL_IDLE_S idle seconds. Fresh memory costs a
 *    page-zeroing fault per page, most of the CPU of a cold read.
 *
 * Lock order: ufs_cache.lock -> ufs_pool.lock -> budget lock. The budget is
 * acquired (possibly waiting, possibly calling ufs_blocks_reclaim) and
 * memory is unmapped only with ufs_cache.lock released.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "cache/cache_i.h"
#include "common/budget.h"
#include "common/log.h"

#define BLK_DEMAND_WAIT_MS 2000 /* a reader waits this long for memory, then reads uncached */
#define BLK_RETRIES 2		/* a reader re-fetches a block whose read-ahead failed */

/* ---- keys and table ---- */

struct ufs_ckey ufs_block_key(const struct ufs_ckey *base, uint64_t bs, uint64_t index)
{
	unsigned char buf[32];
	XXH128_hash_t h;

	ufs_put_le64(buf, base->lo);
	ufs_put_le64(buf + 8, base->hi);
	ufs_put_le64(buf + 16, bs);
	ufs_put_le64(buf + 24, index);
	h = XXH3_128bits(buf, sizeof(buf));
	return (struct ufs_ckey){h.low64, h.high64};
}

static int table_eq(const struct ufs_tnode *n, const void *key)
{
	return ufs_ckey_eq(&ufs_table_entry(n, struct ufs_block, hnode)->key, key);
}

static struct ufs_block *table_find(struct ufs_cache *c, const struct ufs_ckey *key)
{
	return ufs_table_entry(ufs_table_find(&c->table, key->lo, key), struct ufs_block, hnode);
}

static void table_insert(struct ufs_cache *c, struct ufs_block *b)
{
	ufs_table_insert(&c->table, &b->hnode, b->key.lo);
	b->in_table = 1;
}

static void table_remove(struct ufs_cache *c, struct ufs_block *b)
{
	ufs_table_remove(&c->table, &b->hnode);
	b->in_table = 0;
	ufs_fill_forget_locked(c, b); /* out of memory before its disk turn */
}

/* ---- block objects ---- */

static struct ufs_block *blk_new(struct ufs_cache *c, struct ufs_cobj *o, uint64_t index,
				 const struct ufs_ckey *key, enum ufs_blk_state state)
{
	struct ufs_block *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cache = c;
	b->key = *key;
	b->base = o->base;
	b->index = index;
	b->state = (uint8_t)state;
	b->refs = 1;
	return b;
}

/* Take the oldest evictable block out of the table. Lock held. */
static struct ufs_block *blk_evict_locked(struct ufs_cache *c, int spec_ok)
{
	struct ufs_block *b = ufs_lru_first(&c->once_lru);

	if (!b && spec_ok)
		b = ufs_lru_first(&c->spec_lru);
	if (!b)
		b = ufs_lru_first(&c->main_lru);
	if (!b)
		return NULL;
	ufs_lru_unlink(b);
	table_remove(c, b);
	return b;
}

/* The oldest once block that is not waiting for the disk tier, out of the
 * table; NULL if every one is (fresh budget is then used while there is
 * some: the fill queue is bounded, see fill.c). Lock held. */
static struct ufs_block *blk_evict_once_locked(struct ufs_cache *c)
{
	struct ufs_block *b = ufs_lru_first(&c->once_lru);

	while (b && b != &c->once_lru.head && b->disk_q)
		b = b->lnext;
	if (!b || b == &c->once_lru.head)
		return NULL;
	ufs_lru_unlink(b);
	table_remove(c, b);
	return b;
}

/* Retire the oldest once block (not queued for the disk) when once_lru holds
 * more than the kept tail, or with any, the oldest evictable block (see
 * blk_evict_locked). Returns 1 if a block went. */
static int blk_retire_one(struct ufs_cache *c, int any, int spec_ok)
{
	struct ufs_block *v = NULL;

	pthread_mutex_lock(&c->lock);
	if (any)
		v = blk_evict_locked(c, spec_ok);
	else if (c->once_bytes > c->once_keep)
		v = blk_evict_once_locked(c);
	pthread_mutex_unlock(&c->lock);
	if (v)
		ufs_block_destroy(c, v); /* its bs-sized buffer goes back to the pool */
	return v != NULL;
}

/*
 * Get a buffer of cap bytes charged to the budget, the cheapest first: an
 * idle pool buffer, the buffer of a once block beyond the kept tail, fresh
 * budget (a new mapping: pages faulted and zeroed), or the buffer of an
 * evicted block. A reader (demand) may evict read-ahead blocks and wait for
 * memory; read-ahead only recycles blocks already read.
 */
static int blk_buf_get(struct ufs_cache *c, uint32_t cap, int demand, char **pdata)
{
	int rc;

	for (;;) {
		*pdata = cap == c->bs ? ufs_bufpool_take(c->bufs) : NULL;
		if (*pdata)
			return 0;
		if (blk_retire_one(c, 0, 0))
			continue;
		rc = ufs_budget_try(c->budget, cap);
		if (rc == 0)
			break;
		if (cap != c->bs && ufs_bufpool_release(c->bufs, cap) > 0)
			continue;
		if (!blk_retire_one(c, 1, demand))
			break;
	}
	if (rc != 0 && demand)
		rc = ufs_budget_acquire(c->budget, cap, BLK_DEMAND_WAIT_MS);
	if (rc != 0)
		return -ENOMEM;
	*pdata = ufs_blkbuf_alloc(c, cap);
	if (!*pdata) {
		ufs_budget_release(c->budget, cap);
		return -ENOMEM;
	}
	return 0;
}

/* ---- filling ---- */

ssize_t ufs_cache_fetch(struct ufs_cache *c, struct ufs_cobj *o, uint64_t off, size_t len,
			void *buf)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = ufs_be_read(o->be, &o->obj, off + got, len - got, (char *)buf + got);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	atomic_fetch_add(&c->n.fetched_bytes, got);
	return (ssize_t)got;
}

/* Fill data (want bytes) from the disk tier or the backend. */
static ssize_t blk_load(struct ufs_cache *c, struct ufs_cobj *o, struct ufs_block *b, char *data,
			size_t want, int *pfrom_disk)
{
	*pfrom_disk = 0;
	if (c->disk) {
		ssize_t n = ufs_disk_read(c->disk, UFS_DISK_BLOCK, &b->key, data, want);

		if (n == (ssize_t)want) {
			atomic_fetch_add(&c->n.disk_hits, 1);
			*pfrom_disk = 1;
			return n;
		}
		if (n == -EBADMSG)
			atomic_fetch_add(&c->n.disk_checksum_failures, 1);
		atomic_fetch_add(&c->n.disk_misses, 1);
	}
	return ufs_cache_fetch(c, o, b->index * c->bs, want, data);
}

/* Publish the outcome of a fill (n bytes or -errno) and wake waiters. */
static void blk_finish(struct ufs_cache *c, struct ufs_block *b, char *data, uint32_t cap,
		       ssize_t n)
{
	pthread_mutex_lock(&c->lock);
	if (n < 0) {
		b->state = UFS_BLK_FAILED;
		b->err = (int)n;
		table_remove(c, b);
	} else {
		b->data = data;
		b->cap = cap;
		b->len = (uint32_t)n;
		b->state = UFS_BLK_READY;
		if (b->spec_fill)
			atomic_fetch_add(&c->n.prefetch_bytes, b->len);
		if (b->spec_fill && !b->spec)
			atomic_fetch_add(&c->n.prefetch_used_bytes, b->len);
	}
	pthread_cond_broadcast(&c->filled);
	pthread_mutex_unlock(&c->lock);
	if (n < 0)
		ufs_blkbuf_put(c, data, cap);
}

/* Bytes block b of o holds: bs, or less for the last block. */
static uint32_t blk_want(const struct ufs_cache *c, const struct ufs_cobj *o, uint64_t index)
{
	uint64_t off = index * c->bs;

	return (uint32_t)(o->obj.size - off < c->bs ? o->obj.size - off : c->bs);
}

/* Publish n bytes (or -errno) read into b's buffer data of cap bytes, and
 * queue the block to the disk tier when it came from the backend. */
static void blk_complete(struct ufs_cache *c, struct ufs_block *b, char *data, uint32_t cap,
			 ssize_t n, int from_disk)
{
	blk_finish(c, b, data, cap, n);
	if (n > 0 && c->disk && !from_disk)
		ufs_fill_queue(c, b);
}

/* Fill b (FETCHING, pinned by the caller). 0 or -errno. */
static int blk_fill(struct ufs_cache *c, struct ufs_cobj *o, struct ufs_block *b, int demand)
{
	uint32_t want = blk_want(c, o, b->index);
	int from_disk = 0;
	ssize_t n;
	char *data;
	int rc = blk_buf_get(c, want, demand, &data);

	if (rc < 0) {
		blk_finish(c, b, NULL, 0, rc);
		return rc;
	}
	n = blk_load(c, o, b, data, want, &from_disk);
	blk_complete(c, b, data, want, n, from_disk);
	return n < 0 ? (int)n : 0;
}

/* Wait until b (pinned) leaves FETCHING. Lock held. */
static void blk_wait_locked(struct ufs_cache *c, struct ufs_block *b)
{
	while (b->state == UFS_BLK_FETCHING)
		pthread_cond_wait(&c->filled, &c->lock);
}

/* Pin a block found in the table; a first reader of a read-ahead block
 * claims it (no longer speculative). Lock held. */
static void blk_pin_found_locked(struct ufs_cache *c, struct ufs_block *b)
{
	ufs_block_pin_locked(c, b);
	if (b->spec) {
		b->spec = 0;
		if (b->state == UFS_BLK_READY)
			atomic_fetch_add(&c->n.prefetch_used_bytes, b->len);
	}
}

/* Outcome of waiting on a block someone else fills: 0 (READY, pinned),
 * -EAGAIN (its read-ahead failed: try again) or -errno. */
static int blk_await(struct ufs_cache *c, struct ufs_block *b, int tries)
{
	struct ufs_block *dead;
	int rc;

	pthread_mutex_lock(&c->lock);
	blk_wait_locked(c, b);
	if (b->state == UFS_BLK_READY) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	rc = b->err;
	if (b->spec_fill && rc != -ESTALE && tries < BLK_RETRIES)
		rc = -EAGAIN;
	dead = ufs_block_unpin_locked(c, b);
	pthread_mutex_unlock(&c->lock);
	ufs_block_destroy(c, dead);
	return rc;
}

/* Fill b as the reader that owns it; on success *pb = b, still pinned. */
static int blk_fill_owned(struct ufs_cache *c, struct ufs_cobj *o, struct ufs_block *b,
			  struct ufs_block **pb)
{
	int rc;

	atomic_fetch_add(&c->n.mem_misses, 1);
	rc = blk_fill(c, o, b, 1);
	if (rc < 0) {
		ufs_block_unpin(c, b);
		return rc;
	}
	*pb = b;
	return 0;
}

/* One lookup attempt; see ufs_block_get. *pown is set when the caller must fill. */
static int blk_lookup(struct ufs_cache *c, struct ufs_cobj *o, uint64_t index,
		      const struct ufs_ckey *key, int direct_miss, struct ufs_block **pb, int *pown)
{
	struct ufs_block *b;

	*pown = 0;
	pthread_mutex_lock(&c->lock);
	b = table_find(c, key);
	if (!b) {
		if (direct_miss) {
			pthread_mutex_unlock(&c->lock);
			atomic_fetch_add(&c->n.mem_misses, 1);
			return -EAGAIN;
		}
		b = blk_new(c, o, index, key, UFS_BLK_FETCHING);
		if (b)
			table_insert(c, b);
		*pown = 1;
	} else if (b->state == UFS_BLK_QUEUED) {
		b->state = UFS_BLK_FETCHING; /* steal it from the queue */
		b->spec = b->spec_fill = 0;
		b->refs++;
		*pown = 1;
	} else {
		blk_pin_found_locked(c, b);
	}
	pthread_mutex_unlock(&c->lock);
	*pb = b;
	return b ? 0 : -ENOMEM;
}

int ufs_block_get(struct ufs_cache *c, struct ufs_cobj *o, uint64_t index, int allow_direct,
		  struct ufs_block **pb)
{
	struct ufs_ckey key = ufs_block_key(&o->base, c->bs, index);
	int direct_miss = allow_direct && !(c->disk && ufs_disk_has(c->disk, &key));

	for (int tries = 0;; tries++) {
		struct ufs_block *b;
		int own, rc = blk_lookup(c, o, index, &key, direct_miss, &b, &own);

		if (rc < 0)
			return rc;
		if (own)
			return blk_fill_owned(c, o, b, pb);
		rc = blk_await(c, b, tries);
		if (rc == 0) {
			atomic_fetch_add(&c->n.mem_hits, 1);
			*pb = b;
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
	}
}

/* ---- read-ahead jobs ---- */

/*
 * Read-ahead comes in runs: consecutive blocks queued together are fetched
 * by one job with one backend request into one contiguous region, made of
 * ordinary bs-sized buffers moved next to each other with mremap (so recycled
 * buffers serve too, and every block stays separately evictable). Fewer,
 * larger requests cost servers and clients far less per byte.
 */

#define STITCH_ALIGN (2UL << 20) /* huge-page size: moved huge pages stay huge */

/* Reserve len bytes of address space aligned to STITCH_ALIGN, or NULL. */
static char *stitch_reserve(size_t len)
{
	size_t span = len + STITCH_ALIGN;
	char *p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *base;

	if (p == MAP_FAILED)
		return NULL;
	base = (char *)(((uintptr_t)p + STITCH_ALIGN - 1) & ~(uintptr_t)(STITCH_ALIGN - 1));
	if (base > p)
		munmap(p, (size_t)(base - p));
	if (p + span > base + len)
		munmap(base + len, (size_t)(p + span - (base + len)));
	return base;
}

/* Make k bs-sized buffers one contiguous region (bufs[] updated); returns
 * its start, or NULL with every buffer still valid where it was. */
static char *buf_stitch(struct ufs_cache *c, char **bufs, unsigned k)
{
	size_t bs = (size_t)c->bs;
	char *base;
	unsigned i;

	if (k == 1)
		return bufs[0];
	base = stitch_reserve(k * bs);
	if (!base)
		return NULL;
	for (i = 0; i < k; i++) {
		void *p = mremap(bufs[i], bs, bs, MREMAP_MAYMOVE | MREMAP_FIXED, base + i * bs);

		if (p == MAP_FAILED)
			break;
		bufs[i] = p;
	}
	if (i == k)
		return base;
	munmap(base + i * bs, (k - i) * bs); /* the reservation left; moved ones stay valid */
	return NULL;
}

/* Fill k consecutive full blocks (FETCHING, pinned) with one request. */
static void blk_fill_span(struct ufs_cache *c, struct ufs_cobj *o, struct ufs_block **blks,
			  unsigned k)
{
	uint32_t bs = (uint32_t)c->bs;
	char *bufs[UFS_RUN_MAX], *base;
	unsigned got = 0;
	ssize_t n;

	while (got < k && blk_buf_get(c, bs, 0, &bufs[got]) == 0)
		got++;
	for (unsigned i = got; i < k; i++)
		blk_finish(c, blks[i], NULL, 0, -ENOMEM);
	base = got ? buf_stitch(c, bufs, got) : NULL;
	if (!base) {
		for (unsigned i = 0; i < got; i++) {
			n = ufs_cache_fetch(c, o, blks[i]->index * bs, bs, bufs[i]);
			blk_complete(c, blks[i], bufs[i], bs, n, 0);
		}
		return;
	}
	n = ufs_cache_fetch(c, o, blks[0]->index * bs, (size_t)got * bs, base);
	for (unsigned i = 0; i < got; i++) {
		ssize_t mine = n < 0 ? n : n - (ssize_t)i * bs;

		if (mine > (ssize_t)bs)
			mine = bs;
		blk_complete(c, blks[i], bufs[i], bs, n >= 0 && mine < 0 ? 0 : mine, 0);
	}
}

/* Whether b can join a backend span: full size and not on disk. */
static int blk_spannable(struct ufs_cache *c, struct ufs_cobj *o, struct ufs_block *b)
{
	return blk_want(c, o, b->index) == c->bs && !(c->disk && ufs_disk_has(c->disk, &b->key));
}

/* Fill the n claimed blocks of a run: contiguous spans with one request
 * each, blocks on disk or short ones alone. */
static void blk_fill_run(struct ufs_cache *c, struct ufs_cobj *o, struct ufs_block **blks,
			 unsigned n)
{
	unsigned i = 0, k;

	while (i < n) {
		k = 1;
		if (blk_spannable(c, o, blks[i]))
			while (i + k < n && blks[i + k]->index == blks[i]->index + k &&
			       blk_spannable(c, o, blks[i + k]))
				k++;
		if (k == 1)
			blk_fill(c, o, blks[i], 0);
		else
			blk_fill_span(c, o, blks + i, k);
		i += k;
	}
}

/* Cancel a QUEUED block whose job will not run. Lock held; returns the
 * block if it must be destroyed. */
static struct ufs_block *blk_cancel_locked(struct ufs_cache *c, struct ufs_block *b)
{
	b->state = UFS_BLK_FAILED;
	b->err = -ECANCELED;
	table_remove(c, b);
	return ufs_block_unpin_locked(c, b);
}

/* Take the blocks of the run starting at head that are still QUEUED (a
 * reader may have stolen some); drop the others. Returns how many. */
static unsigned blk_claim_run(struct ufs_cache *c, struct ufs_block *head, int cancel,
			      struct ufs_block **mine)
{
	struct ufs_block *dead = NULL, *b, *next, *d;
	unsigned n = 0;

	pthread_mutex_lock(&c->lock);
	for (b = head; b; b = next) {
		next = b->run_next;
		b->run_next = NULL;
		if (b->state != UFS_BLK_QUEUED)
			d = ufs_block_unpin_locked(c, b);
		else if (cancel)
			d = blk_cancel_locked(c, b);
		else {
			b->state = UFS_BLK_FETCHING;
			mine[n++] = b;
			continue;
		}
		if (d)
			ufs_block_push_dead(&dead, d);
	}
	pthread_mutex_unlock(&c->lock);
	ufs_block_destroy_chain(c, dead);
	return n;
}

static void blk_prefetch_run(struct ufs_job *j, int cancelled)
{
	struct ufs_block *head = ufs_container_of(j, struct ufs_block, fetch_job);
	struct ufs_cache *c = head->cache;
	struct ufs_cobj *o = head->job_obj;
	struct ufs_block *mine[UFS_RUN_MAX];
	int cancel = cancelled || atomic_load(&o->closed) || atomic_load(&o->stale);
	unsigned n = blk_claim_run(c, head, cancel, mine);

	blk_fill_run(c, o, mine, n);
	for (unsigned i = 0; i < n; i++)
		ufs_block_unpin(c, mine[i]);
	ufs_cobj_put(o);
}

/* Queue one read-ahead block unless cached or queued already. Lock held. */
static struct ufs_block *blk_queue_locked(struct ufs_cache *c, struct ufs_cobj *o, uint64_t index)
{
	struct ufs_ckey key = ufs_block_key(&o->base, c->bs, index);
	struct ufs_block *b;

	if (table_find(c, &key))
		return NULL;
	b = blk_new(c, o, index, &key, UFS_BLK_QUEUED);
	if (!b)
		return NULL;
	b->spec = b->spec_fill = 1;
	table_insert(c, b);
	return b;
}

/* Hand the run starting at head to the pool (or undo it). Lock held. */
static void blk_submit_run_locked(struct ufs_cache *c, struct ufs_cobj *o, struct ufs_block *head)
{
	struct ufs_block *b, *next;

	head->job_obj = o;
	atomic_fetch_add(&o->refs, 1);
	head->fetch_job.run = blk_prefetch_run;
	if (ufs_pool_submit(c->fetch_pool, &head->fetch_job) == 0)
		return;
	atomic_fetch_sub(&o->refs, 1);
	for (b = head; b; b = next) {
		next = b->run_next;
		table_remove(c, b);
		free(b);
	}
}

/* Blocks per read-ahead request for a plan of n blocks: up to
 * UFS_RUN_BYTES, but at least two requests so a plan still runs in parallel. */
static unsigned blk_run_len(const struct ufs_cache *c, uint64_t n)
{
	uint64_t k = UFS_RUN_BYTES / c->bs;

	if (k > n / 2)
		k = n / 2;
	if (k > UFS_RUN_MAX)
		k = UFS_RUN_MAX;
	return k ? (unsigned)k : 1;
}

void ufs_blocks_prefetch(struct ufs_cache *c, struct ufs_cobj *o, uint64_t first, uint64_t end)
{
	unsigned run_max = blk_run_len(c, end - first), len = 0;
	struct ufs_block *head = NULL, *tail = NULL, *b;

	if (atomic_load(&o->closed) || atomic_load(&o->stale))
		return;
	pthread_mutex_lock(&c->lock);
	for (uint64_t i = first; i < end; i++) {
		b = blk_queue_locked(c, o, i);
		if (head && (!b || len == run_max)) {
			blk_submit_run_locked(c, o, head);
			head = NULL;
		}
		if (!b)
			continue;
		if (!head) {
			head = b;
			len = 0;
		} else {
			tail->run_next = b;
		}
		tail = b;
		len++;
	}
	if (head)
		blk_submit_run_locked(c, o, head);
	pthread_mutex_unlock(&c->lock);
}

/* ---- whole-table operations ---- */

void ufs_blocks_drop_base(struct ufs_cache *c, const struct ufs_ckey *base)
{
	struct ufs_block *dead = NULL, *b;
	struct ufs_table_iter it;
	struct ufs_tnode *n;

	pthread_mutex_lock(&c->lock);
	for (n = ufs_table_first(&c->table, &it); n; n = ufs_table_next(&it)) {
		b = ufs_table_entry(n, struct ufs_block, hnode);
		if (!ufs_ckey_eq(&b->base, base) || b->state != UFS_BLK_READY)
			continue;
		table_remove(c, b);
		if (b->refs == 0) {
			ufs_lru_unlink(b);
			ufs_block_push_dead(&dead, b);
		}
	}
	pthread_mutex_unlock(&c->lock);
	ufs_block_destroy_chain(c, dead);
}

uint64_t ufs_blocks_reclaim(void *arg, uint64_t need)
{
	struct ufs_cache *c = arg;
	struct ufs_block *dead = NULL, *b;
	uint64_t freed = ufs_bufpool_release(c->bufs, need);

	pthread_mutex_lock(&c->lock);
	while (freed < need && (b = blk_evict_locked(c, 1))) {
		freed += b->cap;
		ufs_block_push_dead(&dead, b);
	}
	pthread_mutex_unlock(&c->lock);
	while ((b = dead)) {
		dead = b->lnext;
		ufs_block_free_charged(c, b);
	}
	return freed;
}

int ufs_blocks_init(struct ufs_cache *c)
{
	uint64_t want = ufs_budget_limit(c->budget) / (64 << 10);
	size_t nbuckets = 4096;

	/* a bucket per 64 KiB of budget, 4096 to 1M: sized once by the budget */
	while (nbuckets < want && nbuckets < (1u << 20))
		nbuckets <<= 1;
	if (ufs_table_init(&c->table, nbuckets, nbuckets, table_eq) < 0)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->filled, NULL);
	ufs_lru_init(&c->spec_lru);
	ufs_lru_init(&c->main_lru);
	ufs_lru_init(&c->once_lru);
	c->once_keep = ufs_budget_limit(c->budget) / 4;
	c->bufs = ufs_bufpool_create(c->budget, (size_t)c->bs, UFS_POOL_IDLE_S);
	return c->bufs ? 0 : -ENOMEM;
}

void ufs_blocks_fini(struct ufs_cache *c)
{
	struct ufs_table_iter it;
	struct ufs_tnode *n;

	if (!c->table.buckets)
		return;
	for (n = ufs_table_first(&c->table, &it); n; n = ufs_table_next(&it))
		ufs_block_free_charged(c, ufs_table_entry(n, struct ufs_block, hnode));
	ufs_bufpool_destroy(c->bufs);
	c->bufs = NULL;
	ufs_table_fini(&c->table);
	pthread_cond_destroy(&c->filled);
	pthread_mutex_destroy(&c->lock);
}
