/*
 * metrics.h — the pieces of the Prometheus exposition that do not depend on
 * a mount: latency histograms updated lock-free on the hot path, the
 * `metrics = HOST:PORT` address syntax, and writers for the text format
 * (version 0.0.4: "# HELP", "# TYPE", name{label="v"} value).
 *
 * A histogram keeps one non-cumulative atomic counter per bucket plus the
 * sum in nanoseconds; the writer makes the buckets cumulative, so an
 * observation costs two relaxed atomic adds and no lock. Bucket bounds are
 * fixed (1 ms .. 60 s, see ufs_hist_bounds) for every histogram, which keeps
 * dashboards simple and histogram_quantile() valid across mounts.
 */
#ifndef UFS_METRICS_H
#define UFS_METRICS_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

#define UFS_HIST_NB 15 /* 14 finite bounds + the +Inf bucket */

/* Upper bounds in seconds of the finite buckets, ascending. */
extern const double ufs_hist_bounds[UFS_HIST_NB - 1];

struct ufs_hist {
	atomic_uint_least64_t bucket[UFS_HIST_NB]; /* non-cumulative counts */
	atomic_uint_least64_t sum_ns;
};

/* Count one observation of seconds (negative counts as 0). Thread-safe. */
void ufs_hist_observe(struct ufs_hist *h, double seconds);

/* Number of observations in h. */
uint64_t ufs_hist_count(const struct ufs_hist *h);

/* Monotonic clock in seconds (for timing an observation). */
double ufs_mono_now(void);

/*
 * Parse "HOST:PORT" (HOST an IPv4 address or "localhost", PORT 1..65535)
 * into *psa. 0, or -EINVAL with "metrics: expected HOST:PORT such as
 * 127.0.0.1:9464, got 'x'" in err.
 */
int ufs_metrics_parse_addr(const char *s, struct sockaddr_in *psa, char *err, size_t errlen);

/* Write the "# HELP" and "# TYPE" lines of a metric family. type is
 * "counter", "gauge" or "histogram". */
void ufs_prom_family(struct ufs_strbuf *b, const char *name, const char *type, const char *help);

/* Append v as a label value: \, " and newline escaped as the format wants. */
void ufs_prom_label(struct ufs_strbuf *b, const char *v);

/* Write the _bucket/_sum/_count samples of h. labels is the inside of the
 * braces without them ("mount=\"/x\",op=\"read\""), "" for none. */
void ufs_prom_hist(struct ufs_strbuf *b, const char *name, const char *labels,
		   const struct ufs_hist *h);

#endif
