/* test_stats_fields.c — the field table behind `unifs stats` and the
 * Prometheus endpoint covers every counter of the structs it reads, each
 * once, and keeps the two orders the outputs have always had. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fs/service/stats_fields.h"

/* Keyed rows of sec, walked in struct order: count them, check the walk
 * goes up through the struct, and that the first one is at begin. */
static size_t walk(enum fs_stat_section sec, size_t begin, size_t size)
{
	size_t n = 0, last = 0;

	for (const struct fs_stat_field *f = fs_stat_next(sec, NULL); f; f = fs_stat_next(sec, f)) {
		assert_true(f->off >= begin && f->off < begin + size);
		assert_true(n == 0 ? f->off == begin : f->off > last);
		last = f->off;
		n++;
	}
	return n;
}

static void test_every_field_once(void **state)
{
	(void)state;
	assert_int_equal(walk(FS_STAT_CACHE, offsetof(struct fs_stat_snap, cache),
			      sizeof(struct ufs_cache_stats)),
			 sizeof(struct ufs_cache_stats) / sizeof(uint64_t));
	assert_int_equal(
	    walk(FS_STAT_META, offsetof(struct fs_stat_snap, meta), sizeof(struct ufs_meta_stats)),
	    sizeof(struct ufs_meta_stats) / sizeof(uint64_t));
	assert_int_equal(walk(FS_STAT_DIRECT, offsetof(struct fs_stat_snap, direct),
			      sizeof(struct fs_direct_stats)),
			 sizeof(struct fs_direct_stats) / sizeof(uint64_t));
	assert_int_equal(walk(FS_STAT_MEMORY, offsetof(struct fs_stat_snap, memory), 3 * 8), 3);
}

static void test_struct_order_and_values(void **state)
{
	struct fs_stat_snap s;
	const struct fs_stat_field *f;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.cache.fetched_bytes = 42;
	f = fs_stat_next(FS_STAT_CACHE, NULL);
	assert_string_equal(f->name, "mem_hits");
	while (f && strcmp(f->name, "prefetch_wasted_bytes") != 0)
		f = fs_stat_next(FS_STAT_CACHE, f);
	assert_non_null(f);
	f = fs_stat_next(FS_STAT_CACHE, f); /* `unifs stats`: after the prefetch counters */
	assert_string_equal(f->name, "fetched_bytes");
	assert_int_equal(fs_stat_value(&s, f), 42);
}

static void test_prometheus_families(void **state)
{
	size_t fetched = 0, prefetch = 0;

	(void)state;
	for (size_t i = 0; i < fs_stat_nfields; i++) {
		const struct fs_stat_field *f = &fs_stat_fields[i];

		assert_non_null(f->help);
		if (!f->prom)
			continue;
		if (!strcmp(f->prom, "unifs_cache_fetched_bytes_total"))
			fetched = i;
		if (!strcmp(f->prom, "unifs_prefetch_bytes_total"))
			prefetch = i;
		/* a family's rows stand together and agree on type and help */
		size_t end = i + 1;

		while (end < fs_stat_nfields && fs_stat_fields[end].prom &&
		       !strcmp(fs_stat_fields[end].prom, f->prom)) {
			assert_int_equal(fs_stat_fields[end].type, f->type);
			assert_string_equal(fs_stat_fields[end].help, f->help);
			assert_non_null(f->label);
			end++;
		}
		for (size_t j = end; j < fs_stat_nfields; j++)
			if (fs_stat_fields[j].prom && !strcmp(fs_stat_fields[j].prom, f->prom))
				fail_msg("%s: rows %zu and %zu apart", f->prom, i, j);
	}
	/* the metrics page: fetched bytes before the read-ahead counters */
	assert_true(fetched && prefetch && fetched < prefetch);
	assert_string_equal(fs_stat_type_name(FS_STAT_GAUGE), "gauge");
	assert_string_equal(fs_stat_type_name(FS_STAT_COUNTER), "counter");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_field_once),
	    cmocka_unit_test(test_struct_order_and_values),
	    cmocka_unit_test(test_prometheus_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
