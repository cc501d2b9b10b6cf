/*
 * test_sign_azure.c — Azure Blob auth in protocols/azure/az_sign.c: the SharedKey
 * string-to-sign (built by hand from "Authorize with Shared Key", version
 * 2009-09-19+) and its HMAC-SHA256 signature (computed independently with
 * `openssl dgst -sha256 -mac HMAC` over the same string), the sign hooks,
 * base64 and HTTP dates, and the bearer token file reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "protocols/azure/az_sign.h"

/* Azurite's well-known development key (public, documented by Microsoft). */
#define AZURITE_KEY                                                                                \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"

static size_t load_key(unsigned char *key)
{
	int n = ufs_base64_decode(AZURITE_KEY, key, UFS_AZ_KEY_MAX);

	assert_int_equal(n, 64);
	return (size_t)n;
}

/* Build the string-to-sign of a request dated DATE, compare it and its
 * signature with the expected ones; frees h. */
static void check_vector(const char *method, const char *url, const char *account, uint64_t clen,
			 struct ufs_http_hdrs *h, const char *want_sts, const char *want_sig)
{
	struct ufs_http_hdrs x = {0};
	unsigned char key[UFS_AZ_KEY_MAX];
	char sig[UFS_AZ_SIG_LEN];
	char *sts;

	assert_int_equal(ufs_http_hdrs_add(&x, "x-ms-date: " DATE), 0);
	sts = ufs_az_string_to_sign(method, url, account, clen, h, &x);
	assert_non_null(sts);
	assert_string_equal(sts, want_sts);
	assert_int_equal(ufs_az_signature(key, load_key(key), sts, sig), 0);
	assert_string_equal(sig, want_sig);
	free(sts);
	ufs_http_hdrs_clear(h);
	ufs_http_hdrs_clear(&x);
}

/* List Blobs on a path-style endpoint: the account appears twice. */
static void test_sts_list_path_style(void **state)
{
	static const char want[] = "GET\n\n\n\n\n\n\n\n\n\n\n\n"
				   "x-ms-date:" DATE "\n"
				   "x-ms-version:2021-12-02\n"
				   "/devstoreaccount1/devstoreaccount1/mycontainer\n"
				   "comp:list\n"
				   "prefix:a b/\n"
				   "restype:container";
	struct ufs_http_hdrs h = {0};

	(void)state;
	assert_int_equal(ufs_http_hdrs_add(&h, "x-ms-version: 2021-12-02"), 0);
	check_vector("GET",
		     "http://127.0.0.1:10000/devstoreaccount1/mycontainer"
		     "?restype=container&comp=list&prefix=a%20b%2F",
		     "devstoreaccount1", 0, &h, want,
		     "S2V1fRspXu8isXqkE6SYJEekNCeHEMpT6MTc4RUjWks=");
}

/* Put Block with standard headers, repeated and untidy x-ms-* headers. */
static void test_sts_put_block(void **state)
{
	static const char want[] =
	    "PUT\n\n\n1024\n\napplication/octet-stream\n\n\n\"0x8D1\"\n\n\n\n"
	    "x-ms-blob-type:BlockBlob\n"
	    "x-ms-date:" DATE "\n"
	    "x-ms-meta-a:x y,z\n"
	    "x-ms-version:2021-12-02\n"
	    "/myaccount/c1/dir/a%20b%2B.txt\n"
	    "blockid:dWZzYjAwMDAwMDAx\n"
	    "comp:block";
	struct ufs_http_hdrs h = {0};

	(void)state;
	ufs_http_hdrs_add(&h, "x-ms-version: 2021-12-02");
	ufs_http_hdrs_add(&h, "Content-Type: application/octet-stream");
	ufs_http_hdrs_add(&h, "If-Match: \"0x8D1\"");
	ufs_http_hdrs_add(&h, "X-MS-Meta-A:  x   y ");
	ufs_http_hdrs_add(&h, "x-ms-blob-type: BlockBlob");
	ufs_http_hdrs_add(&h, "x-ms-meta-a: z");
	check_vector("PUT",
		     "https://myaccount.blob.core.windows.net/c1/dir/a%20b%2B.txt"
		     "?comp=block&blockid=dWZzYjAwMDAwMDAx",
		     "myaccount", 1024, &h, want, "9A6lU/r7rgH3IiMfPSaqj/V0mbpq5MZJ/nLyo2PFBts=");
}

static void test_sts_edge_cases(void **state)
{
	struct ufs_http_hdrs h = {0};
	char *sts;

	(void)state;
	ufs_http_hdrs_add(&h, "x-ms-date: " DATE);
	/* no path, no query */
	sts = ufs_az_string_to_sign("HEAD", "http://h:1", "acct", 0, &h, NULL);
	assert_non_null(sts);
	assert_string_equal(sts, "HEAD\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:" DATE "\n/acct/");
	free(sts);
	/* upper-case parameter names are lower-cased; repeated ones joined sorted */
	sts = ufs_az_string_to_sign("GET", "http://h/acct/c?RESTYPE=container&x=2&x=1&flag", "acct",
				    0, &h, NULL);
	assert_non_null(sts);
	assert_non_null(strstr(sts, "/acct/acct/c\nflag:\nrestype:container\nx:1,2"));
	free(sts);
	/* a malformed escape is refused rather than signed wrongly */
	assert_null(ufs_az_string_to_sign("GET", "http://h/c?prefix=%zz", "acct", 0, &h, NULL));
	assert_null(ufs_az_string_to_sign("GET", "no-scheme", "acct", 0, &h, NULL));
	ufs_http_hdrs_clear(&h);
}

