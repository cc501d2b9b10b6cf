/*
 * sdnotify.h — tell systemd (Type=notify units) how the daemon is doing,
 * through libsystemd's sd_notify(): the datagram socket named by
 * $NOTIFY_SOCKET. Outside systemd ($NOTIFY_SOCKET unset) every call is a
 * no-op that returns 0.
 */
#ifndef UFS_SDNOTIFY_H
#define UFS_SDNOTIFY_H

/* "READY=1" with "STATUS=serving MOUNTPOINT": the mount is live.
 * > 0 sent, 0 not under systemd, -errno when the socket refused it. */
int ufs_sd_ready(const char *mountpoint);

/* "STOPPING=1" with "STATUS=unmounting MOUNTPOINT". Same returns. */
int ufs_sd_stopping(const char *mountpoint);

#endif
