/*
 * daemon.c — ufs_fs_run(): build a mount's state, mount, serve, tear down.
 *
 * It assembles the rooms of fs/, each behind its header: inode/ (mount
 * table, inode table, offline state), io/ (block cache, write sides),
 * ops/ (the FUSE operation table), direct/ (the direct-path server) and
 * service/ (control socket, metrics endpoint, FUSE request statistics).
 * Calls only go down: service/ and ops/ call direct/, io/ and inode/;
 * direct/ calls inode/; io/ and inode/ call nothing else in fs/ (and
 * fs/sockdir.c, the socket directory, serves service/ and direct/).
 *
 * Order: check the mount point -> memory budget, namespace, inode table,
 * metadata cache, block cache -> backends (create all, then check all in
 * parallel: each check is bounded by op_timeout inside the backend) ->
 * FUSE session (its handlers wrapped by service/fuse_stats.c), signal handlers,
 * mount -> control socket, metrics endpoint -> multi-threaded loop, and "OK"
 * on ready_fd (and READY=1 to systemd) once the kernel's INIT is done and the
 * bdi read-ahead raised -> SIGTERM/SIGINT/unmount ends the loop: STOPPING=1,
 * teardown in reverse order.
 *
 * A backend whose server is unreachable does not fail the mount (its
 * subtree reports errors until the server answers); any other backend
 * error does, with a one-line reason on ready_fd.
 *
 * The loop runs with up to FS_MAX_THREADS workers and keeps FS_IDLE_THREADS
 * idle ones, so requests stuck on a dead server (bounded by op_timeout)
 * cannot starve requests for the other subtrees.
 *
 * After the kernel's INIT the bdi read-ahead of the mount is raised to
 * FS_READAHEAD_KB (the kernel clamps the INIT value to its 128 KiB default;
 * sysfs is the only way past it). Only then is the mount announced: a file
 * opened earlier keeps the 128 KiB window for as long as it is open (the
 * kernel copies it at open), and reads then reach us in 4x more, smaller
 * requests.
 */
#include "fs/direct/direct.h"
#include "fs/fs.h"
#include "fs/inode/inode.h"
#include "fs/io/io.h"
#include "fs/ops/ops.h"
#include "fs/service/service.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/budget.h"
#include "common/log.h"
#include "common/sdnotify.h"

#define FS_MAX_THREADS 256
#define FS_IDLE_THREADS 64
#define FS_IO_SIZE (1u << 20)
#define FS_READAHEAD_KB 4096

/* Write one line to the ready pipe (if any). */
static void run_say(int fd, const char *line)
{
	size_t len = strlen(line);

	if (fd < 0)
		return;
	if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		ufs_debug("ready pipe: %s", strerror(errno));
}

/* Write the last line to the ready pipe (if any) and close it. */
static void run_say_last(int fd, const char *line)
{
	run_say(fd, line);
	if (fd >= 0)
		close(fd);
}

/* Undo the \ooo escapes of /proc/self/mountinfo in place. */
static void run_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Find the FUSE mount at mp in mountinfo: 1 and its "major:minor" in dev,
 * or 0 when mp is not a FUSE mount point. */
