/*
 * objstore.h — the object-store backend, written once for every store (S3 in
 * protocols/s3/, Azure Blob in protocols/azure/).
 *
 * A store supplies a small table of primitives (struct ufs_os_prims: head,
 * list page, ranged get, put, put marker, copy, delete, multipart
 * begin/part/commit/abort) that only encode requests, parse answers and
 * authenticate. Everything POSIX lives here once (os_ns.c, os_writer.c):
 * getattr as HEAD then prefix probe, listings with name filtering and
 * de-duplication of a key that is both a file and a prefix, directory
 * markers, mkdir/rmdir, rename as copy + delete, statfs, the streaming
 * writer on upload.c, and the per-mount owner/mode options.
 *
 * The pure helpers at the end (key prefixes, ETags, HTTP dates, names) do no
 * I/O and keep no state. See docs/architecture.md for how to add a store.
 */
#ifndef UFS_OBJSTORE_H
#define UFS_OBJSTORE_H

#include <stddef.h>
#include <time.h>

#include "protocols/backend.h"

struct ufs_os;

/* Kind of a listed or HEADed entry. */
enum ufs_os_kind {
	UFS_OS_FILE,   /* an object */
	UFS_OS_MARKER, /* an object that stands for a directory (Azure hdi_isfolder) */
	UFS_OS_PREFIX, /* a common prefix of a delimited listing: a directory */
};

/* One entry of a listing page. name is relative to the listed prefix, may be
 * "" (the prefix's own marker) and, for a prefix, ends with '/'. */
struct ufs_os_entry {
	const char *name;
	size_t name_len;
	enum ufs_os_kind kind;
	uint64_t size;
	struct timespec mtime;
	const char *etag;	  /* stripped; "" when none */
	const unsigned char *md5; /* 16 bytes: the content's MD5 as listed, or NULL */
};

/* Called per listed entry; non-zero stops the page and is returned by it. */
typedef int (*ufs_os_entry_cb)(void *arg, const struct ufs_os_entry *e);

/*
 * A store's primitives. Keys are full object names (the mount prefix
 * included). Each returns 0 or -errno with the backend.h meaning (-ENOENT:
 * no such key, -ESTALE: a condition failed, -EEXIST where noted).
 */
struct ufs_os_prims {
	const char *store;  /* "S3", "Azure Blob": for messages */
	unsigned max_parts; /* parts per multipart upload */
	int part_etags;	    /* 1: commit needs each part's ETag */
	/* Size of part n (1-based) of an upload. */
	uint64_t (*part_len)(struct ufs_os *os, unsigned n);
	/* Properties of key: size, mtime, etag; mode S_IFREG, or S_IFDIR for a
	 * marker object. */
	int (*head)(struct ufs_os *os, const char *key, struct ufs_attr *pattr);
	/* One page of the keys under prefix (delim: roll up at '/'), at most max
	 * entries, after *ptoken (NULL: the first page). Entries go to cb; on
	 * return *ptoken is the next page's token (malloc'd) or NULL at the end.
	 * 0, the callback's stop value, or -errno. */
	int (*list_page)(struct ufs_os *os, const char *prefix, int delim, unsigned max,
			 char **ptoken, ufs_os_entry_cb cb, void *arg);
	/* Bytes [off, off+len) of key pinned to etag ("" = any version) into buf:
	 * bytes read, -ERANGE past the end, -ESTALE when the version changed. */
	ssize_t (*get)(struct ufs_os *os, const char *key, const char *etag, uint64_t off,
		       size_t len, void *buf);
	/* Store buf as key in one request; excl: fail with -ESTALE if it exists;
	 * meta (may be NULL): metadata stored with it, as set_meta. */
	int (*put)(struct ufs_os *os, const char *key, const void *buf, size_t len, int excl,
		   const struct ufs_attr *meta);
	/* The empty directory marker of dirkey (no trailing '/'); -ESTALE if one
	 * exists and the store can tell. */
	int (*put_marker)(struct ufs_os *os, const char *dirkey);
	/* Server-side copy of from (size bytes, version etag or "") to to;
	 * noreplace: fail with -ESTALE if to exists. */
	int (*copy)(struct ufs_os *os, const char *from, const char *to, uint64_t size,
		    const char *etag, int noreplace);
	int (*del)(struct ufs_os *os, const char *key);
	/* Multipart upload: begin -> *pid (malloc'd), parts 1..n in any order
	 * and concurrently (etag filled when part_etags), commit in order,
	 * abort drops stored parts (may be NULL when the store drops them). */
	int (*mpu_begin)(struct ufs_os *os, const char *key, char **pid);
	int (*mpu_part)(struct ufs_os *os, const char *key, const char *id, unsigned n,
			const void *buf, size_t len, char etag[UFS_ETAG_MAX]);
	int (*mpu_commit)(struct ufs_os *os, const char *key, const char *id,
			  char (*etags)[UFS_ETAG_MAX], unsigned n, int excl);
	void (*mpu_abort)(struct ufs_os *os, const char *key, const char *id);
	/* The parts of upload id of key the store holds, to cb in any order
	 * (etag "" where the store keeps none). -ENOENT when the upload no
	 * longer exists. May be NULL (no resume: uploads start over). */
	int (*mpu_list)(struct ufs_os *os, const char *key, const char *id, ufs_upload_part_cb cb,
			void *arg);
	/* Replace the user metadata of the stored object key (size bytes) with
	 * the mtime and, when has_xxh3, the hash of meta (S3: a metadata-only
	 * self-copy; Azure: Set Blob Metadata). May be NULL. */
	int (*set_meta)(struct ufs_os *os, const char *key, uint64_t size,
			const struct ufs_attr *meta);
};

