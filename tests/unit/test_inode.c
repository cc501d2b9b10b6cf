/* test_inode.c — inode table: lookup counts, forget, keys, rename of
 * subtrees, unhash, generations, keep_cache identity, pending writers,
 * growth and concurrent use, names of one file (hard links) and the
 * last-known mode and owner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/budget.h"
#include "fs/inode/itab.h"

/* Reference a path of mount 0 mounted at "/m" (rel_off 3). */
static uint64_t ref_m(struct ufs_itab *t, const char *path)
{
	return ufs_itab_ref(t, 0, path, 3);
}

static void expect_loc(struct ufs_itab *t, uint64_t ino, int mount, const char *path,
		       const char *rel)
{
	struct ufs_iloc loc;

	assert_int_equal(ufs_itab_get(t, ino, &loc), 0);
	assert_int_equal(loc.mount, mount);
	assert_string_equal(loc.path, path);
	assert_string_equal(loc.rel, rel);
	ufs_iloc_free(&loc);
}

/* Names of one file (same mount, same backend file id) find each other;
 * another mount's equal id, id 0 and a forgotten name do not count. */
static void test_same_file(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	struct ufs_attr a = {.mode = 0100644, .uid = 7, .gid = 8, .ino = 4242};
	struct ufs_attr none = {.mode = 0100644};
	uint64_t h1 = ref_m(t, "/m/h1"), h2 = ref_m(t, "/m/d/h2"), x = ref_m(t, "/m/x");
	uint64_t other = ufs_itab_ref(t, 1, "/n/h1", 3), got[4];

	(void)state;
	ufs_itab_note_attr(t, h1, &a);
	ufs_itab_note_attr(t, h2, &a);
	ufs_itab_note_attr(t, other, &a);
	ufs_itab_note_attr(t, x, &none);
	assert_int_equal(ufs_itab_same_file(t, h1, got, 4), 1);
	assert_int_equal(got[0], h2);
	assert_int_equal(ufs_itab_same_file(t, x, got, 4), 0);
	assert_int_equal(ufs_itab_same_file(t, other, got, 4), 0);
	/* a new id moves the inode out of the old group */
	a.ino = 99;
	ufs_itab_note_attr(t, h2, &a);
	assert_int_equal(ufs_itab_same_file(t, h1, got, 4), 0);
	a.ino = 4242;
	ufs_itab_note_attr(t, h2, &a);
	ufs_itab_forget(t, h2, 1);
	assert_int_equal(ufs_itab_same_file(t, h1, got, 4), 0);
	ufs_itab_destroy(t);
}

/* The last mode and owner a backend showed are kept per inode. */
static void test_last_owner(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	struct ufs_attr a = {.mode = 0100600, .uid = 1000, .gid = 100};
	struct ufs_attr out = {0};
	uint64_t f = ref_m(t, "/m/f");

	(void)state;
	assert_int_equal(ufs_itab_last_owner(t, f, &out), 0);
	assert_int_equal(ufs_itab_last_owner(t, 12345, &out), 0);
	ufs_itab_note_attr(t, f, &a);
	assert_int_equal(ufs_itab_last_owner(t, f, &out), 1);
	assert_int_equal(out.mode, 0100600);
	assert_int_equal(out.uid, 1000);
	assert_int_equal(out.gid, 100);
	ufs_itab_destroy(t);
}

/* Attributes of another object than an inode was shown (a rename put
 * another file at its path) are refused: -ESTALE, not a type change. */
static void test_check_attr(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	struct ufs_attr lnk = {.mode = 0120777, .ino = 7}, reg = {.mode = 0100644, .ino = 8};
	struct ufs_attr out = {0};
	uint64_t f = ref_m(t, "/m/f");

	(void)state;
	assert_int_equal(ufs_itab_check_attr(t, f, &reg), 0); /* nothing noted yet */
	ufs_itab_note_attr(t, f, &lnk);
	assert_int_equal(ufs_itab_check_attr(t, f, &lnk), 0);
	assert_int_equal(ufs_itab_check_attr(t, f, &reg), -ESTALE); /* other type */
	reg.mode = 0120777;
	assert_int_equal(ufs_itab_check_attr(t, f, &reg), -ESTALE); /* other file id */
	reg.ino = 0;
	assert_int_equal(ufs_itab_check_attr(t, f, &reg), 0); /* no id: type only */
	assert_int_equal(ufs_itab_last_owner(t, f, &out), 1);
	assert_int_equal(out.ino, 7);
	ufs_itab_destroy(t);
}

