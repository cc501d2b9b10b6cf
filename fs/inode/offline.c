/*
 * offline.c — a mount whose server is down answers from the disk tier: the
 * listings (cache/offline.c), identities and blocks it kept there, with the
 * last known mode and owner (never wider; 0400 owned by the mounter for a
 * file only known by its identity). Writes fail: the server is down.
 *
 * Once something was answered that way the mount is "stale": further
 * getattr and listing calls do not go to the server at all (no retries, no
 * op_timeout per open) until a background probe, one per FS_OFFLINE_RECHECK
 * seconds per mount, sees the server answer again. A mount without a disk
 * tier (or with nothing kept for the path) never becomes stale: its errors
 * are the backend's as before. `unifs stats` shows the stale mounts and how
 * many answers came from the disk tier.
 */
#include "fs/inode/inode.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache.h"
#include "common/log.h"

#define FS_OFFLINE_RECHECK_MS 15000

struct fs_offline {
	struct ufs_fs *fs;
	size_t mount;
	_Atomic int_least64_t until_ms; /* 0: live; else stale, probe due at */
	atomic_int probing;
	int joinable; /* probe holds a thread to join (touched by the prober only) */
	pthread_t probe;
	atomic_uint_least64_t served;
};

static int_least64_t offline_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int_least64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fs_offline_create(struct ufs_fs *fs)
{
	size_t n = fs->n_be ? fs->n_be : 1;

	fs->offline = calloc(n, sizeof(*fs->offline));
	if (!fs->offline)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		fs->offline[i].fs = fs;
		fs->offline[i].mount = i;
	}
	return 0;
}

void fs_offline_destroy(struct ufs_fs *fs)
{
	if (!fs->offline)
		return;
	for (size_t i = 0; i < fs->n_be; i++)
		if (fs->offline[i].joinable)
			pthread_join(fs->offline[i].probe, NULL);
	free(fs->offline);
	fs->offline = NULL;
}

static void *offline_probe_run(void *arg)
{
	struct fs_offline *o = arg;
	struct ufs_backend *be = o->fs->be[o->mount];
	struct ufs_attr a;
	int rc = ufs_be_getattr(be, "", &a);

	if (rc == -EHOSTDOWN || ufs_errno_is_unreachable(rc)) {
		atomic_store(&o->until_ms, offline_now_ms() + FS_OFFLINE_RECHECK_MS);
	} else {
		atomic_store(&o->until_ms, 0);
		ufs_info("mount %s: server answers again; serving live data", be->name);
	}
	atomic_store(&o->probing, 0);
	return NULL;
}

/* Start the background probe of o (one at a time). */
static void offline_probe(struct fs_offline *o)
{
	if (atomic_exchange(&o->probing, 1))
		return;
	if (o->joinable)
		pthread_join(o->probe, NULL); /* finished: probing was 0 */
	o->joinable = pthread_create(&o->probe, NULL, offline_probe_run, o) == 0;
	if (!o->joinable) {
		atomic_store(&o->until_ms, offline_now_ms() + FS_OFFLINE_RECHECK_MS);
		atomic_store(&o->probing, 0);
	}
}

int fs_offline_skip(struct ufs_fs *fs, int mount)
{
	struct fs_offline *o;
	int_least64_t until;

	if (mount < 0 || !fs->offline)
		return 0;
	o = &fs->offline[mount];
	until = atomic_load(&o->until_ms);
	if (!until)
		return 0;
	if (offline_now_ms() >= until)
		offline_probe(o);
	return 1;
}

int fs_offline_stale(struct ufs_fs *fs, size_t mount, uint64_t *pserved)
{
	if (!fs->offline) {
		*pserved = 0;
		return 0;
	}
	*pserved = atomic_load(&fs->offline[mount].served);
	return atomic_load(&fs->offline[mount].until_ms) != 0;
}

/* One answer came from the disk tier: count it, mark the mount stale. */
static void offline_served(struct ufs_fs *fs, int mount)
{
	struct fs_offline *o = &fs->offline[mount];
	int_least64_t zero = 0;

	atomic_fetch_add(&o->served, 1);
	if (atomic_compare_exchange_strong(&o->until_ms, &zero,
					   offline_now_ms() + FS_OFFLINE_RECHECK_MS))
		ufs_warn("mount %s: server unreachable; serving stale data from the disk tier, "
			 "read-only",
			 fs->be[mount]->name);
}

