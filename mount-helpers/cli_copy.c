/*
 * cli_copy.c — `unifs cp`, `unifs sync` and `unifs check`: the command
 * lines of the copy engine (migrate/). Parses the flags and their
 * cross-flag rules, then hands the job to mig_copy(), whose exit status it
 * returns: 0 all copied and verified (check: no difference), 1 something
 * failed or differs, 2 usage.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct copy_args {
	struct mig_opts o;
	const char *config;
	const char *region; /* --region for s3:// URLs */
	const char *shard, *shard_count;
	struct mig_filter filter; /* owned */
	int64_t now;	   /* when the options were read: --min-age/--max-age count from it */
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
	OPT_INCLUDE_FROM,
	OPT_EXCLUDE_FROM,
	OPT_MIN_SIZE,
	OPT_MAX_SIZE,
	OPT_MIN_AGE,
	OPT_MAX_AGE,
	OPT_BWLIMIT,
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
    {"include-from", required_argument, NULL, OPT_INCLUDE_FROM},
    {"exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM},
    {"min-size", required_argument, NULL, OPT_MIN_SIZE},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"min-age", required_argument, NULL, OPT_MIN_AGE},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"bwlimit", required_argument, NULL, OPT_BWLIMIT},
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
	      "  --include GLOB        only entries matching GLOB (repeatable; '**' crosses '/')\n"
	      "  --exclude GLOB        skip entries matching GLOB (repeatable)\n"
	      "  --include-from FILE   --include each pattern of FILE (one a line, # comments)\n"
	      "  --exclude-from FILE   --exclude each pattern of FILE\n"
	      "  --min-size SIZE       only files of at least SIZE bytes (64K, 1M, 2G)\n"
	      "  --max-size SIZE       only files of at most SIZE bytes\n"
	      "  --min-age AGE         only files modified at least AGE ago (30s, 10m, 2h, 7d)\n"
	      "  --max-age AGE         only files modified within AGE\n"
	      "  --bwlimit RATE        read SRC at most RATE bytes/s, all transfers together (8M)\n"
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

/* --include/--exclude GLOB, or with from set the patterns of the file GLOB. */
static int copy_pattern(struct copy_args *a, int exclude, int from, const char *v)
{
	char err[CLI_ERR_MAX];

	if (from && mig_filter_add_file(&a->filter, exclude, v, err, sizeof(err)) != 0) {
		cli_error(a->o.cmd, "%s", err);
		return CLI_USAGE;
	}
	if (!from && mig_filter_add(&a->filter, exclude, v) != 0) {
		cli_error(a->o.cmd, "%s", cli_strerror(ENOMEM));
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* --min-size/--max-size/--bwlimit: a size such as 64K, 1M, 2G. */
static int copy_size(struct copy_args *a, const char *flag, const char *v, uint64_t *pout)
{
	return ufs_parse_size(v, pout) == 0 ? CLI_OK : copy_bad(a->o.cmd, flag, v);
}

/* --min-age/--max-age: a duration such as 30s, 10m, 2h, 7d. */
static int copy_age(struct copy_args *a, int max_age, const char *v)
{
	uint64_t age;

	if (ufs_parse_duration(v, &age) != 0)
		return copy_bad(a->o.cmd, max_age ? "--max-age" : "--min-age", v);
	mig_filter_age(&a->filter, max_age, age, a->now);
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
	case OPT_EXCLUDE:
	case OPT_INCLUDE_FROM:
	case OPT_EXCLUDE_FROM:
		return copy_pattern(a, c == OPT_EXCLUDE || c == OPT_EXCLUDE_FROM,
				    c == OPT_INCLUDE_FROM || c == OPT_EXCLUDE_FROM, optarg);
	case OPT_MIN_SIZE:
		return copy_size(a, "--min-size", optarg, &a->filter.min_size);
	case OPT_MAX_SIZE:
		return copy_size(a, "--max-size", optarg, &a->filter.max_size);
	case OPT_MIN_AGE:
	case OPT_MAX_AGE:
		return copy_age(a, c == OPT_MAX_AGE, optarg);
	case OPT_BWLIMIT:
		return copy_size(a, "--bwlimit", optarg, &a->o.bwlimit);
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
	a->o.filter = &a->filter;
	a->paths = argv + optind;
	a->n_paths = argc - optind;
	if (a->o.mode != MIG_CP)
		a->o.recursive = 1;
	a->o.progress = a->progress_flag >= 0 && isatty(STDERR_FILENO) && !a->o.json_lines &&
			(a->progress_flag > 0 || !a->o.json);
	return copy_check_args(a);
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
	int rc;

	if (cli_wants_help(argc, argv)) {
		copy_usage(stdout);
		return CLI_OK;
	}
	mig_filter_init(&a.filter);
	a.now = (int64_t)time(NULL);
	rc = copy_parse(&a, argc, argv);
	if (rc == CLI_OK)
		rc = mig_copy(&a.o, a.config, a.region, a.paths, a.n_paths);
	mig_filter_fini(&a.filter);
	return rc;
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
