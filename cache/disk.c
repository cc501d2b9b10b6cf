/*
 * disk.c — the disk tier: one file per block under cache_dir, verified on
 * every read, bounded in size, surviving remounts, filled off the read path.
 *
 * Layout: DIR/ab/<32 hex digits of the key>.blk, ab = the first two digits
 * (256 fan-out directories, created on demand); .idn files (same format)
 * hold the last identity of an object, for offline use. A file is a 4 KiB
 * header (88 bytes used, zero padding) then the data:
 *   0 magic "UFSBLK\0\1" | 8 version (le32) | 12 header size (le32)
 *   16 key lo | 24 key hi | 32 data length
 *   40 xxh3_128(data) keyed with the tier's secret (lo, hi)
 *   56 HMAC-SHA256(secret, bytes 0..55)                (integers le64)
 * Files are written to a temp name (.tmp.*) and renamed into place, so a
 * reader sees a whole file or none; a torn, altered or planted file fails
 * the checks, is deleted and reported as -EBADMSG (the caller counts it and
 * refetches). A file of another format version is deleted quietly (a miss).
 *
 * Trust: DIR is opened once, at open, with O_DIRECTORY | O_NOFOLLOW and
 * checked with fstat (a directory owned by the daemon's user, not writable by
 * group or others); every file after that is reached with *at() calls
 * relative to that descriptor, so renaming or replacing DIR or one of its
 * parents after the mount redirects nothing. The checksums are keyed:
 * DIR/secret (mode 0600, 224 random bytes, created at the first open: 32 for
 * the HMAC, 192 for XXH3) never leaves the directory, so a block planted by
 * someone who can compute a key's file name (keys derive from public facts:
 * URL, path, size, mtime, ETag) but cannot read the secret is rejected. XXH3
 * is not a MAC; the HMAC over the header is, and the keyed XXH3 in it binds
 * the data (a collision needs the unknown secret).
 *
 * Reads: the data starts page-aligned, so a read into a page-aligned buffer
 * (every full-size block buffer) opens the file O_DIRECT and gets header and
 * data in one request straight from the device into the buffer: no page
 * cache copy. Anything direct I/O refuses (unaligned buffer or length, a file
 * system without O_DIRECT, a short read) is read again through the page
 * cache. The keyed hash of the data is checked after the read either way,
 * before any byte is used.
 *
 * Block writes run on the cache's disk-writer thread only (fill.c queues
 * them; the read path never waits for one); the small identity and listing
 * records are written where they are made. A page-aligned buffer is written
 * O_DIRECT (a last partial page through an aligned bounce page, then the file
 * is cut to length): the fill never dirties the page cache, so it neither
 * copies the block again nor puts readers of the machine under the kernel's
 * dirty-page throttling. Other data (a short last block in malloc'd memory,
 * records), or a file system that refuses O_DIRECT, is written through the
 * page cache and then written back and dropped at once (sync_file_range +
 * POSIX_FADV_DONTNEED): the dirty pages a fill can leave are bounded by one
 * block. No fsync: a file cut short by a crash fails its checksum.
 *
 * Index: a hash of the keys present with their sizes, on an LRU list (oldest
 * first), rebuilt at open by scanning DIR (ordered by mtime; hits refresh a
 * file's mtime so the order survives remounts). Writes evict from the LRU
 * head while the total exceeds the bound. The index may be stale (files
 * wiped behind our back): a missing file is a miss and is forgotten. A DIR
 * removed while mounted is not re-created (that would resolve the path
 * again): the tier then stores nothing until the next mount.
 *
 * Lock: ufs_disk.lock guards the index only; file I/O runs without it.
 *
 * One daemon per DIR: an exclusive flock on DIR/lock (holding the holder's
 * pid) is taken at open and kept until close, so cache_size bounds the whole
 * directory; a second daemon on the same DIR is refused with the holder's
 * pid. Temp files are named .tmp.<key>.<pid>.<seq>: the start-up scan
 * removes only those of processes that no longer exist. A write that finds
 * the file system full (ENOSPC, EDQUOT) evicts the oldest eighth of the tier
 * (a warning), retries once, and otherwise leaves the block uncached: reads
 * go on from the backend.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/random.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <xxhash.h>
#ifdef UFS_HAVE_XXH_DISPATCH
#include <xxh_x86dispatch.h> /* XXH3_64bits -> the AVX2/AVX-512 variant when available */
#endif

