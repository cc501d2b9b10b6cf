/*
 * migrate_i.h — private interface of the copy engine behind `unifs cp`,
 * `unifs sync` and `unifs check` (its public face: migrate.h). One job per
 * file:
 *
 *   copy.c     one cp/sync/check job: its targets, journal, runs, report
 *   target.c   open a TARGET (URL or namespace path) without mounting
 *   stream.c   read one object in order through parallel ranged reads
 *   queue.c    the workers: a bounded queue from the walk to a worker pool
 *   walk.c     walk SRC and DST side by side, one directory at a time
 *   plan.c     filters, shards, and what to do with one entry
 *   xfer.c     copy / hash one file (xxh3-128), read-back verify
 *   meta.c     owner, mode and times kept (files, directories after the run)
 *   journal.c  the fsync'd append-only journal (--journal/--resume)
 *   report.c   per-file lines, --json summary, --progress, exit code
 *   run.c      the worker pool that ties them together
 *
 * Memory is bounded by the queue capacity and the largest directory (the
 * walk holds one directory listing of each side at a time), never by the
 * number of files; the journal keeps 8 bytes per finished file.
 */
#ifndef UFS_MIGRATE_I_H
#define UFS_MIGRATE_I_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/cli.h"
#include "common/pool.h"
#include "migrate/migrate.h"

#define MIG_HASH_HEX 33 /* 32 hex digits of an xxh3-128 + NUL */

/* One side of the copy: a backend and the root below which rel paths live. */
struct mig_side {
	struct ufs_backend *be;
	const char *root; /* backend-relative, "" = the backend root */
	const char *name; /* as the user typed it */
	int posix;	  /* file/nfs: mtime, symlinks, read-back needed */
};

/* One entry found by the walk: rel is relative to both roots ("" = the
 * roots themselves, a single-file copy). job and q are the queue's. */
struct mig_item {
	struct ufs_job job;
	struct mig_queue *q;
	char *rel;
	struct ufs_attr src, dst;
	int has_src, has_dst;
};

struct mig_queue;
struct mig_journal;
struct mig_report;
struct mig_dir_meta;

struct mig_run {
	const struct mig_opts *o;
	struct mig_side src, dst;
	struct mig_queue *q;
	struct mig_journal *j; /* NULL without --journal */
	struct mig_report *rep;
	int dst_fault;		   /* set by mig_walk when its error is DST's, not SRC's */
	struct mig_dir_meta *dirs; /* directories whose metadata is set after the run */
};

/* ---- queue.c ---- */

/* What a worker does with one entry of run r. */
typedef void (*mig_item_fn)(struct mig_run *r, const struct mig_item *it);

/* A queue whose nworkers threads (all started now) call fn(r, item) for
 * each item pushed, in push order, at most cap items waiting. 0, -ENOMEM, or
 * -EAGAIN when not every worker could start. */
int mig_queue_create(unsigned cap, unsigned nworkers, mig_item_fn fn, struct mig_run *r,
		     struct mig_queue **pq);
/* Hand it over (freed once handled); blocks while cap items wait. */
void mig_queue_push(struct mig_queue *q, struct mig_item *it);
/* Handle every item pushed, then stop the workers and free q. NULL is a
 * no-op. */
void mig_queue_destroy(struct mig_queue *q);
/* Free an item. */
void mig_item_free(struct mig_item *it);

/* ---- walk.c ---- */

/* Walk both roots and push every entry the run should look at (filters and
 * shard applied); directories missing on DST are created as they are met
 * (not on check or --dry-run). 0, or -errno when SRC cannot be listed at
 * all; failures below the root are reported per directory. */
int mig_walk(struct mig_run *r);

/* Join a root and a rel path ("" parts dropped). malloc'd, or NULL. */
char *mig_path(const char *root, const char *rel);

/* ---- plan.c ---- */

