/*
 * cli_stats.c — `unifs stats [--json] MOUNTPOINT`: ask the daemon of a
 * running mount for its counters over its control socket ("stats\n" or
 * "stats json\n", sent by cli_ctl_request) and copy the reply to stdout.
 */
#include "mount-helpers/cli_i.h"

#include <stdio.h>
#include <string.h>

static void stats_usage(FILE *f)
{
	fputs("usage: unifs stats [--json] MOUNTPOINT\n"
	      "\n"
	      "Print the counters of a running unifs mount (requests, bytes, errors per\n"
	      "backend; cache hits, read-ahead, memory) as text or as JSON.\n",
	      f);
}

int cli_stats_main(int argc, char **argv)
{
	const char *mnt = NULL;
	int json = 0;

	if (cli_wants_help(argc, argv)) {
		stats_usage(stdout);
		return CLI_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			json = 1;
		} else if (mnt || argv[i][0] == '-') {
			stats_usage(stderr);
			return CLI_USAGE;
		} else {
			mnt = argv[i];
		}
	}
	if (!mnt) {
		stats_usage(stderr);
		return CLI_USAGE;
	}
	return cli_ctl_request("stats", mnt, json ? "stats json\n" : "stats\n");
}
