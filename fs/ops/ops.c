/*
 * ops.c — FUSE operations on names and attributes: lookup, forget,
 * getattr, setattr, readlink, mknod, mkdir, unlink, rmdir, symlink, rename,
 * link, statfs, access.
 *
 * Every operation replies exactly once: each function resolves its nodes,
 * does its work, and ends in one fuse_reply_*() on every path.
 *
 * Rules of the namespace: synthetic directories that no mount covers are
 * read-only (creating in them fails with EROFS); a synthetic name (a mount
 * point or a directory leading to one) cannot be removed or renamed (EBUSY);
 * renames and links across mounts fail with EXDEV. Every change made here
 * drops what the metadata cache knew about the names involved.
 */
#include "fs/ops/ops_i.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* The attributes of n for a lookup. The inode the table holds at n's path
 * may have been shown another object (-ESTALE: the name was replaced behind
 * the mount): it no longer names this path, a new inode will. */
static int ops_lookup_attr(struct ufs_fs *fs, struct fs_node *n, struct ufs_attr *pattr)
{
	int rc = fs_node_getattr(fs, n, 0, pattr);

	if (rc != -ESTALE)
		return rc;
	ufs_itab_unhash(fs->itab, n->mount, n->path, (size_t)(n->rel - n->path));
	n->ino = 0;
	return fs_node_getattr(fs, n, 0, pattr);
}

/* A lookup racing a rename onto the same name can read the attributes of
 * one file and find the other's inode at the path (fs_fill_entry:
 * -ESTALE): it starts again, a few times. */
#define OPS_LOOKUP_TRIES 4

static void ops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ufs_fs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct fs_node n;
	struct ufs_attr attr;
	int rc = -ESTALE;

	for (int i = 0; i < OPS_LOOKUP_TRIES && rc == -ESTALE; i++) {
		rc = fs_node_of_child(fs, parent, name, &n);
		if (rc < 0)
			break;
		rc = ops_lookup_attr(fs, &n, &attr);
		if (rc == 0)
			rc = fs_fill_entry(fs, &n, &attr, &e);
		if (rc == -ENOENT) {
			memset(&e, 0, sizeof(e)); /* ino 0: negative entry */
			e.entry_timeout =
			    n.mount >= 0 ? ufs_meta_ttl(fs->meta, n.mount)->negative : 0;
			rc = 0;
		}
		fs_node_free(&n);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_entry(req, &e) == -ENOENT && e.ino) /* interrupted: undo the count */
		ufs_itab_forget(fs->itab, e.ino, 1);
}

static void ops_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	ufs_itab_forget(fs_of(req)->itab, ino, nlookup);
	fuse_reply_none(req);
}

static void ops_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct ufs_fs *fs = fs_of(req);

	for (size_t i = 0; i < count; i++)
		ufs_itab_forget(fs->itab, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/* Reply with the attributes of n (fresh from the backend when asked). */
static void ops_reply_attr(fuse_req_t req, struct ufs_fs *fs, struct fs_node *n, int fresh)
{
	struct ufs_attr attr;
	struct stat st;
	int rc = fs_node_getattr(fs, n, fresh, &attr);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_attr_to_stat(fs, &attr, n, &st);
	fuse_reply_attr(req, &st, fs_attr_kernel_ttl(fs, n, &attr));
}

/* The reply to a truncate through an open handle: the handle's file, fresh
 * from the backend; if its name now holds another file (a rename replaced
 * it), what is known of the handle's file (its last noted mode, owner and
 * file id, the new size), valid for no time. */
static void ops_reply_attr_handle(fuse_req_t req, struct ufs_fs *fs, struct fs_node *n,
				  uint64_t size)
{
	struct ufs_attr attr;
	struct stat st;

	if (fs_node_getattr(fs, n, 1, &attr) != -ESTALE) {
		ops_reply_attr(req, fs, n, 1);
		return;
	}
	fs_attr_new(&attr, S_IFREG | 0644);
	ufs_itab_last_owner(fs->itab, n->ino, &attr);
	attr.size = size;
	fs_attr_to_stat(fs, &attr, n, &st);
	fuse_reply_attr(req, &st, 0);
}

/* -ESTALE if n's name now holds another file than its inode (a rename
 * replaced it): a change by path must not reach that other file; the
 * kernel looks the name up again and retries. */
static int ops_same_file(struct ufs_fs *fs, struct fs_node *n)
{
	struct ufs_attr attr;

	return fs_node_getattr(fs, n, 1, &attr) == -ESTALE ? -ESTALE : 0;
}

static void ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node n;
	int rc = fs_node_of_ino(fs, ino, &n);

	(void)fi;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	ops_reply_attr(req, fs, &n, 0);
	fs_node_free(&n);
}

