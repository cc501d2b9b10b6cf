/* test_namespace.c — mount table: longest-prefix resolution, synthetic
 * directories and their children, joins and path normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/inode/namespace.h"

/* A config holding only mount prefixes (all the namespace reads). */
static struct ufs_config *cfg_of(const char *const *prefixes, size_t n)
{
	struct ufs_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	cfg->mounts = calloc(n ? n : 1, sizeof(*cfg->mounts));
	assert_non_null(cfg->mounts);
	for (size_t i = 0; i < n; i++)
		cfg->mounts[i].prefix = (char *)prefixes[i];
	cfg->n_mounts = n;
	return cfg;
}

static void cfg_free(struct ufs_config *cfg)
{
	free(cfg->mounts);
	free(cfg);
}

static struct ufs_ns *ns_of(const char *const *prefixes, size_t n)
{
	struct ufs_config *cfg = cfg_of(prefixes, n);
	struct ufs_ns *ns = ufs_ns_create(cfg);

	cfg_free(cfg); /* the table keeps its own copies */
	assert_non_null(ns);
	return ns;
}

static void expect_resolve(struct ufs_ns *ns, const char *path, int mount, const char *rel)
{
	int m = -2;
	const char *r = NULL;

	assert_int_equal(ufs_ns_resolve(ns, path, &m, &r), 0);
	assert_int_equal(m, mount);
	assert_string_equal(r, rel);
}

static void test_longest_prefix(void **state)
{
	static const char *const p[] = {"/data", "/data/nfs", "/ckpt"};
	struct ufs_ns *ns = ns_of(p, 3);

	(void)state;
	expect_resolve(ns, "/data/nfs/x/y", 1, "x/y");
	expect_resolve(ns, "/data/nfs", 1, "");
	expect_resolve(ns, "/data/nfsx", 0, "nfsx"); /* a prefix ends at a '/' */
	expect_resolve(ns, "/data/other/z", 0, "other/z");
	expect_resolve(ns, "/data", 0, "");
	expect_resolve(ns, "/ckpt/a b/%+?", 2, "a b/%+?");
	assert_int_equal(ufs_ns_count(ns), 3);
	assert_string_equal(ufs_ns_prefix(ns, 1), "/data/nfs");
	assert_null(ufs_ns_prefix(ns, 3));
	ufs_ns_destroy(ns);
}

static void test_order_does_not_matter(void **state)
{
	static const char *const p[] = {"/data/nfs", "/data"};
	struct ufs_ns *ns = ns_of(p, 2);

	(void)state;
	expect_resolve(ns, "/data/nfs/x", 0, "x");
	expect_resolve(ns, "/data/x", 1, "x");
	ufs_ns_destroy(ns);
}

static void test_synthetic_only(void **state)
{
	static const char *const p[] = {"/data/nfs", "/data/s3", "/a/b/c"};
	struct ufs_ns *ns = ns_of(p, 3);
	int m;
	const char *rel;

	(void)state;
	expect_resolve(ns, "/", -1, "/");
	expect_resolve(ns, "/data", -1, "/data");
	expect_resolve(ns, "/a/b", -1, "/a/b");
	assert_int_equal(ufs_ns_resolve(ns, "/nothing", &m, &rel), -ENOENT);
	assert_int_equal(ufs_ns_resolve(ns, "/data/other", &m, &rel), -ENOENT);
	assert_true(ufs_ns_is_synthetic(ns, "/"));
	assert_true(ufs_ns_is_synthetic(ns, "/data"));
	assert_true(ufs_ns_is_synthetic(ns, "/a"));
	assert_true(ufs_ns_is_synthetic(ns, "/a/b"));
	assert_false(ufs_ns_is_synthetic(ns, "/a/b/c")); /* a mount root is real */
	assert_false(ufs_ns_is_synthetic(ns, "/data/nfs/x"));
	assert_false(ufs_ns_is_synthetic(ns, "/dat"));
	ufs_ns_destroy(ns);
}

