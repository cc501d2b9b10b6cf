/*
 * test_uri.c — the pure parts of protocols/http.c: percent-encoding of object
 * keys, decoding, the one status -> errno map, retry classification, XML
 * error bodies and header lists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/http/http.h"

static void check_enc(const char *in, int keep_slash, const char *want)
{
	char *got = ufs_uri_encode(in, strlen(in), keep_slash);
	char *back;

	assert_non_null(got);
	assert_string_equal(got, want);
	back = ufs_uri_decode(got, strlen(got));
	assert_non_null(back);
	assert_string_equal(back, in);
	free(got);
	free(back);
}

static void test_encode(void **state)
{
	(void)state;
	check_enc("", 1, "");
	check_enc("-._~AZaz09", 0, "-._~AZaz09");
	check_enc("dir/a b+c", 1, "dir/a%20b%2Bc");
	check_enc("dir/a b+c", 0, "dir%2Fa%20b%2Bc");
	check_enc("100%?x=y&z", 1, "100%25%3Fx%3Dy%26z");
	check_enc("caf\xc3\xa9 \xe2\x98\xba", 1, "caf%C3%A9%20%E2%98%BA");
	check_enc("\x01\x7f\xff", 1, "%01%7F%FF");
	check_enc("a*b'c(d)e!f,g;h:i@j$k", 1, "a%2Ab%27c%28d%29e%21f%2Cg%3Bh%3Ai%40j%24k");
}

static void test_decode(void **state)
{
	char *s;

	(void)state;
	s = ufs_uri_decode("a%2fb%2Fc+d", 11);
	assert_string_equal(s, "a/b/c+d");
	free(s);
	s = ufs_uri_decode("abc", 2);
	assert_string_equal(s, "ab");
	free(s);
	assert_null(ufs_uri_decode("a%2", 3));
	assert_null(ufs_uri_decode("a%", 2));
	assert_null(ufs_uri_decode("a%zz", 4));
	assert_null(ufs_uri_decode("%2g", 3));
}

static void test_status_map(void **state)
{
	(void)state;
	assert_int_equal(ufs_http_status_errno(200), 0);
	assert_int_equal(ufs_http_status_errno(204), 0);
	assert_int_equal(ufs_http_status_errno(206), 0);
	assert_int_equal(ufs_http_status_errno(400), -EINVAL);
	assert_int_equal(ufs_http_status_errno(401), -EACCES);
	assert_int_equal(ufs_http_status_errno(403), -EACCES);
	assert_int_equal(ufs_http_status_errno(404), -ENOENT);
	assert_int_equal(ufs_http_status_errno(409), -EEXIST);
	assert_int_equal(ufs_http_status_errno(412), -ESTALE);
	assert_int_equal(ufs_http_status_errno(416), -ERANGE);
	assert_int_equal(ufs_http_status_errno(500), -EIO);
	assert_int_equal(ufs_http_status_errno(503), -EIO);
	assert_int_equal(ufs_http_status_errno(301), -EIO);

	assert_true(ufs_http_status_retryable(500, ""));
	assert_true(ufs_http_status_retryable(503, "SlowDown"));
	assert_true(ufs_http_status_retryable(429, NULL));
	assert_true(ufs_http_status_retryable(400, "RequestTimeout"));
	assert_false(ufs_http_status_retryable(404, "NoSuchKey"));
	assert_false(ufs_http_status_retryable(403, "AccessDenied"));
	assert_false(ufs_http_status_retryable(412, NULL));
}

static void test_parse_error(void **state)
{
	const char *s3 =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
	    "<Message>The specified bucket does not exist</Message>"
	    "<BucketName>x</BucketName></Error>";
	const char *az = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"
			 "<Code>BlobNotFound</Code><Message>The specified blob does not exist.\n"
			 "RequestId:1</Message></Error>";
	char code[8], msg[256];

	(void)state;
	assert_int_equal(ufs_http_parse_error(s3, strlen(s3), code, sizeof(code), msg, sizeof(msg)),
			 0);
	assert_string_equal(code, "NoSuchB"); /* truncated to the buffer */
	assert_string_equal(msg, "The specified bucket does not exist");
	assert_int_equal(ufs_http_parse_error(az, strlen(az), code, sizeof(code), msg, sizeof(msg)),
			 0);
	assert_string_equal(code, "BlobNot");
	assert_int_equal(strncmp(msg, "The specified blob does not exist.", 34), 0);
	assert_int_equal(
	    ufs_http_parse_error("<html>oops</html>", 17, code, sizeof(code), msg, sizeof(msg)),
	    -EIO);
	assert_string_equal(code, "");
	assert_int_equal(
	    ufs_http_parse_error("<Error><Code>", 13, code, sizeof(code), msg, sizeof(msg)), -EIO);
	assert_int_equal(ufs_http_parse_error(NULL, 0, code, sizeof(code), msg, sizeof(msg)), -EIO);
}

static void test_headers(void **state)
{
	struct ufs_http_hdrs h = {0};

	(void)state;
	assert_null(ufs_http_hdrs_get(&h, "ETag"));
	assert_int_equal(ufs_http_hdrs_add(&h, "ETag: \"%s\"", "abc"), 0);
	assert_int_equal(ufs_http_hdrs_add(&h, "Content-Length:\t12"), 0);
	assert_int_equal(ufs_http_hdrs_add(&h, "x-amz-meta-x: 1"), 0);
	assert_string_equal(ufs_http_hdrs_get(&h, "etag"), "\"abc\"");
	assert_string_equal(ufs_http_hdrs_get(&h, "CONTENT-LENGTH"), "12");
	assert_null(ufs_http_hdrs_get(&h, "x-amz-meta"));
	assert_null(ufs_http_hdrs_get(&h, "Content"));
	ufs_http_hdrs_clear(&h);
	assert_int_equal(h.n, 0);
	assert_null(ufs_http_hdrs_get(&h, "ETag"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode),     cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_status_map), cmocka_unit_test(test_parse_error),
	    cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
