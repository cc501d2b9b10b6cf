/*
 * backend.h — the one interface every protocol implements (file, nfs, s3, az).
 *
 * Paths handed to a backend are relative to its root, with no leading '/';
 * the root itself is "". Components may hold any byte but '/' and NUL
 * (spaces, unicode, '%', '+', '?', ...): each backend encodes them for its
 * wire format itself.
 *
 * Errors: every slot returns 0 (or a byte count) on success and -errno on
 * failure, converted from the protocol's own codes once, inside the backend:
 * not found -> -ENOENT, denied/bad credentials -> -EACCES, exists -> -EEXIST,
 * object changed under a pinned read -> -ESTALE, server unreachable or not
 * answering within op_timeout -> -ETIMEDOUT/-ECONNREFUSED/-EHOSTDOWN, a
 * connection reset again after the protocol's own retry on a fresh
 * connection -> -ECONNRESET (the wrappers report it as -EIO and mark the
 * backend down only after several in a row), server errors after the
 * retries are spent -> -EIO. The server's own message is
 * kept with ufs_be_set_error() for logs.
 *
 * Threads: backends are called concurrently from many threads (FUSE workers,
 * read-ahead and upload workers). A backend keeps one connection per calling
 * thread (a CURL easy handle, an nfs_context), so calls on different threads
 * never wait for one another. A struct ufs_writer is used by one thread at a
 * time (the caller serialises).
 *
 * Callers outside protocols/ use the ufs_be_*() wrappers of backend.c, never
 * the slots directly: the wrappers map a NULL slot to -ENOTSUP, refuse
 * writes on readonly mounts with -EROFS, and keep the health
 * state that isolates a dead server (fail fast with -EHOSTDOWN for
 * retry_down seconds after a connection failure, then try again).
 */
#ifndef UFS_BACKEND_H
#define UFS_BACKEND_H

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

#include "common/config.h"
#include "common/metrics.h"

struct ufs_budget;
struct ufs_bufpool;
struct ufs_ratelimit;

#define UFS_ETAG_MAX 96
#define UFS_UID_OWNER ((uint32_t)-1) /* "the user who mounted" (object stores) */

/* Attributes of one entry. mode == 0 means "type unknown" (list only). */
struct ufs_attr {
	uint32_t mode; /* full st_mode: S_IFREG/S_IFDIR/S_IFLNK + permission bits */
	uint32_t nlink;
	uint32_t uid; /* UFS_UID_OWNER when the protocol has no owner */
	uint32_t gid; /* UFS_UID_OWNER when the protocol has no owner */
	uint64_t size;
	uint64_t ino;  /* server's file id, 0 when none */
	uint64_t rdev; /* device number of a device node, else 0 */
	/* 512-byte blocks the file occupies (sparse files, fallocate), valid
	 * when has_blocks (file, nfs); else the size stands for it. */
	uint64_t blocks;
	unsigned char has_blocks;
	struct timespec atime, mtime, ctime;
	char etag[UFS_ETAG_MAX]; /* version tag; "" on file/nfs (identity = mtime+size) */
	/* xxh3-128 of the content (canonical, big-endian) as the writer stored
	 * it in object metadata; valid when has_xxh3 (object stores only). */
	unsigned char xxh3[16];
	unsigned char has_xxh3;
	/* MD5 of the content as a listing reports it (S3: a single-part ETag;
	 * Azure: Content-MD5); valid when has_md5. Equal MD5s mean equal
	 * content; unequal ones prove nothing (an S3 ETag may not be an MD5). */
	unsigned char md5[16];
	unsigned char has_md5;
};

/* The identity a read is pinned to. A read that finds the object is no
 * longer this version fails with -ESTALE rather than mixing two versions. */
struct ufs_obj {
	const char *path; /* relative to the backend root */
	uint64_t size;
	struct timespec mtime;
	char etag[UFS_ETAG_MAX];
};

/* Called once per directory entry (never "." or ".."). attr->mode may be 0
 * when the listing gives no type. Return non-zero to stop the listing; that
 * value is then returned by list(). */
typedef int (*ufs_list_cb)(void *arg, const char *name, const struct ufs_attr *attr);