#include "cache/cache_i.h"
#include "common/log.h"
#include "protocols/sign.h"

#define DISK_HDR 4096  /* header slot: the data starts page-aligned (direct I/O) */
#define DISK_MAC_AT 56 /* the HMAC covers the header bytes before it */
#define DISK_VERSION 3
#define DISK_MAC_KEY 32
#define DISK_XXH_SECRET 192 /* >= XXH3_SECRET_SIZE_MIN */
#define DISK_SECRET (DISK_MAC_KEY + DISK_XXH_SECRET)
#define DISK_BUCKETS 4096
static const unsigned char disk_magic[8] = {'U', 'F', 'S', 'B', 'L', 'K', 0, 1};

struct disk_ent {
	struct ufs_ckey key;
	enum ufs_disk_kind kind;
	uint64_t bytes;
	struct timespec mtime;	      /* scan order only */
	struct ufs_tnode hnode;	      /* in ufs_disk.index, keyed by key */
	struct disk_ent *prev, *next; /* LRU list; next links a detached list after */
};

struct ufs_disk {
	char *dir;			   /* for messages only: files are reached through dfd */
	int dfd;			   /* DIR, opened once (O_DIRECTORY | O_NOFOLLOW) */
	unsigned char secret[DISK_SECRET]; /* DIR/secret: HMAC key, then XXH3 secret */
	uint64_t limit, used;
	pthread_mutex_t lock;
	struct ufs_table index; /* disk_ent by key (hashed by key.lo): DISK_BUCKETS, fixed */
	struct disk_ent lru;	/* sentinel: next = oldest */
	atomic_uint_least64_t seq;
	int lock_fd;		/* flock held on DIR/lock while open */
	atomic_int full_warned; /* ENOSPC reported since the last good write */
};

/* ---- names ---- */

static const char *const disk_ext[] = {".blk", ".idn", ".lst"}; /* by enum ufs_disk_kind */

#define DISK_NAME 96 /* "ab/.tmp.<32 hex>.<pid>.<seq>" and shorter */

/* The name of key's file of kind, relative to DIR ("ab/<hex>.blk"). */
static void disk_path(enum ufs_disk_kind kind, const struct ufs_ckey *key, char *buf, size_t size)
{
	char hex[33];

	snprintf(hex, sizeof(hex), "%016" PRIx64 "%016" PRIx64, key->hi, key->lo);
	snprintf(buf, size, "%.2s/%s%s", hex, hex, disk_ext[kind]);
}

static void disk_tmp_path(struct ufs_disk *d, const struct ufs_ckey *key, char *buf, size_t size)
{
	char hex[33];

	snprintf(hex, sizeof(hex), "%016" PRIx64 "%016" PRIx64, key->hi, key->lo);
	snprintf(buf, size, "%.2s/.tmp.%s.%ld.%" PRIu64, hex, hex, (long)getpid(),
		 (uint64_t)atomic_fetch_add(&d->seq, 1));
}

/* Parse "<32 hex>.blk|.idn|.lst" into *pkey and *pkind; 0 or -1. */
static int disk_parse_name(const char *name, struct ufs_ckey *pkey, enum ufs_disk_kind *pkind)
{
	char hi[17], lo[17];
	int k = UFS_DISK_KINDS;

	if (strlen(name) != 36 || strspn(name, "0123456789abcdef") != 32)
		return -1;
	while (--k >= 0 && strcmp(name + 32, disk_ext[k]) != 0)
		;
	if (k < 0)
		return -1;
	*pkind = (enum ufs_disk_kind)k;
	memcpy(hi, name, 16);
	memcpy(lo, name + 16, 16);
	hi[16] = lo[16] = '\0';
	pkey->hi = strtoull(hi, NULL, 16);
	pkey->lo = strtoull(lo, NULL, 16);
	return 0;
}

/* ---- index (lock held) ---- */

static int idx_eq(const struct ufs_tnode *n, const void *key)
{
	return ufs_ckey_eq(&ufs_table_entry(n, struct disk_ent, hnode)->key, key);
}

