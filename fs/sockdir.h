/*
 * sockdir.h — the socket directory /run/unifs (sockdir.c), shared by the
 * control socket (service/) and the direct-path server (direct/). The name
 * of a mount's control socket, ufs_ctl_socket_path(), is public (fs/fs.h).
 */
#ifndef UFS_FS_SOCKDIR_H
#define UFS_FS_SOCKDIR_H

#include <stddef.h>

/* Make the socket directory (/run/unifs) usable: created 0755, or opened
 * to 0755 when it is ours; refused when group or others may write it.
 * 0 or -errno with a message. */
int fs_sock_dir_prepare(char *err, size_t errlen);

#endif