/* setattr() field mask */
enum {
	UFS_SET_MODE = 1 << 0,
	UFS_SET_UID = 1 << 1,
	UFS_SET_GID = 1 << 2,
	UFS_SET_SIZE = 1 << 3,
	UFS_SET_ATIME = 1 << 4,
	UFS_SET_MTIME = 1 << 5,
	UFS_SET_ATIME_NOW = 1 << 6,
	UFS_SET_MTIME_NOW = 1 << 7,
};

/* Backend capability bits (ufs_backend_ops.caps) */
enum {
	UFS_CAP_POSIX_WRITE = 1 << 0, /* writers take any offset, truncate, O_RDWR */
	UFS_CAP_HARDLINK = 1 << 1,
	UFS_CAP_SYMLINK = 1 << 2,
	UFS_CAP_CHMOD = 1 << 3, /* mode/uid/gid are stored */
};

enum ufs_req_kind {
	UFS_REQ_GET,
	UFS_REQ_HEAD,
	UFS_REQ_LIST,
	UFS_REQ_PUT,
	UFS_REQ_POST,
	UFS_REQ_DELETE,
	UFS_REQ_COPY,
	UFS_REQ_OTHER,
	UFS_REQ__COUNT
};

/* Calls through the guarded ufs_be_*() wrappers, timed in backend.c. */
enum ufs_be_op {
	UFS_BE_OP_CHECK,
	UFS_BE_OP_GETATTR,
	UFS_BE_OP_LIST,
	UFS_BE_OP_READ,
	UFS_BE_OP_OPEN_WRITER,
	UFS_BE_OP_UNLINK,
	UFS_BE_OP_MKDIR,
	UFS_BE_OP_RMDIR,
	UFS_BE_OP_RENAME,
	UFS_BE_OP_SYMLINK,
	UFS_BE_OP_READLINK,
	UFS_BE_OP_LINK,
	UFS_BE_OP_MKNOD,
	UFS_BE_OP_XATTR,
	UFS_BE_OP_FALLOCATE,
	UFS_BE_OP_SETATTR,
	UFS_BE_OP_STATFS,
	UFS_BE_OP__COUNT
};

/* Status slots of a request: 0 = no protocol status (file, nfs, or no HTTP
 * answer at all), 100..599 = that HTTP status, UFS_BE_CODE_OTHER = any other. */
#define UFS_BE_CODE_OTHER 600
#define UFS_BE_NCODES 601

/* Per-backend counters, updated by the backend (ufs_be_count*()) and the
 * wrappers; read by `unifs stats` and the metrics endpoint alike. */
struct ufs_be_stats {
	atomic_uint_least64_t req[UFS_REQ__COUNT];
	atomic_uint_least64_t by_code[UFS_REQ__COUNT][UFS_BE_NCODES];
	atomic_uint_least64_t bytes_in;
	atomic_uint_least64_t bytes_out;
	atomic_uint_least64_t errors;
	atomic_uint_least64_t retries;
	struct ufs_hist op_seconds[UFS_BE_OP__COUNT]; /* wrapper call latency */
	atomic_uint_least64_t op_errors[UFS_BE_OP__COUNT];
};

/* Name of request kind k ("GET", ...) and of wrapper op o ("getattr", ...). */
const char *ufs_req_kind_name(enum ufs_req_kind k);
const char *ufs_be_op_name(enum ufs_be_op o);

struct ufs_backend;
struct ufs_writer;

/* One stored part of a multipart upload (resumable copies): its size and
 * its ETag ("" where the store gives none, as Azure blocks). */
struct ufs_upload_part {
	uint64_t len;
	char etag[UFS_ETAG_MAX];
};

/* Called per stored part n (1-based) by ufs_writer_ops.stored_parts; id is
 * the upload id. Non-zero stops the walk and is returned. */
typedef int (*ufs_upload_part_cb)(void *arg, const char *id, unsigned n,
				  const struct ufs_upload_part *p);

