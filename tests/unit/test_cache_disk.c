/* test_cache_disk.c — the disk tier of the block cache: survives a "remount"
 * (a new cache and a new backend object with the same URL), verifies every
 * read (corrupt, truncated or garbage files are discarded, counted and
 * refetched; a file of an old format version is a plain miss), keeps its size
 * bound, copes with the directory being wiped; refuses an unsafe or shared
 * directory, keeps other writers' temp files, evicts when the file system is
 * full; rejects planted blocks (keyed checksums), keeps using the directory
 * it opened when the path is swapped; fills never hold a reader (a stalled
 * disk writer: blocks skipped and counted), and leave no page cache behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <xxhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/cache_i.h"
#include "cache/meta.h"
#include "protocols/sign.h"
#include "common/budget.h"
#include "helper_membackend.h"

#define MIB (1024ULL * 1024)
#define HDR 4096

struct fx {
	char dir[64];
	uint64_t mem, disk_size;
	struct ufs_budget *budget;
	struct ufs_backend *be;
	struct ufs_cache *c;
	char *data;
	size_t size;
};

/* Start a cache on f->dir and a backend holding "obj" (a "mount"). */
static void fx_mount(struct fx *f)
{
	struct ufs_cache_cfg cfg = {0};
	char err[256] = "";

	f->budget = ufs_budget_create(f->mem);
	f->be = ufs_memb_create("mem://disk-test");
	assert_int_equal(ufs_memb_put(f->be, "obj", f->data, f->size, "etag-1"), 0);
	cfg.budget = f->budget;
	cfg.block_size = MIB;
	cfg.readahead_max = 4 * MIB;
	cfg.workers = 2;
	cfg.cache_dir = f->dir;
	cfg.cache_size = f->disk_size;
	assert_int_equal(ufs_cache_create(&cfg, &f->c, err, sizeof(err)), 0);
}

static void fx_umount(struct fx *f)
{
	ufs_cache_destroy(f->c);
	ufs_backend_destroy(f->be);
	ufs_budget_destroy(f->budget);
}

static void fx_init(struct fx *f, size_t size, uint64_t mem, uint64_t disk_size)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/ufs-test-disk-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->size = size;
	f->mem = mem;
	f->disk_size = disk_size;
	f->data = malloc(size);
	assert_non_null(f->data);
	for (size_t i = 0; i < size; i++)
		f->data[i] = (char)((i * 7 + i / 1000) & 0xff);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fx_fini(struct fx *f)
{
	rm_tree(f->dir);
	free(f->data);
}

/* Block files under the tier and their total size. */
static size_t g_files;
static uint64_t g_bytes;
static char g_first[4096];

static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t n = strlen(path);

	(void)ftw;
	if (flag == FTW_F && n > 4 && strcmp(path + n - 4, ".blk") == 0) {
		if (g_files++ == 0 || strcmp(path, g_first) < 0)
			snprintf(g_first, sizeof(g_first), "%s", path);
		g_bytes += (uint64_t)st->st_size;
	}
	return 0;
}

static size_t count_files(const char *dir)
{
	g_files = 0;
	g_bytes = 0;
	nftw(dir, count_entry, 16, FTW_PHYS);
	return g_files;
}

static void read_all(struct fx *f)
{
	struct ufs_obj obj;
	struct ufs_rstream *s;
	char *buf = malloc(f->size);

	assert_int_equal(ufs_memb_obj(f->be, "obj", &obj), 0);
	assert_int_equal(ufs_cache_open(f->c, f->be, &obj, 0, &s), 0);
	for (uint64_t off = 0; off < f->size; off += 256 * 1024) {
		size_t n = f->size - off < 256 * 1024 ? f->size - off : 256 * 1024;

		assert_int_equal(ufs_cache_read(s, buf + off, n, off), (ssize_t)n);
	}
	assert_memory_equal(buf, f->data, f->size);
	ufs_cache_close(s);
	free(buf);
}

static struct ufs_cache_stats stats(struct fx *f)
{
	struct ufs_cache_stats st;

	ufs_cache_get_stats(f->c, &st);
	return st;
}

/* Mount, read everything once, unmount: the tier holds every block. */
static void populate(struct fx *f, size_t nblocks)
{
	fx_mount(f);
	read_all(f);
	fx_umount(f);
	assert_int_equal(count_files(f->dir), nblocks);
}

