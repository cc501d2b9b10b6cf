/*
 * readpath.c — the one place where fs/ reads file data: through the block
 * cache (cache/cache.h) when fs->cache exists, else straight from the
 * backend with ufs_be_read (the CLI-like path, also used when the cache
 * cannot be created). Through the cache a read can also be zero-copy
 * (fs_reader_read_pinned): the data stays in pinned cache blocks until the
 * caller has sent it and unpins.
 *
 * A reader is pinned to the identity (size, mtime, etag; inode and ctime
 * where there is no etag: fs_obj_from_attr) seen at open and
 * to the inode's write generation: a read that finds the object changed
 * fails with ESTALE instead of mixing versions.
 */
#include "fs/io/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"

struct fs_reader {
	struct ufs_rstream *rs; /* through the cache, or NULL */
	struct ufs_backend *be; /* direct reads */
	struct ufs_obj obj;
	char *path;
};

int fs_cache_create(struct ufs_fs *fs, char *err, size_t errlen)
{
	const struct ufs_config *cfg = fs->cfg;
	struct ufs_cache_cfg cc = {
	    .budget = fs->budget,
	    .block_size = cfg->block_size,
	    .readahead_max = cfg->readahead_max,
	    .cache_dir = cfg->cache_dir,
	    .cache_size = cfg->cache_size,
	    .workers = cfg->workers,
	};

	return ufs_cache_create(&cc, &fs->cache, err, errlen);
}

void fs_cache_destroy(struct ufs_fs *fs)
{
	ufs_cache_destroy(fs->cache);
	fs->cache = NULL;
}

void fs_cache_stats(struct ufs_fs *fs, struct ufs_cache_stats *pst)
{
	memset(pst, 0, sizeof(*pst));
	if (fs->cache)
		ufs_cache_get_stats(fs->cache, pst);
}

int fs_reader_open(struct ufs_fs *fs, struct ufs_backend *be, const struct ufs_obj *obj,
		   uint64_t gen, struct fs_reader **pr)
{
	struct fs_reader *r = calloc(1, sizeof(*r));
	int rc = 0;

	if (!r)
		return -ENOMEM;
	r->be = be;
	r->obj = *obj;
	r->path = strdup(obj->path);
	r->obj.path = r->path;
	if (!r->path)
		rc = -ENOMEM;
	else if (fs->cache)
		rc = ufs_cache_open(fs->cache, be, &r->obj, gen, &r->rs);
	if (rc < 0) {
		fs_reader_close(r);
		return rc;
	}
	*pr = r;
	return 0;
}

/* Without a cache: straight from the backend, clamped to the object. */
static ssize_t reader_uncached(struct fs_reader *r, void *buf, size_t len, uint64_t off)
{
	if (off >= r->obj.size)
		return 0;
	if (len > r->obj.size - off)
		len = (size_t)(r->obj.size - off);
	return ufs_be_read(r->be, &r->obj, off, len, buf);
}

ssize_t fs_reader_read(struct fs_reader *r, void *buf, size_t len, uint64_t off)
{
	return r->rs ? ufs_cache_read(r->rs, buf, len, off) : reader_uncached(r, buf, len, off);
}

ssize_t fs_reader_read_through(struct fs_reader *r, void *buf, size_t len, uint64_t off)
{
	return r->rs ? ufs_cache_read_through(r->rs, buf, len, off)
		     : reader_uncached(r, buf, len, off);
}

ssize_t fs_reader_read_pinned(struct fs_reader *r, size_t len, uint64_t off,
			      struct ufs_cache_pin **ppin)
{
	*ppin = NULL;
	if (!r->rs)
		return -EOPNOTSUPP;
	return ufs_cache_read_pinned(r->rs, len, off, ppin);
}

void fs_reader_close(struct fs_reader *r)
{
	if (!r)
		return;
	if (r->rs)
		ufs_cache_close(r->rs);
	free(r->path);
	free(r);
}

void fs_obj_from_attr(struct ufs_obj *pobj, const char *path, const struct ufs_attr *a)
{
	memset(pobj, 0, sizeof(*pobj));
	pobj->path = path;
	pobj->size = a->size;
	pobj->mtime = a->mtime;
	if (a->etag[0] || (!a->ino && !a->ctime.tv_sec))
		memcpy(pobj->etag, a->etag, sizeof(pobj->etag));
	else
		snprintf(pobj->etag, sizeof(pobj->etag), "i%llx.c%lld.%ld",
			 (unsigned long long)a->ino, (long long)a->ctime.tv_sec,
			 (long)a->ctime.tv_nsec);
}

void fs_read_hint(struct ufs_fs *fs, struct ufs_backend *be, const struct ufs_obj *obj)
{
	if (fs->cache)
		ufs_cache_hint(fs->cache, be, obj);
}
