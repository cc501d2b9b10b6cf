/*
 * backend.c — scheme registry, the common backend head, and the guarded
 * ufs_be_*() calls every layer above protocols/ uses.
 *
 * Health (namespace isolation): a call that fails with an "unreachable"
 * errno (ufs_errno_is_unreachable) marks the backend down and logs it once.
 * While down, calls fail at once with -EHOSTDOWN until retry_at; the first
 * call after that goes to the server again (one probe at a time is not
 * enforced: a few concurrent callers may probe together, which is harmless).
 * A success marks it up again and logs the recovery. So a dead server costs
 * one op_timeout, then fast errors, and the subtree heals by itself.
 *
 * Lock order: be->lock is a leaf lock, never held across a backend call.
 */
#include "protocols/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static const struct ufs_backend_ops *const registry[] = {
    &ufs_file_ops,
    &ufs_nfs_ops,
    &ufs_s3_ops,
    &ufs_az_ops,
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ufs_be_init(struct ufs_backend *be, const struct ufs_backend_ops *ops,
		 const struct ufs_mount_cfg *m, const struct ufs_config *g)
{
	be->ops = ops;
	be->mcfg = m;
	be->gcfg = g;
	be->name = strdup(m->prefix ? m->prefix : "/");
	be->readonly = m->readonly || (g && g->readonly);
	pthread_mutex_init(&be->lock, NULL);
}

void ufs_be_fini(struct ufs_backend *be)
{
	pthread_mutex_destroy(&be->lock);
	free(be->name);
	be->name = NULL;
}

static int scheme_matches(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

int ufs_backend_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		       struct ufs_backend **pbe, char *err, size_t errlen)
{
	const char *url = m->url ? m->url : "";

	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
		if (scheme_matches(url, registry[i]->scheme))
			return registry[i]->create(m, g, pbe, err, errlen);
	}
	snprintf(err, errlen, "mount %s: unknown URL scheme in '%s' (use file, nfs, s3 or az)",
		 m->prefix, url);
	return -EPROTONOSUPPORT;
}

void ufs_backend_destroy(struct ufs_backend *be)
{
	if (be)
		be->ops->destroy(be);
}

void ufs_be_set_error(struct ufs_backend *be, const char *fmt, ...)
{
	char msg[sizeof(be->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&be->lock);
	memcpy(be->last_error, msg, sizeof(msg));
	pthread_mutex_unlock(&be->lock);
}

void ufs_be_last_error(struct ufs_backend *be, char *buf, size_t size)
{
	pthread_mutex_lock(&be->lock);
	snprintf(buf, size, "%s", be->last_error);
	pthread_mutex_unlock(&be->lock);
}

void ufs_be_count(struct ufs_backend *be, enum ufs_req_kind k, uint64_t bytes_in,
		  uint64_t bytes_out)
{
	atomic_fetch_add(&be->stats.req[k], 1);
	if (bytes_in)
		atomic_fetch_add(&be->stats.bytes_in, bytes_in);
	if (bytes_out)
		atomic_fetch_add(&be->stats.bytes_out, bytes_out);
}

void ufs_be_count_error(struct ufs_backend *be)
{
	atomic_fetch_add(&be->stats.errors, 1);
}

void ufs_be_count_retry(struct ufs_backend *be)
{
	atomic_fetch_add(&be->stats.retries, 1);
}

int ufs_errno_is_unreachable(int err)
{
	if (err < 0)
		err = -err;
	return err == ETIMEDOUT || err == ECONNREFUSED || err == EHOSTDOWN || err == EHOSTUNREACH ||
	       err == ENETUNREACH || err == ECONNRESET;
}

/* Fail fast while the backend is down and its retry time has not come. */
static int health_gate(struct ufs_backend *be)
{
	int rc = 0;

	pthread_mutex_lock(&be->lock);
	if (be->down && now_mono() < be->retry_at)
		rc = -EHOSTDOWN;
	pthread_mutex_unlock(&be->lock);
	return rc;
}

/* Record the outcome of a real call; returns rc unchanged. */
static int health_note(struct ufs_backend *be, int rc)
{
	int was_down;

	pthread_mutex_lock(&be->lock);
	was_down = be->down;
	if (rc < 0 && ufs_errno_is_unreachable(rc)) {
		be->down = 1;
		be->down_errno = -rc;
		be->retry_at = now_mono() + (be->gcfg ? be->gcfg->retry_down : 2.0);
	} else {
		be->down = 0; /* the server answered, even if with an error */
	}
	pthread_mutex_unlock(&be->lock);
	if (!was_down && rc < 0 && ufs_errno_is_unreachable(rc))
		ufs_warn("mount %s: %s: server unreachable (%s); its subtree reports errors "
			 "until it answers",
			 be->name, be->mcfg ? be->mcfg->url : "?", strerror(-rc));
	else if (was_down && rc >= 0)
		ufs_info("mount %s: server answers again", be->name);
	return rc;
}

static int write_gate(struct ufs_backend *be, const void *slot)
{
	if (be->readonly)
		return -EROFS;
	if (!slot)
		return -ENOTSUP;
	return health_gate(be);
}

#define GUARD_READ(be, slot)                                                                       \
	do {                                                                                       \
		int g_;                                                                            \
		if (!(be)->ops->slot)                                                              \
			return -ENOTSUP;                                                           \
		g_ = health_gate(be);                                                              \
		if (g_)                                                                            \
			return g_;                                                                 \
	} while (0)

#define GUARD_WRITE(be, slot)                                                                      \
	do {                                                                                       \
		int g_ = write_gate((be), (const void *)(be)->ops->slot);                          \
		if (g_)                                                                            \
			return g_;                                                                 \
	} while (0)

int ufs_be_check(struct ufs_backend *be, char *err, size_t errlen)
{
	int rc;

	if (!be->ops->check)
		return 0;
	rc = be->ops->check(be, err, errlen);
	return health_note(be, rc);
}

int ufs_be_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	GUARD_READ(be, getattr);
	return health_note(be, be->ops->getattr(be, path, pattr));
}

