/*
 * test_sign.c — AWS SigV4 against the AWS SigV4 test suite (tests/data/aws-sigv4,
 * Apache-2.0, see its LICENSE/NOTICE) and the S3 worked example from AWS's
 * documentation.
 *
 * Every case directory is run in header-auth mode: the canonical request, the
 * string to sign and the Authorization header must match the suite's files
 * byte for byte. Supported context flags: normalize (dot/empty segment
 * removal), sign_body (x-amz-content-sha256 signed), session token and
 * omit_session_token. Not covered: the suite's query-auth (presigned URL)
 * files — unifs signs headers only, so query-*.txt are not compared.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/sign.h"

static char *read_whole(const char *dir, const char *name)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Value of "key": "string" in a flat JSON text, copied into out; 0 or -1. */
static int json_str(const char *json, const char *key, char *out, size_t size)
{
	char pat[128];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (!p)
		return -1;
	p = strchr(p + strlen(pat), '"');
	if (!p)
		return -1;
	e = strchr(p + 1, '"');
	assert_non_null(e);
	snprintf(out, size, "%.*s", (int)(e - p - 1), p + 1);
	return 0;
}

/* Value of "key": true|false; def when absent. */
static int json_bool(const char *json, const char *key, int def)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		return def;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return strncmp(p, "true", 4) == 0;
}

struct parsed_req {
	char method[16];
	char path[512];
	char query[1024];
	struct ufs_http_hdrs hdrs;
	const char *body;
	size_t body_len;
};

/* Parse the suite's request.txt: request line, headers (folded lines joined
 * with a blank), blank line, body. */
static void parse_request(char *text, struct parsed_req *r)
{
	char *line = text, *nl, *uri, *end, *q;

	memset(r, 0, sizeof(*r));
	nl = strchr(line, '\n');
	assert_non_null(nl);
	*nl = '\0';
	uri = strchr(line, ' ');
	end = strstr(line, " HTTP/");
	assert_non_null(uri);
	assert_non_null(end);
	snprintf(r->method, sizeof(r->method), "%.*s", (int)(uri - line), line);
	uri++;
	q = memchr(uri, '?', (size_t)(end - uri));
	snprintf(r->path, sizeof(r->path), "%.*s", (int)((q ? q : end) - uri), uri);
	if (q)
		snprintf(r->query, sizeof(r->query), "%.*s", (int)(end - q - 1), q + 1);
	for (line = nl + 1; *line && *line != '\n'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		if ((*line == ' ' || *line == '\t') && r->hdrs.n > 0) {
			char *prev = r->hdrs.line[r->hdrs.n - 1];

			r->hdrs.n--;
			assert_int_equal(
			    ufs_http_hdrs_add(&r->hdrs, "%s %.*s", prev, (int)(nl - line), line),
			    0);
			free(prev);
		} else {
			assert_int_equal(
			    ufs_http_hdrs_add(&r->hdrs, "%.*s", (int)(nl - line), line), 0);
		}
		if (!*nl)
			return;
	}
	if (*line == '\n') {
		r->body = line + 1;
		r->body_len = strlen(line + 1);
	}
}

/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
static void iso_to_amz(const char *iso, char out[UFS_AMZ_DATE_LEN])
{
	size_t o = 0;

	for (const char *p = iso; *p && o < UFS_AMZ_DATE_LEN - 1; p++)
		if (*p != '-' && *p != ':')
			out[o++] = *p;
	out[o] = '\0';
}

static char *authz_of(char *signed_req)
{
	char *p = strstr(signed_req, "\nAuthorization:");
	char *e;

	assert_non_null(p);
	p += strlen("\nAuthorization:");
	e = strchr(p, '\n');
	if (e)
		*e = '\0';
	return p;
}

