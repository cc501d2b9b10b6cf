/*
 * cli_ctl.c — talk to the daemon of a running mount over its control socket
 * (see fs/service/ctl.c): cli_ctl_request() sends one request line and copies the
 * reply to stdout; `unifs ctl MOUNTPOINT log=LEVEL` changes the daemon's log
 * level at run time. A reply that stalls for CTL_TIMEOUT_MS is an error, and
 * a reply starting with "error:" makes the command fail.
 *
 * The socket is found from the uid that made the mount (cli_mounttab.c), so
 * a user's own mount answers its owner; another user of it is told whose it
 * is, in one line.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 10000

static void ctl_usage(FILE *f)
{
	fputs("usage: unifs ctl MOUNTPOINT log=error|warn|info|debug\n"
	      "\n"
	      "Change a setting of a running unifs mount: log=LEVEL sets the daemon's\n"
	      "log level until it exits.\n",
	      f);
}

/* Copy the daemon's reply to stdout until it closes; *perror is set when it
 * starts with "error:". 0 or -errno. */
static int ctl_copy_reply(int fd, int *perror)
{
	char buf[65536];
	int first = 1;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int rc;

		if (poll(&p, 1, CTL_TIMEOUT_MS) == 0)
			return -ETIMEDOUT;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (first && n >= 6 && memcmp(buf, "error:", 6) == 0)
			*perror = 1;
		first = 0;
		rc = cli_write_all(*perror ? STDERR_FILENO : STDOUT_FILENO, buf, (size_t)n);
		if (rc)
			return rc;
	}
}

/* 1 (and the message said) when the unifs mount at abs is another user's
 * own mount, which only its owner may use. */
static int ctl_not_ours(const char *cmd, const char *mnt, const char *abs)
{
	uid_t owner;

	if (cli_mounttab_owner(abs, &owner) < 0 || owner == 0 || owner == geteuid() ||
	    !cli_mounttab_is_unifs(abs))
		return 0;
	cli_error(cmd, "%s: the unifs mount of uid %u: only its owner may use its control socket",
		  mnt, (unsigned)owner);
	return 1;
}

/* Connect to the control socket of the mount at abs (given as mnt), or say
 * why not: fd, or -1. */
static int ctl_connect(const char *cmd, const char *mnt, const char *abs)
{
	uid_t owner;
	int fd = cli_mounttab_owner(abs, &owner);

	if (fd == 0)
		fd = cli_ctl_connect(abs, owner);
	if (fd >= 0)
		return fd;
	if (!cli_mounttab_is_unifs(abs))
		cli_error(cmd, "%s: not a unifs mount", mnt);
	else if (ctl_not_ours(cmd, mnt, abs))
		; /* said */
	else if (fd == -EPERM)
		cli_error(cmd, "%s: its control socket is not served by uid %u, who made the mount",
			  mnt, (unsigned)owner);
	else
		cli_error(cmd, "%s: daemon not answering on its control socket: %s", mnt,
			  cli_strerror(fd));
	return -1;
}

int cli_ctl_request(const char *cmd, const char *mnt, const char *req)
{
	char abs[PATH_MAX];
	int fd, rc, refused = 0;

	rc = cli_mountpoint_resolve(mnt, abs, sizeof(abs));
	if (rc == -EACCES && ctl_not_ours(cmd, mnt, abs))
		return CLI_FAIL;
	if (rc != 0) {
		cli_error(cmd, "%s: %s", mnt, cli_strerror(rc));
		return CLI_FAIL;
	}
	fd = ctl_connect(cmd, mnt, abs);
	if (fd < 0)
		return CLI_FAIL;
	rc = cli_write_all(fd, req, strlen(req));
	if (rc == 0)
		shutdown(fd, SHUT_WR);
	if (rc == 0)
		rc = ctl_copy_reply(fd, &refused);
	close(fd);
	if (rc) {
		cli_error(cmd, "%s: %s", mnt, cli_strerror(rc));
		return CLI_FAIL;
	}
	return refused ? CLI_FAIL : CLI_OK;
}

int cli_ctl_main(int argc, char **argv)
{
	char req[64];

	if (cli_wants_help(argc, argv)) {
		ctl_usage(stdout);
		return CLI_OK;
	}
	if (argc != 3 || argv[1][0] == '-') {
		ctl_usage(stderr);
		return CLI_USAGE;
	}
	if (strncmp(argv[2], "log=", 4) != 0 || strlen(argv[2]) > 40) {
		cli_error("ctl", "unknown setting '%s' (expected log=error|warn|info|debug)",
			  argv[2]);
		return CLI_USAGE;
	}
	snprintf(req, sizeof(req), "log %s\n", argv[2] + 4);
	return cli_ctl_request("ctl", argv[1], req);
}