/* Translate FUSE setattr bits into the backend's. */
static unsigned ops_set_mask(int to_set)
{
	unsigned m = 0;

	m |= (to_set & FUSE_SET_ATTR_MODE) ? UFS_SET_MODE : 0;
	m |= (to_set & FUSE_SET_ATTR_UID) ? UFS_SET_UID : 0;
	m |= (to_set & FUSE_SET_ATTR_GID) ? UFS_SET_GID : 0;
	m |= (to_set & FUSE_SET_ATTR_ATIME) ? UFS_SET_ATIME : 0;
	m |= (to_set & FUSE_SET_ATTR_MTIME) ? UFS_SET_MTIME : 0;
	m |= (to_set & FUSE_SET_ATTR_ATIME_NOW) ? UFS_SET_ATIME_NOW | UFS_SET_ATIME : 0;
	m |= (to_set & FUSE_SET_ATTR_MTIME_NOW) ? UFS_SET_MTIME_NOW | UFS_SET_MTIME : 0;
	return m;
}

/* Mode, owner and times. A backend that cannot store them (object stores)
 * takes the change as a no-op, as rclone and s3fs without metadata do: so
 * touch, cp -p, mv across directories and rsync -a work everywhere, and the
 * next stat shows what the server really keeps. */
static int ops_set_meta(struct fs_node *n, const struct stat *st, unsigned mask)
{
	struct ufs_attr a = {0};
	int rc;

	if (!mask)
		return 0;
	a.mode = st->st_mode;
	a.uid = st->st_uid;
	a.gid = st->st_gid;
	a.atime = st->st_atim;
	a.mtime = st->st_mtim;
	rc = ufs_be_setattr(n->be, n->rel, &a, mask);
	if ((rc == -ENOTSUP || rc == -EOPNOTSUPP) && !(n->be->ops->caps & UFS_CAP_CHMOD)) {
		ufs_debug("mount %s: %s: mode/owner/times not stored (ignored)", n->be->name,
			  n->rel);
		return 0;
	}
	return rc;
}

/*
 * The kernel clearing setuid/setgid after a write, truncate or chown by
 * someone else (FUSE_CAP_HANDLE_KILLPRIV is off, so the kernel does it): a
 * mode-only SETATTR from a non-owner that only drops S_ISUID/S_ISGID from
 * the current mode. The kernel refuses a real chmod by a non-owner before it
 * reaches us (default_permissions), so this one runs as the daemon: it can
 * only narrow the mode.
 */
static int ops_is_killpriv(fuse_req_t req, struct ufs_fs *fs, struct fs_node *n,
			   const struct stat *st, int to_set)
{
	const uint32_t priv = S_ISUID | S_ISGID;
	uint32_t want = st->st_mode & 07777, cur;
	struct ufs_attr a;

	if (to_set != FUSE_SET_ATTR_MODE || fuse_req_ctx(req)->uid == 0 || n->mount < 0)
		return 0;
	if (fs_node_getattr(fs, n, 1, &a) < 0 || fuse_req_ctx(req)->uid == a.uid)
		return 0;
	cur = a.mode & 07777;
	return want != cur && (want & ~cur) == 0 && ((want ^ cur) & ~priv) == 0;
}

