/*
 * meta.c — metadata cache (see meta.h).
 *
 * Design: one chained hash table of entries keyed by (mount, path), hashed
 * with xxh64(path, seed = mount), under one mutex. An entry holds up to three
 * independent facts, each with its own expiry time: attributes, "does not
 * exist" (negative) and a directory listing. An entry with no live fact is
 * dropped when met. The table doubles when it holds more entries than
 * buckets. Past max_entries, expired entries are swept; if that is not
 * enough, the whole table is cleared (cheap, and correct: it is a cache).
 *
 * Tree invalidation (rename, rmdir) does not walk the table: it drops the
 * path and its parent's facts and leaves a tombstone (mount, path, seq) that
 * lives as long as the mount's longest TTL. Every fact stored takes the next
 * sequence number; an entry found below (or at) a tombstone younger than its
 * facts is dropped when met. With tombstones alive a lookup costs one more
 * hash probe per path component; `rm -rf` of N files stays O(N).
 *
 * Invariants: an entry never has both a live attr and a live negative fact;
 * a stored listing is never modified (readers hold references to it).
 * Lock order: meta lock only; listing reference counts are atomic.
 */
#include "cache/meta.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <xxhash.h>

#define META_DEFAULT_MAX (1u << 20)

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
};

enum { META_ATTR = 1, META_NEG = 2 };

struct meta_ent {
	struct meta_ent *next;
	uint64_t hash;
	uint64_t seq; /* when a fact was last stored (m->seq) */
	int mount;
	unsigned facts;
	double attr_exp, neg_exp, dir_exp;
	struct ufs_attr attr;
	struct ufs_meta_dir *dir;
	char path[];
};

/* "Everything at or below (mount, path) stored before seq is gone." */
struct meta_tomb {
	struct meta_tomb *next;	 /* hash chain */
	struct meta_tomb *qnext; /* expiry order (oldest first) */
	uint64_t hash, seq;
	double exp;
	int mount;
	char path[];
};

#define META_TOMB_BUCKETS 1024

struct ufs_meta {
	pthread_mutex_t lock;
	struct meta_ent **buckets;
	size_t n_buckets, count, max_entries;
	uint64_t seq;
	struct meta_tomb *tombs[META_TOMB_BUCKETS];
	struct meta_tomb *tq_head, *tq_tail;
	size_t n_tombs;
	struct ufs_meta_ttl *ttls;
	size_t n_mounts;
	ufs_clock_fn clock;
	void *clock_arg;
};

static const struct ufs_meta_ttl meta_no_ttl;

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
	m->n_buckets = 1024;
	m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
	m->ttls = calloc(n_mounts ? n_mounts : 1, sizeof(*m->ttls));
	if (!m->buckets || !m->ttls) {
		free(m->buckets);
		free(m->ttls);
		free(m);
		return NULL;
	}
	if (n_mounts)
		memcpy(m->ttls, ttls, n_mounts * sizeof(*ttls));
	m->n_mounts = n_mounts;
	m->clock = clock ? clock : meta_monotonic;
	m->clock_arg = clock_arg;
	m->max_entries = max_entries ? max_entries : META_DEFAULT_MAX;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void meta_tombs_expire(struct ufs_meta *m, double now);

static void meta_ent_free(struct meta_ent *e)
{
	ufs_meta_dir_unref(e->dir);
	free(e);
}

/* Drop every entry. Caller holds the lock. */
static void meta_clear(struct ufs_meta *m)
{
	for (size_t b = 0; b < m->n_buckets; b++) {
		struct meta_ent *e = m->buckets[b];

		while (e) {
			struct meta_ent *next = e->next;

			meta_ent_free(e);
			e = next;
		}
		m->buckets[b] = NULL;
	}
	m->count = 0;
}

void ufs_meta_destroy(struct ufs_meta *m)
{
	if (!m)
		return;
	meta_clear(m);
	meta_tombs_expire(m, 1e300);
	pthread_mutex_destroy(&m->lock);
	free(m->buckets);
	free(m->ttls);
	free(m);
}

const struct ufs_meta_ttl *ufs_meta_ttl(const struct ufs_meta *m, int mount)
{
	if (mount < 0 || (size_t)mount >= m->n_mounts)
		return &meta_no_ttl;
	return &m->ttls[mount];
}

static uint64_t meta_hash(int mount, const char *path)
{
	return XXH64(path, strlen(path), (uint64_t)(unsigned)mount);
}

/* Whether e holds any fact still alive at now. */
static int meta_ent_live(const struct meta_ent *e, double now)
{
	return ((e->facts & META_ATTR) && e->attr_exp > now) ||
	       ((e->facts & META_NEG) && e->neg_exp > now) || (e->dir && e->dir_exp > now);
}

