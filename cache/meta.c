/*
 * meta.c — metadata cache (see meta.h).
 *
 * Design: one keyed table (common/table.h) of entries keyed by (mount,
 * path), hashed with xxh64(path, seed = mount), under one mutex. An entry
 * holds up to three independent facts, each with its own expiry time:
 * attributes, "does not exist" (negative) and a directory listing. An entry
 * with no live fact is dropped when met. The table doubles when it holds as
 * many entries as buckets (so never beyond max_entries buckets). Past
 * max_entries, expired entries are swept; if that is not enough, the whole
 * table is cleared (cheap, and correct: it is a cache).
 *
 * Tree invalidation (rename, rmdir) does not walk the table: it drops the
 * path and its parent's facts and leaves a tombstone (mount, path, seq) that
 * lives as long as the mount's longest TTL. Every fact stored takes the next
 * sequence number; an entry found below (or at) a tombstone younger than its
 * facts is dropped when met. With tombstones alive a lookup costs one more
 * hash probe per path component; `rm -rf` of N files stays O(N).
 *
 * Memory budget (ufs_meta_set_budget): every entry and every listing made
 * with ufs_meta_dir_create_for() counts in the global budget. A listing
 * reserves its bytes while it is built (ufs_meta_dir_add, in chunks of
 * META_DIR_CHUNK, trimmed to the real size by ufs_meta_dir_sort) and gives
 * them back when its last reference goes: a listing held by an open
 * directory stays counted after the cache dropped it. Entries reserve their
 * bytes before the lock is taken (acquiring may call the reclaim hooks,
 * this cache's own among them) and release them when freed. A listing
 * larger than 1/META_DIR_SHARE of the budget is not cached (nor the
 * attributes of its entries): its opener serves it and it goes with the
 * last reference. The reclaim hook (meta_reclaim) drops expired entries,
 * then cached listings, then everything. Sizes are estimated as glibc
 * malloc lays them out (meta_alloc_size). Listing byte counters live in a
 * separately counted struct meta_acct, since listings may outlive the cache.
 *
 * Fill races: a getattr answered before a change and stored after its
 * invalidation would outlive it by a TTL. Every invalidation counts in
 * m->changes; a caller takes a ticket (the count) before asking the backend
 * and stores with it (ufs_meta_put_attr_since): a moved count stores nothing.
 *
 * Invariants: an entry never has both a live attr and a live negative fact;
 * a stored listing is never modified (readers hold references to it);
 * m->ent_bytes is what the entries have reserved.
 * Lock order: meta lock -> budget lock (release only; never acquire with
 * the meta lock held). Listing reference counts are atomic.
 */
#include "cache/meta.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <xxhash.h>

#include "common/budget.h"
#include "common/table.h"

#define META_DEFAULT_MAX (1u << 20)
#define META_DIR_CHUNK (64u << 10) /* a listing reserves budget this much at a time */
#define META_DIR_SHARE 4	   /* larger than budget/4: not cached */
#define META_WAIT_MS 2000	   /* a listing waits this long for budget, then fails */
#define META_TRIM_BYTES (8u << 20) /* a reclaim freeing this much trims the heap */

/* Listing memory of one cache, shared with its listings (counted by reference). */
struct meta_acct {
	atomic_long refs;
	struct ufs_budget *budget; /* set before any listing exists; NULL: unbounded */
	atomic_uint_fast64_t list_bytes, list_peak;
};

struct meta_dent {
	char *name;
	struct ufs_attr attr;
};

struct ufs_meta_dir {
	atomic_long refs;
	atomic_long cursor;
	struct meta_dent *ents;
	size_t n, cap;
	int sorted;
	struct meta_acct *acct; /* NULL: not counted */
	uint64_t used;		/* estimated bytes held */
	uint64_t charged;	/* bytes reserved in acct->budget (>= used while building) */
};

enum { META_ATTR = 1, META_NEG = 2 };

struct meta_ent {
	struct ufs_tnode node; /* in ufs_meta.ents, keyed by (mount, path) */
	uint64_t seq;	       /* when a fact was last stored (m->seq) */
	int mount;
	unsigned facts;
	double attr_exp, neg_exp, dir_exp;
	struct ufs_attr attr;
	struct ufs_meta_dir *dir;
	char path[];
};

/* "Everything at or below (mount, path) stored before seq is gone." */
struct meta_tomb {
	struct ufs_tnode node;	 /* in ufs_meta.tombs, keyed by (mount, path) */
	struct meta_tomb *qnext; /* expiry order (oldest first) */
	uint64_t seq;
	double exp;
	int mount;
	char path[];
};

#define META_TOMB_BUCKETS 1024

