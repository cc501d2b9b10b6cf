/*
 * test_migrate.c — the I/O-free parts of the cp/sync/check engine: the
 * decision rules (cli_mig_plan.c), --include/--exclude, shard parsing and
 * ownership, the resume journal (append, reopen, torn tail, corrupt and
 * foreign journals refused) and the bounded queue.
 *
 * The engine sources are compiled in directly (their statics are under
 * test); they only need ufscore.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mount-helpers/cli_mig_journal.c"
#include "mount-helpers/cli_mig_plan.c"
#include "mount-helpers/cli_mig_queue.c"
#include "mount-helpers/cli_util.c"

static struct mig_item item(uint64_t ssize, time_t smtime, uint64_t dsize, time_t dmtime)
{
	struct mig_item it = {.rel = "f", .has_src = 1, .has_dst = 1};

	it.src.mode = S_IFREG | 0644;
	it.src.size = ssize;
	it.src.mtime.tv_sec = smtime;
	it.dst.mode = S_IFREG | 0644;
	it.dst.size = dsize;
	it.dst.mtime.tv_sec = dmtime;
	return it;
}

static void test_plan_rules(void **state)
{
	struct mig_opts o = {.mode = MIG_SYNC};
	struct mig_item it = item(10, 100, 10, 100);

	(void)state;
	assert_int_equal(mig_plan(&o, &it, 1), MIG_ACT_SKIP);
	it.dst.mtime.tv_sec = 99;
	assert_int_equal(mig_plan(&o, &it, 1), MIG_ACT_COPY); /* posix: any mtime change */
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY); /* object: source newer */
	it.dst.mtime.tv_sec = 200;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_SKIP); /* object: uploaded later */
	it.dst.size = 11;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY);
	o.mode = MIG_CHECK;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_DIFFERS);
	it.dst.size = 10;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_SKIP); /* check: sizes only */
	o.checksum = 1;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_HASH);
	it.has_dst = 0;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_MISSING);
	o.mode = MIG_CP;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY);
	it.has_dst = 1;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_COPY); /* cp copies anyway */
	it.has_src = 0;
	assert_int_equal(mig_plan(&o, &it, 0), MIG_ACT_EXTRA);
}

static void test_filters(void **state)
{
	const char *inc[] = {"*.txt"}, *exc[] = {"tmp/*", "*~"};
	struct mig_opts o = {.include = inc, .n_include = 1, .exclude = exc, .n_exclude = 2};

	(void)state;
	assert_true(mig_filter_match(&o, "a/b/c.txt"));
	assert_false(mig_filter_match(&o, "a/b/c.bin"));
	assert_false(mig_filter_match(&o, "tmp/c.txt"));
	assert_true(mig_filter_match(&o, "x/tmp/c.txt")); /* '/' pattern: whole path */
	o.n_include = 0;
	assert_true(mig_filter_match(&o, "c.bin"));
	assert_false(mig_filter_match(&o, "d/c.bin~"));
}

