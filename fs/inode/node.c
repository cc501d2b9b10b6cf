/*
 * node.c — from FUSE inode numbers and names to backend paths, and the
 * attributes the kernel is told about them.
 *
 * Every operation starts by resolving its inode (and name) into a struct
 * fs_node: owned copies of the namespace path, the mount serving it and the
 * backend-relative path, taken from the inode table under its lock, so a
 * concurrent rename can never change a path while an operation uses it.
 *
 * Attributes come from the metadata cache (filled by listings and earlier
 * getattrs) or the backend. Synthetic directories have fixed attributes
 * (0755, owned by the mounting user, mtime = mount time). A mount root that
 * its backend cannot show (an object-store prefix, or a server that is down)
 * also gets them, so the namespace stays browsable and the errors surface
 * inside the subtree.
 */
#include "fs/inode/inode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "common/log.h"

static int node_resolve(struct ufs_fs *fs, char *path, uint64_t ino, struct fs_node *pn)
{
	int rc;

	memset(pn, 0, sizeof(*pn));
	pn->path = path;
	pn->ino = ino;
	rc = ufs_ns_resolve(fs->ns, path, &pn->mount, &pn->rel);
	if (rc < 0) {
		fs_node_free(pn);
		return rc;
	}
	pn->be = pn->mount >= 0 ? fs->be[pn->mount] : NULL;
	pn->synthetic = ufs_ns_is_synthetic(fs->ns, path);
	return 0;
}

int fs_node_of_ino(struct ufs_fs *fs, uint64_t ino, struct fs_node *pn)
{
	struct ufs_iloc loc;
	int rc = ufs_itab_get(fs->itab, ino, &loc);

	memset(pn, 0, sizeof(*pn));
	if (rc < 0)
		return rc;
	return node_resolve(fs, loc.path, ino, pn);
}

int fs_node_of_child(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn)
{
	struct ufs_iloc loc;
	char *path;
	int rc;

	memset(pn, 0, sizeof(*pn));
	if (strlen(name) > FS_NAME_MAX)
		return -ENAMETOOLONG;
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	rc = ufs_itab_get(fs->itab, parent, &loc);
	if (rc < 0)
		return rc;
	path = ufs_ns_join(loc.path, name);
	ufs_iloc_free(&loc);
	if (!path)
		return -ENOMEM;
	rc = node_resolve(fs, path, 0, pn);
	if (rc == 0)
		pn->ino = ufs_itab_find(fs->itab, pn->mount, pn->mount < 0 ? pn->path : pn->rel);
	return rc;
}

void fs_node_free(struct fs_node *n)
{
	free(n->path);
	n->path = NULL;
	n->rel = NULL;
}

int fs_node_is_fixed(const struct fs_node *n)
{
	return n->synthetic || (n->mount >= 0 && n->rel[0] == '\0');
}

int fs_node_of_new(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn)
{
	int rc = fs_node_of_child(fs, parent, name, pn);

	if (rc == -ENOENT)
		return -EROFS; /* outside every mount: in a synthetic directory */
	if (rc < 0)
		return rc;
	rc = fs_node_is_fixed(pn) ? -EEXIST : fs_node_writable(fs, pn);
	if (rc < 0)
		fs_node_free(pn);
	return rc;
}

int fs_node_of_old(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn)
{
	int rc = fs_node_of_child(fs, parent, name, pn);

	if (rc < 0)
		return rc;
	rc = fs_node_is_fixed(pn) ? -EBUSY : fs_node_writable(fs, pn);
	if (rc < 0)
		fs_node_free(pn);
	return rc;
}

int fs_node_writable(struct ufs_fs *fs, const struct fs_node *n)
{
	if (n->mount < 0 || fs->cfg->readonly || n->be->readonly)
		return -EROFS;
	return 0;
}

