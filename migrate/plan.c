/*
 * plan.c — the decisions of the copy engine, free of I/O: which shard
 * owns an entry, and what to do with an entry given both sides' attributes
 * (which entries a job looks at at all: filter.c).
 *
 * Rules: cp copies every source file; sync copies what is missing or
 * differs; check reports. "Differs" is the size, then (without --checksum)
 * the mtime: on a destination that keeps mtimes (file, nfs) any difference
 * of a second or more, on an object store a source newer than the object;
 * with --checksum equal sizes are settled by content (MIG_ACT_HASH).
 * check without --checksum compares sizes only (an object's mtime is its
 * upload time), and so does everything for symlinks (their mtime is not
 * carried over).
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

int mig_shard_owns(const char *rel, unsigned k, unsigned n)
{
	if (n <= 1)
		return 1;
	return XXH64(rel, strlen(rel), 0) % n == k;
}

/* Whole decimal number in [lo, hi]; -1 otherwise. */
static long plan_number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	return v;
}

static int plan_shard_auto(const char *count, long *pk, long *pn, char *err, size_t errlen)
{
	const char *id = getenv("SLURM_ARRAY_TASK_ID");

	if (id) {
		const char *c = getenv("SLURM_ARRAY_TASK_COUNT");

		*pk = plan_number(id, 0, 1000000);
		*pn = plan_number(count ? count : c, 1, 1000000);
		if (*pk < 0 || *pn < 0) {
			snprintf(err, errlen,
				 "--shard auto: bad SLURM_ARRAY_TASK_ID '%s' / task count '%s'", id,
				 count ? count
				 : c   ? c
				       : "(unset)");
			return -EINVAL;
		}
		return 0;
	}
	id = getenv("JOB_COMPLETION_INDEX");
	if (!id) {
		snprintf(err, errlen,
			 "--shard auto: neither SLURM_ARRAY_TASK_ID nor "
			 "JOB_COMPLETION_INDEX is set");
		return -EINVAL;
	}
	*pk = plan_number(id, 0, 1000000);
	*pn = plan_number(count, 1, 1000000);
	if (*pk < 0 || *pn < 0) {
		snprintf(err, errlen,
			 "--shard auto: JOB_COMPLETION_INDEX '%s' needs --shard-count N", id);
		return -EINVAL;
	}
	return 0;
}

int mig_shard_parse(const char *spec, const char *count, unsigned *pk, unsigned *pn, char *err,
		    size_t errlen)
{
	long k = -1, n = -1;

	if (strcmp(spec, "auto") == 0) {
		if (plan_shard_auto(count, &k, &n, err, errlen) != 0)
			return -EINVAL;
	} else {
		const char *slash = strchr(spec, '/');
		char kbuf[16];

		if (slash && (size_t)(slash - spec) < sizeof(kbuf)) {
			snprintf(kbuf, sizeof(kbuf), "%.*s", (int)(slash - spec), spec);
			k = plan_number(kbuf, 0, 1000000);
			n = plan_number(slash + 1, 1, 1000000);
		}
		if (k < 0 || n < 0) {
			snprintf(err, errlen, "--shard '%s': expected K/N (0 <= K < N) or auto",
				 spec);
			return -EINVAL;
		}
	}
	if (k >= n) {
		snprintf(err, errlen, "--shard %ld/%ld: K must be below N (shards are 0..%ld)", k,
			 n, n - 1);
		return -EINVAL;
	}
	*pk = (unsigned)k;
	*pn = (unsigned)n;
	return 0;
}

static int plan_differs(const struct mig_opts *o, const struct mig_item *it, int dst_posix)
{
	long long d = (long long)it->src.mtime.tv_sec - (long long)it->dst.mtime.tv_sec;

	if (it->src.size != it->dst.size)
		return 1;
	if (o->checksum || o->mode == MIG_CHECK || S_ISLNK(it->src.mode))
		return 0;
	return dst_posix ? d != 0 : d > 0;
}

enum mig_act mig_plan(const struct mig_opts *o, const struct mig_item *it, int dst_posix)
{
	if (!it->has_src)
		return MIG_ACT_EXTRA;
	if (!it->has_dst)
		return o->mode == MIG_CHECK ? MIG_ACT_MISSING : MIG_ACT_COPY;
	if (o->mode == MIG_CP)
		return MIG_ACT_COPY;
	if (plan_differs(o, it, dst_posix))
		return o->mode == MIG_CHECK ? MIG_ACT_DIFFERS : MIG_ACT_COPY;
	if (o->checksum && !S_ISLNK(it->src.mode))
		return MIG_ACT_HASH;
	return MIG_ACT_SKIP;
}