static void ops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *st, int to_set,
			struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node n;
	int rc = fs_node_of_ino(fs, ino, &n);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = fs_node_writable(fs, &n);
	if (rc == 0 && !fi)
		rc = ops_same_file(fs, &n);
	if (!ops_is_killpriv(req, fs, &n, st, to_set))
		fs_caller_begin(req);
	if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		rc = fs_file_truncate(fs, &n, fi, (uint64_t)st->st_size);
		ufs_itab_bump_gen(fs->itab, ino);
	}
	if (rc == 0)
		rc = ops_set_meta(&n, st, ops_set_mask(to_set));
	fs_caller_end();
	/* a mode change by path that met a symlink: a rename put it there since
	 * the check above (the kernel never sends one for a symlink) */
	if ((rc == -EOPNOTSUPP || rc == -ENOTSUP) && !fi && ops_same_file(fs, &n) == -ESTALE)
		rc = -ESTALE;
	fs_node_changed(fs, &n);
	if (rc == 0)
		fs_node_file_changed(fs, ino, !!(to_set & FUSE_SET_ATTR_SIZE));
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fi && (to_set & FUSE_SET_ATTR_SIZE))
		ops_reply_attr_handle(req, fs, &n, (uint64_t)st->st_size);
	else
		ops_reply_attr(req, fs, &n, 1);
	fs_node_free(&n);
}

static void ops_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct ufs_fs *fs = fs_of(req);
	char buf[PATH_MAX + 1];
	struct fs_node n;
	int rc = fs_node_of_ino(fs, ino, &n);

	if (rc == 0) {
		rc = n.mount < 0 ? -EINVAL : ufs_be_readlink(n.be, n.rel, buf, sizeof(buf));
		/* the kernel asks only for symlinks: the name now holds another
		 * file (a rename replaced it); it must look the name up again */
		if (rc == -EINVAL && n.mount >= 0)
			rc = -ESTALE;
		fs_node_free(&n);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, buf);
}

/* After n was created (or linked) through the mount: reply its entry.
 * fallback_mode (the type made) is reported if the backend does not show
 * the new entry yet, or shows another type: another process replaced it
 * already, and the kernel fails a mkdir, mknod, symlink or link whose entry
 * has another type than it made (EIO). */
static void ops_reply_created(fuse_req_t req, struct ufs_fs *fs, fuse_ino_t parent,
			      struct fs_node *n, uint32_t fallback_mode)
{
	struct fuse_entry_param e;
	struct ufs_attr attr;
	int rc;

	fs_node_changed(fs, n);
	if (fs_node_getattr(fs, n, 1, &attr) < 0 ||
	    (attr.mode & S_IFMT) != (fallback_mode & S_IFMT))
		fs_attr_new(&attr, fallback_mode);
	rc = fs_fill_entry(fs, n, &attr, &e);
	if (rc < 0) {
		/* made, but not answered (ESTALE: a rename put another file
		 * there): the kernel keeps the parent's attributes unless told */
		if (fs->se)
			fuse_lowlevel_notify_inval_inode(fs->se, parent, -1, 0);
		fuse_reply_err(req, -rc);
	} else if (fuse_reply_entry(req, &e) == -ENOENT) { /* interrupted: undo the count */
		ufs_itab_forget(fs->itab, e.ino, 1);
	}
}

/* Create n as a regular file (empty), a directory, a symlink to link, or a
 * special file (rdev for devices). */
static int ops_make_node(struct fs_node *n, mode_t mode, const char *link, dev_t rdev)
{
	struct ufs_writer *w;
	int rc;

	if (S_ISDIR(mode))
		return ufs_be_mkdir(n->be, n->rel, mode & 07777);
	if (S_ISLNK(mode))
		return ufs_be_symlink(n->be, link, n->rel);
	if (!S_ISREG(mode))
		return ufs_be_mknod(n->be, n->rel, mode, rdev); /* fifos, sockets, devices */
	rc = ufs_be_open_writer(n->be, n->rel, O_CREAT | O_EXCL | O_WRONLY, mode & 07777, &w);
	return rc < 0 ? rc : w->ops->close(w);
}

