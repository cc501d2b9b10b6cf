/*
 * ops_dir.c — directories: opendir, readdir, readdirplus, releasedir.
 *
 * opendir takes a snapshot of the directory that the handle keeps until
 * releasedir, so offsets stay stable across readdir calls: the backend
 * listing (from the metadata cache, or one ufs_be_list that then fills the
 * cache, attributes of the children included) plus the synthetic children
 * of the namespace. Real entries are sorted by name: the order S3 and Blob
 * list in, and the one NFS and local directories are given to match, so
 * the "next file" prefetch follows the order programs open files in.
 * Offsets index one virtual sequence: ".", "..", the
 * synthetic names, then the real entries; a real entry whose name is also
 * synthetic is skipped (the synthetic one wins).
 *
 * Each listing fetched is also kept in the disk tier (when there is one):
 * with the server down, a remount lists from there (fs/inode/offline.c).
 *
 * Memory: a listing counts in the memory budget as it is built (entries
 * charged as they arrive; the budget reclaims clean blocks and other cached
 * listings first) and until the last handle on it closes. One larger than a
 * quarter of the budget is served to its opener but not cached (nor saved
 * to the disk tier). One that does not fit in the budget at all fails the
 * opendir with ENOMEM and a warning naming `memory`: backend listings are
 * one-shot walks (ufs_be_list has no resume point) and readdir offsets must
 * stay valid for as long as the handle is open, so a listing is never
 * served in pieces.
 *
 * readdirplus hands the kernel the attributes from the listing, so `ls -l`
 * costs one listing and no per-entry request. An entry whose type the
 * listing did not give is sent without attributes (inode 0): the kernel
 * then looks it up by itself; so is a mount point, whose attributes are its
 * backend's (one getattr per mount, not per entry). Each entry sent with an inode counts one
 * lookup; an entry that does not fit in the reply buffer is forgotten again.
 */
#include "fs/ops/ops_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "common/log.h"

struct fs_dir {
	struct ufs_meta_dir *real; /* NULL: no backend listing */
	char **syn;		   /* synthetic child names */
	size_t n_syn, cap_syn;
	char *path; /* namespace path of the directory */
	uint64_t ino;
};

enum { DIR_DOTS = 2 };

/* d_ino of an entry sent without an inode: never 0, which readdir(3)
 * would skip as a deleted entry. */
#define DIR_NO_INO 0xffffffffu

static int dir_add_synthetic(void *arg, const char *name)
{
	struct fs_dir *d = arg;

	if (d->n_syn == d->cap_syn) {
		size_t cap = d->cap_syn ? d->cap_syn * 2 : 8;
		char **v = realloc(d->syn, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->syn = v;
		d->cap_syn = cap;
	}
	d->syn[d->n_syn] = strdup(name);
	if (!d->syn[d->n_syn])
		return -ENOMEM;
	d->n_syn++;
	return 0;
}

static void dir_free(struct fs_dir *d)
{
	for (size_t i = 0; i < d->n_syn; i++)
		free(d->syn[i]);
	free(d->syn);
	ufs_meta_dir_unref(d->real);
	free(d->path);
	free(d);
}

static int dir_list_cb(void *arg, const char *name, const struct ufs_attr *attr)
{
	if (!*name || strchr(name, '/') || strlen(name) > FS_NAME_MAX || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return 0; /* not representable as a POSIX name */
	return ufs_meta_dir_add(arg, name, attr);
}

/* The listing of n: cached, or fetched (and cached). */
static int dir_listing(struct ufs_fs *fs, struct fs_node *n, struct ufs_meta_dir **pd)
{
	struct ufs_meta_dir *d = ufs_meta_get_dir(fs->meta, n->mount, n->rel);
	uint64_t ticket = ufs_meta_ticket(fs->meta); /* a listing older than a change is not kept */
	int rc;

	if (d) {
		*pd = d;
		return 0;
	}
	d = ufs_meta_dir_create_for(fs->meta);
	if (!d)
		return -ENOMEM;
	rc =
	    fs_offline_skip(fs, n->mount) ? -EHOSTDOWN : ufs_be_list(n->be, n->rel, dir_list_cb, d);
	if (rc == -ENOMEM)
		ufs_warn("%s: listing stopped at %zu entries: no room in the memory budget "
			 "(memory = %llu bytes); raise memory",
			 n->path, ufs_meta_dir_count(d), (unsigned long long)fs->cfg->memory);
	if (rc < 0) {
		ufs_meta_dir_unref(d);
		return fs_offline_listing(fs, n, rc, pd); /* server down: the kept copy */
	}
	ufs_meta_dir_sort(d);
	if (ufs_meta_put_dir_since(fs->meta, n->mount, n->rel, d, ticket) == 0 && fs->cache)
		ufs_cache_save_listing(fs->cache, n->be, n->rel, d);
	*pd = d;
	return 0;
}

/* Build the snapshot of n. A synthetic directory shows its synthetic
 * children even when its backend listing fails. */
static int dir_snapshot(struct ufs_fs *fs, struct fs_node *n, struct fs_dir *d)
{
	int rc = 0;

	if (n->mount >= 0)
		rc = dir_listing(fs, n, &d->real);
	if (rc < 0 && n->synthetic) {
		ufs_debug("%s: listing failed (%s); showing the mount points only", n->path,
			  strerror(-rc));
		rc = 0;
	}
	if (rc == 0 && n->synthetic)
		rc = ufs_ns_list_synthetic(fs->ns, n->path, dir_add_synthetic, d);
	return rc;
}

static void ops_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_dir *d = calloc(1, sizeof(*d));
	struct fs_node n;
	int rc = d ? fs_node_of_ino(fs, ino, &n) : -ENOMEM;

	if (rc == 0) {
		rc = dir_snapshot(fs, &n, d);
		d->path = n.path; /* keep the path; n is not freed below */
		n.path = NULL;
	}
	if (rc < 0) {
		if (d)
			dir_free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	d->ino = ino;
	fi->fh = (uintptr_t)d;
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) == -ENOENT)
		dir_free(d);
}