double fs_node_attr_ttl(struct ufs_fs *fs, const struct fs_node *n)
{
	if (n->mount < 0)
		return fs->cfg->attr_ttl;
	return ufs_meta_ttl(fs->meta, n->mount)->attr;
}

double fs_attr_kernel_ttl(struct ufs_fs *fs, const struct fs_node *n, const struct ufs_attr *attr)
{
	if (!S_ISDIR(attr->mode) && attr->nlink > 1)
		return 0;
	return fs_node_attr_ttl(fs, n);
}

/* Attributes of a file being written through the mount, if it is: the
 * local view wins while a writer is open. Returns 1 when it applied. */
static int node_pending(struct ufs_fs *fs, struct fs_node *n, int rc, struct ufs_attr *pattr)
{
	uint64_t size;
	uint32_t mode;

	if (!n->ino || !ufs_itab_pending(fs->itab, n->ino, &size, &mode))
		return 0;
	if (rc < 0 || pattr->mode == 0)
		fs_attr_new(pattr, S_IFREG | (mode & 07777));
	pattr->size = size;
	return 1;
}

/* Backend getattr with the metadata cache in front (unless fresh). What
 * is stored in the cache is a fact about the path; -ESTALE when n's inode
 * was shown another object (type or file id) than the path holds now: it
 * was replaced or removed (by a rename racing this call, or behind the
 * mount), and the kernel must look the name up again rather than give that
 * inode another file's attributes. */
static int node_backend_getattr(struct ufs_fs *fs, struct fs_node *n, int fresh,
				struct ufs_attr *pattr)
{
	int rc = fresh ? 0 : ufs_meta_get_attr(fs->meta, n->mount, n->rel, pattr);
	uint64_t ticket;

	if (rc == 1)
		return n->ino ? ufs_itab_check_attr(fs->itab, n->ino, pattr) : 0;
	if (rc < 0)
		return rc;
	ticket = ufs_meta_ticket(fs->meta);
	rc = fs_offline_skip(fs, n->mount) ? -EHOSTDOWN : ufs_be_getattr(n->be, n->rel, pattr);
	if (rc < 0 && fs_offline_attr(fs, n, rc, pattr) == 0)
		return 0; /* server down: what the disk tier holds stays readable */
	if (rc == 0 && pattr->mode != 0)
		ufs_meta_put_attr_since(fs->meta, n->mount, n->rel, pattr, ticket);
	else if (rc == -ENOENT)
		ufs_meta_put_negative_since(fs->meta, n->mount, n->rel, ticket);
	else if (rc == 0)
		rc = -EIO; /* a getattr must tell the type */
	if (rc == 0 && n->ino)
		rc = ufs_itab_check_attr(fs->itab, n->ino, pattr);
	if (rc == 0 && n->ino)
		ufs_itab_note_attr(fs->itab, n->ino, pattr);
	return rc;
}

int fs_node_getattr(struct ufs_fs *fs, struct fs_node *n, int fresh, struct ufs_attr *pattr)
{
	int rc;

	if (n->mount < 0) {
		fs_attr_synthetic(fs, pattr);
		return 0;
	}
	rc = node_backend_getattr(fs, n, fresh, pattr);
	if (node_pending(fs, n, rc, pattr))
		return 0;
	if (rc == -ENOENT && n->synthetic) {
		fs_attr_synthetic(fs, pattr);
		return 0;
	}
	if (rc < 0 && n->rel[0] == '\0') {
		ufs_debug("mount %s: root not shown (%s); using a synthetic directory", n->be->name,
			  strerror(-rc));
		fs_attr_synthetic(fs, pattr);
		return 0;
	}
	return rc;
}

/* Backend file ids above this are folded (hashed) into it; the mount index
 * + 1 goes above it. FUSE inode numbers stay below it. */
#define NODE_FID_BITS 48