/* Pointer to the link that holds (mount, path), or to the NULL link ending
 * its chain. Caller holds the lock. */
static struct meta_ent **meta_slot(struct ufs_meta *m, int mount, const char *path, uint64_t h)
{
	struct meta_ent **pe = &m->buckets[h & (m->n_buckets - 1)];

	while (*pe && !((*pe)->hash == h && (*pe)->mount == mount && !strcmp((*pe)->path, path)))
		pe = &(*pe)->next;
	return pe;
}

static void meta_unlink(struct ufs_meta *m, struct meta_ent **pe)
{
	struct meta_ent *e = *pe;

	*pe = e->next;
	meta_ent_free(e);
	m->count--;
}

/* Sequence number of the tombstone at (mount, the first len bytes of
 * path), 0 when none. Lock held. */
static uint64_t meta_tomb_seq(struct ufs_meta *m, int mount, const char *path, size_t len)
{
	uint64_t h = XXH64(path, len, (uint64_t)(unsigned)mount);

	for (struct meta_tomb *t = m->tombs[h % META_TOMB_BUCKETS]; t; t = t->next)
		if (t->hash == h && t->mount == mount && strncmp(t->path, path, len) == 0 &&
		    t->path[len] == '\0')
			return t->seq;
	return 0;
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
	struct meta_ent **pe = meta_slot(m, mount, path, meta_hash(mount, path));

	if (*pe && meta_tombed(m, *pe)) {
		meta_unlink(m, pe);
		return NULL;
	}
	return *pe;
}

