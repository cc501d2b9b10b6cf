/*
 * cli_stats.c — `unifs stats [--json] MOUNTPOINT`: ask the daemon of a
 * running mount for its counters over its control socket ("stats\n" or
 * "stats json\n") and copy the reply to stdout. The daemon answers and
 * closes; a reply that stalls for STATS_TIMEOUT_MS is an error.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STATS_TIMEOUT_MS 10000

static void stats_usage(FILE *f)
{
	fputs("usage: unifs stats [--json] MOUNTPOINT\n"
	      "\n"
	      "Print the counters of a running unifs mount (requests, bytes, errors per\n"
	      "backend; cache hits, read-ahead, memory) as text or as JSON.\n",
	      f);
}

/* Copy the daemon's reply to stdout until it closes. 0 or -errno. */
static int stats_copy_reply(int fd)
{
	char buf[65536];

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int rc;

		if (poll(&p, 1, STATS_TIMEOUT_MS) == 0)
			return -ETIMEDOUT;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		rc = cli_write_all(STDOUT_FILENO, buf, (size_t)n);
		if (rc)
			return rc;
	}
}

static int stats_query(const char *mnt, const char *abs, int json)
{
	const char *req = json ? "stats json\n" : "stats\n";
	int fd = cli_ctl_connect(abs);
	int rc;

	if (fd < 0) {
		if (!cli_mounttab_is_unifs(abs))
			cli_error("stats", "%s: not a unifs mount", mnt);
		else
			cli_error("stats", "%s: daemon not answering on its control socket: %s",
				  mnt, cli_strerror(fd));
		return CLI_FAIL;
	}
	rc = cli_write_all(fd, req, strlen(req));
	if (rc == 0)
		shutdown(fd, SHUT_WR);
	if (rc == 0)
		rc = stats_copy_reply(fd);
	close(fd);
	if (rc) {
		cli_error("stats", "%s: %s", mnt, cli_strerror(rc));
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_stats_main(int argc, char **argv)
{
	char abs[PATH_MAX];
	const char *mnt = NULL;
	int json = 0;
	int rc;

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
	rc = cli_mountpoint_resolve(mnt, abs, sizeof(abs));
	if (rc != 0) {
		cli_error("stats", "%s: %s", mnt, cli_strerror(rc));
		return CLI_FAIL;
	}
	return stats_query(mnt, abs, json);
}