static uint64_t node_st_ino(const struct ufs_attr *attr, const struct fs_node *n)
{
	const uint64_t low = (1ull << NODE_FID_BITS) - 1;
	uint64_t fid = attr->ino;

	if (n->mount < 0 || !fid)
		return n->ino;
	if (fid > low)
		fid = XXH64(&fid, sizeof(fid), 0) & low;
	return ((uint64_t)(n->mount + 1) << NODE_FID_BITS) | fid;
}

void fs_attr_to_stat(struct ufs_fs *fs, const struct ufs_attr *attr, const struct fs_node *n,
		     struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = node_st_ino(attr, n);
	st->st_mode = attr->mode;
	st->st_nlink = attr->nlink ? attr->nlink : (S_ISDIR(attr->mode) ? 2 : 1);
	st->st_uid = attr->uid == UFS_UID_OWNER ? fs->uid : attr->uid;
	st->st_gid = attr->gid == UFS_UID_OWNER ? fs->gid : attr->gid;
	st->st_size = (off_t)attr->size;
	st->st_rdev = (dev_t)attr->rdev;
	st->st_blksize = 1 << 20;
	st->st_blocks = (blkcnt_t)(attr->has_blocks ? attr->blocks : (attr->size + 511) / 512);
	st->st_atim = attr->atime;
	st->st_mtim = attr->mtime;
	st->st_ctim = attr->ctime.tv_sec ? attr->ctime : attr->mtime;
}

int fs_fill_entry(struct ufs_fs *fs, struct fs_node *n, const struct ufs_attr *attr,
		  struct fuse_entry_param *e)
{
	size_t rel_off = n->mount < 0 ? 0 : (size_t)(n->rel - n->path);
	uint64_t ino = ufs_itab_ref(fs->itab, n->mount, n->path, rel_off);
	double ttl = fs_node_attr_ttl(fs, n);

	if (!ino)
		return -ENOMEM;
	if (n->mount >= 0 && attr->mode != 0 && ufs_itab_check_attr(fs->itab, ino, attr) < 0) {
		/* a rename hashed another file at this path since attr was read */
		ufs_itab_forget(fs->itab, ino, 1);
		return -ESTALE;
	}
	n->ino = ino;
	if (n->mount >= 0 && attr->mode != 0)
		ufs_itab_note_attr(fs->itab, ino, attr);
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->generation = 1;
	e->attr_timeout = fs_attr_kernel_ttl(fs, n, attr);
	e->entry_timeout = ttl;
	fs_attr_to_stat(fs, attr, n, &e->attr);
	return 0;
}

void fs_reply_entry(fuse_req_t req, struct ufs_fs *fs, struct fs_node *n,
		    const struct ufs_attr *attr)
{
	struct fuse_entry_param e;
	int rc = fs_fill_entry(fs, n, attr, &e);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (fuse_reply_entry(req, &e) == -ENOENT) /* interrupted: undo the count */
		ufs_itab_forget(fs->itab, e.ino, 1);
}

void fs_node_changed(struct ufs_fs *fs, const struct fs_node *n)
{
	if (n->mount >= 0)
		ufs_meta_invalidate(fs->meta, n->mount, n->rel);
}

void fs_node_links_changed(struct ufs_fs *fs, const struct fs_node *n)
{
	if (n->ino)
		fs_node_file_changed(fs, n->ino, 0);
}

void fs_node_file_changed(struct ufs_fs *fs, uint64_t ino, int data)
{
	uint64_t inos[16];
	size_t k = ufs_itab_same_file(fs->itab, ino, inos, 16);
	struct fs_node o;

	for (size_t i = 0; i < k; i++) {
		if (data)
			ufs_itab_bump_gen(fs->itab, inos[i]);
		if (fs_node_of_ino(fs, inos[i], &o) < 0)
			continue;
		fs_node_changed(fs, &o);
		fs_node_free(&o);
		if (fs->se) /* data: the page cache too (offset 0, to the end) */
			fuse_lowlevel_notify_inval_inode(fs->se, inos[i], data ? 0 : -1, 0);
	}
}
