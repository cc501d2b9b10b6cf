/*
 * ops_file.c — open files: open, create, read, write, flush, release, fsync,
 * and truncation (setattr size).
 *
 * An open file handle (struct fs_file, fi->fh) holds a reader pinned to the
 * identity seen by a fresh getattr at open (close-to-open consistency) when
 * the handle can read, and a write side (writepath.c) when it can write.
 * Read-only handles are lock-free (the reader is thread-safe); a handle
 * with a write side serialises every call on its mutex. After a write
 * through a POSIX backend the reader is re-pinned before the next read.
 *
 * keep_cache is set on a read-only open when the identity and the inode's
 * write generation equal those of the previous open, so the kernel page
 * cache serves repeat reads. Every write/truncate bumps the generation and
 * drops the metadata cache entries of the file.
 *
 * Freshness on POSIX backends (file, nfs): whatever changes a file's data
 * through this mount (a write or truncate through any handle, fallocate,
 * punch hole, zero range, the kernel's copy_file_range fallback) bumps the
 * inode's write generation, so a reader is valid only while the generation
 * it was pinned at is current. Before every read a handle whose reader is
 * older re-pins it to a fresh getattr (file_rd_get): never a block cached
 * under the old identity, never a read clamped to the old size (a short
 * read makes the kernel shrink its i_size). rdlock guards f->rd: reads
 * share it, a re-pin takes it exclusively. Object stores keep the version
 * pinned at open (a replaced object reads as ESTALE).
 *
 * Reads of a read-only handle through the block cache are zero-copy: the
 * reply is written to /dev/fuse straight from the pinned cache blocks
 * (fs_reader_read_pinned), unpinned once the synchronous reply returns.
 * Handles with a write side, and mounts without a cache, copy into a buffer.
 *
 * Object-store files being written are "pending" in the inode table, so
 * getattr reports the local size (and the file itself before its upload).
 * Their handles open for writing share one write side per inode
 * (wshare.c): f->ws, whose lock f->wlock then is.
 *
 * Direct path: the UFS_IOC_DIRECT ioctl gives libunifs a token bound to the
 * open file; direct.c then reads and writes through it (file_direct_ops),
 * and release revokes it before the handle is freed.
 *
 * Directory-order prefetch: opening the file that follows, in the cached
 * listing, the one opened before in the same directory hints the next
 * regular file to the block cache.
 */
#include "fs/direct/direct.h"
#include "fs/io/io.h"
#include "fs/ops/ops_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/ucred.h"
#include "lib/direct_wire.h"

#define FILE_HINT_SCAN 16 /* entries looked at for the next regular file */

struct fs_file {
	uint64_t ino;
	int mount;
	struct ufs_backend *be;
	char *rel;
	pthread_mutex_t lock;	 /* serialises handles with a write side */
	pthread_mutex_t *wlock;	 /* &lock, or the lock of the shared write side */
	struct fs_wshare *ws;	 /* object stores: the shared write side (wf is its) */
	int acc;		 /* O_ACCMODE of this handle's open (the direct path's check) */
	struct ufs_attr attr;	 /* at open */
	pthread_rwlock_t rdlock; /* f->rd: shared by reads, exclusive to re-pin */
	struct fs_reader *rd;
	uint64_t writes, rd_writes; /* writes through this handle; when rd was pinned */
	uint64_t rd_gen;	    /* the inode's write generation rd was pinned at */
	struct fs_wfile *wf;
	int pending;		/* counted as a pending writer in the inode table */
	int has_opener;		/* opener is set */
	struct ufs_cred opener; /* who opened: writes run as them (nfs:// AUTH_SYS) */
};

/* Remember the calling thread's caller as f's opener. */
static void file_take_opener(struct fs_file *f)
{
	const struct ufs_cred *c = ufs_cred_current();

	f->has_opener = c != NULL;
	if (c)
		f->opener = *c;
}

/* The thread acts as f's opener (as the kernel NFS client writes with the
 * opener's credentials) until fs_caller_end(). */
