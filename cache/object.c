/*
 * object.c — what the cache knows an object by: the pinned object a stream
 * or a hint reads (struct ufs_cobj, shared by reference with queued
 * read-ahead jobs), the keys of what is kept about it, and its identity
 * record in the disk tier.
 *
 * Keys are xxh3_128 of a canonical encoding, magic\0 url\0 path\0 tail:
 * an object's blocks derive from its base ("unifs-block-1", tail = identity
 * and generation; see ufs_block_key), its identity record uses
 * "unifs-ident-1" and a listing "unifs-list-1" (offline.c). The URL, not the
 * mount, names the backend, so keys are stable across mounts. An identity is
 * size, mtime and ETag (integers le64, then the ETag and its NUL).
 *
 * This file calls nothing else of cache/ but the disk tier: block.c (jobs
 * dropping their object), cache.c (streams, hints) and offline.c use it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cache/cache_i.h"

/* ---- keys ---- */

/* The name the key uses for a backend: its URL, stable across mounts. */
static const char *cache_be_name(const struct ufs_backend *be)
{
	if (be->mcfg && be->mcfg->url)
		return be->mcfg->url;
	return be->name ? be->name : "";
}

/* Append a NUL-terminated string (with its NUL) to p; returns the end. */
static unsigned char *put_str(unsigned char *p, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p, s, n);
	return p + n;
}

#define IDENT_MAX (24 + UFS_ETAG_MAX)

/* Encode an identity: size, mtime.sec, mtime.nsec (le64), etag\0. */
static size_t ident_encode(const struct ufs_obj *obj, unsigned char *buf)
{
	ufs_put_le64(buf, obj->size);
	ufs_put_le64(buf + 8, (uint64_t)obj->mtime.tv_sec);
	ufs_put_le64(buf + 16, (uint64_t)obj->mtime.tv_nsec);
	return (size_t)(put_str(buf + 24, obj->etag) - buf);
}

/* Decode ident_encode's bytes; 0 or -EINVAL. */
static int ident_decode(const unsigned char *buf, size_t len, struct ufs_obj *pobj)
{
	if (len < 25 || len > IDENT_MAX || buf[len - 1] != '\0' ||
	    memchr(buf + 24, 0, len - 24) != buf + len - 1)
		return -EINVAL;
	memset(pobj, 0, sizeof(*pobj));
	pobj->size = ufs_get_le64(buf);
	pobj->mtime.tv_sec = (time_t)ufs_get_le64(buf + 8);
	pobj->mtime.tv_nsec = (long)ufs_get_le64(buf + 16);
	memcpy(pobj->etag, buf + 24, len - 24);
	return 0;
}

/* xxh3_128 of magic\0 url\0 path\0 tail (integers little-endian 64-bit). */
int ufs_cache_key_of(const char *magic, const struct ufs_backend *be, const char *path,
		     const unsigned char *tail, size_t tlen, struct ufs_ckey *pkey)
{
	const char *url = cache_be_name(be);
	unsigned char *buf = malloc(strlen(magic) + strlen(url) + strlen(path) + 3 + tlen), *p;
	XXH128_hash_t h;

	if (!buf)
		return -ENOMEM;
	p = put_str(buf, magic);
	p = put_str(p, url);
	p = put_str(p, path);
	if (tlen > 0)
		memcpy(p, tail, tlen);
	h = XXH3_128bits(buf, (size_t)(p + tlen - buf));
	free(buf);
	*pkey = (struct ufs_ckey){h.low64, h.high64};
	return 0;
}

/* Key base of an object's blocks: url, path, identity and gen. */
static int cache_base_key(const struct ufs_backend *be, const struct ufs_obj *obj, uint64_t gen,
			  struct ufs_ckey *pkey)
{
	unsigned char tail[IDENT_MAX + 8];
	size_t n = ident_encode(obj, tail);

	ufs_put_le64(tail + n, gen);
	return ufs_cache_key_of("unifs-block-1", be, obj->path, tail, n + 8, pkey);
}

/* ---- objects ---- */

struct ufs_cobj *ufs_cobj_create(struct ufs_cache *c, struct ufs_backend *be,
				 const struct ufs_obj *obj, uint64_t gen)
{
	struct ufs_cobj *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->obj = *obj;
	o->obj.etag[UFS_ETAG_MAX - 1] = '\0';
	o->obj.path = strdup(obj->path ? obj->path : "");
	if (!o->obj.path || cache_base_key(be, &o->obj, gen, &o->base) < 0) {
		free((char *)o->obj.path);
		free(o);
		return NULL;
	}
	o->cache = c;
	o->be = be;
	atomic_init(&o->refs, 1);
	return o;
}

void ufs_cobj_put(struct ufs_cobj *o)
{
	if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	if (o->hint)
		atomic_fetch_sub(&o->cache->hints, 1);
	free((char *)o->obj.path);
	free(o);
}

/* ---- identity records ---- */

void ufs_cache_save_identity(struct ufs_cache *c, struct ufs_backend *be, const struct ufs_obj *obj)
{
	unsigned char rec[IDENT_MAX], old[IDENT_MAX];
	size_t n = ident_encode(obj, rec);
	struct ufs_ckey key;

	if (!c->disk || ufs_cache_key_of("unifs-ident-1", be, obj->path, NULL, 0, &key) < 0)
		return;
	if (ufs_disk_read(c->disk, UFS_DISK_IDENT, &key, old, sizeof(old)) == (ssize_t)n &&
	    memcmp(old, rec, n) == 0)
		return;
	ufs_disk_write(c->disk, UFS_DISK_IDENT, &key, rec, n);
}

int ufs_cache_last_identity(struct ufs_cache *c, struct ufs_backend *be, const char *path,
			    struct ufs_obj *pobj)
{
	unsigned char rec[IDENT_MAX];
	struct ufs_ckey key;
	ssize_t n;

	if (!c->disk || ufs_cache_key_of("unifs-ident-1", be, path, NULL, 0, &key) < 0)
		return -ENOENT;
	n = ufs_disk_read(c->disk, UFS_DISK_IDENT, &key, rec, sizeof(rec));
	if (n < 0 || ident_decode(rec, (size_t)n, pobj) < 0)
		return -ENOENT;
	return 0;
}
