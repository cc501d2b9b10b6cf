/*
 * cli_mounttab.c — where is a unifs mount: mount point resolution, the
 * kernel mount table (/proc/self/mountinfo) and the daemon's control socket.
 *
 * A path is "a unifs mount" when the last mount table entry for it is a
 * FUSE mount (fstype "fuse" or "fuse.*") that names unifs in its type or
 * source, or whose control socket exists. The control socket is the
 * daemon's: while something accepts connections on it, the daemon lives.
 *
 * The socket's directory depends on the uid the daemon runs as
 * (ufs_sock_dir, fs/sockdir.c), never on the caller's: that uid is the
 * FUSE super option user_id= of the mount (the uid that mounted it), so
 * `unifs stats` finds a root mount's socket and a user's own alike. The
 * socket's peer must be that uid (SO_PEERCRED): a socket another user
 * planted is not talked to.
 */
#include "mount-helpers/cli_i.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs/fs.h"

/* Undo the octal escapes (\040 space, \011 tab, \012 newline, \134 backslash)
 * that /proc/self/mounts uses in its fields, in place. */
static void mounttab_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* The mount table entry of mountinfo line (modified): its mount point,
 * fstype, source and the uid of user_id= in its super options ((uid_t)-1
 * when absent). 0, or -1 for a line that does not parse. */
static int mounttab_parse(char *line, struct cli_mount_entry *e, const char **dir)
{
	char *save = NULL, *f[6], *tok, *src, *opt, *osave = NULL;

	for (int i = 0; i < 6; i++)
		if (!(f[i] = strtok_r(i ? NULL : line, " \n", &save)))
			return -1;
	do /* optional fields, up to the "-" separator */
		tok = strtok_r(NULL, " \n", &save);
	while (tok && strcmp(tok, "-") != 0);
	e->type = tok ? strtok_r(NULL, " \n", &save) : NULL;
	src = e->type ? strtok_r(NULL, " \n", &save) : NULL;
	tok = src ? strtok_r(NULL, " \n", &save) : NULL;
	if (!tok)
		return -1;
	e->owner = (uid_t)-1;
	for (opt = strtok_r(tok, ",", &osave); opt; opt = strtok_r(NULL, ",", &osave))
		if (strncmp(opt, "user_id=", 8) == 0)
			e->owner = (uid_t)strtoul(opt + 8, NULL, 10);
	mounttab_unescape(f[4]);
	mounttab_unescape(src);
	e->source = src;
	*dir = f[4];
	return 0;
}

/* Find the last (topmost) mount table entry whose mount point is abs; copy
 * its fstype, source and owner into *out (strings into tbuf and sbuf). 1 if
 * found, 0 if not. */
static int mounttab_lookup(const char *abs, struct cli_mount_entry *out, char *tbuf, size_t tlen,
			   char *sbuf, size_t slen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		struct cli_mount_entry e;
		const char *dir;

		if (mounttab_parse(line, &e, &dir) < 0 || strcmp(dir, abs) != 0)
			continue;
		snprintf(tbuf, tlen, "%s", e.type);
		snprintf(sbuf, slen, "%s", e.source);
		out->type = tbuf;
		out->source = sbuf;
		out->owner = e.owner;
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

int cli_mounttab_is_mounted(const char *abs)
{
	struct cli_mount_entry e;
	char type[64], src[PATH_MAX];

	return mounttab_lookup(abs, &e, type, sizeof(type), src, sizeof(src));
}

int cli_mounttab_owner(const char *abs, uid_t *owner)
{
	struct cli_mount_entry e;
	char type[64], src[PATH_MAX];

	if (!mounttab_lookup(abs, &e, type, sizeof(type), src, sizeof(src)) || e.owner == (uid_t)-1)
		return -ENOENT;
	*owner = e.owner;
	return 0;
}

int cli_mounttab_is_unifs(const char *abs)
{
	struct cli_mount_entry e;
	char type[64], src[PATH_MAX], sock[PATH_MAX];
	struct stat st;

	if (!mounttab_lookup(abs, &e, type, sizeof(type), src, sizeof(src)))
		return 0;
	if (strcmp(type, "fuse") != 0 && strncmp(type, "fuse.", 5) != 0)
		return 0;
	if (strstr(type, "unifs") || strstr(src, "unifs"))
		return 1;
	for (unsigned which = 0; e.owner != (uid_t)-1 &&
				 ufs_ctl_socket_path(abs, e.owner, which, sock, sizeof(sock)) == 0;
	     which++)
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 1;
	return 0;
}

/* Make given absolute without touching it (used when the mount point itself
 * cannot be resolved because its daemon died: ENOTCONN). */
static int mounttab_absolute(const char *given, char *out, size_t outlen)
{
	char cwd[PATH_MAX];
	size_t n;

	if (given[0] == '/') {
		snprintf(out, outlen, "%s", given);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		snprintf(out, outlen, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, given);
	}
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

int cli_mountpoint_resolve(const char *given, char *out, size_t outlen)
{
	char buf[PATH_MAX];

	if (realpath(given, buf)) {
		snprintf(out, outlen, "%s", buf);
		return 0;
	}
	if (errno == ENOTCONN || errno == EIO || errno == EACCES) {
		int err = errno;
		if (mounttab_absolute(given, out, outlen) == 0)
			return -err;
	}
	return -errno;
}

/* Connect to the socket at path and check that its peer is owner: fd, or
 * -errno (-EPERM: another uid listens there). */
static int mounttab_connect(const char *path, uid_t owner)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd, rc = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		rc = -errno;
	else if (cr.uid != owner)
		rc = -EPERM;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int cli_ctl_connect(const char *abs, uid_t owner)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd = -ENOENT;

	/* the place a daemon of owner uses now, then the other one it may
	 * have used (while neither has the socket) */
	for (unsigned which = 0; (fd == -ENOENT || fd == -ECONNREFUSED) &&
				 ufs_ctl_socket_path(abs, owner, which, path, sizeof(path)) == 0;
	     which++)
		fd = mounttab_connect(path, owner);
	return fd;
}
