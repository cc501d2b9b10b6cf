/*
 * test_objstore.c — the object-store layer (protocols/objstore/): its pure
 * helpers (prefix normalisation, ETag stripping, HTTP dates, POSIX name
 * checks) with the inputs each service actually sends, and its POSIX
 * semantics over the in-memory store (helper_membackend.h) with S3-style and
 * Azure-style directory markers: getattr, listings with de-duplication,
 * mkdir/rmdir/unlink/rename errnos, statfs, the writer, owner/mode options.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <cmocka.h>

#include "helper_membackend.h"
#include "protocols/objstore/objstore.h"

static void expect_prefix(const char *in, const char *want)
{
	char *p = ufs_os_norm_prefix(in);

	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);
}

static void test_norm_prefix(void **state)
{
	(void)state;
	expect_prefix("", "");
	expect_prefix("/", "");
	expect_prefix("///", "");
	expect_prefix("a", "a/");
	expect_prefix("/a", "a/");
	expect_prefix("a/", "a/");
	expect_prefix("/a//b/", "a/b/");
	expect_prefix("a//b///c", "a/b/c/");
	expect_prefix("x y/é/", "x y/é/");
}

static void expect_etag(const char *in, const char *want)
{
	char tag[UFS_ETAG_MAX];

	memset(tag, 'Z', sizeof(tag));
	ufs_os_etag_strip(in, strlen(in), tag);
	assert_string_equal(tag, want);
}

static void test_etag_strip(void **state)
{
	char big[300], tag[UFS_ETAG_MAX];

	(void)state;
	expect_etag("\"abc-2\"", "abc-2");	 /* S3 multipart */
	expect_etag("W/\"x\" ", "x");		 /* weak, trailing blank */
	expect_etag("plain", "plain");		 /* unquoted (some servers) */
	expect_etag("\"0x8D9ABC\"", "0x8D9ABC"); /* Azure */
	expect_etag(" \"0x8D9ABC\" ", "0x8D9ABC");
	expect_etag("\"\"", "");
	expect_etag("", "");
	/* only len bytes are read */
	ufs_os_etag_strip("\"abc\"garbage", 5, tag);
	assert_string_equal(tag, "abc");
	/* truncated, NUL-terminated */
	memset(big, 'e', sizeof(big));
	ufs_os_etag_strip(big, sizeof(big), tag);
	assert_int_equal(strlen(tag), UFS_ETAG_MAX - 1);
}

static void test_http_date(void **state)
{
	struct timespec ts = {0, 123};

	(void)state;
	assert_int_equal(ufs_os_parse_http_date("Tue, 02 Jan 2024 03:04:05 GMT", &ts), 0);
	assert_int_equal(ts.tv_sec, 1704164645);
	assert_int_equal(ts.tv_nsec, 0);
	assert_int_equal(ufs_os_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &ts), 0);
	assert_int_equal(ts.tv_sec, 784111777);
	/* obsolete forms a recipient must accept (RFC 7231 7.1.1.1) */
	assert_int_equal(ufs_os_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &ts), 0);
	assert_int_equal(ts.tv_sec, 784111777);
	assert_int_equal(ufs_os_parse_http_date("Sun Nov  6 08:49:37 1994", &ts), 0);
	assert_int_equal(ts.tv_sec, 784111777);
	assert_int_equal(ufs_os_parse_http_date("yesterday", &ts), -EINVAL);
	assert_int_equal(ufs_os_parse_http_date("not a date", &ts), -EINVAL);
	assert_int_equal(ufs_os_parse_http_date("", &ts), -EINVAL);
}

