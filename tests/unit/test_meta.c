/* test_meta.c — metadata cache with an injected clock: attribute, negative
 * and listing TTLs, listings filling child attributes, invalidation of a
 * path, its parent listing and whole subtrees, per-mount TTLs from the
 * config, the entry bound, listing references and cursor; the memory
 * budget: listings and entries counted in it, listings that do not fit,
 * too large to cache, reclaimed for other users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/meta.h"
#include "common/budget.h"

static double fake_now;

static double fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static const struct ufs_meta_ttl ttls[2] = {{10, 20, 5}, {0, 0, 0}};

static struct ufs_meta *meta_new(size_t max)
{
	struct ufs_meta *m;

	fake_now = 1000;
	m = ufs_meta_create(2, ttls, fake_clock, NULL, max);
	assert_non_null(m);
	return m;
}

static struct ufs_attr file_attr(uint64_t size)
{
	struct ufs_attr a = {.mode = S_IFREG | 0644, .nlink = 1, .size = size};

	return a;
}

static void test_attr_ttl(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_attr a = file_attr(42), out;

	(void)state;
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 0);
	ufs_meta_put_attr(m, 0, "f", &a);
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 1);
	assert_int_equal(out.size, 42);
	assert_int_equal(ufs_meta_get_attr(m, 1, "f", &out), 0); /* other mount */
	fake_now += 9.9;
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 1);
	fake_now += 0.2;
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 0); /* expired */
	ufs_meta_destroy(m);
}

static void test_negative(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_attr a = file_attr(1), out;

	(void)state;
	ufs_meta_put_negative(m, 0, "gone");
	assert_int_equal(ufs_meta_get_attr(m, 0, "gone", &out), -ENOENT);
	fake_now += 5.1;
	assert_int_equal(ufs_meta_get_attr(m, 0, "gone", &out), 0);
	ufs_meta_put_negative(m, 0, "gone");
	ufs_meta_put_attr(m, 0, "gone", &a); /* created: the negative entry goes */
	assert_int_equal(ufs_meta_get_attr(m, 0, "gone", &out), 1);
	ufs_meta_put_negative(m, 0, "gone"); /* removed again */
	assert_int_equal(ufs_meta_get_attr(m, 0, "gone", &out), -ENOENT);
	ufs_meta_destroy(m);
}

/* A put with a ticket taken before an invalidation stores nothing: the
 * answer it carries may predate the change (a getattr racing a rename). */
static void test_ticket_fill_race(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_attr a = file_attr(1), out;
	struct ufs_meta_dir *d;
	uint64_t t = ufs_meta_ticket(m);

	(void)state;
	ufs_meta_invalidate(m, 0, "f"); /* the rename lands meanwhile */
	ufs_meta_put_attr_since(m, 0, "f", &a, t);
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 0);
	ufs_meta_put_negative_since(m, 0, "f", t);
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 0);
	t = ufs_meta_ticket(m);
	ufs_meta_invalidate_tree(m, 0, "d");
	ufs_meta_put_attr_since(m, 0, "d/f", &a, t);
	assert_int_equal(ufs_meta_get_attr(m, 0, "d/f", &out), 0);
	t = ufs_meta_ticket(m);
	ufs_meta_invalidate(m, 0, "d/x");
	d = ufs_meta_dir_create();
	assert_int_equal(ufs_meta_put_dir_since(m, 0, "d", d, t), -ESTALE);
	ufs_meta_dir_unref(d);
	assert_null(ufs_meta_get_dir(m, 0, "d"));
	t = ufs_meta_ticket(m); /* nothing changed since: stored */
	ufs_meta_put_attr_since(m, 0, "f", &a, t);
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 1);
	ufs_meta_destroy(m);
}

