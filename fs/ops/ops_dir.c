/*
 * ops_dir.c — directories: opendir, readdir, readdirplus, releasedir.
 *
 * An open directory is the synthetic children of the namespace plus the
 * backend listing, read as a stream of pages (dir_stream.c): a directory
 * of any size is served holding one page, from the backend's resume point
 * (S3 continuation token, Azure marker; file and nfs list whole
 * directories, so theirs is one page). A listing found in the metadata
 * cache is served from there as one page; one read to its end that fits
 * the cache is stored there (and in the disk tier, when there is one: with
 * the server down, a remount lists from there, fs/inode/offline.c).
 * Entries are sorted by name within a page (S3 and Blob pages follow one
 * another in name order; NFS and local directories are one page), so the
 * "next file" prefetch follows the order programs open files in.
 *
 * Offsets (telldir cookies) name one virtual sequence: ".", "..", the
 * synthetic names, then real entry i of page p at base + p * 2^32 + i
 * (base: the count before them). They stay valid for as long as the handle
 * is open: seekdir to one re-reads its page when it is no longer the
 * window. Offset 0 again (rewinddir) after the directory was read reads it
 * again from the start. A real entry whose name is also synthetic is
 * skipped (the synthetic one wins).
 *
 * Memory: a page counts in the memory budget while it is the window (a
 * single page larger than the budget, a huge NFS directory, fails the
 * opendir with ENOMEM and a warning naming `memory`).
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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "common/log.h"
#include "fs/ops/dir_stream.h"

struct fs_dir {
	pthread_mutex_t lock;	 /* readdir calls on one handle, one at a time */
	struct dir_stream *real; /* NULL: no backend listing */
	char **syn;		 /* synthetic child names */
	size_t n_syn, cap_syn;
	char *path; /* namespace path of the directory */
	struct ufs_fs *fs;
	struct ufs_backend *be; /* for the disk tier's copy of a listing */
	const char *rel;	/* backend-relative path, into path */
	uint64_t ino;
	int served; /* a readdir was answered: offset 0 again is a rewind */
};

enum { DIR_DOTS = 2 };
#define DIR_PAGE_SHIFT 32 /* offset = base + page << DIR_PAGE_SHIFT + index */

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
	dir_stream_close(d->real);
	pthread_mutex_destroy(&d->lock);
	free(d->path);
	free(d);
}

/* dir_stream_done_fn: a whole listing went to the metadata cache; keep a
 * copy in the disk tier too. */
static void dir_listed(void *arg, struct ufs_meta_dir *listing)
{
	struct fs_dir *d = arg;

	if (d->fs->cache)
		ufs_cache_save_listing(d->fs->cache, d->be, d->rel, listing);
}

/* The listing of n: cached, streamed from the backend, or (server down)
 * the disk tier's copy. */
static int dir_listing(struct ufs_fs *fs, struct fs_node *n, struct fs_dir *d)
{
	struct ufs_meta_dir *m = ufs_meta_get_dir(fs->meta, n->mount, n->rel);
	int rc;

	if (!m) {
		rc = fs_offline_skip(fs, n->mount)
			 ? -EHOSTDOWN
			 : dir_stream_open(n->be, fs->meta, n->mount, n->rel, dir_listed, d,
					   &d->real);
		if (rc == -ENOMEM)
			ufs_warn("%s: one page of the listing found no room in the memory "
				 "budget (memory = %llu bytes); raise memory",
				 n->path, (unsigned long long)fs->cfg->memory);
		if (rc == 0)
			return 0;
		rc = fs_offline_listing(fs, n, rc, &m); /* server down: the kept copy */
		if (rc < 0)
			return rc;
	}
	d->real = dir_stream_of(m);
	ufs_meta_dir_unref(m);
	return d->real ? 0 : -ENOMEM;
}

/* Build the directory handle of n. A synthetic directory shows its
 * synthetic children even when its backend listing fails. */
static int dir_snapshot(struct ufs_fs *fs, struct fs_node *n, struct fs_dir *d)
{
	int rc = 0;

	if (n->mount >= 0)
		rc = dir_listing(fs, n, d);
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

	if (d)
		pthread_mutex_init(&d->lock, NULL);
	if (rc == 0) {
		d->fs = fs;
		d->be = n.be;
		d->path = n.path; /* the handle owns the path; n is not freed below */
		d->rel = n.rel;
		rc = dir_snapshot(fs, &n, d);
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

/* A virtual entry: its name, its attributes (NULL: none) and whether it is
 * synthetic, hidden by a synthetic name (skip), and the offset after it. */
struct dir_ent {
	const char *name;
	const struct ufs_attr *attr;
	int syn, skip;
	uint64_t next;
};

/* The entry at offset off into *e: 1, 0 past the end, or -errno (a page
 * that could not be read). */
static int dir_entry(struct ufs_fs *fs, struct fs_dir *d, uint64_t off, struct dir_ent *e)
{
	const uint64_t base = DIR_DOTS + d->n_syn;
	uint64_t page, i;
	int rc;

	memset(e, 0, sizeof(*e));
	e->next = off + 1;
	if (off < DIR_DOTS) {
		e->name = off == 0 ? "." : "..";
		return 1;
	}
	if (off < base) {
		e->syn = 1;
		e->name = d->syn[off - DIR_DOTS];
		return 1;
	}
	if (!d->real)
		return 0;
	page = (off - base) >> DIR_PAGE_SHIFT;
	i = (off - base) & ((1ULL << DIR_PAGE_SHIFT) - 1);
	for (;;) {
		if ((rc = dir_stream_seek(d->real, page)) < 0)
			return rc;
		if (dir_stream_page(d->real) != page)
			return 0; /* past the last page */
		if (i < dir_stream_count(d->real))
			break;
		if (dir_stream_last(d->real))
			return 0;
		page++; /* an empty page, or one that shrank since the offset was given */
		i = 0;
	}
	e->name = dir_stream_entry(d->real, (size_t)i, &e->attr);
	e->skip = d->n_syn && ufs_ns_has_synthetic_child(fs->ns, d->path, e->name);
	if (i + 1 == dir_stream_count(d->real) && !dir_stream_last(d->real))
		e->next = base + ((page + 1) << DIR_PAGE_SHIFT);
	else
		e->next = base + (page << DIR_PAGE_SHIFT) + i + 1;
	return 1;
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
	int rc = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (off == 0 && d->served && d->real)
		dir_stream_rewind(d->real);
	d->served = 1;
	for (uint64_t o = (uint64_t)off;;) {
		struct fuse_entry_param e;
		struct dir_ent de;
		int counted = 0;
		size_t sz;

		if ((rc = dir_entry(fs, d, o, &de)) <= 0)
			break;
		o = de.next;
		if (de.skip)
			continue;
		if (plus) {
			counted = dir_plus_entry(fs, d, de.name, de.attr, de.syn, &e);
			sz = fuse_add_direntry_plus(req, buf + used, size - used, de.name, &e,
						    (off_t)de.next);
			sz = sz > size - used ? 0 : sz;
		} else {
			sz = dir_add_plain(req, buf + used, size - used, de.name, de.attr, de.syn,
					   (off_t)de.next);
		}
		if (sz == 0) {
			if (counted)
				ufs_itab_forget(fs->itab, e.ino, 1);
			break;
		}
		used += sz;
	}
	pthread_mutex_unlock(&d->lock);
	if (rc < 0 && used == 0)
		fuse_reply_err(req, -rc); /* else the next call reads that page again */
	else
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