static void test_name_ok(void **state)
{
	char longname[300];

	(void)state;
	assert_true(ufs_os_name_ok("a b+%?&é", strlen("a b+%?&é")));
	assert_true(ufs_os_name_ok("...", 3));
	assert_true(ufs_os_name_ok(".hidden", 7));
	assert_true(ufs_os_name_ok("..x", 3));
	assert_false(ufs_os_name_ok(".", 1));
	assert_false(ufs_os_name_ok("..", 2));
	assert_false(ufs_os_name_ok("", 0));
	assert_false(ufs_os_name_ok("a/b", 3));
	assert_false(ufs_os_name_ok("/", 1));  /* from a "dir//" key */
	assert_false(ufs_os_name_ok("a/", 2)); /* a key's trailing '/' */
	/* only len bytes count: "ab" of "ab/cd" */
	assert_true(ufs_os_name_ok("ab/cd", 2));
	memset(longname, 'x', sizeof(longname));
	assert_false(ufs_os_name_ok(longname, 256));
	assert_true(ufs_os_name_ok(longname, 255));
}

/* ---- the namespace over the in-memory store ---- */

static struct ufs_backend *mk_store(int azure, struct ufs_kv *kv, size_t n_kv)
{
	static struct ufs_mount_cfg m;
	struct ufs_backend *be = NULL;
	char err[200] = "";

	m = (struct ufs_mount_cfg){
	    .prefix = "/os", .url = "memos://b/pfx/", .kv = kv, .n_kv = n_kv};
	assert_int_equal(ufs_memos_create(&m, azure, 4, &be, err, sizeof(err)), 0);
	return be;
}

struct names {
	char name[16][32];
	uint32_t mode[16];
	int n;
};

static int names_cb(void *arg, const char *name, const struct ufs_attr *a)
{
	struct names *s = arg;

	assert_true(s->n < 16);
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
	s->mode[s->n++] = a->mode;
	return 0;
}

static int count_name(const struct names *s, const char *name, uint32_t *pmode)
{
	int hits = 0;

	for (int i = 0; i < s->n; i++) {
		if (strcmp(s->name[i], name) == 0) {
			hits++;
			*pmode = s->mode[i];
		}
	}
	return hits;
}

/* Drift fixed: a key that is both a file and a prefix is one file, in
 * getattr and in listings, on both marker styles. */
static void test_file_and_prefix_once(void **state)
{
	(void)state;
	for (int azure = 0; azure < 2; azure++) {
		struct ufs_backend *be = mk_store(azure, NULL, 0);
		struct names s = {0};
		struct ufs_attr a;
		uint32_t mode = 0;

		assert_int_equal(ufs_memos_put(be, "pfx/a", "xy", 2, 0), 0);
		assert_int_equal(ufs_memos_put(be, "pfx/a/x", "z", 1, 0), 0);
		assert_int_equal(ufs_memos_put(be, "pfx/d/y", "z", 1, 0), 0);
		assert_int_equal(ufs_be_list(be, "", names_cb, &s), 0);
		assert_int_equal(s.n, 2);
		assert_int_equal(count_name(&s, "a", &mode), 1);
		assert_int_equal(mode, S_IFREG | 0644);
		assert_int_equal(count_name(&s, "d", &mode), 1);
		assert_int_equal(mode, S_IFDIR | 0755);
		assert_int_equal(ufs_be_getattr(be, "a", &a), 0);
		assert_true(S_ISREG(a.mode));
		assert_int_equal(a.size, 2);
		assert_int_equal(ufs_be_getattr(be, "d", &a), 0);
		assert_true(S_ISDIR(a.mode));
		assert_int_equal(ufs_be_getattr(be, "nope", &a), -ENOENT);
		ufs_backend_destroy(be);
	}
}

/* A server that hands back one continuation token twice: EIO with a
 * message, after two pages, instead of paging forever. */
static void test_list_token_loop(void **state)
{
	struct ufs_backend *be = mk_store(0, NULL, 0);
	struct names s = {0};
	char msg[200];

	(void)state;
	assert_int_equal(ufs_memos_put(be, "pfx/a", "xy", 2, 0), 0);
	ufs_memos_stuck_token(be, 1);
	assert_int_equal(ufs_be_list(be, "", names_cb, &s), -EIO);
	ufs_be_last_error(be, msg, sizeof(msg));
	assert_non_null(strstr(msg, "repeated a continuation token"));
	ufs_memos_stuck_token(be, 0);
	s.n = 0;
	assert_int_equal(ufs_be_list(be, "", names_cb, &s), 0);
	assert_int_equal(s.n, 1);
	ufs_backend_destroy(be);
}

