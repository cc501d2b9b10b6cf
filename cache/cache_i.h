/*
 * cache_i.h — private pieces of the block cache shared by the cache/ sources:
 * the read-ahead detector (readahead.c), the disk tier (disk.c) and its fill
 * queue (fill.c), the objects read and their keys (object.c), a block's
 * memory and pins (blockmem.c), the block table (block.c) and the public API
 * (cache.c). Calls run one way: cache.c -> block.c -> fill.c -> blockmem.c,
 * and each of them -> object.c, disk.c, readahead.c. Read-ahead and disk
 * fills run on worker pools (common/pool.h).
 *
 * Lock order (outermost first): ufs_rstream.lock (read-ahead state only, never
 * held while taking another lock) ; ufs_cache.lock -> ufs_disk.lock ->
 * ufs_pool.lock -> ufs_budget's lock. ufs_budget_acquire() (which may call the
 * reclaim hook, which takes ufs_cache.lock) is never called with
 * ufs_cache.lock held. No backend call or file I/O runs under ufs_cache.lock,
 * which also guards the disk-fill queue (fill.c).
 */
#ifndef UFS_CACHE_I_H
#define UFS_CACHE_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"
#include "common/bufpool.h"
#include "common/pool.h"
#include "common/table.h"

#define UFS_RA_CURSORS 4		/* sequential streams tracked per open file */
#define UFS_RA_RANDOM_SEEKS 3		/* consecutive seeks before read-ahead stops */
#define UFS_RA_REENGAGE_HITS 4		/* contiguous hits that turn read-ahead back on */
#define UFS_RA_SLACK (2ULL << 20)	/* distance from a cursor still "sequential" */
#define UFS_CACHE_GRANULE (64ULL << 10) /* random-mode fetch alignment */
#define UFS_HINTS_MAX 4			/* hinted objects being prefetched at once */
#define UFS_POOL_IDLE_S 30		/* idle block buffers go back to the kernel after this */
#define UFS_RUN_BYTES (32ULL << 20)	/* read-ahead is fetched in requests up to this size */
#define UFS_RUN_MAX 64			/* blocks in one read-ahead request at most */
#define UFS_PAGE 4096			/* alignment of block buffers (direct I/O) */

/* 128-bit cache key (xxh3_128 of a canonical encoding). */
struct ufs_ckey {
	uint64_t lo, hi;
};

static inline int ufs_ckey_eq(const struct ufs_ckey *a, const struct ufs_ckey *b)
{
	return a->lo == b->lo && a->hi == b->hi;
}

#define ufs_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Little-endian encoding for keys and on-disk headers. */
static inline void ufs_put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t ufs_get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- common/bufpool.h: recycled full-size block buffers ---- */

/* ---- readahead.c: per-stream sequential detection ---- */

struct ufs_ra_cursor {
	uint64_t next;	 /* offset a sequential continuation is expected at */
	uint64_t window; /* read-ahead window in bytes */
	uint64_t hits;	 /* sequential hits since the cursor was placed */
	uint64_t run;	 /* hits that continued exactly (touching next) */
	uint64_t pf_end; /* block index read-ahead was planned up to */
	uint64_t tick;	 /* last use, for replacement */
};

struct ufs_ra {
	uint64_t bs, max, size;
	struct ufs_ra_cursor cur[UFS_RA_CURSORS];
	unsigned ncur;
	unsigned seeks; /* consecutive reads that matched no cursor */
	int random;	/* 1: read-ahead off, exact (granule) reads */
	uint64_t tick;
};

/* What a read should do: prefetch blocks [pf_first, pf_end) (empty when
 * equal) and, if random or probe (a read that matched no stream, other than
 * the first one: may be random, may start a new stream), fetch only what is
 * asked (granule-rounded) rather than whole blocks. */
struct ufs_ra_plan {
	int random;
	int probe;
	uint64_t pf_first, pf_end;
};

/* Reset ra for an object of size bytes in blocks of bs, window cap max. */
void ufs_ra_init(struct ufs_ra *ra, uint64_t bs, uint64_t max, uint64_t size);
/* Account a read of [off, off+len) (len > 0, off < size) and plan it. */
void ufs_ra_on_read(struct ufs_ra *ra, uint64_t off, uint64_t len, struct ufs_ra_plan *pplan);