static void file_as_opener(const struct fs_file *f)
{
	ufs_cred_set(f->has_opener ? &f->opener : NULL);
}

static struct fs_file *file_of(struct fuse_file_info *fi)
{
	return (struct fs_file *)(uintptr_t)fi->fh;
}

static struct fs_file *file_new(const struct fs_node *n, uint64_t ino, const struct ufs_attr *a)
{
	struct fs_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->rel = strdup(n->rel);
	if (!f->rel) {
		free(f);
		return NULL;
	}
	f->ino = ino;
	file_take_opener(f);
	f->mount = n->mount;
	f->be = n->be;
	f->attr = *a;
	pthread_mutex_init(&f->lock, NULL);
	f->wlock = &f->lock;
	pthread_rwlock_init(&f->rdlock, NULL);
	return f;
}

static void file_obj(const struct fs_file *f, struct ufs_obj *obj)
{
	fs_obj_from_attr(obj, f->rel, &f->attr);
}

/* (Re)open the reader pinned to f->attr. */
static int file_pin_reader(struct ufs_fs *fs, struct fs_file *f)
{
	struct ufs_obj obj;

	fs_reader_close(f->rd);
	f->rd = NULL;
	file_obj(f, &obj);
	f->rd_writes = f->writes;
	f->rd_gen = ufs_itab_gen(fs->itab, f->ino);
	return fs_reader_open(fs, f->be, &obj, f->rd_gen, &f->rd);
}

/* Close everything f holds; returns the write side's last error. */
static int file_free(struct ufs_fs *fs, struct fs_file *f)
{
	int rc = f->ws ? fs_wshare_release(fs, f->ws) : f->wf ? fs_wfile_close(f->wf) : 0;

	fs_reader_close(f->rd);
	if (f->pending)
		ufs_itab_writer_close(fs->itab, f->ino);
	pthread_mutex_destroy(&f->lock);
	pthread_rwlock_destroy(&f->rdlock);
	free(f->rel);
	free(f);
	return rc;
}

/* Publish the local size of a pending object-store file. */
static void file_note_size(struct ufs_fs *fs, struct fs_file *f)
{
	int64_t size = f->wf ? fs_wfile_size(f->wf) : -1;

	if (f->pending && size >= 0)
		ufs_itab_writer_size(fs->itab, f->ino, (uint64_t)size, 1);
}

/* f uses the shared write side ws from now on. */
static void file_use_share(struct fs_file *f, struct fs_wshare *ws)
{
	f->ws = ws;
	f->wf = fs_wshare_wfile(ws);
	f->wlock = fs_wshare_lock(ws);
}

/* Set up the write side of f (open flags, cur = attributes when the file
 * exists): its own on POSIX backends, the inode's shared one on object
 * stores, where the handle also counts as a pending writer. */
static int file_open_write(struct ufs_fs *fs, struct fs_file *f, int flags, mode_t mode,
			   const struct ufs_attr *cur)
{
	struct fs_wshare *ws;
	int rc;

	if (f->be->ops->caps & UFS_CAP_POSIX_WRITE)
		return fs_wfile_open(f->be, f->rel, flags, mode, cur, fs->cfg->staging_dir, &f->wf);
	rc = fs_wshare_open(fs, f->ino, f->be, f->rel, flags, mode, cur, &ws);
	if (rc < 0)
		return rc;
	file_use_share(f, ws);
	ufs_itab_writer_open(fs->itab, f->ino, mode);
	f->pending = 1;
	pthread_mutex_lock(f->wlock);
	file_note_size(fs, f);
	pthread_mutex_unlock(f->wlock);
	return 0;
}

/* Name of the last component of rel and the length of its directory. */
static const char *file_split(const char *rel, size_t *pdirlen)
{
	const char *slash = strrchr(rel, '/');

	*pdirlen = slash ? (size_t)(slash - rel) : 0;
	return slash ? slash + 1 : rel;
}

