/*
 * cli_i.h — private interface between the pieces of the unifs command line
 * (unifs.c dispatch, cli_*.c command families) and mount.unifs.
 *
 * Every command entry point has the shape of main(): it gets its own argv
 * (argv[0] is the command name, e.g. "ls") and returns the process exit
 * status: CLI_OK, CLI_FAIL (runtime failure) or CLI_USAGE (bad usage).
 * Messages go to stderr as one line: "unifs: CMD: what: why".
 */
#ifndef UFS_CLI_I_H
#define UFS_CLI_I_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/config.h"
#include "protocols/backend.h"

struct ufs_ns;

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_ERR_MAX 512

/* Print "unifs: CMD: <formatted>" and a newline to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* strerror() of a -errno / errno value (sign ignored). */
const char *cli_strerror(int err);

/* Write all of buf to fd (retrying short writes and EINTR); 0 or -errno. */
int cli_write_all(int fd, const void *buf, size_t len);

/* True when argv[1..] holds "-h" or "--help" before any "--". */
int cli_wants_help(int argc, char **argv);

/* Load SOURCE: a URL when it contains "://" (ufs_config_from_url), else a
 * config file (ufs_config_load). 0 and an owned *pcfg, or -errno with the
 * one-line reason in err. */
int cli_config_open(const char *source, struct ufs_config **pcfg, char *err, size_t errlen);

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
 * A browse TARGET (ls/stat/cat): a URL, or a path in a config's namespace.
 * be serves the target at the backend-relative path rel; in the namespace
 * form a synthetic directory (the root, "/data" above "/data/nfs") has
 * synthetic set and be may be NULL (no mount covers it).
 */
struct cli_target {
	const char *cmd;	/* "ls", for messages */
	const char *name;	/* the target as the user typed it */
	struct ufs_config *cfg; /* owned */
	struct ufs_ns *ns;	/* owned; namespace form only */
	struct ufs_backend *be; /* owned; NULL for an uncovered synthetic dir */
	char *rel;		/* owned backend-relative path */
	char *nspath;		/* owned normalised namespace path; NULL for URLs */
	int synthetic;		/* nspath is a synthetic directory */
	unsigned flags;		/* bit i: option letter i of the command's flags seen */
	const char *region;	/* --region: the region key of a URL-form target, or NULL */
};

/* Open the target: config == NULL: name is a URL; else name is a path in
 * the namespace of the config file. Prints the reason and returns CLI_FAIL
 * on error; CLI_OK when t is ready (close with cli_target_close). */
int cli_target_open(struct cli_target *t, const char *config, const char *name);

/* Free what t owns. */
void cli_target_close(struct cli_target *t);

/* Attributes of the target itself (synthetic dirs get 0555 dir attrs). */
int cli_target_getattr(struct cli_target *t, struct ufs_attr *pattr);

/* Print why an operation on t failed and return CLI_FAIL: the backend's
 * check message when its root is the problem ("bucket 'x' does not exist"),
 * else "unifs: CMD: TARGET: <strerror(rc)>" with the backend's last error
 * appended when it says more. */
int cli_target_fail(struct cli_target *t, int rc);

/*
 * Run a one-target command "unifs CMD [-FLAGS] (URL | -c CONFIG /path)":
 * --help prints usage to stdout, a bad command line prints it to stderr
 * (CLI_USAGE); otherwise the target is opened (t->flags records which of
 * the single-letter options in flags were given), run(t) gives the exit
 * status, and t is closed.
 */
int cli_target_command(int argc, char **argv, const char *cmd, const char *flags,
		       void (*usage)(FILE *f), int (*run)(struct cli_target *t));

/* Take SOURCE and MOUNTPOINT from argv[first..] (exactly two left, else
 * usage(stderr) and CLI_USAGE) into req, then cli_mount_run(req). */
int cli_mount_args_run(struct cli_mount_req *req, int argc, char **argv, int first,
		       void (*usage)(FILE *f));

/* The sink of cli_stream_object: buf[0..len) is the object's bytes at off,
 * handed over in order. 0 to go on, or -errno to stop the stream. */
typedef int (*cli_stream_sink)(void *arg, const void *buf, size_t len, uint64_t off);

struct cli_stream_opts {
	size_t chunk;	   /* bytes per ranged read (> 0) */
	unsigned inflight; /* reads in flight (1..64) */
};

/*
 * Read obj (pinned: a changed object fails with -ESTALE) through o->inflight parallel ranged reads
 * and hand the bytes to sink in order. Returns 0, a read error, or the sink's error (then
 * *psink_err = 1).
 */
int cli_stream_object(struct ufs_backend *be, const struct ufs_obj *obj,
		      const struct cli_stream_opts *o, cli_stream_sink sink, void *arg,
		      int *psink_err);

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
