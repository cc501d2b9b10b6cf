/*
 * offline.c — directory listings kept in the disk tier, so that a remount
 * with the server down can still list (and, with the blocks and identity
 * records already kept there, read) a dataset it has seen.
 *
 * A listing is one .lst record keyed by xxh3_128("unifs-list-1", backend
 * URL, directory path); the disk tier checksums it like a block. Encoding
 * (integers le64): "UFSLST1\0", entry count, then per entry mode, nlink,
 * uid, gid, size, ino, mtime sec/nsec, ctime sec/nsec, etag\0, name\0.
 * Listings over LIST_MAX bytes encoded are not kept.
 *
 * What comes back carries the modes and owners the server listed (fs/
 * shows them as they were: never wider).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_i.h"
#include "cache/meta.h"

#define LIST_MAGIC "UFSLST1"
#define LIST_HDR 16
#define LIST_FIXED (10 * 8)
#define LIST_MAX (16U << 20)

static int list_key(const struct ufs_backend *be, const char *dir, struct ufs_ckey *pkey)
{
	return ufs_cache_key_of("unifs-list-1", be, dir, NULL, 0, pkey);
}

/* Bytes d takes encoded. */
static size_t list_size(const struct ufs_meta_dir *d)
{
	size_t n = ufs_meta_dir_count(d), total = LIST_HDR;

	for (size_t i = 0; i < n; i++) {
		const struct ufs_attr *a;
		const char *name = ufs_meta_dir_entry(d, i, &a);

		total += LIST_FIXED + strnlen(a->etag, UFS_ETAG_MAX - 1) + 1 + strlen(name) + 1;
	}
	return total;
}

static unsigned char *list_put_str(unsigned char *p, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	memcpy(p, s, n);
	p[n] = '\0';
	return p + n + 1;
}

static void list_encode(const struct ufs_meta_dir *d, unsigned char *buf)
{
	size_t n = ufs_meta_dir_count(d);
	unsigned char *p = buf + LIST_HDR;

	memcpy(buf, LIST_MAGIC, 8);
	ufs_put_le64(buf + 8, n);
	for (size_t i = 0; i < n; i++) {
		const struct ufs_attr *a;
		const char *name = ufs_meta_dir_entry(d, i, &a);
		const uint64_t v[10] = {a->mode,
					a->nlink,
					a->uid,
					a->gid,
					a->size,
					a->ino,
					(uint64_t)a->mtime.tv_sec,
					(uint64_t)a->mtime.tv_nsec,
					(uint64_t)a->ctime.tv_sec,
					(uint64_t)a->ctime.tv_nsec};

		for (int k = 0; k < 10; k++)
			ufs_put_le64(p + 8 * k, v[k]);
		p = list_put_str(p + LIST_FIXED, a->etag, UFS_ETAG_MAX - 1);
		p = list_put_str(p, name, SIZE_MAX);
	}
}

/* The NUL-terminated string at *pp (before end), at most max bytes long;
 * advances *pp. NULL when malformed. */
static const char *list_get_str(const unsigned char **pp, const unsigned char *end, size_t max)
{
	const unsigned char *p = *pp, *nul = memchr(p, '\0', (size_t)(end - p));

	if (!nul || (size_t)(nul - p) > max)
		return NULL;
	*pp = nul + 1;
	return (const char *)p;
}

/* One entry at *pp into *pa and *pname. 0 or -1. */
static int list_decode_one(const unsigned char **pp, const unsigned char *end, struct ufs_attr *pa,
			   const char **pname)
{
	const unsigned char *p = *pp;
	const char *etag;

	if ((size_t)(end - p) < LIST_FIXED)
		return -1;
	memset(pa, 0, sizeof(*pa));
	pa->mode = (uint32_t)ufs_get_le64(p);
	pa->nlink = (uint32_t)ufs_get_le64(p + 8);
	pa->uid = (uint32_t)ufs_get_le64(p + 16);
	pa->gid = (uint32_t)ufs_get_le64(p + 24);
	pa->size = ufs_get_le64(p + 32);
	pa->ino = ufs_get_le64(p + 40);
	pa->mtime.tv_sec = (time_t)ufs_get_le64(p + 48);
	pa->mtime.tv_nsec = (long)ufs_get_le64(p + 56);
	pa->ctime.tv_sec = (time_t)ufs_get_le64(p + 64);
	pa->ctime.tv_nsec = (long)ufs_get_le64(p + 72);
	pa->atime = pa->mtime;
	p += LIST_FIXED;
	etag = list_get_str(&p, end, UFS_ETAG_MAX - 1);
	*pname = etag ? list_get_str(&p, end, 4096) : NULL;
	if (!*pname || !**pname || pa->mtime.tv_nsec >= 1000000000L ||
	    pa->ctime.tv_nsec >= 1000000000L)
		return -1;
	memcpy(pa->etag, etag, strlen(etag) + 1);
	*pp = p;
	return 0;
}

/* Decode a record into a new listing; NULL when malformed or on ENOMEM. */
static struct ufs_meta_dir *list_decode(const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf + LIST_HDR, *end = buf + len;
	struct ufs_meta_dir *d;
	uint64_t n;

	if (len < LIST_HDR || memcmp(buf, LIST_MAGIC, 8) != 0)
		return NULL;
	n = ufs_get_le64(buf + 8);
	if (n > len / LIST_FIXED || !(d = ufs_meta_dir_create()))
		return NULL;
	for (uint64_t i = 0; i < n; i++) {
		struct ufs_attr a;
		const char *name;

		if (list_decode_one(&p, end, &a, &name) < 0 || ufs_meta_dir_add(d, name, &a) < 0) {
			ufs_meta_dir_unref(d);
			return NULL;
		}
	}
	if (p != end) {
		ufs_meta_dir_unref(d);
		return NULL;
	}
	ufs_meta_dir_sort(d);
	return d;
}

void ufs_cache_save_listing(struct ufs_cache *c, struct ufs_backend *be, const char *dir,
			    const struct ufs_meta_dir *d)
{
	struct ufs_ckey key;
	unsigned char *buf;
	size_t len;

	if (!c->disk || list_key(be, dir, &key) < 0)
		return;
	len = list_size(d);
	if (len > LIST_MAX || !(buf = malloc(len)))
		return;
	list_encode(d, buf);
	ufs_disk_write(c->disk, UFS_DISK_LIST, &key, buf, len);
	free(buf);
}

int ufs_cache_last_listing(struct ufs_cache *c, struct ufs_backend *be, const char *dir,
			   struct ufs_meta_dir **pd)
{
	struct ufs_ckey key;
	unsigned char *buf;
	int64_t size;
	ssize_t n;

	*pd = NULL;
	if (!c->disk || list_key(be, dir, &key) < 0)
		return -ENOENT;
	size = ufs_disk_size(c->disk, &key);
	if (size < 0 || size > LIST_MAX)
		return -ENOENT;
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return -ENOMEM;
	n = ufs_disk_read(c->disk, UFS_DISK_LIST, &key, buf, (size_t)size);
	if (n >= 0)
		*pd = list_decode(buf, (size_t)n);
	free(buf);
	return *pd ? 0 : -ENOENT;
}
