/*
 * attr.c — attributes made by the daemon itself, not shown by a backend:
 * those of a synthetic directory (fixed: 0755, owned by the mounting user,
 * mtime = mount time) and those of an entry just created through the mount
 * (or known only from the disk tier), before its backend shows it.
 *
 * node.c and offline.c both start from these; it calls nothing in fs/.
 */
#include "fs/inode/inode.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>

void fs_attr_synthetic(struct ufs_fs *fs, struct ufs_attr *pattr)
{
	memset(pattr, 0, sizeof(*pattr));
	pattr->mode = S_IFDIR | 0755;
	pattr->nlink = 2;
	pattr->uid = UFS_UID_OWNER;
	pattr->gid = UFS_UID_OWNER;
	pattr->atime = pattr->mtime = pattr->ctime = fs->started;
}

void fs_attr_new(struct ufs_attr *pattr, uint32_t mode)
{
	memset(pattr, 0, sizeof(*pattr));
	pattr->mode = mode;
	pattr->nlink = S_ISDIR(mode) ? 2 : 1;
	pattr->uid = pattr->gid = UFS_UID_OWNER;
	clock_gettime(CLOCK_REALTIME, &pattr->mtime);
	pattr->atime = pattr->ctime = pattr->mtime;
}
