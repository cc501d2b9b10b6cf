/*
 * migrate.h — the migration engine as the commands use it (migrate/; the
 * layer between the command front ends in mount-helpers/ and fs/): open a
 * TARGET without mounting (a URL, or a path in a config's namespace), stream
 * one object in order through parallel ranged reads, and run a whole
 * cp/sync/check job. Its pieces and their private interface: migrate_i.h.
 *
 * Every function that talks to the user prints "unifs: CMD: ..." lines
 * (common/cli.h) and returns an exit status (CLI_OK, CLI_FAIL, CLI_USAGE)
 * where it says so.
 */
#ifndef UFS_MIGRATE_H
#define UFS_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/cli.h"
#include "protocols/backend.h"

struct ufs_ns;

/* ---- target.c ---- */

/*
 * A TARGET (what ls/stat/cat browse, cp/sync/check copy between): a URL,
 * or a path in a config's namespace.
 * be serves the target at the backend-relative path rel; in the namespace
 * form a synthetic directory (the root, "/data" above "/data/nfs") has
 * synthetic set and be may be NULL (no mount covers it).
 */
struct mig_target {
	const char *cmd;	/* "ls", for messages */
	const char *name;	/* the target as the user typed it */
	struct ufs_config *cfg; /* owned */
	struct ufs_ns *ns;	/* owned; namespace form only */
	struct ufs_backend *be; /* owned; NULL for an uncovered synthetic dir */
	char *rel;		/* owned backend-relative path */
	char *nspath;		/* owned normalised namespace path; NULL for URLs */
	int synthetic;		/* nspath is a synthetic directory */
	unsigned flags;		/* bit i: option letter i of the command's flags seen */
	const char *region;	/* --region: the region key of a URL-form target, or NULL */
};

/* Open the target: config == NULL: name is a URL; else name is a path in
 * the namespace of the config file. Prints the reason and returns CLI_FAIL
 * on error; CLI_OK when t is ready (close with mig_target_close). */
int mig_target_open(struct mig_target *t, const char *config, const char *name);

/* Free what t owns. */
void mig_target_close(struct mig_target *t);

/* Attributes of the target itself (synthetic dirs get 0555 dir attrs). */
int mig_target_getattr(struct mig_target *t, struct ufs_attr *pattr);

/* Print why an operation on t failed and return CLI_FAIL: the backend's
 * check message when its root is the problem ("bucket 'x' does not exist"),
 * else "unifs: CMD: TARGET: <strerror(rc)>" with the backend's last error
 * appended when it says more. */
int mig_target_fail(struct mig_target *t, int rc);

/* ---- stream.c ---- */

/* The sink of mig_stream_object: buf[0..len) is the object's bytes at off,
 * handed over in order. 0 to go on, or -errno to stop the stream. */
typedef int (*mig_stream_sink)(void *arg, const void *buf, size_t len, uint64_t off);

struct mig_stream_opts {
	size_t chunk;	   /* bytes per ranged read (> 0) */
	unsigned inflight; /* reads in flight (1..64) */
};

/*
 * Read obj (pinned: a changed object fails with -ESTALE) through o->inflight parallel ranged reads
 * and hand the bytes to sink in order. Returns 0, a read error, or the sink's error (then
 * *psink_err = 1).
 */
int mig_stream_object(struct ufs_backend *be, const struct ufs_obj *obj,
		      const struct mig_stream_opts *o, mig_stream_sink sink, void *arg,
		      int *psink_err);

/* ---- filter.c ---- */

struct mig_pattern;

/* What a job looks at (rules: filter.c): include/exclude globs, size bounds
 * (bytes, inclusive) and mtime bounds (seconds since the epoch, inclusive). */
struct mig_filter {
	struct mig_pattern **include, **exclude;
	size_t n_include, n_exclude;
	uint64_t min_size, max_size;  /* 0, UINT64_MAX: no bound */
	int64_t mtime_min, mtime_max; /* INT64_MIN, INT64_MAX: no bound */
};

/* An empty filter (everything passes). */
void mig_filter_init(struct mig_filter *f);
/* Free its patterns and empty it. */
void mig_filter_fini(struct mig_filter *f);
/* Add one --include (exclude 0) or --exclude (1) glob. 0 or -ENOMEM. */
int mig_filter_add(struct mig_filter *f, int exclude, const char *pattern);
/* Add the patterns of the file at path, one a line (blanks around a line
 * trimmed; blank lines and lines starting with '#' skipped). 0, or -errno
 * with "--include-from PATH: reason" in err. */
int mig_filter_add_file(struct mig_filter *f, int exclude, const char *path, char *err,
			size_t errlen);
/* --max-age AGE (max_age 1: modified within age seconds before now) or
 * --min-age AGE (0: modified at least age seconds before now). */
void mig_filter_age(struct mig_filter *f, int max_age, uint64_t age, int64_t now);

/* ---- copy.c (and its options; the shard parser is plan.c) ---- */

enum mig_mode { MIG_CP, MIG_SYNC, MIG_CHECK };

enum { MIG_VERIFY_NONE, MIG_VERIFY_AUTO, MIG_VERIFY_ALL };

struct mig_opts {
	enum mig_mode mode;
	const char *cmd; /* "cp", "sync", "check": for messages */
	int recursive;
	unsigned transfers; /* files in flight */
	unsigned streams;   /* ranged reads in flight per file */
	size_t chunk;	    /* bytes per ranged read */
	int checksum;	    /* compare content, not size+mtime */
	int dry_run;
	int json;	/* one summary object on stdout */
	int json_lines; /* one object per file on stdout */
	int progress;	/* progress line on stderr */
	int delete_extra;
	int verify;			 /* MIG_VERIFY_*: read back and compare what was written */
	const struct mig_filter *filter; /* NULL: every entry */
	uint64_t bwlimit;		 /* --bwlimit: bytes/s read from SRC, 0 = none */
	const char *journal;		 /* NULL: none */
	int resume;			 /* the journal must exist */
	unsigned shard_k, shard_n;
};

/* Parse --shard SPEC ("K/N" or "auto") with --shard-count COUNT (may be
 * NULL). "auto" reads SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, else
 * JOB_COMPLETION_INDEX with COUNT. 0, or -EINVAL with a one-line reason. */
int mig_shard_parse(const char *spec, const char *count, unsigned *pk, unsigned *pn, char *err,
		    size_t errlen);

/*
 * Run one cp/sync/check job: open every path of paths[0..n_paths) (the
 * last one is DST; each is a URL, or with config a /path of its
 * namespace; region: --region for URL targets, may be NULL), refuse a
 * target no backend serves and SRC == DST, open the journal (o->journal),
 * copy each SRC into DST (see copy.c for where things land) and print the
 * report. Returns the exit status: CLI_OK all copied and verified (check:
 * no difference), CLI_FAIL something failed or differs, CLI_USAGE.
 */
int mig_copy(const struct mig_opts *o, const char *config, const char *region, char **paths,
	     int n_paths);

#endif