/* ---- disk.c: one checksummed file per block under cache_dir ---- */

struct ufs_disk;

/* What a disk-tier file holds (its name ends in .blk, .idn or .lst). */
enum ufs_disk_kind { UFS_DISK_BLOCK, UFS_DISK_IDENT, UFS_DISK_LIST, UFS_DISK_KINDS };

/* Open (create) the tier at dir bounded to limit bytes: dir is opened once
 * (O_DIRECTORY | O_NOFOLLOW) and every file is reached relative to it;
 * its secret (dir/secret, 0600) is read or made; a scan learns what is there
 * and removes the temp files of dead writers. Refuses (-EPERM) a dir not
 * owned by the effective user or writable by group or others, (-ENOTDIR) a
 * symbolic link or non-directory, and (-EBUSY) a dir another open tier holds
 * (its lock is kept until close). 0 or -errno with a one-line message. */
int ufs_disk_open(const char *dir, uint64_t limit, struct ufs_disk **pd, char *err, size_t errlen);
/* Free the index; files stay. NULL is a no-op. */
void ufs_disk_close(struct ufs_disk *d);
/* Cheap presence check from the index (may be stale: read decides). */
int ufs_disk_has(struct ufs_disk *d, const struct ufs_ckey *key);
/* Read and verify (keyed checksums) key's file of kind into buf (cap
 * bytes). Returns its length, -ENOENT on a miss (or a file of another format
 * version, deleted), -EBADMSG when the file was corrupt or forged (it is
 * deleted). */
ssize_t ufs_disk_read(struct ufs_disk *d, enum ufs_disk_kind kind, const struct ufs_ckey *key,
		      void *buf, size_t cap);
/* Store len bytes for key (temp file + rename; O_DIRECT when data is
 * page-aligned, else written back and dropped from the page cache for
 * blocks), then evict the oldest files while over the bound. Blocking file
 * I/O: call it off the read path (fill.c) or for small records. 0 or -errno
 * (the data is simply not cached). */
int ufs_disk_write(struct ufs_disk *d, enum ufs_disk_kind kind, const struct ufs_ckey *key,
		   const void *data, size_t len);
/* Data length of key's file from the index, or -ENOENT (may be stale). */
int64_t ufs_disk_size(struct ufs_disk *d, const struct ufs_ckey *key);
/* Bytes the tier holds now. */
uint64_t ufs_disk_bytes(struct ufs_disk *d);

/* ---- the memory tier: blocks and the objects they belong to ---- */

enum ufs_blk_state {
	UFS_BLK_QUEUED,	  /* placeholder: a prefetch job will fill it (or a reader steals it) */
	UFS_BLK_FETCHING, /* being filled by exactly one thread */
	UFS_BLK_READY,	  /* data[0..len) valid */
	UFS_BLK_FAILED,	  /* err holds why; already out of the table */
};

/* The pinned object a stream (or a hint) reads; shared with queued jobs. */
struct ufs_cobj {
	atomic_uint refs;
	struct ufs_cache *cache;
	struct ufs_backend *be;
	struct ufs_obj obj;   /* path owned */
	struct ufs_ckey base; /* xxh3_128(backend url, path, identity, gen) */
	atomic_int closed;    /* stream closed: queued read-ahead is dropped */
	atomic_int stale;     /* object changed: reads fail with -ESTALE */
	int hint;	      /* created by ufs_cache_hint (counted in c->hints) */
};

struct ufs_block {
	struct ufs_cache *cache;
	struct ufs_ckey key, base;
	uint64_t index;			 /* block number in its object */
	struct ufs_tnode hnode;		 /* in ufs_cache.table, keyed by key */
	struct ufs_block *lprev, *lnext; /* LRU list, only while READY, refs 0, in table;
					    lnext then links dead blocks being freed */
	struct ufs_cobj *job_obj;	 /* object of a queued run (its first block only) */
	struct ufs_block *run_next;	 /* next block of the same queued run */
	struct ufs_job fetch_job;
	struct ufs_block *dprev, *dnext; /* disk-fill queue, only while disk_q */
	char *data;
	uint32_t len, cap; /* valid bytes / allocated (charged) bytes */
	unsigned refs;	   /* pins: fetch owner, readers copying, jobs */
	int err;	   /* when FAILED */
	uint8_t state;	   /* enum ufs_blk_state */
	uint8_t spec;	   /* prefetched and not read yet */
	uint8_t spec_fill; /* filled by read-ahead (a waiter may retry on failure) */
	uint8_t in_table;
	uint8_t on_list;
	uint8_t disk_q; /* on the disk-fill queue (in the table, READY; not pinned by it) */
	uint8_t once;	/* read to its end by a sequential reader of an object at least
			   as large as the budget: on once_lru when idle, recycled first */
};