/* Hint the first regular file after entry i of d. */
static void file_hint_after(struct ufs_fs *fs, struct fs_file *f, struct ufs_meta_dir *d, size_t i,
			    const char *dir, size_t dirlen)
{
	size_t n = ufs_meta_dir_count(d);

	for (size_t j = i + 1; j < n && j <= i + FILE_HINT_SCAN; j++) {
		const struct ufs_attr *a;
		const char *name = ufs_meta_dir_entry(d, j, &a);
		struct ufs_obj obj = {0};
		char *path;

		if (!S_ISREG(a->mode))
			continue;
		path = dirlen ? malloc(dirlen + strlen(name) + 2) : strdup(name);
		if (!path)
			return;
		if (dirlen) {
			memcpy(path, dir, dirlen);
			path[dirlen] = '/';
			strcpy(path + dirlen + 1, name);
		}
		fs_obj_from_attr(&obj, path, a);
		fs_read_hint(fs, f->be, &obj);
		free(path);
		return;
	}
}

/* Directory-order prefetch on a read-only open of f. */
static void file_dir_prefetch(struct ufs_fs *fs, struct fs_file *f)
{
	size_t dirlen;
	const char *name = file_split(f->rel, &dirlen);
	char *dir = strndup(f->rel, dirlen);
	struct ufs_meta_dir *d = dir ? ufs_meta_get_dir(fs->meta, f->mount, dir) : NULL;
	long cur, i;

	if (d) {
		cur = ufs_meta_dir_cursor(d);
		if (cur >= 0 && (size_t)cur + 1 < ufs_meta_dir_count(d) &&
		    strcmp(ufs_meta_dir_entry(d, (size_t)cur + 1, NULL), name) == 0) {
			i = cur + 1;
			file_hint_after(fs, f, d, (size_t)i, dir, dirlen);
		} else {
			i = ufs_meta_dir_find(d, name);
		}
		ufs_meta_dir_set_cursor(d, i);
		ufs_meta_dir_unref(d);
	}
	free(dir);
}

/* Finish a successful open/create: reader, keep_cache, fi->fh. */
static int file_finish_open(struct ufs_fs *fs, struct fs_file *f, struct fuse_file_info *fi)
{
	if (!f->wf) { /* read-only; a write side pins its reader at first read */
		struct ufs_obj obj;
		int rc = file_pin_reader(fs, f);

		if (rc < 0)
			return rc;
		file_obj(f, &obj);
		fi->keep_cache = ufs_itab_same_identity(fs->itab, f->ino, &obj);
		/* Close-to-open: the kernel may hold an older size (from a listing
		 * or an earlier getattr) that would cut reads short; drop it. */
		if (!fi->keep_cache && fs->se)
			fuse_lowlevel_notify_inval_inode(fs->se, f->ino, -1, 0);
		file_dir_prefetch(fs, f);
	}
	fi->fh = (uintptr_t)f;
	return 0;
}

/*
 * Close-to-open: POSIX backends (file, nfs) and opens for writing ask the
 * server at every open. A read-only open on an object store trusts
 * attributes younger than attr_ttl (usually from the LIST that showed the
 * file): one HEAD less per file for data loaders, as s3fs and Mountpoint do.
 * A replaced object is still caught: reads are pinned to the ETag (ESTALE).
 */
static int file_open_needs_fresh(const struct fs_node *n, int wr)
{
	return wr || (n->be->ops->caps & UFS_CAP_POSIX_WRITE);
}

static int file_open(struct ufs_fs *fs, fuse_ino_t ino, struct fuse_file_info *fi,
		     struct fs_file **pf)
{
	int wr = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
	struct ufs_attr attr;
	struct fs_file *f = NULL;
	struct fs_node n;
	int rc = fs_node_of_ino(fs, ino, &n);

