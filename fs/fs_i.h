/*
 * fs_i.h — private interfaces of the FUSE daemon (fs/).
 *
 * One struct ufs_fs per mount holds everything the FUSE operations need. It
 * is built by daemon.c before the session starts and torn down after it
 * ends; during the session its fields are read-only (the objects they point
 * to are thread-safe), so operations never lock the struct itself.
 *
 * FUSE API version: 3.12 (FUSE_USE_VERSION 312), the one whose loop config
 * can raise max_threads; libfuse's 3.5 loop config caps the worker threads
 * at 10, and one hung backend could then starve every other subtree.
 *
 * Modules: namespace.c (mount table), inode.c (inode table), node.c (path
 * resolution, attributes, entry replies), ops.c (attribute/namespace ops),
 * ops_dir.c (directories), ops_file.c (open files), ops_xattr.c (xattrs,
 * fallocate), readpath.c (reads,
 * the one place that talks to the block cache), writepath.c + staging.c
 * (writes), caller.c (requests run as their caller), ctl.c (control
 * socket), daemon.c (ufs_fs_run).
 */
#ifndef UFS_FS_I_H
#define UFS_FS_I_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cache/cache.h"
#include "cache/meta.h"
#include "common/metrics.h"
#include "common/config.h"
#include "fs/inode_i.h"
#include "fs/namespace.h"
#include "protocols/backend.h"

#define FS_NAME_MAX 255

struct ufs_ctl;
struct fs_fstats;
struct fs_metrics;
struct ufs_direct;
struct udw_grant;

struct ufs_fs {
	struct ufs_config *cfg;
	char *mountpoint; /* canonical */
	struct ufs_ns *ns;
	struct ufs_itab *itab;
	struct ufs_meta *meta;
	struct ufs_budget *budget;
	struct ufs_cache *cache; /* NULL: reads go straight to the backends */
	struct ufs_backend **be; /* one per mount, index = mount index */
	size_t n_be;
	uid_t uid; /* owner reported for UFS_UID_OWNER */
	gid_t gid;
	struct timespec started; /* mtime of synthetic directories */
	atomic_int init_done;	 /* the kernel's INIT was answered */
	struct fuse_session *se;
	struct ufs_ctl *ctl;
	struct fs_fstats *fstats;   /* FUSE requests by type (fuse_stats.c) */
	struct fs_metrics *metrics; /* Prometheus endpoint, NULL = off (metrics.c) */

	atomic_uint_least64_t read_bytes; /* delivered to readers (FUSE read replies) */
	struct ufs_direct *direct;	  /* direct-path server (direct*.c), or NULL */
	struct fs_offline *offline;	  /* one per mount (offline.c) */
	struct fs_wshares *wshares;	  /* object-store write sides by inode (wshare.c) */
};

/* ---- offline.c: answers from the disk tier while a server is down ---- */

struct fs_node;

/* Per-mount offline state for fs->n_be mounts. 0 or -ENOMEM. */
int fs_offline_create(struct ufs_fs *fs);
/* Wait for running probes and free the state; safe when never created. */
void fs_offline_destroy(struct ufs_fs *fs);
/* 1 when mount is serving stale data: do not call its server (a background
 * probe is started when one is due); 0 to go to the server. */
int fs_offline_skip(struct ufs_fs *fs, int mount);
/* The server failed getattr of n with rc: 0 and *pattr (last known mode and
 * owner, never wider) when the disk tier knows n and rc means unreachable
 * (the mount becomes stale); else rc. */
int fs_offline_attr(struct ufs_fs *fs, const struct fs_node *n, int rc, struct ufs_attr *pattr);
/* Same for the listing of directory n: 0 and *pd (a new reference, also put
 * in the metadata cache), or rc. */
int fs_offline_listing(struct ufs_fs *fs, const struct fs_node *n, int rc,
		       struct ufs_meta_dir **pd);
/* Whether mount is stale now; *pserved: answers the disk tier gave. */
int fs_offline_stale(struct ufs_fs *fs, size_t mount, uint64_t *pserved);

/* ---- node.c: where a path lives, and its attributes ---- */

/* A resolved namespace path (owned copies). */
struct fs_node {
	char *path;		/* namespace path */
	int mount;		/* -1: synthetic-only directory */
	const char *rel;	/* backend-relative path, into path */
	struct ufs_backend *be; /* NULL when mount < 0 */
	int synthetic;		/* path is a synthetic directory */
	uint64_t ino;		/* inode number when known, else 0 */
};

