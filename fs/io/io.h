/*
 * io.h — the I/O room of the FUSE daemon (fs/io/): reading and writing
 * file data, for the FUSE operations and the direct path.
 *
 * Files: readpath.c (reads; the one place that talks to the block cache),
 * writepath.c (the write side of an open file), staging.c (the local
 * staging file of an object-store write; staging.h, private to the room),
 * wshare.c (one write side per object-store inode, shared by its handles).
 *
 * The room calls down only (cache/, protocols/, common/).
 */
#ifndef UFS_FS_IO_H
#define UFS_FS_IO_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "cache/cache.h"
#include "fs/fs_types.h"

/* ---- readpath.c: reads (block cache when present) ---- */

struct fs_reader;

/* Create / destroy the block cache of fs (fs->cache stays NULL without it). */
int fs_cache_create(struct ufs_fs *fs, char *err, size_t errlen);
void fs_cache_destroy(struct ufs_fs *fs);
/* Counters of the block cache (zeros without one). */
void fs_cache_stats(struct ufs_fs *fs, struct ufs_cache_stats *pst);
/* Open a reader pinned to obj (copied) at write generation gen. 0/-errno. */
int fs_reader_open(struct ufs_fs *fs, struct ufs_backend *be, const struct ufs_obj *obj,
		   uint64_t gen, struct fs_reader **pr);
/* Read up to len bytes at off: bytes (short only at the end) or -errno. */
ssize_t fs_reader_read(struct fs_reader *r, void *buf, size_t len, uint64_t off);
/* The same for the direct path: cached blocks are copied, missing ones go
 * from the server straight into buf without being cached
 * (ufs_cache_read_through). */
ssize_t fs_reader_read_through(struct fs_reader *r, void *buf, size_t len, uint64_t off);
/* Zero-copy read of up to len bytes at off through the block cache: bytes
 * (short only at the end) with *ppin holding the data pinned (see
 * ufs_cache_read_pinned; release with ufs_cache_unpin), 0 at EOF with *ppin
 * NULL, -errno, or -EOPNOTSUPP when r has no cache stream (use
 * fs_reader_read). */
ssize_t fs_reader_read_pinned(struct fs_reader *r, size_t len, uint64_t off,
			      struct ufs_cache_pin **ppin);
/* Close r; NULL is a no-op. */
void fs_reader_close(struct fs_reader *r);
/* The identity a read of path is pinned to, from its attributes a: size,
 * mtime and etag; where the protocol has no etag (file, NFS) the inode
 * number and ctime stand in for it, so a same-size rewrite with a preserved
 * mtime is a new version (and misses the disk tier). */
void fs_obj_from_attr(struct ufs_obj *pobj, const char *path, const struct ufs_attr *a);
/* The next file in directory order is likely to be read: prefetch it. */
void fs_read_hint(struct ufs_fs *fs, struct ufs_backend *be, const struct ufs_obj *obj);

/* ---- writepath.c: the write side of one open file handle ---- */

struct fs_wfile;

/*
 * Open the write side of rel on be. flags as in open(2); mode for a new file;
 * cur: current attributes when the file exists (NULL when it is new or being
 * created). Not thread-safe: the caller serialises calls per handle.
 */
int fs_wfile_open(struct ufs_backend *be, const char *rel, int flags, mode_t mode,
		  const struct ufs_attr *cur, const char *staging_dir, struct fs_wfile **pw);
/* Write len bytes at off (O_APPEND: at the end). Bytes or -errno. */
ssize_t fs_wfile_write(struct fs_wfile *w, const void *buf, size_t len, uint64_t off);
/* Read through the write side when it owns the data (staging); *phandled
 * is 0 when the caller must read from the backend instead. */
ssize_t fs_wfile_read(struct fs_wfile *w, void *buf, size_t len, uint64_t off, int *phandled);
/* Set the file size. 0 or -errno. */
int fs_wfile_truncate(struct fs_wfile *w, uint64_t size);
/* Commit what was written (close a stream, upload a dirty staging file):
 * the place where upload errors surface. 0 or -errno. */
int fs_wfile_flush(struct fs_wfile *w);
/* Make what was written durable on the server. 0 or -errno. */
int fs_wfile_fsync(struct fs_wfile *w);
/* Flush what is left and free w; returns the first unreported error. */
int fs_wfile_close(struct fs_wfile *w);
/* Size of the file as written through w, or -1 when the server knows it
 * (POSIX backends). */
int64_t fs_wfile_size(const struct fs_wfile *w);
/* The file was renamed: later uploads go to rel. 0 or -ENOMEM. */
int fs_wfile_rename(struct fs_wfile *w, const char *rel);

/* ---- wshare.c: one write side per object-store inode, shared by its handles ---- */

struct fs_wshare;

/* The registry of shares of fs. 0 or -ENOMEM. */
int fs_wshares_create(struct ufs_fs *fs);
/* Free the registry (every share released). Safe when never created. */
void fs_wshares_destroy(struct ufs_fs *fs);
/* Join the write side of inode ino (O_TRUNC in flags truncates it) or, when
 * it has none, create one with fs_wfile_open(be, rel, flags, mode, cur).
 * 0 and *pws (a reference: fs_wshare_release), or -errno. */
int fs_wshare_open(struct ufs_fs *fs, uint64_t ino, struct ufs_backend *be, const char *rel,
		   int flags, mode_t mode, const struct ufs_attr *cur, struct fs_wshare **pws);
/* Share wf (a file just created) as the write side of ino: 0 and *pws, or
 * -EEXIST when ino has one already (wf stays the caller's), or -ENOMEM. */
int fs_wshare_adopt(struct ufs_fs *fs, uint64_t ino, struct fs_wfile *wf, struct fs_wshare **pws);
/* The shared write side, and the lock every call on it holds. */
struct fs_wfile *fs_wshare_wfile(struct fs_wshare *ws);
pthread_mutex_t *fs_wshare_lock(struct fs_wshare *ws);
/* Drop a reference (NULL: no-op); the last closes the write side and
 * returns its error (uploads: close(2)'s). */
int fs_wshare_release(struct ufs_fs *fs, struct fs_wshare *ws);

#endif