	if (rc < 0)
		return rc;
	if (n.mount < 0)
		rc = -EISDIR;
	if (rc == 0 && wr)
		rc = fs_node_writable(fs, &n);
	if (rc == 0)
		rc = fs_node_getattr(fs, &n, file_open_needs_fresh(&n, wr), &attr);
	if (rc == 0 && S_ISDIR(attr.mode))
		rc = -EISDIR;
	if (rc == 0 && !(f = file_new(&n, ino, &attr)))
		rc = -ENOMEM;
	if (f)
		f->acc = fi->flags & O_ACCMODE;
	if (rc == 0 && wr)
		rc = file_open_write(fs, f, fi->flags, attr.mode, &attr);
	if (rc == 0 && (fi->flags & O_TRUNC)) {
		ufs_itab_bump_gen(fs->itab, ino);
		fs_node_changed(fs, &n);
		f->attr.size = 0;
	}
	if (rc == 0)
		rc = file_finish_open(fs, f, fi);
	if (rc < 0 && f)
		file_free(fs, f);
	fs_node_free(&n);
	*pf = f;
	return rc;
}

static void ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_file *f;
	int rc;

	fs_caller_begin(req);
	rc = file_open(fs, ino, fi, &f);
	fs_caller_end();
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_open(req, fi) == -ENOENT)
		file_free(fs, f);
}

/* Attributes of a file just created through the writer of f. When another
 * process already put something else under the name, the file made is
 * answered (the kernel fails a create whose entry is not a regular file
 * with EIO). */
static void file_new_attr(struct ufs_fs *fs, struct fs_node *n, mode_t mode, struct ufs_attr *pattr)
{
	if ((n->be->ops->caps & UFS_CAP_POSIX_WRITE) && fs_node_getattr(fs, n, 1, pattr) == 0 &&
	    S_ISREG(pattr->mode))
		return;
	fs_attr_new(pattr, S_IFREG | (mode & 07777));
}

static void ops_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		       struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct fs_file *f = NULL;
	struct ufs_attr attr;
	struct fs_node n;
	int rc = fs_node_of_new(fs, parent, name, &n);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	memset(&attr, 0, sizeof(attr));
	attr.mode = S_IFREG | (mode & 07777);
	rc = (f = file_new(&n, 0, &attr)) ? 0 : -ENOMEM;
	if (f)
		f->acc = fi->flags & O_ACCMODE;
	fs_caller_begin(req);
	if (rc == 0) {
		file_take_opener(f);
		rc = fs_wfile_open(n.be, n.rel, fi->flags | O_CREAT, mode, NULL,
				   fs->cfg->staging_dir, &f->wf);
	}
	fs_caller_end();
	if (rc == 0) {
		file_new_attr(fs, &n, mode, &f->attr);
		rc = fs_fill_entry(fs, &n, &f->attr, &e);
	}
	if (rc == 0) {
		f->ino = e.ino;
		ufs_itab_bump_gen(fs->itab, e.ino);
		if (!(n.be->ops->caps & UFS_CAP_POSIX_WRITE)) {
			struct fs_wshare *ws;

			if (fs_wshare_adopt(fs, f->ino, f->wf, &ws) == 0)
				file_use_share(f, ws);
			ufs_itab_writer_open(fs->itab, f->ino, mode);
			f->pending = 1;
		}
		rc = file_finish_open(fs, f, fi);
		if (rc < 0)
			ufs_itab_forget(fs->itab, e.ino, 1);
	}
	fs_node_changed(fs, &n);
	fs_node_free(&n);
	if (rc < 0) {
		if (f)
			file_free(fs, f);
		fuse_reply_err(req, -rc);
	} else if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		ufs_itab_forget(fs->itab, e.ino, 1);
		file_free(fs, f);
	}
}

/* 1 when f's reader no longer shows the file: none yet, a write through
 * f since it was pinned, or (POSIX backends) any change of the file's data
 * through this mount (the inode's write generation moved). */
static int file_rd_stale(struct ufs_fs *fs, const struct fs_file *f)
{
	if (!f->rd || f->rd_writes != f->writes)
		return 1;
	return (f->be->ops->caps & UFS_CAP_POSIX_WRITE) &&
	       ufs_itab_gen(fs->itab, f->ino) != f->rd_gen;
}

/* Re-pin f's reader to the file as the server has it now, if stale.
 * rdlock held exclusively (or f->lock on a handle with a write side). */