static void test_root(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);

	(void)state;
	assert_non_null(t);
	expect_loc(t, UFS_ROOT_INO, -1, "/", "");
	ufs_itab_forget(t, UFS_ROOT_INO, 100); /* never freed */
	expect_loc(t, UFS_ROOT_INO, -1, "/", "");
	assert_int_equal(ufs_itab_count(t), 1);
	ufs_itab_destroy(t);
}

static void test_lookup_counts(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	struct ufs_iloc loc;
	uint64_t a, b, c;

	(void)state;
	a = ref_m(t, "/m/a");
	b = ref_m(t, "/m/a");
	c = ref_m(t, "/m/b");
	assert_true(a > UFS_ROOT_INO);
	assert_int_equal(a, b);
	assert_int_not_equal(a, c);
	expect_loc(t, a, 0, "/m/a", "a");
	assert_int_equal(ufs_itab_find(t, 0, "a"), a);
	assert_int_equal(ufs_itab_find(t, 1, "a"), 0); /* other mount: other key */
	ufs_itab_forget(t, a, 1);
	expect_loc(t, a, 0, "/m/a", "a"); /* one lookup left */
	ufs_itab_forget(t, a, 1);
	assert_int_equal(ufs_itab_get(t, a, &loc), -ESTALE);
	assert_int_equal(ufs_itab_find(t, 0, "a"), 0);
	/* numbers are never reused */
	assert_true(ref_m(t, "/m/a") > c);
	assert_int_equal(ufs_itab_count(t), 3);
	ufs_itab_destroy(t);
}

static void test_forget_multi_counts(void **state)
{
	struct ufs_itab *t = ufs_itab_create(0);
	struct ufs_iloc loc;
	uint64_t a = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		a = ufs_itab_ref(t, 0, "/x", 1);
	ufs_itab_forget(t, a, 4);
	expect_loc(t, a, 0, "/x", "x");
	ufs_itab_forget(t, a, 7); /* more than held: freed, no underflow */
	assert_int_equal(ufs_itab_get(t, a, &loc), -ESTALE);
	ufs_itab_forget(t, 12345, 1); /* unknown: ignored */
	ufs_itab_destroy(t);
}

static void test_rename_subtree(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	uint64_t d = ref_m(t, "/m/d");
	uint64_t f = ref_m(t, "/m/d/f");
	uint64_t g = ref_m(t, "/m/d/sub/g");
	uint64_t other = ref_m(t, "/m/dx");
	uint64_t victim = ref_m(t, "/m/e");
	uint64_t m1 = ufs_itab_ref(t, 1, "/n/d/f", 3); /* same rel, other mount */

	(void)state;
	ufs_itab_rename(t, 0, "/m/d", "/m/e", 3);
	expect_loc(t, d, 0, "/m/e", "e");
	expect_loc(t, f, 0, "/m/e/f", "e/f");
	expect_loc(t, g, 0, "/m/e/sub/g", "e/sub/g");
	expect_loc(t, other, 0, "/m/dx", "dx"); /* not below "/m/d" */
	expect_loc(t, m1, 1, "/n/d/f", "d/f");
	/* the replaced inode lives on, unreachable by key */
	expect_loc(t, victim, 0, "/m/e", "e");
	assert_int_equal(ufs_itab_find(t, 0, "e"), d);
	assert_int_equal(ufs_itab_find(t, 0, "d/f"), 0);
	assert_int_equal(ufs_itab_find(t, 0, "e/f"), f);
	/* a new lookup of the old name makes a new inode */
	assert_true(ref_m(t, "/m/d") > m1);
	ufs_itab_forget(t, victim, 1);
	ufs_itab_destroy(t);
}

