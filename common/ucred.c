/*
 * ucred.c — the per-thread caller identity and the per-thread switch of
 * the filesystem identity (see ucred.h).
 *
 * glibc's setgroups() changes every thread of the process (it is a "setxid"
 * broadcast), so the switch uses the raw system calls, which act on the
 * calling thread only: setgroups, then setfsgid, then setfsuid (the fs
 * capabilities drop when fsuid leaves 0, CAP_SETUID/CAP_SETGID stay, so the
 * way back is always allowed), and the reverse on leave.
 */
#include "common/ucred.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Thread_local struct ufs_cred cred_cur;
static _Thread_local int cred_has;

void ufs_cred_set(const struct ufs_cred *c)
{
	cred_has = c != NULL;
	if (!c)
		return;
	cred_cur = *c;
	if (cred_cur.ngroups < 0)
		cred_cur.ngroups = 0;
	if (cred_cur.ngroups > UFS_CRED_GROUPS_MAX)
		cred_cur.ngroups = UFS_CRED_GROUPS_MAX;
}

const struct ufs_cred *ufs_cred_current(void)
{
	return cred_has ? &cred_cur : NULL;
}

/* The calling thread's fsuid/fsgid (setfs*id(-1) changes nothing). */
static void cred_fs_ids(uid_t *puid, gid_t *pgid)
{
	*puid = (uid_t)syscall(SYS_setfsuid, -1);
	*pgid = (gid_t)syscall(SYS_setfsgid, -1);
}

/* Set the thread's fs ids and groups; 0 or -errno. */
static int cred_fs_apply(uid_t uid, gid_t gid, int ngroups, const gid_t *groups)
{
	uid_t u;
	gid_t g;

	if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0)
		return -errno;
	syscall(SYS_setfsgid, gid);
	syscall(SYS_setfsuid, uid);
	cred_fs_ids(&u, &g);
	return u == uid && g == gid ? 0 : -EPERM;
}

int ufs_cred_fs_enter(struct ufs_cred_saved *ps)
{
	const struct ufs_cred *c = ufs_cred_current();
	gid_t groups[UFS_CRED_GROUPS_MAX];
	int rc;

	ps->switched = 0;
	if (!c || geteuid() != 0)
		return 0;
	rc = (int)syscall(SYS_getgroups, UFS_CRED_GROUPS_MAX, ps->groups);
	if (rc < 0)
		return -errno;
	ps->ngroups = rc;
	cred_fs_ids(&ps->fsuid, &ps->fsgid);
	for (int i = 0; i < c->ngroups; i++)
		groups[i] = c->groups[i];
	ps->switched = 1;
	rc = cred_fs_apply(c->uid, c->gid, c->ngroups, groups);
	if (rc < 0)
		ufs_cred_fs_leave(ps);
	return rc;
}

void ufs_cred_fs_leave(struct ufs_cred_saved *s)
{
	if (!s->switched)
		return;
	/* uid first: back at fsuid 0 the fs capabilities return */
	syscall(SYS_setfsuid, s->fsuid);
	syscall(SYS_setfsgid, s->fsgid);
	syscall(SYS_setgroups, (size_t)s->ngroups, s->groups);
	s->switched = 0;
}
