/*
 * file.c — the local-directory backend: file:///abs/dir.
 *
 * Design
 * - The root is held as an O_PATH directory fd (rootfd), opened in create()
 *   when possible and otherwise lazily (check() reports why it cannot be).
 *   Every operation works relative to it with the *at() system calls, so the
 *   root path is resolved once and a rename of the root's parents does not
 *   change what the backend serves.
 * - Confinement: a path with a ".." component is refused (-EINVAL) before any
 *   system call. The parent directory of a nested path is opened with
 *   openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), so a symlink inside the
 *   tree cannot lead a call outside the root; the final component is never
 *   followed (AT_SYMLINK_NOFOLLOW / O_NOFOLLOW).
 * - Reads go through a small per-backend cache of open read-only fds keyed
 *   by path (pread on a shared fd is thread-safe). Entries are refcounted:
 *   a reader holds a reference while it preads, eviction or invalidation
 *   only drops the cache's reference, and the fd is closed by the last one.
 *   A pinned read lstat()s the path and compares size+mtime with the obj
 *   (-ESTALE on a mismatch), then uses the cached fd only if it is still the
 *   same inode (dev+ino); a file replaced under its name gets a fresh fd.
 * - Writers own one fd (pwrite/ftruncate/fsync/close); the first error of a
 *   writer's life is returned again by close().
 *
 * Lock order: file_be.lock is a leaf (held only around cache bookkeeping,
 * never across a system call that can block on I/O except close()).
 */
#include "common/fdio.h"
#include "common/ucred.h"
#include "protocols/backend.h"

#include "protocols/http/http.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define FILE_FDC_SLOTS 16

/* One open read fd; freed (and closed) when refs drops to 0. */
struct file_fd {
	char *path;
	int fd;
	int refs;
	dev_t dev; /* identity of the open inode */
	ino_t ino;
};

struct file_be {
	struct ufs_backend base;
	char *root;	   /* absolute, percent-decoded */
	atomic_int rootfd; /* O_PATH dir fd, -1 until opened */
	pthread_mutex_t lock;
	struct file_fd *fdc[FILE_FDC_SLOTS]; /* read fd cache; slot order = LRU (0 newest) */
};

struct file_writer {
	struct ufs_writer base;
	int fd;
	int err; /* first error, returned by close() */
};

/* A path split into (directory fd, final name). */
struct file_loc {
	int dirfd;
	int owned; /* dirfd must be closed */
	const char *name;
	struct ufs_cred_saved ids; /* the thread acts as the caller until unlocate */
};

static struct file_be *file_be_of(struct ufs_backend *be)
{
	return (struct file_be *)be;
}

/* ---- URL and path helpers ---------------------------------------------- */

/* Root directory of a file:// URL ("file:///a/b", "file://localhost/a/b"),
 * decoded, without trailing slashes (but "/" stays "/"). NULL if invalid. */
static char *file_url_root(const char *url)
{
	const char *p;
	char *root;
	size_t n;

	if (strncmp(url, "file://", 7) != 0)
		return NULL;
	p = url + 7;
	if (strncmp(p, "localhost/", 10) == 0)
		p += 9;
	if (*p != '/' || strstr(p, "%00"))
		return NULL;
	root = ufs_uri_decode(p, strlen(p));
	if (!root)
		return NULL;
	n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		root[--n] = '\0';
	return root;
}

/* 0 if path is a valid backend-relative path, -EINVAL otherwise. */
static int file_check_path(const char *path)
{
	const char *p = path;

	if (path[0] == '/')
		return -EINVAL;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		p += len;
		if (*p == '/')
			p++;
	}
	return 0;
}

/* ---- root and path resolution ------------------------------------------ */

static int file_open_root(struct file_be *fb)
{
	int fd = atomic_load(&fb->rootfd);
	int expected = -1;

	if (fd >= 0)
		return fd;
	fd = open(fb->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!atomic_compare_exchange_strong(&fb->rootfd, &expected, fd)) {
		close(fd);
		return expected;
	}
	return fd;
}