static void test_zero_ttl_disables(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_attr a = file_attr(1), out;
	struct ufs_meta_dir *d = ufs_meta_dir_create();

	(void)state;
	ufs_meta_put_attr(m, 1, "f", &a);
	ufs_meta_put_negative(m, 1, "g");
	assert_int_equal(ufs_meta_dir_add(d, "x", &a), 0);
	ufs_meta_put_dir(m, 1, "", d);
	assert_int_equal(ufs_meta_get_attr(m, 1, "f", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 1, "g", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 1, "x", &out), 0);
	assert_null(ufs_meta_get_dir(m, 1, ""));
	assert_int_equal(ufs_meta_count(m), 0);
	ufs_meta_dir_unref(d);
	/* a typeless attribute is never stored */
	a.mode = 0;
	ufs_meta_put_attr(m, 0, "t", &a);
	assert_int_equal(ufs_meta_get_attr(m, 0, "t", &out), 0);
	ufs_meta_destroy(m);
}

/* A listing of dir "d" with a typed file, a typeless entry and a dir. */
static struct ufs_meta_dir *listing(void)
{
	struct ufs_meta_dir *d = ufs_meta_dir_create();
	struct ufs_attr f = file_attr(7);
	struct ufs_attr sub = {.mode = S_IFDIR | 0755};

	assert_non_null(d);
	assert_int_equal(ufs_meta_dir_add(d, "f", &f), 0);
	assert_int_equal(ufs_meta_dir_add(d, "untyped", NULL), 0);
	assert_int_equal(ufs_meta_dir_add(d, "sub", &sub), 0);
	return d;
}

static void test_listing_fills_children(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d = listing(), *got;
	const struct ufs_attr *pa;
	struct ufs_attr out;

	(void)state;
	ufs_meta_put_dir(m, 0, "d", d);
	ufs_meta_dir_unref(d); /* the cache holds its own reference */
	got = ufs_meta_get_dir(m, 0, "d");
	assert_non_null(got);
	assert_int_equal(ufs_meta_dir_count(got), 3);
	assert_string_equal(ufs_meta_dir_entry(got, 1, &pa), "untyped");
	assert_int_equal(pa->mode, 0);
	assert_int_equal(ufs_meta_dir_find(got, "sub"), 2);
	assert_int_equal(ufs_meta_dir_find(got, "nope"), -1);
	assert_int_equal(ufs_meta_get_attr(m, 0, "d/f", &out), 1);
	assert_int_equal(out.size, 7);
	assert_int_equal(ufs_meta_get_attr(m, 0, "d/sub", &out), 1);
	assert_true(S_ISDIR(out.mode));
	assert_int_equal(ufs_meta_get_attr(m, 0, "d/untyped", &out), 0);
	/* the listing outlives its TTL for the holder of a reference */
	fake_now += 20.5;
	assert_null(ufs_meta_get_dir(m, 0, "d"));
	assert_int_equal(ufs_meta_dir_count(got), 3);
	ufs_meta_dir_unref(got);
	ufs_meta_destroy(m);
}

static void test_root_listing_children(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d = listing();
	struct ufs_attr out;

	(void)state;
	ufs_meta_put_dir(m, 0, "", d); /* the mount root */
	ufs_meta_dir_unref(d);
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 1);
	ufs_meta_invalidate(m, 0, "f"); /* drops the root listing too */
	assert_null(ufs_meta_get_dir(m, 0, ""));
	assert_int_equal(ufs_meta_get_attr(m, 0, "f", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 0, "sub", &out), 1);
	ufs_meta_destroy(m);
}

static void test_invalidate(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d = listing();
	struct ufs_attr out, a = file_attr(3);

	(void)state;
	ufs_meta_put_dir(m, 0, "d", d);
	ufs_meta_put_dir(m, 0, "", d); /* holds the attributes of d */
	ufs_meta_dir_unref(d);
	ufs_meta_put_attr(m, 0, "d", &a);
	ufs_meta_put_negative(m, 0, "d/new");
	ufs_meta_invalidate(m, 0, "d/new");	 /* created through the mount */
	assert_null(ufs_meta_get_dir(m, 0, "")); /* d's mtime and links in it changed */
	assert_int_equal(ufs_meta_get_attr(m, 0, "d/new", &out), 0);
	assert_null(ufs_meta_get_dir(m, 0, "d"));		 /* the parent listing changed */
	assert_int_equal(ufs_meta_get_attr(m, 0, "d", &out), 0); /* its mtime changed too */
	assert_int_equal(ufs_meta_get_attr(m, 0, "d/f", &out), 1);
	ufs_meta_destroy(m);
}

