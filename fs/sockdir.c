/*
 * sockdir.c — the socket directory of a daemon, where each mount's control
 * socket (service/ctl.c) and direct-path socket (direct/) live, and the
 * names of those sockets.
 *
 * The directory depends only on the uid the daemon runs as, so that the
 * daemon and every client compute it the same way with no configuration
 * and no environment (XDG_RUNTIME_DIR may be unset, or differ between
 * shells); a client learns that uid from the mount table (user_id=):
 *
 *   uid 0       /run/unifs, mode 0755: every local user must reach the
 *               direct-path socket (any user of an allow_other mount may use
 *               the direct path; direct.c checks each client), while the
 *               control socket itself stays the owner's unless allow_other.
 *               A directory left 0700 by an older daemon is opened to 0755.
 *   other uids  /run/user/<uid>/unifs when /run/user/<uid> is a directory
 *               (not a symlink) owned by that uid, else /tmp/unifs-<uid>;
 *               mode 0700 with sockets 0600: a user's own mount is its
 *               owner's alone.
 *
 * A directory another user owns or may write (where sockets could be
 * planted or swapped) is refused, and so is a symlink (never followed:
 * O_NOFOLLOW, checked with fstat on what was opened). Once checked, the
 * path cannot be swapped: /run/user/<uid> is the user's own, and /tmp is
 * sticky, so only the owner may rename or remove its unifs-<uid>.
 *
 * Both servers use it and neither calls the other, so it sits below them;
 * the CLI (mount-helpers/cli_mounttab.c) uses ufs_ctl_socket_path().
 */
#include "fs/sockdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "fs/fs.h"

#define ROOT_DIR "/run/unifs"

int ufs_sock_dir(uid_t uid, unsigned which, char *buf, size_t size)
{
	char run[64];
	struct stat st;
	int in_run;

	if (uid == 0) {
		snprintf(buf, size, ROOT_DIR);
		return which == 0 ? 0 : -ENOENT;
	}
	snprintf(run, sizeof(run), "/run/user/%u", (unsigned)uid);
	in_run = lstat(run, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid;
	if (which > 1 || (which == 1 && !in_run))
		return -ENOENT;
	if (in_run && which == 0)
		snprintf(buf, size, "%s/unifs", run);
	else
		snprintf(buf, size, "/tmp/unifs-%u", (unsigned)uid);
	return 0;
}

void fs_sock_path(const char *dir, const char *mountpoint, const char *suffix, char *buf,
		  size_t size)
{
	snprintf(buf, size, "%s/%016llx%s", dir,
		 (unsigned long long)XXH64(mountpoint, strlen(mountpoint), 0), suffix);
}

int ufs_ctl_socket_path(const char *mountpoint, uid_t owner, unsigned which, char *buf, size_t size)
{
	char dir[64];
	int rc = ufs_sock_dir(owner, which, dir, sizeof(dir));

	if (rc == 0)
		fs_sock_path(dir, mountpoint, ".sock", buf, size);
	return rc;
}

mode_t fs_sock_mode(int shared)
{
	return shared && geteuid() == 0 ? 0666 : 0600;
}

/* Check the opened directory fd (st: its fstat) for a daemon of uid me and
 * bring it to its mode (0755 for root, else 0700). 0 or -errno, with why
 * set to the reason of a refusal. */
static int sock_dir_check(int fd, const struct stat *st, uid_t me, const char **why)
{
	mode_t want = me == 0 ? 0755 : 0700;

	if (st->st_uid != me) {
		*why = " (owned by another user)";
		return -EPERM;
	}
	if (st->st_mode & 022) {
		*why = " (writable by group or others)"; /* others could plant a socket */
		return -EPERM;
	}
	if ((st->st_mode & 0777) != want && fchmod(fd, want) < 0)
		return -errno;
	return 0;
}

/* Why dir, which could not be opened as a directory of ours, is refused:
 * a symlink, or another user's ("" when neither). */
static const char *sock_dir_why(const char *dir, uid_t me)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return "";
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
		return " (not a directory: a symlink or a file)";
	return st.st_uid != me ? " (owned by another user)" : "";
}

int fs_sock_dir_prepare(char *dir, size_t dirlen, char *err, size_t errlen)
{
	uid_t me = geteuid();
	const char *why = "";
	struct stat st;
	int fd = -1, rc = ufs_sock_dir(me, 0, dir, dirlen);

	if (rc == 0 && mkdir(dir, me == 0 ? 0755 : 0700) < 0 && errno != EEXIST)
		rc = -errno;
	if (rc == 0 && (fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = -errno;
		why = sock_dir_why(dir, me);
		rc = why[0] ? -EPERM : rc;
	}
	if (rc == 0 && fstat(fd, &st) < 0)
		rc = -errno;
	if (rc == 0)
		rc = sock_dir_check(fd, &st, me, &why);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		snprintf(err, errlen, "socket directory %s: %s%s", dir, strerror(-rc), why);
	return rc;
}