static int offline_applies(struct ufs_fs *fs, const struct fs_node *n, int rc)
{
	return n->mount >= 0 && fs->offline && fs->cache &&
	       (rc == -EHOSTDOWN || ufs_errno_is_unreachable(rc));
}

/* The listing of dir from memory (a live one) or else from the disk tier
 * (then kept in memory). NULL when neither has it. */
static struct ufs_meta_dir *offline_dir(struct ufs_fs *fs, const struct fs_node *n, const char *dir)
{
	struct ufs_meta_dir *d = ufs_meta_get_dir(fs->meta, n->mount, dir);

	if (!d && ufs_cache_last_listing(fs->cache, n->be, dir, &d) == 0)
		ufs_meta_put_dir(fs->meta, n->mount, dir, d);
	return d;
}

/* Attributes of n from its parent's kept listing; 0 or -ENOENT. */
static int offline_attr_from_parent(struct ufs_fs *fs, const struct fs_node *n,
				    struct ufs_attr *pattr)
{
	const char *slash = strrchr(n->rel, '/');
	char *dir = strndup(n->rel, slash ? (size_t)(slash - n->rel) : 0);
	struct ufs_meta_dir *d = dir && n->rel[0] ? offline_dir(fs, n, dir) : NULL;
	long i = d ? ufs_meta_dir_find(d, slash ? slash + 1 : n->rel) : -1;
	const struct ufs_attr *a;
	int rc = -ENOENT;

	if (i >= 0) {
		ufs_meta_dir_entry(d, (size_t)i, &a);
		if (a->mode) {
			*pattr = *a;
			rc = 0;
		}
	}
	ufs_meta_dir_unref(d);
	free(dir);
	return rc;
}

/* Attributes of file n from the identity last opened through the disk tier;
 * 0, or -ENOENT. Mode and owner are the last ones the server showed for the
 * inode; never seen (e.g. after a remount, not listed): 0400 owned by the
 * mounting user. Never wider than the server's. */
static int offline_attr_from_identity(struct ufs_fs *fs, const struct fs_node *n,
				      struct ufs_attr *pattr)
{
	struct ufs_obj o;

	if (!fs->cache || ufs_cache_last_identity(fs->cache, n->be, n->rel, &o) < 0)
		return -ENOENT;
	fs_attr_new(pattr, S_IFREG | 0400);
	if (n->ino && ufs_itab_last_owner(fs->itab, n->ino, pattr) && !S_ISREG(pattr->mode))
		return -ENOENT; /* the disk tier holds files only */
	pattr->size = o.size;
	pattr->mtime = pattr->ctime = pattr->atime = o.mtime;
	memcpy(pattr->etag, o.etag, sizeof(pattr->etag));
	return 0;
}

int fs_offline_attr(struct ufs_fs *fs, const struct fs_node *n, int rc, struct ufs_attr *pattr)
{
	struct ufs_meta_dir *d;

	if (!offline_applies(fs, n, rc))
		return rc;
	if (offline_attr_from_parent(fs, n, pattr) == 0) {
		offline_served(fs, n->mount);
		return 0;
	}
	d = offline_dir(fs, n, n->rel);
	if (d) { /* a directory we listed (the mount root has no parent) */
		ufs_meta_dir_unref(d);
		fs_attr_new(pattr, S_IFDIR | 0500);
		offline_served(fs, n->mount);
		return 0;
	}
	if (offline_attr_from_identity(fs, n, pattr) == 0) {
		offline_served(fs, n->mount);
		return 0;
	}
	return rc;
}

int fs_offline_listing(struct ufs_fs *fs, const struct fs_node *n, int rc, struct ufs_meta_dir **pd)
{
	struct ufs_meta_dir *d;

	if (!offline_applies(fs, n, rc) || ufs_cache_last_listing(fs->cache, n->be, n->rel, &d) < 0)
		return rc;
	ufs_meta_put_dir(fs->meta, n->mount, n->rel, d);
	offline_served(fs, n->mount);
	*pd = d;
	return 0;
}