int ufs_be_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	GUARD_READ(be, list);
	return health_note(be, be->ops->list(be, dir, cb, arg));
}

ssize_t ufs_be_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		    void *buf)
{
	ssize_t n;

	GUARD_READ(be, read);
	n = be->ops->read(be, obj, off, len, buf);
	if (n < 0)
		health_note(be, (int)n);
	else
		health_note(be, 0);
	return n;
}

int ufs_be_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
		       struct ufs_writer **pw)
{
	GUARD_WRITE(be, open_writer);
	return health_note(be, be->ops->open_writer(be, path, flags, mode, pw));
}

int ufs_be_unlink(struct ufs_backend *be, const char *path)
{
	GUARD_WRITE(be, unlink);
	return health_note(be, be->ops->unlink(be, path));
}

int ufs_be_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	GUARD_WRITE(be, mkdir);
	return health_note(be, be->ops->mkdir(be, path, mode));
}

int ufs_be_rmdir(struct ufs_backend *be, const char *path)
{
	GUARD_WRITE(be, rmdir);
	return health_note(be, be->ops->rmdir(be, path));
}

int ufs_be_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	GUARD_WRITE(be, rename);
	return health_note(be, be->ops->rename(be, from, to, flags));
}

int ufs_be_symlink(struct ufs_backend *be, const char *target, const char *path)
{
	GUARD_WRITE(be, symlink);
	return health_note(be, be->ops->symlink(be, target, path));
}

int ufs_be_readlink(struct ufs_backend *be, const char *path, char *buf, size_t size)
{
	GUARD_READ(be, readlink);
	return health_note(be, be->ops->readlink(be, path, buf, size));
}

int ufs_be_link(struct ufs_backend *be, const char *from, const char *to)
{
	GUARD_WRITE(be, link);
	return health_note(be, be->ops->link(be, from, to));
}

int ufs_be_mknod(struct ufs_backend *be, const char *path, mode_t mode, dev_t rdev)
{
	GUARD_WRITE(be, mknod);
	return health_note(be, be->ops->mknod(be, path, mode, rdev));
}

ssize_t ufs_be_getxattr(struct ufs_backend *be, const char *path, const char *name, void *buf,
			size_t size)
{
	GUARD_READ(be, getxattr);
	return health_note(be, (int)be->ops->getxattr(be, path, name, buf, size));
}

int ufs_be_setxattr(struct ufs_backend *be, const char *path, const char *name, const void *value,
		    size_t size, int flags)
{
	GUARD_WRITE(be, setxattr);
	return health_note(be, be->ops->setxattr(be, path, name, value, size, flags));
}

ssize_t ufs_be_listxattr(struct ufs_backend *be, const char *path, char *buf, size_t size)
{
	GUARD_READ(be, listxattr);
	return health_note(be, (int)be->ops->listxattr(be, path, buf, size));
}

int ufs_be_removexattr(struct ufs_backend *be, const char *path, const char *name)
{
	GUARD_WRITE(be, removexattr);
	return health_note(be, be->ops->removexattr(be, path, name));
}

int ufs_be_fallocate(struct ufs_backend *be, const char *path, int mode, uint64_t off, uint64_t len)
{
	GUARD_WRITE(be, fallocate);
	return health_note(be, be->ops->fallocate(be, path, mode, off, len));
}

int ufs_be_setattr(struct ufs_backend *be, const char *path, const struct ufs_attr *attr,
		   unsigned to_set)
{
	GUARD_WRITE(be, setattr);
	return health_note(be, be->ops->setattr(be, path, attr, to_set));
}

int ufs_be_statfs(struct ufs_backend *be, struct statvfs *pst)
{
	GUARD_READ(be, statfs);
	return health_note(be, be->ops->statfs(be, pst));
}

char *ufs_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	size_t nl = strlen(name);
	char *out = malloc(dl + nl + 2);

	if (!out)
		return NULL;
	if (dl == 0) {
		memcpy(out, name, nl + 1);
		return out;
	}
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, nl + 1);
	return out;
}