enum mig_act {
	MIG_ACT_SKIP,	 /* same on both sides */
	MIG_ACT_COPY,	 /* copy SRC over DST */
	MIG_ACT_HASH,	 /* sizes match: compare content to decide */
	MIG_ACT_MISSING, /* check: not on DST */
	MIG_ACT_DIFFERS, /* check: differs */
	MIG_ACT_EXTRA,	 /* only on DST: reported by check, deleted by sync --delete */
};

/* What to do with it (a file or symlink; size, mtime, content rules of the
 * mode; dst_posix: DST keeps the source mtime). */
enum mig_act mig_plan(const struct mig_opts *o, const struct mig_item *it, int dst_posix);

/* True when rel passes --include/--exclude (a pattern without '/' matches
 * the last component, one with '/' the whole rel path). */
int mig_filter_match(const struct mig_opts *o, const char *rel);

/* True when shard k of n owns rel (xxh64 of the rel path mod n). */
int mig_shard_owns(const char *rel, unsigned k, unsigned n);

/* ---- xfer.c ---- */

/* Copy the file it->rel from SRC to DST, hashing the source bytes as they
 * stream (hex into hash), resuming after a journaled part, setting the
 * mtime where DST keeps one, reading back to verify per o->verify. 0 (why:
 * "" or "resumed at byte N"), or -errno with the reason in why. */
int mig_xfer_file(struct mig_run *r, const struct mig_item *it, char hash[MIG_HASH_HEX], char *why,
		  size_t whylen);

/* Copy the symlink it->rel (DST must hold symlinks). 0 or -errno. */
int mig_xfer_link(struct mig_run *r, const struct mig_item *it, char *why, size_t whylen);

/* xxh3-128 (hex) of the file rel of side s with attributes a. 0 or -errno. */
int mig_hash_file(const struct mig_run *r, const struct mig_side *s, const char *rel,
		  const struct ufs_attr *a, char hash[MIG_HASH_HEX]);

/* ---- meta.c ---- */

/* Mode a new DST file is created with while it is written: 0600 when its
 * mode is set after (both sides POSIX), else the source's as before. */
mode_t mig_meta_file_mode(const struct mig_run *r, const struct ufs_attr *src);
/* Mode a new DST directory is created with: 0700 when its final mode is set
 * after the run (POSIX source), else 0755. */
mode_t mig_meta_dir_mode(const struct mig_run *r);
/* Give the DST path (a file, or a directory when dir) the source's owner
 * (root only), mode and times by the rules of meta.c; a no-op unless DST
 * is POSIX. note (may be NULL) gets why the owner was not kept, when it is
 * empty. 0 or -errno. */
int mig_meta_apply(const struct mig_run *r, const char *path, const struct ufs_attr *src, int dir,
		   char *note, size_t notelen);
/* Remember directory rel (DST backend path path, source attributes a) for
 * mig_meta_dirs_finish (nothing unless both sides are POSIX and the run
 * writes DST). 0 or -ENOMEM. */
int mig_meta_dir_add(struct mig_run *r, const char *rel, const char *path,
		     const struct ufs_attr *a);
/* After the run: apply every remembered directory's metadata, deepest
 * first, reporting failures; frees the list. */
void mig_meta_dirs_finish(struct mig_run *r);

/* ---- journal.c ---- */

/*
 * Open the journal at path for the job named by identity (the command, its
 * roots, its shard). A missing file is created (with --resume: refused); an
 * existing one is read back: a foreign job's journal, or a line whose
 * checksum fails, is refused with a one-line reason (-EINVAL); a torn last
 * line (a crash mid-append) is dropped. 0 or -errno.
 */
int mig_journal_open(const char *path, const char *identity, int resume, struct mig_journal **pj,
		     char *err, size_t errlen);