static void test_invalidate_tree(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_attr out, a = file_attr(3);

	(void)state;
	ufs_meta_put_attr(m, 0, "p", &a);
	ufs_meta_put_attr(m, 0, "p/d", &a);
	ufs_meta_put_attr(m, 0, "p/d/x", &a);
	ufs_meta_put_attr(m, 0, "p/d/y/z", &a);
	ufs_meta_put_attr(m, 0, "p/dx", &a);
	ufs_meta_put_attr(m, 1, "p/d/x", &a); /* mount 1 caches nothing anyway */
	ufs_meta_invalidate_tree(m, 0, "p/d");
	assert_int_equal(ufs_meta_get_attr(m, 0, "p/d", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 0, "p/d/x", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 0, "p/d/y/z", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 0, "p/dx", &out), 1); /* a sibling, not below */
	assert_int_equal(ufs_meta_get_attr(m, 0, "p", &out), 0);    /* the parent changed */
	ufs_meta_invalidate_tree(m, 0, "");			    /* the whole mount */
	assert_int_equal(ufs_meta_get_attr(m, 0, "p/dx", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 0, "p", &out), 0);
	/* stored again after the invalidation: visible (the tombstone is older) */
	ufs_meta_put_attr(m, 0, "p/d/x", &a);
	assert_int_equal(ufs_meta_get_attr(m, 0, "p/d/x", &out), 1);
	ufs_meta_destroy(m);
}

/* A renamed directory's listing and children go, without walking the
 * table: the entries below it are dropped when met. */
static void test_invalidate_tree_lazy(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d = ufs_meta_dir_create();
	struct ufs_attr out, a = file_attr(3);
	size_t before;

	(void)state;
	assert_int_equal(ufs_meta_dir_add(d, "x", &a), 0);
	ufs_meta_put_dir(m, 0, "top/d", d);
	ufs_meta_put_attr(m, 0, "top/d/sub/deep", &a);
	ufs_meta_put_attr(m, 0, "top/other", &a);
	before = ufs_meta_count(m);
	ufs_meta_invalidate_tree(m, 0, "top/d/sub");
	assert_int_equal(ufs_meta_count(m), before - 1); /* its parent "top/d" only: no walk */
	ufs_meta_invalidate_tree(m, 0, "top");
	assert_null(ufs_meta_get_dir(m, 0, "top/d"));
	assert_int_equal(ufs_meta_get_attr(m, 0, "top/d/x", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 0, "top/d/sub/deep", &out), 0);
	assert_int_equal(ufs_meta_get_attr(m, 0, "top/other", &out), 0);
	/* after the longest TTL the tombstones are gone; new facts are live */
	fake_now += 30;
	ufs_meta_put_attr(m, 0, "top/d/x", &a);
	ufs_meta_invalidate_tree(m, 0, "elsewhere"); /* expires old tombstones */
	assert_int_equal(ufs_meta_get_attr(m, 0, "top/d/x", &out), 1);
	ufs_meta_dir_unref(d);
	ufs_meta_destroy(m);
}

static void test_bound(void **state)
{
	struct ufs_meta *m = meta_new(100);
	struct ufs_attr a = file_attr(1), out;
	char path[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "f%d", i);
		ufs_meta_put_attr(m, 0, path, &a);
		assert_true(ufs_meta_count(m) <= 100);
	}
	assert_int_equal(ufs_meta_get_attr(m, 0, "f999", &out), 1); /* the latest stays */
	/* expired entries are swept before anything live is dropped */
	fake_now += 100;
	ufs_meta_put_attr(m, 0, "a", &a);
	assert_int_equal(ufs_meta_count(m), 1);
	ufs_meta_destroy(m);
}

