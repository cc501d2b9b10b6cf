/*
 * cli_mount.c — `unifs mount`, `unifs umount`, and cli_mount_run() which
 * mount.unifs shares.
 *
 * Mount sequence (detached, the default):
 *   parent: load SOURCE, apply -o, validate, resolve MOUNTPOINT (realpath),
 *           refuse an existing unifs mount there, open a pipe, fork;
 *   child:  setsid, chdir /, stdio -> /dev/null, log to syslog,
 *           ufs_fs_run(cfg, mountpoint, pipe) until unmounted;
 *   parent: read the pipe (bounded): warning lines are printed, "OK" means
 *           the mount is live (exit 0); anything else is the one-line reason
 *           (exit 1, the child is reaped). On timeout the child is terminated
 *           (SIGTERM makes it unmount) so no half-mounted directory remains.
 * With -f the caller's process runs ufs_fs_run itself, logging to stderr.
 *
 * Unmount: fusermount3 -u (umount2 as root), then wait (bounded) until the
 * daemon's control socket stops answering, i.e. the daemon has exited.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/fs.h"

#define MOUNT_READY_TIMEOUT_MS 60000
#define UMOUNT_WAIT_MS 30000

static double mount_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Build the config: SOURCE, then every -o list, then validation. */
static int mount_build_config(const struct cli_mount_req *req, struct ufs_config **pcfg)
{
	char err[CLI_ERR_MAX] = "";
	struct ufs_config *cfg = NULL;
	int rc = ufs_be_config_open(req->source, &cfg, err, sizeof(err));

	for (size_t i = 0; rc == 0 && i < req->n_opts; i++)
		rc = cli_options_apply(cfg, req->opts[i], req->sloppy, req->cmd, err, sizeof(err));
	if (rc == 0)
		rc = ufs_config_validate(cfg, err, sizeof(err));
	if (rc != 0) {
		cli_error(req->cmd, "%s", err[0] ? err : cli_strerror(rc));
		ufs_config_destroy(cfg);
		return rc;
	}
	*pcfg = cfg;
	return 0;
}

/* Resolve and check the mount point; prints the reason on failure. */
static int mount_check_mountpoint(const struct cli_mount_req *req, char *abs, size_t len)
{
	struct stat st;
	int rc = cli_mountpoint_resolve(req->mountpoint, abs, len);

	if (rc == -ENOENT) {
		cli_error(req->cmd, "%s: no such directory", req->mountpoint);
		return rc;
	}
	if (rc == -ENOTCONN || rc == -EIO) {
		cli_error(req->cmd, "%s: stale mount (run 'unifs umount %s' first)",
			  req->mountpoint, req->mountpoint);
		return rc;
	}
	if (rc == 0 && stat(abs, &st) < 0)
		rc = -errno;
	if (rc != 0) {
		cli_error(req->cmd, "%s: %s", req->mountpoint, cli_strerror(rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		cli_error(req->cmd, "%s: not a directory", req->mountpoint);
		return -ENOTDIR;
	}
	if (cli_mounttab_is_unifs(abs)) {
		cli_error(req->cmd, "%s: already mounted (run 'unifs umount %s' first)",
			  req->mountpoint, req->mountpoint);
		return -EBUSY;
	}
	return 0;
}

static enum ufs_log_level mount_log_level(const struct ufs_config *cfg)
{
	enum ufs_log_level level = UFS_LOG_INFO;

	if (cfg->log_level)
		ufs_log_parse_level(cfg->log_level, &level);
	return level;
}

/* Child side of a detached mount; never returns. */
static void mount_daemon_child(struct ufs_config *cfg, const char *abs, int rfd, int wfd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int rc;

	close(rfd);
	setsid();
	if (chdir("/") < 0)
		_exit(CLI_FAIL);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	/* Keep only stdio and the ready pipe: the caller's other descriptors (a
	 * lock, a command substitution's pipe) must not live on in the daemon. */
	if (wfd != 3 && dup2(wfd, 3) == 3) {
		close(wfd);
		wfd = 3;
	}
	closefrom(wfd + 1);
	ufs_log_init(1, mount_log_level(cfg));
	rc = ufs_fs_run(cfg, abs, wfd);
	ufs_config_destroy(cfg);
	_exit(rc == 0 ? CLI_OK : CLI_FAIL);
}

/* Read one line from fd into line (without '\n') before deadline_ms.
 * Returns 1 for a line, 0 at EOF (partial text kept in line), -ETIMEDOUT. */
static int mount_read_line(int fd, char *line, size_t size, double deadline_ms)
{
	size_t n = 0;

	line[0] = '\0';
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		double left = deadline_ms - mount_now_ms();
		char c;
		ssize_t r;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left + 1) == 0)
			continue;
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if (c == '\n')
			return 1;
		if (n + 1 < size) {
			line[n++] = c;
			line[n] = '\0';
		}
	}
}