/* True when rel was finished and verified by an earlier run. */
int mig_journal_is_done(struct mig_journal *j, const char *rel);
/* Bytes of rel known written by an earlier run (resume point), 0 if none. */
uint64_t mig_journal_part(struct mig_journal *j, const char *rel);
/* Append (and fsync) "rel finished" / "rel written up to off". 0 or -errno. */
int mig_journal_add_done(struct mig_journal *j, const char *rel, uint64_t size, const char *hash);
int mig_journal_add_part(struct mig_journal *j, const char *rel, uint64_t off);
/* An object-store upload in flight, as journaled: the source it streams
 * (size, mtime, etag: "" on file/nfs), its upload id ("" on Azure) and its
 * stored parts 1..nparts (parts[0..nparts)). */
struct mig_upload {
	uint64_t size;
	struct timespec mtime;
	char etag[UFS_ETAG_MAX];
	char *id;
	unsigned nparts, cap;
	struct ufs_upload_part *parts;
};
/* The upload journaled for rel (not yet done), copied into *pu: 1, 0 when
 * none, or -ENOMEM. Free with mig_upload_fini(). */
int mig_journal_upload(struct mig_journal *j, const char *rel, struct mig_upload *pu);
/* Append (and fsync) "rel's upload u->id began from source u" (its earlier
 * parts are forgotten) / "part n of rel's upload is stored". -EINVAL when
 * an id or ETag cannot be journaled (blank bytes, too long), else 0 or
 * -errno. */
int mig_journal_add_upload(struct mig_journal *j, const char *rel, const struct mig_upload *u);
int mig_journal_add_upart(struct mig_journal *j, const char *rel, unsigned n,
			  const struct ufs_upload_part *p);
/* Free what a mig_upload owns (id, parts) and zero it. */
void mig_upload_fini(struct mig_upload *u);
/* Close and free. NULL is a no-op. */
void mig_journal_close(struct mig_journal *j);

/* ---- report.c ---- */

/* Outcome of one entry, as counted and printed. */
enum mig_outcome {
	MIG_OUT_COPIED,
	MIG_OUT_SKIPPED,
	MIG_OUT_WOULD_COPY, /* --dry-run */
	MIG_OUT_MISSING,
	MIG_OUT_DIFFERS,
	MIG_OUT_EXTRA,
	MIG_OUT_DELETED,
	MIG_OUT_WARNING, /* skipped with a warning (symlink on an object store) */
	MIG_OUT_FAILED,
	MIG_OUT__COUNT
};

/* New report for o (starts the progress line thread when o->progress). */
int mig_report_create(const struct mig_opts *o, struct mig_report **prep);
/* The name printed for the entry "" (a single-file copy): DST as typed. */
void mig_report_set_root_name(struct mig_report *rep, const char *name);
/* The walk found one more entry of size bytes (progress totals). */
void mig_report_found(struct mig_report *rep, uint64_t size);
/* Record one entry's outcome; why (may be NULL) names the reason; hash
 * (may be NULL) is its xxh3-128. Thread-safe. */
void mig_report_entry(struct mig_report *rep, enum mig_outcome out, const char *rel, uint64_t size,
		      const char *hash, const char *why);
/* Stop progress, print the summary (text on stderr, or --json on stdout)
 * and return the exit status: CLI_OK, or CLI_FAIL when anything failed or
 * (check) differed. */
int mig_report_finish(struct mig_report *rep);
/* bytes more were written to DST (a resumed file sends only its rest;
 * --json: "bytes_sent"). Thread-safe. */
void mig_report_sent(struct mig_report *rep, uint64_t bytes);
/* Count of one outcome so far. */
uint64_t mig_report_count(struct mig_report *rep, enum mig_outcome out);
void mig_report_destroy(struct mig_report *rep);

/* ---- run.c ---- */

/* Run the walk and o->transfers workers over r (src, dst, o, j, rep set).
 * 0, or -errno when the walk could not start (SRC unreadable). */
int mig_run_execute(struct mig_run *r);

#endif
