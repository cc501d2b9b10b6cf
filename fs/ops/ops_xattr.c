/*
 * ops_xattr.c — FUSE extended-attribute operations (getxattr, setxattr,
 * listxattr, removexattr) and fallocate, passed to backends that have them
 * (file://); others and synthetic directories answer EOPNOTSUPP.
 *
 * They run as the caller (fs/inode/caller.c), so the local kernel applies its
 * rules (user.* needs write permission, trusted.* needs root).
 * Only the user.* and trusted.* namespaces are passed through. security.*
 * is answered ENODATA and system.* (POSIX ACLs) EOPNOTSUPP at once, without
 * a backend call: the kernel asks for security.capability before every
 * write and ls -l asks for security.selinux and system.posix_acl_access on
 * every entry, and the kernel does not enforce ACLs on this mount
 * (default_permissions without FUSE_POSIX_ACL), so showing them would
 * mislead.
 */
#include "fs/ops/ops_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XATTR_BUF_MAX (64 * 1024) /* XATTR_SIZE_MAX / XATTR_LIST_MAX */

/* 0 when name's namespace goes to the backend, else the errno to answer. */
static int xattr_passed(const char *name)
{
	if (strncmp(name, "user.", 5) == 0 || strncmp(name, "trusted.", 8) == 0)
		return 0;
	return strncmp(name, "security.", 9) == 0 ? -ENODATA : -EOPNOTSUPP;
}

/* Resolve ino for an xattr call: 0, or -errno (EOPNOTSUPP off any mount). */
static int xattr_node(struct ufs_fs *fs, fuse_ino_t ino, struct fs_node *pn)
{
	int rc = fs_node_of_ino(fs, ino, pn);

	if (rc == 0 && pn->mount < 0) {
		fs_node_free(pn);
		rc = -EOPNOTSUPP;
	}
	return rc;
}

/* Reply to a get/list of size bytes whose result (length or -errno) is n. */
static void xattr_reply(fuse_req_t req, size_t size, ssize_t n, const char *buf)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void ops_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct ufs_fs *fs = fs_of(req);
	size_t cap = size < XATTR_BUF_MAX ? size : XATTR_BUF_MAX;
	char *buf = cap ? malloc(cap) : NULL;
	struct fs_node n;
	ssize_t r = xattr_passed(name);

	if (r == 0 && cap && !buf)
		r = -ENOMEM;
	if (r == 0)
		r = xattr_node(fs, ino, &n);
	if (r == 0) {
		fs_caller_begin(req);
		r = ufs_be_getxattr(n.be, n.rel, name, buf, cap);
		fs_caller_end();
		fs_node_free(&n);
	}
	xattr_reply(req, size, r, buf);
	free(buf);
}

static void ops_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct ufs_fs *fs = fs_of(req);
	size_t cap = size < XATTR_BUF_MAX ? size : XATTR_BUF_MAX;
	char *buf = cap ? malloc(cap) : NULL;
	struct fs_node n;
	ssize_t r = cap && !buf ? -ENOMEM : 0;

	if (r == 0)
		r = xattr_node(fs, ino, &n);
	if (r == 0) {
		fs_caller_begin(req);
		r = ufs_be_listxattr(n.be, n.rel, buf, cap);
		fs_caller_end();
		fs_node_free(&n);
	}
	xattr_reply(req, size, r, buf);
	free(buf);
}

/* setxattr (value != NULL) or removexattr of name on ino. */
static void xattr_change(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node n;
	int rc = xattr_passed(name);

	if (rc == -ENODATA)
		rc = -EOPNOTSUPP; /* no security.* labels can be set */
	if (rc == 0)
		rc = xattr_node(fs, ino, &n);
	if (rc == 0) {
		rc = fs_node_writable(fs, &n);
		fs_caller_begin(req);
		if (rc == 0)
			rc = value ? ufs_be_setxattr(n.be, n.rel, name, value, size, flags)
				   : ufs_be_removexattr(n.be, n.rel, name);
		fs_caller_end();
		fs_node_changed(fs, &n); /* ctime */
		fs_node_free(&n);
	}
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void ops_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			 size_t size, int flags)
{
	xattr_change(req, ino, name, value ? value : "", size, flags);
}

static void ops_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	xattr_change(req, ino, name, NULL, 0, 0);
}

static void ops_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			  struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node n;
	int rc = xattr_node(fs, ino, &n);

	(void)fi;
	if (rc == 0) {
		fs_caller_begin(req);
		rc = ufs_be_fallocate(n.be, n.rel, mode, (uint64_t)off, (uint64_t)len);
		fs_caller_end();
		ufs_itab_bump_gen(fs->itab, ino);
		fs_node_changed(fs, &n);
		if (rc == 0)
			fs_node_file_changed(fs, ino, 1);
		fs_node_free(&n);
	}
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

void fs_ops_xattr_fill(struct fuse_lowlevel_ops *ops)
{
	ops->getxattr = ops_getxattr;
	ops->setxattr = ops_setxattr;
	ops->listxattr = ops_listxattr;
	ops->removexattr = ops_removexattr;
	ops->fallocate = ops_fallocate;
}