static void test_survives_remount(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 5 * MIB + 7, 16 * MIB, 64 * MIB);
	populate(&f, 6);
	assert_int_equal(g_bytes, f.size + 6 * HDR);
	fx_mount(&f);
	/* learnt by scanning: the blocks and the object's identity record */
	assert_in_range(stats(&f).disk_bytes, f.size + 6 * HDR, f.size + 7 * HDR + 128);
	read_all(&f);
	assert_int_equal(ufs_memb_reads(f.be), 0); /* epoch 2 is local */
	assert_int_equal(stats(&f).disk_hits, 6);
	assert_int_equal(stats(&f).fetched_bytes, 0);
	fx_umount(&f);
	fx_fini(&f);
}

/* Damage the first block file: flip a data byte, cut it, smash its header
 * or make it look written by format version 1. */
static void damage(const char *path, int how)
{
	int fd = open(path, O_RDWR);
	char c;

	assert_true(fd >= 0);
	if (how == 0) {
		assert_int_equal(pread(fd, &c, 1, HDR + 1000), 1);
		c ^= 0x5a;
		assert_int_equal(pwrite(fd, &c, 1, HDR + 1000), 1);
	} else if (how == 1) {
		assert_int_equal(ftruncate(fd, HDR + 10), 0);
	} else if (how == 2) {
		assert_int_equal(pwrite(fd, "garbage!", 8, 0), 8);
	} else {
		assert_int_equal(pwrite(fd, "\1", 1, 8), 1);
	}
	close(fd);
}

/* counted: whether the damage is a checksum failure (an old format is a
 * plain miss). */
static void check_damage_refetched(int how, int counted)
{
	struct fx f;

	fx_init(&f, 3 * MIB, 16 * MIB, 64 * MIB);
	populate(&f, 3);
	damage(g_first, how);
	fx_mount(&f);
	read_all(&f); /* still byte-exact */
	assert_int_equal(stats(&f).disk_checksum_failures, counted);
	assert_int_equal(stats(&f).disk_hits, 2);
	assert_int_equal(ufs_memb_reads(f.be), 1); /* only the bad block refetched */
	fx_umount(&f);
	/* the refetched block was stored again, good this time */
	fx_mount(&f);
	read_all(&f);
	assert_int_equal(stats(&f).disk_checksum_failures, 0);
	assert_int_equal(stats(&f).disk_hits, 3);
	fx_umount(&f);
	fx_fini(&f);
}

static void test_flipped_byte_refetched(void **state)
{
	(void)state;
	check_damage_refetched(0, 1);
}

static void test_truncated_file_refetched(void **state)
{
	(void)state;
	check_damage_refetched(1, 1);
}

static void test_garbage_header_refetched(void **state)
{
	(void)state;
	check_damage_refetched(2, 1);
}

static void test_old_format_is_a_miss(void **state)
{
	(void)state;
	check_damage_refetched(3, 0);
}

static void test_size_bound(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 6 * MIB, 16 * MIB, 3 * (MIB + HDR));
	fx_mount(&f);
	read_all(&f);
	fx_umount(&f);
	assert_int_equal(count_files(f.dir), 3);
	assert_true(g_bytes <= 3 * (MIB + HDR));
	/* a smaller bound at the next mount trims what is there */
	f.disk_size = MIB + HDR;
	fx_mount(&f);
	assert_true(stats(&f).disk_bytes <= MIB + HDR);
	fx_umount(&f);
	assert_int_equal(count_files(f.dir), 1);
	fx_fini(&f);
}

static void test_wiped_while_mounted(void **state)
{
	struct fx f;

	(void)state;
	/* 4 MiB of memory for a 6 MiB object: re-reads need the disk tier */
	fx_init(&f, 6 * MIB, 4 * MIB, 64 * MIB);
	fx_mount(&f);
	read_all(&f);
	for (int i = 0; i < 500 && count_files(f.dir) < 6; i++)
		usleep(10000);
	rm_tree(f.dir);
	ufs_memb_reset_counts(f.be);
	read_all(&f); /* misses, refetches, still byte-exact */
	assert_true(ufs_memb_reads(f.be) >= 2);
	assert_true(stats(&f).disk_fill_errors >= 1); /* stores fail: the tier is gone */
	fx_umount(&f);
	/* never re-created by path (that would resolve cache_dir again) */
	assert_int_equal(access(f.dir, F_OK), -1);
	fx_fini(&f);
}