/* Common head of every object-store backend; a store embeds it first. */
struct ufs_os {
	struct ufs_backend base; /* first */
	const struct ufs_os_prims *prims;
	char *prefix;		 /* key prefix of the mount root: "" or "a/b/" (owned) */
	unsigned parallel;	 /* parts uploading at once per writer */
	struct timespec created; /* times of directories that have no object */
	uint32_t uid, gid;	 /* owner reported (UFS_UID_OWNER: the mounting user) */
	uint32_t file_mode;	 /* permission bits of files */
	uint32_t dir_mode;	 /* permission bits of directories */
};

/*
 * Initialise the common head: ufs_be_init(), the times of the root, and the
 * owner/mode keys of the section (uid, gid, file_mode, dir_mode, umask;
 * defaults: the mounting user, 0644, 0755). 0, or -EINVAL with a one-line
 * reason in err ("mount /x: file_mode '9' is not an octal mode").
 */
int ufs_os_init(struct ufs_os *os, const struct ufs_backend_ops *ops,
		const struct ufs_os_prims *prims, const struct ufs_mount_cfg *m,
		const struct ufs_config *g, char *err, size_t errlen);
/* Release what ufs_os_init() set up (and the prefix). */
void ufs_os_fini(struct ufs_os *os);

/* Full key of a backend-relative path (prefix + path), malloc'd or NULL. */
char *ufs_os_key(const struct ufs_os *os, const char *path);

/* The ufs_backend_ops slots every object store shares (see backend.h). */
int ufs_os_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr);
int ufs_os_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg);
/* The resumable listing slots (backend.h): pages of OS_LIST_MAX keys, the
 * token is the store's continuation token / marker. */
int ufs_os_list_open(struct ufs_backend *be, const char *dir, const char *token, void **pcur);
int ufs_os_list_page(struct ufs_backend *be, void *cur, ufs_list_cb cb, void *arg, int *pmore);
const char *ufs_os_list_token(const void *cur);
void ufs_os_list_close(struct ufs_backend *be, void *cur);
ssize_t ufs_os_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		    void *buf);
int ufs_os_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
		       struct ufs_writer **pw);
int ufs_os_unlink(struct ufs_backend *be, const char *path);
int ufs_os_mkdir(struct ufs_backend *be, const char *path, mode_t mode);
int ufs_os_rmdir(struct ufs_backend *be, const char *path);
/* Files only: a directory source -> -EXDEV (mv copies), a directory
 * destination -> -EISDIR, flags other than RENAME_NOREPLACE -> -EINVAL. */
int ufs_os_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags);
/* No quota: 1 PiB free, 2^32 inodes; f_namemax = NAME_MAX (255), the longest
 * name a listing passes (ufs_os_name_ok()). */
int ufs_os_statfs(struct ufs_backend *be, struct statvfs *pst);
/* The describe slot of the family: the endpoint as the backend resolved it
 * (region, profile, environment; https: port 443, else 80) and the
 * credential source with its expiry (a self-renewing one) or how requests
 * are signed, and the region; cred_unknown without a backend. */
void ufs_os_describe(const struct ufs_mount_cfg *m, const struct ufs_backend *be,
		     struct ufs_be_desc *out);

/*
 * The listing de-duplicator, exposed for unit tests: entries of one page are
 * fed with ufs_os_dedup_entry() and the page closed with
 * ufs_os_dedup_page(). Objects and markers are reported at once; a prefix is
 * reported at the end of its page unless an object of the same name was
 * seen in this page or the previous one (the object wins: one name, one
 * type). Objects sort before "name/", so such a pair is always in one page
 * or two consecutive ones.
 */
struct ufs_os_names {
	char **v;
	size_t n, cap;
};
struct ufs_os_dedup {
	struct ufs_os *os;
	const char *dir; /* listed directory, for messages */
	ufs_list_cb cb;
	void *arg;
	unsigned emitted, skipped;
	struct ufs_os_names cur, prev, prefixes;
};
void ufs_os_dedup_init(struct ufs_os_dedup *d, struct ufs_os *os, const char *dir, ufs_list_cb cb,
		       void *arg);
/* ufs_os_entry_cb over a struct ufs_os_dedup. */
int ufs_os_dedup_entry(void *arg, const struct ufs_os_entry *e);
/* Report the page's remaining prefixes; 0, a callback's value or -ENOMEM. */
int ufs_os_dedup_page(struct ufs_os_dedup *d);
void ufs_os_dedup_fini(struct ufs_os_dedup *d);

