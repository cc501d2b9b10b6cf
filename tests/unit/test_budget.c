/* test_budget.c — the shared memory budget: limits, reclaim hook, waiting, peak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "common/budget.h"

struct reclaimer {
	struct ufs_budget *b;
	uint64_t held; /* bytes the fake cache could give back */
	int calls;
};

static uint64_t fake_reclaim(void *arg, uint64_t need)
{
	struct reclaimer *r = arg;
	uint64_t give = need < r->held ? need : r->held;

	r->calls++;
	r->held -= give;
	ufs_budget_release(r->b, give);
	return give;
}

static void test_limit_and_peak(void **state)
{
	struct ufs_budget *b = ufs_budget_create(100);

	(void)state;
	assert_int_equal(ufs_budget_try(b, 60), 0);
	assert_int_equal(ufs_budget_try(b, 41), -ENOMEM);
	assert_int_equal(ufs_budget_acquire(b, 40, 0), 0);
	assert_int_equal(ufs_budget_used(b), 100);
	assert_int_equal(ufs_budget_acquire(b, 1, 10), -ENOMEM);
	ufs_budget_release(b, 70);
	assert_int_equal(ufs_budget_used(b), 30);
	assert_int_equal(ufs_budget_peak(b), 100);
	assert_int_equal(ufs_budget_acquire(b, 101, -1), -ENOMEM); /* never fits */
	ufs_budget_destroy(b);
}

static void test_reclaim_hook(void **state)
{
	struct ufs_budget *b = ufs_budget_create(100);
	struct reclaimer r = {.b = b, .held = 80};

	(void)state;
	ufs_budget_set_reclaim(b, fake_reclaim, &r);
	assert_int_equal(ufs_budget_try(b, 90), 0); /* 80 of it "cached" */
	assert_int_equal(ufs_budget_acquire(b, 50, 0), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.held, 40); /* gave back exactly the 40 needed */
	assert_true(ufs_budget_peak(b) <= 100);
	ufs_budget_destroy(b);
}

/* Hooks run in registration order, each for what is still missing; a hook
 * is removed by its arg; past the maximum, registration is refused. */
static void test_reclaim_hooks_in_order(void **state)
{
	struct ufs_budget *b = ufs_budget_create(100);
	struct reclaimer first = {.b = b, .held = 30}, second = {.b = b, .held = 50};

	(void)state;
	assert_int_equal(ufs_budget_set_reclaim(b, fake_reclaim, &first), 0);
	assert_int_equal(ufs_budget_set_reclaim(b, fake_reclaim, &second), 0);
	assert_int_equal(ufs_budget_try(b, 100), 0); /* 80 of it held by the two */
	assert_int_equal(ufs_budget_acquire(b, 20, 0), 0);
	assert_int_equal(first.calls, 1);
	assert_int_equal(second.calls, 0); /* the first gave enough */
	assert_int_equal(ufs_budget_acquire(b, 40, 0), 0);
	assert_int_equal(first.held, 0);   /* its last 10 ... */
	assert_int_equal(second.held, 20); /* ... then 30 from the second */
	assert_int_equal(second.calls, 1);
	assert_int_equal(ufs_budget_set_reclaim(b, NULL, &second), 0);
	assert_int_equal(ufs_budget_acquire(b, 10, 0), -ENOMEM); /* no hook gives */
	assert_int_equal(second.calls, 1);
	assert_true(ufs_budget_peak(b) <= 100);
	for (int i = 0; i < UFS_BUDGET_MAX_RECLAIM - 1; i++)
		assert_int_equal(ufs_budget_set_reclaim(b, fake_reclaim, (char *)&second + i), 0);
	assert_int_equal(ufs_budget_set_reclaim(b, fake_reclaim, &second.held), -ENOSPC);
	ufs_budget_destroy(b);
}

static void *release_later(void *arg)
{
	usleep(50 * 1000);
	ufs_budget_release(arg, 50);
	return NULL;
}

static void test_wait_for_release(void **state)
{
	struct ufs_budget *b = ufs_budget_create(100);
	pthread_t t;

	(void)state;
	assert_int_equal(ufs_budget_try(b, 100), 0);
	pthread_create(&t, NULL, release_later, b);
	assert_int_equal(ufs_budget_acquire(b, 50, 5000), 0);
	pthread_join(t, NULL);
	assert_int_equal(ufs_budget_used(b), 100);
	ufs_budget_destroy(b);
}

/* A taker that never waits, as the block cache fills blocks: take 10 when it
 * fits, else give one 10 back (evict) and try again, until told to stop. */
struct filler {
	struct ufs_budget *b;
	atomic_int stop;
};

static void *fill_loop(void *arg)
{
	struct filler *f = arg;
	uint64_t held = 0;

	while (!atomic_load(&f->stop)) {
		if (ufs_budget_try(f->b, 10) == 0)
			held += 10;
		else if (held) {
			ufs_budget_release(f->b, 10);
			held -= 10;
		}
	}
	ufs_budget_release(f->b, held);
	return NULL;
}

/* A waiter (an upload part buffer) gets its bytes although the filler takes
 * back everything it evicts at once: waiting bytes are kept from try. */
static void test_waiter_not_starved(void **state)
{
	struct filler f = {.b = ufs_budget_create(100)};
	pthread_t t;

	(void)state;
	pthread_create(&t, NULL, fill_loop, &f);
	while (ufs_budget_used(f.b) < 100)
		usleep(1000);
	assert_int_equal(ufs_budget_acquire(f.b, 50, 3000), 0);
	atomic_store(&f.stop, 1);
	pthread_join(t, NULL);
	assert_int_equal(ufs_budget_used(f.b), 50);
	ufs_budget_destroy(f.b);
}

static void test_null_budget_is_unbounded(void **state)
{
	(void)state;
	assert_int_equal(ufs_budget_acquire(NULL, UINT64_MAX, 0), 0);
	assert_int_equal(ufs_budget_try(NULL, 1), 0);
	ufs_budget_release(NULL, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_and_peak),
	    cmocka_unit_test(test_reclaim_hook),
	    cmocka_unit_test(test_reclaim_hooks_in_order),
	    cmocka_unit_test(test_wait_for_release),
	    cmocka_unit_test(test_waiter_not_starved),
	    cmocka_unit_test(test_null_budget_is_unbounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
