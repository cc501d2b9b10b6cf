/*
 * budget.c — the global memory budget (see budget.h).
 *
 * State: used <= limit always holds for reservations made through acquire and
 * try, except right after ufs_budget_set_limit lowered the limit below what
 * is held and the reclaim hook could not free enough: then nothing new is
 * reserved until releases bring used under the limit. The reclaim hooks are
 * called without the lock (they call release, which takes the lock), in
 * registration order, each for what is still missing, until enough is
 * freed. Waiters sleep on a condition variable signalled by release.
 *
 * Fairness: what sleeping acquirers wait for (waiting) is kept out of
 * ufs_budget_try, so takers that do not wait (the block cache filling
 * blocks) cannot take every byte a release frees while a writer waits for
 * its part buffer: they reclaim their own instead. A waiter asks the hooks
 * again every BUDGET_RECLAIM_MS while it sleeps.
 */
#include "common/budget.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUDGET_RECLAIM_MS 50 /* a waiter asks the reclaim hooks again this often */

struct ufs_budget {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	uint64_t limit;
	uint64_t used;
	uint64_t peak;
	uint64_t waiting; /* bytes sleeping acquirers wait for */
	struct budget_hook {
		ufs_reclaim_fn fn;
		void *arg;
	} hooks[UFS_BUDGET_MAX_RECLAIM];
	int n_hooks;
};

struct ufs_budget *ufs_budget_create(uint64_t limit)
{
	struct ufs_budget *b = calloc(1, sizeof(*b));
	pthread_condattr_t ca;

	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->freed, &ca);
	pthread_condattr_destroy(&ca);
	b->limit = limit;
	return b;
}

void ufs_budget_destroy(struct ufs_budget *b)
{
	if (!b)
		return;
	pthread_cond_destroy(&b->freed);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Remove the hooks registered with arg (every hook when arg is NULL) and,
 * when fn is given, fn's own registration. Lock held. */
static void budget_drop_hooks(struct ufs_budget *b, ufs_reclaim_fn fn, void *arg)
{
	int j = 0;

	for (int i = 0; i < b->n_hooks; i++) {
		struct budget_hook h = b->hooks[i];
		int drop = fn ? h.fn == fn && h.arg == arg : !arg || h.arg == arg;

		if (!drop)
			b->hooks[j++] = h;
	}
	b->n_hooks = j;
}

int ufs_budget_set_reclaim(struct ufs_budget *b, ufs_reclaim_fn fn, void *arg)
{
	int rc = 0;

	pthread_mutex_lock(&b->lock);
	budget_drop_hooks(b, fn, arg);
	if (fn && b->n_hooks == UFS_BUDGET_MAX_RECLAIM)
		rc = -ENOSPC;
	else if (fn)
		b->hooks[b->n_hooks++] = (struct budget_hook){fn, arg};
	pthread_mutex_unlock(&b->lock);
	return rc;
}

/* Take n if it fits; caller holds the lock. */
static int budget_take_locked(struct ufs_budget *b, uint64_t n)
{
	if (b->used + n > b->limit)
		return 0;
	b->used += n;
	if (b->used > b->peak)
		b->peak = b->used;
	return 1;
}

int ufs_budget_try(struct ufs_budget *b, uint64_t n)
{
	int ok;

	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	ok = b->used + n + b->waiting <= b->limit && budget_take_locked(b, n);
	pthread_mutex_unlock(&b->lock);
	return ok ? 0 : -ENOMEM;
}

/* What a reservation of n bytes lacks now. Lock held. */
static uint64_t budget_shortfall(const struct ufs_budget *b, uint64_t n)
{
	return b->used + n > b->limit ? b->used + n - b->limit : 0;
}

/* Ask the reclaim hooks, in order, for the shortfall of a reservation of n
 * bytes (lock not held); returns what they freed. */
static uint64_t budget_reclaim(struct ufs_budget *b, uint64_t n)
{
	struct budget_hook hooks[UFS_BUDGET_MAX_RECLAIM];
	uint64_t need, freed = 0;
	int nh;

	pthread_mutex_lock(&b->lock);
	nh = b->n_hooks;
	memcpy(hooks, b->hooks, sizeof(hooks));
	need = budget_shortfall(b, n);
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < nh && freed < need; i++)
		freed += hooks[i].fn(hooks[i].arg, need - freed);
	return freed;
}

static int budget_past(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Sleep until a release, BUDGET_RECLAIM_MS, or deadline (NULL: none),
 * whichever comes first. Lock held. */
static void budget_sleep(struct ufs_budget *b, const struct timespec *deadline)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += BUDGET_RECLAIM_MS * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	if (deadline && (deadline->tv_sec < t.tv_sec ||
			 (deadline->tv_sec == t.tv_sec && deadline->tv_nsec < t.tv_nsec)))
		t = *deadline;
	pthread_cond_timedwait(&b->freed, &b->lock, &t);
}

int ufs_budget_acquire(struct ufs_budget *b, uint64_t n, int wait_ms)
{
	struct timespec deadline;
	int rc = 0;

	if (!b)
		return 0;
	if (n > ufs_budget_limit(b))
		return -ENOMEM;
	if (ufs_budget_try(b, n) == 0)
		return 0;
	budget_reclaim(b, n);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (wait_ms > 0) {
		deadline.tv_sec += wait_ms / 1000;
		deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&b->lock);
	b->waiting += n;
	while (!budget_take_locked(b, n)) {
		if (wait_ms == 0 || (wait_ms > 0 && budget_past(&deadline))) {
			rc = -ENOMEM;
			break;
		}
		budget_sleep(b, wait_ms < 0 ? NULL : &deadline);
		pthread_mutex_unlock(&b->lock);
		budget_reclaim(b, n);
		pthread_mutex_lock(&b->lock);
	}
	b->waiting -= n;
	pthread_mutex_unlock(&b->lock);
	return rc;
}

uint64_t ufs_budget_set_limit(struct ufs_budget *b, uint64_t limit)
{
	pthread_mutex_lock(&b->lock);
	b->limit = limit;
	pthread_mutex_unlock(&b->lock);
	return budget_reclaim(b, 0);
}

void ufs_budget_release(struct ufs_budget *b, uint64_t n)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->used = n > b->used ? 0 : b->used - n;
	pthread_cond_broadcast(&b->freed);
	pthread_mutex_unlock(&b->lock);
}

uint64_t ufs_budget_used(const struct ufs_budget *b)
{
	uint64_t v;

	if (!b)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&b->lock);
	v = b->used;
	pthread_mutex_unlock((pthread_mutex_t *)&b->lock);
	return v;
}

uint64_t ufs_budget_limit(const struct ufs_budget *b)
{
	uint64_t v;

	if (!b)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&b->lock);
	v = b->limit;
	pthread_mutex_unlock((pthread_mutex_t *)&b->lock);
	return v;
}

uint64_t ufs_budget_peak(const struct ufs_budget *b)
{
	uint64_t v;

	if (!b)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&b->lock);
	v = b->peak;
	pthread_mutex_unlock((pthread_mutex_t *)&b->lock);
	return v;
}
