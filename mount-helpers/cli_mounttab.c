/*
 * cli_mounttab.c — where is a unifs mount: mount point resolution, the
 * kernel mount table (/proc/self/mounts) and the daemon's control socket.
 *
 * A path is "a unifs mount" when the last mount table entry for it is a
 * FUSE mount (fstype "fuse" or "fuse.*") that names unifs in its type or
 * source, or whose control socket exists. The control socket is the
 * daemon's: while something accepts connections on it, the daemon lives.
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

/* Find the last (topmost) mount table entry whose mount point is abs; copy
 * its fstype and source. 1 if found, 0 if not. */
static int mounttab_lookup(const char *abs, char *fstype, size_t tlen, char *source, size_t slen)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL;
		char *src = strtok_r(line, " ", &save);
		char *dir = strtok_r(NULL, " ", &save);
		char *type = strtok_r(NULL, " ", &save);

		if (!src || !dir || !type)
			continue;
		mounttab_unescape(dir);
		if (strcmp(dir, abs) != 0)
			continue;
		mounttab_unescape(src);
		snprintf(fstype, tlen, "%s", type);
		snprintf(source, slen, "%s", src);
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

int cli_mounttab_is_mounted(const char *abs)
{
	char type[64], src[PATH_MAX];

	return mounttab_lookup(abs, type, sizeof(type), src, sizeof(src));
}

int cli_mounttab_is_unifs(const char *abs)
{
	char type[64], src[PATH_MAX], sock[PATH_MAX];
	struct stat st;

	if (!mounttab_lookup(abs, type, sizeof(type), src, sizeof(src)))
		return 0;
	if (strcmp(type, "fuse") != 0 && strncmp(type, "fuse.", 5) != 0)
		return 0;
	if (strstr(type, "unifs") || strstr(src, "unifs"))
		return 1;
	ufs_ctl_socket_path(abs, sock, sizeof(sock));
	return stat(sock, &st) == 0 && S_ISSOCK(st.st_mode);
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
	if (errno == ENOTCONN || errno == EIO) {
		int err = errno;
		if (mounttab_absolute(given, out, outlen) == 0)
			return -err;
	}
	return -errno;
}

int cli_ctl_connect(const char *abs)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	ufs_ctl_socket_path(abs, sa.sun_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}