static int file_repin(struct ufs_fs *fs, struct fs_file *f)
{
	struct ufs_attr a;
	int rc;

	if (!file_rd_stale(fs, f))
		return 0;
	rc = ufs_be_getattr(f->be, f->rel, &a);
	if (rc < 0)
		return rc;
	f->attr = a;
	return file_pin_reader(fs, f);
}

/* Take f->rd for a read by a handle without a write side (shared rdlock),
 * re-pinned first if stale. 0 with rdlock held (release: file_rd_put), or
 * -errno without it. */
static int file_rd_get(struct ufs_fs *fs, struct fs_file *f)
{
	int rc;

	pthread_rwlock_rdlock(&f->rdlock);
	if (!file_rd_stale(fs, f))
		return 0;
	pthread_rwlock_unlock(&f->rdlock);
	pthread_rwlock_wrlock(&f->rdlock);
	rc = file_repin(fs, f);
	pthread_rwlock_unlock(&f->rdlock);
	if (rc < 0)
		return rc;
	pthread_rwlock_rdlock(&f->rdlock);
	return 0;
}

static void file_rd_put(struct fs_file *f)
{
	pthread_rwlock_unlock(&f->rdlock);
}

/* Read through f's write side or its reader; lock held when f->wf. */
static ssize_t file_read(struct ufs_fs *fs, struct fs_file *f, char *buf, size_t size, off_t off)
{
	int handled = 0;
	ssize_t n;

	if (!f->wf) {
		n = file_rd_get(fs, f);
		if (n == 0) {
			n = fs_reader_read(f->rd, buf, size, (uint64_t)off);
			file_rd_put(f);
		}
		return n;
	}
	n = fs_wfile_read(f->wf, buf, size, (uint64_t)off, &handled);
	if (!handled)
		n = file_repin(fs, f);
	if (!handled && n == 0)
		n = fs_reader_read(f->rd, buf, size, (uint64_t)off);
	return n;
}

/* Reply to a read with the pinned parts of pin, without copying them.
 * libfuse writes a one-buffer fuse_bufvec directly (without splice it
 * would copy a multi-buffer one), so several parts go by fuse_reply_iov. */
static void reply_pinned(fuse_req_t req, struct ufs_cache_pin *pin)
{
	const struct iovec *iov;
	int niov = ufs_cache_pin_iov(pin, &iov);

	if (niov == 1) {
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(iov[0].iov_len);

		bv.buf[0].mem = iov[0].iov_base;
		fuse_reply_data(req, &bv, 0);
	} else {
		fuse_reply_iov(req, iov, niov);
	}
	ufs_cache_unpin(pin);
}

static void ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_file *f = file_of(fi);
	char *buf;
	ssize_t n;

	(void)ino;
	if (!f->wf) {
		struct ufs_cache_pin *pin;

		n = file_rd_get(fs, f);
		if (n == 0) {
			n = fs_reader_read_pinned(f->rd, size, (uint64_t)off, &pin);
			file_rd_put(f);
		}
		if (n < 0 && n != -EOPNOTSUPP) {
			fuse_reply_err(req, (int)-n);
			return;
		}
		if (n == 0) {
			fuse_reply_buf(req, NULL, 0);
			return;
		}
		if (n > 0) {
			atomic_fetch_add(&fs->read_bytes, (uint64_t)n);
			reply_pinned(req, pin);
			return;
		}
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (f->wf)
		pthread_mutex_lock(f->wlock);
	n = file_read(fs, f, buf, size, off);
	if (f->wf)
		pthread_mutex_unlock(f->wlock);
	if (n < 0) {
		fuse_reply_err(req, (int)-n);
	} else {
		atomic_fetch_add(&fs->read_bytes, (uint64_t)n);
		fuse_reply_buf(req, buf, (size_t)n);
	}
	free(buf);
}

/* After a change of f's data: new generation, caches dropped. */
static void file_changed(struct ufs_fs *fs, struct fs_file *f)
{
	f->writes++;
	ufs_itab_bump_gen(fs->itab, f->ino);
	fs_node_file_changed(fs, f->ino, 1);
	ufs_meta_invalidate(fs->meta, f->mount, f->rel);
	file_note_size(fs, f);
}