/* A doubly linked LRU list with a sentinel. */
struct ufs_lru {
	struct ufs_block head;
};

struct ufs_cache_counters {
	atomic_uint_least64_t mem_hits, mem_misses;
	atomic_uint_least64_t disk_hits, disk_misses, disk_checksum_failures;
	atomic_uint_least64_t prefetch_bytes, prefetch_used_bytes, prefetch_wasted_bytes;
	atomic_uint_least64_t fetched_bytes;
	/* disk-tier fills: stored, skipped (queue full), evicted (the block left
	 * memory before its turn), failed (ENOSPC, I/O error); bytes written and
	 * the rate over the last window (disk writer thread only) */
	atomic_uint_least64_t disk_fills, disk_fill_skips, disk_fill_evicted, disk_fill_errors;
	atomic_uint_least64_t disk_write_bytes, disk_write_bps;
	atomic_uint_least64_t disk_win_start_ns, disk_win_bytes;
};

struct ufs_cache {
	struct ufs_budget *budget;
	uint64_t bs, ra_max;
	pthread_mutex_t lock;	/* table, lists, refs, states, free buffers */
	pthread_cond_t filled;	/* broadcast when a block leaves FETCHING/QUEUED */
	struct ufs_table table; /* blocks by key (hashed by key.lo): fixed size */
	struct ufs_lru spec_lru, main_lru;
	struct ufs_lru once_lru;  /* idle `once` blocks, oldest first */
	uint64_t once_bytes;	  /* bytes of the blocks on once_lru */
	uint64_t once_keep;	  /* once_lru bytes kept before a buffer is recycled */
	struct ufs_bufpool *bufs; /* bs-sized buffers: recycled, charged while idle */
	struct ufs_pool *fetch_pool, *disk_pool;
	struct ufs_disk *disk;
	struct ufs_block *dq_head, *dq_tail; /* disk-fill queue, oldest first */
	unsigned disk_pending, disk_max;     /* blocks on it / its bound */
	int disk_running;		     /* disk_job submitted and not finished */
	struct ufs_job disk_job;	     /* drains the queue on disk_pool */
	atomic_uint hints;
	struct ufs_cache_counters n;
};

/* ---- object.c: the objects read, their keys and identity records ---- */

/* The key of a record about be:path, xxh3_128(magic\0 url\0 path\0 tail);
 * 0 or -ENOMEM. */
int ufs_cache_key_of(const char *magic, const struct ufs_backend *be, const char *path,
		     const unsigned char *tail, size_t tlen, struct ufs_ckey *pkey);
/* A pinned object for reading obj of be (its identity copied, path owned)
 * at generation gen, holding one reference; NULL on ENOMEM. */
struct ufs_cobj *ufs_cobj_create(struct ufs_cache *c, struct ufs_backend *be,
				 const struct ufs_obj *obj, uint64_t gen);
/* Drop a reference to o; the last one frees it. NULL is a no-op. */
void ufs_cobj_put(struct ufs_cobj *o);
/* Remember obj's identity in the disk tier (unless it is there already, or
 * there is no disk tier). */
void ufs_cache_save_identity(struct ufs_cache *c, struct ufs_backend *be,
			     const struct ufs_obj *obj);

/* ---- blockmem.c: a block's buffer, pins, LRU list and end ---- */

/* An empty LRU list. */
void ufs_lru_init(struct ufs_lru *l);
/* The oldest block of l, or NULL. Lock held. */
struct ufs_block *ufs_lru_first(struct ufs_lru *l);
/* Take b off its LRU list (no-op when on none). Lock held. */
void ufs_lru_unlink(struct ufs_block *b);
/* A fresh buffer of cap bytes, charged by the caller: bs-sized ones mapped
 * by the buffer pool, short ones page-aligned from malloc. NULL on ENOMEM. */
