/*
 * cli_i.h — private interface between the pieces of the unifs command line
 * (unifs.c dispatch, cli_*.c command families) and mount.unifs. The exit
 * statuses and message helpers are common/cli.h; the targets, streams and
 * the copy engine the commands drive are migrate/migrate.h.
 */
#ifndef UFS_CLI_I_H
#define UFS_CLI_I_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/cli.h"
#include "common/config.h"
#include "migrate/migrate.h"
#include "protocols/backend.h"

/*
 * Apply one comma-separated option list (as given to -o) to cfg: ro, rw,
 * allow_other, any [global] key=value, and mount(8)'s generic options
 * (defaults, _netdev, noauto, x-systemd.*, ...) which are accepted and
 * ignored. Returns 0, or -EINVAL with "unknown key 'bogus' in [global]" style
 * text in err. With sloppy set (mount.unifs -s) a rejected word is reported
 * on stderr under the name cmd and skipped instead. Does not call
 * ufs_config_validate (the caller does, once).
 */
int cli_options_apply(struct ufs_config *cfg, const char *optlist, int sloppy, const char *cmd,
		      char *err, size_t errlen);

/*
 * Canonical absolute path of a mount point (realpath). 0 on success. When the
 * path is a dead FUSE mount (-ENOTCONN/-EIO) or one the caller may not enter
 * (-EACCES: another user's mount) out still receives the absolute
 * (uncanonicalised) path and that -errno is returned; other -errno: out unset.
 */
int cli_mountpoint_resolve(const char *given, char *out, size_t outlen);

/* True when the canonical path abs is a mount point in the mount table. */
int cli_mounttab_is_mounted(const char *abs);

/* True when abs is a unifs FUSE mount (see cli_mounttab.c). */
int cli_mounttab_is_unifs(const char *abs);

/* One mount table entry (cli_mounttab.c): fstype, source and the uid its
 * daemon runs as (FUSE's user_id=; (uid_t)-1 when the entry has none). */
struct cli_mount_entry {
	const char *type, *source;
	uid_t owner;
};

/* The uid whose daemon serves the mount at abs (user_id= of its topmost
 * mount table entry): 0, or -ENOENT when abs is not such a mount. */
int cli_mounttab_owner(const char *abs, uid_t *owner);

/* Connect to the control socket of the mount at abs served by a daemon of
 * uid owner (cli_mounttab_owner): fd, or -errno (-ENOENT/-ECONNREFUSED: no
 * daemon serves it; -EACCES: the socket is not the caller's to use; -EPERM:
 * another uid listens in its place). */
int cli_ctl_connect(const char *abs, uid_t owner);

/* What `unifs mount` and mount.unifs ask for. */
struct cli_mount_req {
	const char *cmd;	 /* for messages: "mount" or "mount.unifs" */
	const char *source;	 /* config file or URL */
	const char *mountpoint;	 /* as given by the user */
	const char *const *opts; /* -o lists, may be NULL */
	size_t n_opts;
	int foreground; /* -f: do not detach, log to stderr */
	int verbose;	/* -v: say what is mounted */
	int sloppy;	/* -s: skip options that are not understood */
	int fake;	/* mount(8) -f: check everything, mount nothing */
};

/* Load, override, validate, then mount (detached unless foreground) and wait
 * until the mount is live. Returns the exit status (CLI_OK/CLI_FAIL/CLI_USAGE). */
int cli_mount_run(const struct cli_mount_req *req);

/*
 * Run a one-target command "unifs CMD [-FLAGS] (URL | -c CONFIG /path)":
 * --help prints usage to stdout, a bad command line prints it to stderr
 * (CLI_USAGE); otherwise the target is opened (t->flags records which of
 * the single-letter options in flags were given), run(t) gives the exit
 * status, and t is closed.
 */
int cli_target_command(int argc, char **argv, const char *cmd, const char *flags,
		       void (*usage)(FILE *f), int (*run)(struct mig_target *t));

/* Take SOURCE and MOUNTPOINT from argv[first..] (exactly two left, else
 * usage(stderr) and CLI_USAGE) into req, then cli_mount_run(req). */
int cli_mount_args_run(struct cli_mount_req *req, int argc, char **argv, int first,
		       void (*usage)(FILE *f));

/* Command entry points (argv[0] is the command name). */
int cli_mount_main(int argc, char **argv);
int cli_umount_main(int argc, char **argv);
int cli_ls_main(int argc, char **argv);
int cli_stat_main(int argc, char **argv);
int cli_cat_main(int argc, char **argv);
int cli_stats_main(int argc, char **argv);
int cli_ctl_main(int argc, char **argv);
int cli_doctor_main(int argc, char **argv);

/* Send one request line (req, '\n'-terminated) to the daemon of mount point
 * mnt and copy its reply to stdout (to stderr when it starts with
 * "error:"). Prints why on failure as "unifs CMD: ...". Returns CLI_OK or
 * CLI_FAIL (no mount, no daemon, timeout, or an "error:" reply). */
int cli_ctl_request(const char *cmd, const char *mnt, const char *req);
int cli_cp_main(int argc, char **argv);
int cli_sync_main(int argc, char **argv);
int cli_check_main(int argc, char **argv);

#endif
