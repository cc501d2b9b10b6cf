/* test_pool.c — the worker pool: every job runs once, FIFO on one thread,
 * parallel on several, threads started on demand up to the bound, destroy
 * refusing new jobs and cancelling or draining the queue, batches waited
 * for as a whole or down to a bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/pool.h"

/* A gate that jobs wait at until the test opens it. */
struct gate {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int open;
	unsigned waiting; /* jobs at the gate */
};

static void gate_init(struct gate *g)
{
	pthread_mutex_init(&g->m, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->open = 0;
	g->waiting = 0;
}

static void gate_fini(struct gate *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->m);
}

static void gate_pass(struct gate *g)
{
	pthread_mutex_lock(&g->m);
	g->waiting++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->m);
	g->waiting--;
	pthread_mutex_unlock(&g->m);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->m);
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->m);
}

/* Wait until n jobs stand at the gate. */
static void gate_await(struct gate *g, unsigned n)
{
	pthread_mutex_lock(&g->m);
	while (g->waiting < n)
		pthread_cond_wait(&g->cv, &g->m);
	pthread_mutex_unlock(&g->m);
}

struct task {
	struct ufs_job job;
	struct gate *gate; /* NULL: do not wait */
	atomic_int *order; /* where the next finished task writes its index */
	int index;
	atomic_int ran, cancelled;
	int finished_as; /* its place in the order of completion */
};

static void task_run(struct ufs_job *j, int cancelled)
{
	struct task *t = (struct task *)j;

	if (cancelled) {
		atomic_fetch_add(&t->cancelled, 1);
		return;
	}
	if (t->gate)
		gate_pass(t->gate);
	if (t->order)
		t->finished_as = atomic_fetch_add(t->order, 1);
	atomic_fetch_add(&t->ran, 1);
}

static struct task *tasks(int n, struct gate *g, atomic_int *order)
{
	struct task *v = calloc((size_t)n, sizeof(*v));

	assert_non_null(v);
	for (int i = 0; i < n; i++) {
		v[i].job.run = task_run;
		v[i].gate = g;
		v[i].order = order;
		v[i].index = i;
	}
	return v;
}

static void test_every_job_runs_once(void **state)
{
	enum { N = 2000 };
	struct ufs_pool *p = ufs_pool_create(4, "test-pool", 0);
	struct task *v = tasks(N, NULL, NULL);
	struct ufs_pool_batch b;

	(void)state;
	assert_non_null(p);
	assert_int_equal(ufs_pool_threads(p), 4);
	ufs_pool_batch_init(&b);
	for (int i = 0; i < N; i++)
		assert_int_equal(ufs_pool_submit_batch(p, &b, &v[i].job), 0);
	ufs_pool_batch_wait(&b, 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&v[i].ran), 1);
		assert_int_equal(atomic_load(&v[i].cancelled), 0);
	}
	ufs_pool_batch_fini(&b);
	ufs_pool_destroy(p);
	free(v);
}

static void test_one_thread_runs_in_order(void **state)
{
	enum { N = 100 };
	struct ufs_pool *p = ufs_pool_create(1, NULL, 0);
	atomic_int order = 0;
	struct task *v = tasks(N, NULL, &order);
	struct ufs_pool_batch b;

	(void)state;
	ufs_pool_batch_init(&b);
	for (int i = 0; i < N; i++)
		assert_int_equal(ufs_pool_submit_batch(p, &b, &v[i].job), 0);
	ufs_pool_batch_wait(&b, 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(v[i].finished_as, i);
	ufs_pool_batch_fini(&b);
	ufs_pool_destroy(p);
	free(v);
}

static void test_jobs_run_in_parallel(void **state)
{
	struct ufs_pool *p = ufs_pool_create(3, "test-par", 0);
	struct gate g;
	struct task *v;
	struct ufs_pool_batch b;

	(void)state;
	gate_init(&g);
	v = tasks(3, &g, NULL);
	ufs_pool_batch_init(&b);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ufs_pool_submit_batch(p, &b, &v[i].job), 0);
	gate_await(&g, 3); /* three jobs at once: one on each thread */
	gate_open(&g);
	ufs_pool_batch_wait(&b, 0);
	ufs_pool_batch_fini(&b);
	ufs_pool_destroy(p);
	gate_fini(&g);
	free(v);
}