/* Run one case directory; returns 1 when it was run. */
static int run_case(const char *dir)
{
	char *ctx = read_whole(dir, "context.json"), *reqtxt = read_whole(dir, "request.txt");
	char *creq = read_whole(dir, "header-canonical-request.txt");
	char *sts = read_whole(dir, "header-string-to-sign.txt");
	char *sreq = read_whole(dir, "header-signed-request.txt");
	char ak[64], sk[128], token[1024], region[32], service[32], iso[32];
	char amz[UFS_AMZ_DATE_LEN], hash[UFS_SHA256_HEX_LEN];
	struct parsed_req r;
	struct ufs_sigv4_out out;
	int has_token;

	if (!ctx || !reqtxt || !creq || !sts || !sreq) {
		print_message("%s: incomplete case directory\n", dir);
		fail();
	}
	assert_int_equal(json_str(ctx, "access_key_id", ak, sizeof(ak)), 0);
	assert_int_equal(json_str(ctx, "secret_access_key", sk, sizeof(sk)), 0);
	assert_int_equal(json_str(ctx, "region", region, sizeof(region)), 0);
	assert_int_equal(json_str(ctx, "service", service, sizeof(service)), 0);
	assert_int_equal(json_str(ctx, "timestamp", iso, sizeof(iso)), 0);
	has_token = json_str(ctx, "token", token, sizeof(token)) == 0;
	iso_to_amz(iso, amz);
	parse_request(reqtxt, &r);
	ufs_sha256_hex(r.body ? r.body : "", r.body_len, hash);

	struct ufs_sigv4_key k = {ak, sk, has_token ? token : NULL, region, service};
	struct ufs_sigv4_req sr = {
	    .method = r.method,
	    .path = r.path,
	    .query = r.query,
	    .headers = &r.hdrs,
	    .payload_hash = hash,
	    .amz_date = amz,
	    .normalize_path = json_bool(ctx, "normalize", 1),
	    .content_sha_header = json_bool(ctx, "sign_body", 0),
	    .omit_token = json_bool(ctx, "omit_session_token", 0),
	};

	assert_int_equal(ufs_sigv4_sign(&sr, &k, &out), 0);
	if (strcmp(out.canonical_request, creq) != 0)
		print_message("%s: canonical request\n--- got\n%s\n--- want\n%s\n", dir,
			      out.canonical_request, creq);
	assert_string_equal(out.canonical_request, creq);
	assert_string_equal(out.string_to_sign, sts);
	assert_string_equal(out.authorization, authz_of(sreq));
	ufs_sigv4_out_free(&out);
	ufs_http_hdrs_clear(&r.hdrs);
	free(ctx);
	free(reqtxt);
	free(creq);
	free(sts);
	free(sreq);
	return 1;
}

static void test_aws_suite(void **state)
{
	const char *data = getenv("UFS_TEST_DATA");
	char root[1024], dir[1536];
	struct dirent *de;
	DIR *d;
	int ran = 0;

	(void)state;
	assert_non_null(data);
	snprintf(root, sizeof(root), "%s/aws-sigv4", data);
	d = opendir(root);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "LICENSE") == 0 ||
		    strcmp(de->d_name, "NOTICE") == 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		ran += run_case(dir);
	}
	closedir(d);
	print_message("aws-sigv4: %d cases signed and compared\n", ran);
	assert_true(ran >= 35);
}

/* The GET Object example of AWS's "Signature Calculations for the
 * Authorization Header" (S3 SigV4) documentation. */
