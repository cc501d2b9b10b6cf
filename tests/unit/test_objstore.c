/*
 * test_objstore.c — the helpers shared by the S3 and Azure Blob backends
 * (protocols/objstore.h): prefix normalisation, ETag stripping, HTTP dates
 * and POSIX name checks, with the inputs each service actually sends.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/objstore.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_norm_prefix),
	    cmocka_unit_test(test_etag_strip),
	    cmocka_unit_test(test_http_date),
	    cmocka_unit_test(test_name_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
