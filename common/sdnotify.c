/* sdnotify.c — sd_notify() messages of the daemon; see sdnotify.h. */
#include "common/sdnotify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

/* Send "state\nSTATUS=what mountpoint" (keeps $NOTIFY_SOCKET set). */
static int sd_send(const char *state, const char *what, const char *mountpoint)
{
	char msg[4200];

	snprintf(msg, sizeof(msg), "%s\nSTATUS=%s %s", state, what, mountpoint);
	return sd_notify(0, msg);
}

int ufs_sd_ready(const char *mountpoint)
{
	return sd_send("READY=1", "serving", mountpoint);
}

int ufs_sd_stopping(const char *mountpoint)
{
	return sd_send("STOPPING=1", "unmounting", mountpoint);
}