struct ufs_writer_ops {
	/* Write len bytes at off; returns len or -errno. A writer of a backend
	 * without UFS_CAP_POSIX_WRITE accepts only off == bytes written so far
	 * and returns -ESPIPE otherwise (the caller then stages locally). */
	ssize_t (*pwrite)(struct ufs_writer *w, const void *buf, size_t len, uint64_t off);
	/* Set the file size (POSIX writers only; NULL otherwise). */
	int (*truncate)(struct ufs_writer *w, uint64_t size);
	/* Make what was written durable, or for uploads: wait until every part
	 * handed over so far is stored and report the first upload error. */
	int (*fsync)(struct ufs_writer *w);
	/* Finish (commit the upload / close the file) and free w. Returns the
	 * first error of the writer's life: an upload error is never lost. */
	int (*close)(struct ufs_writer *w);
	/* Discard: abort the upload (no leftover parts), free w. */
	void (*abort)(struct ufs_writer *w);
	/* Metadata stored with the object at close: meta->mtime (the source's)
	 * and, when meta->has_xxh3, the content hash; a later getattr returns
	 * them. Call before close. NULL where the backend keeps none (file/nfs
	 * set the mtime with setattr). 0 or -errno. */
	int (*set_meta)(struct ufs_writer *w, const struct ufs_attr *meta);

	/* ---- resumable uploads (object stores; NULL elsewhere) ----
	 * Part n of an upload always has the same size for a mount (the store's
	 * part size), so an upload begun by one process can be finished by
	 * another that streams the same bytes from the end of its stored parts. */

	/* The parts of the contiguous prefix 1..k stored so far, from part
	 * from+1 on, to cb in order. Never waits (parts still uploading are not
	 * reported). An upload begun with no part stored yet gets one call with
	 * n = 0 and p NULL (its id can be recorded, to abort it later). 0 (no
	 * upload begun yet: no call), or cb's value. */
	int (*stored_parts)(struct ufs_writer *w, unsigned from, ufs_upload_part_cb cb, void *arg);
	/* Before any pwrite: continue the earlier upload id of this writer's
	 * path, whose parts 1..n are parts[0..n). The store is asked whether it
	 * still holds them with these sizes and ETags; 0: resumed, the next
	 * pwrite is at the sum of their sizes and close commits them too.
	 * -ESTALE (the upload is gone or differs: what is left of it was
	 * aborted), -ENOTSUP (the store cannot list parts) or -errno, with a
	 * one-line reason in why: the writer is unchanged (starts at 0). */
	int (*resume)(struct ufs_writer *w, const char *id, unsigned n,
		      const struct ufs_upload_part *parts, char *why, size_t whylen);
	/* Abort the earlier upload id of this writer's path (not resumed). */
	void (*drop)(struct ufs_writer *w, const char *id);
};

struct ufs_writer {
	const struct ufs_writer_ops *ops;
	struct ufs_backend *be;
};

/* One key a backend accepts in its [mount] section (its configuration table:
 * the parser, the help texts and the man page check all read these). */
struct ufs_cfg_key {
	const char *name; /* NULL ends a table */
	unsigned flags;	  /* UFS_CFGKEY_SECRET: the value is a credential */
	const char *help; /* one line for --help */
};

struct ufs_credsrc;

/* What `unifs doctor` shows of a backend before using it (the describe
 * slot): where its server is and where its credentials come from. */
struct ufs_be_desc {
	char server[512]; /* http(s) base URL the backend talks to, "" when none */
	char host[256];	  /* host to resolve and connect to, "" when no network */
	char port[16];
	int tls;	  /* server is an https URL */
	int cred_na;	  /* no credentials apply; cred says what governs access */
	int cred_unknown; /* the backend could not be created: no source to show */
	char cred[320];	  /* the credential source in one line ("environment, region x") */
};

struct ufs_backend_ops {
	const char *scheme;   /* "file", "nfs", "s3", "az" */
	unsigned caps;	      /* UFS_CAP_* */
	const char *url_help; /* "s3://bucket[/prefix]  Amazon S3 or ..." for --help */
	/* [mount] keys of this backend, and of its family (object stores), or
	 * NULL; the registry adds the keys every scheme accepts (url, ...). */
	const struct ufs_cfg_key *keys;
	const struct ufs_cfg_key *family_keys;

	/* Parse m->url and the section's keys, load credentials, allocate the
	 * backend; no network I/O but to token services (bounded, credsrc.h). On error: -errno and
	 * a one-line message in err naming the mount (e.g. "mount /ckpt: AWS_SECRET_ACCESS_KEY not
	 * set"). */
	int (*create)(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		      struct ufs_backend **pbe, char *err, size_t errlen);
	/* Contact the server and check the root exists and credentials work.
	 * 0, or -errno with a one-line reason in err ("bucket 'x' does not exist"). */
	int (*check)(struct ufs_backend *be, char *err, size_t errlen);
	/* Describe m's backend into *out (zeroed by the caller): its server
	 * (host, port, TLS) and credential source. be is the backend created
	 * from m, or NULL when creating it failed. No I/O. */
	void (*describe)(const struct ufs_mount_cfg *m, const struct ufs_backend *be,
			 struct ufs_be_desc *out);