struct ufs_meta {
	pthread_mutex_t lock;
	struct ufs_table ents; /* meta_ent: grows with the entries, up to max_entries buckets */
	size_t max_entries;
	uint64_t seq;
	struct ufs_table tombs; /* meta_tomb: META_TOMB_BUCKETS, fixed */
	struct meta_tomb *tq_head, *tq_tail;
	size_t n_tombs;
	struct ufs_meta_ttl *ttls;
	size_t n_mounts;
	ufs_clock_fn clock;
	void *clock_arg;
	struct meta_acct *acct;
	uint64_t ent_bytes; /* reserved by entries (lock held) */
	atomic_uint_fast64_t uncached, evicted;
	atomic_uint_fast64_t changes; /* invalidations so far (moved with the lock held) */
};

static const struct ufs_meta_ttl meta_no_ttl;

/* What both tables are keyed by: a mount and the first len bytes of path. */
struct meta_key {
	int mount;
	const char *path;
	size_t len;
};

/* Whether (mount, path) is k. */
static int meta_key_is(int mount, const char *path, const struct meta_key *k)
{
	return mount == k->mount && strncmp(path, k->path, k->len) == 0 && path[k->len] == '\0';
}

static int meta_ent_eq(const struct ufs_tnode *n, const void *key)
{
	const struct meta_ent *e = ufs_table_entry(n, struct meta_ent, node);

	return meta_key_is(e->mount, e->path, key);
}

static int meta_tomb_eq(const struct ufs_tnode *n, const void *key)
{
	const struct meta_tomb *t = ufs_table_entry(n, struct meta_tomb, node);

	return meta_key_is(t->mount, t->path, key);
}

static uint64_t meta_key_hash(const struct meta_key *k)
{
	return XXH64(k->path, k->len, (uint64_t)(unsigned)k->mount);
}

int ufs_meta_ttl_from_config(const struct ufs_config *cfg, size_t i, struct ufs_meta_ttl *pttl,
			     char *err, size_t errlen)
{
	const struct ufs_mount_cfg *m = &cfg->mounts[i];

	if (ufs_mcfg_get_double(m, "attr_ttl", cfg->attr_ttl, &pttl->attr) < 0 ||
	    ufs_mcfg_get_double(m, "dir_ttl", cfg->dir_ttl, &pttl->dir) < 0 ||
	    ufs_mcfg_get_double(m, "negative_ttl", cfg->negative_ttl, &pttl->negative) < 0) {
		snprintf(err, errlen, "mount %s: attr_ttl, dir_ttl and negative_ttl take seconds",
			 m->prefix);
		return -EINVAL;
	}
	return 0;
}