static int run_fuse_mount_dev(const char *mp, char *dev, size_t devlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char mdev[64], mpoint[4096], fstype[256];
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %63s %*s %4095s", mdev, mpoint) != 2 ||
		    sscanf(dash + 3, "%255s", fstype) != 1)
			continue;
		run_unescape(mpoint);
		if (strcmp(mpoint, mp) == 0 && strncmp(fstype, "fuse", 4) == 0) {
			snprintf(dev, devlen, "%s", mdev);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static int run_check_mountpoint(const char *mp, char *err, size_t errlen)
{
	struct stat st;
	char dev[64];

	if (stat(mp, &st) < 0) {
		int e = errno;

		if (e == ENOTCONN)
			snprintf(err, errlen, "mount: %s: already mounted (not answering)", mp);
		else if (e == ENOENT)
			snprintf(err, errlen, "mount: %s: no such directory", mp);
		else
			snprintf(err, errlen, "mount: %s: %s", mp, strerror(e));
		return e == ENOTCONN ? -EBUSY : -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mount: %s: not a directory", mp);
		return -ENOTDIR;
	}
	if (run_fuse_mount_dev(mp, dev, sizeof(dev))) {
		snprintf(err, errlen, "mount: %s: already mounted", mp);
		return -EBUSY;
	}
	return 0;
}

/* One backend check, run on its own thread. */
struct run_check {
	struct ufs_backend *be;
	pthread_t thread;
	int started;
	int rc;
	char err[256];
};

static void *run_check_thread(void *arg)
{
	struct run_check *c = arg;

	c->rc = ufs_be_check(c->be, c->err, sizeof(c->err));
	return NULL;
}

/* "mount /x: URL: why", or why itself when the backend named the mount. */
static void run_mount_msg(const struct ufs_mount_cfg *m, const char *why, char *buf, size_t size)
{
	if (strncmp(why, "mount ", 6) == 0)
		snprintf(buf, size, "%s", why);
	else
		snprintf(buf, size, "mount %s: %s: %s", m->prefix, m->url, why);
}

/* Judge the result of the check of mount i: 0 to go on (warning sent for
 * an unreachable server), or -errno with the reason in err. */
static int run_judge_check(struct ufs_fs *fs, size_t i, struct run_check *c, int ready_fd,
			   char *err, size_t errlen)
{
	const struct ufs_mount_cfg *m = &fs->cfg->mounts[i];
	char why[320], msg[640], line[768];

	if (c->rc == 0)
		return 0;
	if (!ufs_errno_is_unreachable(c->rc)) {
		run_mount_msg(m, c->err[0] ? c->err : strerror(-c->rc), err, errlen);
		return c->rc;
	}
	if (c->err[0] && strncmp(c->err, "mount ", 6) == 0)
		snprintf(why, sizeof(why), "%s", c->err);
	else
		snprintf(why, sizeof(why), "server unreachable (%s)",
			 c->err[0] ? c->err : strerror(-c->rc));
	run_mount_msg(m, why, msg, sizeof(msg));
	snprintf(line, sizeof(line), "warning: %s; subtree will report errors until it answers",
		 msg);
	ufs_warn("%s", line + 9);
	run_say(ready_fd, line);
	return 0;
}

/* Check every backend in parallel; fail on the first non-network error. */
static int run_check_backends(struct ufs_fs *fs, int ready_fd, char *err, size_t errlen)
{
	struct run_check *c = calloc(fs->n_be ? fs->n_be : 1, sizeof(*c));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < fs->n_be; i++) {
		c[i].be = fs->be[i];
		c[i].started = pthread_create(&c[i].thread, NULL, run_check_thread, &c[i]) == 0;
		if (!c[i].started)
			run_check_thread(&c[i]);
	}
	for (size_t i = 0; i < fs->n_be; i++) {
		if (c[i].started)
			pthread_join(c[i].thread, NULL);
	}
	for (size_t i = 0; i < fs->n_be && rc == 0; i++)
		rc = run_judge_check(fs, i, &c[i], ready_fd, err, errlen);
	free(c);
	return rc;
}

static int run_create_backends(struct ufs_fs *fs, char *err, size_t errlen)
{
	fs->be = calloc(fs->cfg->n_mounts ? fs->cfg->n_mounts : 1, sizeof(*fs->be));
	if (!fs->be)
		return -ENOMEM;
	for (size_t i = 0; i < fs->cfg->n_mounts; i++) {
		int rc = ufs_backend_create(&fs->cfg->mounts[i], fs->cfg, &fs->be[i], err, errlen);

		if (rc < 0)
			return rc;
		fs->be[i]->budget = fs->budget;
		fs->be[i]->bufpool = ufs_cache_bufpool(fs->cache); /* parts of the block size */
		fs->n_be = i + 1;
	}
	return 0;
}

static int run_create_meta(struct ufs_fs *fs, char *err, size_t errlen)
{
	size_t n = fs->cfg->n_mounts;
	struct ufs_meta_ttl *ttl = calloc(n ? n : 1, sizeof(*ttl));
	int rc = ttl ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ufs_meta_ttl_from_config(fs->cfg, i, &ttl[i], err, errlen);
	if (rc == 0) {
		fs->meta = ufs_meta_create(n, ttl, NULL, NULL, 0);
		rc = fs->meta ? 0 : -ENOMEM;
	}
	free(ttl);
	return rc;
}

