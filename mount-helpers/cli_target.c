/*
 * cli_target.c — the command line of the one-target commands (ls, stat,
 * cat): "unifs CMD [-FLAGS] [--region R] (URL | -c CONFIG /path)", parsed
 * here; the target itself is opened by migrate/target.c.
 */
#include "mount-helpers/cli_i.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* Parse the command line into t (flags, target); CLI_OK or CLI_USAGE. */
static int target_parse_args(struct mig_target *t, int argc, char **argv, const char *flags,
			     const char **pconfig)
{
	static const struct option lo[] = {{"region", required_argument, NULL, 'R'},
					   {NULL, 0, NULL, 0}};
	char optstring[32];
	int c;

	snprintf(optstring, sizeof(optstring), "+c:%s", flags);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		const char *f = c != ':' && c != '?' && c != 'R' ? strchr(flags, c) : NULL;

		if (c == 'c')
			*pconfig = optarg;
		else if (c == 'R')
			t->region = optarg;
		else if (f)
			t->flags |= 1u << (f - flags);
		else
			return CLI_USAGE;
	}
	if (argc - optind != 1)
		return CLI_USAGE;
	t->name = argv[optind];
	if (*pconfig ? t->name[0] != '/' : !strstr(t->name, "://"))
		return CLI_USAGE;
	return CLI_OK;
}

int cli_target_command(int argc, char **argv, const char *cmd, const char *flags,
		       void (*usage)(FILE *f), int (*run)(struct mig_target *t))
{
	struct mig_target t = {.cmd = cmd};
	const char *config = NULL;
	int rc;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return CLI_OK;
	}
	if (target_parse_args(&t, argc, argv, flags, &config) != CLI_OK) {
		usage(stderr);
		return CLI_USAGE;
	}
	rc = mig_target_open(&t, config, t.name);
	if (rc == CLI_OK)
		rc = run(&t);
	mig_target_close(&t);
	return rc;
}