static void test_root_mount(void **state)
{
	static const char *const p[] = {"/", "/data/nfs"};
	struct ufs_ns *ns = ns_of(p, 2);

	(void)state;
	expect_resolve(ns, "/", 0, "");
	expect_resolve(ns, "/x/y", 0, "x/y");
	expect_resolve(ns, "/data", 0, "data"); /* covered and synthetic */
	assert_true(ufs_ns_is_synthetic(ns, "/data"));
	expect_resolve(ns, "/data/nfs/f", 1, "f");
	ufs_ns_destroy(ns);
}

/* Collects synthetic child names, joined by ','. */
static int collect(void *arg, const char *name)
{
	char *out = arg;

	if (*out)
		strcat(out, ",");
	strcat(out, name);
	return 0;
}

static void expect_children(struct ufs_ns *ns, const char *dir, const char *names)
{
	char out[256] = "";

	assert_int_equal(ufs_ns_list_synthetic(ns, dir, collect, out), 0);
	assert_string_equal(out, names);
}

static void test_list_synthetic(void **state)
{
	static const char *const p[] = {"/data/nfs", "/data/s3", "/data/s3/deep", "/ckpt",
					"/a/b/c"};
	struct ufs_ns *ns = ns_of(p, 5);

	(void)state;
	expect_children(ns, "/", "data,ckpt,a"); /* each name once */
	expect_children(ns, "/data", "nfs,s3");
	expect_children(ns, "/data/s3", "deep"); /* nested mount inside a mount */
	expect_children(ns, "/a", "b");
	expect_children(ns, "/a/b/c", "");
	expect_children(ns, "/ckpt", "");
	assert_true(ufs_ns_has_synthetic_child(ns, "/data", "s3"));
	assert_true(ufs_ns_has_synthetic_child(ns, "/data/s3", "deep"));
	assert_false(ufs_ns_has_synthetic_child(ns, "/data", "s"));
	assert_false(ufs_ns_has_synthetic_child(ns, "/data", "s3x"));
	assert_false(ufs_ns_has_synthetic_child(ns, "/", "nfs"));
	ufs_ns_destroy(ns);
}

static int stop_at_second(void *arg, const char *name)
{
	int *n = arg;

	(void)name;
	return ++*n == 2 ? 42 : 0;
}

static void test_list_stops(void **state)
{
	static const char *const p[] = {"/a", "/b", "/c"};
	struct ufs_ns *ns = ns_of(p, 3);
	int n = 0;

	(void)state;
	assert_int_equal(ufs_ns_list_synthetic(ns, "/", stop_at_second, &n), 42);
	assert_int_equal(n, 2);
	ufs_ns_destroy(ns);
}

static void test_no_mounts(void **state)
{
	struct ufs_ns *ns = ns_of(NULL, 0);
	int m;
	const char *rel;

	(void)state;
	expect_resolve(ns, "/", -1, "/");
	assert_int_equal(ufs_ns_resolve(ns, "/x", &m, &rel), -ENOENT);
	expect_children(ns, "/", "");
	ufs_ns_destroy(ns);
}

static void test_join(void **state)
{
	char *s;

	(void)state;
	s = ufs_ns_join("/", "a");
	assert_string_equal(s, "/a");
	free(s);
	s = ufs_ns_join("/a/b", "c d");
	assert_string_equal(s, "/a/b/c d");
	free(s);
}

static void test_normalize(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(ufs_ns_normalize("//a///b/./c/", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b/c");
	assert_int_equal(ufs_ns_normalize("/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(ufs_ns_normalize("/./", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(ufs_ns_normalize("a/b", out, sizeof(out)), -EINVAL);
	assert_int_equal(ufs_ns_normalize("/a/../b", out, sizeof(out)), -EINVAL);
	assert_int_equal(ufs_ns_normalize("/a/..b", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/..b");
	assert_int_equal(ufs_ns_normalize("/0123456789abcdef", out, sizeof(out)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_longest_prefix), cmocka_unit_test(test_order_does_not_matter),
	    cmocka_unit_test(test_synthetic_only), cmocka_unit_test(test_root_mount),
	    cmocka_unit_test(test_list_synthetic), cmocka_unit_test(test_list_stops),
	    cmocka_unit_test(test_no_mounts),	   cmocka_unit_test(test_join),
	    cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