char *ufs_blkbuf_alloc(struct ufs_cache *c, uint32_t cap);
/* A buffer no block uses any more: a bs-sized one goes back to the pool
 * (still charged), a short one is freed and its charge released. */
void ufs_blkbuf_put(struct ufs_cache *c, char *data, uint32_t cap);
/* Free block b (out of the table, refs 0), its buffer put back as by
 * ufs_blkbuf_put. NULL is a no-op. Lock not held. */
void ufs_block_destroy(struct ufs_cache *c, struct ufs_block *b);
/* Free block b (out of the table) and release its buffer's charge to the
 * budget (reclaim, and the end of the cache). Lock not held. */
void ufs_block_free_charged(struct ufs_cache *c, struct ufs_block *b);
/* Push dead block b (out of the table, off every list) on the chain
 * *pdead, linked through lnext, to be destroyed once the lock is released. */
void ufs_block_push_dead(struct ufs_block **pdead, struct ufs_block *b);
/* ufs_block_destroy every block of a chain made by ufs_block_push_dead. */
void ufs_block_destroy_chain(struct ufs_cache *c, struct ufs_block *dead);
/* Pin b (in the table); ufs_cache.lock held. Taken off its LRU list. */
void ufs_block_pin_locked(struct ufs_cache *c, struct ufs_block *b);
/* Drop a pin of b; lock held. An idle block in the table goes on its LRU
 * list; one out of the table is returned, to be destroyed (else NULL). */
struct ufs_block *ufs_block_unpin_locked(struct ufs_cache *c, struct ufs_block *b);
/* Drop a pin of b, destroying it if that was the last and it left the table. */
void ufs_block_unpin(struct ufs_cache *c, struct ufs_block *b);
/* Mark pinned block b as read once by a sequential reader of an object too
 * large to be kept whole: when idle it goes to once_lru, whose buffers are
 * recycled before fresh memory is touched (see block.c). */
void ufs_block_mark_once(struct ufs_cache *c, struct ufs_block *b);

/* ---- block.c: the block table, eviction, filling and read-ahead ---- */

int ufs_blocks_init(struct ufs_cache *c);
void ufs_blocks_fini(struct ufs_cache *c);
uint64_t ufs_blocks_reclaim(void *arg, uint64_t need);
struct ufs_ckey ufs_block_key(const struct ufs_ckey *base, uint64_t bs, uint64_t index);
/* Pin block index of o, filling it (memory, disk, backend) if absent; on
 * success *pb is READY and pinned. allow_direct: return -EAGAIN instead of
 * filling when the block is neither in memory nor on disk. */
int ufs_block_get(struct ufs_cache *c, struct ufs_cobj *o, uint64_t index, int allow_direct,
		  struct ufs_block **pb);
/* Queue read-ahead of blocks [first, end) of o that are not cached yet. */
void ufs_blocks_prefetch(struct ufs_cache *c, struct ufs_cobj *o, uint64_t first, uint64_t end);
/* Drop every unpinned block of identity base (after -ESTALE). */
void ufs_blocks_drop_base(struct ufs_cache *c, const struct ufs_ckey *base);
/* Read [off, off+len) of o from the backend into buf; bytes or -errno. */
ssize_t ufs_cache_fetch(struct ufs_cache *c, struct ufs_cobj *o, uint64_t off, size_t len,
			void *buf);

/* ---- fill.c: the disk tier's fills, off the read path ---- */

/* Set up the fill queue of c (c->disk open, c->disk_pool running). */
void ufs_fill_init(struct ufs_cache *c);
/* Queue READY block b (pinned by the caller) for the disk tier, or skip it
 * (counted) when the queue is full. Never waits. */
void ufs_fill_queue(struct ufs_cache *c, struct ufs_block *b);
/* Block b leaves the table: off the queue (counted: evicted) if it was on it.
 * ufs_cache.lock held. */
void ufs_fill_forget_locked(struct ufs_cache *c, struct ufs_block *b);
/* The fill counters and the queue length into pst. */
void ufs_fill_stats(struct ufs_cache *c, struct ufs_cache_stats *pst);

#endif