static double meta_monotonic(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct ufs_meta *ufs_meta_create(size_t n_mounts, const struct ufs_meta_ttl *ttls,
				 ufs_clock_fn clock, void *clock_arg, size_t max_entries)
{
	struct ufs_meta *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->max_entries = max_entries ? max_entries : META_DEFAULT_MAX;
	m->ttls = calloc(n_mounts ? n_mounts : 1, sizeof(*m->ttls));
	m->acct = calloc(1, sizeof(*m->acct));
	/* the entries' table doubles while it holds as many entries as
	 * buckets: never beyond max_entries buckets (see meta_make_room) */
	if (!m->ttls || !m->acct ||
	    ufs_table_init(&m->ents, 1024, m->max_entries, meta_ent_eq) < 0 ||
	    ufs_table_init(&m->tombs, META_TOMB_BUCKETS, META_TOMB_BUCKETS, meta_tomb_eq) < 0) {
		ufs_table_fini(&m->ents);
		free(m->acct);
		free(m->ttls);
		free(m);
		return NULL;
	}
	if (n_mounts)
		memcpy(m->ttls, ttls, n_mounts * sizeof(*ttls));
	m->n_mounts = n_mounts;
	m->clock = clock ? clock : meta_monotonic;
	m->clock_arg = clock_arg;
	atomic_init(&m->acct->refs, 1);
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void meta_tombs_expire(struct ufs_meta *m, double now);
static uint64_t meta_dir_put(struct ufs_meta_dir *d);

static void meta_acct_unref(struct meta_acct *a)
{
	if (a && atomic_fetch_sub(&a->refs, 1) == 1)
		free(a);
}

/* Bytes glibc's malloc takes for a request of n (header, 16-byte steps). */
static uint64_t meta_alloc_size(size_t n)
{
	uint64_t sz = ((uint64_t)n + 8 + 15) & ~(uint64_t)15;

	return sz < 32 ? 32 : sz;
}

/* Bytes an entry for a path of len bytes holds (its listing apart). */
static uint64_t meta_ent_size(size_t len)
{
	return meta_alloc_size(sizeof(struct meta_ent) + len + 1);
}

/* Free e and what it owns; returns the bytes given back to the budget.
 * Lock held. */
static uint64_t meta_ent_free(struct ufs_meta *m, struct meta_ent *e)
{
	uint64_t sz = meta_ent_size(strlen(e->path)), freed = meta_dir_put(e->dir);

	m->ent_bytes -= sz;
	ufs_budget_release(m->acct->budget, sz);
	free(e);
	return sz + freed;
}

/* Take e out of the table and free it; returns the bytes given back. Lock
 * held. */
static uint64_t meta_unlink(struct ufs_meta *m, struct meta_ent *e)
{
	ufs_table_remove(&m->ents, &e->node);
	return meta_ent_free(m, e);
}

/* Drop every entry; returns the bytes given back. Caller holds the lock. */
static uint64_t meta_clear(struct ufs_meta *m)
{
	struct ufs_table_iter it;
	uint64_t freed = 0;

	for (struct ufs_tnode *n = ufs_table_first(&m->ents, &it); n; n = ufs_table_next(&it))
		freed += meta_unlink(m, ufs_table_entry(n, struct meta_ent, node));
	return freed;
}

static uint64_t meta_reclaim(void *arg, uint64_t need);

void ufs_meta_destroy(struct ufs_meta *m)
{
	if (!m)
		return;
	if (m->acct->budget)
		ufs_budget_set_reclaim(m->acct->budget, NULL, m);
	meta_clear(m);
	meta_tombs_expire(m, 1e300);
	pthread_mutex_destroy(&m->lock);
	meta_acct_unref(m->acct);
	ufs_table_fini(&m->ents);
	ufs_table_fini(&m->tombs);
	free(m->ttls);
	free(m);
}

int ufs_meta_set_budget(struct ufs_meta *m, struct ufs_budget *b)
{
	int rc = ufs_budget_set_reclaim(b, meta_reclaim, m);

	if (rc == 0)
		m->acct->budget = b;
	return rc;
}

const struct ufs_meta_ttl *ufs_meta_ttl(const struct ufs_meta *m, int mount)
{
	if (mount < 0 || (size_t)mount >= m->n_mounts)
		return &meta_no_ttl;
	return &m->ttls[mount];
}

/* Whether e holds any fact still alive at now. */
static int meta_ent_live(const struct meta_ent *e, double now)
{
	return ((e->facts & META_ATTR) && e->attr_exp > now) ||
	       ((e->facts & META_NEG) && e->neg_exp > now) || (e->dir && e->dir_exp > now);
}

/* The entry of (mount, path), whatever its facts. Lock held. */
static struct meta_ent *meta_lookup(struct ufs_meta *m, int mount, const char *path)
{
	struct meta_key k = {mount, path, strlen(path)};

	return ufs_table_entry(ufs_table_find(&m->ents, meta_key_hash(&k), &k), struct meta_ent,
			       node);
}

/* Sequence number of the tombstone at (mount, the first len bytes of
 * path), 0 when none. Lock held. */
static uint64_t meta_tomb_seq(struct ufs_meta *m, int mount, const char *path, size_t len)
{
	struct meta_key k = {mount, path, len};
	struct meta_tomb *t = ufs_table_entry(ufs_table_find(&m->tombs, meta_key_hash(&k), &k),
					      struct meta_tomb, node);

	return t ? t->seq : 0;
}

/* Whether a tombstone at or above e's path is younger than e. Lock held. */
static int meta_tombed(struct ufs_meta *m, const struct meta_ent *e)
{
	const char *p = e->path;

	if (!m->n_tombs)
		return 0;
	if (meta_tomb_seq(m, e->mount, p, 0) > e->seq)
		return 1;
	for (const char *s = p; *s; s++)
		if ((s[1] == '/' || s[1] == '\0') &&
		    meta_tomb_seq(m, e->mount, p, (size_t)(s + 1 - p)) > e->seq)
			return 1;
	return 0;
}

/* The live entry of (mount, path): one below a newer tombstone is dropped.
 * Lock held. */
static struct meta_ent *meta_find(struct ufs_meta *m, int mount, const char *path)
{
	struct meta_ent *e = meta_lookup(m, mount, path);

	if (e && meta_tombed(m, e)) {
		meta_unlink(m, e);
		return NULL;
	}
	return e;
}

/* Forget tombstones past their expiry. Lock held. */
static void meta_tombs_expire(struct ufs_meta *m, double now)
{
	while (m->tq_head && m->tq_head->exp <= now) {
		struct meta_tomb *t = m->tq_head;

		ufs_table_remove(&m->tombs, &t->node);
		m->tq_head = t->qnext;
		if (!m->tq_head)
			m->tq_tail = NULL;
		m->n_tombs--;
		free(t);
	}
}

/* Leave a tombstone at (mount, path) for ttl seconds. 0 or -ENOMEM. Lock held. */
static int meta_tomb_add(struct ufs_meta *m, int mount, const char *path, double now, double ttl)
{
	struct meta_key k = {mount, path, strlen(path)};
	struct meta_tomb *t = calloc(1, sizeof(*t) + k.len + 1);

	if (!t)
		return -ENOMEM;
	memcpy(t->path, path, k.len + 1);
	t->mount = mount;
	t->seq = ++m->seq;
	t->exp = now + ttl;
	ufs_table_insert(&m->tombs, &t->node, meta_key_hash(&k));
	if (m->tq_tail)
		m->tq_tail->qnext = t;
	else
		m->tq_head = t;
	m->tq_tail = t; /* TTLs differ per mount: expiry order is approximate */
	m->n_tombs++;
	return 0;
}

/* Remove the entries with no live fact; returns the bytes given back.
 * Caller holds the lock. */
static uint64_t meta_sweep(struct ufs_meta *m, double now)
{
	struct ufs_table_iter it;
	uint64_t freed = 0;

	for (struct ufs_tnode *n = ufs_table_first(&m->ents, &it); n; n = ufs_table_next(&it)) {
		struct meta_ent *e = ufs_table_entry(n, struct meta_ent, node);

		if (!meta_ent_live(e, now))
			freed += meta_unlink(m, e);
	}
	return freed;
}

/* Drop cached listings (table order, a whole chain at a time) until need
 * bytes came back or none is left; returns the bytes given back. Lock held. */
static uint64_t meta_drop_listings(struct ufs_meta *m, uint64_t need, double now)
{
	struct ufs_table_iter it;
	uint64_t freed = 0;

	if (need == 0)
		return 0;
	for (struct ufs_tnode *n = ufs_table_first(&m->ents, &it); n; n = ufs_table_next(&it)) {
		struct meta_ent *e = ufs_table_entry(n, struct meta_ent, node);

		if (e->dir) {
			freed += meta_dir_put(e->dir);
			e->dir = NULL;
			atomic_fetch_add(&m->evicted, 1);
		}
		if (!meta_ent_live(e, now))
			freed += meta_unlink(m, e);
		if (freed >= need && !it.next)
			break; /* enough, at the end of a chain */
	}
	return freed;
}

/* The budget's reclaim hook: expired entries, then listings, then every
 * entry (only when that covers what is missing: the budget may be short
 * because of write buffers, which dropping attributes would not fix), until
 * need bytes came back. */
static uint64_t meta_reclaim(void *arg, uint64_t need)
{
	struct ufs_meta *m = arg;
	uint64_t freed;
	double now;

	pthread_mutex_lock(&m->lock);
	now = m->clock(m->clock_arg);
	freed = meta_sweep(m, now);
	if (freed < need)
		freed += meta_drop_listings(m, need - freed, now);
	if (freed < need && m->ent_bytes >= need - freed)
		freed += meta_clear(m);
	pthread_mutex_unlock(&m->lock);
	if (freed >= META_TRIM_BYTES)
		malloc_trim(0); /* to the system: other threads' arenas would not reuse it */
	return freed;
}

/* Reserve up to n bytes of budget for entries, before taking the lock (the
 * reclaim hooks may run). Returns what was reserved: n or 0. */
static uint64_t meta_reserve(struct ufs_meta *m, uint64_t n)
{
	return ufs_budget_acquire(m->acct->budget, n, 0) == 0 ? n : 0;
}

/* Give back what is left of a reservation (lock not needed). */
static void meta_unreserve(struct ufs_meta *m, uint64_t left)
{
	ufs_budget_release(m->acct->budget, left);
}

/* Keep the table within max_entries before one more insertion. */
static void meta_make_room(struct ufs_meta *m)
{
	if (ufs_table_count(&m->ents) < m->max_entries)
		return;
	meta_sweep(m, m->clock(m->clock_arg));
	if (ufs_table_count(&m->ents) >= m->max_entries)
		meta_clear(m);
}

/* Find or insert the entry of (mount, path); a new entry takes its bytes
 * from *presv (or, short of it, from the budget if they fit now). NULL on
 * ENOMEM or no budget. Lock held. */
static struct meta_ent *meta_get_or_add(struct ufs_meta *m, int mount, const char *path,
					uint64_t *presv)
{
	struct meta_key k = {mount, path, strlen(path)};
	struct meta_ent *e = meta_find(m, mount, path);
	uint64_t sz = meta_ent_size(k.len);

	if (e) {
		e->seq = ++m->seq;
		return e;
	}
	meta_make_room(m);
	if (*presv >= sz)
		*presv -= sz;
	else if (ufs_budget_try(m->acct->budget, sz) < 0)
		return NULL;
	e = calloc(1, sizeof(*e) + k.len + 1);
	if (!e) {
		ufs_budget_release(m->acct->budget, sz);
		return NULL;
	}
	m->ent_bytes += sz;
	e->seq = ++m->seq;
	e->mount = mount;
	memcpy(e->path, path, k.len + 1);
	ufs_table_insert(&m->ents, &e->node, meta_key_hash(&k));
	return e;
}

int ufs_meta_get_attr(struct ufs_meta *m, int mount, const char *path, struct ufs_attr *pattr)
{
	int rc = 0;
	double now;
	struct meta_ent *e;

	pthread_mutex_lock(&m->lock);
	now = m->clock(m->clock_arg);
	e = meta_find(m, mount, path);
	if (e && (e->facts & META_ATTR) && e->attr_exp > now) {
		*pattr = e->attr;
		rc = 1;
	} else if (e && (e->facts & META_NEG) && e->neg_exp > now) {
		rc = -ENOENT;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Store attr into e; caller holds the lock. */
static void meta_set_attr(struct ufs_meta *m, struct meta_ent *e, const struct ufs_attr *attr,
			  double now)
{
	e->attr = *attr;
	e->facts = (e->facts | META_ATTR) & ~META_NEG;
	e->attr_exp = now + ufs_meta_ttl(m, e->mount)->attr;
}

uint64_t ufs_meta_ticket(struct ufs_meta *m)
{
	return atomic_load(&m->changes);
}

/* Whether a put made with ticket may store: nothing was invalidated since
 * it was taken. Lock held. */
static int meta_ticket_valid(struct ufs_meta *m, uint64_t ticket)
{
	return ticket == UFS_META_NO_TICKET || ticket == atomic_load(&m->changes);
}

void ufs_meta_put_attr(struct ufs_meta *m, int mount, const char *path, const struct ufs_attr *attr)
{
	ufs_meta_put_attr_since(m, mount, path, attr, UFS_META_NO_TICKET);
}

void ufs_meta_put_attr_since(struct ufs_meta *m, int mount, const char *path,
			     const struct ufs_attr *attr, uint64_t ticket)
{
	struct meta_ent *e;
	uint64_t resv;

	if (ufs_meta_ttl(m, mount)->attr <= 0 || attr->mode == 0)
		return;
	resv = meta_reserve(m, meta_ent_size(strlen(path)));
	pthread_mutex_lock(&m->lock);
	e = meta_ticket_valid(m, ticket) ? meta_get_or_add(m, mount, path, &resv) : NULL;
	if (e)
		meta_set_attr(m, e, attr, m->clock(m->clock_arg));
	pthread_mutex_unlock(&m->lock);
	meta_unreserve(m, resv);
}

void ufs_meta_put_negative(struct ufs_meta *m, int mount, const char *path)
{
	ufs_meta_put_negative_since(m, mount, path, UFS_META_NO_TICKET);
}

void ufs_meta_put_negative_since(struct ufs_meta *m, int mount, const char *path, uint64_t ticket)
{
	struct meta_ent *e;
	uint64_t resv;

	if (ufs_meta_ttl(m, mount)->negative <= 0)
		return;
	resv = meta_reserve(m, meta_ent_size(strlen(path)));
	pthread_mutex_lock(&m->lock);
	e = meta_ticket_valid(m, ticket) ? meta_get_or_add(m, mount, path, &resv) : NULL;
	if (e) {
		e->facts = (e->facts | META_NEG) & ~META_ATTR;
		e->neg_exp = m->clock(m->clock_arg) + ufs_meta_ttl(m, mount)->negative;
	}
	pthread_mutex_unlock(&m->lock);
	meta_unreserve(m, resv);
}

struct ufs_meta_dir *ufs_meta_get_dir(struct ufs_meta *m, int mount, const char *dir)
{
	struct ufs_meta_dir *d = NULL;
	struct meta_ent *e;

	pthread_mutex_lock(&m->lock);
	e = meta_find(m, mount, dir);
	if (e && e->dir && e->dir_exp > m->clock(m->clock_arg))
		d = ufs_meta_dir_ref(e->dir);
	pthread_mutex_unlock(&m->lock);
	return d;
}

/* Bytes the entries for the typed children of d under dir would take. */
static uint64_t meta_children_size(const char *dir, const struct ufs_meta_dir *d)
{
	size_t dlen = strlen(dir);
	uint64_t total = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->ents[i].attr.mode != 0)
			total += meta_ent_size(dlen + 1 + strlen(d->ents[i].name));
	return total;
}

/* Store the attributes of the typed entries of d under dir, new entries
 * taking their bytes from *presv. Lock held. */
static void meta_fill_children(struct ufs_meta *m, int mount, const char *dir,
			       const struct ufs_meta_dir *d, double now, uint64_t *presv)
{
	size_t dlen = strlen(dir);
	char *path = NULL;
	size_t cap = 0;

	if (ufs_meta_ttl(m, mount)->attr <= 0)
		return;
	for (size_t i = 0; i < d->n; i++) {
		size_t need = dlen + strlen(d->ents[i].name) + 2;
		struct meta_ent *e;

		if (d->ents[i].attr.mode == 0)
			continue;
		if (need > cap) {
			char *p = realloc(path, need * 2);

			if (!p)
				break;
			path = p;
			cap = need * 2;
		}
		snprintf(path, cap, "%s%s%s", dir, dlen ? "/" : "", d->ents[i].name);
		e = meta_get_or_add(m, mount, path, presv);
		if (!e)
			break; /* no memory: the rest stays uncached */
		meta_set_attr(m, e, &d->ents[i].attr, now);
	}
	free(path);
}

/* Whether d is too large to cache: more than a share of the budget. */
static int meta_dir_too_large(const struct ufs_meta *m, const struct ufs_meta_dir *d)
{
	struct ufs_budget *b = m->acct->budget;

	return b && d->used > ufs_budget_limit(b) / META_DIR_SHARE;
}

int ufs_meta_dir_cacheable(struct ufs_meta *m, const struct ufs_meta_dir *d)
{
	if (!meta_dir_too_large(m, d))
		return 1;
	atomic_fetch_add(&m->uncached, 1);
	return 0;
}

void ufs_meta_put_children_since(struct ufs_meta *m, int mount, const char *dir,
				 const struct ufs_meta_dir *d, uint64_t ticket)
{
	uint64_t resv;

	if (ufs_meta_ttl(m, mount)->attr <= 0)
		return;
	resv = meta_reserve(m, meta_children_size(dir, d));
	pthread_mutex_lock(&m->lock);
	if (resv && meta_ticket_valid(m, ticket))
		meta_fill_children(m, mount, dir, d, m->clock(m->clock_arg), &resv);
	pthread_mutex_unlock(&m->lock);
	meta_unreserve(m, resv);
}

int ufs_meta_put_dir(struct ufs_meta *m, int mount, const char *dir, struct ufs_meta_dir *d)
{
	return ufs_meta_put_dir_since(m, mount, dir, d, UFS_META_NO_TICKET);
}

int ufs_meta_put_dir_since(struct ufs_meta *m, int mount, const char *dir, struct ufs_meta_dir *d,
			   uint64_t ticket)
{
	struct meta_ent *e;
	uint64_t resv, cresv = 0;
	double now;

	if (meta_dir_too_large(m, d)) {
		atomic_fetch_add(&m->uncached, 1);
		return -EFBIG;
	}
	if (ufs_meta_ttl(m, mount)->dir <= 0 && ufs_meta_ttl(m, mount)->attr <= 0)
		return 0;
	if (ufs_meta_ttl(m, mount)->attr > 0)
		cresv = meta_reserve(m, meta_children_size(dir, d));
	resv = meta_reserve(m, meta_ent_size(strlen(dir)));
	pthread_mutex_lock(&m->lock);
	if (!meta_ticket_valid(m, ticket)) {
		pthread_mutex_unlock(&m->lock);
		meta_unreserve(m, resv + cresv);
		return -ESTALE;
	}
	now = m->clock(m->clock_arg);
	if (ufs_meta_ttl(m, mount)->dir > 0) {
		e = meta_get_or_add(m, mount, dir, &resv);
		if (e) {
			meta_dir_put(e->dir);
			e->dir = ufs_meta_dir_ref(d);
			e->dir_exp = now + ufs_meta_ttl(m, mount)->dir;
		}
	}
	if (cresv) /* no room for them all: none (they would squat the budget) */
		meta_fill_children(m, mount, dir, d, now, &cresv);
	pthread_mutex_unlock(&m->lock);
	meta_unreserve(m, resv + cresv);
	return 0;
}

/* Drop the entry of (mount, path) if any. Lock held. */
static void meta_drop(struct ufs_meta *m, int mount, const char *path)
{
	struct meta_ent *e = meta_lookup(m, mount, path);

	if (e)
		meta_unlink(m, e);
}

/* Drop what is known of the parent of path (its listing, and its mtime
 * and link count changed too) and of the grandparent (its listing holds the
 * parent's attributes). "" has none. Lock held. */
static void meta_drop_parent(struct ufs_meta *m, int mount, const char *path)
{
	char *up;

	if (!*path)
		return;
	up = strdup(path);
	if (!up) {
		meta_clear(m); /* cannot name the parent: forget everything */
		return;
	}
	for (int i = 0; i < 2 && (i == 0 || *up); i++) {
		char *slash = strrchr(up, '/');

		*(slash ? slash : up) = '\0';
		meta_drop(m, mount, up);
	}
	free(up);
}

void ufs_meta_invalidate(struct ufs_meta *m, int mount, const char *path)
{
	pthread_mutex_lock(&m->lock);
	atomic_fetch_add(&m->changes, 1);
	meta_drop(m, mount, path);
	meta_drop_parent(m, mount, path);
	pthread_mutex_unlock(&m->lock);
}

/* Whether entry path is p or below p. */
static int meta_in_tree(const char *p, size_t plen, const char *path)
{
	if (plen == 0)
		return 1;
	return strncmp(path, p, plen) == 0 && (path[plen] == '\0' || path[plen] == '/');
}

/* Drop every entry of mount at or below path (walks the table). Lock held. */
static void meta_drop_tree(struct ufs_meta *m, int mount, const char *path)
{
	size_t plen = strlen(path);
	struct ufs_table_iter it;

	for (struct ufs_tnode *n = ufs_table_first(&m->ents, &it); n; n = ufs_table_next(&it)) {
		struct meta_ent *e = ufs_table_entry(n, struct meta_ent, node);

		if (e->mount == mount && meta_in_tree(path, plen, e->path))
			meta_unlink(m, e);
	}
}

void ufs_meta_invalidate_tree(struct ufs_meta *m, int mount, const char *path)
{
	const struct ufs_meta_ttl *ttl = ufs_meta_ttl(m, mount);
	double longest = ttl->attr > ttl->dir ? ttl->attr : ttl->dir;
	double now;

	if (ttl->negative > longest)
		longest = ttl->negative;
	pthread_mutex_lock(&m->lock);
	atomic_fetch_add(&m->changes, 1);
	now = m->clock(m->clock_arg);
	meta_tombs_expire(m, now);
	meta_drop(m, mount, path);
	if (longest > 0 && meta_tomb_add(m, mount, path, now, longest) < 0)
		meta_drop_tree(m, mount, path); /* no memory for a tombstone: walk */
	meta_drop_parent(m, mount, path);
	pthread_mutex_unlock(&m->lock);
}

size_t ufs_meta_count(struct ufs_meta *m)
{
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = ufs_table_count(&m->ents);
	pthread_mutex_unlock(&m->lock);
	return n;
}

struct ufs_meta_dir *ufs_meta_dir_create(void)
{
	struct ufs_meta_dir *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	atomic_init(&d->refs, 1);
	atomic_init(&d->cursor, -1);
	d->used = meta_alloc_size(sizeof(*d));
	return d;
}

struct ufs_meta_dir *ufs_meta_dir_create_for(struct ufs_meta *m)
{
	struct ufs_meta_dir *d = ufs_meta_dir_create();

	if (d) {
		d->acct = m->acct;
		atomic_fetch_add(&m->acct->refs, 1);
	}
	return d;
}

/* Count n more bytes of d (reserving them in chunks when d is counted).
 * 0, or -ENOMEM when the budget has no room even after reclaim and a wait. */
static int meta_dir_charge(struct ufs_meta_dir *d, uint64_t n)
{
	struct meta_acct *a = d->acct;
	uint64_t want, chunk, peak, now;

	if (a && d->used + n > d->charged) {
		want = d->used + n - d->charged;
		chunk = want < META_DIR_CHUNK ? META_DIR_CHUNK : want;
		if (ufs_budget_acquire(a->budget, chunk, 0) < 0) { /* near the limit: */
			if (ufs_budget_acquire(a->budget, want, META_WAIT_MS) < 0)
				return -ENOMEM;
			chunk = want;
		}
		d->charged += chunk;
		now = atomic_fetch_add(&a->list_bytes, chunk) + chunk;
		peak = atomic_load(&a->list_peak);
		while (now > peak && !atomic_compare_exchange_weak(&a->list_peak, &peak, now))
			;
	}
	d->used += n;
	return 0;
}

/* Return charged bytes of d beyond what it uses (or all of them: keep 0). */
static uint64_t meta_dir_uncharge(struct ufs_meta_dir *d, uint64_t keep)
{
	uint64_t give = d->charged > keep ? d->charged - keep : 0;

	if (d->acct && give) {
		ufs_budget_release(d->acct->budget, give);
		atomic_fetch_sub(&d->acct->list_bytes, give);
		d->charged -= give;
	}
	return give;
}

/* Grow d's array for one more entry. 0 or -ENOMEM. */
static int meta_dir_grow(struct ufs_meta_dir *d)
{
	size_t ncap = d->cap ? d->cap * 2 : 64;
	struct meta_dent *n;

	if (meta_dir_charge(d, (ncap - d->cap) * sizeof(*n)) < 0)
		return -ENOMEM;
	n = realloc(d->ents, ncap * sizeof(*n));
	if (!n) {
		d->used -= (ncap - d->cap) * sizeof(*n);
		return -ENOMEM;
	}
	d->ents = n;
	d->cap = ncap;
	return 0;
}

int ufs_meta_dir_add(struct ufs_meta_dir *d, const char *name, const struct ufs_attr *attr)
{
	struct meta_dent *de;
	uint64_t nsz = meta_alloc_size(strlen(name) + 1);

	if (d->n == d->cap && meta_dir_grow(d) < 0)
		return -ENOMEM;
	if (meta_dir_charge(d, nsz) < 0)
		return -ENOMEM;
	de = &d->ents[d->n];
	de->name = strdup(name);
	d->sorted = 0;
	if (!de->name) {
		d->used -= nsz;
		return -ENOMEM;
	}
	if (attr)
		de->attr = *attr;
	else
		memset(&de->attr, 0, sizeof(de->attr));
	d->n++;
	return 0;
}

size_t ufs_meta_dir_count(const struct ufs_meta_dir *d)
{
	return d->n;
}

const char *ufs_meta_dir_entry(const struct ufs_meta_dir *d, size_t i,
			       const struct ufs_attr **pattr)
{
	if (pattr)
		*pattr = &d->ents[i].attr;
	return d->ents[i].name;
}

static int meta_dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct meta_dent *)a)->name, ((const struct meta_dent *)b)->name);
}

