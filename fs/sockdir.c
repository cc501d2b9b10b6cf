/*
 * sockdir.c — the socket directory of the daemon, /run/unifs, where each
 * mount's control socket (service/ctl.c) and direct-path socket (direct/)
 * live, and the control socket's name.
 *
 * The directory is the daemon's, mode 0755: every local user must reach
 * the direct-path socket beside the control socket (any user of an
 * allow_other mount may use the direct path; direct.c checks each client),
 * while the control socket itself stays the owner's. A directory left 0700
 * by an older daemon is opened to 0755; one writable by group or others
 * (where another user could plant sockets) is refused.
 *
 * Both servers use it and neither calls the other, so it sits below them.
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

#define CTL_DIR "/run/unifs"

void ufs_ctl_socket_path(const char *mountpoint, char *buf, size_t size)
{
	snprintf(buf, size, CTL_DIR "/%016llx.sock",
		 (unsigned long long)XXH64(mountpoint, strlen(mountpoint), 0));
}

int fs_sock_dir_prepare(char *err, size_t errlen)
{
	struct stat st;
	int fd, rc = 0;

	if (mkdir(CTL_DIR, 0755) < 0 && errno != EEXIST)
		rc = -errno;
	fd = rc ? -1 : open(CTL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rc == 0 && (fd < 0 || fstat(fd, &st) < 0))
		rc = -errno;
	if (rc == 0 && (st.st_mode & 022))
		rc = -EPERM; /* others could plant a socket there */
	if (rc == 0 && st.st_uid == geteuid() && (st.st_mode & 0755) != 0755 &&
	    fchmod(fd, 0755) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		snprintf(err, errlen, "socket directory " CTL_DIR ": %s%s", strerror(-rc),
			 rc == -EPERM ? " (writable by group or others)" : "");
	return rc;
}