static void test_dirs(void **state)
{
	(void)state;
	for (int azure = 0; azure < 2; azure++) {
		struct ufs_backend *be = mk_store(azure, NULL, 0);
		struct names s = {0};
		struct ufs_attr a;

		assert_int_equal(ufs_be_mkdir(be, "d", 0700), 0);
		assert_true(ufs_memos_has(be, azure ? "pfx/d" : "pfx/d/"));
		assert_int_equal(ufs_be_mkdir(be, "d", 0700), -EEXIST);
		assert_int_equal(ufs_be_getattr(be, "d", &a), 0);
		assert_true(S_ISDIR(a.mode));
		assert_int_equal(ufs_be_list(be, "d", names_cb, &s), 0);
		assert_int_equal(s.n, 0); /* the marker is not an entry */
		assert_int_equal(ufs_memos_put(be, "pfx/d/f", "1", 1, 0), 0);
		assert_int_equal(ufs_be_rmdir(be, "d"), -ENOTEMPTY);
		assert_int_equal(ufs_be_rmdir(be, "d/f"), -ENOTDIR);
		assert_int_equal(ufs_be_unlink(be, "d"), -EISDIR);
		assert_int_equal(ufs_be_unlink(be, "d/f"), 0);
		assert_int_equal(ufs_be_rmdir(be, "d"), 0);
		assert_false(ufs_memos_has(be, "pfx/d"));
		assert_false(ufs_memos_has(be, "pfx/d/"));
		assert_int_equal(ufs_be_rmdir(be, "d"), -ENOENT);
		assert_int_equal(ufs_be_rmdir(be, ""), -EBUSY);
		assert_int_equal(ufs_be_list(be, "gone", names_cb, &s), -ENOENT);
		ufs_backend_destroy(be);
	}
}

/* Drift fixed: both stores refuse a directory destination; a directory
 * source is EXDEV (mv copies); NOREPLACE; EXCHANGE is EINVAL. */
static void test_rename(void **state)
{
	(void)state;
	for (int azure = 0; azure < 2; azure++) {
		struct ufs_backend *be = mk_store(azure, NULL, 0);
		char buf[8];
		struct ufs_obj o = {.path = "g", .size = 3};

		assert_int_equal(ufs_memos_put(be, "pfx/f", "abc", 3, 0), 0);
		assert_int_equal(ufs_memos_put(be, "pfx/h", "h", 1, 0), 0);
		assert_int_equal(ufs_be_mkdir(be, "d", 0755), 0);
		assert_int_equal(ufs_be_rename(be, "f", "d", 0), -EISDIR);
		assert_int_equal(ufs_be_rename(be, "d", "e", 0), -EXDEV);
		assert_int_equal(ufs_be_rename(be, "f", "h", 1), -EEXIST);
		assert_int_equal(ufs_be_rename(be, "f", "h", 2), -EINVAL);
		assert_int_equal(ufs_be_rename(be, "nope", "x", 0), -ENOENT);
		assert_int_equal(ufs_be_rename(be, "f", "g", 0), 0);
		assert_false(ufs_memos_has(be, "pfx/f"));
		assert_int_equal(ufs_be_read(be, &o, 0, sizeof(buf), buf), 3);
		assert_memory_equal(buf, "abc", 3);
		ufs_backend_destroy(be);
	}
}

/* Drift fixed: one f_namemax, the longest name a listing lets through. */
static void test_statfs(void **state)
{
	struct ufs_backend *be = mk_store(0, NULL, 0);
	struct statvfs st;
	char longname[300];

	(void)state;
	assert_int_equal(ufs_be_statfs(be, &st), 0);
	assert_int_equal(st.f_namemax, 255);
	memset(longname, 'x', sizeof(longname));
	assert_true(ufs_os_name_ok(longname, st.f_namemax));
	assert_false(ufs_os_name_ok(longname, st.f_namemax + 1));
	assert_int_equal((uint64_t)st.f_blocks * st.f_frsize, 1ULL << 50); /* 1 PiB */
	ufs_backend_destroy(be);
}

