/*
 * nfs_fhcache.c — path -> NFSv3 file handle cache of one NFS backend.
 *
 * Design
 * - File handles are server-wide: a handle learned on one connection is
 *   valid on every connection to the same export, so one cache serves all
 *   of a backend's connections, under one mutex (every operation is a few
 *   string compares and a memcpy; the RPCs happen outside it).
 * - A keyed table (common/table.h: FNV-1a of the path, power-of-two buckets,
 *   at least as many as the capacity, fixed) finds an entry; a doubly linked list in use
 *   order gives LRU eviction when the cache is full.
 * - Each entry expires ttl seconds after it was stored: a handle names an
 *   object, not a name, and another client may rename a directory behind
 *   our back, so a path -> handle binding is only trusted for that long
 *   (the caller chooses ttl; see the design comment of protocols/nfs/nfs.c).
 *   Time is passed in by the caller (monotonic seconds), which keeps the
 *   cache testable without sleeping.
 * - Dropping a directory drops its subtree: a scan of the use-order list,
 *   fine for rmdir/rename (rare next to lookups) at the bounded size.
 */
#include "protocols/nfs/nfs_fhcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/table.h"

struct fhc_ent {
	char *path;
	size_t plen;
	double expires;
	struct ufs_nfs_fh fh;
	struct ufs_tnode hnode;	     /* in ufs_nfs_fhcache.table, keyed by path */
	struct fhc_ent *prev, *next; /* use order, most recent after the head */
};

/* A key: the first n bytes of path. */
struct fhc_key {
	const char *path;
	size_t n;
};

struct ufs_nfs_fhcache {
	pthread_mutex_t lock;
	struct ufs_table table; /* fhc_ent by path */
	size_t cap;
	double ttl;
	struct fhc_ent lru; /* sentinel: lru.next most recent, lru.prev least */
};

