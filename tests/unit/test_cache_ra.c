/* test_cache_ra.c — the read-ahead detector (cache/readahead.c) on its own:
 * window growth and cap, EOF, collapse to exact reads after random seeks,
 * re-engagement, interleaved streams, out-of-order kernel requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cache/cache_i.h"

#define KIB (1024ULL)
#define MIB (1024ULL * 1024)
#define GIB (1024ULL * MIB)

static struct ufs_ra_plan ra_read(struct ufs_ra *ra, uint64_t off, uint64_t len)
{
	struct ufs_ra_plan p;

	ufs_ra_on_read(ra, off, len, &p);
	return p;
}

/* Read [from, to) in 128 KiB steps; returns the last plan with read-ahead. */
static struct ufs_ra_plan ra_sweep(struct ufs_ra *ra, uint64_t from, uint64_t to)
{
	struct ufs_ra_plan last = {0}, p;

	for (uint64_t off = from; off < to; off += 128 * KIB) {
		p = ra_read(ra, off, 128 * KIB);
		assert_false(p.random);
		if (p.pf_end > p.pf_first)
			last = p;
	}
	return last;
}

static void test_window_doubles_to_cap(void **state)
{
	struct ufs_ra ra;
	struct ufs_ra_plan p;

	(void)state;
	ufs_ra_init(&ra, MIB, 16 * MIB, GIB);
	p = ra_read(&ra, 0, 128 * KIB);
	assert_int_equal(p.pf_end, p.pf_first); /* a first read plans nothing */
	p = ra_read(&ra, 128 * KIB, 128 * KIB);
	assert_int_equal(p.pf_first, 1); /* one block ahead */
	assert_int_equal(p.pf_end, 2);
	p = ra_read(&ra, 256 * KIB, 128 * KIB);
	assert_int_equal(p.pf_end, p.pf_first); /* same block: nothing new */
	p = ra_sweep(&ra, 384 * KIB, MIB + 128 * KIB);
	assert_int_equal(p.pf_first, 2); /* crossed into block 1: window 2 MiB */
	assert_int_equal(p.pf_end, 4);
	p = ra_sweep(&ra, MIB + 128 * KIB, 2 * MIB + 128 * KIB);
	assert_int_equal(p.pf_first, 4); /* window 4 MiB, planned from the frontier */
	assert_int_equal(p.pf_end, 7);
	p = ra_sweep(&ra, 2 * MIB + 128 * KIB, 3 * MIB + 128 * KIB);
	assert_int_equal(p.pf_end, 12); /* 8 MiB */
	p = ra_sweep(&ra, 3 * MIB + 128 * KIB, 4 * MIB + 128 * KIB);
	assert_int_equal(p.pf_first, 12);
	assert_int_equal(p.pf_end, 21); /* 16 MiB: the cap */
	p = ra_read(&ra, 5 * MIB, 128 * KIB);
	assert_int_equal(p.pf_end, p.pf_first); /* 15 blocks ahead: more than half */
	p = ra_sweep(&ra, 5 * MIB + 128 * KIB, 40 * MIB + 128 * KIB);
	/* half-window batches: the last one planned at block 36, 16 MiB ahead */
	assert_int_equal(p.pf_first, 45);
	assert_int_equal(p.pf_end, 36 + 17);
}

static void test_never_past_eof(void **state)
{
	struct ufs_ra ra;
	uint64_t size = 5 * MIB + 100;

	(void)state;
	ufs_ra_init(&ra, MIB, 64 * MIB, size);
	for (uint64_t off = 0; off < size; off += 128 * KIB) {
		struct ufs_ra_plan p = ra_read(&ra, off, 128 * KIB);

		assert_true(p.pf_end <= 6);
	}
}

