/*
 * table.h — one keyed table: a chained hash table of intrusive entries.
 *
 * An entry embeds a struct ufs_tnode (one per table it belongs to), so the
 * table never allocates per entry and never owns one. The caller hashes its
 * key (any 64-bit hash; the table uses its low bits) and supplies the
 * equality of an entry and a key, so one table serves keys of any shape:
 * a 128-bit cache key, (mount, path), a path prefix of n bytes.
 *
 * Buckets are a power of two; a new entry goes to the head of its chain.
 * A table of fixed size is made with max_buckets == nbuckets; otherwise an
 * insertion that finds count >= nbuckets doubles it (best effort: without
 * memory it stays as it is) up to max_buckets, the site's bound (derived
 * from its entry limit or memory budget). No lock inside: every call runs
 * under the site's own lock.
 */
#ifndef UFS_TABLE_H
#define UFS_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* The link an entry embeds; both fields belong to the table while the entry
 * is in it (hash is readable: the hash the entry was inserted with). */
struct ufs_tnode {
	struct ufs_tnode *next;
	uint64_t hash;
};

/* Whether entry n holds key (whatever the site passes to find). */
typedef int (*ufs_table_eq_fn)(const struct ufs_tnode *n, const void *key);

struct ufs_table {
	struct ufs_tnode **buckets;
	size_t nbuckets;    /* power of two */
	size_t max_buckets; /* growth bound (power of two, >= nbuckets) */
	size_t count;
	ufs_table_eq_fn eq;
};

/* A walk over every entry (see ufs_table_first). */
struct ufs_table_iter {
	const struct ufs_table *t;
	size_t bucket;
	struct ufs_tnode *next;
};

/* Set up t, empty, with nbuckets buckets (rounded up to a power of two, at
 * least 1), growing up to max_buckets (rounded up likewise; less than
 * nbuckets: fixed size). 0 or -ENOMEM. */
int ufs_table_init(struct ufs_table *t, size_t nbuckets, size_t max_buckets, ufs_table_eq_fn eq);
/* Free the buckets; the entries are the caller's (walk them first). */
void ufs_table_fini(struct ufs_table *t);
/* The most recently inserted entry with this hash that eq says holds key,
 * or NULL. */
struct ufs_tnode *ufs_table_find(const struct ufs_table *t, uint64_t hash, const void *key);
/* The next entry after n (found by ufs_table_find or this) in its chain
 * that holds key, or NULL: the walk over the entries of a key that several
 * entries share. */
struct ufs_tnode *ufs_table_find_next(const struct ufs_table *t, const struct ufs_tnode *n,
				      const void *key);
/* Insert n (not in the table) under hash, growing the table first when it
 * holds as many entries as buckets and may grow. Never fails; duplicates
 * are the caller's to avoid (or to want). */
void ufs_table_insert(struct ufs_table *t, struct ufs_tnode *n, uint64_t hash);
/* Take n out of the table; an n that is not in it is left alone. */
void ufs_table_remove(struct ufs_table *t, struct ufs_tnode *n);
/* Entries held. */
size_t ufs_table_count(const struct ufs_table *t);
/* Start a walk over every entry in bucket order (chain order within one):
 * the first entry, or NULL. The entry a walk returned may be removed (or
 * freed) before asking for the next; no other change is allowed during a
 * walk. */
struct ufs_tnode *ufs_table_first(const struct ufs_table *t, struct ufs_table_iter *it);
/* The next entry of the walk, or NULL at its end. */
struct ufs_tnode *ufs_table_next(struct ufs_table_iter *it);

/* The entry that embeds node n at byte offset off, or NULL for NULL. */
static inline void *ufs_table_container(const struct ufs_tnode *n, size_t off)
{
	return n ? (void *)((char *)n - off) : NULL;
}

/* The entry of type `type` whose member `member` is node n (n evaluated
 * once; NULL stays NULL). */
#define ufs_table_entry(n, type, member) ((type *)ufs_table_container((n), offsetof(type, member)))

#endif