/* Resolve inode ino. 0 or -errno (-ESTALE for an unknown inode). */
int fs_node_of_ino(struct ufs_fs *fs, uint64_t ino, struct fs_node *pn);
/* Resolve name in directory parent (-ENAMETOOLONG past 255 bytes, -ENOENT
 * outside every mount). 0 or -errno. */
int fs_node_of_child(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn);
/* A name to create in parent: -EEXIST for a synthetic name or mount point,
 * -EROFS where nothing can be written. 0 or -errno (pn freed on error). */
int fs_node_of_new(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn);
/* An existing name to remove or rename: -EBUSY for a synthetic name or a
 * mount point, -EROFS where nothing can be written. 0 or -errno. */
int fs_node_of_old(struct ufs_fs *fs, uint64_t parent, const char *name, struct fs_node *pn);
/* 1 for a name the namespace owns (synthetic directory, mount root). */
int fs_node_is_fixed(const struct fs_node *n);
/* Free the copies held by n. */
void fs_node_free(struct fs_node *n);
/* -EROFS unless entries may be created/changed at n (mount, not readonly). */
int fs_node_writable(struct ufs_fs *fs, const struct fs_node *n);
/* Attribute/entry time to live for n, in seconds. */
double fs_node_attr_ttl(struct ufs_fs *fs, const struct fs_node *n);
/* How long the kernel may keep attr of n: fs_node_attr_ttl(), but 0 for a
 * file with several names (hard links: a change through one name, or
 * behind the mount, must show through the others at once). */
double fs_attr_kernel_ttl(struct ufs_fs *fs, const struct fs_node *n, const struct ufs_attr *attr);

/* Attributes of an entry just created through the mount (mode: type and
 * permissions), for when its backend does not show it yet. */
void fs_attr_new(struct ufs_attr *pattr, uint32_t mode);
/* Attributes of a synthetic directory. */
void fs_attr_synthetic(struct ufs_fs *fs, struct ufs_attr *pattr);
/*
 * Attributes of n: from the metadata cache unless fresh, else from the
 * backend (then cached, or a negative entry stored). Synthetic directories
 * and mount roots the backend cannot show get synthetic attributes; a file
 * still being written through the mount reports its local size. 0 or -errno.
 */
int fs_node_getattr(struct ufs_fs *fs, struct fs_node *n, int fresh, struct ufs_attr *pattr);
/* Fill st from attr for node n (owner mapping, blocks, blksize). st_ino is
 * the backend's file id tagged with the mount (so hard links show one
 * number, unique across the namespace), else n's inode number. */
void fs_attr_to_stat(struct ufs_fs *fs, const struct ufs_attr *attr, const struct fs_node *n,
		     struct stat *st);
/* Reply to a lookup-like request with n and attr (counts one lookup). */
void fs_reply_entry(fuse_req_t req, struct ufs_fs *fs, struct fs_node *n,
		    const struct ufs_attr *attr);
/* Fill e for n/attr and count one lookup; 0 or -ENOMEM. */
int fs_fill_entry(struct ufs_fs *fs, struct fs_node *n, const struct ufs_attr *attr,
		  struct fuse_entry_param *e);
/* Forget what the caches know about n after a change through the mount. */
void fs_node_changed(struct ufs_fs *fs, const struct fs_node *n);

/* n (a name of a file with other names: hard links) was linked, unlinked
 * or renamed: the other names' cached attributes (link count, ctime) are
 * dropped here and in the kernel. */
void fs_node_links_changed(struct ufs_fs *fs, const struct fs_node *n);
/* The file of inode ino changed through ino (data: its bytes or size; else
 * mode, owner or times): its other names (hard links), each its own inode
 * here, drop their cached attributes, here and in the kernel, and with
 * data also their write generation moves and the kernel drops their pages.
 * A file with one name costs one lookup. */
void fs_node_file_changed(struct ufs_fs *fs, uint64_t ino, int data);

/* Mark the calling worker thread as acting for req's process (uid, gid,
 * supplementary groups; common/ucred.h) until fs_caller_end(). */
void fs_caller_begin(fuse_req_t req);
/* The thread acts as the daemon again. */
void fs_caller_end(void);

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
/* The identity (size, mtime, etag) of be:path last opened through the disk
 * tier, for attributes while its server is unreachable; 0, or -ENOENT. */