/* Shrink d's array to its entries and give back what d reserved beyond its
 * size (a listing is complete once sorted). */
static void meta_dir_trim(struct ufs_meta_dir *d)
{
	if (d->cap > d->n && d->n > 0) {
		struct meta_dent *n = realloc(d->ents, d->n * sizeof(*n));

		if (n) {
			d->used -= (d->cap - d->n) * sizeof(*n);
			d->ents = n;
			d->cap = d->n;
		}
	}
	meta_dir_uncharge(d, d->used);
}

void ufs_meta_dir_sort(struct ufs_meta_dir *d)
{
	if (d->n > 1)
		qsort(d->ents, d->n, sizeof(*d->ents), meta_dent_cmp);
	d->sorted = 1;
	meta_dir_trim(d);
}

uint64_t ufs_meta_dir_bytes(const struct ufs_meta_dir *d)
{
	return d->used;
}

long ufs_meta_dir_find(const struct ufs_meta_dir *d, const char *name)
{
	if (d->sorted) {
		struct meta_dent key = {.name = (char *)name};
		const struct meta_dent *e =
		    bsearch(&key, d->ents, d->n, sizeof(*d->ents), meta_dent_cmp);

		return e ? (long)(e - d->ents) : -1;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->ents[i].name, name) == 0)
			return (long)i;
	}
	return -1;
}

