/*
 * test_ratelimit.c — common/ratelimit.c, the token bucket: with a fake
 * clock, the exact waits (starts empty, refills at the rate, holds at most
 * one second, a request larger than the bucket goes into debt, callers are
 * paid in order, rate 0 and NULL never wait); with the real clock, several
 * threads sharing one bucket together get no more than the rate (a lower
 * bound on the time taken only).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/metrics.h"
#include "common/ratelimit.h"

/* A clock that moves only when the bucket sleeps (or the test says). */
struct fake_clock {
	double now;
	double slept; /* the last sleep asked for */
};

static double fake_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

static void fake_sleep(void *arg, double s)
{
	struct fake_clock *c = arg;

	c->slept = s;
	c->now += s;
}

static struct ufs_ratelimit *fake_bucket(struct fake_clock *c, uint64_t rate)
{
	struct ufs_ratelimit_clock clk = {fake_now, fake_sleep, c};
	struct ufs_ratelimit *rl;

	assert_int_equal(ufs_ratelimit_create(rate, &clk, &rl), 0);
	return rl;
}

static void test_waits(void **state)
{
	struct fake_clock c = {.now = 100};
	struct ufs_ratelimit *rl = fake_bucket(&c, 1 << 20);

	(void)state;
	ufs_ratelimit_take(rl, 512 << 10); /* starts empty: half a second */
	assert_float_equal(c.slept, 0.5, 1e-9);
	c.slept = 0;
	c.now += 10; /* idle: refills one second's worth, no more */
	ufs_ratelimit_take(rl, 1 << 20);
	assert_float_equal(c.slept, 0, 1e-9);
	ufs_ratelimit_take(rl, 1 << 20);
	assert_float_equal(c.slept, 1.0, 1e-9);
	ufs_ratelimit_take(rl, 4 << 20); /* larger than the bucket: served, 4 s */
	assert_float_equal(c.slept, 4.0, 1e-9);
	ufs_ratelimit_destroy(rl);
}

/* take() sleeps outside the lock: a sleep that leaves the clock where it
 * is stands for three callers asking at the same instant. */
static void still_sleep(void *arg, double s)
{
	((struct fake_clock *)arg)->slept = s;
}

/* Callers asking before the debt is paid wait behind one another. */
static void test_in_order(void **state)
{
	struct fake_clock c = {.now = 0};
	struct ufs_ratelimit_clock clk = {fake_now, still_sleep, &c};
	struct ufs_ratelimit *rl;

	(void)state;
	assert_int_equal(ufs_ratelimit_create(1000, &clk, &rl), 0);
	for (int i = 1; i <= 3; i++) {
		ufs_ratelimit_take(rl, 1000);
		assert_float_equal(c.slept, (double)i, 1e-9);
	}
	ufs_ratelimit_destroy(rl);
}

static void test_unlimited_and_rate(void **state)
{
	struct fake_clock c = {.now = 5};
	struct ufs_ratelimit *rl = fake_bucket(&c, 0);

	(void)state;
	ufs_ratelimit_take(NULL, 1 << 30);
	ufs_ratelimit_take(rl, 1 << 30);
	assert_float_equal(c.slept, 0, 1e-9);
	assert_int_equal(ufs_ratelimit_rate(rl), 0);
	ufs_ratelimit_set_rate(rl, 2000);
	assert_int_equal(ufs_ratelimit_rate(rl), 2000);
	ufs_ratelimit_take(rl, 1000);
	assert_float_equal(c.slept, 0.5, 1e-9);
	ufs_ratelimit_destroy(rl);
	ufs_ratelimit_destroy(NULL);
}

#define THREADS 4
#define PER_THREAD (256u << 10)

static void *taker(void *arg)
{
	for (unsigned i = 0; i < PER_THREAD / (16u << 10); i++)
		ufs_ratelimit_take(arg, 16u << 10);
	return NULL;
}

/* Four threads take 1 MiB in all from a 2 MiB/s bucket that starts empty:
 * at least half a second however they interleave. */
static void test_threads_share(void **state)
{
	struct ufs_ratelimit *rl;
	pthread_t t[THREADS];
	double t0;

	(void)state;
	assert_int_equal(ufs_ratelimit_create(2u << 20, NULL, &rl), 0);
	t0 = ufs_mono_now();
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, taker, rl), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_true(ufs_mono_now() - t0 >= 0.45);
	ufs_ratelimit_destroy(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_waits),
	    cmocka_unit_test(test_in_order),
	    cmocka_unit_test(test_unlimited_and_rate),
	    cmocka_unit_test(test_threads_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