static void test_base64_and_date(void **state)
{
	unsigned char buf[8];
	char out[16], date[UFS_HTTP_DATE_LEN];

	(void)state;
	assert_int_equal(ufs_base64_encode("abcd", 4, out, sizeof(out)), 8);
	assert_string_equal(out, "YWJjZA==");
	assert_int_equal(ufs_base64_decode("YWJjZA==", buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(ufs_base64_decode("YWJjZGU=", buf, sizeof(buf)), 5);
	assert_int_equal(ufs_base64_decode("YWJj", buf, sizeof(buf)), 3);
	assert_int_equal(ufs_base64_decode("YWJ", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ufs_base64_decode("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ufs_base64_decode("!!!!", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ufs_base64_decode("YWJjZGVmZ2hpamts", buf, sizeof(buf)), -ENOSPC);
	assert_int_equal(ufs_base64_encode("abcdefghijkl", 12, out, 16), -ENOSPC);

	ufs_http_date(784111777, date);
	assert_string_equal(date, DATE);
}

/* The SharedKey hook signs what it sends: recompute from its own date. */
static void test_sharedkey_hook(void **state)
{
	struct ufs_az_cred c = {.account = "devstoreaccount1"};
	struct ufs_http_req req = {0};
	struct ufs_http_hdrs auth = {0};
	char sig[UFS_AZ_SIG_LEN], want[128];
	const char *date, *got;
	char *sts;

	(void)state;
	c.key_len = load_key(c.key);
	req.method = "PUT";
	req.url = "http://127.0.0.1:10000/devstoreaccount1/c/b%20x?comp=block&blockid=QUJD";
	req.body = "hello";
	req.body_len = 5;
	ufs_http_hdrs_add(&req.headers, "x-ms-version: 2021-12-02");
	assert_int_equal(ufs_az_sign_sharedkey(&c, &req, &auth), 0);
	date = ufs_http_hdrs_get(&auth, "x-ms-date");
	got = ufs_http_hdrs_get(&auth, "Authorization");
	assert_non_null(date);
	assert_non_null(got);
	assert_int_equal(strlen(date), 29);
	sts = ufs_az_string_to_sign("PUT", req.url, "devstoreaccount1", 5, &req.headers, &auth);
	assert_non_null(sts);
	assert_non_null(strstr(sts, "PUT\n\n\n5\n"));
	assert_int_equal(ufs_az_signature(c.key, c.key_len, sts, sig), 0);
	snprintf(want, sizeof(want), "SharedKey devstoreaccount1:%s", sig);
	assert_string_equal(got, want);
	free(sts);
	ufs_http_hdrs_clear(&auth);
	ufs_http_hdrs_clear(&req.headers);

	/* anonymous / SAS: a date and nothing else */
	assert_int_equal(ufs_az_sign_none(NULL, &req, &auth), 0);
	assert_int_equal(auth.n, 1);
	assert_non_null(ufs_http_hdrs_get(&auth, "x-ms-date"));
	ufs_http_hdrs_clear(&auth);
}

static void write_token(const char *path, const char *tok, time_t mtime)
{
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(tok, f);
	fclose(f);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_bearer_reload(void **state)
{
	char path[] = "/tmp/ufs-az-tokenXXXXXX";
	struct ufs_az_cred c = {.account = "acct"};
	struct ufs_http_req req = {.method = "GET", .url = "http://h/acct/c"};
	struct ufs_http_hdrs auth = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	pthread_mutex_init(&c.lock, NULL);
	c.token_file = path;
	write_token(path, "  tok-one \n", 1000);
	assert_int_equal(ufs_az_sign_bearer(&c, &req, &auth), 0);
	assert_string_equal(ufs_http_hdrs_get(&auth, "Authorization"), "Bearer tok-one");
	ufs_http_hdrs_clear(&auth);

	write_token(path, "tok-two", 2000); /* a refresher rewrote it */
	assert_int_equal(ufs_az_sign_bearer(&c, &req, &auth), 0);
	assert_string_equal(ufs_http_hdrs_get(&auth, "Authorization"), "Bearer tok-two");
	ufs_http_hdrs_clear(&auth);

	write_token(path, "tok-three", 2500); /* rewritten readable by others */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ufs_az_sign_bearer(&c, &req, &auth), -EACCES);
	ufs_http_hdrs_clear(&auth);
	assert_int_equal(chmod(path, 0600), 0);

	write_token(path, "\n", 3000); /* empty: refused, not sent */
	assert_int_equal(ufs_az_sign_bearer(&c, &req, &auth), -EACCES);
	ufs_http_hdrs_clear(&auth);
	unlink(path);
	assert_int_equal(ufs_az_sign_bearer(&c, &req, &auth), -EACCES);
	ufs_http_hdrs_clear(&auth);
	free(c.token);
	pthread_mutex_destroy(&c.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sts_list_path_style), cmocka_unit_test(test_sts_put_block),
	    cmocka_unit_test(test_sts_edge_cases),	cmocka_unit_test(test_base64_and_date),
	    cmocka_unit_test(test_sharedkey_hook),	cmocka_unit_test(test_bearer_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