/* openat2() missing (ENOSYS, kernels before 5.6): walk dir one component at
 * a time with O_NOFOLLOW, so no symlink is followed and, ".." being refused
 * before any call, nothing outside the root is reached. */
static int file_open_walk(int rootfd, const char *dir, int flags)
{
	char *copy = strdup(dir), *save = NULL, *comp, *next;
	int fd = dup(rootfd), rc = 0;

	if (!copy || fd < 0) {
		rc = copy ? -errno : -ENOMEM;
		goto out;
	}
	for (comp = strtok_r(copy, "/", &save); comp && !rc; comp = next) {
		int last, nfd;

		next = strtok_r(NULL, "/", &save);
		last = next == NULL;
		nfd = openat(fd, comp,
			     (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		rc = nfd < 0 ? -errno : 0;
		close(fd);
		fd = nfd;
	}
out:
	free(copy);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

/* Open dir (relative to rootfd) confined beneath the root. */
static int file_open_beneath(int rootfd, const char *dir, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, dir, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		return file_open_walk(rootfd, dir, flags);
	return fd < 0 ? -errno : (int)fd;
}

/* Split path into its parent dir fd and final name. The root is ".". */
static int file_locate(struct file_be *fb, const char *path, struct file_loc *ploc)
{
	int rootfd = file_check_path(path);
	const char *slash;
	char *dir;

	ploc->ids.switched = 0;
	ploc->owned = 0;
	if (rootfd < 0)
		return rootfd;
	rootfd = file_open_root(fb);
	if (rootfd < 0)
		return rootfd;
	slash = strrchr(path, '/');
	ploc->dirfd = rootfd;
	ploc->owned = 0;
	ploc->name = path[0] ? path : ".";
	if (!slash)
		return 0;
	if (slash[1] == '\0')
		return -EINVAL;
	dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	ploc->dirfd = file_open_beneath(rootfd, dir, O_PATH | O_DIRECTORY);
	free(dir);
	if (ploc->dirfd < 0)
		return ploc->dirfd;
	ploc->owned = 1;
	ploc->name = slash + 1;
	return 0;
}

/* file_locate() with the thread acting as the request's caller (common/
 * ucred.h) from here until file_unlocate(): what is created belongs to the
 * caller and the kernel checks the caller's permissions. */
static int file_locate_caller(struct file_be *fb, const char *path, struct file_loc *ploc)
{
	struct ufs_cred_saved ids;
	int rc = ufs_cred_fs_enter(&ids);

	if (rc < 0)
		return rc;
	rc = file_locate(fb, path, ploc);
	ploc->ids = ids;
	if (rc < 0)
		ufs_cred_fs_leave(&ploc->ids);
	return rc;
}

static void file_unlocate(struct file_loc *loc)
{
	if (loc->owned)
		close(loc->dirfd);
	loc->owned = 0;
	ufs_cred_fs_leave(&loc->ids);
}

/* Open the final component of path (never following a final symlink), as
 * the request's caller when caller is set. */
static int file_open_at(struct file_be *fb, const char *path, int flags, mode_t mode, int caller)
{
	struct file_loc loc;
	int fd = caller ? file_locate_caller(fb, path, &loc) : file_locate(fb, path, &loc);

	if (fd < 0)
		return fd;
	fd = openat(loc.dirfd, loc.name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		fd = -errno;
	file_unlocate(&loc);
	return fd;
}

static void file_stat_to_attr(const struct stat *st, struct ufs_attr *pattr)
{
	memset(pattr, 0, sizeof(*pattr));
	pattr->mode = st->st_mode;
	pattr->nlink = (uint32_t)st->st_nlink;
	pattr->uid = st->st_uid;
	pattr->gid = st->st_gid;
	pattr->size = (uint64_t)st->st_size;
	pattr->ino = st->st_ino;
	pattr->rdev = st->st_rdev;
	pattr->blocks = (uint64_t)st->st_blocks;
	pattr->has_blocks = 1;
	pattr->atime = st->st_atim;
	pattr->mtime = st->st_mtim;
	pattr->ctime = st->st_ctim;
}

/* ---- read fd cache ------------------------------------------------------ */

/* Drop one reference (caller holds fb->lock); closes at zero. */
static void file_fd_put_locked(struct file_fd *f)
{
	if (--f->refs > 0)
		return;
	close(f->fd);
	free(f->path);
	free(f);
}

static void file_fd_put(struct file_be *fb, struct file_fd *f)
{
	pthread_mutex_lock(&fb->lock);
	file_fd_put_locked(f);
	pthread_mutex_unlock(&fb->lock);
}

/* Move slot i to the front (most recently used). Caller holds the lock. */
static void file_fdc_touch(struct file_be *fb, int i)
{
	struct file_fd *f = fb->fdc[i];

	memmove(&fb->fdc[1], &fb->fdc[0], (size_t)i * sizeof(fb->fdc[0]));
	fb->fdc[0] = f;
}

/* Forget the cached fd of path (after unlink/rename/replace). */
static void file_fdc_drop(struct file_be *fb, const char *path)
{
	pthread_mutex_lock(&fb->lock);
	for (int i = 0; i < FILE_FDC_SLOTS && fb->fdc[i]; i++) {
		if (strcmp(fb->fdc[i]->path, path) != 0)
			continue;
		file_fd_put_locked(fb->fdc[i]);
		memmove(&fb->fdc[i], &fb->fdc[i + 1],
			(size_t)(FILE_FDC_SLOTS - 1 - i) * sizeof(fb->fdc[0]));
		fb->fdc[FILE_FDC_SLOTS - 1] = NULL;
		break;
	}
	pthread_mutex_unlock(&fb->lock);
}

/* Cached fd of path with a reference taken, or NULL. */
static struct file_fd *file_fdc_find(struct file_be *fb, const char *path)
{
	struct file_fd *f = NULL;

	pthread_mutex_lock(&fb->lock);
	for (int i = 0; i < FILE_FDC_SLOTS && fb->fdc[i]; i++) {
		if (strcmp(fb->fdc[i]->path, path) == 0) {
			f = fb->fdc[i];
			f->refs++;
			file_fdc_touch(fb, i);
			break;
		}
	}
	pthread_mutex_unlock(&fb->lock);
	return f;
}

/* Insert f (the caller keeps its own reference), evicting the LRU slot. */
static void file_fdc_insert(struct file_be *fb, struct file_fd *f)
{
	pthread_mutex_lock(&fb->lock);
	if (fb->fdc[FILE_FDC_SLOTS - 1])
		file_fd_put_locked(fb->fdc[FILE_FDC_SLOTS - 1]);
	fb->fdc[FILE_FDC_SLOTS - 1] = f;
	f->refs++;
	file_fdc_touch(fb, FILE_FDC_SLOTS - 1);
	pthread_mutex_unlock(&fb->lock);
}

/* Open path for reading as a new refcounted entry (refs = 1). */
static int file_fd_open(struct file_be *fb, const char *path, struct file_fd **pf)
{
	struct file_fd *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -ENOMEM;
	f->path = strdup(path);
	fd = f->path ? file_open_at(fb, path, O_RDONLY, 0, 0) : -ENOMEM;
	if (fd < 0) {
		free(f->path);
		free(f);
		return fd;
	}
	f->fd = fd;
	f->refs = 1;
	*pf = f;
	return 0;
}

/* ---- backend ops -------------------------------------------------------- */

static void file_destroy(struct ufs_backend *be)
{
	struct file_be *fb = file_be_of(be);
	int fd = atomic_load(&fb->rootfd);

	for (int i = 0; i < FILE_FDC_SLOTS && fb->fdc[i]; i++)
		file_fd_put_locked(fb->fdc[i]);
	if (fd >= 0)
		close(fd);
	pthread_mutex_destroy(&fb->lock);
	free(fb->root);
	ufs_be_fini(&fb->base);
	free(fb);
}

static int file_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		       struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct file_be *fb = calloc(1, sizeof(*fb));

	if (!fb) {
		snprintf(err, errlen, "mount %s: out of memory", m->prefix);
		return -ENOMEM;
	}
	fb->root = file_url_root(m->url);
	if (!fb->root) {
		snprintf(err, errlen,
			 "mount %s: %s: expected file:///absolute/dir (with valid %%XX escapes)",
			 m->prefix, m->url);
		free(fb);
		return -EINVAL;
	}
	ufs_be_init(&fb->base, &ufs_file_ops, m, g);
	atomic_init(&fb->rootfd, -1);
	pthread_mutex_init(&fb->lock, NULL);
	(void)file_open_root(fb); /* check() reports why it failed */
	*pbe = &fb->base;
	return 0;
}

static int file_check(struct ufs_backend *be, char *err, size_t errlen)
{
	struct file_be *fb = file_be_of(be);
	struct stat st;
	int fd = file_open_root(fb);

	if (fd < 0 && fd == -ENOTDIR) {
		snprintf(err, errlen, "mount %s: %s is not a directory", be->name, fb->root);
		return fd;
	}
	if (fd < 0) {
		snprintf(err, errlen, "mount %s: %s: %s", be->name, fb->root, strerror(-fd));
		return fd;
	}
	if (fstatat(fd, ".", &st, 0) < 0 || faccessat(fd, ".", R_OK | X_OK, 0) < 0) {
		int e = errno;
		snprintf(err, errlen, "mount %s: %s: %s", be->name, fb->root, strerror(e));
		return -e;
	}
	return 0;
}

/* lstat() of a backend path. */
static int file_lstat(struct file_be *fb, const char *path, struct stat *pst)
{
	struct file_loc loc;
	int rc = file_locate(fb, path, &loc);

	if (rc < 0)
		return rc;
	if (fstatat(loc.dirfd, loc.name, pst, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	file_unlocate(&loc);
	return rc;
}

static int file_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	struct stat st;
	int rc = file_lstat(file_be_of(be), path, &st);

	ufs_be_count(be, UFS_REQ_HEAD, 0, 0);
	if (rc == 0)
		file_stat_to_attr(&st, pattr);
	return rc;
}

/* Feed every entry of d to cb with attributes from fstatat. */
static int file_list_entries(DIR *d, ufs_list_cb cb, void *arg)
{
	struct dirent *de;
	struct ufs_attr attr;
	struct stat st;
	int rc = 0;

	errno = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
			continue;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed while listing */
			return -errno;
		}
		file_stat_to_attr(&st, &attr);
		rc = cb(arg, n, &attr);
		errno = 0;
	}
	if (rc == 0 && errno != 0)
		rc = -errno;
	return rc;
}

static int file_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	struct file_be *fb = file_be_of(be);
	int rootfd = file_check_path(dir);
	int fd;
	DIR *d;

	ufs_be_count(be, UFS_REQ_LIST, 0, 0);
	if (rootfd < 0)
		return rootfd;
	rootfd = file_open_root(fb);
	if (rootfd < 0)
		return rootfd;
	fd = file_open_beneath(rootfd, dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	fd = file_list_entries(d, cb, arg);
	closedir(d);
	return fd;
}

/* -ESTALE unless st is obj's version (same size and mtime). */
static int file_same_version(const struct stat *st, const struct ufs_obj *obj)
{
	if ((uint64_t)st->st_size != obj->size || st->st_mtim.tv_sec != obj->mtime.tv_sec ||
	    st->st_mtim.tv_nsec != obj->mtime.tv_nsec)
		return -ESTALE;
	return 0;
}

/* A fresh read fd of obj->path holding obj's version, cached, with a
 * reference for the caller. */
static int file_read_fd_open(struct file_be *fb, const struct ufs_obj *obj, struct file_fd **pf)
{
	struct file_fd *f;
	struct stat st;
	int rc = file_fd_open(fb, obj->path, &f);

	if (rc < 0)
		return rc;
	rc = fstat(f->fd, &st) < 0 ? -errno : file_same_version(&st, obj);
	if (rc < 0) {
		file_fd_put(fb, f);
		return rc;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	file_fdc_insert(fb, f);
	*pf = f;
	return 0;
}

/* A read fd of obj->path holding obj's version, with a reference, or
 * -errno. The path is stat'ed on every call, so a file replaced under the
 * same name (a new inode) is noticed even while an old fd is cached. */
static int file_read_fd(struct file_be *fb, const struct ufs_obj *obj, struct file_fd **pf)
{
	struct file_fd *f;
	struct stat st;
	int rc = file_lstat(fb, obj->path, &st);

	if (rc == 0 && !S_ISREG(st.st_mode))
		rc = -ESTALE; /* obj was a file: the name now holds something else */
	if (rc == 0)
		rc = file_same_version(&st, obj);
	if (rc < 0)
		return rc;
	f = file_fdc_find(fb, obj->path);
	if (f && f->dev == st.st_dev && f->ino == st.st_ino) {
		*pf = f;
		return 0;
	}
	if (f) {
		file_fd_put(fb, f);
		file_fdc_drop(fb, obj->path);
	}
	return file_read_fd_open(fb, obj, pf);
}

static ssize_t file_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off,
			 size_t len, void *buf)
{
	struct file_be *fb = file_be_of(be);
	struct file_fd *f = NULL;
	ssize_t n;
	int rc = file_check_path(obj->path);

	if (rc == 0)
		rc = file_read_fd(fb, obj, &f);
	if (rc < 0)
		return rc;
	n = ufs_pread_full(f->fd, buf, len, off);
	file_fd_put(fb, f);
	ufs_be_count(be, UFS_REQ_GET, n > 0 ? (uint64_t)n : 0, 0);
	return n;
}

/* ---- writer ------------------------------------------------------------- */

static int file_writer_fail(struct file_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return err;
}

/* Writes and truncations run as the thread's caller (the opener, set by
 * fs/): the kernel then clears setuid/setgid bits as for write(2) by them. */
static ssize_t file_w_pwrite(struct ufs_writer *uw, const void *buf, size_t len, uint64_t off)
{
	struct file_writer *w = (struct file_writer *)uw;
	struct ufs_cred_saved ids;
	ssize_t n = ufs_cred_fs_enter(&ids);

	if (n == 0) {
		n = ufs_pwrite_full(w->fd, buf, len, off);
		ufs_cred_fs_leave(&ids);
	}
	if (n < 0)
		return file_writer_fail(w, (int)n);
	ufs_be_count(uw->be, UFS_REQ_PUT, 0, len);
	return n;
}

static int file_w_truncate(struct ufs_writer *uw, uint64_t size)
{
	struct file_writer *w = (struct file_writer *)uw;
	struct ufs_cred_saved ids;
	int rc = ufs_cred_fs_enter(&ids);

	ufs_be_count(uw->be, UFS_REQ_OTHER, 0, 0);
	if (rc == 0) {
		rc = ftruncate(w->fd, (off_t)size) < 0 ? -errno : 0;
		ufs_cred_fs_leave(&ids);
	}
	return rc < 0 ? file_writer_fail(w, rc) : 0;
}

static int file_w_fsync(struct ufs_writer *uw)
{
	struct file_writer *w = (struct file_writer *)uw;

	ufs_be_count(uw->be, UFS_REQ_OTHER, 0, 0);
	if (fsync(w->fd) < 0)
		return file_writer_fail(w, -errno);
	return w->err;
}

static int file_w_close(struct ufs_writer *uw)
{
	struct file_writer *w = (struct file_writer *)uw;
	int rc = w->err;

	if (close(w->fd) < 0 && rc == 0)
		rc = -errno;
	free(w);
	return rc;
}

static void file_w_abort(struct ufs_writer *uw)
{
	struct file_writer *w = (struct file_writer *)uw;

	close(w->fd);
	free(w);
}

static const struct ufs_writer_ops file_writer_ops = {
    .pwrite = file_w_pwrite,
    .truncate = file_w_truncate,
    .fsync = file_w_fsync,
    .close = file_w_close,
    .abort = file_w_abort,
};

static int file_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
			    struct ufs_writer **pw)
{
	struct file_writer *w = calloc(1, sizeof(*w));
	int keep = O_CREAT | O_EXCL | O_TRUNC | O_APPEND;
	int acc = (flags & O_ACCMODE) == O_RDWR ? O_RDWR : O_WRONLY;
	int fd;

	if (!w)
		return -ENOMEM;
	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	fd = file_open_at(file_be_of(be), path, (flags & keep) | acc, mode, 1);
	if (fd < 0) {
		free(w);
		return fd;
	}
	w->base.ops = &file_writer_ops;
	w->base.be = be;
	w->fd = fd;
	*pw = &w->base;
	return 0;
}

/* ---- namespace operations ---------------------------------------------- */

static int file_unlink(struct ufs_backend *be, const char *path)
{
	struct file_loc loc;
	int rc = file_locate_caller(file_be_of(be), path, &loc);

	ufs_be_count(be, UFS_REQ_DELETE, 0, 0);
	if (rc < 0)
		return rc;
	if (unlinkat(loc.dirfd, loc.name, 0) < 0)
		rc = -errno;
	file_unlocate(&loc);
	file_fdc_drop(file_be_of(be), path);
	return rc;
}

static int file_rmdir(struct ufs_backend *be, const char *path)
{
	struct file_loc loc;
	int rc = file_locate_caller(file_be_of(be), path, &loc);

	ufs_be_count(be, UFS_REQ_DELETE, 0, 0);
	if (rc < 0)
		return rc;
	if (unlinkat(loc.dirfd, loc.name, AT_REMOVEDIR) < 0)
		rc = -errno;
	file_unlocate(&loc);
	return rc;
}

static int file_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	struct file_loc loc;
	int rc = file_locate_caller(file_be_of(be), path, &loc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	if (rc < 0)
		return rc;
	if (mkdirat(loc.dirfd, loc.name, mode) < 0)
		rc = -errno;
	file_unlocate(&loc);
	return rc;
}

/* renameat2 (link == 0) or linkat (link == 1) from -> to. */
static int file_two_paths(struct file_be *fb, const char *from, const char *to, int link,
			  unsigned flags)
{
	struct file_loc lf, lt;
	int rc = file_locate_caller(fb, from, &lf);

	if (rc < 0)
		return rc;
	rc = file_locate(fb, to, &lt);
	if (rc == 0) {
		if ((link ? linkat(lf.dirfd, lf.name, lt.dirfd, lt.name, 0)
			  : renameat2(lf.dirfd, lf.name, lt.dirfd, lt.name, flags)) < 0)
			rc = -errno;
		file_unlocate(&lt);
	}
	file_unlocate(&lf);
	return rc;
}

static int file_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	struct file_be *fb = file_be_of(be);
	int rc = file_two_paths(fb, from, to, 0, flags);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	file_fdc_drop(fb, from);
	file_fdc_drop(fb, to);
	return rc;
}

