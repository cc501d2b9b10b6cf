/*
 * table.c — the keyed table of table.h: chains of intrusive nodes hung from
 * a power-of-two bucket array, indexed by the low bits of each entry's hash.
 *
 * Invariants: an entry in the table is on exactly the chain of bucket
 * (hash & (nbuckets - 1)); count is the number of entries on all chains;
 * nbuckets <= max_buckets. Growth moves every entry, in bucket then chain
 * order, to the head of its new chain (so chains come out in the reverse of
 * their old order); hashes are kept in the nodes, so nothing is rehashed.
 */
#include "common/table.h"

#include <errno.h>
#include <stdlib.h>

/* The smallest power of two >= n (1 for 0); n itself when none fits. */
static size_t table_pow2(size_t n)
{
	size_t p = 1;

	while (p < n && p <= SIZE_MAX / 2)
		p <<= 1;
	return p < n ? n : p;
}

static struct ufs_tnode **table_bucket(const struct ufs_table *t, uint64_t hash)
{
	return &t->buckets[hash & (t->nbuckets - 1)];
}

int ufs_table_init(struct ufs_table *t, size_t nbuckets, size_t max_buckets, ufs_table_eq_fn eq)
{
	t->nbuckets = table_pow2(nbuckets);
	t->max_buckets = table_pow2(max_buckets);
	if (t->max_buckets < t->nbuckets)
		t->max_buckets = t->nbuckets;
	t->count = 0;
	t->eq = eq;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void ufs_table_fini(struct ufs_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = t->count = 0;
}

/* The first entry at or after n on its chain with this hash holding key. */
static struct ufs_tnode *table_match(const struct ufs_table *t, struct ufs_tnode *n, uint64_t hash,
				     const void *key)
{
	while (n && !(n->hash == hash && t->eq(n, key)))
		n = n->next;
	return n;
}

struct ufs_tnode *ufs_table_find(const struct ufs_table *t, uint64_t hash, const void *key)
{
	return table_match(t, *table_bucket(t, hash), hash, key);
}

struct ufs_tnode *ufs_table_find_next(const struct ufs_table *t, const struct ufs_tnode *n,
				      const void *key)
{
	return table_match(t, n->next, n->hash, key);
}

/* Double the bucket array (best effort). */
static void table_grow(struct ufs_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct ufs_tnode **nbk = calloc(nb, sizeof(*nbk));

	if (!nbk)
		return;
	for (size_t b = 0; b < t->nbuckets; b++) {
		struct ufs_tnode *n = t->buckets[b], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = nbk[n->hash & (nb - 1)];
			nbk[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = nbk;
	t->nbuckets = nb;
}

void ufs_table_insert(struct ufs_table *t, struct ufs_tnode *n, uint64_t hash)
{
	struct ufs_tnode **head;

	if (t->count >= t->nbuckets && t->nbuckets < t->max_buckets)
		table_grow(t);
	head = table_bucket(t, hash);
	n->hash = hash;
	n->next = *head;
	*head = n;
	t->count++;
}

void ufs_table_remove(struct ufs_table *t, struct ufs_tnode *n)
{
	struct ufs_tnode **pp = table_bucket(t, n->hash);

	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = n->next;
	n->next = NULL;
	t->count--;
}

size_t ufs_table_count(const struct ufs_table *t)
{
	return t->count;
}

/* The first entry of the first non-empty bucket from it->bucket on. */
static struct ufs_tnode *table_scan(struct ufs_table_iter *it)
{
	for (; it->bucket < it->t->nbuckets; it->bucket++)
		if (it->t->buckets[it->bucket])
			return it->t->buckets[it->bucket++];
	return NULL;
}

struct ufs_tnode *ufs_table_first(const struct ufs_table *t, struct ufs_table_iter *it)
{
	it->t = t;
	it->bucket = 0;
	it->next = NULL;
	return ufs_table_next(it);
}

struct ufs_tnode *ufs_table_next(struct ufs_table_iter *it)
{
	struct ufs_tnode *n = it->next ? it->next : table_scan(it);

	it->next = n ? n->next : NULL;
	return n;
}