/* Terminate a daemon that did not get ready: SIGTERM (it unmounts), then
 * SIGKILL after a grace period; reaps it. */
static void mount_stop_child(pid_t pid)
{
	double deadline = mount_now_ms() + 10000;

	kill(pid, SIGTERM);
	while (mount_now_ms() < deadline) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Print one line the daemon wrote on the ready pipe (a warning or the
 * reason), without the "mount: " its reasons start with. */
static void mount_print_daemon_line(const struct cli_mount_req *req, const char *line)
{
	if (strncmp(line, "mount: ", 7) == 0)
		line += 7;
	fprintf(stderr, "unifs: %s: %s\n", req->cmd, line);
}

/* Reap a child that closed the pipe without "OK"; say why it failed unless
 * it said so itself (said != 0) or left a last unterminated line. */
static void mount_report_child_exit(const struct cli_mount_req *req, pid_t pid, const char *reason,
				    int said)
{
	int status = 0;

	waitpid(pid, &status, 0);
	if (reason[0])
		mount_print_daemon_line(req, reason);
	else if (said)
		return;
	else if (WIFSIGNALED(status))
		cli_error(req->cmd, "%s: daemon killed by signal %d", req->mountpoint,
			  WTERMSIG(status));
	else
		cli_error(req->cmd, "%s: daemon exited (status %d) before the mount was live",
			  req->mountpoint, WEXITSTATUS(status));
}

/* Parent side: wait for "OK" or the reason. */
static int mount_wait_ready(const struct cli_mount_req *req, pid_t pid, int rfd)
{
	double deadline = mount_now_ms() + MOUNT_READY_TIMEOUT_MS;
	char line[CLI_ERR_MAX];
	int said = 0;
	int r;

	while ((r = mount_read_line(rfd, line, sizeof(line), deadline)) == 1) {
		if (strcmp(line, "OK") == 0) {
			if (req->verbose)
				printf("%s mounted on %s\n", req->source, req->mountpoint);
			return CLI_OK;
		}
		if (line[0])
			mount_print_daemon_line(req, line);
		said |= line[0] != '\0';
	}
	if (r == -ETIMEDOUT) {
		cli_error(req->cmd, "%s: mount not ready after %d s, giving up", req->mountpoint,
			  MOUNT_READY_TIMEOUT_MS / 1000);
		mount_stop_child(pid);
		return CLI_FAIL;
	}
	mount_report_child_exit(req, pid, line, said);
	return CLI_FAIL;
}

static int mount_detached(const struct cli_mount_req *req, struct ufs_config *cfg, const char *abs)
{
	int fds[2];
	pid_t pid;
	int rc;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		cli_error(req->cmd, "pipe: %s", strerror(errno));
		return CLI_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cli_error(req->cmd, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return CLI_FAIL;
	}
	if (pid == 0)
		mount_daemon_child(cfg, abs, fds[0], fds[1]);
	close(fds[1]);
	rc = mount_wait_ready(req, pid, fds[0]);
	close(fds[0]);
	return rc;
}

/* Print what ufs_fs_run left in the ready pipe when it failed (the reason);
 * returns how many lines were printed. */
static int mount_drain_reason(const struct cli_mount_req *req, int rfd)
{
	char buf[CLI_ERR_MAX * 4];
	char *save = NULL;
	ssize_t n;
	int lines = 0;

	fcntl(rfd, F_SETFL, O_NONBLOCK);
	n = read(rfd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strcmp(l, "OK") != 0) {
			mount_print_daemon_line(req, l);
			lines++;
		}
	}
	return lines;
}

static int mount_foreground(const struct cli_mount_req *req, struct ufs_config *cfg,
			    const char *abs)
{
	int fds[2];
	int rc;

	ufs_log_init(0, mount_log_level(cfg));
	if (pipe2(fds, O_CLOEXEC) < 0) {
		cli_error(req->cmd, "pipe: %s", strerror(errno));
		return CLI_FAIL;
	}
	/* ufs_fs_run owns fds[1] from here on. */
	rc = ufs_fs_run(cfg, abs, fds[1]);
	if (rc != 0 && mount_drain_reason(req, fds[0]) == 0)
		cli_error(req->cmd, "%s: %s", req->mountpoint, cli_strerror(rc));
	close(fds[0]);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}

int cli_mount_run(const struct cli_mount_req *req)
{
	struct ufs_config *cfg = NULL;
	char abs[PATH_MAX];
	int rc;

	ufs_log_init(0, UFS_LOG_WARN);
	if (mount_build_config(req, &cfg) != 0)
		return CLI_FAIL;
	if (mount_check_mountpoint(req, abs, sizeof(abs)) != 0) {
		ufs_config_destroy(cfg);
		return CLI_FAIL;
	}
	if (req->fake)
		rc = CLI_OK;
	else if (req->foreground)
		rc = mount_foreground(req, cfg, abs);
	else
		rc = mount_detached(req, cfg, abs);
	ufs_config_destroy(cfg);
	return rc;
}