static void test_s3_worked_example(void **state)
{
	struct ufs_http_hdrs h = {0};
	struct ufs_sigv4_key k = {"AKIAIOSFODNN7EXAMPLE",
				  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL, "us-east-1",
				  "s3"};
	struct ufs_sigv4_req r = {
	    .method = "GET",
	    .path = "/test.txt",
	    .headers = &h,
	    .payload_hash = UFS_SIGV4_EMPTY_HASH,
	    .amz_date = "20130524T000000Z",
	    .content_sha_header = 1,
	};
	struct ufs_sigv4_out out;
	struct ufs_http_hdrs auth = {0};

	(void)state;
	ufs_http_hdrs_add(&h, "Host: examplebucket.s3.amazonaws.com");
	ufs_http_hdrs_add(&h, "Range: bytes=0-9");
	assert_int_equal(ufs_sigv4_sign(&r, &k, &out), 0);
	assert_string_equal(out.signature,
			    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	assert_string_equal(
	    out.authorization,
	    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
	    "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
	    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	ufs_sigv4_out_free(&out);

	assert_int_equal(ufs_sigv4_add_headers(&r, &k, &auth), 0);
	assert_string_equal(ufs_http_hdrs_get(&auth, "x-amz-date"), "20130524T000000Z");
	assert_string_equal(ufs_http_hdrs_get(&auth, "x-amz-content-sha256"), UFS_SIGV4_EMPTY_HASH);
	assert_null(ufs_http_hdrs_get(&auth, "x-amz-security-token"));
	assert_non_null(strstr(ufs_http_hdrs_get(&auth, "Authorization"), "Signature=f0e8bdb8"));
	ufs_http_hdrs_clear(&auth);
	ufs_http_hdrs_clear(&h);
}

/* Awkward key names: what S3 signs is the RFC 3986 encoding of the key. */
static void test_s3_key_encoding(void **state)
{
	static const struct {
		const char *path, *query, *want_uri, *want_query;
	} cases[] = {
	    {"/bkt/a b+c%d?e=f&g~h", NULL, "/bkt/a%20b%2Bc%25d%3Fe%3Df%26g~h", ""},
	    {"/bkt/caf\xc3\xa9", NULL, "/bkt/caf%C3%A9", ""},
	    {"/bkt/a%20b", NULL, "/bkt/a%20b", ""},
	    {"/bkt", "prefix=a/b c&list-type=2&delimiter=%2F&continuation-token=x+y=", "/bkt",
	     "continuation-token=x%2By%3D&delimiter=%2F&list-type=2&prefix=a%2Fb%20c"},
	    {"/bkt/k", "uploads", "/bkt/k", "uploads="},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ufs_http_hdrs h = {0};
		struct ufs_sigv4_key k = {"AK", "SK", NULL, "us-east-1", "s3"};
		struct ufs_sigv4_req r = {.method = "GET",
					  .path = cases[i].path,
					  .query = cases[i].query,
					  .headers = &h,
					  .payload_hash = UFS_SIGV4_UNSIGNED,
					  .amz_date = "20240101T000000Z",
					  .content_sha_header = 1};
		struct ufs_sigv4_out out;
		char want[512];

		ufs_http_hdrs_add(&h, "Host: 127.0.0.1:4568");
		assert_int_equal(ufs_sigv4_sign(&r, &k, &out), 0);
		snprintf(want, sizeof(want), "GET\n%s\n%s\nhost:127.0.0.1:4568\n",
			 cases[i].want_uri, cases[i].want_query);
		assert_memory_equal(out.canonical_request, want, strlen(want));
		ufs_sigv4_out_free(&out);
		ufs_http_hdrs_clear(&h);
	}
}

static void test_errors_and_token(void **state)
{
	struct ufs_http_hdrs h = {0};
	struct ufs_sigv4_key k = {"AK", "SK", "TOKEN", "eu-west-1", "s3"};
	struct ufs_sigv4_req r = {.method = "PUT",
				  .path = "/x",
				  .headers = &h,
				  .payload_hash = UFS_SIGV4_UNSIGNED,
				  .amz_date = "20240101T000000Z",
				  .content_sha_header = 1};
	struct ufs_sigv4_out out;
	struct ufs_http_hdrs auth = {0};
	char date[UFS_AMZ_DATE_LEN];

	(void)state;
	assert_int_equal(ufs_sigv4_sign(&r, &k, &out), -EINVAL); /* no Host */
	ufs_http_hdrs_add(&h, "host: h");
	r.amz_date = "2024";
	assert_int_equal(ufs_sigv4_sign(&r, &k, &out), -EINVAL);
	r.amz_date = "20240101T000000Z";
	assert_int_equal(ufs_sigv4_add_headers(&r, &k, &auth), 0);
	assert_string_equal(ufs_http_hdrs_get(&auth, "x-amz-security-token"), "TOKEN");
	assert_non_null(strstr(ufs_http_hdrs_get(&auth, "Authorization"),
			       "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
			       "x-amz-security-token"));
	assert_non_null(strstr(ufs_http_hdrs_get(&auth, "Authorization"),
			       "Credential=AK/20240101/eu-west-1/s3/aws4_request"));
	ufs_amz_date(1369353600, date);
	assert_string_equal(date, "20130524T000000Z");
	ufs_http_hdrs_clear(&auth);
	ufs_http_hdrs_clear(&h);
}

/* Content-MD5 is base64 of the raw 16-byte digest (RFC 1864), checked against
 * the RFC 1321 test suite's digests; only the first header is added. */
static void test_content_md5(void **state)
{
	static const struct {
		const char *in, *b64;
	} v[] = {
	    {"", "1B2M2Y8AsgTpgAmY7PhCfg=="},		    /* d41d8cd98f00b204e9800998ecf8427e */
	    {"abc", "kAFQmDzST7DWlj99KOF/cg=="},	    /* 900150983cd24fb0d6963f7d28e17f72 */
	    {"message digest", "+WtpfXy3k41SWi8xqvFh0A=="}, /* f96b697d7cb7938d525a2f31aaf161d0 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ufs_http_hdrs h = {0};

		assert_int_equal(ufs_content_md5_add(&h, v[i].in, strlen(v[i].in)), 0);
		assert_string_equal(ufs_http_hdrs_get(&h, "Content-MD5"), v[i].b64);
		ufs_http_hdrs_clear(&h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aws_suite),	    cmocka_unit_test(test_s3_worked_example),
	    cmocka_unit_test(test_s3_key_encoding), cmocka_unit_test(test_errors_and_token),
	    cmocka_unit_test(test_content_md5),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