	int (*getattr)(struct ufs_backend *be, const char *path, struct ufs_attr *pattr);
	int (*list)(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg);
	/* Resumable listing, page by page (optional: all four or none; without
	 * them the ufs_be_list_*() wrappers serve list() as one page).
	 * list_open: a cursor on dir at token (NULL: the first page; else a
	 * value list_token gave for this dir), no I/O; 0 or -errno.
	 * list_page: the cursor's next page to cb (cb returns 0 or -errno);
	 * *pmore = 1 while pages follow; 0, cb's value or -errno. The listing's
	 * entries, each once, are the pages' in order, as list() gives them
	 * (an empty directory that does not exist: -ENOENT from the last page
	 * of a cursor opened at NULL).
	 * list_token: where the cursor's next page starts (owned by it, valid
	 * until its next call), NULL before the first page and after the last.
	 * list_close: free the cursor. */
	int (*list_open)(struct ufs_backend *be, const char *dir, const char *token, void **pcur);
	int (*list_page)(struct ufs_backend *be, void *cur, ufs_list_cb cb, void *arg, int *pmore);
	const char *(*list_token)(const void *cur);
	void (*list_close)(struct ufs_backend *be, void *cur);
	/* Read up to len bytes at off of obj's pinned version into buf; returns
	 * bytes read (short only at end of object) or -errno (-ESTALE if changed). */
	ssize_t (*read)(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
			void *buf);
	/* Open path for writing. flags: O_CREAT, O_EXCL, O_TRUNC, O_APPEND,
	 * O_RDWR/O_WRONLY as in open(2); object stores always write a whole new
	 * object (the caller stages for anything else). */
	int (*open_writer)(struct ufs_backend *be, const char *path, int flags, mode_t mode,
			   struct ufs_writer **pw);
	int (*unlink)(struct ufs_backend *be, const char *path);
	int (*mkdir)(struct ufs_backend *be, const char *path, mode_t mode);
	int (*rmdir)(struct ufs_backend *be, const char *path);
	/* flags: RENAME_NOREPLACE / RENAME_EXCHANGE as in renameat2(2), or 0 */
	int (*rename)(struct ufs_backend *be, const char *from, const char *to, unsigned flags);
	int (*symlink)(struct ufs_backend *be, const char *target, const char *path);
	/* Fills buf (NUL-terminated, truncated to size-1); returns length or -errno. */
	int (*readlink)(struct ufs_backend *be, const char *path, char *buf, size_t size);
	int (*link)(struct ufs_backend *be, const char *from, const char *to);
	/* Create a FIFO, socket or device node (mode: S_IFIFO/S_IFSOCK/S_IFCHR/
	 * S_IFBLK + permission bits; rdev for devices). NULL: -EOPNOTSUPP. */
	int (*mknod)(struct ufs_backend *be, const char *path, mode_t mode, dev_t rdev);
	/* Extended attributes of path (a final symlink is not followed), as
	 * getxattr/setxattr/listxattr/removexattr(2): get and list return the
	 * length (size 0: only the length; too small: -ERANGE). NULL:
	 * -EOPNOTSUPP. */
	ssize_t (*getxattr)(struct ufs_backend *be, const char *path, const char *name, void *buf,
			    size_t size);
	int (*setxattr)(struct ufs_backend *be, const char *path, const char *name,
			const void *value, size_t size, int flags);
	ssize_t (*listxattr)(struct ufs_backend *be, const char *path, char *buf, size_t size);
	int (*removexattr)(struct ufs_backend *be, const char *path, const char *name);
	/* fallocate(2) modes on the file path. NULL: -EOPNOTSUPP. */
	int (*fallocate)(struct ufs_backend *be, const char *path, int mode, uint64_t off,
			 uint64_t len);
	int (*setattr)(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
		       unsigned to_set);
	int (*statfs)(struct ufs_backend *be, struct statvfs *pst);
	/* Free the backend, its connections and everything it owns. */
	void (*destroy)(struct ufs_backend *be);
};