/* Name and attributes of virtual entry i; NULL past the end. *pskip is set
 * for a real entry hidden by a synthetic one. */
static const char *dir_entry(struct ufs_fs *fs, struct fs_dir *d, size_t i,
			     const struct ufs_attr **pattr, int *psyn, int *pskip)
{
	const char *name;

	*pattr = NULL;
	*psyn = 0;
	*pskip = 0;
	if (i < DIR_DOTS)
		return i == 0 ? "." : "..";
	i -= DIR_DOTS;
	if (i < d->n_syn) {
		*psyn = 1;
		return d->syn[i];
	}
	i -= d->n_syn;
	if (!d->real || i >= ufs_meta_dir_count(d->real))
		return NULL;
	name = ufs_meta_dir_entry(d->real, i, pattr);
	*pskip = d->n_syn && ufs_ns_has_synthetic_child(fs->ns, d->path, name);
	return name;
}

/* Add one entry in plain readdir form; returns its size, 0 if full. */
static size_t dir_add_plain(fuse_req_t req, char *buf, size_t room, const char *name,
			    const struct ufs_attr *attr, int syn, off_t next)
{
	struct stat st = {0};
	size_t sz;

	st.st_ino = DIR_NO_INO;
	st.st_mode = syn ? S_IFDIR : (attr ? attr->mode & S_IFMT : 0);
	if (!syn && !attr)
		st.st_mode = S_IFDIR; /* "." and ".." */
	sz = fuse_add_direntry(req, buf, room, name, &st, next);
	return sz > room ? 0 : sz;
}

/* Entry parameters for a readdirplus entry (counts one lookup when it
 * returns 1; 0: send without attributes). */
static int dir_plus_entry(struct ufs_fs *fs, struct fs_dir *d, const char *name,
			  const struct ufs_attr *attr, int syn, struct fuse_entry_param *e)
{
	struct ufs_attr sattr;
	struct fs_node n;
	char *path;
	int rc;

	memset(e, 0, sizeof(*e));
	e->attr.st_ino = DIR_NO_INO;
	if (!attr && !syn) { /* "." / ".." */
		e->attr.st_mode = S_IFDIR;
		return 0;
	}
	if (!syn && attr->mode == 0)
		return 0;
	if (syn) {
		fs_attr_synthetic(fs, &sattr);
		attr = &sattr;
	}
	path = ufs_ns_join(d->path, name);
	if (!path)
		return 0;
	memset(&n, 0, sizeof(n));
	n.path = path;
	rc = ufs_ns_resolve(fs->ns, path, &n.mount, &n.rel) == 0;
	if (rc && syn && n.mount >= 0 && n.rel[0] == '\0')
		rc = 0; /* a mount root: the kernel looks it up (its backend's attributes) */
	rc = rc && fs_fill_entry(fs, &n, attr, e) == 0;
	fs_node_free(&n);
	return rc;
}

static void ops_readdir_common(fuse_req_t req, size_t size, off_t off, struct fs_dir *d, int plus)
{
	struct ufs_fs *fs = fs_of(req);
	char *buf = malloc(size);
	size_t used = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off;; i++) {
		const struct ufs_attr *attr;
		int syn, skip, counted = 0;
		const char *name = dir_entry(fs, d, i, &attr, &syn, &skip);
		struct fuse_entry_param e;
		size_t sz;

		if (!name)
			break;
		if (skip)
			continue;
		if (plus) {
			counted = dir_plus_entry(fs, d, name, attr, syn, &e);
			sz = fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
						    (off_t)i + 1);
			sz = sz > size - used ? 0 : sz;
		} else {
			sz = dir_add_plain(req, buf + used, size - used, name, attr, syn,
					   (off_t)i + 1);
		}
		if (sz == 0) {
			if (counted)
				ufs_itab_forget(fs->itab, e.ino, 1);
			break;
		}
		used += sz;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	(void)ino;
	ops_readdir_common(req, size, off, (struct fs_dir *)(uintptr_t)fi->fh, 0);
}

static void ops_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			    struct fuse_file_info *fi)
{
	(void)ino;
	ops_readdir_common(req, size, off, (struct fs_dir *)(uintptr_t)fi->fh, 1);
}

static void ops_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	dir_free((struct fs_dir *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

void fs_ops_dir_fill(struct fuse_lowlevel_ops *ops)
{
	ops->opendir = ops_opendir;
	ops->readdir = ops_readdir;
	ops->readdirplus = ops_readdirplus;
	ops->releasedir = ops_releasedir;
}