long ufs_meta_dir_cursor(const struct ufs_meta_dir *d)
{
	return atomic_load(&d->cursor);
}

void ufs_meta_dir_set_cursor(struct ufs_meta_dir *d, long i)
{
	atomic_store(&d->cursor, i);
}

struct ufs_meta_dir *ufs_meta_dir_ref(struct ufs_meta_dir *d)
{
	if (d)
		atomic_fetch_add(&d->refs, 1);
	return d;
}

/* Drop one reference; returns the bytes given back to the budget (0 unless
 * that was the last reference of a counted listing). */
static uint64_t meta_dir_put(struct ufs_meta_dir *d)
{
	uint64_t freed;

	if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
		return 0;
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	freed = meta_dir_uncharge(d, 0);
	meta_acct_unref(d->acct);
	free(d);
	return freed;
}

void ufs_meta_dir_unref(struct ufs_meta_dir *d)
{
	meta_dir_put(d);
}

void ufs_meta_stats(struct ufs_meta *m, struct ufs_meta_stats *pst)
{
	pthread_mutex_lock(&m->lock);
	pst->entries = ufs_table_count(&m->ents);
	pst->entry_bytes = m->ent_bytes;
	pthread_mutex_unlock(&m->lock);
	pst->list_bytes = atomic_load(&m->acct->list_bytes);
	pst->list_peak = atomic_load(&m->acct->list_peak);
	pst->lists_uncached = atomic_load(&m->uncached);
	pst->lists_evicted = atomic_load(&m->evicted);
}