/* Writes cross several parts (4 bytes each here) and read back; O_EXCL. */
static void test_writer(void **state)
{
	(void)state;
	for (int azure = 0; azure < 2; azure++) {
		struct ufs_backend *be = mk_store(azure, NULL, 0);
		struct ufs_writer *w = NULL;
		struct ufs_obj o = {.path = "w"};
		struct ufs_attr a;
		char buf[32];

		assert_int_equal(ufs_be_open_writer(be, "w", O_CREAT | O_WRONLY, 0644, &w), 0);
		assert_int_equal(w->ops->pwrite(w, "hello ", 6, 0), 6);
		assert_int_equal(w->ops->pwrite(w, "x", 1, 9), -ESPIPE);
		assert_int_equal(w->ops->pwrite(w, "world!", 6, 6), 6);
		assert_int_equal(w->ops->close(w), 0);
		assert_int_equal(ufs_be_getattr(be, "w", &a), 0);
		assert_int_equal(a.size, 12);
		o.size = a.size;
		memcpy(o.etag, a.etag, sizeof(o.etag));
		assert_int_equal(ufs_be_read(be, &o, 0, sizeof(buf), buf), 12);
		assert_memory_equal(buf, "hello world!", 12);
		assert_int_equal(ufs_be_open_writer(be, "w", O_CREAT | O_EXCL | O_WRONLY, 0644, &w),
				 -EEXIST);
		/* a version changed under the pin */
		assert_int_equal(ufs_memos_put(be, "pfx/w", "new", 3, 0), 0);
		assert_int_equal(ufs_be_read(be, &o, 0, 4, buf), -ESTALE);
		ufs_backend_destroy(be);
	}
}

/* A writer given up on, or whose final put fails, while it still holds an
 * unsent part: the part's memory is released without a crash and the name
 * keeps what it had (regression: abort freed it through the destroyed
 * pipeline, a NULL dereference when an S3 server died mid-copy). */
static void test_writer_abort_unsent(void **state)
{
	(void)state;
	for (int azure = 0; azure < 2; azure++) {
		struct ufs_backend *be = mk_store(azure, NULL, 0);
		struct ufs_writer *w = NULL;

		assert_int_equal(ufs_be_open_writer(be, "a", O_CREAT | O_WRONLY, 0644, &w), 0);
		assert_int_equal(w->ops->pwrite(w, "abc", 3, 0), 3);
		w->ops->abort(w);
		assert_false(ufs_memos_has(be, "pfx/a"));
		/* the conditional put fails: close reports it and aborts */
		assert_int_equal(ufs_be_open_writer(be, "x", O_CREAT | O_EXCL | O_WRONLY, 0644, &w),
				 0);
		assert_int_equal(w->ops->pwrite(w, "mine", 4, 0), 4);
		assert_int_equal(ufs_memos_put(be, "pfx/x", "theirs", 6, 0), 0);
		assert_int_equal(w->ops->close(w), -EEXIST);
		assert_true(ufs_memos_has(be, "pfx/x"));
		ufs_backend_destroy(be);
	}
}

/* uid/gid/file_mode/dir_mode/umask say what every entry shows. */
static void test_owner_mode(void **state)
{
	struct ufs_kv kv[] = {
	    {"uid", "1000", 1}, {"gid", "100", 2}, {"umask", "027", 3}, {"dir_mode", "0711", 4}};
	struct ufs_backend *be = mk_store(0, kv, 4);
	struct ufs_attr a;

	(void)state;
	assert_int_equal(ufs_memos_put(be, "pfx/f", "1", 1, 0), 0);
	assert_int_equal(ufs_be_getattr(be, "f", &a), 0);
	assert_int_equal(a.mode, S_IFREG | 0640);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.gid, 100);
	assert_int_equal(ufs_be_getattr(be, "", &a), 0);
	assert_int_equal(a.mode, S_IFDIR | 0711);
	ufs_backend_destroy(be);

	be = mk_store(0, NULL, 0); /* defaults: the mounting user, 0644 / 0755 */
	assert_int_equal(ufs_be_getattr(be, "", &a), 0);
	assert_int_equal(a.mode, S_IFDIR | 0755);
	assert_int_equal(a.uid, UFS_UID_OWNER);
	ufs_backend_destroy(be);
}

