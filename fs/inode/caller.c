/*
 * caller.c — requests run as the process that made them.
 *
 * The operations that create or change something (create, open for write,
 * mknod, mkdir, symlink, link, unlink, rmdir, rename, setattr) mark their
 * worker thread with the caller's uid, gid and supplementary groups
 * (common/ucred.h) for the length of the request; file:// then switches the
 * thread's filesystem identity around its system calls and nfs:// sends
 * them as AUTH_SYS credentials. Writes, flushes and the release of an open
 * file act as its opener (fs/ops/ops_file.c). Lookups, listings and data reads
 * run as the daemon: the kernel has already checked them
 * (default_permissions) and what they fill is shared by every user.
 */
#include "fs/inode/inode.h"

#include "common/ucred.h"

void fs_caller_begin(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct ufs_cred c = {.uid = ctx->uid, .gid = ctx->gid};
	gid_t groups[UFS_CRED_GROUPS_MAX];
	int n = fuse_req_getgroups(req, UFS_CRED_GROUPS_MAX, groups);

	if (n > UFS_CRED_GROUPS_MAX)
		n = UFS_CRED_GROUPS_MAX;
	for (int i = 0; i < n; i++)
		c.groups[i] = groups[i];
	c.ngroups = n > 0 ? n : 0;
	ufs_cred_set(&c);
}

void fs_caller_end(void)
{
	ufs_cred_set(NULL);
}