int fs_cache_last_identity(struct ufs_fs *fs, struct ufs_backend *be, const char *path,
			   struct ufs_obj *pobj);
/* The identity a read of path is pinned to, from its attributes a: size,
 * mtime and etag; where the protocol has no etag (file, NFS) the inode
 * number and ctime stand in for it, so a same-size rewrite with a preserved
 * mtime is a new version (and misses the disk tier). */
void fs_obj_from_attr(struct ufs_obj *pobj, const char *path, const struct ufs_attr *a);
/* The next file in directory order is likely to be read: prefetch it. */
void fs_read_hint(struct ufs_fs *fs, struct ufs_backend *be, const struct ufs_obj *obj);

/* ---- staging.c: local staging file of an object-store write ---- */

struct fs_stage;

/* New empty staging file in dir (created 0600 and unlinked at once). */
int fs_stage_create(const char *dir, struct fs_stage **ps);
/* Fill st with the current content of obj (st must be empty). 0/-errno. */
int fs_stage_fill(struct fs_stage *st, struct ufs_backend *be, const struct ufs_obj *obj);
/* Write all of buf at off (the file grows as needed): len or -errno. */
ssize_t fs_stage_pwrite(struct fs_stage *st, const void *buf, size_t len, uint64_t off);
/* Read up to len bytes at off: bytes (short only at the end) or -errno. */
ssize_t fs_stage_pread(struct fs_stage *st, void *buf, size_t len, uint64_t off);
/* Set the size of the staged file. 0 or -errno. */
int fs_stage_truncate(struct fs_stage *st, uint64_t size);
/* Size of the staged file. */
uint64_t fs_stage_size(const struct fs_stage *st);
/* Upload the whole file as a new version of rel. 0 or the first -errno. */
int fs_stage_upload(struct fs_stage *st, struct ufs_backend *be, const char *rel);
/* Close and free; NULL is a no-op. */
void fs_stage_destroy(struct fs_stage *st);

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

/* ---- ops_file.c: open files ---- */

/* Set the size of n, through the open handle fi when given (NULL: none).
 * Object stores stage the file when the new size is not 0. 0 or -errno. */
int fs_file_truncate(struct ufs_fs *fs, struct fs_node *n, struct fuse_file_info *fi,
		     uint64_t size);

/* ---- ops*.c: FUSE operation tables ---- */

/* Fill ops with every operation of the filesystem. */
void fs_ops_fill(struct fuse_lowlevel_ops *ops);
void fs_ops_dir_fill(struct fuse_lowlevel_ops *ops);
void fs_ops_file_fill(struct fuse_lowlevel_ops *ops);
/* Extended attributes and fallocate (ops_xattr.c). */
void fs_ops_xattr_fill(struct fuse_lowlevel_ops *ops);

/* The fs of a request. */
static inline struct ufs_fs *fs_of(fuse_req_t req)
{
	return (struct ufs_fs *)fuse_req_userdata(req);
}

/* ---- ctl.c: control socket ---- */

/* Make the socket directory (/run/unifs) usable: created 0755, or opened
 * to 0755 when it is ours; refused when group or others may write it.
 * 0 or -errno with a message. */
int fs_sock_dir_prepare(char *err, size_t errlen);

/* Start serving stats on the control socket of fs->mountpoint. 0/-errno. */
int fs_ctl_start(struct ufs_fs *fs, char *err, size_t errlen);
/* Stop the server and remove the socket; no-op when not started. */
void fs_ctl_stop(struct ufs_fs *fs);
/* Write the stats of fs into a malloc'd string (json or text). NULL: ENOMEM. */
char *fs_stats_format(struct ufs_fs *fs, int json);

/* ---- fuse_stats.c: FUSE requests by type, counted and timed ---- */