static void test_random_collapse_and_reengage(void **state)
{
	struct ufs_ra ra;
	uint64_t offs[] = {100 * MIB, 500 * MIB, 300 * MIB, 900 * MIB,
			   50 * MIB,  700 * MIB, 150 * MIB};
	struct ufs_ra_plan p;

	(void)state;
	ufs_ra_init(&ra, MIB, 16 * MIB, GIB);
	for (int i = 0; i < 7; i++) {
		p = ra_read(&ra, offs[i], 64 * KIB);
		assert_int_equal(p.random, i >= 6); /* 4 cursors placed, then 3 seeks */
		assert_int_equal(p.probe, i >= 1);  /* all but the first read: exact fetches */
		assert_int_equal(p.pf_end, p.pf_first);
	}
	/* gappy reads near a cursor do not bring read-ahead back */
	for (int i = 1; i <= 6; i++) {
		p = ra_read(&ra, 150 * MIB + (uint64_t)i * 512 * KIB, 64 * KIB);
		assert_true(p.random);
	}
	/* contiguous reads do, with a fresh one-block window */
	p = ra_read(&ra, 600 * MIB, 128 * KIB);
	for (int i = 1; i < 4; i++) {
		p = ra_read(&ra, 600 * MIB + (uint64_t)i * 128 * KIB, 128 * KIB);
		assert_true(p.random);
		assert_int_equal(p.pf_end, p.pf_first);
	}
	p = ra_read(&ra, 600 * MIB + 4 * 128 * KIB, 128 * KIB);
	assert_false(p.random);
	assert_int_equal(p.pf_first, 601);
	assert_int_equal(p.pf_end, 602);
}

static void test_interleaved_streams(void **state)
{
	struct ufs_ra ra;
	uint64_t base[4] = {0, 100 * MIB, 200 * MIB, 300 * MIB};
	uint64_t planned[4] = {0};

	(void)state;
	ufs_ra_init(&ra, MIB, 16 * MIB, GIB);
	for (uint64_t off = 0; off < 8 * MIB; off += 128 * KIB) {
		for (int s = 0; s < 4; s++) {
			struct ufs_ra_plan p = ra_read(&ra, base[s] + off, 128 * KIB);

			assert_false(p.random);
			if (p.pf_end > p.pf_first) {
				/* each stream's read-ahead stays ahead of it */
				assert_true(p.pf_first * MIB >= base[s] + off);
				assert_true(p.pf_first * MIB <= base[s] + off + 17 * MIB);
				planned[s] = p.pf_end;
			}
		}
	}
	for (int s = 0; s < 4; s++)
		assert_true(planned[s] * MIB >= base[s] + 16 * MIB); /* windows grew */
}

static void test_out_of_order_kernel_requests(void **state)
{
	struct ufs_ra ra;
	uint64_t order[] = {0, 2, 1, 3, 5, 4, 7, 6, 8, 10, 9, 11, 12, 14, 13, 15, 16, 17};

	(void)state;
	ufs_ra_init(&ra, MIB, 16 * MIB, GIB);
	for (int round = 0; round < 8; round++) {
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			uint64_t off = (uint64_t)round * 18 * 128 * KIB + order[i] * 128 * KIB;
			struct ufs_ra_plan p = ra_read(&ra, off, 128 * KIB);

			assert_false(p.random);
		}
	}
	assert_int_equal(ra.ncur, 1); /* one stream, never mistaken for more */
	assert_true(ra.cur[0].window == 16 * MIB);
}

static void test_small_forward_jumps_stay_sequential(void **state)
{
	struct ufs_ra ra;
	struct ufs_ra_plan p = {0};

	(void)state;
	ufs_ra_init(&ra, MIB, 16 * MIB, GIB);
	for (uint64_t off = 0; off < 64 * MIB; off += 512 * KIB) {
		p = ra_read(&ra, off, 256 * KIB); /* skips 256 KiB each time */
		assert_false(p.random);
	}
	assert_int_equal(ra.ncur, 1);
	assert_int_equal(ra.cur[0].window, 16 * MIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_doubles_to_cap),
	    cmocka_unit_test(test_never_past_eof),
	    cmocka_unit_test(test_random_collapse_and_reengage),
	    cmocka_unit_test(test_interleaved_streams),
	    cmocka_unit_test(test_out_of_order_kernel_requests),
	    cmocka_unit_test(test_small_forward_jumps_stay_sequential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