static void test_new_version_misses_disk(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 2 * MIB, 16 * MIB, 64 * MIB);
	populate(&f, 2);
	f.data[5] ^= 1; /* the object changed: new etag */
	fx_mount(&f);
	assert_int_equal(ufs_memb_put(f.be, "obj", f.data, f.size, "etag-2"), 0);
	read_all(&f);
	assert_int_equal(stats(&f).disk_hits, 0);
	assert_int_equal(ufs_memb_reads(f.be), 2);
	fx_umount(&f);
	fx_fini(&f);
}

static void test_offline_read_with_last_identity(void **state)
{
	struct fx f;
	struct ufs_obj o;
	struct ufs_rstream *s;
	char *buf;

	(void)state;
	fx_init(&f, 3 * MIB + 5, 16 * MIB, 64 * MIB);
	populate(&f, 4);
	fx_mount(&f);
	ufs_memb_fail(f.be, -ECONNREFUSED, -1); /* the server is down */
	assert_int_equal(ufs_cache_last_identity(f.c, f.be, "nope", &o), -ENOENT);
	assert_int_equal(ufs_cache_last_identity(f.c, f.be, "obj", &o), 0);
	assert_int_equal(o.size, f.size);
	assert_string_equal(o.etag, "etag-1");
	assert_null(o.path);
	o.path = "obj";
	buf = malloc(f.size);
	assert_int_equal(ufs_cache_open(f.c, f.be, &o, 0, &s), 0);
	assert_int_equal(ufs_cache_read(s, buf, f.size, 0), (ssize_t)f.size);
	assert_memory_equal(buf, f.data, f.size);
	ufs_cache_close(s);
	assert_int_equal(ufs_memb_reads(f.be), 0);
	free(buf);
	fx_umount(&f);
	fx_fini(&f);
}

static void test_unusable_dir_is_an_error(void **state)
{
	struct ufs_cache_cfg cfg = {0};
	struct ufs_cache *c = NULL;
	char err[256] = "";

	(void)state;
	cfg.budget = ufs_budget_create(16 * MIB);
	cfg.block_size = MIB;
	cfg.workers = 1;
	cfg.cache_dir = "/proc/no-such-dir/cache";
	cfg.cache_size = 64 * MIB;
	assert_true(ufs_cache_create(&cfg, &c, err, sizeof(err)) < 0);
	assert_null(c);
	assert_non_null(strstr(err, "cache_dir /proc/no-such-dir/cache"));
	ufs_budget_destroy(cfg.budget);
}

/* A cache on dir: 0, or -errno with the message in err. */
static int try_cache(const char *dir, struct ufs_budget *b, struct ufs_cache **pc, char *err,
		     size_t errlen)
{
	struct ufs_cache_cfg cfg = {0};

	cfg.budget = b;
	cfg.block_size = MIB;
	cfg.workers = 1;
	cfg.cache_dir = dir;
	cfg.cache_size = 64 * MIB;
	return ufs_cache_create(&cfg, pc, err, errlen);
}

