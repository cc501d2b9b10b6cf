/*
 * cli_copy.c — `unifs cp`, `unifs sync` and `unifs check`: the command
 * lines of the copy engine (cli_mig_*.c). Parses the flags, opens SRC and
 * DST as browse targets (cli_target.c: URLs, or -c CONFIG /path), refuses
 * SRC == DST, opens the journal, runs the engine and turns its report into
 * the exit status: 0 all copied and verified (check: no difference), 1
 * something failed or differs, 2 usage.
 *
 * Where things land: a directory SRC mirrors its contents into DST (so a
 * rerun of the same command lands in the same place); a file SRC becomes
 * DST, or DST/NAME when DST is an existing directory, ends in '/', or cp
 * was given several SRCs.
 */
#include "mount-helpers/cli_mig_i.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/budget.h"

#define COPY_MAX_PATTERNS 64
#define COPY_WRITE_BUDGET (128ull << 20)

struct copy_args {
	struct mig_opts o;
	const char *config;
	const char *region; /* --region for s3:// URLs */
	const char *shard, *shard_count;
	const char *include[COPY_MAX_PATTERNS], *exclude[COPY_MAX_PATTERNS];
	int progress_flag; /* -1 --no-progress, 0 default (TTY), 1 --progress */
	char **paths;
	int n_paths;
	char **argv; /* for messages */
};

enum {
	OPT_TRANSFERS = 256,
	OPT_STREAMS,
	OPT_CHECKSUM,
	OPT_INCLUDE,
	OPT_EXCLUDE,
	OPT_JSON,
	OPT_JSON_LINES,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_JOURNAL,
	OPT_RESUME,
	OPT_SHARD,
	OPT_SHARD_COUNT,
	OPT_DELETE,
	OPT_VERIFY,
	OPT_REGION,
};

static const struct option copy_long[] = {
    {"recursive", no_argument, NULL, 'r'},
    {"config", required_argument, NULL, 'c'},
    {"dry-run", no_argument, NULL, 'n'},
    {"transfers", required_argument, NULL, OPT_TRANSFERS},
    {"streams", required_argument, NULL, OPT_STREAMS},
    {"checksum", no_argument, NULL, OPT_CHECKSUM},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"json", no_argument, NULL, OPT_JSON},
    {"json-lines", no_argument, NULL, OPT_JSON_LINES},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"journal", required_argument, NULL, OPT_JOURNAL},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"shard-count", required_argument, NULL, OPT_SHARD_COUNT},
    {"delete", no_argument, NULL, OPT_DELETE},
    {"verify", required_argument, NULL, OPT_VERIFY},
    {"region", required_argument, NULL, OPT_REGION},
    {NULL, 0, NULL, 0},
};

static void copy_usage(FILE *f)
{
	fputs("usage: unifs cp [-r] [OPTIONS] SRC... DST\n"
	      "       unifs sync [OPTIONS] [--delete] SRC DST\n"
	      "       unifs check [OPTIONS] SRC DST\n"
	      "\n"
	      "SRC and DST are URLs (file:///dir, nfs://host/export/dir, s3://bucket/prefix,\n"
	      "az://container/prefix) or, with -c CONFIG, /paths in its namespace.\n"
	      "\n"
	      "  -r, --recursive       copy directories (cp; sync and check always recurse)\n"
	      "  -n, --dry-run         say what would be copied or deleted, change nothing\n"
	      "  --transfers N         files in flight (default 8)\n"
	      "  --streams N           parallel ranged reads per file (default 4)\n"
	      "  --checksum            compare content (xxh3-128), not size and mtime\n"
	      "  --include GLOB        only entries matching GLOB (repeatable)\n"
	      "  --exclude GLOB        skip entries matching GLOB (repeatable)\n"
	      "  --delete              sync: remove files only on DST\n"
	      "  --verify auto|all|none  read back what was written (auto: file and nfs)\n"
	      "  --json                one summary object on stdout\n"
	      "  --json-lines          one object per entry on stdout\n"
	      "  --progress            progress line on stderr (default on a terminal)\n"
	      "  --journal PATH        record finished files; a rerun resumes from it\n"
	      "  --resume              the journal must exist already\n"
	      "  --region R            region of s3:// URLs (else AWS_REGION, profile, ...)\n"
	      "  --shard K/N|auto      do the K-th of N parts (auto: Slurm array or\n"
	      "                        Kubernetes Indexed Job, with --shard-count N)\n"
	      "\n"
	      "Exit status: 0 all copied and verified (check: no difference), 1 failures\n"
	      "or differences, 2 usage. See unifs(1).\n",
	      f);
}

/* A positive count; 0 when malformed. */
static unsigned copy_count(const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return 0;
	v = strtoul(s, &end, 10);
	return *end || v == 0 || v > max ? 0 : (unsigned)v;
}

/* A bad flag value: one line, CLI_USAGE. */
static int copy_bad(const char *cmd, const char *flag, const char *value)
{
	cli_error(cmd, "bad %s '%s'", flag, value);
	return CLI_USAGE;
}