static void test_growth(void **state)
{
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d = ufs_meta_dir_create();
	struct ufs_attr a = file_attr(5), out;
	char name[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		a.size = (uint64_t)i;
		assert_int_equal(ufs_meta_dir_add(d, name, &a), 0);
	}
	ufs_meta_put_dir(m, 0, "big", d);
	ufs_meta_dir_unref(d);
	assert_int_equal(ufs_meta_count(m), 5001);
	assert_int_equal(ufs_meta_get_attr(m, 0, "big/e4321", &out), 1);
	assert_int_equal(out.size, 4321);
	ufs_meta_destroy(m);
}

static void test_sort_and_find(void **state)
{
	struct ufs_meta_dir *d = ufs_meta_dir_create();
	static const char *const names[] = {"b", "a", "c 1", "C", "ab"};
	const struct ufs_attr *pa;

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct ufs_attr a = file_attr((uint64_t)i);

		assert_int_equal(ufs_meta_dir_add(d, names[i], &a), 0);
	}
	assert_int_equal(ufs_meta_dir_find(d, "c 1"), 2); /* unsorted: linear */
	ufs_meta_dir_sort(d);
	assert_string_equal(ufs_meta_dir_entry(d, 0, &pa), "C");
	assert_string_equal(ufs_meta_dir_entry(d, 1, &pa), "a");
	assert_string_equal(ufs_meta_dir_entry(d, 2, &pa), "ab");
	assert_string_equal(ufs_meta_dir_entry(d, 3, &pa), "b");
	assert_int_equal(pa->size, 0); /* attributes move with their names */
	assert_string_equal(ufs_meta_dir_entry(d, 4, &pa), "c 1");
	for (int i = 0; i < 5; i++)
		assert_string_equal(
		    ufs_meta_dir_entry(d, (size_t)ufs_meta_dir_find(d, names[i]), NULL), names[i]);
	assert_int_equal(ufs_meta_dir_find(d, "zz"), -1);
	assert_int_equal(ufs_meta_dir_find(d, ""), -1);
	ufs_meta_dir_unref(d);
}

static void test_cursor_and_refs(void **state)
{
	struct ufs_meta_dir *d = listing();

	(void)state;
	assert_int_equal(ufs_meta_dir_cursor(d), -1);
	ufs_meta_dir_set_cursor(d, 1);
	assert_int_equal(ufs_meta_dir_cursor(d), 1);
	assert_ptr_equal(ufs_meta_dir_ref(d), d);
	ufs_meta_dir_unref(d);
	assert_int_equal(ufs_meta_dir_count(d), 3);
	ufs_meta_dir_unref(d);
	ufs_meta_dir_unref(NULL);
	assert_null(ufs_meta_dir_ref(NULL));
}