static void test_unsafe_dir_refused(void **state)
{
	struct ufs_budget *b = ufs_budget_create(16 * MIB);
	struct ufs_cache *c = NULL;
	char dir[64] = "/tmp/ufs-test-disk-XXXXXX", err[256] = "";

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(try_cache(dir, b, &c, err, sizeof(err)), -EPERM);
	assert_null(c);
	assert_non_null(strstr(err, "writable by group or others (mode 0777)"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(chmod(dir, 0700), 0);
	if (geteuid() == 0) { /* root can give it away */
		assert_int_equal(chown(dir, 4242, 4242), 0);
		assert_int_equal(try_cache(dir, b, &c, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "owned by uid 4242, not by the daemon's user"));
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	assert_int_equal(try_cache(dir, b, &c, err, sizeof(err)), 0);
	ufs_cache_destroy(c);
	rm_tree(dir);
	ufs_budget_destroy(b);
}

static void test_second_daemon_refused(void **state)
{
	struct fx f;
	struct ufs_cache *c2 = NULL;
	char err[256] = "", want[64];
	struct ufs_budget *b = ufs_budget_create(16 * MIB);

	(void)state;
	fx_init(&f, MIB, 16 * MIB, 64 * MIB);
	fx_mount(&f);
	assert_int_equal(try_cache(f.dir, b, &c2, err, sizeof(err)), -EBUSY);
	assert_null(c2);
	snprintf(want, sizeof(want), "in use by another unifs daemon (pid %ld)", (long)getpid());
	assert_non_null(strstr(err, want));
	fx_umount(&f);
	assert_int_equal(try_cache(f.dir, b, &c2, err, sizeof(err)), 0); /* released */
	ufs_cache_destroy(c2);
	ufs_budget_destroy(b);
	fx_fini(&f);
}

/* A temp file name in dir/ab as a writer with pid would make it. */
static void make_tmp(const char *dir, long pid, char *path, size_t size)
{
	char sub[128];
	int fd;

	snprintf(sub, sizeof(sub), "%s/ab", dir);
	mkdir(sub, 0700);
	snprintf(path, size, "%s/.tmp.ab%030d.%ld.1", sub, 0, pid);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void test_only_dead_writers_tmp_removed(void **state)
{
	struct fx f;
	char live[256], dead[256];
	pid_t pid = fork();

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid); /* pid is dead now */
	fx_init(&f, MIB, 16 * MIB, 64 * MIB);
	make_tmp(f.dir, (long)getppid(), live, sizeof(live)); /* another daemon, writing */
	make_tmp(f.dir, (long)pid, dead, sizeof(dead));
	fx_mount(&f);
	assert_int_equal(access(live, F_OK), 0);
	assert_int_equal(access(dead, F_OK), -1);
	fx_umount(&f);
	fx_fini(&f);
}

static void test_full_fs_evicts_and_serves(void **state)
{
	struct fx f;
	struct ufs_obj obj;
	struct ufs_rstream *s;
	char *buf = malloc(MIB);

	(void)state;
	fx_init(&f, 8 * MIB, 16 * MIB, 64 * MIB); /* bound far above the 4 MiB file system */
	if (mount("tmpfs", f.dir, "tmpfs", 0, "size=4m,mode=0700") != 0) {
		fx_fini(&f);
		free(buf);
		skip(); /* needs CAP_SYS_ADMIN (CI runs as root) */
	}
	fx_mount(&f);
	read_all(&f); /* every block correct although the tier fills up */
	fx_umount(&f);
	assert_true(count_files(f.dir) >= 1);
	/* the newest block was stored after evicting old ones: readable offline */
	fx_mount(&f);
	assert_int_equal(ufs_memb_obj(f.be, "obj", &obj), 0);
	ufs_memb_fail(f.be, -ECONNREFUSED, -1);
	assert_int_equal(ufs_cache_open(f.c, f.be, &obj, 0, &s), 0);
	assert_int_equal(ufs_cache_read(s, buf, MIB, 7 * MIB), (ssize_t)MIB);
	assert_memory_equal(buf, f.data + 7 * MIB, MIB);
	ufs_cache_close(s);
	fx_umount(&f);
	assert_int_equal(umount2(f.dir, MNT_DETACH), 0);
	fx_fini(&f);
	free(buf);
}

/* Find the only file of the tier whose name ends in ext. */
static char g_ext_path[4096];
static const char *g_ext;

static int find_ext(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t n = strlen(path);

	(void)st;
	(void)ftw;
	if (flag == FTW_F && n > 4 && strcmp(path + n - 4, g_ext) == 0)
		snprintf(g_ext_path, sizeof(g_ext_path), "%s", path);
	return 0;
}

static void test_listing_kept(void **state)
{
	struct fx f;
	struct ufs_meta_dir *d = ufs_meta_dir_create(), *got = NULL;
	struct ufs_attr a = {0};
	const struct ufs_attr *pa;
	int fd;

	(void)state;
	fx_init(&f, MIB, 16 * MIB, 64 * MIB);
	a.mode = 0100664;
	a.size = 1234;
	a.mtime.tv_sec = 1700000000;
	a.ino = 77;
	strcpy(a.etag, "e-1");
	assert_int_equal(ufs_meta_dir_add(d, "b.bin", &a), 0);
	a.mode = 040777;
	assert_int_equal(ufs_meta_dir_add(d, "a-dir", &a), 0);
	ufs_meta_dir_sort(d);
	fx_mount(&f);
	ufs_cache_save_listing(f.c, f.be, "x/y", d);
	fx_umount(&f);
	fx_mount(&f); /* a remount finds it; another directory is a miss */
	assert_int_equal(ufs_cache_last_listing(f.c, f.be, "x", &got), -ENOENT);
	assert_int_equal(ufs_cache_last_listing(f.c, f.be, "x/y", &got), 0);
	assert_int_equal(ufs_meta_dir_count(got), 2);
	assert_string_equal(ufs_meta_dir_entry(got, 0, &pa), "a-dir");
	assert_int_equal(pa->mode, 040777); /* as listed */
	assert_string_equal(ufs_meta_dir_entry(got, 1, &pa), "b.bin");
	assert_int_equal(pa->mode, 0100664);
	assert_int_equal(pa->size, 1234);
	assert_int_equal(pa->ino, 77);
	assert_int_equal(pa->mtime.tv_sec, 1700000000);
	assert_string_equal(pa->etag, "e-1");
	ufs_meta_dir_unref(got);
	fx_umount(&f);
	g_ext = ".lst";
	g_ext_path[0] = '\0';
	nftw(f.dir, find_ext, 16, FTW_PHYS);
	assert_true(g_ext_path[0]);
	fd = open(g_ext_path, O_RDWR); /* a flipped byte: discarded, a miss */
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, HDR + 20), 1);
	close(fd);
	fx_mount(&f);
	assert_int_equal(ufs_cache_last_listing(f.c, f.be, "x/y", &got), -ENOENT);
	assert_null(got);
	fx_umount(&f);
	ufs_meta_dir_unref(d);
	fx_fini(&f);
}

/* ---- planted blocks, swapped directories: a local user cannot poison the tier ---- */

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/*
 * Overwrite block file path with forged content (len bytes of c): what a
 * user who can compute a key's file name (keys derive from public facts) but
 * cannot read the tier's secret can write. ver 2: the unkeyed format of
 * before the fix (a valid block then); ver 3: the current layout, keyed with
 * a guessed (all-zero) secret.
 */
static void forge(const char *path, int ver, char c, size_t len)
{
	const char *name = strrchr(path, '/') + 1;
	unsigned char *h = calloc(1, HDR + len);
	char hex[17] = "";
	int fd;

	assert_non_null(h);
	memset(h + HDR, c, len);
	memcpy(h, "UFSBLK\0\1", 8);
	put_le64(h + 8, (uint64_t)ver | (uint64_t)HDR << 32);
	memcpy(hex, name + 16, 16);
	put_le64(h + 16, strtoull(hex, NULL, 16)); /* key lo */
	memcpy(hex, name, 16);
	put_le64(h + 24, strtoull(hex, NULL, 16)); /* key hi */
	put_le64(h + 32, len);
	if (ver == 2) {
		put_le64(h + 40, XXH3_64bits(h + HDR, len));
		put_le64(h + 48, XXH3_64bits(h, 48));
	} else {
		unsigned char zero[32] = {0};
		XXH128_hash_t x = XXH3_128bits(h + HDR, len);

		put_le64(h + 40, x.low64);
		put_le64(h + 48, x.high64);
		assert_int_equal(ufs_hmac_sha256(zero, sizeof(zero), h, 56, h + 56), 0);
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, h, HDR + len), (ssize_t)(HDR + len));
	close(fd);
	free(h);
}