static struct disk_ent *idx_find(struct ufs_disk *d, const struct ufs_ckey *key)
{
	return ufs_table_entry(ufs_table_find(&d->index, key->lo, key), struct disk_ent, hnode);
}

static void idx_lru_unlink(struct disk_ent *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void idx_lru_push(struct ufs_disk *d, struct disk_ent *e)
{
	e->prev = d->lru.prev;
	e->next = &d->lru;
	d->lru.prev->next = e;
	d->lru.prev = e;
}

/* Take e out of the index (not freed). */
static void idx_remove(struct ufs_disk *d, struct disk_ent *e)
{
	ufs_table_remove(&d->index, &e->hnode);
	idx_lru_unlink(e);
	d->used -= e->bytes;
}

/* Add (or refresh) key with bytes at the LRU tail. */
static void idx_add(struct ufs_disk *d, struct disk_ent *e)
{
	struct disk_ent *old = idx_find(d, &e->key);

	if (old) {
		idx_remove(d, old);
		free(old);
	}
	ufs_table_insert(&d->index, &e->hnode, e->key.lo);
	idx_lru_push(d, e);
	d->used += e->bytes;
}

/* Detach the oldest entries while more than target bytes are held; returns
 * them linked by next. */
static struct disk_ent *idx_evict_to(struct ufs_disk *d, uint64_t target)
{
	struct disk_ent *out = NULL;

	while (d->used > target && d->lru.next != &d->lru) {
		struct disk_ent *e = d->lru.next;

		idx_remove(d, e);
		e->next = out;
		out = e;
	}
	return out;
}

/* Detach the oldest entries while over the bound. */
static struct disk_ent *idx_evict(struct ufs_disk *d)
{
	return idx_evict_to(d, d->limit);
}

static void disk_forget(struct ufs_disk *d, const struct ufs_ckey *key)
{
	struct disk_ent *e;

	pthread_mutex_lock(&d->lock);
	e = idx_find(d, key);
	if (e)
		idx_remove(d, e);
	pthread_mutex_unlock(&d->lock);
	free(e);
}

/* Unlink and free the files of a detached list. */
static void disk_unlink_list(struct ufs_disk *d, struct disk_ent *e)
{
	char path[DISK_NAME];

	while (e) {
		struct disk_ent *next = e->next;
		disk_path(e->kind, &e->key, path, sizeof(path));
		unlinkat(d->dfd, path, 0);
		free(e);
		e = next;
	}
}

/* ---- header ---- */

/* The keyed XXH3-128 of data into h + 40. */
static void hdr_put_digest(const struct ufs_disk *d, unsigned char *h, const void *data, size_t len)
{
	XXH128_hash_t x =
	    XXH3_128bits_withSecret(data, len, d->secret + DISK_MAC_KEY, DISK_XXH_SECRET);

	ufs_put_le64(h + 40, x.low64);
	ufs_put_le64(h + 48, x.high64);
}

/* The HMAC of header h (bytes before DISK_MAC_AT) into mac. 0 or -EIO. */
static int hdr_mac(const struct ufs_disk *d, const unsigned char *h,
		   unsigned char mac[UFS_SHA256_LEN])
{
	return ufs_hmac_sha256(d->secret, DISK_MAC_KEY, h, DISK_MAC_AT, mac);
}

static int hdr_build(const struct ufs_disk *d, unsigned char *h, const struct ufs_ckey *key,
		     const void *data, size_t len)
{
	memset(h, 0, DISK_HDR);
	memcpy(h, disk_magic, 8);
	ufs_put_le64(h + 8, DISK_VERSION | (uint64_t)DISK_HDR << 32);
	ufs_put_le64(h + 16, key->lo);
	ufs_put_le64(h + 24, key->hi);
	ufs_put_le64(h + 32, len);
	hdr_put_digest(d, h, data, len);
	return hdr_mac(d, h, h + DISK_MAC_AT);
}

/* Check a header against key; returns the data length, -1 when corrupt or
 * forged, -2 when the file has another format version. */
static int64_t hdr_check(const struct ufs_disk *d, const unsigned char *h,
			 const struct ufs_ckey *key, size_t cap)
{
	uint64_t len = ufs_get_le64(h + 32);
	unsigned char mac[UFS_SHA256_LEN];

	if (memcmp(h, disk_magic, 8) != 0)
		return -1;
	if ((uint32_t)ufs_get_le64(h + 8) != DISK_VERSION)
		return -2;
	if (ufs_get_le64(h + 8) >> 32 != DISK_HDR)
		return -1;
	if (hdr_mac(d, h, mac) != 0 || CRYPTO_memcmp(mac, h + DISK_MAC_AT, sizeof(mac)) != 0)
		return -1;
	if (ufs_get_le64(h + 16) != key->lo || ufs_get_le64(h + 24) != key->hi || len > cap)
		return -1;
	return (int64_t)len;
}

/* Whether data matches the keyed digest in header h. */
static int hdr_data_ok(const struct ufs_disk *d, const unsigned char *h, const void *data,
		       size_t len)
{
	XXH128_hash_t x =
	    XXH3_128bits_withSecret(data, len, d->secret + DISK_MAC_KEY, DISK_XXH_SECRET);

	return x.low64 == ufs_get_le64(h + 40) && x.high64 == ufs_get_le64(h + 48);
}

/* ---- read ---- */

static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Header (into h) and the len data bytes (into buf, room for cap) of an
 * open block file: one request, rounded up to the page when fd is O_DIRECT;
 * if that does not return everything, both again through the page cache.
 * 0, or -1 when the file is shorter (h then holds what could be read). */
static int disk_read_raw(int fd, unsigned char *h, void *buf, size_t len, size_t cap)
{
	size_t up = (len + DISK_HDR - 1) / DISK_HDR * DISK_HDR;
	struct iovec iov[2] = {{h, DISK_HDR}, {buf, up <= cap ? up : len}};
	int fl;

	if (preadv(fd, iov, 2, 0) == (ssize_t)(DISK_HDR + len))
		return 0;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_DIRECT))
		fcntl(fd, F_SETFL, fl & ~O_DIRECT);
	if (pread_full(fd, h, DISK_HDR, 0) != DISK_HDR ||
	    pread_full(fd, buf, len, DISK_HDR) != (ssize_t)len)
		return -1;
	return 0;
}