static void test_ttl_from_config(void **state)
{
	struct ufs_kv kv[] = {{"attr_ttl", "1.5", 0}, {"negative_ttl", "0", 0}};
	struct ufs_kv bad[] = {{"dir_ttl", "soon", 0}};
	struct ufs_mount_cfg mounts[2] = {{.prefix = "/a", .kv = kv, .n_kv = 2},
					  {.prefix = "/b", .kv = bad, .n_kv = 1}};
	struct ufs_config cfg = {
	    .attr_ttl = 60, .dir_ttl = 30, .negative_ttl = 5, .mounts = mounts, .n_mounts = 2};
	struct ufs_meta_ttl t;
	char err[256];

	(void)state;
	assert_int_equal(ufs_meta_ttl_from_config(&cfg, 0, &t, err, sizeof(err)), 0);
	assert_true(t.attr == 1.5);
	assert_true(t.dir == 30);
	assert_true(t.negative == 0);
	assert_int_equal(ufs_meta_ttl_from_config(&cfg, 1, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/b"));
}

/* A listing of n entries named like "entry-%06d", counted in m's budget;
 * returns the first add's error (0 when all fit). */
static int listing_of(struct ufs_meta *m, size_t n, struct ufs_meta_dir **pd)
{
	struct ufs_meta_dir *d = ufs_meta_dir_create_for(m);
	struct ufs_attr a = file_attr(1);
	char name[32];
	int rc = 0;

	assert_non_null(d);
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(name, sizeof(name), "entry-%06zu", i);
		rc = ufs_meta_dir_add(d, name, &a);
	}
	ufs_meta_dir_sort(d);
	*pd = d;
	return rc;
}

static struct ufs_meta_stats mstats(struct ufs_meta *m)
{
	struct ufs_meta_stats st;

	ufs_meta_stats(m, &st);
	return st;
}

/* Every byte a listing holds is in the budget while it lives (more than
 * 200 bytes an entry, as measured with 100,000 keys), none after. */
static void test_budget_counts_listing(void **state)
{
	struct ufs_budget *b = ufs_budget_create(64 << 20);
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d;

	(void)state;
	assert_int_equal(ufs_meta_set_budget(m, b), 0);
	assert_int_equal(listing_of(m, 10000, &d), 0);
	assert_true(ufs_meta_dir_bytes(d) > 10000 * 200);
	assert_int_equal(ufs_budget_used(b), ufs_meta_dir_bytes(d)); /* trimmed to its size */
	assert_int_equal(mstats(m).list_bytes, ufs_meta_dir_bytes(d));
	ufs_meta_dir_unref(d);
	assert_int_equal(ufs_budget_used(b), 0);
	assert_int_equal(mstats(m).list_bytes, 0);
	assert_true(mstats(m).list_peak >= 10000 * 200);
	ufs_meta_destroy(m);
	ufs_budget_destroy(b);
}

/* A listing larger than the budget stops with -ENOMEM and never takes more
 * than the limit; what it took comes back. */
static void test_budget_listing_does_not_fit(void **state)
{
	struct ufs_budget *b = ufs_budget_create(1 << 20);
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d;

	(void)state;
	assert_int_equal(ufs_meta_set_budget(m, b), 0);
	assert_int_equal(ufs_budget_try(b, 512 << 10), 0); /* someone else's, not reclaimable */
	assert_int_equal(listing_of(m, 100000, &d), -ENOMEM);
	assert_true(ufs_budget_peak(b) <= 1 << 20);
	assert_true(ufs_meta_dir_count(d) < 100000);
	ufs_meta_dir_unref(d);
	assert_int_equal(ufs_budget_used(b), 512 << 10);
	ufs_meta_destroy(m);
	ufs_budget_destroy(b);
}

/* Cached listings and entries give way when the budget needs room: an
 * acquire that finds the budget full of cached metadata succeeds; a listing
 * still held open stays counted until it is closed. */
static void test_budget_reclaims_listings(void **state)
{
	struct ufs_budget *b = ufs_budget_create(8 << 20);
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d, *held;
	uint64_t held_bytes;

	(void)state;
	assert_int_equal(ufs_meta_set_budget(m, b), 0);
	assert_int_equal(listing_of(m, 4000, &d), 0); /* ~1 MiB, cached */
	assert_int_equal(ufs_meta_put_dir(m, 0, "a", d), 0);
	ufs_meta_dir_unref(d);
	assert_int_equal(listing_of(m, 4000, &held), 0);
	assert_int_equal(ufs_meta_put_dir(m, 0, "b", held), 0);
	held_bytes = ufs_meta_dir_bytes(held);
	assert_true(mstats(m).entry_bytes > 0); /* the children's attributes */
	assert_int_equal(ufs_budget_used(b), mstats(m).entry_bytes + mstats(m).list_bytes);
	/* a user who needs all but the held listing gets it */
	assert_int_equal(ufs_budget_acquire(b, (8 << 20) - held_bytes, 0), 0);
	assert_null(ufs_meta_get_dir(m, 0, "a"));
	assert_null(ufs_meta_get_dir(m, 0, "b"));
	assert_true(mstats(m).lists_evicted >= 1);
	assert_int_equal(mstats(m).list_bytes, held_bytes); /* still open */
	assert_int_equal(ufs_budget_acquire(b, 1, 0), -ENOMEM);
	ufs_meta_dir_unref(held);
	assert_int_equal(ufs_budget_acquire(b, held_bytes, 0), 0);
	assert_int_equal(ufs_budget_used(b), 8 << 20);
	assert_true(ufs_budget_peak(b) <= 8 << 20);
	ufs_meta_destroy(m);
	ufs_budget_destroy(b);
}

/* A listing larger than a quarter of the budget is served but not cached,
 * nor are its children's attributes. */
static void test_budget_too_large_to_cache(void **state)
{
	struct ufs_budget *b = ufs_budget_create(4 << 20);
	struct ufs_meta *m = meta_new(0);
	struct ufs_meta_dir *d;
	struct ufs_attr out;

	(void)state;
	assert_int_equal(ufs_meta_set_budget(m, b), 0);
	assert_int_equal(listing_of(m, 8000, &d), 0); /* ~2 MiB > 1 MiB */
	assert_int_equal(ufs_meta_put_dir(m, 0, "big", d), -EFBIG);
	assert_null(ufs_meta_get_dir(m, 0, "big"));
	assert_int_equal(ufs_meta_get_attr(m, 0, "big/entry-000001", &out), 0);
	assert_int_equal(mstats(m).lists_uncached, 1);
	assert_int_equal(ufs_meta_dir_count(d), 8000); /* the opener still has it all */
	ufs_meta_dir_unref(d);
	assert_int_equal(ufs_budget_used(b), 0);
	ufs_meta_destroy(m);
	ufs_budget_destroy(b);
}

/* Attribute and negative entries count too, and give their bytes back. */
static void test_budget_counts_entries(void **state)
{
	struct ufs_budget *b = ufs_budget_create(1 << 20);
	struct ufs_meta *m = meta_new(0);
	struct ufs_attr a = file_attr(3);

	(void)state;
	assert_int_equal(ufs_meta_set_budget(m, b), 0);
	ufs_meta_put_attr(m, 0, "x/f", &a);
	ufs_meta_put_negative(m, 0, "x/g");
	assert_int_equal(mstats(m).entries, 2);
	assert_true(mstats(m).entry_bytes > 2 * sizeof(struct ufs_attr));
	assert_int_equal(ufs_budget_used(b), mstats(m).entry_bytes);
	ufs_meta_invalidate_tree(m, 0, "x");
	ufs_meta_invalidate(m, 0, "x/f");
	ufs_meta_invalidate(m, 0, "x/g");
	assert_int_equal(ufs_budget_used(b), mstats(m).entry_bytes);
	ufs_meta_destroy(m);
	assert_int_equal(ufs_budget_used(b), 0);
	ufs_budget_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attr_ttl),
	    cmocka_unit_test(test_negative),
	    cmocka_unit_test(test_ticket_fill_race),
	    cmocka_unit_test(test_zero_ttl_disables),
	    cmocka_unit_test(test_listing_fills_children),
	    cmocka_unit_test(test_root_listing_children),
	    cmocka_unit_test(test_invalidate),
	    cmocka_unit_test(test_invalidate_tree),
	    cmocka_unit_test(test_invalidate_tree_lazy),
	    cmocka_unit_test(test_bound),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_sort_and_find),
	    cmocka_unit_test(test_cursor_and_refs),
	    cmocka_unit_test(test_ttl_from_config),
	    cmocka_unit_test(test_budget_counts_listing),
	    cmocka_unit_test(test_budget_listing_does_not_fit),
	    cmocka_unit_test(test_budget_reclaims_listings),
	    cmocka_unit_test(test_budget_too_large_to_cache),
	    cmocka_unit_test(test_budget_counts_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