/* mknod, mkdir and symlink: create name in parent and reply its entry. */
static void ops_make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     const char *link, dev_t rdev)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node n;
	int rc = fs_node_of_new(fs, parent, name, &n);

	if (rc == 0) {
		fs_caller_begin(req);
		rc = ops_make_node(&n, mode, link, rdev);
		fs_caller_end();
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		ops_reply_created(req, fs, parent, &n, mode);
	fs_node_free(&n);
}

static void ops_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	ops_make(req, parent, name, mode, NULL, rdev);
}

static void ops_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	ops_make(req, parent, name, S_IFDIR | (mode & 07777), NULL, 0);
}

static void ops_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	ops_make(req, parent, name, S_IFLNK | 0777, link, 0);
}

static void ops_remove(fuse_req_t req, fuse_ino_t parent, const char *name, int dir)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node n;
	int rc = fs_node_of_old(fs, parent, name, &n);

	if (rc == 0) {
		fs_caller_begin(req);
		rc = dir ? ufs_be_rmdir(n.be, n.rel) : ufs_be_unlink(n.be, n.rel);
		fs_caller_end();
		if (rc == 0 && !dir)
			fs_node_links_changed(fs, &n);
		if (dir)
			ufs_meta_invalidate_tree(fs->meta, n.mount, n.rel);
		else
			ufs_meta_invalidate(fs->meta, n.mount,
					    n.rel); /* O(1): rm -rf stays linear */
		if (rc == 0)
			ufs_itab_unhash(fs->itab, n.mount, n.path, (size_t)(n.rel - n.path));
		fs_node_free(&n);
	}
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void ops_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ops_remove(req, parent, name, 0);
}

static void ops_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	ops_remove(req, parent, name, 1);
}

/* The destination of a rename/link: creatable, in the same mount as src. */
static int ops_dest_node(struct ufs_fs *fs, const struct fs_node *src, fuse_ino_t parent,
			 const char *name, struct fs_node *pn)
{
	int rc = fs_node_of_child(fs, parent, name, pn);

	if (rc < 0)
		return rc;
	if (fs_node_is_fixed(pn))
		rc = -EBUSY;
	else if (pn->mount != src->mount)
		rc = pn->mount < 0 ? -EROFS : -EXDEV;
	if (rc < 0)
		fs_node_free(pn);
	return rc;
}

/* After RENAME_EXCHANGE of a and b: the kernel swapped its dentries, so
 * the two inodes (and what is below them) swap paths too, through a
 * temporary name; without memory for it both are unhashed (they then fail
 * with ENOENT instead of reaching the other file). */
static void ops_itab_exchange(struct ufs_fs *fs, const struct fs_node *a, const struct fs_node *b)
{
	char *tmp = malloc(strlen(a->path) + 16);
	size_t off = (size_t)(a->rel - a->path); /* same mount: same offset in b */

	if (!tmp) {
		ufs_itab_unhash(fs->itab, a->mount, a->path, off);
		ufs_itab_unhash(fs->itab, b->mount, b->path, off);
		return;
	}
	sprintf(tmp, "%s\001xchg\001", a->path);
	ufs_itab_rename(fs->itab, a->mount, a->path, tmp, off);
	ufs_itab_rename(fs->itab, b->mount, b->path, a->path, off);
	ufs_itab_rename(fs->itab, a->mount, tmp, b->path, off);
	free(tmp);
}