/* A block planted in format ver is never served: the read is byte-exact,
 * the block is fetched again; a forged current-format block is counted. */
static void check_planted(int ver)
{
	struct fx f;

	fx_init(&f, 3 * MIB, 16 * MIB, 64 * MIB);
	populate(&f, 3);
	forge(g_first, ver, 'X', MIB);
	fx_mount(&f);
	read_all(&f); /* asserts the bytes are the object's, not the forger's */
	assert_int_equal(ufs_memb_reads(f.be), 1);
	assert_int_equal(stats(&f).disk_checksum_failures, ver == 3 ? 1 : 0);
	assert_int_equal(stats(&f).disk_hits, 2);
	fx_umount(&f);
	fx_fini(&f);
}

static void test_planted_unkeyed_block_refused(void **state)
{
	(void)state;
	check_planted(2);
}

static void test_planted_guessed_key_block_refused(void **state)
{
	(void)state;
	check_planted(3);
}

static void test_dir_swapped_after_open(void **state)
{
	struct fx f;
	char old[80];

	(void)state;
	fx_init(&f, 6 * MIB, 16 * MIB, 64 * MIB);
	populate(&f, 6);
	fx_mount(&f);
	/* the path now names another directory (empty; an attacker's, say) */
	snprintf(old, sizeof(old), "%s.old", f.dir);
	assert_int_equal(rename(f.dir, old), 0);
	assert_int_equal(mkdir(f.dir, 0700), 0);
	read_all(&f);
	/* served from the directory opened at mount, not looked up again */
	assert_int_equal(stats(&f).disk_hits, 6);
	assert_int_equal(ufs_memb_reads(f.be), 0);
	fx_umount(&f);
	assert_int_equal(count_files(f.dir), 0);
	rm_tree(old);
	fx_fini(&f);
}