/* Read and verify an open block file; length, -1 when corrupt, -2 when it
 * has another format version. */
static ssize_t disk_read_fd(const struct ufs_disk *d, int fd, const struct ufs_ckey *key, void *buf,
			    size_t cap)
{
	_Alignas(DISK_HDR) unsigned char h[DISK_HDR] = {0};
	struct stat st;
	size_t len;
	int64_t hlen;

	if (fstat(fd, &st) != 0)
		return -1;
	len = st.st_size > DISK_HDR ? (size_t)st.st_size - DISK_HDR : 0;
	if (len > cap || disk_read_raw(fd, h, buf, len, cap) != 0)
		return hdr_check(d, h, key, cap) == -2 ? -2 : -1;
	hlen = hdr_check(d, h, key, cap);
	if (hlen < 0 || (size_t)hlen != len)
		return hlen == -2 ? -2 : -1;
	if (!hdr_data_ok(d, h, buf, len))
		return -1;
	futimens(fd, (const struct timespec[2]){{0, UTIME_OMIT}, {0, UTIME_NOW}});
	return (ssize_t)len;
}

/* Open a block file for reading into buf: O_DIRECT when buf and cap are
 * page-aligned and the file system takes it. fd or -1. */
static int disk_open_read(const struct ufs_disk *d, const char *path, const void *buf, size_t cap)
{
	const int fl = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;

	if ((uintptr_t)buf % DISK_HDR == 0 && cap % DISK_HDR == 0) {
		int fd = openat(d->dfd, path, fl | O_DIRECT);

		if (fd >= 0 || errno == ENOENT)
			return fd;
	}
	return openat(d->dfd, path, fl);
}

static void disk_touch(struct ufs_disk *d, const struct ufs_ckey *key)
{
	struct disk_ent *e;

	pthread_mutex_lock(&d->lock);
	e = idx_find(d, key);
	if (e) {
		idx_lru_unlink(e);
		idx_lru_push(d, e);
	}
	pthread_mutex_unlock(&d->lock);
}

