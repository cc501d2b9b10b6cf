/*
 * cache.c — the public cache API (cache.h): create/destroy, read streams,
 * hints and statistics. The read path:
 *
 *   ufs_cache_read -> read-ahead plan (readahead.c, under the stream lock)
 *                  -> queue the planned blocks on the worker pool (block.c)
 *                  -> for each block the range touches: ufs_block_get (memory,
 *                     in-flight wait, disk tier, backend) and copy out;
 *                     in random mode a block that is neither in memory nor on
 *                     disk is read uncached, granule-rounded ("direct").
 *
 * A stream owns a struct ufs_cobj (object.c: the pinned object and its key
 * base) that queued read-ahead jobs share by reference, so a stream can close
 * while its jobs are queued. Streams hold about 200 bytes: many open files do
 * not multiply memory; the blocks are shared by key.
 *
 * Lock order: ufs_rstream.lock is taken alone (read-ahead state), released
 * before any block work (see cache_i.h for the rest).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "cache/cache_i.h"
#include "common/budget.h"
#include "common/log.h"

struct ufs_rstream {
	struct ufs_cache *c;
	struct ufs_cobj *o;
	pthread_mutex_t lock; /* ra */
	struct ufs_ra ra;
};

#define CACHE_BS_DEFAULT (8ULL << 20)
#define CACHE_BS_MAX (1ULL << 30)

/* ---- create / destroy ---- */

static int cache_validate(const struct ufs_cache_cfg *cfg, char *err, size_t errlen)
{
	if (!cfg->budget) {
		snprintf(err, errlen, "cache: no memory budget");
		return -EINVAL;
	}
	if (cfg->block_size > CACHE_BS_MAX || cfg->block_size > ufs_budget_limit(cfg->budget)) {
		snprintf(err, errlen, "cache: block size %llu is larger than memory or 1G",
			 (unsigned long long)cfg->block_size);
		return -EINVAL;
	}
	return 0;
}

/* Start the disk tier, its writer thread and its fill queue. */
static int cache_open_disk(struct ufs_cache *c, const struct ufs_cache_cfg *cfg, char *err,
			   size_t errlen)
{
	int rc = ufs_disk_open(cfg->cache_dir, cfg->cache_size, &c->disk, err, errlen);

	if (rc < 0)
		return rc;
	c->disk_pool = ufs_pool_create(1, "ufs-diskw", 0);
	if (!c->disk_pool) {
		snprintf(err, errlen, "cache: cannot start the disk writer thread");
		return -ENOMEM;
	}
	ufs_fill_init(c);
	return 0;
}

int ufs_cache_create(const struct ufs_cache_cfg *cfg, struct ufs_cache **pc, char *err,
		     size_t errlen)
{
	struct ufs_cache *c;
	int rc = cache_validate(cfg, err, errlen);

	*pc = NULL;
	if (rc < 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->budget = cfg->budget;
	c->bs = cfg->block_size ? cfg->block_size : CACHE_BS_DEFAULT;
	c->ra_max = cfg->readahead_max;
	rc = ufs_blocks_init(c);
	if (rc == 0) {
		c->fetch_pool = ufs_pool_create(cfg->workers ? cfg->workers : 1, "ufs-fetch", 0);
		if (!c->fetch_pool)
			rc = -ENOMEM;
	}
	if (rc == 0 && cfg->cache_dir && *cfg->cache_dir)
		rc = cache_open_disk(c, cfg, err, errlen);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "cache: out of memory");
		ufs_cache_destroy(c);
		return rc;
	}
	ufs_budget_set_reclaim(c->budget, ufs_blocks_reclaim, c);
	*pc = c;
	return 0;
}

void ufs_cache_destroy(struct ufs_cache *c)
{
	if (!c)
		return;
	ufs_budget_set_reclaim(c->budget, NULL, c);
	ufs_pool_destroy(c->fetch_pool);
	ufs_pool_destroy(c->disk_pool);
	ufs_blocks_fini(c);
	ufs_disk_close(c->disk);
	free(c);
}

/* ---- streams ---- */

/* Read-ahead cap for one stream: the configured max, but at most a quarter
 * of the memory so a few readers cannot crowd each other out. */
static uint64_t cache_ra_cap(const struct ufs_cache *c)
{
	uint64_t cap = ufs_budget_limit(c->budget) / 4;

	return c->ra_max < cap ? c->ra_max : cap;
}

