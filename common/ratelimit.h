/*
 * ratelimit.h — one token bucket shared by many threads: a byte rate
 * (--bwlimit of cp/sync, the bwlimit key of a mount). A caller asks for n
 * bytes and sleeps until the bucket has granted them; every thread that
 * shares the bucket shares the rate.
 */
#ifndef UFS_RATELIMIT_H
#define UFS_RATELIMIT_H

#include <stdint.h>

struct ufs_ratelimit;

/* The clock a bucket reads and sleeps by: now() in seconds (monotonic) and
 * sleep(seconds); arg is handed to both. Tests pass a fake one. */
struct ufs_ratelimit_clock {
	double (*now)(void *arg);
	void (*sleep)(void *arg, double seconds);
	void *arg;
};

/* New bucket of rate bytes per second (0: unlimited), empty at first, that
 * holds at most one second of the rate (at least UFS_RATELIMIT_MIN_BURST
 * bytes); clock NULL: the monotonic clock and nanosleep. 0 or -ENOMEM. */
int ufs_ratelimit_create(uint64_t rate, const struct ufs_ratelimit_clock *clock,
			 struct ufs_ratelimit **prl);

#define UFS_RATELIMIT_MIN_BURST (64u << 10)

/* Change the rate (0: unlimited); callers already asleep keep their turn.
 * Thread-safe. */
void ufs_ratelimit_set_rate(struct ufs_ratelimit *rl, uint64_t rate);

/* The rate, 0 when unlimited. */
uint64_t ufs_ratelimit_rate(const struct ufs_ratelimit *rl);

/* Take n bytes: returns at once while the bucket holds them, else sleeps
 * until the rate has paid for them (a request larger than the bucket takes
 * its turn and leaves the bucket in debt, so any n is served in n/rate
 * seconds). Callers are served in the order they asked. NULL or an
 * unlimited bucket: returns at once. Thread-safe. */
void ufs_ratelimit_take(struct ufs_ratelimit *rl, uint64_t n);

/* Free the bucket (no caller may be inside take). NULL is a no-op. */
void ufs_ratelimit_destroy(struct ufs_ratelimit *rl);

#endif