static void test_lazy_pool_starts_threads_on_demand(void **state)
{
	struct ufs_pool *p = ufs_pool_create(3, "test-lazy", UFS_POOL_LAZY);
	struct gate g;
	struct task *v;
	struct ufs_pool_batch b;

	(void)state;
	assert_non_null(p);
	assert_int_equal(ufs_pool_threads(p), 0);
	gate_init(&g);
	v = tasks(5, &g, NULL);
	ufs_pool_batch_init(&b);
	assert_int_equal(ufs_pool_submit_batch(p, &b, &v[0].job), 0);
	assert_int_equal(ufs_pool_threads(p), 1);
	gate_await(&g, 1);
	for (int i = 1; i < 5; i++)
		assert_int_equal(ufs_pool_submit_batch(p, &b, &v[i].job), 0);
	assert_int_equal(ufs_pool_threads(p), 3); /* never beyond the bound */
	gate_await(&g, 3);
	gate_open(&g);
	ufs_pool_batch_wait(&b, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(atomic_load(&v[i].ran), 1);
	/* an idle worker takes the next job: no new thread */
	assert_int_equal(ufs_pool_submit_batch(p, &b, &v[0].job), 0);
	ufs_pool_batch_wait(&b, 0);
	assert_int_equal(ufs_pool_threads(p), 3);
	ufs_pool_batch_fini(&b);
	ufs_pool_destroy(p);
	gate_fini(&g);
	free(v);
}

static void *destroyer_main(void *arg)
{
	ufs_pool_destroy(arg);
	return NULL;
}

/* Submit probes (in batch b) until the pool refuses one because destroy
 * began; returns how many it took (queued behind a job held at a gate). */
static int submit_until_refused(struct ufs_pool *p, struct ufs_pool_batch *b, struct task *probes,
				int max)
{
	for (int i = 0; i < max; i++) {
		int rc = ufs_pool_submit_batch(p, b, &probes[i].job);

		if (rc == -ESHUTDOWN)
			return i;
		assert_int_equal(rc, 0);
		usleep(1000);
	}
	fail_msg("destroy never stopped the pool");
	return -1;
}

/* One worker held at a gate by the first of 4 jobs; destroy (on another
 * thread) begins, refuses new jobs, and waits for the held job: then the
 * gate opens. The queued jobs are run or cancelled as flags say. */
static void destroy_with_queue(unsigned flags, int expect_ran)
{
	enum { PROBES = 5000 };
	struct ufs_pool *p = ufs_pool_create(1, NULL, flags);
	struct gate g;
	struct task *v, *probes = tasks(PROBES, NULL, NULL);
	struct ufs_pool_batch b;
	pthread_t destroyer;
	int taken;

	gate_init(&g);
	v = tasks(4, &g, NULL);
	ufs_pool_batch_init(&b);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ufs_pool_submit_batch(p, &b, &v[i].job), 0);
	gate_await(&g, 1); /* the first runs, three are queued */
	assert_int_equal(pthread_create(&destroyer, NULL, destroyer_main, p), 0);
	taken = submit_until_refused(p, &b, probes, PROBES);
	assert_int_equal(b.pending, 4 + taken); /* the refused one left the batch */
	gate_open(&g);
	pthread_join(destroyer, NULL);
	assert_int_equal(b.pending, 0); /* cancelled jobs leave it too */
	assert_int_equal(atomic_load(&v[0].ran), 1);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(atomic_load(&v[i].ran), expect_ran);
		assert_int_equal(atomic_load(&v[i].cancelled), !expect_ran);
	}
	for (int i = 0; i < taken; i++)
		assert_int_equal(atomic_load(&probes[i].ran), expect_ran);
	ufs_pool_batch_fini(&b);
	gate_fini(&g);
	free(probes);
	free(v);
}

static void test_destroy_cancels_queued_jobs(void **state)
{
	(void)state;
	destroy_with_queue(0, 0);
}

static void test_destroy_drains_queued_jobs(void **state)
{
	(void)state;
	destroy_with_queue(UFS_POOL_DRAIN, 1);
}

static void test_batch_wait_down_to_a_bound(void **state)
{
	struct ufs_pool *p = ufs_pool_create(2, NULL, 0);
	struct gate g;
	struct task *v;
	struct ufs_pool_batch b;

	(void)state;
	gate_init(&g);
	v = tasks(4, &g, NULL);
	ufs_pool_batch_init(&b);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ufs_pool_submit_batch(p, &b, &v[i].job), 0);
	gate_await(&g, 2);
	ufs_pool_batch_wait(&b, 4); /* already at most 4 pending */
	assert_int_equal(b.pending, 4);
	gate_open(&g);
	ufs_pool_batch_wait(&b, 1);
	ufs_pool_batch_wait(&b, 0);
	assert_int_equal(b.pending, 0);
	ufs_pool_batch_fini(&b);
	ufs_pool_destroy(p);
	gate_fini(&g);
	free(v);
}

static void test_no_threads_runs_jobs_cancelled_at_destroy(void **state)
{
	struct ufs_pool *p = ufs_pool_create(0, NULL, 0);
	struct task *v = tasks(2, NULL, NULL);

	(void)state;
	assert_non_null(p);
	assert_int_equal(ufs_pool_submit(p, &v[0].job), 0);
	assert_int_equal(ufs_pool_submit(p, &v[1].job), 0);
	ufs_pool_destroy(p);
	assert_int_equal(atomic_load(&v[0].cancelled), 1);
	assert_int_equal(atomic_load(&v[1].cancelled), 1);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_job_runs_once),
	    cmocka_unit_test(test_one_thread_runs_in_order),
	    cmocka_unit_test(test_jobs_run_in_parallel),
	    cmocka_unit_test(test_lazy_pool_starts_threads_on_demand),
	    cmocka_unit_test(test_destroy_cancels_queued_jobs),
	    cmocka_unit_test(test_destroy_drains_queued_jobs),
	    cmocka_unit_test(test_batch_wait_down_to_a_bound),
	    cmocka_unit_test(test_no_threads_runs_jobs_cancelled_at_destroy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