/* Forget tombstones past their expiry. Lock held. */
static void meta_tombs_expire(struct ufs_meta *m, double now)
{
	while (m->tq_head && m->tq_head->exp <= now) {
		struct meta_tomb *t = m->tq_head, **pt = &m->tombs[t->hash % META_TOMB_BUCKETS];

		while (*pt != t)
			pt = &(*pt)->next;
		*pt = t->next;
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
	size_t len = strlen(path);
	struct meta_tomb *t = calloc(1, sizeof(*t) + len + 1);

	if (!t)
		return -ENOMEM;
	memcpy(t->path, path, len + 1);
	t->mount = mount;
	t->hash = XXH64(path, len, (uint64_t)(unsigned)mount);
	t->seq = ++m->seq;
	t->exp = now + ttl;
	t->next = m->tombs[t->hash % META_TOMB_BUCKETS];
	m->tombs[t->hash % META_TOMB_BUCKETS] = t;
	if (m->tq_tail)
		m->tq_tail->qnext = t;
	else
		m->tq_head = t;
	m->tq_tail = t; /* TTLs differ per mount: expiry order is approximate */
	m->n_tombs++;
	return 0;
}

/* Remove the entries with no live fact. Caller holds the lock. */
static void meta_sweep(struct ufs_meta *m, double now)
{
	for (size_t b = 0; b < m->n_buckets; b++) {
		struct meta_ent **pe = &m->buckets[b];

		while (*pe) {
			if (meta_ent_live(*pe, now))
				pe = &(*pe)->next;
			else
				meta_unlink(m, pe);
		}
	}
}

/* Double the bucket array (best effort). Caller holds the lock. */
static void meta_grow(struct ufs_meta *m)
{
	size_t nb = m->n_buckets * 2;
	struct meta_ent **nbk = calloc(nb, sizeof(*nbk));

	if (!nbk)
		return;
	for (size_t b = 0; b < m->n_buckets; b++) {
		struct meta_ent *e = m->buckets[b];

		while (e) {
			struct meta_ent *next = e->next;

			e->next = nbk[e->hash & (nb - 1)];
			nbk[e->hash & (nb - 1)] = e;
			e = next;
		}
	}
	free(m->buckets);
	m->buckets = nbk;
	m->n_buckets = nb;
}

/* Keep the table within max_entries before one more insertion. */
static void meta_make_room(struct ufs_meta *m)
{
	if (m->count < m->max_entries)
		return;
	meta_sweep(m, m->clock(m->clock_arg));
	if (m->count >= m->max_entries)
		meta_clear(m);
}

/* Find or insert the entry of (mount, path); NULL on ENOMEM. Lock held. */
static struct meta_ent *meta_get_or_add(struct ufs_meta *m, int mount, const char *path)
{
	uint64_t h = meta_hash(mount, path);
	struct meta_ent *e = meta_find(m, mount, path);
	size_t len = strlen(path);

	if (e) {
		e->seq = ++m->seq;
		return e;
	}
	meta_make_room(m);
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->hash = h;
	e->seq = ++m->seq;
	e->mount = mount;
	memcpy(e->path, path, len + 1);
	if (m->count >= m->n_buckets)
		meta_grow(m);
	e->next = m->buckets[h & (m->n_buckets - 1)];
	m->buckets[h & (m->n_buckets - 1)] = e;
	m->count++;
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

void ufs_meta_put_attr(struct ufs_meta *m, int mount, const char *path, const struct ufs_attr *attr)
{
	struct meta_ent *e;

	if (ufs_meta_ttl(m, mount)->attr <= 0 || attr->mode == 0)
		return;
	pthread_mutex_lock(&m->lock);
	e = meta_get_or_add(m, mount, path);
	if (e)
		meta_set_attr(m, e, attr, m->clock(m->clock_arg));
	pthread_mutex_unlock(&m->lock);
}

void ufs_meta_put_negative(struct ufs_meta *m, int mount, const char *path)
{
	struct meta_ent *e;

	if (ufs_meta_ttl(m, mount)->negative <= 0)
		return;
	pthread_mutex_lock(&m->lock);
	e = meta_get_or_add(m, mount, path);
	if (e) {
		e->facts = (e->facts | META_NEG) & ~META_ATTR;
		e->neg_exp = m->clock(m->clock_arg) + ufs_meta_ttl(m, mount)->negative;
	}
	pthread_mutex_unlock(&m->lock);
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

/* Store the attributes of the typed entries of d under dir. Lock held. */
static void meta_fill_children(struct ufs_meta *m, int mount, const char *dir,
			       const struct ufs_meta_dir *d, double now)
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
		e = meta_get_or_add(m, mount, path);
		if (e)
			meta_set_attr(m, e, &d->ents[i].attr, now);
	}
	free(path);
}

void ufs_meta_put_dir(struct ufs_meta *m, int mount, const char *dir, struct ufs_meta_dir *d)
{
	struct meta_ent *e;
	double now;

	if (ufs_meta_ttl(m, mount)->dir <= 0 && ufs_meta_ttl(m, mount)->attr <= 0)
		return;
	pthread_mutex_lock(&m->lock);
	now = m->clock(m->clock_arg);
	if (ufs_meta_ttl(m, mount)->dir > 0) {
		e = meta_get_or_add(m, mount, dir);
		if (e) {
			ufs_meta_dir_unref(e->dir);
			e->dir = ufs_meta_dir_ref(d);
			e->dir_exp = now + ufs_meta_ttl(m, mount)->dir;
		}
	}
	meta_fill_children(m, mount, dir, d, now);
	pthread_mutex_unlock(&m->lock);
}

/* Drop the entry of (mount, path) if any. Lock held. */
static void meta_drop(struct ufs_meta *m, int mount, const char *path)
{
	struct meta_ent **pe = meta_slot(m, mount, path, meta_hash(mount, path));

	if (*pe)
		meta_unlink(m, pe);
}

/* Drop the listing of the parent of path ("" has none). Lock held. */
static void meta_drop_parent(struct ufs_meta *m, int mount, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent;

	if (!*path)
		return;
	if (!slash) {
		meta_drop(m, mount, "");
		return;
	}
	parent = strndup(path, (size_t)(slash - path));
	if (parent) {
		meta_drop(m, mount, parent);
		free(parent);
	} else {
		meta_clear(m); /* cannot name the parent: forget everything */
	}
}

void ufs_meta_invalidate(struct ufs_meta *m, int mount, const char *path)
{
	pthread_mutex_lock(&m->lock);
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

	for (size_t b = 0; b < m->n_buckets; b++) {
		struct meta_ent **pe = &m->buckets[b];

		while (*pe) {
			if ((*pe)->mount == mount && meta_in_tree(path, plen, (*pe)->path))
				meta_unlink(m, pe);
			else
				pe = &(*pe)->next;
		}
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
	n = m->count;
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
	return d;
}

int ufs_meta_dir_add(struct ufs_meta_dir *d, const char *name, const struct ufs_attr *attr)
{
	struct meta_dent *de;

	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		struct meta_dent *n = realloc(d->ents, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->ents = n;
		d->cap = ncap;
	}
	de = &d->ents[d->n];
	de->name = strdup(name);
	d->sorted = 0;
	if (!de->name)
		return -ENOMEM;
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

void ufs_meta_dir_sort(struct ufs_meta_dir *d)
{
	if (d->n > 1)
		qsort(d->ents, d->n, sizeof(*d->ents), meta_dent_cmp);
	d->sorted = 1;
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

void ufs_meta_dir_unref(struct ufs_meta_dir *d)
{
	if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	free(d);
}
