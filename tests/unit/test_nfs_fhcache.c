/* test_nfs_fhcache.c — the NFSv3 path -> file handle cache: longest-prefix
 * lookup, subtree invalidation, LRU bound, expiry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/nfs/nfs_fhcache.h"

/* A handle whose bytes spell tag. */
static struct ufs_nfs_fh fh_of(const char *tag)
{
	struct ufs_nfs_fh fh = {.len = (unsigned)strlen(tag)};

	memcpy(fh.data, tag, fh.len);
	return fh;
}

static void put(struct ufs_nfs_fhcache *fc, const char *path, double now)
{
	struct ufs_nfs_fh fh = fh_of(path);

	assert_int_equal(ufs_nfs_fhcache_put(fc, path, &fh, now), 0);
}

/* path is cached at now, with the handle put() gave it. */
static int cached(struct ufs_nfs_fhcache *fc, const char *path, double now)
{
	struct ufs_nfs_fh fh;

	if (ufs_nfs_fhcache_get(fc, path, &fh, now) < 0)
		return 0;
	assert_int_equal(fh.len, strlen(path));
	assert_memory_equal(fh.data, path, fh.len);
	return 1;
}

static void test_longest_prefix(void **state)
{
	struct ufs_nfs_fhcache *fc = ufs_nfs_fhcache_new(100, 10);
	struct ufs_nfs_fh fh;

	(void)state;
	put(fc, "a", 0);
	put(fc, "a/b", 0);
	put(fc, "a/bc/d", 0);
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "a/b/c/d", &fh, 1), 3);
	assert_memory_equal(fh.data, "a/b", 3);
	/* "a/b" is not a component prefix of "a/bc/x" */
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "a/bc/x", &fh, 1), 1);
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "a/bc/d", &fh, 1), 6);
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "x/y", &fh, 1), 0);
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "", &fh, 1), 0);
	/* names with spaces, unicode, % + ? are plain bytes */
	put(fc, "d i r/é%+?", 0);
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "d i r/é%+?/f", &fh, 1), strlen("d i r/é%+?"));
	ufs_nfs_fhcache_free(fc);
}

static void test_drop_subtree(void **state)
{
	struct ufs_nfs_fhcache *fc = ufs_nfs_fhcache_new(100, 10);

	(void)state;
	put(fc, "a", 0);
	put(fc, "a/b", 0);
	put(fc, "a/b/c", 0);
	put(fc, "a/bc", 0);
	put(fc, "a/b2/c", 0);
	/* rename/rmdir of a/b: a/b and everything below it, nothing else */
	ufs_nfs_fhcache_drop(fc, "a/b", 1);
	assert_false(cached(fc, "a/b", 1));
	assert_false(cached(fc, "a/b/c", 1));
	assert_true(cached(fc, "a/bc", 1));
	assert_true(cached(fc, "a/b2/c", 1));
	assert_true(cached(fc, "a", 1));
	/* unlink: only the entry itself */
	put(fc, "a/bc/f", 0);
	ufs_nfs_fhcache_drop(fc, "a/bc", 0);
	assert_false(cached(fc, "a/bc", 1));
	assert_true(cached(fc, "a/bc/f", 1));
	assert_int_equal(ufs_nfs_fhcache_count(fc), 3);
	ufs_nfs_fhcache_drop(fc, "", 1);
	assert_int_equal(ufs_nfs_fhcache_count(fc), 0);
	ufs_nfs_fhcache_free(fc);
}

static void test_eviction_bound(void **state)
{
	struct ufs_nfs_fhcache *fc = ufs_nfs_fhcache_new(4, 10);
	char p[16];

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "p%d", i);
		put(fc, p, 0);
	}
	assert_true(cached(fc, "p0", 1)); /* p0 becomes most recent: p1 is oldest */
	put(fc, "p4", 0);
	assert_int_equal(ufs_nfs_fhcache_count(fc), 4);
	assert_false(cached(fc, "p1", 1));
	assert_true(cached(fc, "p0", 1));
	assert_true(cached(fc, "p4", 1));
	for (int i = 5; i < 100; i++) {
		snprintf(p, sizeof(p), "q%d", i);
		put(fc, p, 0);
		assert_true(ufs_nfs_fhcache_count(fc) <= 4);
	}
	assert_true(cached(fc, "q99", 1));
	ufs_nfs_fhcache_free(fc);
}

static void test_expiry_and_replace(void **state)
{
	struct ufs_nfs_fhcache *fc = ufs_nfs_fhcache_new(10, 2.0);
	struct ufs_nfs_fh fh = fh_of("new"), big = {.len = UFS_NFS_FH_MAX + 1};

	(void)state;
	put(fc, "d", 100);
	put(fc, "d/e", 101);
	assert_true(cached(fc, "d", 101.9));
	assert_false(cached(fc, "d", 102.0)); /* expired: removed */
	assert_int_equal(ufs_nfs_fhcache_count(fc), 1);
	/* an expired ancestor is skipped, a fresh descendant still answers */
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "d/e/f", &fh, 102.5), 3);
	assert_int_equal(ufs_nfs_fhcache_longest(fc, "d/e/f", &fh, 103.0), 0);
	/* replacing an entry restarts its clock and changes its handle */
	put(fc, "x", 0);
	fh = fh_of("new");
	assert_int_equal(ufs_nfs_fhcache_put(fc, "x", &fh, 50), 0);
	assert_int_equal(ufs_nfs_fhcache_get(fc, "x", &fh, 51), 0);
	assert_memory_equal(fh.data, "new", 3);
	assert_int_equal(ufs_nfs_fhcache_count(fc), 1);
	assert_int_equal(ufs_nfs_fhcache_put(fc, "y", &big, 0), -EINVAL);
	ufs_nfs_fhcache_free(fc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_longest_prefix),
	    cmocka_unit_test(test_drop_subtree),
	    cmocka_unit_test(test_eviction_bound),
	    cmocka_unit_test(test_expiry_and_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