int cli_mount_args_run(struct cli_mount_req *req, int argc, char **argv, int first,
		       void (*usage)(FILE *f))
{
	if (argc - first != 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	req->source = argv[first];
	req->mountpoint = argv[first + 1];
	return cli_mount_run(req);
}

static void mount_usage(FILE *f)
{
	fputs("usage: unifs mount [-f] [-o OPT[,OPT...]] SOURCE MOUNTPOINT\n"
	      "\n"
	      "Mount the namespace described by SOURCE (a config file, or one URL:\n"
	      "file://, nfs://, s3://, az://) at MOUNTPOINT. The command returns once\n"
	      "the mount is live, or fails with a one-line reason.\n"
	      "\n"
	      "  -f         stay in the foreground, log to stderr\n"
	      "  -o OPTS    ro, rw, allow_other, or any [global] key=value\n"
	      "             (memory=1G, log=debug, cache_dir=DIR, op_timeout=5, ...)\n"
	      "  -h, --help show this help\n",
	      f);
}

int cli_mount_main(int argc, char **argv)
{
	struct cli_mount_req req = {.cmd = "mount"};
	const char *opts[64];
	int c;

	if (cli_wants_help(argc, argv)) {
		mount_usage(stdout);
		return CLI_OK;
	}
	optind = 1;
	while ((c = getopt(argc, argv, "+fo:v")) != -1) {
		if (c == 'f') {
			req.foreground = 1;
		} else if (c == 'v') {
			req.verbose = 1;
		} else if (c == 'o' && req.n_opts < sizeof(opts) / sizeof(opts[0])) {
			opts[req.n_opts++] = optarg;
		} else {
			mount_usage(stderr);
			return CLI_USAGE;
		}
	}
	req.opts = opts;
	return cli_mount_args_run(&req, argc, argv, optind, mount_usage);
}

/* Detach the mount: umount2() as root, fusermount3 -u otherwise. */
static int umount_detach(const char *abs)
{
	pid_t pid;
	int status;

	if (geteuid() == 0)
		return umount2(abs, 0) == 0 ? 0 : -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", "-q", "--", abs, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return cli_mounttab_is_mounted(abs) ? -EBUSY : 0;
}

/* Wait (bounded) until the daemon (of uid owner) no longer answers on its
 * socket and the mount has left the mount table. */
static int umount_wait_gone(const char *abs, uid_t owner)
{
	double deadline = mount_now_ms() + UMOUNT_WAIT_MS;

	while (mount_now_ms() < deadline) {
		int fd = cli_ctl_connect(abs, owner);

		if (fd >= 0)
			close(fd);
		else if (!cli_mounttab_is_unifs(abs))
			return 0;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

static void umount_usage(FILE *f)
{
	fputs("usage: unifs umount MOUNTPOINT\n"
	      "\n"
	      "Unmount a unifs mount and wait until its daemon has exited.\n",
	      f);
}

int cli_umount_main(int argc, char **argv)
{
	const char *mnt;
	char abs[PATH_MAX];
	uid_t owner = geteuid();
	int rc;

	if (cli_wants_help(argc, argv)) {
		umount_usage(stdout);
		return CLI_OK;
	}
	if (argc != 2) {
		umount_usage(stderr);
		return CLI_USAGE;
	}
	mnt = argv[1];
	rc = cli_mountpoint_resolve(mnt, abs, sizeof(abs));
	if (rc != 0 && rc != -ENOTCONN && rc != -EIO) {
		cli_error("umount", "%s: %s", mnt, cli_strerror(rc));
		return CLI_FAIL;
	}
	if (!cli_mounttab_is_unifs(abs)) {
		cli_error("umount", "%s: not a unifs mount", mnt);
		return CLI_FAIL;
	}
	(void)cli_mounttab_owner(abs, &owner); /* known only while mounted */
	rc = umount_detach(abs);
	if (rc == -EBUSY) {
		cli_error("umount", "%s: busy (files or directories in use)", mnt);
		return CLI_FAIL;
	}
	if (rc != 0) {
		cli_error("umount", "%s: %s", mnt, cli_strerror(rc));
		return CLI_FAIL;
	}
	if (umount_wait_gone(abs, owner) != 0) {
		cli_error("umount", "%s: unmounted, but the daemon did not exit within %d s", mnt,
			  UMOUNT_WAIT_MS / 1000);
		return CLI_FAIL;
	}
	return CLI_OK;
}