static int copy_pattern(struct copy_args *a, const char **v, size_t *pn, const char *p)
{
	if (*pn == COPY_MAX_PATTERNS) {
		cli_error(a->o.cmd, "too many --include/--exclude patterns (max %d)",
			  COPY_MAX_PATTERNS);
		return CLI_USAGE;
	}
	v[(*pn)++] = p;
	return CLI_OK;
}

static int copy_verify(struct copy_args *a, const char *v)
{
	if (strcmp(v, "none") == 0)
		a->o.verify = MIG_VERIFY_NONE;
	else if (strcmp(v, "auto") == 0)
		a->o.verify = MIG_VERIFY_AUTO;
	else if (strcmp(v, "all") == 0)
		a->o.verify = MIG_VERIFY_ALL;
	else
		return copy_bad(a->o.cmd, "--verify", v);
	return CLI_OK;
}

/* One option; CLI_OK or CLI_USAGE. */
static int copy_option(struct copy_args *a, int c)
{
	switch (c) {
	case 'r':
		a->o.recursive = 1;
		break;
	case 'c':
		a->config = optarg;
		break;
	case OPT_REGION:
		a->region = optarg;
		break;
	case 'n':
		a->o.dry_run = 1;
		break;
	case OPT_TRANSFERS:
		a->o.transfers = copy_count(optarg, 256);
		return a->o.transfers ? CLI_OK : copy_bad(a->o.cmd, "--transfers (1..256)", optarg);
	case OPT_STREAMS:
		a->o.streams = copy_count(optarg, 64);
		return a->o.streams ? CLI_OK : copy_bad(a->o.cmd, "--streams (1..64)", optarg);
	case OPT_CHECKSUM:
		a->o.checksum = 1;
		break;
	case OPT_INCLUDE:
		return copy_pattern(a, a->include, &a->o.n_include, optarg);
	case OPT_EXCLUDE:
		return copy_pattern(a, a->exclude, &a->o.n_exclude, optarg);
	case OPT_JSON:
		a->o.json = 1;
		break;
	case OPT_JSON_LINES:
		a->o.json_lines = 1;
		break;
	case OPT_PROGRESS:
		a->progress_flag = 1;
		break;
	case OPT_NO_PROGRESS:
		a->progress_flag = -1;
		break;
	case OPT_JOURNAL:
		a->o.journal = optarg;
		break;
	case OPT_RESUME:
		a->o.resume = 1;
		break;
	case OPT_SHARD:
		a->shard = optarg;
		break;
	case OPT_SHARD_COUNT:
		a->shard_count = optarg;
		break;
	case OPT_DELETE:
		a->o.delete_extra = 1;
		break;
	case OPT_VERIFY:
		return copy_verify(a, optarg);
	case ':':
		cli_error(a->o.cmd, "option '%s' needs a value", a->argv[optind - 1]);
		return CLI_USAGE;
	default:
		cli_error(a->o.cmd, "unknown option '%s'", a->argv[optind - 1]);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* Cross-flag rules once everything is parsed. */
static int copy_check_args(struct copy_args *a)
{
	char err[CLI_ERR_MAX];
	int want2 = a->o.mode != MIG_CP;

	if (a->n_paths < 2 || (want2 && a->n_paths != 2)) {
		copy_usage(stderr);
		return CLI_USAGE;
	}
	if (a->o.delete_extra && a->o.mode != MIG_SYNC) {
		cli_error(a->o.cmd, "--delete is for sync only");
		return CLI_USAGE;
	}
	if (a->o.resume && !a->o.journal) {
		cli_error(a->o.cmd, "--resume needs --journal PATH");
		return CLI_USAGE;
	}
	if (a->shard_count && !a->shard) {
		cli_error(a->o.cmd, "--shard-count needs --shard auto");
		return CLI_USAGE;
	}
	if (a->shard && mig_shard_parse(a->shard, a->shard_count, &a->o.shard_k, &a->o.shard_n, err,
					sizeof(err)) != 0) {
		cli_error(a->o.cmd, "%s", err);
		return CLI_USAGE;
	}
	for (int i = 0; i < a->n_paths; i++) {
		if (!strstr(a->paths[i], "://") && !(a->config && a->paths[i][0] == '/')) {
			cli_error(a->o.cmd, "'%s' is neither a URL nor (with -c CONFIG) a /path",
				  a->paths[i]);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

static int copy_parse(struct copy_args *a, int argc, char **argv)
{
	int c, rc = CLI_OK;

	opterr = 0;
	optind = 1;
	a->argv = argv;
	while (rc == CLI_OK && (c = getopt_long(argc, argv, ":rc:n", copy_long, NULL)) != -1)
		rc = copy_option(a, c);
	if (rc != CLI_OK)
		return rc;
	a->o.include = a->include;
	a->o.exclude = a->exclude;
	a->paths = argv + optind;
	a->n_paths = argc - optind;
	if (a->o.mode != MIG_CP)
		a->o.recursive = 1;
	a->o.progress = a->progress_flag >= 0 && isatty(STDERR_FILENO) && !a->o.json_lines &&
			(a->progress_flag > 0 || !a->o.json);
	return copy_check_args(a);
}

static int copy_open(struct cli_target *t, const struct copy_args *a, const char *name)
{
	const char *config = a->config;

	memset(t, 0, sizeof(*t));
	t->cmd = a->o.cmd;
	t->region = a->region;
	return cli_target_open(t, strstr(name, "://") ? NULL : config, name);
}

/* Refuse a target with no backend behind it (a synthetic namespace dir) or
 * whose root the server refuses (no such bucket, bad credentials). */
static int copy_need_backend(struct cli_target *t)
{
	char why[CLI_ERR_MAX] = "";
	int rc;

	if (!t->be) {
		cli_error(t->cmd, "%s: no mount serves this path", t->name);
		return CLI_FAIL;
	}
	rc = ufs_be_check(t->be, why, sizeof(why));
	if (rc != 0 && !ufs_errno_is_unreachable(-rc))
		return cli_target_fail(t, rc);
	return CLI_OK;
}

/* Same backend root URL and same path: SRC == DST. */
static int copy_same(const struct cli_target *s, const struct cli_target *d)
{
	return strcmp(s->be->ops->scheme, d->be->ops->scheme) == 0 &&
	       strcmp(s->be->mcfg->url, d->be->mcfg->url) == 0 && strcmp(s->rel, d->rel) == 0;
}

/* DST root for one SRC (see the file comment); malloc'd. */
static char *copy_dst_root(const struct cli_target *s, const struct cli_target *d, int many)
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

static int copy_journal(struct copy_args *a, struct mig_journal **pj)
{
	char err[CLI_ERR_MAX], *id = NULL;
	size_t len = 64;
	int rc;

	*pj = NULL;
	if (!a->o.journal)
		return CLI_OK;
	for (int i = 0; i < a->n_paths; i++)
		len += strlen(a->paths[i]) + 1;
	id = malloc(len);
	if (!id)
		return CLI_FAIL;
	rc = snprintf(id, len, "%s %u/%u", a->o.cmd, a->o.shard_k, a->o.shard_n);
	for (int i = 0; i < a->n_paths; i++)
		rc += snprintf(id + rc, len - (size_t)rc, "\n%s", a->paths[i]);
	rc = mig_journal_open(a->o.journal, id, a->o.resume, pj, err, sizeof(err));
	free(id);
	if (rc != 0) {
		cli_error(a->o.cmd, "%s", err);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* Run the engine from one SRC into dst. */
static int copy_one(struct copy_args *a, struct cli_target *s, struct cli_target *d,
		    struct mig_journal *j, struct mig_report *rep)
{
	struct mig_run r = {.o = &a->o, .j = j, .rep = rep};
	char *droot;
	int rc;

	if (copy_same(s, d)) {
		cli_error(a->o.cmd, "%s and %s are the same", s->name, d->name);
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
	free(droot);
	if (rc == -EISDIR) {
		cli_error(a->o.cmd, "%s: is a directory (use -r)", s->name);
		return CLI_FAIL;
	}
	if (rc == -ENOTDIR) {
		cli_error(a->o.cmd, "%s: not a directory", d->name);
		return CLI_FAIL;
	}
	return rc == 0 ? CLI_OK : cli_target_fail(r.dst_fault ? d : s, rc);
}

/* Open every target, then run each SRC into DST. */
static int copy_targets(struct copy_args *a, struct cli_target *t, struct mig_report *rep)
{
	struct cli_target *d = &t[a->n_paths - 1];
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

static int copy_main(int argc, char **argv, enum mig_mode mode)
{
	struct copy_args a = {.o = {.mode = mode,
				    .cmd = argv[0],
				    .transfers = 8,
				    .streams = 4,
				    .chunk = 4u << 20,
				    .verify = MIG_VERIFY_AUTO,
				    .shard_n = 1}};
	struct cli_target *t;
	struct mig_report *rep = NULL;
	int rc, frc;

	if (cli_wants_help(argc, argv)) {
		copy_usage(stdout);
		return CLI_OK;
	}
	rc = copy_parse(&a, argc, argv);
	if (rc != CLI_OK)
		return rc;
	t = calloc((size_t)a.n_paths, sizeof(*t));
	if (!t || mig_report_create(&a.o, &rep) != 0) {
		free(t);
		cli_error(a.o.cmd, "%s", cli_strerror(ENOMEM));
		return CLI_FAIL;
	}
	rc = copy_targets(&a, t, rep);
	frc = mig_report_finish(rep);
	mig_report_destroy(rep);
	for (int i = 0; i < a.n_paths; i++)
		cli_target_close(&t[i]);
	free(t);
	return rc != CLI_OK ? rc : frc;
}

int cli_cp_main(int argc, char **argv)
{
	return copy_main(argc, argv, MIG_CP);
}

int cli_sync_main(int argc, char **argv)
{
	return copy_main(argc, argv, MIG_SYNC);
}

int cli_check_main(int argc, char **argv)
{
	return copy_main(argc, argv, MIG_CHECK);
}