static uint64_t fhc_hash(const struct fhc_key *k)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < k->n; i++) {
		h ^= (unsigned char)k->path[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int fhc_eq(const struct ufs_tnode *n, const void *key)
{
	const struct fhc_ent *e = ufs_table_entry(n, struct fhc_ent, hnode);
	const struct fhc_key *k = key;

	return e->plen == k->n && memcmp(e->path, k->path, k->n) == 0;
}

struct ufs_nfs_fhcache *ufs_nfs_fhcache_new(size_t cap, double ttl)
{
	struct ufs_nfs_fhcache *fc = calloc(1, sizeof(*fc));
	size_t nb = 16;

	if (!fc || cap == 0) {
		free(fc);
		return NULL;
	}
	while (nb < cap)
		nb <<= 1;
	if (ufs_table_init(&fc->table, nb, nb, fhc_eq) < 0) {
		free(fc);
		return NULL;
	}
	pthread_mutex_init(&fc->lock, NULL);
	fc->cap = cap;
	fc->ttl = ttl;
	fc->lru.next = fc->lru.prev = &fc->lru;
	return fc;
}

static void fhc_unlink_lru(struct fhc_ent *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void fhc_push_front(struct ufs_nfs_fhcache *fc, struct fhc_ent *e)
{
	e->next = fc->lru.next;
	e->prev = &fc->lru;
	fc->lru.next->prev = e;
	fc->lru.next = e;
}

/* The entry of path[0, n), fresh or not, or NULL (lock held). */
static struct fhc_ent *fhc_lookup(struct ufs_nfs_fhcache *fc, const char *path, size_t n)
{
	struct fhc_key k = {path, n};

	return ufs_table_entry(ufs_table_find(&fc->table, fhc_hash(&k), &k), struct fhc_ent, hnode);
}

/* Take e out of the table and the use list and free it (lock held). */
static void fhc_remove(struct ufs_nfs_fhcache *fc, struct fhc_ent *e)
{
	ufs_table_remove(&fc->table, &e->hnode);
	fhc_unlink_lru(e);
	free(e->path);
	free(e);
}

void ufs_nfs_fhcache_free(struct ufs_nfs_fhcache *fc)
{
	if (!fc)
		return;
	while (fc->lru.next != &fc->lru)
		fhc_remove(fc, fc->lru.next);
	pthread_mutex_destroy(&fc->lock);
	ufs_table_fini(&fc->table);
	free(fc);
}

int ufs_nfs_fhcache_put(struct ufs_nfs_fhcache *fc, const char *path, const struct ufs_nfs_fh *fh,
			double now)
{
	struct fhc_key k = {path, strlen(path)};
	struct fhc_ent *e;

	if (fh->len == 0 || fh->len > UFS_NFS_FH_MAX)
		return -EINVAL;
	pthread_mutex_lock(&fc->lock);
	e = fhc_lookup(fc, path, k.n);
	if (e) {
		fhc_unlink_lru(e);
	} else {
		e = calloc(1, sizeof(*e));
		if (e && !(e->path = malloc(k.n + 1))) {
			free(e);
			e = NULL;
		}
		if (!e) {
			pthread_mutex_unlock(&fc->lock);
			return -ENOMEM;
		}
		memcpy(e->path, path, k.n + 1);
		e->plen = k.n;
		ufs_table_insert(&fc->table, &e->hnode, fhc_hash(&k));
	}
	e->fh = *fh;
	e->expires = now + fc->ttl;
	fhc_push_front(fc, e);
	while (ufs_table_count(&fc->table) > fc->cap)
		fhc_remove(fc, fc->lru.prev);
	pthread_mutex_unlock(&fc->lock);
	return 0;
}

/* path[0, n)'s fresh entry moved to the front, or NULL (lock held). */
static struct fhc_ent *fhc_find(struct ufs_nfs_fhcache *fc, const char *path, size_t n, double now)
{
	struct fhc_ent *e = fhc_lookup(fc, path, n);

	if (!e)
		return NULL;
	if (e->expires <= now) {
		fhc_remove(fc, e);
		return NULL;
	}
	fhc_unlink_lru(e);
	fhc_push_front(fc, e);
	return e;
}

int ufs_nfs_fhcache_get(struct ufs_nfs_fhcache *fc, const char *path, struct ufs_nfs_fh *fh,
			double now)
{
	struct fhc_ent *e;

	pthread_mutex_lock(&fc->lock);
	e = fhc_find(fc, path, strlen(path), now);
	if (e)
		*fh = e->fh;
	pthread_mutex_unlock(&fc->lock);
	return e ? 0 : -ENOENT;
}

size_t ufs_nfs_fhcache_longest(struct ufs_nfs_fhcache *fc, const char *path, struct ufs_nfs_fh *fh,
			       double now)
{
	size_t n = strlen(path);
	struct fhc_ent *e = NULL;

	pthread_mutex_lock(&fc->lock);
	while (n > 0 && !(e = fhc_find(fc, path, n, now))) {
		while (n > 0 && path[n - 1] != '/')
			n--;
		if (n > 0)
			n--; /* drop the '/' too */
	}
	if (e)
		*fh = e->fh;
	pthread_mutex_unlock(&fc->lock);
	return e ? n : 0;
}

void ufs_nfs_fhcache_drop(struct ufs_nfs_fhcache *fc, const char *path, int subtree)
{
	size_t n = strlen(path);
	struct fhc_ent *e, *next;

	pthread_mutex_lock(&fc->lock);
	if (!subtree) {
		e = fhc_lookup(fc, path, n);
		if (e)
			fhc_remove(fc, e);
		pthread_mutex_unlock(&fc->lock);
		return;
	}
	for (e = fc->lru.next; e != &fc->lru; e = next) {
		next = e->next;
		if (n == 0 || (e->plen >= n && memcmp(e->path, path, n) == 0 &&
			       (e->plen == n || e->path[n] == '/')))
			fhc_remove(fc, e);
	}
	pthread_mutex_unlock(&fc->lock);
}

size_t ufs_nfs_fhcache_count(struct ufs_nfs_fhcache *fc)
{
	size_t n;

	pthread_mutex_lock(&fc->lock);
	n = ufs_table_count(&fc->table);
	pthread_mutex_unlock(&fc->lock);
	return n;
}