/* Common head of every backend; a protocol embeds it first in its own struct. */
struct ufs_backend {
	const struct ufs_backend_ops *ops;
	const struct ufs_mount_cfg *mcfg; /* borrowed from the config, outlives be */
	const struct ufs_config *gcfg;	  /* borrowed */
	struct ufs_budget *budget;	  /* write-buffer memory budget, NULL = unbounded */
	struct ufs_bufpool *bufpool;	  /* recycled buffers on budget (part buffers of its
					     size), NULL = none; borrowed, outlives writers */
	char *name;			  /* mount prefix, for messages */
	int readonly;
	/* bandwidth limit (bwlimit.c): the bucket reads and writes are charged
	 * to, NULL = none; the mount's own (bwlimit_own, owned), the [global]
	 * one, or one a command lends (cp/sync --bwlimit) */
	struct ufs_ratelimit *bwlimit;
	struct ufs_ratelimit *bwlimit_own;
	struct ufs_be_stats stats;
	/* health (backend.c) */
	pthread_mutex_t lock;
	int down;	      /* 1 while the server is considered unreachable */
	int down_errno;	      /* the errno that marked it down */
	int resets;	      /* calls in a row that ended in a connection reset */
	double retry_at;      /* monotonic seconds when the next real call may try */
	char last_error[256]; /* server's last message, for logs */
	/* where requests go and what they are signed with, for stats and doctor;
	 * set by the protocol's create()/check() (NULL: not applicable) */
	const char *endpoint;	  /* service URL */
	const char *region;	  /* signing region (S3) */
	struct ufs_credsrc *cred; /* borrowed from the protocol: source, expiry */
	const char *auth;	  /* without cred: how requests are signed ("shared key") */
};

/* Initialise the common head (called by each protocol's create()). */
void ufs_be_init(struct ufs_backend *be, const struct ufs_backend_ops *ops,
		 const struct ufs_mount_cfg *m, const struct ufs_config *g);
/* Release what ufs_be_init() set up (called by each protocol's destroy()). */
void ufs_be_fini(struct ufs_backend *be);

/* registry.c: which backends exist and their config keys. */

/* Create the backend for m->url by scheme. Unknown scheme -> -EPROTONOSUPPORT
 * and "mount /x: unknown URL scheme 'ftp' (use file, nfs, s3 or az)". */
int ufs_backend_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		       struct ufs_backend **pbe, char *err, size_t errlen);
/* Destroy via the ops; NULL is a no-op. */
void ufs_backend_destroy(struct ufs_backend *be);
/* Describe the backend of m (be: created from m, or NULL) by its scheme's
 * describe slot (see struct ufs_be_desc). 0, or -EPROTONOSUPPORT for a
 * scheme no backend serves. */
int ufs_be_describe(const struct ufs_mount_cfg *m, const struct ufs_backend *be,
		    struct ufs_be_desc *out);
/* Set out's host and port from "scheme://host[:port]/..." (def_port when
 * the URL names none), for describe slots. 0, or -EINVAL (no host). */
int ufs_be_desc_host(struct ufs_be_desc *out, const char *url, const char *def_port);

/* The registry's answers to the config parser (scheme known, key valid /
 * secret for a scheme, valid keys named): pass it to ufs_config_load(). */
extern const struct ufs_cfg_schema ufs_backend_schema;
/* Load a SOURCE as the commands take it: a URL when it contains "://"
 * (ufs_config_from_url), else a config file (ufs_config_load), both with
 * ufs_backend_schema. 0 and an owned *pcfg, or -errno with the one-line
 * reason in err. */
int ufs_be_config_open(const char *source, struct ufs_config **pcfg, char *err, size_t errlen);
/* The registered backends, in order; *pn receives their count. */
const struct ufs_backend_ops *const *ufs_backend_registry(size_t *pn);
/* The keys every scheme accepts (url, readonly, the ttls, ...). */
extern const struct ufs_cfg_key ufs_backend_common_keys[];
/* Print each scheme's URL form and its [mount] keys (secrets marked) to f,
 * for `unifs --help` and `mount.unifs --help`. */
void ufs_backend_print_help(FILE *f);