ssize_t ufs_disk_read(struct ufs_disk *d, enum ufs_disk_kind kind, const struct ufs_ckey *key,
		      void *buf, size_t cap)
{
	char path[DISK_NAME];
	ssize_t n;
	int fd;

	disk_path(kind, key, path, sizeof(path));
	fd = disk_open_read(d, path, buf, cap);
	if (fd < 0) {
		disk_forget(d, key);
		return -ENOENT;
	}
	n = disk_read_fd(d, fd, key, buf, cap);
	close(fd);
	if (n >= 0) {
		disk_touch(d, key);
		return n;
	}
	unlinkat(d->dfd, path, 0);
	disk_forget(d, key);
	if (n == -2) {
		ufs_debug("cache: disk block %s/%s has an old format; discarded", d->dir, path);
		return -ENOENT;
	}
	ufs_warn("cache: disk block %s/%s failed verification; discarded and fetched again", d->dir,
		 path);
	return -EBADMSG;
}

int ufs_disk_has(struct ufs_disk *d, const struct ufs_ckey *key)
{
	int found;

	pthread_mutex_lock(&d->lock);
	found = idx_find(d, key) != NULL;
	pthread_mutex_unlock(&d->lock);
	return found;
}

int64_t ufs_disk_size(struct ufs_disk *d, const struct ufs_ckey *key)
{
	struct disk_ent *e;
	int64_t v = -ENOENT;

	pthread_mutex_lock(&d->lock);
	e = idx_find(d, key);
	if (e && e->bytes >= DISK_HDR)
		v = (int64_t)(e->bytes - DISK_HDR);
	pthread_mutex_unlock(&d->lock);
	return v;
}

uint64_t ufs_disk_bytes(struct ufs_disk *d)
{
	uint64_t v;

	pthread_mutex_lock(&d->lock);
	v = d->used;
	pthread_mutex_unlock(&d->lock);
	return v;
}

/* ---- write ---- */

/* Create file (a temp name "ab/.tmp...") in DIR, O_DIRECT when asked and
 * possible (*pdirect says which it got), mkdir'ing DIR/ab when missing.
 * fd or -errno. */
static int disk_create_tmp(struct ufs_disk *d, const char *tmp, int *pdirect)
{
	const int fl = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
	int fd = -1;

	for (int tries = 0; tries < 2; tries++) {
		if (*pdirect) {
			fd = openat(d->dfd, tmp, fl | O_DIRECT, 0600);
			if (fd < 0 && errno == EINVAL) /* the file system refuses O_DIRECT */
				*pdirect = 0;
		}
		if (!*pdirect)
			fd = openat(d->dfd, tmp, fl, 0600);
		if (fd >= 0 || errno != ENOENT || tries > 0)
			break;
		char sub[3] = {tmp[0], tmp[1], '\0'};
		mkdirat(d->dfd, sub, 0700);
	}
	return fd < 0 ? -errno : fd;
}

static int write_full(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(fd, iov, iovcnt);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Header h and len bytes of data to fd opened O_DIRECT: the whole pages from
 * data itself, a last partial page through an aligned bounce page, then the
 * file is cut to its length. 0 or -errno. */
static int disk_write_direct(int fd, unsigned char *h, const void *data, size_t len)
{
	size_t whole = len / DISK_HDR * DISK_HDR, tail = len - whole;
	struct iovec iov[3] = {{h, DISK_HDR}, {(void *)data, whole}, {NULL, 0}};
	unsigned char *bounce = NULL;
	int rc;

	if (tail) {
		bounce = aligned_alloc(DISK_HDR, DISK_HDR);
		if (!bounce)
			return -ENOMEM;
		memcpy(bounce, (const char *)data + whole, tail);
		memset(bounce + tail, 0, DISK_HDR - tail);
		iov[2] = (struct iovec){bounce, DISK_HDR};
	}
	rc = write_full(fd, iov, tail ? 3 : 2);
	if (rc == 0 && tail && ftruncate(fd, (off_t)(DISK_HDR + len)) != 0)
		rc = -errno;
	free(bounce);
	return rc;
}

/* Header h and data through the page cache; with writeback (block fills),
 * then written back and dropped at once: a fill leaves no dirty pages
 * behind. Records (a few hundred bytes, written on open) are left to the
 * kernel. 0 or -errno. */
static int disk_write_buffered(int fd, unsigned char *h, const void *data, size_t len,
			       int writeback)
{
	struct iovec iov[2] = {{h, DISK_HDR}, {(void *)data, len}};
	int rc = write_full(fd, iov, 2);

	if (rc == 0 && writeback &&
	    sync_file_range(fd, 0, 0,
			    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				SYNC_FILE_RANGE_WAIT_AFTER) != 0)
		rc = -errno;
	if (rc == 0 && writeback)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return rc;
}

/* Header h and data to the new file fd: direct when opened so, and again
 * through the page cache if the device refuses our alignment (EINVAL on
 * the write: a logical block larger than a page). 0 or -errno. */
static int disk_write_fd(int fd, int direct, unsigned char *h, const void *data, size_t len,
			 int writeback)
{
	int rc, fl;

	if (!direct)
		return disk_write_buffered(fd, h, data, len, writeback);
	rc = disk_write_direct(fd, h, data, len);
	if (rc != -EINVAL)
		return rc;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0 || ftruncate(fd, 0) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0)
		return rc;
	return disk_write_buffered(fd, h, data, len, writeback);
}