/* Everything but the FUSE session. */
static int run_setup(struct ufs_fs *fs, int ready_fd, char *err, size_t errlen)
{
	int root_mount;
	const char *rel;
	int rc;

	clock_gettime(CLOCK_REALTIME, &fs->started);
	fs->uid = getuid();
	fs->gid = getgid();
	fs->budget = ufs_budget_create(fs->cfg->memory);
	fs->ns = ufs_ns_create(fs->cfg);
	if (!fs->budget || !fs->ns)
		return -ENOMEM;
	ufs_ns_resolve(fs->ns, "/", &root_mount, &rel);
	fs->itab = ufs_itab_create(root_mount);
	if (!fs->itab || fs_wshares_create(fs) < 0)
		return -ENOMEM;
	rc = run_create_meta(fs, err, errlen);
	if (rc == 0 && !fs->cfg->block_cache && fs->cfg->cache_dir) {
		snprintf(err, errlen, "cache_dir needs the block cache (block_cache = false)");
		rc = -EINVAL;
	}
	if (rc == 0 && fs->cfg->block_cache)
		rc = fs_cache_create(fs, err, errlen);
	if (rc == 0) /* after the cache: clean blocks are reclaimed before listings */
		rc = ufs_meta_set_budget(fs->meta, fs->budget);
	if (rc == 0)
		ufs_itab_set_budget(fs->itab, fs->budget);
	if (rc == 0)
		rc = run_create_backends(fs, err, errlen);
	if (rc == 0)
		rc = fs_offline_create(fs);
	if (rc == 0)
		rc = run_check_backends(fs, ready_fd, err, errlen);
	return rc;
}

static void run_teardown(struct ufs_fs *fs)
{
	fs_metrics_stop(fs);
	fs_direct_stop(fs);
	fs_ctl_stop(fs);
	fs_fuse_stats_free(fs);
	fs_offline_destroy(fs);
	fs_cache_destroy(fs);
	for (size_t i = 0; i < fs->n_be; i++)
		ufs_backend_destroy(fs->be[i]);
	free(fs->be);
	ufs_meta_destroy(fs->meta);
	ufs_itab_destroy(fs->itab);
	fs_wshares_destroy(fs);
	ufs_ns_destroy(fs->ns);
	ufs_budget_destroy(fs->budget);
	free(fs->mountpoint);
}

static void run_init(void *userdata, struct fuse_conn_info *conn)
{
	struct ufs_fs *fs = userdata;

	conn->max_write = FS_IO_SIZE;
	conn->max_read = FS_IO_SIZE;
	conn->max_readahead = FS_IO_SIZE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	/* the kernel clears setuid/setgid on write, truncate and chown (as a
	 * SETATTR, fs/ops/ops.c ops_is_killpriv) instead of trusting us to */
	conn->want &= ~(unsigned)FUSE_CAP_HANDLE_KILLPRIV;
	atomic_store(&fs->init_done, 1);
}

/* Raise the read-ahead of the mount's bdi once the kernel's INIT is done
 * (best effort: a failure only costs throughput). */
