/*
 * ucred.h — the identity of the process a request is made for (the
 * "caller"), carried from fs/ to the backends on the worker thread.
 *
 * fs/ sets the calling thread's caller from the FUSE request (uid, gid,
 * supplementary groups) for the duration of one request and clears it
 * afterwards; a backend that can act as someone else reads it: file://
 * switches the thread's filesystem identity around the system call
 * (ufs_cred_fs_enter/leave), nfs:// sends it as AUTH_SYS credentials.
 * Threads without a caller (read-ahead, upload workers, the CLI) act as the
 * daemon itself.
 */
#ifndef UFS_UCRED_H
#define UFS_UCRED_H

#include <stdint.h>
#include <sys/types.h>

#define UFS_CRED_GROUPS_MAX 64 /* supplementary groups kept per caller */

struct ufs_cred {
	uint32_t uid;
	uint32_t gid;
	int ngroups; /* 0..UFS_CRED_GROUPS_MAX */
	uint32_t groups[UFS_CRED_GROUPS_MAX];
};

/* Make *c (copied) the calling thread's caller; NULL clears it (the daemon
 * acts as itself again). */
void ufs_cred_set(const struct ufs_cred *c);

/* The calling thread's caller, or NULL when it acts as the daemon. The
 * pointer is valid on this thread until the next ufs_cred_set(). */
const struct ufs_cred *ufs_cred_current(void);

/* The thread's filesystem identity before ufs_cred_fs_enter(). */
struct ufs_cred_saved {
	int switched; /* 0: nothing to restore */
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	gid_t groups[UFS_CRED_GROUPS_MAX];
};

/*
 * Switch the calling thread's filesystem uid, gid and supplementary groups
 * to its caller's (raw per-thread system calls: other threads keep theirs),
 * so files it creates are owned by the caller from the first instant and
 * the kernel checks permissions as for the caller. A no-op (0) without a
 * caller or when the daemon is not root (it then acts as itself). Returns
 * 0, or -errno with the identity unchanged. Undo with ufs_cred_fs_leave().
 * Keep the switched span to system calls: a thread created meanwhile would
 * inherit the caller's identity.
 */
int ufs_cred_fs_enter(struct ufs_cred_saved *ps);

/* Restore what ufs_cred_fs_enter() saved in s (no-op if nothing was). */
void ufs_cred_fs_leave(struct ufs_cred_saved *s);

#endif