static int file_link(struct ufs_backend *be, const char *from, const char *to)
{
	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	return file_two_paths(file_be_of(be), from, to, 1, 0);
}

static int file_symlink(struct ufs_backend *be, const char *target, const char *path)
{
	struct file_loc loc;
	int rc = file_locate_caller(file_be_of(be), path, &loc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	if (rc < 0)
		return rc;
	if (symlinkat(target, loc.dirfd, loc.name) < 0)
		rc = -errno;
	file_unlocate(&loc);
	return rc;
}

static int file_mknod(struct ufs_backend *be, const char *path, mode_t mode, dev_t rdev)
{
	struct file_loc loc;
	int rc = file_locate_caller(file_be_of(be), path, &loc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	if (rc < 0)
		return rc;
	if (mknodat(loc.dirfd, loc.name, mode, rdev) < 0)
		rc = -errno;
	file_unlocate(&loc);
	return rc;
}

static int file_readlink(struct ufs_backend *be, const char *path, char *buf, size_t size)
{
	struct file_loc loc;
	ssize_t n;
	int rc = file_locate(file_be_of(be), path, &loc);

	ufs_be_count(be, UFS_REQ_HEAD, 0, 0);
	if (rc < 0)
		return rc;
	if (size == 0) {
		file_unlocate(&loc);
		return -EINVAL;
	}
	n = readlinkat(loc.dirfd, loc.name, buf, size - 1);
	rc = n < 0 ? -errno : (int)n;
	if (n >= 0)
		buf[n] = '\0';
	file_unlocate(&loc);
	return rc;
}

/* Fill the utimensat() pair from attr and to_set (UTIME_OMIT/UTIME_NOW). */
static void file_times(const struct ufs_attr *attr, unsigned to_set, struct timespec ts[2])
{
	ts[0].tv_sec = ts[1].tv_sec = 0;
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	if (to_set & UFS_SET_ATIME)
		ts[0] = attr->atime;
	if (to_set & UFS_SET_MTIME)
		ts[1] = attr->mtime;
	if (to_set & UFS_SET_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	if (to_set & UFS_SET_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
}

static int file_truncate_path(struct file_be *fb, const char *path, uint64_t size)
{
	int fd = file_open_at(fb, path, O_WRONLY, 0, 0);
	int rc = 0;

	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)size) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Apply the to_set fields to loc, in the order chown, chmod, size, times. */
static int file_setattr_at(struct file_be *fb, const char *path, const struct file_loc *loc,
			   const struct ufs_attr *attr, unsigned to_set)
{
	const unsigned times =
	    UFS_SET_ATIME | UFS_SET_MTIME | UFS_SET_ATIME_NOW | UFS_SET_MTIME_NOW;
	uid_t uid = (to_set & UFS_SET_UID) ? attr->uid : (uid_t)-1;
	gid_t gid = (to_set & UFS_SET_GID) ? attr->gid : (gid_t)-1;
	struct timespec ts[2];
	int rc;

	if ((to_set & (UFS_SET_UID | UFS_SET_GID)) &&
	    fchownat(loc->dirfd, loc->name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if ((to_set & UFS_SET_MODE) &&
	    fchmodat(loc->dirfd, loc->name, attr->mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (to_set & UFS_SET_SIZE) {
		rc = file_truncate_path(fb, path, attr->size);
		if (rc < 0)
			return rc;
	}
	file_times(attr, to_set, ts);
	if ((to_set & times) && utimensat(loc->dirfd, loc->name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int file_setattr(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
			unsigned to_set)
{
	struct file_be *fb = file_be_of(be);
	struct file_loc loc;
	int rc = file_locate_caller(fb, path, &loc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	if (rc < 0)
		return rc;
	rc = file_setattr_at(fb, path, &loc, attr, to_set);
	file_unlocate(&loc);
	return rc;
}

/* ---- extended attributes and fallocate --------------------------------- */

/* The calling thread acts as the caller (*ps) and *pfd is an O_PATH fd of
 * path (final symlink not followed) whose /proc/self/fd name is in proc:
 * the *xattr(2) calls on that name reach the file itself without opening
 * it (no side effect on FIFOs or devices). 0 or -errno (nothing held). */
static int file_xattr_begin(struct file_be *fb, const char *path, struct ufs_cred_saved *ps,
			    int *pfd, char proc[32])
{
	int rc = ufs_cred_fs_enter(ps);

	if (rc < 0)
		return rc;
	*pfd = file_open_at(fb, path, O_PATH | O_NOFOLLOW, 0, 0);
	if (*pfd < 0) {
		ufs_cred_fs_leave(ps);
		return *pfd;
	}
	snprintf(proc, 32, "/proc/self/fd/%d", *pfd);
	return 0;
}

static int file_xattr_end(struct ufs_cred_saved *s, int fd, ssize_t r)
{
	int rc = r < 0 ? -errno : (int)r;

	ufs_cred_fs_leave(s);
	close(fd);
	return rc;
}

static ssize_t file_getxattr(struct ufs_backend *be, const char *path, const char *name, void *buf,
			     size_t size)
{
	struct ufs_cred_saved s;
	char proc[32];
	int fd, rc = file_xattr_begin(file_be_of(be), path, &s, &fd, proc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	return rc < 0 ? rc : file_xattr_end(&s, fd, getxattr(proc, name, buf, size));
}

static int file_setxattr(struct ufs_backend *be, const char *path, const char *name,
			 const void *value, size_t size, int flags)
{
	struct ufs_cred_saved s;
	char proc[32];
	int fd, rc = file_xattr_begin(file_be_of(be), path, &s, &fd, proc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	return rc < 0 ? rc : file_xattr_end(&s, fd, setxattr(proc, name, value, size, flags));
}

static ssize_t file_listxattr(struct ufs_backend *be, const char *path, char *buf, size_t size)
{
	struct ufs_cred_saved s;
	char proc[32];
	int fd, rc = file_xattr_begin(file_be_of(be), path, &s, &fd, proc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	return rc < 0 ? rc : file_xattr_end(&s, fd, listxattr(proc, buf, size));
}

static int file_removexattr(struct ufs_backend *be, const char *path, const char *name)
{
	struct ufs_cred_saved s;
	char proc[32];
	int fd, rc = file_xattr_begin(file_be_of(be), path, &s, &fd, proc);

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	return rc < 0 ? rc : file_xattr_end(&s, fd, removexattr(proc, name));
}

static int file_fallocate(struct ufs_backend *be, const char *path, int mode, uint64_t off,
			  uint64_t len)
{
	int fd = file_open_at(file_be_of(be), path, O_WRONLY, 0, 1);
	int rc = 0;

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	if (fd < 0)
		return fd;
	if (fallocate(fd, mode, (off_t)off, (off_t)len) < 0)
		rc = -errno;
	close(fd);
	file_fdc_drop(file_be_of(be), path);
	return rc;
}

static int file_statfs(struct ufs_backend *be, struct statvfs *pst)
{
	int fd = file_open_root(file_be_of(be));

	ufs_be_count(be, UFS_REQ_OTHER, 0, 0);
	if (fd < 0)
		return fd;
	return fstatvfs(fd, pst) < 0 ? -errno : 0;
}

/* No server and no credentials: the local permissions govern access. */
static void file_describe(const struct ufs_mount_cfg *m, const struct ufs_backend *be,
			  struct ufs_be_desc *out)
{
	(void)m;
	(void)be;
	out->cred_na = 1;
	snprintf(out->cred, sizeof(out->cred), "local file permissions");
}

const struct ufs_backend_ops ufs_file_ops = {
    .scheme = "file",
    .caps = UFS_CAP_POSIX_WRITE | UFS_CAP_HARDLINK | UFS_CAP_SYMLINK | UFS_CAP_CHMOD,
    .url_help = "file:///dir              a local directory (no further keys)",
    .create = file_create,
    .check = file_check,
    .describe = file_describe,
    .getattr = file_getattr,
    .list = file_list,
    .read = file_read,
    .open_writer = file_open_writer,
    .unlink = file_unlink,
    .mkdir = file_mkdir,
    .rmdir = file_rmdir,
    .rename = file_rename,
    .symlink = file_symlink,
    .readlink = file_readlink,
    .link = file_link,
    .mknod = file_mknod,
    .getxattr = file_getxattr,
    .setxattr = file_setxattr,
    .listxattr = file_listxattr,
    .removexattr = file_removexattr,
    .fallocate = file_fallocate,
    .setattr = file_setattr,
    .statfs = file_statfs,
    .destroy = file_destroy,
};
