/*
 * copy.c — one `unifs cp`, `unifs sync` or `unifs check` job, its command
 * line already parsed (mount-helpers/cli_copy.c): opens SRC and DST as
 * targets (target.c: URLs, or -c CONFIG /path), refuses SRC == DST, opens
 * the journal, runs the engine (run.c) from each SRC and turns its report
 * into the exit status.
 *
 * Where things land: a directory SRC mirrors its contents into DST (so a
 * rerun of the same command lands in the same place); a file SRC becomes
 * DST, or DST/NAME when DST is an existing directory, ends in '/', or cp
 * was given several SRCs.
 */
#include "migrate/migrate_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/budget.h"

#define COPY_WRITE_BUDGET (128ull << 20)

/* What mig_copy() was asked to do. */
struct copy_job {
	const struct mig_opts *o;
	const char *config; /* -c CONFIG, or NULL */
	const char *region; /* --region for s3:// URLs, or NULL */
	char **paths;	    /* SRC... DST as typed */
	int n_paths;
};

static int copy_open(struct mig_target *t, const struct copy_job *a, const char *name)
{
	const char *config = a->config;

	memset(t, 0, sizeof(*t));
	t->cmd = a->o->cmd;
	t->region = a->region;
	return mig_target_open(t, strstr(name, "://") ? NULL : config, name);
}

/* Refuse a target with no backend behind it (a synthetic namespace dir) or
 * whose root the server refuses (no such bucket, bad credentials). */
static int copy_need_backend(struct mig_target *t)
{
	char why[CLI_ERR_MAX] = "";
	int rc;

	if (!t->be) {
		cli_error(t->cmd, "%s: no mount serves this path", t->name);
		return CLI_FAIL;
	}
	rc = ufs_be_check(t->be, why, sizeof(why));
	if (rc != 0 && !ufs_errno_is_unreachable(-rc))
		return mig_target_fail(t, rc);
	return CLI_OK;
}

/* Same backend root URL and same path: SRC == DST. */
static int copy_same(const struct mig_target *s, const struct mig_target *d)
{
	return strcmp(s->be->ops->scheme, d->be->ops->scheme) == 0 &&
	       strcmp(s->be->mcfg->url, d->be->mcfg->url) == 0 && strcmp(s->rel, d->rel) == 0;
}

/* DST root for one SRC (see the file comment); malloc'd. */
static char *copy_dst_root(const struct mig_target *s, const struct mig_target *d, int many)
{
	const char *base = strrchr(s->rel, '/');
	size_t n = strlen(d->name);
	struct ufs_attr sa, da;
	int into;

	base = base ? base + 1 : s->rel;
	if (ufs_be_getattr(s->be, s->rel, &sa) != 0 || S_ISDIR(sa.mode) || !*base)
		into = many && *base;
	else
		into = many || (n && d->name[n - 1] == '/') ||
		       (ufs_be_getattr(d->be, d->rel, &da) == 0 && S_ISDIR(da.mode));
	return into ? mig_path(d->rel, base) : strdup(d->rel);
}

static int copy_journal(struct copy_job *a, struct mig_journal **pj)
{
	char err[CLI_ERR_MAX], *id = NULL;
	size_t len = 64;
	int rc;

	*pj = NULL;
	if (!a->o->journal)
		return CLI_OK;
	for (int i = 0; i < a->n_paths; i++)
		len += strlen(a->paths[i]) + 1;
	id = malloc(len);
	if (!id)
		return CLI_FAIL;
	rc = snprintf(id, len, "%s %u/%u", a->o->cmd, a->o->shard_k, a->o->shard_n);
	for (int i = 0; i < a->n_paths; i++)
		rc += snprintf(id + rc, len - (size_t)rc, "\n%s", a->paths[i]);
	rc = mig_journal_open(a->o->journal, id, a->o->resume, pj, err, sizeof(err));
	free(id);
	if (rc != 0) {
		cli_error(a->o->cmd, "%s", err);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* Run the engine from one SRC into dst. */
static int copy_one(struct copy_job *a, struct mig_target *s, struct mig_target *d,
		    struct mig_journal *j, struct mig_report *rep)
{
	struct mig_run r = {.o = a->o, .j = j, .rep = rep};
	char *droot;
	int rc;

	if (copy_same(s, d)) {
		cli_error(a->o->cmd, "%s and %s are the same", s->name, d->name);
		return CLI_USAGE;
	}
	droot = copy_dst_root(s, d, a->n_paths > 2);
	if (!droot)
		return CLI_FAIL;
	r.src =
	    (struct mig_side){s->be, s->rel, s->name, !!(s->be->ops->caps & UFS_CAP_POSIX_WRITE)};
	r.dst =
	    (struct mig_side){d->be, droot, d->name, !!(d->be->ops->caps & UFS_CAP_POSIX_WRITE)};
	mig_report_set_root_name(rep, d->name);
	rc = mig_run_execute(&r);
	mig_meta_dirs_finish(&r);
	free(droot);
	if (rc == -EISDIR) {
		cli_error(a->o->cmd, "%s: is a directory (use -r)", s->name);
		return CLI_FAIL;
	}
	if (rc == -ENOTDIR) {
		cli_error(a->o->cmd, "%s: not a directory", d->name);
		return CLI_FAIL;
	}
	return rc == 0 ? CLI_OK : mig_target_fail(r.dst_fault ? d : s, rc);
}

/* Open every target, then run each SRC into DST. */
static int copy_targets(struct copy_job *a, struct mig_target *t, struct mig_report *rep)
{
	struct mig_target *d = &t[a->n_paths - 1];
	struct mig_journal *j = NULL;
	struct ufs_budget *budget = ufs_budget_create(COPY_WRITE_BUDGET);
	int rc = budget ? CLI_OK : CLI_FAIL;

	for (int i = 0; rc == CLI_OK && i < a->n_paths; i++) {
		rc = copy_open(&t[i], a, a->paths[i]);
		if (rc == CLI_OK)
			rc = copy_need_backend(&t[i]);
	}
	if (rc == CLI_OK)
		rc = copy_journal(a, &j);
	if (rc == CLI_OK)
		d->be->budget = budget;
	for (int i = 0; rc == CLI_OK && i < a->n_paths - 1; i++)
		rc = copy_one(a, &t[i], d, j, rep);
	if (d->be)
		d->be->budget = NULL;
	mig_journal_close(j);
	ufs_budget_destroy(budget);
	return rc;
}

int mig_copy(const struct mig_opts *o, const char *config, const char *region, char **paths,
	     int n_paths)
{
	struct copy_job a = {o, config, region, paths, n_paths};
	struct mig_target *t = calloc((size_t)n_paths, sizeof(*t));
	struct mig_report *rep = NULL;
	int rc, frc;

	if (!t || mig_report_create(o, &rep) != 0) {
		free(t);
		cli_error(o->cmd, "%s", cli_strerror(ENOMEM));
		return CLI_FAIL;
	}
	rc = copy_targets(&a, t, rep);
	frc = mig_report_finish(rep);
	mig_report_destroy(rep);
	for (int i = 0; i < n_paths; i++)
		mig_target_close(&t[i]);
	free(t);
	return rc != CLI_OK ? rc : frc;
}