static void test_unhash(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	uint64_t a = ref_m(t, "/m/a");
	uint64_t b = ref_m(t, "/m/a/b");
	uint64_t a2;

	(void)state;
	ufs_itab_unhash(t, 0, "/m/a", 3);
	assert_int_equal(ufs_itab_find(t, 0, "a"), 0);
	assert_int_equal(ufs_itab_find(t, 0, "a/b"), 0);
	expect_loc(t, a, 0, "/m/a", "a"); /* still known by number */
	a2 = ref_m(t, "/m/a");
	assert_int_not_equal(a2, a);
	ufs_itab_forget(t, a, 1);
	ufs_itab_forget(t, b, 1);
	assert_int_equal(ufs_itab_find(t, 0, "a"), a2);
	ufs_itab_destroy(t);
}

static void test_gen_and_identity(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	uint64_t a = ref_m(t, "/m/a");
	struct ufs_obj o = {.path = "a", .size = 10, .mtime = {5, 6}, .etag = "e1"};

	(void)state;
	assert_int_equal(ufs_itab_gen(t, a), 0);
	assert_false(ufs_itab_same_identity(t, a, &o)); /* first open */
	assert_true(ufs_itab_same_identity(t, a, &o));
	ufs_itab_bump_gen(t, a);
	assert_int_equal(ufs_itab_gen(t, a), 1);
	assert_false(ufs_itab_same_identity(t, a, &o)); /* local write */
	assert_true(ufs_itab_same_identity(t, a, &o));
	strcpy(o.etag, "e2");
	assert_false(ufs_itab_same_identity(t, a, &o));
	o.mtime.tv_nsec = 7;
	assert_false(ufs_itab_same_identity(t, a, &o));
	o.size = 11;
	assert_false(ufs_itab_same_identity(t, a, &o));
	assert_true(ufs_itab_same_identity(t, a, &o));
	assert_int_equal(ufs_itab_gen(t, 999), 0);
	ufs_itab_destroy(t);
}

/* Inodes count in the budget from creation to the kernel's FORGET, lookup
 * counts exact; with no room they are still made, uncounted. */
static void test_budget(void **state)
{
	struct ufs_budget *b = ufs_budget_create(1 << 20);
	struct ufs_itab *t = ufs_itab_create(0);
	uint64_t ino[100], bytes;
	char path[64];

	(void)state;
	ufs_itab_set_budget(t, b);
	for (int i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/d/file%03d", i);
		ino[i] = ufs_itab_ref(t, 0, path, 1);
		assert_true(ino[i] > UFS_ROOT_INO);
	}
	bytes = ufs_itab_bytes(t);
	assert_true(bytes >= 100 * 100);
	assert_int_equal(ufs_budget_used(b), bytes);
	assert_int_equal(ufs_itab_ref(t, 0, "/d/file007", 1), ino[7]); /* known: no more bytes */
	assert_int_equal(ufs_itab_bytes(t), bytes);
	ufs_itab_forget(t, ino[7], 1); /* one lookup left */
	assert_int_equal(ufs_itab_bytes(t), bytes);
	for (int i = 0; i < 100; i++)
		ufs_itab_forget(t, ino[i], 1);
	assert_int_equal(ufs_itab_count(t), 1); /* the root */
	assert_int_equal(ufs_itab_bytes(t), 0);
	assert_int_equal(ufs_budget_used(b), 0);
	/* no room: made all the same, uncounted, and nothing given back */
	assert_int_equal(ufs_budget_acquire(b, 1 << 20, 0), 0);
	ino[0] = ufs_itab_ref(t, 0, "/d/full", 1);
	assert_true(ino[0] > UFS_ROOT_INO);
	assert_int_equal(ufs_itab_bytes(t), 0);
	ufs_itab_forget(t, ino[0], 1);
	assert_int_equal(ufs_budget_used(b), 1 << 20);
	ufs_itab_destroy(t);
	ufs_budget_destroy(b);
}