static void ops_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		       const char *newname, unsigned int flags)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node src, dst;
	int rc = fs_node_of_old(fs, parent, name, &src);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = ops_dest_node(fs, &src, newparent, newname, &dst);
	if (rc == 0) {
		fs_caller_begin(req);
		rc = ufs_be_rename(src.be, src.rel, dst.rel, flags);
		fs_caller_end();
		ufs_meta_invalidate_tree(fs->meta, src.mount, src.rel);
		ufs_meta_invalidate_tree(fs->meta, dst.mount, dst.rel);
		/* a file replaced at dst lost a link: its other names show it */
		if (rc == 0 && !(flags & RENAME_EXCHANGE) && dst.ino)
			fs_node_links_changed(fs, &dst);
		if (rc == 0 && !(flags & RENAME_EXCHANGE))
			ufs_itab_rename(fs->itab, src.mount, src.path, dst.path,
					(size_t)(src.rel - src.path));
		else if (rc == 0)
			ops_itab_exchange(fs, &src, &dst);
		fs_node_free(&dst);
	}
	fs_node_free(&src);
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void ops_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node src, dst;
	struct ufs_attr sa;
	uint32_t made = S_IFREG | 0644; /* the type the kernel expects back */
	int rc = fs_node_of_ino(fs, ino, &src);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (fs_node_getattr(fs, &src, 0, &sa) == 0)
		made = sa.mode;
	rc = fs_node_writable(fs, &src);
	if (rc == 0)
		rc = ops_dest_node(fs, &src, newparent, newname, &dst);
	if (rc == 0) {
		fs_caller_begin(req);
		rc = ufs_be_link(src.be, src.rel, dst.rel);
		fs_caller_end();
		if (rc == 0)
			fs_node_links_changed(fs, &src);
		fs_node_changed(fs, &src);
		if (rc == 0)
			ops_reply_created(req, fs, newparent, &dst, made);
		/* The new name is its own inode here, so the kernel does not see
		 * the link count of the old one change: tell it (attributes only). */
		if (rc == 0)
			fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
		fs_node_free(&dst);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	fs_node_free(&src);
}

/* What statfs says where no backend does: an empty, fixed-size filesystem
 * (synthetic directories) or an unbounded one (object stores). */
static void ops_statfs_fake(struct statvfs *st, int unbounded)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	if (unbounded) {
		st->f_blocks = (1ULL << 50) / 4096; /* 1 PiB */
		st->f_bfree = st->f_bavail = st->f_blocks;
		st->f_files = st->f_ffree = st->f_favail = 1ULL << 32;
	}
	st->f_namemax = FS_NAME_MAX;
}

static void ops_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct ufs_fs *fs = fs_of(req);
	struct statvfs st;
	struct fs_node n;
	int rc = fs_node_of_ino(fs, ino, &n);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (n.mount < 0) {
		ops_statfs_fake(&st, 0);
	} else {
		rc = ufs_be_statfs(n.be, &st);
		if (rc == -ENOTSUP || rc == -EOPNOTSUPP)
			ops_statfs_fake(&st, 1);
		if (st.f_namemax == 0 || st.f_namemax > FS_NAME_MAX)
			st.f_namemax = FS_NAME_MAX;
	}
	fs_node_free(&n);
	if (rc < 0 && rc != -ENOTSUP && rc != -EOPNOTSUPP)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_statfs(req, &st);
}

/* Permissions are checked by the kernel (default_permissions); this only
 * refuses write access where nothing can be written. */
static void ops_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_node n;
	int rc = fs_node_of_ino(fs, ino, &n);

	if (rc == 0) {
		if ((mask & W_OK) && fs_node_writable(fs, &n) < 0)
			rc = -EROFS;
		fs_node_free(&n);
	}
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

void fs_ops_fill(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = ops_lookup;
	ops->forget = ops_forget;
	ops->forget_multi = ops_forget_multi;
	ops->getattr = ops_getattr;
	ops->setattr = ops_setattr;
	ops->readlink = ops_readlink;
	ops->mknod = ops_mknod;
	ops->mkdir = ops_mkdir;
	ops->unlink = ops_unlink;
	ops->rmdir = ops_rmdir;
	ops->symlink = ops_symlink;
	ops->rename = ops_rename;
	ops->link = ops_link;
	ops->statfs = ops_statfs;
	ops->access = ops_access;
	fs_ops_dir_fill(ops);
	fs_ops_file_fill(ops);
	fs_ops_xattr_fill(ops);
}