static void test_owner_mode_errors(void **state)
{
	static const char *const bad[][2] = {
	    {"file_mode", "9"}, {"dir_mode", "010000"}, {"umask", "x"}, {"uid", "-1"}, {"gid", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ufs_kv kv = {(char *)bad[i][0], (char *)bad[i][1], 1};
		struct ufs_mount_cfg m = {
		    .prefix = "/os", .url = "memos://b/", .kv = &kv, .n_kv = 1};
		struct ufs_backend *be = NULL;
		char err[200] = "";

		assert_int_equal(ufs_memos_create(&m, 0, 4, &be, err, sizeof(err)), -EINVAL);
		assert_null(be);
		assert_non_null(strstr(err, "mount /os: "));
		assert_non_null(strstr(err, bad[i][0]));
		assert_null(strchr(err, '\n'));
	}
}

/* Object metadata: rclone/s3fs mtimes and the unifs xxh3 key; bad values
 * leave their field alone. */
static void test_meta_apply(void **state)
{
	struct ufs_attr a = {.mtime = {5, 6}};

	(void)state;
	assert_int_equal(ufs_os_meta_apply("1700000000.25", NULL, &a), 0);
	assert_int_equal(a.mtime.tv_sec, 1700000000);
	assert_int_equal(a.mtime.tv_nsec, 250000000);
	assert_int_equal(ufs_os_meta_apply("1600000000", NULL, &a), 0);
	assert_int_equal(a.mtime.tv_sec, 1600000000);
	assert_int_equal(a.mtime.tv_nsec, 0);
	assert_int_equal(ufs_os_meta_apply("12.1234567891", NULL, &a), 0);
	assert_int_equal(a.mtime.tv_nsec, 123456789);
	assert_int_equal(a.has_xxh3, 0);
	assert_int_equal(ufs_os_meta_apply(NULL, "00ff10A0000000000000000000000001", &a), 0);
	assert_int_equal(a.has_xxh3, 1);
	assert_int_equal(a.xxh3[0], 0x00);
	assert_int_equal(a.xxh3[1], 0xff);
	assert_int_equal(a.xxh3[3], 0xa0);
	assert_int_equal(a.xxh3[15], 0x01);

	struct ufs_attr b = {.mtime = {5, 6}};

	assert_int_equal(ufs_os_meta_apply("", NULL, &b), -EINVAL);
	assert_int_equal(ufs_os_meta_apply("-1", NULL, &b), -EINVAL);
	assert_int_equal(ufs_os_meta_apply("12x", NULL, &b), -EINVAL);
	assert_int_equal(ufs_os_meta_apply("99999999999999999999999", NULL, &b), -EINVAL);
	assert_int_equal(b.mtime.tv_sec, 5);
	assert_int_equal(b.mtime.tv_nsec, 6);
	assert_int_equal(ufs_os_meta_apply(NULL, "00ff", &b), -EINVAL);
	assert_int_equal(ufs_os_meta_apply(NULL, "g0000000000000000000000000000000", &b), -EINVAL);
	assert_int_equal(b.has_xxh3, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_norm_prefix),
	    cmocka_unit_test(test_etag_strip),
	    cmocka_unit_test(test_http_date),
	    cmocka_unit_test(test_name_ok),
	    cmocka_unit_test(test_file_and_prefix_once),
	    cmocka_unit_test(test_list_token_loop),
	    cmocka_unit_test(test_dirs),
	    cmocka_unit_test(test_rename),
	    cmocka_unit_test(test_statfs),
	    cmocka_unit_test(test_writer),
	    cmocka_unit_test(test_writer_abort_unsent),
	    cmocka_unit_test(test_owner_mode),
	    cmocka_unit_test(test_owner_mode_errors),
	    cmocka_unit_test(test_meta_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