int ufs_cache_open(struct ufs_cache *c, struct ufs_backend *be, const struct ufs_obj *obj,
		   uint64_t gen, struct ufs_rstream **ps)
{
	struct ufs_rstream *s = calloc(1, sizeof(*s));

	*ps = NULL;
	if (!s)
		return -ENOMEM;
	s->o = ufs_cobj_create(c, be, obj, gen);
	if (!s->o) {
		free(s);
		return -ENOMEM;
	}
	s->c = c;
	ufs_cache_save_identity(c, be, &s->o->obj);
	pthread_mutex_init(&s->lock, NULL);
	ufs_ra_init(&s->ra, c->bs, cache_ra_cap(c), obj->size);
	*ps = s;
	return 0;
}

void ufs_cache_close(struct ufs_rstream *s)
{
	if (!s)
		return;
	atomic_store(&s->o->closed, 1);
	ufs_cobj_put(s->o);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- reads: pinned parts, copied out by ufs_cache_read ---- */

/* One part of a pinned read: a pinned block or an uncached buffer. */
struct pin_part {
	struct ufs_block *b; /* pinned READY block, or NULL */
	char *buf;	     /* owned uncached buffer (direct read), or NULL */
};

struct ufs_cache_pin {
	struct ufs_cache *c;
	int n, max;
	struct iovec *iov;     /* n entries, pointing into parts' memory */
	struct pin_part *part; /* max entries */
};

/* A pin with room for the parts of a len-byte read at off (one per block
 * touched). NULL: -ENOMEM. */
static struct ufs_cache_pin *pin_new(struct ufs_cache *c, size_t len, uint64_t off)
{
	int max = (int)((off % c->bs + len) / c->bs) + 2;
	struct ufs_cache_pin *p =
	    malloc(sizeof(*p) + (size_t)max * (sizeof(*p->part) + sizeof(*p->iov)));

	if (!p)
		return NULL;
	p->c = c;
	p->n = 0;
	p->max = max;
	p->iov = (struct iovec *)(p + 1);
	p->part = (struct pin_part *)(p->iov + max);
	return p;
}

/* Drop the pin's parts (it stays usable, empty). */
static void pin_release(struct ufs_cache_pin *pin)
{
	for (int i = 0; i < pin->n; i++) {
		if (pin->part[i].b)
			ufs_block_unpin(pin->c, pin->part[i].b);
		free(pin->part[i].buf);
	}
	pin->n = 0;
}

void ufs_cache_unpin(struct ufs_cache_pin *pin)
{
	if (!pin)
		return;
	pin_release(pin);
	free(pin);
}

int ufs_cache_pin_iov(const struct ufs_cache_pin *pin, const struct iovec **piov)
{
	*piov = pin ? pin->iov : NULL;
	return pin ? pin->n : 0;
}

/* Add a part of n bytes at base to pin. */
static void pin_add(struct ufs_cache_pin *pin, struct ufs_block *b, char *buf, char *base, size_t n)
{
	pin->part[pin->n] = (struct pin_part){b, buf};
	pin->iov[pin->n] = (struct iovec){base, n};
	pin->n++;
}

/* Uncached read of [off, off+len) rounded out to the granule (random mode,
 * or no memory for a block) into a buffer the pin owns. Returns bytes or
 * -errno. */
static ssize_t cache_read_direct(struct ufs_cache *c, struct ufs_cobj *o, size_t len, uint64_t off,
				 struct ufs_cache_pin *pin)
{
	uint64_t r0 = off & ~(UFS_CACHE_GRANULE - 1);
	uint64_t r1 = (off + len + UFS_CACHE_GRANULE - 1) & ~(UFS_CACHE_GRANULE - 1);
	uint64_t skip = off - r0;
	ssize_t got;
	char *tmp;

	if (r1 > o->obj.size)
		r1 = o->obj.size;
	tmp = malloc(r1 - r0);
	if (!tmp)
		return -ENOMEM;
	got = ufs_cache_fetch(c, o, r0, r1 - r0, tmp);
	if (got >= 0) {
		got = (uint64_t)got > skip ? got - (ssize_t)skip : 0;
		if ((size_t)got > len)
			got = (ssize_t)len;
	}
	if (got <= 0) {
		free(tmp);
		return got;
	}
	pin_add(pin, NULL, tmp, tmp + skip, (size_t)got);
	return got;
}

/* Pin the part of [off, off+len) inside one block. Bytes (0 at a short
 * block's end) or -errno. */
static ssize_t cache_pin_part(struct ufs_cache *c, struct ufs_cobj *o, size_t len, uint64_t off,
			      int random, struct ufs_cache_pin *pin)
{
	uint64_t index = off / c->bs, boff = off % c->bs;
	size_t n = len < c->bs - boff ? len : (size_t)(c->bs - boff);
	struct ufs_block *b;
	int rc = ufs_block_get(c, o, index, random, &b);

	if (rc == -EAGAIN || rc == -ENOMEM)
		return cache_read_direct(c, o, n, off, pin);
	if (rc < 0)
		return rc;
	if (boff >= b->len)
		n = 0;
	else if (n > b->len - boff)
		n = b->len - boff;
	if (n == 0) {
		ufs_block_unpin(c, b);
		return 0;
	}
	if (!random && boff + n == b->len && o->obj.size >= ufs_budget_limit(c->budget))
		ufs_block_mark_once(c, b);
	pin_add(pin, b, NULL, b->data + boff, n);
	return (ssize_t)n;
}

/*
 * The one read path: check staleness, clamp to EOF, plan and queue
 * read-ahead, then take every part of the range into pin. With dst, each
 * part is copied there and released at once (ufs_cache_read: a long read
 * holds one block at a time, as before pins existed); without, the parts stay
 * pinned for the caller. Bytes (short only at the end of the object) or
 * -errno with nothing left pinned.
 */
static ssize_t cache_read_core(struct ufs_rstream *s, size_t len, uint64_t off, char *dst,
			       struct ufs_cache_pin *pin)
{
	struct ufs_cobj *o = s->o;
	struct ufs_cache *c = s->c;
	struct ufs_ra_plan plan;
	size_t done = 0;

	pthread_mutex_lock(&s->lock);
	ufs_ra_on_read(&s->ra, off, len, &plan);
	pthread_mutex_unlock(&s->lock);
	if (plan.pf_first < plan.pf_end)
		ufs_blocks_prefetch(c, o, plan.pf_first, plan.pf_end);
	while (done < len && pin->n < pin->max) {
		ssize_t n = cache_pin_part(c, o, len - done, off + done,
					   (plan.random || plan.probe) && o->obj.size > c->bs, pin);

		if (n < 0) {
			/* Unpin first: dropping the base spares pinned blocks. */
			pin_release(pin);
			if (n == -ESTALE) {
				atomic_store(&o->stale, 1);
				ufs_blocks_drop_base(c, &o->base);
			}
			return n;
		}
		if (n == 0)
			break;
		if (dst) {
			memcpy(dst + done, pin->iov[0].iov_base, (size_t)n);
			pin_release(pin);
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Staleness and EOF, before any read-ahead accounting: -ESTALE, 0 (nothing
 * to read) or 1 with *plen clamped to the object. */
static int cache_read_check(struct ufs_rstream *s, size_t *plen, uint64_t off)
{
	const struct ufs_obj *obj = &s->o->obj;

	if (atomic_load(&s->o->stale))
		return -ESTALE;
	if (off >= obj->size || *plen == 0)
		return 0;
	if (*plen > obj->size - off)
		*plen = (size_t)(obj->size - off);
	return 1;
}

ssize_t ufs_cache_read_pinned(struct ufs_rstream *s, size_t len, uint64_t off,
			      struct ufs_cache_pin **ppin)
{
	struct ufs_cache_pin *pin;
	int rc = cache_read_check(s, &len, off);
	ssize_t n;

	*ppin = NULL;
	if (rc <= 0)
		return rc;
	pin = pin_new(s->c, len, off);
	if (!pin)
		return -ENOMEM;
	n = cache_read_core(s, len, off, NULL, pin);
	if (n <= 0) {
		ufs_cache_unpin(pin);
		return n;
	}
	*ppin = pin;
	return n;
}

ssize_t ufs_cache_read(struct ufs_rstream *s, void *buf, size_t len, uint64_t off)
{
	struct pin_part part;
	struct iovec iov;
	struct ufs_cache_pin pin = {.c = s->c, .max = 1, .iov = &iov, .part = &part};
	int rc = cache_read_check(s, &len, off);

	if (rc <= 0)
		return rc;
	return cache_read_core(s, len, off, buf, &pin);
}

/* A small uncached read: granule-rounded like a random read (servers see
 * sane ranges), copied out of the pin. Bytes or -errno. */
static ssize_t cache_through_small(struct ufs_cache *c, struct ufs_cobj *o, size_t len,
				   uint64_t off, char *dst)
{
	struct pin_part part;
	struct iovec iov;
	struct ufs_cache_pin pin = {.c = c, .max = 1, .iov = &iov, .part = &part};
	ssize_t n = cache_read_direct(c, o, len, off, &pin);

	if (n > 0) {
		memcpy(dst, iov.iov_base, (size_t)n);
		pin_release(&pin);
	}
	return n;
}

/* One block's part of a read-through: copied from a cached block, or
 * fetched from the backend into dst. Bytes (0 at a short block's end) or
 * -errno. */
static ssize_t cache_through_part(struct ufs_cache *c, struct ufs_cobj *o, size_t len, uint64_t off,
				  char *dst)
{
	uint64_t index = off / c->bs, boff = off % c->bs;
	size_t n = len < c->bs - boff ? len : (size_t)(c->bs - boff);
	struct ufs_block *b;
	int rc = ufs_block_get(c, o, index, 1, &b);

	if ((rc == -EAGAIN || rc == -ENOMEM) && n >= UFS_CACHE_GRANULE)
		return ufs_cache_fetch(c, o, off, n, dst);
	if (rc == -EAGAIN || rc == -ENOMEM)
		return cache_through_small(c, o, n, off, dst);
	if (rc < 0)
		return rc;
	n = boff >= b->len ? 0 : n < b->len - boff ? n : (size_t)(b->len - boff);
	memcpy(dst, b->data + boff, n);
	ufs_block_unpin(c, b);
	return (ssize_t)n;
}

ssize_t ufs_cache_read_through(struct ufs_rstream *s, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	int rc = cache_read_check(s, &len, off);

	if (rc <= 0)
		return rc;
	while (done < len) {
		ssize_t n =
		    cache_through_part(s->c, s->o, len - done, off + done, (char *)buf + done);

		if (n == -ESTALE) {
			atomic_store(&s->o->stale, 1);
			ufs_blocks_drop_base(s->c, &s->o->base);
		}
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

void ufs_cache_hint(struct ufs_cache *c, struct ufs_backend *be, const struct ufs_obj *obj)
{
	struct ufs_cobj *o;

	if (obj->size == 0)
		return;
	if (atomic_fetch_add(&c->hints, 1) >= UFS_HINTS_MAX) {
		atomic_fetch_sub(&c->hints, 1);
		return;
	}
	o = ufs_cobj_create(c, be, obj, 0);
	if (!o) {
		atomic_fetch_sub(&c->hints, 1);
		return;
	}
	o->hint = 1;
	ufs_blocks_prefetch(c, o, 0, 1);
	ufs_cobj_put(o);
}

/* The buffer pool's counters into pst. */
static void cache_buf_stats(struct ufs_cache *c, struct ufs_cache_stats *pst)
{
	struct ufs_bufpool_stats bs;

	ufs_bufpool_get_stats(c->bufs, &bs);
	pst->buf_mapped = bs.mapped;
	pst->buf_reused = bs.reused;
	pst->buf_released = bs.released;
	pst->buf_idle_bytes = bs.idle_bytes;
}

struct ufs_bufpool *ufs_cache_bufpool(struct ufs_cache *c)
{
	return c ? c->bufs : NULL;
}

void ufs_cache_get_stats(struct ufs_cache *c, struct ufs_cache_stats *pst)
{
	memset(pst, 0, sizeof(*pst));
	pst->mem_hits = atomic_load(&c->n.mem_hits);
	pst->mem_misses = atomic_load(&c->n.mem_misses);
	pst->disk_hits = atomic_load(&c->n.disk_hits);
	pst->disk_misses = atomic_load(&c->n.disk_misses);
	pst->disk_checksum_failures = atomic_load(&c->n.disk_checksum_failures);
	pst->disk_bytes = c->disk ? ufs_disk_bytes(c->disk) : 0;
	ufs_fill_stats(c, pst);
	pst->prefetch_bytes = atomic_load(&c->n.prefetch_bytes);
	pst->prefetch_used_bytes = atomic_load(&c->n.prefetch_used_bytes);
	pst->prefetch_wasted_bytes = atomic_load(&c->n.prefetch_wasted_bytes);
	pst->fetched_bytes = atomic_load(&c->n.fetched_bytes);
	pst->mem_used = ufs_budget_used(c->budget);
	pst->mem_limit = ufs_budget_limit(c->budget);
	pst->mem_peak = ufs_budget_peak(c->budget);
	cache_buf_stats(c, pst);
}