/* [mount] keys every object store accepts (owner and modes, os_ns.c). */
extern const struct ufs_cfg_key ufs_os_keys[];

/* The ufs_backend_ops of an object store: its scheme, --help line, own
 * config keys, create(), check() and destroy(), and the shared namespace
 * slots above. */
#define UFS_OS_OPS(SCHEME, URL_HELP, KEYS, CREATE, CHECK, DESTROY)                                 \
	{                                                                                          \
		.scheme = (SCHEME), .caps = 0, .url_help = (URL_HELP), .keys = (KEYS),             \
		.family_keys = ufs_os_keys, .create = (CREATE), .check = (CHECK),                  \
		.describe = ufs_os_describe, .getattr = ufs_os_getattr, .list = ufs_os_list,       \
		.list_open = ufs_os_list_open, .list_page = ufs_os_list_page,                      \
		.list_token = ufs_os_list_token, .list_close = ufs_os_list_close,                  \
		.read = ufs_os_read, .open_writer = ufs_os_open_writer, .unlink = ufs_os_unlink,   \
		.mkdir = ufs_os_mkdir, .rmdir = ufs_os_rmdir, .rename = ufs_os_rename,             \
		.statfs = ufs_os_statfs, .destroy = (DESTROY),                                     \
	}

/* ---- pure helpers ---- */

/* DNS-like root names (buckets, containers): 3-63 bytes of a-z, 0-9 and the
 * bytes of punct, beginning and ending with a letter or digit. */
int ufs_os_root_name_ok(const char *name, size_t len, const char *punct);

/* Is name[0..len) a valid bucket / container name of the store? */
typedef int (*ufs_os_root_ok_fn)(const char *name, size_t len);

/*
 * Split "SCHEME://root/prefix/..." into an owned root (bucket, container)
 * and an owned key prefix (ufs_os_norm_prefix()). root_ok checks the root's
 * name; a bad one fails with "'NAME' is not a valid WHAT" (what: "bucket
 * name (RULES)"). 0, or
 * -EINVAL / -ENOMEM with a one-line reason in err (*proot, *pprefix NULL).
 */
int ufs_os_split_url(const char *url, const char *scheme, ufs_os_root_ok_fn root_ok,
		     const char *what, char **proot, char **pprefix, char *err, size_t errlen);

/*
 * Normalise the path part of an object-store URL into a key prefix: empty
 * components dropped (leading, trailing and repeated '/'), each remaining
 * component followed by one '/': "/a//b" -> "a/b/", "" or "/" -> "".
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *ufs_os_norm_prefix(const char *path);

/*
 * Copy the opaque part of an ETag header / XML value (len bytes, not
 * necessarily NUL-terminated) into out: surrounding blanks, a weak "W/"
 * marker and the surrounding double quotes are removed ("\"abc\"" -> "abc",
 * "W/\"x\" " -> "x", "plain" -> "plain"). Truncated to UFS_ETAG_MAX - 1
 * bytes; out is always NUL-terminated. Callers that send it back quote it
 * again ("If-Match: \"%s\"").
 */
void ufs_os_etag_strip(const char *in, size_t len, char out[UFS_ETAG_MAX]);

/*
 * Parse an HTTP date (RFC 7231 IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT";
 * the obsolete RFC 850 and asctime forms are accepted too, as recipients
 * must) into *pts with tv_nsec 0. Locale-independent. 0 or -EINVAL.
 */
int ufs_os_parse_http_date(const char *s, struct timespec *pts);

/*
 * Apply an object's user metadata to *pattr: mtime (the value of
 * x-amz-meta-mtime / x-ms-meta-mtime as rclone and s3fs write it: decimal
 * seconds since the epoch with an optional fraction (digits past the
 * nanosecond ignored),
 * "1700000000.25") replaces pattr->mtime; xxh3 (32 hex digits, the unifs
 * key) fills pattr->xxh3 and sets has_xxh3. Either may be NULL (absent).
 * A malformed value leaves its field untouched: -EINVAL, else 0.
 */
int ufs_os_meta_apply(const char *mtime, const char *xxh3, struct ufs_attr *pattr);

/*
 * The metadata values of meta as stored: mtime "SECONDS.NNNNNNNNN" and the
 * xxh3 as 32 lower-case hex digits ("" when !has_xxh3).
 */
#define UFS_OS_META_LEN 40
void ufs_os_meta_format(const struct ufs_attr *meta, char mtime[UFS_OS_META_LEN],
			char xxh3[UFS_OS_META_LEN]);

/*
 * True when name[0..len) is usable as one POSIX directory-entry name: not
 * empty, not "." or "..", no '/' (so "a//b" and a key's trailing '/' never
 * pass through) and at most NAME_MAX bytes. Listings skip keys that fail.
 */
int ufs_os_name_ok(const char *name, size_t len);

#endif
