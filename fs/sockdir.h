/*
 * sockdir.h — the socket directory of the daemon (sockdir.c), shared by the
 * control socket (service/) and the direct-path server (direct/). Where a
 * daemon of a given uid keeps it, ufs_sock_dir(), and the name of a
 * mount's control socket, ufs_ctl_socket_path(), are public (fs/fs.h).
 */
#ifndef UFS_FS_SOCKDIR_H
#define UFS_FS_SOCKDIR_H

#include <stddef.h>
#include <sys/types.h>

/* Make the socket directory of this daemon (its effective uid; see
 * ufs_sock_dir) usable and write its path into dir: created, or brought to
 * its mode (0755 for root, 0700 for other users) when it is ours; refused
 * when it is a symlink, another user's, or writable by group or others.
 * 0 or -errno with a one-line message in err. */
int fs_sock_dir_prepare(char *dir, size_t dirlen, char *err, size_t errlen);

/* The socket of the mount at mountpoint in dir: "<dir>/<xxh64 of
 * mountpoint><suffix>" (".sock": control, ".direct": direct path). */
void fs_sock_path(const char *dir, const char *mountpoint, const char *suffix, char *buf,
		  size_t size);

/* Mode of a socket that all local users should reach when shared (0666), or
 * only the daemon's user (0600). Shared only for a root daemon: a user's
 * own mount keeps its sockets to itself. */
mode_t fs_sock_mode(int shared);

#endif
