/*
 * test_upload.c — the part-upload pipeline: every part stored once with its
 * bytes, parts run in parallel up to the cap and never beyond, the budget
 * is returned, the first error is reported by submit/wait and later parts
 * are dropped, destroy with parts queued frees everything, parts of the
 * pool's size are recycled (mapped once, charged while idle, released on
 * demand) and other sizes bypass the pool.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/budget.h"
#include "common/bufpool.h"
#include "protocols/objstore/upload.h"

struct sink {
	pthread_mutex_t lock;
	unsigned running, max_running, calls;
	unsigned char seen[64];
	uint32_t fail_index; /* fail this part with -EIO; UINT32_MAX = never */
	unsigned delay_us;
};

static int sink_part(void *arg, uint32_t index, const void *buf, size_t len)
{
	struct sink *s = arg;
	const unsigned char *b = buf;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	s->calls++;
	if (++s->running > s->max_running)
		s->max_running = s->running;
	pthread_mutex_unlock(&s->lock);
	usleep(s->delay_us);
	for (size_t i = 0; i < len; i++)
		if (b[i] != (unsigned char)index)
			rc = -EBADMSG;
	if (index == s->fail_index)
		rc = -EIO;
	pthread_mutex_lock(&s->lock);
	s->running--;
	if (index < 64)
		s->seen[index]++;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int submit_one(struct ufs_upload *u, uint32_t i, size_t cap)
{
	char *buf;
	int rc = ufs_upload_alloc(u, cap, &buf);

	assert_int_equal(rc, 0);
	memset(buf, (int)i, cap);
	return ufs_upload_submit(u, i, buf, cap, cap - i % 3);
}

static void test_parallel_and_budget(void **state)
{
	struct sink s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}, UINT32_MAX, 20000};
	struct ufs_budget *b = ufs_budget_create(6 << 10);
	struct ufs_upload *u;

	(void)state;
	assert_int_equal(ufs_upload_create(b, NULL, 4, 5000, sink_part, &s, &u), 0);
	for (uint32_t i = 0; i < 40; i++)
		assert_int_equal(submit_one(u, i, 1024), 0);
	assert_int_equal(ufs_upload_wait(u), 0);
	assert_int_equal(s.calls, 40);
	for (int i = 0; i < 40; i++)
		assert_int_equal(s.seen[i], 1);
	assert_true(s.max_running >= 2); /* parts overlap */
	assert_true(s.max_running <= 4); /* never beyond the cap */
	assert_true(ufs_budget_peak(b) <= 6 << 10);
	ufs_upload_destroy(u);
	assert_int_equal(ufs_budget_used(b), 0);
	ufs_budget_destroy(b);
}

static void test_first_error_kept(void **state)
{
	struct sink s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}, 3, 1000};
	struct ufs_upload *u;
	int rc = 0;

	(void)state;
	assert_int_equal(ufs_upload_create(NULL, NULL, 2, -1, sink_part, &s, &u), 0);
	for (uint32_t i = 0; i < 30 && rc == 0; i++)
		rc = submit_one(u, i, 256);
	assert_int_equal(ufs_upload_wait(u), -EIO);
	assert_true(rc == 0 || rc == -EIO);
	assert_true(s.calls < 30); /* later parts were dropped */
	ufs_upload_destroy(u);
}

static void test_destroy_with_queue(void **state)
{
	struct sink s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}, UINT32_MAX, 50000};
	struct ufs_budget *b = ufs_budget_create(1 << 20);
	struct ufs_upload *u;
	char *spare;

	(void)state;
	assert_int_equal(ufs_upload_create(b, NULL, 3, -1, sink_part, &s, &u), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(submit_one(u, i, 4096), 0);
	assert_int_equal(ufs_upload_alloc(u, 4096, &spare), 0);
	ufs_upload_free(u, spare, 4096);
	ufs_upload_destroy(u); /* abort: no leak (ASan), budget returned */
	assert_int_equal(ufs_budget_used(b), 0);
	ufs_budget_destroy(b);
}

static void test_pool_recycles_parts(void **state)
{
	struct sink s = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, {0}, UINT32_MAX, 1000};
	struct ufs_budget *b = ufs_budget_create(1 << 20);
	struct ufs_bufpool *pool = ufs_bufpool_create(b, 8192, 0);
	struct ufs_bufpool_stats st;
	struct ufs_upload *u;
	char *odd;

	(void)state;
	assert_int_equal(ufs_upload_create(b, pool, 2, -1, sink_part, &s, &u), 0);
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(submit_one(u, i, 8192), 0);
	assert_int_equal(ufs_upload_wait(u), 0);
	assert_int_equal(s.calls, 20);
	ufs_bufpool_get_stats(pool, &st);
	assert_true(st.mapped <= 4);		     /* at most parallel + the one filling + 1 */
	assert_int_equal(st.mapped + st.reused, 20); /* every part came from the pool */
	/* idle part buffers stay charged, and are released when asked */
	assert_int_equal(ufs_budget_used(b), st.idle_bytes);
	assert_int_equal(ufs_bufpool_release(pool, UINT64_MAX), st.idle_bytes);
	assert_int_equal(ufs_budget_used(b), 0);
	/* another size bypasses the pool and returns its charge */
	assert_int_equal(ufs_upload_alloc(u, 100, &odd), 0);
	assert_int_equal(ufs_budget_used(b), 100);
	ufs_upload_free(u, odd, 100);
	assert_int_equal(ufs_budget_used(b), 0);
	ufs_upload_destroy(u);
	ufs_bufpool_destroy(pool);
	ufs_budget_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parallel_and_budget),
	    cmocka_unit_test(test_first_error_kept),
	    cmocka_unit_test(test_destroy_with_queue),
	    cmocka_unit_test(test_pool_recycles_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