static void run_tune(struct ufs_fs *fs)
{
	char dev[64], path[128];
	FILE *f;

	for (int i = 0; i < 100 && !atomic_load(&fs->init_done); i++)
		usleep(50 * 1000);
	usleep(100 * 1000); /* the INIT reply reaches the kernel after init() */
	if (!run_fuse_mount_dev(fs->mountpoint, dev, sizeof(dev)))
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	f = fopen(path, "we");
	if (!f) {
		ufs_debug("%s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%d\n", FS_READAHEAD_KB);
	if (fclose(f) != 0)
		ufs_debug("%s: %s", path, strerror(errno));
}

struct run_tune_arg {
	struct ufs_fs *fs;
	int ready_fd;
};

/* Tune the bdi, then announce the mount on ready_fd and close it. */
static void *run_tune_thread(void *arg)
{
	struct run_tune_arg *a = arg;

	run_tune(a->fs);
	run_say_last(a->ready_fd, "OK");
	if (ufs_sd_ready(a->fs->mountpoint) < 0)
		ufs_warn("systemd: cannot send READY=1 to $NOTIFY_SOCKET");
	return NULL;
}

static struct fuse_session *run_session_new(struct ufs_fs *fs)
{
	struct fuse_lowlevel_ops ops = {.init = run_init};
	char opts[256];
	char *argv[] = {"unifs", "-o", opts, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se;

	snprintf(opts, sizeof(opts),
		 "fsname=unifs,subtype=unifs,default_permissions,max_read=%u%s%s", FS_IO_SIZE,
		 fs->cfg->allow_other ? ",allow_other" : "", fs->cfg->readonly ? ",ro" : "");
	fs_ops_fill(&ops);
	if (fs_fuse_stats_wrap(fs, &ops) < 0)
		return NULL;
	se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	fuse_opt_free_args(&args);
	return se;
}

/* Run the session loop until unmount or a signal; "OK" goes to ready_fd
 * (then closed) once the mount is tuned. */
static int run_loop(struct ufs_fs *fs, int ready_fd)
{
	struct fuse_loop_config *lc = fuse_loop_cfg_create();
	struct run_tune_arg ta = {fs, ready_fd};
	pthread_t tune;
	int tuned, rc;

	if (!lc) {
		run_say_last(ready_fd, "cannot start the FUSE loop: out of memory");
		return -ENOMEM;
	}
	fuse_loop_cfg_set_clone_fd(lc, 1);
	fuse_loop_cfg_set_max_threads(lc, FS_MAX_THREADS);
	fuse_loop_cfg_set_idle_threads(lc, FS_IDLE_THREADS);
	tuned = pthread_create(&tune, NULL, run_tune_thread, &ta) == 0;
	if (!tuned)
		run_tune_thread(&ta); /* untuned, announced at once */
	rc = fuse_session_loop_mt(fs->se, lc);
	if (tuned)
		pthread_join(tune, NULL);
	fuse_loop_cfg_destroy(lc);
	return rc < 0 ? rc : 0; /* > 0: the signal that ended it: a clean stop */
}

/* Log a warning and say it on the ready pipe too ("warning: why"). */
static void run_warn(int ready_fd, const char *why)
{
	char line[1024];

	ufs_warn("%s", why);
	snprintf(line, sizeof(line), "warning: %s", why);
	run_say(ready_fd, line);
}

/* Start the control socket and the direct path; a failure (the socket
 * directory refused, say) is a warning, on ready_fd too. */
static void run_sockets(struct ufs_fs *fs, int ready_fd)
{
	char err[768], why[800];

	if (fs_ctl_start(fs, err, sizeof(err)) < 0) {
		snprintf(why, sizeof(why), "%s (unifs stats will not work)", err);
		run_warn(ready_fd, why);
	}
	if (fs_direct_start(fs, err, sizeof(err)) < 0) {
		snprintf(why, sizeof(why), "%s (the direct path will not work)", err);
		run_warn(ready_fd, why);
	}
}

/* Mount (announced later, by run_loop); on failure err holds the reason. */
static int run_mount(struct ufs_fs *fs, char *err, size_t errlen)
{
	fs->se = run_session_new(fs);
	if (!fs->se) {
		snprintf(err, errlen, "mount: %s: cannot start a FUSE session", fs->mountpoint);
		return -EIO;
	}
	if (fuse_set_signal_handlers(fs->se) < 0 ||
	    fuse_session_mount(fs->se, fs->mountpoint) < 0) {
		snprintf(err, errlen, "mount: %s: the kernel refused the FUSE mount (see log)",
			 fs->mountpoint);
		return -EIO;
	}
	ufs_info("mounted %s (%zu mount%s)", fs->mountpoint, fs->n_be, fs->n_be == 1 ? "" : "s");
	return 0;
}

/* Start the metrics endpoint; a failure is a warning on ready_fd too. */
static void run_metrics(struct ufs_fs *fs, int ready_fd)
{
	char why[400];

	if (fs_metrics_start(fs, why, sizeof(why)) != 0)
		run_warn(ready_fd, why);
}

static void run_end_session(struct ufs_fs *fs, int mounted)
{
	if (!fs->se)
		return;
	fuse_remove_signal_handlers(fs->se);
	if (mounted)
		fuse_session_unmount(fs->se);
	fuse_session_destroy(fs->se);
	fs->se = NULL;
}

int ufs_fs_run(struct ufs_config *cfg, const char *mountpoint, int ready_fd)
{
	struct ufs_fs fs = {.cfg = cfg};
	char err[768] = "";
	int rc = run_check_mountpoint(mountpoint, err, sizeof(err));

	fs.mountpoint = strdup(mountpoint);
	if (rc == 0 && !fs.mountpoint)
		rc = -ENOMEM;
	if (rc == 0)
		rc = run_setup(&fs, ready_fd, err, sizeof(err));
	if (rc == 0)
		rc = run_mount(&fs, err, sizeof(err));
	if (rc == 0) {
		run_sockets(&fs, ready_fd);
		run_metrics(&fs, ready_fd);
	}
	if (rc < 0)
		run_say_last(ready_fd, err[0] ? err : strerror(-rc));
	if (rc == 0) {
		rc = run_loop(&fs, ready_fd); /* announces the mount */
		ufs_info("unmounting %s", fs.mountpoint);
		ufs_sd_stopping(fs.mountpoint);
		fs_metrics_stop(&fs);
		fs_direct_stop(&fs);
		fs_ctl_stop(&fs);
	}
	if (rc < 0 && err[0])
		ufs_err("%s", err);
	run_end_session(&fs, fs.se != NULL);
	run_teardown(&fs);
	return rc;
}
