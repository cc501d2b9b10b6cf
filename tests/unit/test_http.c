/*
 * test_http.c — the pure checks of the HTTP transport (protocols/http/):
 * whether a 2xx answer fits the byte range the request asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "protocols/http/http.h"

static void test_range_ok(void **state)
{
	(void)state;
	/* not a range request: anything fits */
	assert_true(ufs_http_range_ok(NULL, 200, NULL, 10));
	/* the asked range */
	assert_true(ufs_http_range_ok("bytes=100-199", 206, "bytes 100-199/1000", 100));
	assert_true(ufs_http_range_ok("bytes=900-1099", 206, "bytes 900-999/1000", 100));
	/* a range that starts elsewhere (same length) is refused */
	assert_false(ufs_http_range_ok("bytes=100-199", 206, "bytes 0-99/1000", 100));
	/* length that does not match the body */
	assert_false(ufs_http_range_ok("bytes=100-199", 206, "bytes 100-199/1000", 99));
	/* 206 without a (parsable) Content-Range */
	assert_false(ufs_http_range_ok("bytes=100-199", 206, NULL, 100));
	assert_false(ufs_http_range_ok("bytes=100-199", 206, "bytes */1000", 100));
	assert_false(ufs_http_range_ok("bytes=100-199", 206, "bytes 199-100/1000", 100));
	/* 200: the server ignored the range; right only from offset 0 */
	assert_true(ufs_http_range_ok("bytes=0-99", 200, NULL, 100));
	assert_false(ufs_http_range_ok("bytes=100-199", 200, NULL, 100));
	/* found by tests/fuzz/fuzz_http: an end that wraps the length to 0
	 * accepted an empty body for any range starting at 0 ... */
	assert_false(ufs_http_range_ok("bytes=0-99", 206, "bytes 0-18446744073709551615/*", 0));
	assert_false(ufs_http_range_ok("bytes=0-99", 206, "bytes 0--1/100", 0));
	/* ... and sscanf's leniency let malformed values through */
	assert_false(ufs_http_range_ok("bytes=100-199", 206, "bytes100-199/1000", 100));
	assert_false(ufs_http_range_ok("bytes=100-199", 206, "bytes +100-199/1000", 100));
	assert_false(ufs_http_range_ok("bytes=100-199", 206, "bytes 100- 199/1000", 100));
	assert_true(ufs_http_range_ok("bytes=0-0", 206, "bytes 0-0/1", 1));
	/* the largest offsets parse exactly; one more overflows and is refused */
	assert_true(ufs_http_range_ok("bytes=18446744073709551615-", 206,
				      "bytes 18446744073709551615-18446744073709551615/*", 1));
	assert_false(ufs_http_range_ok("bytes=0-", 206, "bytes 0-18446744073709551616/*", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
