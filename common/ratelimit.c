/*
 * ratelimit.c — a token bucket shared by threads, as reservations.
 *
 * The bucket holds tokens (bytes), refilled at the rate by the monotonic
 * clock up to the burst (one second of the rate, at least
 * UFS_RATELIMIT_MIN_BURST). A caller asking for n bytes takes them at once
 * under the lock, even when that leaves the bucket in debt; it then sleeps,
 * outside the lock, for as long as the rate needs to pay the debt it is part
 * of. So a caller never waits on a lock while another sleeps, a request of
 * any size is served, and callers are paid in the order they asked (each one
 * finds the debt of those before it). The bucket starts empty: a limit holds
 * from the first byte, there is no free burst when a job or mount starts.
 *
 * The rate is also kept in an atomic so an unlimited bucket costs one load.
 */
#include "common/ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/metrics.h"

struct ufs_ratelimit {
	pthread_mutex_t lock;
	_Atomic uint64_t rate; /* bytes per second, 0 = unlimited */
	double tokens;	       /* bytes available now; negative: debt */
	double last;	       /* clock time tokens were last refilled */
	struct ufs_ratelimit_clock clock;
};

static double rl_mono_now(void *arg)
{
	(void)arg;
	return ufs_mono_now();
}

static void rl_nanosleep(void *arg, double seconds)
{
	struct timespec ts;

	(void)arg;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int ufs_ratelimit_create(uint64_t rate, const struct ufs_ratelimit_clock *clock,
			 struct ufs_ratelimit **prl)
{
	struct ufs_ratelimit *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return -ENOMEM;
	pthread_mutex_init(&rl->lock, NULL);
	rl->clock = clock ? *clock
			  : (struct ufs_ratelimit_clock){.now = rl_mono_now, .sleep = rl_nanosleep};
	atomic_init(&rl->rate, rate);
	rl->last = rl->clock.now(rl->clock.arg);
	*prl = rl;
	return 0;
}

/* Tokens added since rl->last, capped at the burst. Lock held. */
static void rl_refill_locked(struct ufs_ratelimit *rl, double now, uint64_t rate)
{
	double burst = (double)(rate > UFS_RATELIMIT_MIN_BURST ? rate : UFS_RATELIMIT_MIN_BURST);

	if (now > rl->last)
		rl->tokens += (now - rl->last) * (double)rate;
	if (rl->tokens > burst)
		rl->tokens = burst;
	rl->last = now;
}

void ufs_ratelimit_set_rate(struct ufs_ratelimit *rl, uint64_t rate)
{
	pthread_mutex_lock(&rl->lock);
	rl_refill_locked(rl, rl->clock.now(rl->clock.arg), atomic_load(&rl->rate));
	atomic_store(&rl->rate, rate);
	pthread_mutex_unlock(&rl->lock);
}

uint64_t ufs_ratelimit_rate(const struct ufs_ratelimit *rl)
{
	return atomic_load(&rl->rate);
}

void ufs_ratelimit_take(struct ufs_ratelimit *rl, uint64_t n)
{
	uint64_t rate;
	double wait = 0;

	if (!rl || n == 0 || (rate = atomic_load(&rl->rate)) == 0)
		return;
	pthread_mutex_lock(&rl->lock);
	rl_refill_locked(rl, rl->clock.now(rl->clock.arg), rate);
	rl->tokens -= (double)n;
	if (rl->tokens < 0)
		wait = -rl->tokens / (double)rate;
	pthread_mutex_unlock(&rl->lock);
	if (wait > 0)
		rl->clock.sleep(rl->clock.arg, wait);
}

void ufs_ratelimit_destroy(struct ufs_ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}