/* The operations fs_ops_fill() sets, in the order they are reported. */
#define FS_FOPS(X)                                                                                 \
	X(lookup)                                                                                  \
	X(forget)                                                                                  \
	X(forget_multi)                                                                            \
	X(getattr)                                                                                 \
	X(setattr)                                                                                 \
	X(readlink)                                                                                \
	X(mknod)                                                                                   \
	X(mkdir)                                                                                   \
	X(unlink)                                                                                  \
	X(rmdir)                                                                                   \
	X(symlink)                                                                                 \
	X(rename)                                                                                  \
	X(link)                                                                                    \
	X(statfs)                                                                                  \
	X(access)                                                                                  \
	X(create)                                                                                  \
	X(flush)                                                                                   \
	X(fsync)                                                                                   \
	X(open)                                                                                    \
	X(opendir)                                                                                 \
	X(read)                                                                                    \
	X(readdir)                                                                                 \
	X(readdirplus)                                                                             \
	X(release)                                                                                 \
	X(releasedir)                                                                              \
	X(write)

enum fs_fop {
#define X(op) FS_FOP_##op,
	FS_FOPS(X)
#undef X
	    FS_FOP__COUNT
};

struct fs_fstats {
	atomic_uint_least64_t n[FS_FOP__COUNT];
	struct ufs_hist seconds[FS_FOP__COUNT];
	atomic_int_least64_t open_handles; /* files open through the mount now */
	struct fuse_lowlevel_ops orig;	   /* the handlers of fs_ops_fill() */
};

/* Name of op as reported ("lookup", ...). */
const char *fs_fop_name(enum fs_fop op);
/* Allocate fs->fstats and make every set slot of ops a counting wrapper of
 * the original. 0, or -1 when out of memory (ops unchanged). */
int fs_fuse_stats_wrap(struct ufs_fs *fs, struct fuse_lowlevel_ops *ops);
/* Free fs->fstats (after the session ended). */
void fs_fuse_stats_free(struct ufs_fs *fs);

/* ---- metrics.c: the Prometheus endpoint ---- */

/* The Prometheus text exposition of fs's counters (malloc'd; NULL when out
 * of memory). Reads the same counters as fs_stats_format(). */
char *fs_metrics_format(struct ufs_fs *fs);
/* Serve fs_metrics_format() at http://cfg->metrics/metrics when set. 0, or
 * -errno with a one-line warning naming the address and port in why (an
 * address in use: the caller warns and the mount goes on without metrics). */
int fs_metrics_start(struct ufs_fs *fs, char *why, size_t whylen);
/* Stop serving: waits for a scrape in progress. NULL-safe, idempotent. */
void fs_metrics_stop(struct ufs_fs *fs);
/* ---- direct.c: the direct-path server (libunifs) ---- */

/* What the direct path may do with an open file (given by ops_file.c). */
struct fs_direct_file_ops {
	/* Read/write through the open file f as FUSE reads/writes do: bytes or -errno. */
	ssize_t (*read)(struct ufs_fs *fs, void *f, void *buf, size_t len, uint64_t off);
	ssize_t (*write)(struct ufs_fs *fs, void *f, const void *buf, size_t len, uint64_t off);
	/* Commit what was written (as close(2) does). 0 or -errno. */
	int (*commit)(struct ufs_fs *fs, void *f);
};

struct fs_direct_stats {
	uint64_t sessions, sessions_active, handles, entries;
	uint64_t bytes_read, bytes_written, errors;
	uint64_t prefetch_files, prefetch_bytes, prefetch_dropped;
};

/* Start the direct-path server of fs (socket next to the control socket).
 * 0 or -errno with a message. */
int fs_direct_start(struct ufs_fs *fs, char *err, size_t errlen);
/* Stop it: every session is closed once its entries finished; no-op when
 * not started. */
void fs_direct_stop(struct ufs_fs *fs);
/* What an open file's fd was opened for (its open(2) access mode). */
#define FS_DIRECT_READ 1
#define FS_DIRECT_WRITE 2
/*
 * A token for open file f (inode ino, opened for mode: FS_DIRECT_* bits)
 * usable by uid, and the server's socket path, in *pg. A second call for
 * the same f and uid gives the same token. 0, or -ENOTTY without a server,
 * -EMFILE past the bounds (grants per open file, per uid: direct_i.h).
 */
int fs_direct_grant(struct ufs_fs *fs, void *f, const struct fs_direct_file_ops *ops, uint64_t ino,
		    unsigned mode, uid_t uid, struct udw_grant *pg);
/* f is being closed: revoke its tokens and handles; returns once no entry
 * uses f any more. */
void fs_direct_revoke(struct ufs_fs *fs, void *f);
/* Counters of the direct path (zeros without a server). */
void fs_direct_get_stats(struct ufs_fs *fs, struct fs_direct_stats *pst);

#endif