static void test_pending(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	uint64_t a = ref_m(t, "/m/a");
	uint64_t size = 0;
	uint32_t mode = 0;

	(void)state;
	assert_false(ufs_itab_pending(t, a, &size, &mode));
	ufs_itab_writer_open(t, a, 0640);
	ufs_itab_writer_open(t, a, 0640);
	ufs_itab_writer_size(t, a, 100, 0);
	ufs_itab_writer_size(t, a, 50, 0); /* not exact: only grows */
	assert_true(ufs_itab_pending(t, a, &size, &mode));
	assert_int_equal(size, 100);
	assert_int_equal(mode, 0640);
	ufs_itab_writer_size(t, a, 20, 1); /* exact: truncation */
	assert_true(ufs_itab_pending(t, a, &size, &mode));
	assert_int_equal(size, 20);
	ufs_itab_writer_close(t, a);
	assert_true(ufs_itab_pending(t, a, &size, &mode));
	ufs_itab_writer_close(t, a);
	assert_false(ufs_itab_pending(t, a, &size, &mode));
	ufs_itab_writer_close(t, a); /* extra close: no underflow */
	assert_false(ufs_itab_pending(t, a, &size, &mode));
	ufs_itab_destroy(t);
}

static void test_growth(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	uint64_t *inos = calloc(20000, sizeof(*inos));
	char path[64];

	(void)state;
	assert_non_null(inos);
	for (int i = 0; i < 20000; i++) {
		snprintf(path, sizeof(path), "/m/dir/f%d", i);
		inos[i] = ref_m(t, path);
	}
	assert_int_equal(ufs_itab_count(t), 20001);
	ufs_itab_rename(t, 0, "/m/dir", "/m/new", 3);
	for (int i = 0; i < 20000; i += 997) {
		char rel[64];

		snprintf(path, sizeof(path), "/m/new/f%d", i);
		snprintf(rel, sizeof(rel), "new/f%d", i);
		expect_loc(t, inos[i], 0, path, rel);
		assert_int_equal(ufs_itab_find(t, 0, rel), inos[i]);
	}
	for (int i = 0; i < 20000; i++)
		ufs_itab_forget(t, inos[i], 1);
	assert_int_equal(ufs_itab_count(t), 1);
	free(inos);
	ufs_itab_destroy(t);
}

/* The file-id index grows on its own (here past its first 1024 buckets
 * while most inodes carry an id): each name still finds its one other name. */
static void test_same_file_growth(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	uint64_t *inos = calloc(3000, sizeof(*inos)), got[4];
	char path[64];

	(void)state;
	assert_non_null(inos);
	for (int i = 0; i < 3000; i++) {
		struct ufs_attr a = {.mode = 0100644, .ino = (uint64_t)(i / 2 + 1)};

		snprintf(path, sizeof(path), "/m/l%d", i);
		inos[i] = ref_m(t, path);
		ufs_itab_note_attr(t, inos[i], &a);
	}
	for (int i = 0; i < 3000; i += 101) {
		assert_int_equal(ufs_itab_same_file(t, inos[i], got, 4), 1);
		assert_int_equal(got[0], inos[i ^ 1]);
	}
	for (int i = 0; i < 3000; i++)
		ufs_itab_forget(t, inos[i], 1);
	assert_int_equal(ufs_itab_count(t), 1);
	free(inos);
	ufs_itab_destroy(t);
}

struct worker_arg {
	struct ufs_itab *t;
	int id;
};

static void *worker(void *p)
{
	struct worker_arg *w = p;
	char path[64];

	for (int i = 0; i < 2000; i++) {
		uint64_t ino;
		struct ufs_iloc loc;

		snprintf(path, sizeof(path), "/m/f%d", i % 50);
		ino = ref_m(w->t, path);
		if (ufs_itab_get(w->t, ino, &loc) == 0) {
			if (strcmp(loc.path, path) != 0)
				abort();
			ufs_iloc_free(&loc);
		}
		ufs_itab_bump_gen(w->t, ino);
		ufs_itab_forget(w->t, ino, 1);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct ufs_itab *t = ufs_itab_create(-1);
	pthread_t th[4];
	struct worker_arg args[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		args[i] = (struct worker_arg){t, i};
		assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(ufs_itab_count(t), 1); /* every lookup was forgotten */
	ufs_itab_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root),
	    cmocka_unit_test(test_check_attr),
	    cmocka_unit_test(test_lookup_counts),
	    cmocka_unit_test(test_forget_multi_counts),
	    cmocka_unit_test(test_rename_subtree),
	    cmocka_unit_test(test_unhash),
	    cmocka_unit_test(test_gen_and_identity),
	    cmocka_unit_test(test_pending),
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_same_file_growth),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_same_file),
	    cmocka_unit_test(test_last_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