static void ops_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_file *f = file_of(fi);
	ssize_t n;

	(void)ino;
	if (!f->wf) {
		fuse_reply_err(req, EBADF);
		return;
	}
	pthread_mutex_lock(f->wlock);
	file_as_opener(f);
	n = fs_wfile_write(f->wf, buf, size, (uint64_t)off);
	fs_caller_end();
	file_changed(fs, f);
	pthread_mutex_unlock(f->wlock);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/* Follow a rename of the open file (uploads go to the new name). */
static void file_follow_rename(struct ufs_fs *fs, struct fs_file *f)
{
	struct ufs_iloc loc;

	if (ufs_itab_get(fs->itab, f->ino, &loc) < 0)
		return;
	if (loc.mount == f->mount && strcmp(loc.rel, f->rel) != 0 &&
	    fs_wfile_rename(f->wf, loc.rel) == 0) {
		char *rel = strdup(loc.rel);

		if (rel) {
			free(f->rel);
			f->rel = rel;
		}
	}
	ufs_iloc_free(&loc);
}

/* Commit the write side of f (sync: fsync). 0 or -errno. */
static int file_do_commit(struct ufs_fs *fs, struct fs_file *f, int sync)
{
	int rc = 0;

	if (f->wf) {
		pthread_mutex_lock(f->wlock);
		file_follow_rename(fs, f);
		file_as_opener(f);
		rc = sync ? fs_wfile_fsync(f->wf) : fs_wfile_flush(f->wf);
		fs_caller_end();
		ufs_meta_invalidate(fs->meta, f->mount, f->rel);
		pthread_mutex_unlock(f->wlock);
	}
	return rc;
}

/* flush (close(2)) and fsync: commit the write side; errors surface here. */
static void file_commit(fuse_req_t req, struct fs_file *f, int sync)
{
	int rc = file_do_commit(fs_of(req), f, sync);

	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void ops_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	file_commit(req, file_of(fi), 0);
}

static void ops_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	file_commit(req, file_of(fi), 1);
}

static void ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_file *f = file_of(fi);
	int mount = f->mount;
	char *rel = f->wf ? strdup(f->rel) : NULL;
	int rc;

	(void)ino;
	fs_direct_revoke(fs, f);
	file_as_opener(f);
	rc = file_free(fs, f);
	fs_caller_end();
	if (rc < 0)
		ufs_err("release: %s: %s (data written after the last close may be lost)",
			rel ? rel : "?", strerror(-rc));
	if (rel)
		ufs_meta_invalidate(fs->meta, mount, rel);
	free(rel);
	fuse_reply_err(req, 0);
}

/* Truncate through a temporary write side (object stores, no handle). */
static int file_truncate_staged(struct ufs_fs *fs, struct fs_node *n, uint64_t size)
{
	struct fs_wfile *w;
	struct ufs_attr cur;
	int rc = fs_node_getattr(fs, n, 1, &cur);

	if (rc < 0)
		return rc;
	rc = fs_wfile_open(n->be, n->rel, O_WRONLY, cur.mode, &cur, fs->cfg->staging_dir, &w);
	if (rc < 0)
		return rc;
	rc = fs_wfile_truncate(w, size);
	if (rc < 0) {
		fs_wfile_close(w);
		return rc;
	}
	return fs_wfile_close(w); /* uploads: its error is the truncate's */
}

int fs_file_truncate(struct ufs_fs *fs, struct fs_node *n, struct fuse_file_info *fi, uint64_t size)
{
	struct fs_file *f = fi ? file_of(fi) : NULL;
	struct ufs_attr a = {.size = size};
	int rc;

	if (f && f->wf) {
		pthread_mutex_lock(f->wlock);
		rc = fs_wfile_truncate(f->wf, size);
		file_changed(fs, f);
		pthread_mutex_unlock(f->wlock);
		return rc;
	}
	if (n->mount < 0)
		return -EISDIR;
	if (n->be->ops->caps & UFS_CAP_POSIX_WRITE)
		return ufs_be_setattr(n->be, n->rel, &a, UFS_SET_SIZE);
	return file_truncate_staged(fs, n, size);
}

