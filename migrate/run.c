/*
 * run.c — one run of cp/sync/check: the walk runs on the calling thread
 * and fills the bounded queue (queue.c); its o->transfers workers take one
 * entry at a time, decide (plan.c), act (xfer.c), journal what was
 * finished and report the outcome.
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIG_QUEUE_CAP 4096
#define MIG_MAX_TRANSFERS 256

/* Copy one file or symlink; reports the outcome. */
static void run_copy(struct mig_run *r, const struct mig_item *it)
{
	char hash[MIG_HASH_HEX] = "", why[CLI_ERR_MAX] = "";
	int rc;

	if (r->o->dry_run) {
		mig_report_entry(r->rep, MIG_OUT_WOULD_COPY, it->rel, it->src.size, NULL, NULL);
		return;
	}
	if (S_ISLNK(it->src.mode)) {
		rc = mig_xfer_link(r, it, why, sizeof(why));
	} else if (!S_ISREG(it->src.mode)) {
		mig_report_entry(r->rep, MIG_OUT_WARNING, it->rel, 0, NULL,
				 "skipped: not a regular file, directory or symlink");
		return;
	} else {
		rc = mig_xfer_file(r, it, hash, why, sizeof(why));
	}
	if (rc == 0 && r->j && S_ISREG(it->src.mode)) {
		rc = mig_journal_add_done(r->j, it->rel, it->src.size, hash);
		if (rc != 0)
			snprintf(why, sizeof(why), "journal: %s", cli_strerror(rc));
	}
	mig_report_entry(r->rep, rc == 0 ? MIG_OUT_COPIED : MIG_OUT_FAILED, it->rel, it->src.size,
			 rc == 0 && hash[0] ? hash : NULL, why[0] ? why : NULL);
}

/* The xxh3 side s stored in rel's metadata (a HEAD, no read), as hex. */
static int run_stored_hash(const struct mig_side *s, const char *rel, char hash[MIG_HASH_HEX])
{
	char *path = mig_path(s->root, rel);
	struct ufs_attr a = {0};
	int ok = path && ufs_be_getattr(s->be, path, &a) == 0 && a.has_xxh3;

	for (int i = 0; ok && i < 16; i++)
		snprintf(hash + 2 * i, 3, "%02x", a.xxh3[i]);
	free(path);
	return ok;
}

/* Hash of side s: from its metadata when it carries one, else read. */
static int run_hash(const struct mig_run *r, const struct mig_side *s, const char *rel,
		    const struct ufs_attr *a, char hash[MIG_HASH_HEX])
{
	if (!s->posix && run_stored_hash(s, rel, hash))
		return 0;
	return mig_hash_file(r, s, rel, a, hash);
}

/* Sizes match: equal MD5s from both listings settle it at no cost (S3
 * single-part ETags, Azure Content-MD5: what rclone compares); otherwise
 * hash both sides (from metadata when it carries the hash). 1 same, 0
 * differ, -errno (reported). */
static int run_same_content(struct mig_run *r, const struct mig_item *it, char *hash)
{
	char dh[MIG_HASH_HEX];
	int rc;

	if (it->src.has_md5 && it->dst.has_md5 &&
	    memcmp(it->src.md5, it->dst.md5, sizeof(it->src.md5)) == 0)
		return 1;
	rc = run_hash(r, &r->src, it->rel, &it->src, hash);

	if (rc == 0)
		rc = run_hash(r, &r->dst, it->rel, &it->dst, dh);
	if (rc != 0) {
		char why[CLI_ERR_MAX];

		snprintf(why, sizeof(why), "compare: %s", cli_strerror(rc));
		mig_report_entry(r->rep, MIG_OUT_FAILED, it->rel, it->src.size, NULL, why);
		return rc;
	}
	return strcmp(hash, dh) == 0;
}

/* Only on DST: check reports it, sync --delete removes it. */
static void run_extra(struct mig_run *r, const struct mig_item *it)
{
	char *p;
	int rc;

	if (r->o->mode == MIG_CHECK) {
		mig_report_entry(r->rep, MIG_OUT_EXTRA, it->rel, it->dst.size, NULL, NULL);
		return;
	}
	if (r->o->mode != MIG_SYNC || !r->o->delete_extra)
		return;
	if (r->o->dry_run) {
		mig_report_entry(r->rep, MIG_OUT_DELETED, it->rel, it->dst.size, NULL, "dry run");
		return;
	}
	p = mig_path(r->dst.root, it->rel);
	rc = p ? ufs_be_unlink(r->dst.be, p) : -ENOMEM;
	free(p);
	mig_report_entry(r->rep, rc == 0 ? MIG_OUT_DELETED : MIG_OUT_FAILED, it->rel, it->dst.size,
			 NULL, rc == 0 ? NULL : cli_strerror(rc));
}

static void run_item(struct mig_run *r, const struct mig_item *it)
{
	char hash[MIG_HASH_HEX] = "";
	enum mig_act act;
	int same;

	if (it->has_src && r->j && mig_journal_is_done(r->j, it->rel)) {
		mig_report_entry(r->rep, MIG_OUT_SKIPPED, it->rel, it->src.size, NULL, "journal");
		return;
	}
	if (it->has_src && S_ISLNK(it->src.mode) && !(r->dst.be->ops->caps & UFS_CAP_SYMLINK)) {
		mig_report_entry(r->rep, MIG_OUT_WARNING, it->rel, 0, NULL,
				 "symlink skipped: the destination cannot hold symlinks");
		return;
	}
	act = mig_plan(r->o, it, r->dst.posix);
	if (act == MIG_ACT_HASH) {
		same = run_same_content(r, it, hash);
		if (same < 0)
			return;
		act = same			? MIG_ACT_SKIP
		      : r->o->mode == MIG_CHECK ? MIG_ACT_DIFFERS
						: MIG_ACT_COPY;
	}
	switch (act) {
	case MIG_ACT_SKIP:
		mig_report_entry(r->rep, MIG_OUT_SKIPPED, it->rel, it->src.size,
				 hash[0] ? hash : NULL, NULL);
		break;
	case MIG_ACT_COPY:
		run_copy(r, it);
		break;
	case MIG_ACT_MISSING:
	case MIG_ACT_DIFFERS:
		mig_report_entry(r->rep, act == MIG_ACT_MISSING ? MIG_OUT_MISSING : MIG_OUT_DIFFERS,
				 it->rel, it->src.size, NULL, NULL);
		break;
	case MIG_ACT_EXTRA:
		run_extra(r, it);
		break;
	case MIG_ACT_HASH: /* settled above */
		break;
	}
}

int mig_run_execute(struct mig_run *r)
{
	unsigned n = r->o->transfers;
	int rc;

	if (n < 1)
		n = 1;
	if (n > MIG_MAX_TRANSFERS)
		n = MIG_MAX_TRANSFERS;
	rc = mig_queue_create(MIG_QUEUE_CAP, n, run_item, r, &r->q);
	if (rc == 0)
		rc = mig_walk(r);
	mig_queue_destroy(r->q); /* every queued entry is handled first */
	r->q = NULL;
	return rc;
}