static void test_symlink_dir_refused(void **state)
{
	struct ufs_budget *b = ufs_budget_create(16 * MIB);
	struct ufs_cache *c = NULL;
	char dir[64] = "/tmp/ufs-test-disk-XXXXXX", link[80], err[256] = "";

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s.link", dir);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(try_cache(link, b, &c, err, sizeof(err)), -ENOTDIR);
	assert_null(c);
	assert_non_null(strstr(err, "symbolic link"));
	unlink(link);
	rm_tree(dir);
	ufs_budget_destroy(b);
}

static void test_secret_private_and_replaced_when_exposed(void **state)
{
	struct fx f;
	struct stat st;
	char path[96];

	(void)state;
	fx_init(&f, 2 * MIB, 16 * MIB, 64 * MIB);
	populate(&f, 2);
	snprintf(path, sizeof(path), "%s/secret", f.dir);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(st.st_size, 224);
	/* readable by others: it may be known, so it is replaced, and the
	 * blocks keyed with it are refetched (counted) */
	assert_int_equal(chmod(path, 0644), 0);
	fx_mount(&f);
	read_all(&f);
	assert_int_equal(stats(&f).disk_checksum_failures, 2);
	assert_int_equal(ufs_memb_reads(f.be), 2);
	fx_umount(&f);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fx_fini(&f);
}

/* ---- fills off the read path: a slow disk never holds a reader ---- */

/* A job that holds the disk writer thread until released: a disk that does
 * not keep up at all. */
struct stall {
	struct ufs_job job;
	pthread_mutex_t m;
	pthread_cond_t cv;
	int started, go;
};

static void stall_run(struct ufs_job *j, int cancelled)
{
	struct stall *st = (struct stall *)j;

	(void)cancelled;
	pthread_mutex_lock(&st->m);
	st->started = 1;
	pthread_cond_broadcast(&st->cv);
	while (!st->go)
		pthread_cond_wait(&st->cv, &st->m);
	pthread_mutex_unlock(&st->m);
}

struct reader {
	struct fx *f;
	pthread_mutex_t m;
	pthread_cond_t cv;
	int done;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	read_all(r->f);
	pthread_mutex_lock(&r->m);
	r->done = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->m);
	return NULL;
}

/* Whether the reader finished within secs. */
static int reader_wait(struct reader *r, int secs)
{
	struct timespec ts;
	int done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&r->m);
	while (!r->done && pthread_cond_timedwait(&r->cv, &r->m, &ts) == 0)
		;
	done = r->done;
	pthread_mutex_unlock(&r->m);
	return done;
}

/* Blocks the fill queue has seen: queued now, skipped or stored. */
static uint64_t fills_seen(struct fx *f)
{
	struct ufs_cache_stats st = stats(f);

	return st.disk_fill_pending + st.disk_fill_skips + st.disk_fill_evicted + st.disk_fills;
}