/* ---- the direct path (direct.c) uses open files through these ---- */

/* What f's fd was opened for, as open(2) decided it (FS_DIRECT_* bits):
 * this handle's own access mode, not its write side's (an object-store
 * write side is shared by every handle of the inode, wshare.c). A write
 * side without write access is O_RDONLY|O_TRUNC's. */
static unsigned file_direct_mode(const struct fs_file *f)
{
	int acc = f->wf ? f->acc : O_RDONLY;

	return (acc != O_WRONLY ? FS_DIRECT_READ : 0) | (acc != O_RDONLY ? FS_DIRECT_WRITE : 0);
}

static ssize_t file_direct_read(struct ufs_fs *fs, void *p, void *buf, size_t len, uint64_t off)
{
	struct fs_file *f = p;
	ssize_t n;

	if (!(file_direct_mode(f) & FS_DIRECT_READ))
		return -EBADF; /* never the daemon's own read of a write-only fd */
	if (!f->wf) {
		n = file_rd_get(fs, f);
		if (n == 0) {
			n = fs_reader_read_through(f->rd, buf, len, off);
			file_rd_put(f);
		}
		return n;
	}
	pthread_mutex_lock(f->wlock);
	n = file_read(fs, f, buf, len, (off_t)off);
	pthread_mutex_unlock(f->wlock);
	return n;
}

/* Writes run as the opener, as FUSE writes do (ops_write). */
static ssize_t file_direct_write(struct ufs_fs *fs, void *p, const void *buf, size_t len,
				 uint64_t off)
{
	struct fs_file *f = p;
	ssize_t n;

	if (!(file_direct_mode(f) & FS_DIRECT_WRITE))
		return -EBADF;
	pthread_mutex_lock(f->wlock);
	file_as_opener(f);
	n = fs_wfile_write(f->wf, buf, len, off);
	fs_caller_end();
	file_changed(fs, f);
	pthread_mutex_unlock(f->wlock);
	return n;
}

/* Commits run as the opener too (file_do_commit). */
static int file_direct_commit(struct ufs_fs *fs, void *p)
{
	return file_do_commit(fs, p, 0);
}

static const struct fs_direct_file_ops file_direct_ops = {
    .read = file_direct_read,
    .write = file_direct_write,
    .commit = file_direct_commit,
};

/* UFS_IOC_DIRECT: a direct-path token for this open file (libunifs). Only
 * on a regular file's handle: a directory's fi->fh is a struct fs_dir
 * (ops_dir.c), never an fs_file, so its ioctls are refused first. */
static void ops_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		      struct fuse_file_info *fi, unsigned flags, const void *in_buf,
		      size_t in_bufsz, size_t out_bufsz)
{
	struct ufs_fs *fs = fs_of(req);
	struct fs_file *f;
	struct udw_grant g;
	int rc;

	(void)ino;
	(void)arg;
	(void)in_buf;
	(void)in_bufsz;
	if ((flags & FUSE_IOCTL_DIR) || cmd != UFS_IOC_DIRECT || (flags & FUSE_IOCTL_COMPAT) ||
	    out_bufsz < sizeof(g)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	f = file_of(fi);
	rc = fs_direct_grant(fs, f, &file_direct_ops, f->ino, file_direct_mode(f),
			     fuse_req_ctx(req)->uid, &g);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_ioctl(req, 0, &g, sizeof(g));
}

void fs_ops_file_fill(struct fuse_lowlevel_ops *ops)
{
	ops->open = ops_open;
	ops->create = ops_create;
	ops->read = ops_read;
	ops->write = ops_write;
	ops->flush = ops_flush;
	ops->fsync = ops_fsync;
	ops->release = ops_release;
	ops->ioctl = ops_ioctl;
}