/* Write the block file under a temp name and rename it into place. */
static int disk_store(struct ufs_disk *d, enum ufs_disk_kind kind, const struct ufs_ckey *key,
		      const void *data, size_t len)
{
	_Alignas(DISK_HDR) unsigned char h[DISK_HDR];
	char tmp[DISK_NAME], path[DISK_NAME];
	int direct = (uintptr_t)data % DISK_HDR == 0;
	int rc, fd;

	disk_tmp_path(d, key, tmp, sizeof(tmp));
	disk_path(kind, key, path, sizeof(path));
	rc = hdr_build(d, h, key, data, len);
	if (rc < 0)
		return rc;
	fd = disk_create_tmp(d, tmp, &direct);
	if (fd < 0)
		return fd;
	rc = disk_write_fd(fd, direct, h, data, len, kind == UFS_DISK_BLOCK);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(d->dfd, tmp, d->dfd, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(d->dfd, tmp, 0);
	return rc;
}

/* The file system is full: drop the oldest eighth of the tier (at least
 * need bytes). Returns 1 when something was evicted (worth a retry). */
static int disk_make_room(struct ufs_disk *d, uint64_t need)
{
	struct disk_ent *victims;
	uint64_t used, drop;

	pthread_mutex_lock(&d->lock);
	used = d->used;
	drop = used / 8 > need ? used / 8 : need;
	victims = idx_evict_to(d, used > drop ? used - drop : 0);
	pthread_mutex_unlock(&d->lock);
	if (!atomic_exchange(&d->full_warned, 1))
		ufs_warn("cache: file system of cache_dir %s is full; evicting the oldest blocks "
			 "(%" PRIu64 " of %" PRIu64 " bytes held), reads go on from the backend",
			 d->dir, used < drop ? used : drop, used);
	disk_unlink_list(d, victims);
	return victims != NULL;
}

int ufs_disk_write(struct ufs_disk *d, enum ufs_disk_kind kind, const struct ufs_ckey *key,
		   const void *data, size_t len)
{
	struct disk_ent *e, *victims;
	int rc;

	if (len + DISK_HDR > d->limit)
		return -EFBIG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	rc = disk_store(d, kind, key, data, len);
	if (rc == 0)
		atomic_store(&d->full_warned, 0); /* room again: warn at the next ENOSPC */
	else if ((rc == -ENOSPC || rc == -EDQUOT) && disk_make_room(d, len + DISK_HDR))
		rc = disk_store(d, kind, key, data, len);
	if (rc < 0) {
		ufs_debug("cache: cannot store a block in %s: %s", d->dir, strerror(-rc));
		free(e);
		return rc;
	}
	e->key = *key;
	e->kind = kind;
	e->bytes = len + DISK_HDR;
	pthread_mutex_lock(&d->lock);
	idx_add(d, e);
	victims = idx_evict(d);
	pthread_mutex_unlock(&d->lock);
	disk_unlink_list(d, victims);
	return 0;
}

/* ---- open: scan what a previous mount left ---- */

struct disk_scan {
	struct disk_ent **v;
	size_t n, cap;
};

static int scan_push(struct disk_scan *sc, struct disk_ent *e)
{
	if (sc->n == sc->cap) {
		size_t ncap = sc->cap ? sc->cap * 2 : 256;
		struct disk_ent **nv = realloc(sc->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		sc->v = nv;
		sc->cap = ncap;
	}
	sc->v[sc->n++] = e;
	return 0;
}

/* Is temp file name (".tmp.<key>.<pid>.<seq>") a leftover: its writer is
 * gone? A name without a pid is left alone. */
static int scan_tmp_is_dead(const char *name)
{
	const char *dot = strchr(name + 5, '.');
	char *end;
	long pid;

	if (!dot)
		return 0;
	errno = 0;
	pid = strtol(dot + 1, &end, 10);
	if (errno || end == dot + 1 || *end != '.' || pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Collect the block files of one fan-out directory; remove the temp files
 * of dead writers. */
static void scan_subdir(int dfd, const char *sub, struct disk_scan *sc)
{
	int fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		struct disk_ent *e;
		struct stat st;
		struct ufs_ckey key;
		enum ufs_disk_kind kind;

		if (strncmp(de->d_name, ".tmp.", 5) == 0) {
			if (scan_tmp_is_dead(de->d_name))
				unlinkat(fd, de->d_name, 0);
			continue;
		}
		if (disk_parse_name(de->d_name, &key, &kind) < 0 ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		e = calloc(1, sizeof(*e));
		if (!e || scan_push(sc, e) < 0) {
			free(e);
			break;
		}
		e->key = key;
		e->kind = kind;
		e->bytes = (uint64_t)st.st_size;
		e->mtime = st.st_mtim;
	}
	closedir(dir);
}

static int scan_cmp_mtime(const void *a, const void *b)
{
	const struct disk_ent *x = *(struct disk_ent *const *)a;
	const struct disk_ent *y = *(struct disk_ent *const *)b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return 0;
}

/* Learn the files present, oldest first, then enforce the bound. */
static void disk_scan(struct ufs_disk *d)
{
	struct disk_scan sc = {0};
	int dfd = openat(d->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* own offset */
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	if (!dir) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(dir)))
		if (strlen(de->d_name) == 2 && strspn(de->d_name, "0123456789abcdef") == 2)
			scan_subdir(dfd, de->d_name, &sc);
	closedir(dir);
	if (sc.n > 0)
		qsort(sc.v, sc.n, sizeof(*sc.v), scan_cmp_mtime);
	for (size_t i = 0; i < sc.n; i++)
		idx_add(d, sc.v[i]);
	free(sc.v);
	disk_unlink_list(d, idx_evict(d));
}

/* -errno with "cache_dir DIR: <why>" in err. */
static int disk_err(const char *dir, const char *what, char *err, size_t errlen)
{
	int e = errno;

	snprintf(err, errlen, "cache_dir %s: %s%s", dir, what, strerror(e));
	return -e;
}

/* Check the open dir: a directory, owned by the daemon's user, not writable
 * by group or others, usable. 0 or -errno with a message. */
static int disk_check_dir(int dfd, const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(dfd, &st) != 0)
		return disk_err(dir, "", err, errlen);
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "cache_dir %s is owned by uid %u, not by the daemon's user (uid %u): "
			 "refusing it (others could plant blocks)",
			 dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "cache_dir %s is writable by group or others (mode %04o): refusing it; "
			 "chmod go-w it",
			 dir, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (faccessat(dfd, ".", R_OK | W_OK | X_OK, AT_EACCESS) != 0)
		return disk_err(dir, "", err, errlen);
	return 0;
}

/* Create dir (0700) if missing and open it once, never through a symbolic
 * link, then check it. fd or -errno with a message. */
static int disk_open_dir(const char *dir, char *err, size_t errlen)
{
	int fd, rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return disk_err(dir, "", err, errlen);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		snprintf(err, errlen,
			 "cache_dir %s: not a directory, or a symbolic link (refused: give "
			 "the real path)",
			 dir);
		return -ENOTDIR;
	}
	if (fd < 0)
		return disk_err(dir, "", err, errlen);
	rc = disk_check_dir(fd, dir, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Take the exclusive lock of DIR (DIR/lock, holding our pid). fd, or -errno
 * with a message (another daemon holds it: -EBUSY with its pid). */
static int disk_lock(int dfd, const char *dir, char *err, size_t errlen)
{
	char pid[32] = "";
	int fd, n;

	fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return disk_err(dir, "lock file: ", err, errlen);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno == EWOULDBLOCK ? EBUSY : errno;

		n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		snprintf(err, errlen,
			 "cache_dir %s is in use by another unifs daemon (pid %s): give each "
			 "daemon its own cache_dir",
			 dir, pid[0] ? pid : "?");
		return -e;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		ufs_debug("cache: cannot record the pid in %s/lock", dir);
	return fd;
}

/* Read DIR/secret into d->secret: 1 when usable, 0 when absent or unsafe
 * (not a regular file of ours, readable or writable by others, wrong size). */
static int disk_secret_load(struct ufs_disk *d)
{
	int fd = openat(d->dfd, "secret", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	int ok;

	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	     (st.st_mode & 077) == 0 && st.st_size == DISK_SECRET &&
	     pread_full(fd, d->secret, DISK_SECRET, 0) == DISK_SECRET;
	close(fd);
	if (!ok)
		ufs_warn("cache: %s/secret is not a private %d-byte file of ours: replaced (the "
			 "blocks keyed with it will be fetched again)",
			 d->dir, DISK_SECRET);
	return ok;
}

/* Make a new DIR/secret (0600, random) and keep it in d->secret. 0 or -errno. */
static int disk_secret_create(struct ufs_disk *d)
{
	const char *tmp = "secret.new";
	int fd, rc = 0;

	if (getrandom(d->secret, DISK_SECRET, 0) != DISK_SECRET)
		return -errno ? -errno : -EIO;
	unlinkat(d->dfd, tmp, 0);
	fd = openat(d->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, d->secret, DISK_SECRET) != DISK_SECRET || fsync(fd) != 0)
		rc = errno ? -errno : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(d->dfd, tmp, d->dfd, "secret") != 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(d->dfd, tmp, 0);
	return rc;
}

/* The tier's secret: DIR/secret, created at the first open (or when unsafe). */
static int disk_secret(struct ufs_disk *d, char *err, size_t errlen)
{
	int rc;

	if (disk_secret_load(d))
		return 0;
	rc = disk_secret_create(d);
	if (rc < 0) {
		errno = -rc;
		return disk_err(d->dir, "secret: ", err, errlen);
	}
	return 0;
}

/* A tier on the open, checked and locked DIR (dfd, lock_fd kept). */
static struct ufs_disk *disk_new(const char *dir, int dfd, int lock_fd, uint64_t limit)
{
	struct ufs_disk *d = calloc(1, sizeof(*d));

	if (!d || !(d->dir = strdup(dir)) ||
	    ufs_table_init(&d->index, DISK_BUCKETS, DISK_BUCKETS, idx_eq) < 0) {
		if (d)
			free(d->dir);
		free(d);
		return NULL;
	}
	d->dfd = dfd;
	d->lock_fd = lock_fd;
	d->limit = limit;
	d->lru.next = d->lru.prev = &d->lru;
	pthread_mutex_init(&d->lock, NULL);
	return d;
}

int ufs_disk_open(const char *dir, uint64_t limit, struct ufs_disk **pd, char *err, size_t errlen)
{
	struct ufs_disk *d;
	int dfd = disk_open_dir(dir, err, errlen), fd, rc;

	*pd = NULL;
	if (dfd < 0)
		return dfd;
	fd = disk_lock(dfd, dir, err, errlen);
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	d = disk_new(dir, dfd, fd, limit);
	if (!d) {
		close(fd);
		close(dfd);
		snprintf(err, errlen, "cache: out of memory");
		return -ENOMEM;
	}
	rc = disk_secret(d, err, errlen);
	if (rc < 0) {
		ufs_disk_close(d);
		return rc;
	}
	disk_scan(d);
	*pd = d;
	return 0;
}

void ufs_disk_close(struct ufs_disk *d)
{
	if (!d)
		return;
	while (d->lru.next != &d->lru) {
		struct disk_ent *e = d->lru.next;

		idx_lru_unlink(e);
		free(e);
	}
	ufs_table_fini(&d->index);
	pthread_mutex_destroy(&d->lock);
	close(d->lock_fd); /* releases the flock */
	close(d->dfd);
	OPENSSL_cleanse(d->secret, sizeof(d->secret));
	free(d->dir);
	free(d);
}
