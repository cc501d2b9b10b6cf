/* test_cache_bufpool.c — the block buffer pool (cache/bufpool.c) on its own:
 * recycling (LIFO, contents kept: no fresh page), the budget charge of idle
 * buffers, release for reclaim, the idle trim (driven by an explicit clock,
 * so nothing here depends on timing), a budget that shrinks, and a fresh
 * buffer faulted in at once (populate). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_i.h"
#include "common/budget.h"

#define BS (2ULL << 20)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Charge and map one buffer, as the cache does for fresh memory. */
static char *map_one(struct ufs_budget *b, struct ufs_bufpool *p)
{
	char *buf;

	assert_int_equal(ufs_budget_try(b, BS), 0);
	buf = ufs_bufpool_map(p);
	assert_non_null(buf);
	memset(buf, 0x5a, BS);
	return buf;
}

static struct ufs_bufpool_stats pstats(struct ufs_bufpool *p)
{
	struct ufs_bufpool_stats st;

	ufs_bufpool_get_stats(p, &st);
	return st;
}

static void test_recycle_lifo_keeps_charge(void **state)
{
	struct ufs_budget *b = ufs_budget_create(4 * BS);
	struct ufs_bufpool *p = ufs_bufpool_create(b, BS, 3600);
	char *x, *y;

	(void)state;
	assert_null(ufs_bufpool_take(p)); /* empty pool: the caller maps */
	x = map_one(b, p);
	y = map_one(b, p);
	ufs_bufpool_put(p, x);
	ufs_bufpool_put(p, y);
	assert_int_equal(ufs_budget_used(b), 2 * BS); /* idle buffers stay charged */
	assert_int_equal(pstats(p).idle_bytes, 2 * BS);
	assert_ptr_equal(ufs_bufpool_take(p), y);	  /* warmest first */
	assert_int_equal((unsigned char)y[BS - 1], 0x5a); /* same memory, not a new page */
	assert_ptr_equal(ufs_bufpool_take(p), x);
	assert_null(ufs_bufpool_take(p));
	assert_int_equal(pstats(p).mapped, 2);
	assert_int_equal(pstats(p).reused, 2);
	ufs_bufpool_unmap(p, x);
	ufs_bufpool_put(p, y);
	assert_int_equal(ufs_budget_used(b), BS);
	ufs_bufpool_destroy(p); /* unmaps y and returns its charge */
	assert_int_equal(ufs_budget_used(b), 0);
	ufs_budget_destroy(b);
}

static void test_release_for_reclaim(void **state)
{
	struct ufs_budget *b = ufs_budget_create(4 * BS);
	struct ufs_bufpool *p = ufs_bufpool_create(b, BS, 0);

	(void)state;
	for (int i = 0; i < 3; i++)
		ufs_bufpool_put(p, map_one(b, p));
	assert_int_equal(ufs_bufpool_release(p, BS + 1), 2 * BS); /* whole buffers */
	assert_int_equal(ufs_budget_used(b), BS);
	assert_int_equal(ufs_bufpool_release(p, 10 * BS), BS); /* what is left */
	assert_int_equal(ufs_bufpool_release(p, BS), 0);
	assert_int_equal(ufs_budget_used(b), 0);
	assert_int_equal(pstats(p).released, 3);
	ufs_bufpool_destroy(p);
	ufs_budget_destroy(b);
}

static void test_idle_trim(void **state)
{
	struct ufs_budget *b = ufs_budget_create(4 * BS);
	struct ufs_bufpool *p = ufs_bufpool_create(b, BS, 3600);
	uint64_t t0;

	(void)state;
	ufs_bufpool_put(p, map_one(b, p));
	ufs_bufpool_put(p, map_one(b, p));
	t0 = now_ms();
	assert_int_equal(ufs_bufpool_trim(p, t0), 0); /* used just now */
	assert_int_equal(ufs_bufpool_trim(p, t0 + 3599 * 1000ULL), 0);
	assert_int_equal(ufs_bufpool_trim(p, t0 + 3601 * 1000ULL), 2 * BS);
	assert_int_equal(ufs_budget_used(b), 0);
	assert_int_equal(pstats(p).idle_bytes, 0);
	ufs_bufpool_destroy(p);
	ufs_budget_destroy(b);
}

static uint64_t reclaim_pool(void *arg, uint64_t need)
{
	return ufs_bufpool_release(arg, need);
}

static void test_budget_shrink_releases_idle(void **state)
{
	struct ufs_budget *b = ufs_budget_create(4 * BS);
	struct ufs_bufpool *p = ufs_bufpool_create(b, BS, 0);

	(void)state;
	ufs_budget_set_reclaim(b, reclaim_pool, p);
	for (int i = 0; i < 4; i++)
		ufs_bufpool_put(p, map_one(b, p));
	assert_int_equal(ufs_budget_set_limit(b, 2 * BS), 2 * BS);
	assert_int_equal(ufs_budget_used(b), 2 * BS);
	assert_int_equal(pstats(p).idle_bytes, 2 * BS);
	assert_int_equal(ufs_budget_try(b, 1), -ENOMEM); /* the new limit holds */
	ufs_budget_set_reclaim(b, NULL, NULL);
	ufs_bufpool_destroy(p);
	ufs_budget_destroy(b);
}

/* Pages of buf (BS bytes) resident in memory. */
static size_t resident_pages(const char *buf)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = BS / page, in = 0;
	unsigned char vec[BS / 4096];

	assert_true(n <= sizeof(vec));
	assert_int_equal(mincore((void *)buf, BS, vec), 0);
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	return in;
}

static void test_populate_faults_in_whole_buffer(void **state)
{
	struct ufs_budget *b = ufs_budget_create(2 * BS);
	struct ufs_bufpool *p = ufs_bufpool_create(b, BS, 0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *buf;

	(void)state;
	assert_int_equal(ufs_budget_try(b, BS), 0);
	buf = ufs_bufpool_map(p);
	assert_non_null(buf);
	assert_int_equal(resident_pages(buf), 0); /* mapped, nothing touched yet */
	ufs_bufpool_populate(p, buf);
	if (madvise(buf, page, 23 /* MADV_POPULATE_WRITE */) == 0) /* the kernel has it */
		assert_int_equal(resident_pages(buf), BS / page);
	buf[BS - 1] = 1; /* writable either way */
	ufs_bufpool_put(p, buf);
	assert_ptr_equal(ufs_bufpool_take(p), buf);
	ufs_bufpool_put(p, buf);
	ufs_bufpool_destroy(p);
	ufs_budget_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recycle_lifo_keeps_charge),
	    cmocka_unit_test(test_release_for_reclaim),
	    cmocka_unit_test(test_idle_trim),
	    cmocka_unit_test(test_budget_shrink_releases_idle),
	    cmocka_unit_test(test_populate_faults_in_whole_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