static void test_stalled_disk_never_holds_reader(void **state)
{
	struct fx f;
	struct stall st = {.job = {.run = stall_run}};
	struct reader r = {.f = &f};
	pthread_t t;
	uint64_t pending, skips;
	int done;

	(void)state;
	pthread_mutex_init(&st.m, NULL);
	pthread_cond_init(&st.cv, NULL);
	pthread_mutex_init(&r.m, NULL);
	pthread_cond_init(&r.cv, NULL);
	fx_init(&f, 24 * MIB, 32 * MIB, 256 * MIB); /* fill queue bound: 16 blocks */
	fx_mount(&f);
	assert_int_equal(ufs_pool_submit(f.c->disk_pool, &st.job), 0);
	pthread_mutex_lock(&st.m);
	while (!st.started)
		pthread_cond_wait(&st.cv, &st.m);
	pthread_mutex_unlock(&st.m);
	assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
	done = reader_wait(&r, 20);
	/* a read-ahead job may queue its block just after the reader used it */
	for (int i = 0; done && i < 500 && fills_seen(&f) < 24; i++)
		usleep(10000);
	assert_int_equal(stats(&f).disk_fill_evicted, 0); /* 24 MiB stay in 32 MiB of memory */
	pending = stats(&f).disk_fill_pending;
	skips = stats(&f).disk_fill_skips;
	pthread_mutex_lock(&st.m); /* release the writer (also when failing) */
	st.go = 1;
	pthread_cond_broadcast(&st.cv);
	pthread_mutex_unlock(&st.m);
	pthread_join(t, NULL);
	assert_true(done); /* the whole read ran while no fill could be stored */
	assert_int_equal(pending + skips, 24);	       /* nothing stored while stalled */
	assert_true(pending <= 16);		       /* the queue's bound */
	assert_true(skips >= 8);		       /* the rest skipped and counted */
	fx_umount(&f);				       /* drains the queue */
	assert_int_equal(count_files(f.dir), pending); /* what was queued got stored */
	fx_fini(&f);
	pthread_cond_destroy(&st.cv);
	pthread_mutex_destroy(&st.m);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.m);
}

/* Pages of path resident in the page cache. */
static size_t resident_pages(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	size_t pages, n = 0;
	unsigned char *vec;
	void *p;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	pages = ((size_t)st.st_size + 4095) / 4096;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	vec = calloc(pages, 1);
	assert_int_equal(mincore(p, (size_t)st.st_size, vec), 0);
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	munmap(p, (size_t)st.st_size);
	close(fd);
	return n;
}

static size_t g_resident;

static int resident_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t n = strlen(path);

	(void)st;
	(void)ftw;
	if (flag == FTW_F && n > 4 && strcmp(path + n - 4, ".blk") == 0)
		g_resident += resident_pages(path);
	return 0;
}

static void test_fills_leave_no_page_cache(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 3 * MIB + 5000, 16 * MIB, 64 * MIB); /* a short last block too */
	rm_tree(f.dir);
	strcpy(f.dir, "/var/tmp/ufs-test-disk-XXXXXX"); /* a disk, not tmpfs */
	assert_non_null(mkdtemp(f.dir));
	populate(&f, 4);
	g_resident = 0;
	nftw(f.dir, resident_entry, 16, FTW_PHYS);
	assert_int_equal(g_resident, 0); /* direct I/O (or written back and dropped) */
	fx_mount(&f);			 /* and they read back verified */
	read_all(&f);
	assert_int_equal(stats(&f).disk_hits, 4);
	fx_umount(&f);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_survives_remount),
	    cmocka_unit_test(test_flipped_byte_refetched),
	    cmocka_unit_test(test_truncated_file_refetched),
	    cmocka_unit_test(test_garbage_header_refetched),
	    cmocka_unit_test(test_old_format_is_a_miss),
	    cmocka_unit_test(test_size_bound),
	    cmocka_unit_test(test_wiped_while_mounted),
	    cmocka_unit_test(test_new_version_misses_disk),
	    cmocka_unit_test(test_offline_read_with_last_identity),
	    cmocka_unit_test(test_unusable_dir_is_an_error),
	    cmocka_unit_test(test_unsafe_dir_refused),
	    cmocka_unit_test(test_second_daemon_refused),
	    cmocka_unit_test(test_only_dead_writers_tmp_removed),
	    cmocka_unit_test(test_full_fs_evicts_and_serves),
	    cmocka_unit_test(test_listing_kept),
	    cmocka_unit_test(test_planted_unkeyed_block_refused),
	    cmocka_unit_test(test_planted_guessed_key_block_refused),
	    cmocka_unit_test(test_dir_swapped_after_open),
	    cmocka_unit_test(test_symlink_dir_refused),
	    cmocka_unit_test(test_secret_private_and_replaced_when_exposed),
	    cmocka_unit_test(test_stalled_disk_never_holds_reader),
	    cmocka_unit_test(test_fills_leave_no_page_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