/* Record the server's message for logs (printf-like; thread-safe). */
void ufs_be_set_error(struct ufs_backend *be, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Copy the last recorded message into buf. */
void ufs_be_last_error(struct ufs_backend *be, char *buf, size_t size);
/* Count one request of kind k (and bytes moved), with no protocol status. */
void ufs_be_count(struct ufs_backend *be, enum ufs_req_kind k, uint64_t bytes_in,
		  uint64_t bytes_out);
/* Same, with the protocol's status (an HTTP status; 0 when none came back). */
void ufs_be_count_code(struct ufs_backend *be, enum ufs_req_kind k, long code, uint64_t bytes_in,
		       uint64_t bytes_out);
void ufs_be_count_error(struct ufs_backend *be);
void ufs_be_count_retry(struct ufs_backend *be);
/* True for errnos that mean "server unreachable" (mark the backend down).
 * Not ECONNRESET: one dropped connection says nothing of the server (see
 * backend.c). */
int ufs_errno_is_unreachable(int err);

/* Guarded calls used by fs/, cache/ and the CLI (see the file comment). */
int ufs_be_check(struct ufs_backend *be, char *err, size_t errlen);
int ufs_be_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr);
int ufs_be_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg);

/* A listing read page by page (the list_* slots), or the whole list() as
 * one page where the backend has no resume point (file, nfs). */
struct ufs_be_lister;
/* Start listing dir at token (NULL: the beginning; else a value
 * ufs_be_list_token() gave for this dir). No I/O. 0, -ENOMEM, or -EINVAL
 * for a token on a backend that cannot resume. */
int ufs_be_list_open(struct ufs_backend *be, const char *dir, const char *token,
		     struct ufs_be_lister **pl);
/* The next page to cb (cb returns 0 or -errno), through the health guard
 * and timed as one list call. *pmore = 1 while pages follow. 0, cb's value
 * or -errno; after the last page: 0 with nothing listed. */
int ufs_be_list_page(struct ufs_be_lister *l, ufs_list_cb cb, void *arg, int *pmore);
/* Where the next page starts (borrowed, valid until the next call on l), or
 * NULL (at the beginning, at the end, or a backend that cannot resume). */
const char *ufs_be_list_token(const struct ufs_be_lister *l);
/* 1 if l's backend can resume a listing at a token. */
int ufs_be_list_resumable(const struct ufs_be_lister *l);
/* Free l. NULL: no-op. */
void ufs_be_list_close(struct ufs_be_lister *l);
ssize_t ufs_be_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		    void *buf);
int ufs_be_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
		       struct ufs_writer **pw);
int ufs_be_unlink(struct ufs_backend *be, const char *path);
int ufs_be_mkdir(struct ufs_backend *be, const char *path, mode_t mode);
int ufs_be_rmdir(struct ufs_backend *be, const char *path);
int ufs_be_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags);
int ufs_be_symlink(struct ufs_backend *be, const char *target, const char *path);
int ufs_be_readlink(struct ufs_backend *be, const char *path, char *buf, size_t size);
int ufs_be_link(struct ufs_backend *be, const char *from, const char *to);
int ufs_be_mknod(struct ufs_backend *be, const char *path, mode_t mode, dev_t rdev);
ssize_t ufs_be_getxattr(struct ufs_backend *be, const char *path, const char *name, void *buf,
			size_t size);
int ufs_be_setxattr(struct ufs_backend *be, const char *path, const char *name, const void *value,
		    size_t size, int flags);
ssize_t ufs_be_listxattr(struct ufs_backend *be, const char *path, char *buf, size_t size);
int ufs_be_removexattr(struct ufs_backend *be, const char *path, const char *name);
int ufs_be_fallocate(struct ufs_backend *be, const char *path, int mode, uint64_t off,
		     uint64_t len);
int ufs_be_setattr(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
		   unsigned to_set);
int ufs_be_statfs(struct ufs_backend *be, struct statvfs *pst);

/* Join a backend-relative dir and a name ("" + "a" -> "a", "d" + "a" -> "d/a").
 * Returns a malloc'd string or NULL. */
char *ufs_path_join(const char *dir, const char *name);

extern const struct ufs_backend_ops ufs_file_ops;
extern const struct ufs_backend_ops ufs_nfs_ops;
extern const struct ufs_backend_ops ufs_s3_ops;
extern const struct ufs_backend_ops ufs_az_ops;

#endif
