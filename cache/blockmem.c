/*
 * blockmem.c — a block's memory and lifetime: its buffer (charged to the
 * budget), its pins, its place on the LRU lists of idle blocks, and its end.
 *
 * The rules (block.c's design comment has the whole picture): every buffer is
 * charged to the budget for its cap bytes; bs-sized buffers come from and go
 * back to the buffer pool (bufpool.c), short ones (an object's last block)
 * from malloc. A block is on an LRU list iff it is in the table, READY and
 * unpinned: once_lru (read once by a sequential reader of an object as large
 * as the budget), spec_lru (read-ahead not read yet) or main_lru. A block
 * whose last pin goes while it is out of the table is freed.
 *
 * This file calls nothing else of cache/: the table and filling (block.c),
 * the disk fills (fill.c) and the public API (cache.c) pin, unpin and free
 * blocks through it. Locks: ufs_cache.lock where a function says so; a
 * buffer is freed or unmapped only with it released.
 */
#include <stdlib.h>

#include "cache/cache_i.h"
#include "common/budget.h"

/* ---- LRU lists ---- */

void ufs_lru_init(struct ufs_lru *l)
{
	l->head.lprev = l->head.lnext = &l->head;
}

static void lru_push(struct ufs_lru *l, struct ufs_block *b)
{
	b->lprev = l->head.lprev;
	b->lnext = &l->head;
	l->head.lprev->lnext = b;
	l->head.lprev = b;
	b->on_list = 1;
}

void ufs_lru_unlink(struct ufs_block *b)
{
	if (!b->on_list)
		return;
	if (b->once)
		b->cache->once_bytes -= b->cap;
	b->lprev->lnext = b->lnext;
	b->lnext->lprev = b->lprev;
	b->lprev = b->lnext = NULL;
	b->on_list = 0;
}

struct ufs_block *ufs_lru_first(struct ufs_lru *l)
{
	return l->head.lnext == &l->head ? NULL : l->head.lnext;
}

/* ---- buffers ---- */

/* A fresh buffer of cap bytes (charged by the caller): bs-sized ones from the
 * pool's mapper, faulted in at once since a block is filled whole; short ones
 * (an object's last block) from malloc, page-aligned so that the disk tier
 * can store them with direct I/O too. */
char *ufs_blkbuf_alloc(struct ufs_cache *c, uint32_t cap)
{
	if (cap == c->bs) {
		char *b = ufs_bufpool_map(c->bufs);

		if (b)
			ufs_bufpool_populate(c->bufs, b);
		return b;
	}
	return aligned_alloc(UFS_PAGE, ((size_t)cap + UFS_PAGE - 1) / UFS_PAGE * UFS_PAGE);
}

/* Free a buffer and return its charge (memory the budget needs elsewhere). */
static void buf_free(struct ufs_cache *c, char *data, uint32_t cap)
{
	if (!data)
		return;
	if (cap == c->bs) {
		ufs_bufpool_unmap(c->bufs, data);
		return;
	}
	free(data);
	ufs_budget_release(c->budget, cap);
}

/* A buffer no block uses any more: bs-sized ones go back to the pool (still
 * charged, faulted in), short ones are freed. */
void ufs_blkbuf_put(struct ufs_cache *c, char *data, uint32_t cap)
{
	if (data && cap == c->bs)
		ufs_bufpool_put(c->bufs, data);
	else
		buf_free(c, data, cap);
}

/* ---- block lifetime ---- */

/* Count a block leaving memory for the read-ahead statistics. */
static void blk_retire_stats(struct ufs_cache *c, const struct ufs_block *b)
{
	if (b->spec && b->state == UFS_BLK_READY)
		atomic_fetch_add(&c->n.prefetch_wasted_bytes, b->len);
}

/* Free a block no longer in the table with refs == 0 (lock not held). */
void ufs_block_destroy(struct ufs_cache *c, struct ufs_block *b)
{
	if (!b)
		return;
	blk_retire_stats(c, b);
	ufs_blkbuf_put(c, b->data, b->cap);
	free(b);
}

/* Push dead block b (out of the table and off every list, so its lnext is
 * free) on the chain *pdead, to be freed once the lock is released. */
void ufs_block_push_dead(struct ufs_block **pdead, struct ufs_block *b)
{
	b->lnext = *pdead;
	*pdead = b;
}

/* Destroy a chain of dead blocks linked through lnext (lock not held). */
void ufs_block_destroy_chain(struct ufs_cache *c, struct ufs_block *dead)
{
	struct ufs_block *next;

	for (; dead; dead = next) {
		next = dead->lnext;
		ufs_block_destroy(c, dead);
	}
}

/* Free block b (out of the table) and give its buffer's charge back to the
 * budget: reclaim, and the end of the cache. */
void ufs_block_free_charged(struct ufs_cache *c, struct ufs_block *b)
{
	blk_retire_stats(c, b);
	buf_free(c, b->data, b->cap);
	free(b);
}

/* Drop a pin; returns the block if it must now be destroyed. Lock held. */
struct ufs_block *ufs_block_unpin_locked(struct ufs_cache *c, struct ufs_block *b)
{
	if (--b->refs > 0)
		return NULL;
	if (!b->in_table)
		return b;
	if (b->once)
		c->once_bytes += b->cap;
	lru_push(b->once ? &c->once_lru : b->spec ? &c->spec_lru : &c->main_lru, b);
	return NULL;
}

void ufs_block_mark_once(struct ufs_cache *c, struct ufs_block *b)
{
	pthread_mutex_lock(&c->lock);
	b->once = 1; /* pinned: on no list, so once_bytes is unaffected */
	pthread_mutex_unlock(&c->lock);
}

void ufs_block_pin_locked(struct ufs_cache *c, struct ufs_block *b)
{
	(void)c;
	if (b->refs++ == 0)
		ufs_lru_unlink(b);
}

void ufs_block_unpin(struct ufs_cache *c, struct ufs_block *b)
{
	struct ufs_block *dead;

	pthread_mutex_lock(&c->lock);
	dead = ufs_block_unpin_locked(c, b);
	pthread_mutex_unlock(&c->lock);
	ufs_block_destroy(c, dead);
}