static void test_shard_parse(void **state)
{
	char err[256];
	unsigned k = 9, n = 9;

	(void)state;
	assert_int_equal(mig_shard_parse("2/4", NULL, &k, &n, err, sizeof(err)), 0);
	assert_int_equal(k, 2);
	assert_int_equal(n, 4);
	assert_int_equal(mig_shard_parse("4/4", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "K must be below N"));
	assert_int_equal(mig_shard_parse("-1/4", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_shard_parse("1/0", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_shard_parse("x", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected K/N"));
	unsetenv("SLURM_ARRAY_TASK_ID");
	unsetenv("JOB_COMPLETION_INDEX");
	assert_int_equal(mig_shard_parse("auto", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither"));
	setenv("SLURM_ARRAY_TASK_ID", "3", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
	assert_int_equal(mig_shard_parse("auto", NULL, &k, &n, err, sizeof(err)), 0);
	assert_int_equal(k, 3);
	assert_int_equal(n, 4);
	unsetenv("SLURM_ARRAY_TASK_ID");
	setenv("JOB_COMPLETION_INDEX", "1", 1);
	assert_int_equal(mig_shard_parse("auto", NULL, &k, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--shard-count"));
	assert_int_equal(mig_shard_parse("auto", "2", &k, &n, err, sizeof(err)), 0);
	assert_int_equal(k, 1);
	assert_int_equal(n, 2);
	assert_int_equal(mig_shard_parse("auto", "1", &k, &n, err, sizeof(err)), -EINVAL);
	unsetenv("JOB_COMPLETION_INDEX");
}

/* Every path has exactly one owner, and the shards are roughly even. */
static void test_shard_owns(void **state)
{
	unsigned per[4] = {0};
	char rel[32];

	(void)state;
	for (int i = 0; i < 4000; i++) {
		int owners = 0;

		snprintf(rel, sizeof(rel), "dir%d/file%d", i % 7, i);
		for (unsigned k = 0; k < 4; k++) {
			if (mig_shard_owns(rel, k, 4)) {
				owners++;
				per[k]++;
			}
		}
		assert_int_equal(owners, 1);
	}
	for (unsigned k = 0; k < 4; k++)
		assert_in_range(per[k], 800, 1200);
	assert_true(mig_shard_owns("anything", 0, 1));
}

static char *journal_tmp(void)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_migrate.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	return path;
}

static void test_journal_roundtrip(void **state)
{
	const char *hash = "0123456789abcdef0123456789abcdef";
	char *path = journal_tmp(), err[512];
	struct mig_journal *j = NULL;
	FILE *f;

	(void)state;
	assert_int_equal(mig_journal_open(path, "job A", 1, &j, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--resume needs an existing journal"));
	assert_int_equal(mig_journal_open(path, "job A", 0, &j, err, sizeof(err)), 0);
	assert_false(mig_journal_is_done(j, "a b/c"));
	assert_int_equal(mig_journal_add_done(j, "a b/c", 5, hash), 0);
	assert_int_equal(mig_journal_add_part(j, "big", 64 << 20), 0);
	assert_int_equal(mig_journal_add_part(j, "big", 96 << 20), 0);
	for (int i = 0; i < 700; i++) { /* grow the map past 512 */
		char rel[32];

		snprintf(rel, sizeof(rel), "f%d", i);
		assert_int_equal(mig_journal_add_done(j, rel, (uint64_t)i, hash), 0);
	}
	mig_journal_close(j);
	/* a crash mid-append leaves a torn line: dropped, the rest trusted */
	f = fopen(path, "a");
	fputs("D 12345", f);
	fclose(f);
	assert_int_equal(mig_journal_open(path, "job A", 1, &j, err, sizeof(err)), 0);
	assert_true(mig_journal_is_done(j, "a b/c"));
	assert_true(mig_journal_is_done(j, "f699"));
	assert_false(mig_journal_is_done(j, "big"));
	assert_int_equal(mig_journal_part(j, "big"), 96 << 20);
	assert_int_equal(mig_journal_part(j, "a b/c"), 0);
	assert_int_equal(mig_journal_add_done(j, "big", 1, hash), 0); /* lands on its own line */
	mig_journal_close(j);
	assert_int_equal(mig_journal_open(path, "job A", 1, &j, err, sizeof(err)), 0);
	assert_true(mig_journal_is_done(j, "big"));
	mig_journal_close(j);
	/* another job's journal is refused, never trusted */
	assert_int_equal(mig_journal_open(path, "job B", 0, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "belongs to another job"));
	unlink(path);
}

/* Flip one byte of a record: the line's checksum catches it. */
static void test_journal_corrupt(void **state)
{
	char *path = journal_tmp(), err[512], buf[4096];
	struct mig_journal *j = NULL;
	ssize_t n;
	int fd;

	(void)state;
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), 0);
	assert_int_equal(mig_journal_add_done(j, "x", 123, "00000000000000000000000000000000"), 0);
	mig_journal_close(j);
	fd = open(path, O_RDWR);
	n = read(fd, buf, sizeof(buf));
	assert_true(n > 40);
	buf[n - 15] ^= 1;
	assert_int_equal(pwrite(fd, buf, (size_t)n, 0), n);
	close(fd);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2 is corrupt"));
	/* not a journal at all (and without a newline): refused, left alone */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(mig_journal_open(path, "job", 0, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a unifs journal"));
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);
	close(fd);
	unlink(path);
}

static void test_queue(void **state)
{
	struct mig_queue *q = NULL;
	struct mig_item *it;

	(void)state;
	assert_int_equal(mig_queue_create(2, &q), 0);
	for (int i = 0; i < 2; i++) {
		it = calloc(1, sizeof(*it));
		it->rel = strdup(i ? "b" : "a");
		mig_queue_push(q, it);
	}
	it = mig_queue_pop(q);
	assert_string_equal(it->rel, "a");
	mig_item_free(it);
	mig_queue_close(q);
	it = mig_queue_pop(q);
	assert_string_equal(it->rel, "b");
	mig_item_free(it);
	assert_null(mig_queue_pop(q));
	mig_queue_destroy(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_rules),
	    cmocka_unit_test(test_filters),
	    cmocka_unit_test(test_shard_parse),
	    cmocka_unit_test(test_shard_owns),
	    cmocka_unit_test(test_journal_roundtrip),
	    cmocka_unit_test(test_journal_corrupt),
	    cmocka_unit_test(test_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
