/* test_nfs_url.c — ufs_nfs_url_parse(): server, path decoding, version, args. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/backend.h"
#include "protocols/nfs/nfs_i.h"

static void parse_ok(const char *url, const char *server, const char *path, int version,
		     const char *args)
{
	struct ufs_nfs_url u;
	char err[256] = "";

	assert_int_equal(ufs_nfs_url_parse(url, &u, err, sizeof(err)), 0);
	assert_string_equal(u.server, server);
	assert_string_equal(u.path, path);
	assert_int_equal(u.version, version);
	assert_string_equal(u.args, args);
	ufs_nfs_url_free(&u);
}

/* Parsing fails with -EINVAL and a message holding want. */
static void parse_bad(const char *url, const char *want)
{
	struct ufs_nfs_url u;
	char err[256] = "";

	assert_int_equal(ufs_nfs_url_parse(url, &u, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("'%s': message '%s' lacks '%s'", url, err, want);
	assert_null(u.server);
	assert_null(u.path);
}

static void test_plain(void **state)
{
	(void)state;
	parse_ok("nfs://127.0.0.1/export", "127.0.0.1", "/export", 3, "");
	parse_ok("nfs://filer.example/export/datasets/", "filer.example", "/export/datasets", 3,
		 "");
	parse_ok("nfs://srv/", "srv", "/", 3, "");
	parse_ok("nfs://srv//", "srv", "/", 3, "");
}

static void test_decoding(void **state)
{
	(void)state;
	parse_ok("nfs://srv/data%20set/a%2Bb", "srv", "/data set/a+b", 3, "");
	parse_ok("nfs://srv/%C3%BCnic%C3%B6de", "srv", "/ünicöde", 3, "");
	parse_ok("nfs://srv/100%25", "srv", "/100%", 3, "");
	parse_bad("nfs://srv/bad%zz", "escape");
	parse_bad("nfs://srv/nul%00byte", "escape");
	parse_bad("nfs://srv/trailing%2", "escape");
}

static void test_version_and_args(void **state)
{
	(void)state;
	parse_ok("nfs://srv/export?version=4", "srv", "/export", 4, "version=4");
	parse_ok("nfs://srv/export?version=3", "srv", "/export", 3, "version=3");
	parse_ok("nfs://srv/export?uid=0&gid=0&version=4&nfsport=2049", "srv", "/export", 4,
		 "uid=0&gid=0&version=4&nfsport=2049");
	parse_ok("nfs://srv/e?tcp-syncnt=2&mountport=20048&autoreconnect=0", "srv", "/e", 3,
		 "tcp-syncnt=2&mountport=20048&autoreconnect=0");
	parse_bad("nfs://srv/export?version=2", "version must be 3 or 4");
	parse_bad("nfs://srv/export?version=41", "version must be 3 or 4");
	parse_bad("nfs://srv/export?vers=4", "unknown NFS URL argument 'vers'");
	parse_bad("nfs://srv/export?version", "malformed");
	parse_bad("nfs://srv/export?uid=", "malformed");
}

static void test_malformed(void **state)
{
	(void)state;
	parse_bad("s3://bucket/x", "not an nfs:// URL");
	parse_bad("nfs://", "expected nfs://server/export");
	parse_bad("nfs://srv", "expected nfs://server/export");
	parse_bad("nfs:///export", "expected nfs://server/export");
	parse_bad("nfs://srv?version=4/export", "expected nfs://server/export");
	parse_bad("nfs://user@srv/export", "expected nfs://server/export");
}

/* create() reports URL errors naming the mount, without any network I/O. */
static void test_create_message(void **state)
{
	struct ufs_mount_cfg m = {.prefix = "/data/nfs", .url = "nfs://srv/e?version=5"};
	struct ufs_config g = {.op_timeout = 1};
	struct ufs_backend *be = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(ufs_nfs_ops.create(&m, &g, &be, err, sizeof(err)), -EINVAL);
	assert_null(be);
	assert_non_null(strstr(err, "mount /data/nfs: "));
	assert_non_null(strstr(err, "version"));

	m.url = "nfs://127.0.0.1/export?version=4";
	assert_int_equal(ufs_nfs_ops.create(&m, &g, &be, err, sizeof(err)), 0);
	assert_non_null(be);
	assert_string_equal(be->name, "/data/nfs");
	ufs_nfs_ops.destroy(be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_decoding),
	    cmocka_unit_test(test_version_and_args),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_create_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
