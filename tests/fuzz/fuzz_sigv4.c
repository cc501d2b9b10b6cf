/*
 * fuzz_sigv4.c — libFuzzer target: request signing (protocols/sign.c):
 * SigV4 canonical request, string to sign and signature of an S3 request
 * built from the input, the headers the sign hook adds, and the Azure
 * SharedKey string to sign of the same request.
 *
 * Input: NUL-separated fields "FLAGS\0KEY\0QUERY\0TOKEN\0HEADERS": FLAGS'
 * first byte picks the method and the options (path style, path
 * normalisation, x-amz-content-sha256, unsigned token, payload hash); KEY is
 * an object key with any byte; QUERY is sent as is; TOKEN a session token
 * (empty: none); HEADERS "Name: value" lines joined by '\n' (Host is added).
 *
 * Checked: the canonical URI and query hold only unreserved bytes, '/',
 * '%XX' (and '=' '&' in the query); a raw key and its percent-encoded form
 * sign the same (when the key has no '%'); the signature is 64 hex digits.
 *
 * Run by hand: build-fuzz/fuzz_sigv4 tests/fuzz/corpus/sigv4
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http/http.h"
#include "protocols/s3/s3_i.h"
#include "protocols/azure/az_sign.h"
#include "tests/fuzz/helper_fuzz.h"

#define FUZZ_HOST "127.0.0.1:7480"
#define FUZZ_BUCKET "bkt"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_methods[] = {"GET", "HEAD", "PUT", "POST", "DELETE", "get", "", "X"};

/* Bytes a canonical URI (query: also '=' and '&') may hold. */
static int fuzz_canon_ok(const char *s, size_t len, const char *extra)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]) ||
			    islower((unsigned char)s[i + 1]) || islower((unsigned char)s[i + 2]))
				return 0;
			i += 2;
		} else if (!isalnum(c) && !strchr("-_.~", c) && !strchr(extra, c)) {
			return 0;
		}
	}
	return 1;
}

static void fuzz_check_canonical(const struct ufs_sigv4_out *o)
{
	const char *uri = strchr(o->canonical_request, '\n'), *query, *end;

	UFS_FUZZ_CHECK(uri != NULL, "canonical request has a URI line");
	query = strchr(++uri, '\n');
	UFS_FUZZ_CHECK(query != NULL, "canonical request has a query line");
	end = strchr(++query, '\n');
	UFS_FUZZ_CHECK(end != NULL, "canonical request has headers");
	UFS_FUZZ_CHECK(fuzz_canon_ok(uri, (size_t)(query - 1 - uri), "/"), "canonical URI encoded");
	UFS_FUZZ_CHECK(fuzz_canon_ok(query, (size_t)(end - query), "=&"),
		       "canonical query encoded");
	UFS_FUZZ_CHECK(strlen(o->signature) == 64 && strspn(o->signature, "0123456789abcdef") == 64,
		       "signature is 64 hex digits");
	UFS_FUZZ_CHECK(strncmp(o->authorization, "AWS4-HMAC-SHA256 Credential=", 28) == 0,
		       "Authorization value");
}

/* "/bkt/KEY" (path style) or "/KEY", the key raw or percent-encoded. */
static char *fuzz_path(const char *key, int path_style, int encode)
{
	char *enc = encode ? ufs_uri_encode(key, strlen(key), 1) : strdup(key), *path = NULL;

	if (!enc || asprintf(&path, "%s/%s", path_style ? "/" FUZZ_BUCKET : "", enc) < 0)
		abort();
	free(enc);
	return path;
}

struct fuzz_req {
	unsigned flags;
	const char *key, *query;
	struct ufs_http_hdrs hdrs;
	struct ufs_sigv4_key k;
};

static int fuzz_sign(const struct fuzz_req *q, int encode, struct ufs_sigv4_out *o)
{
	char *path = fuzz_path(q->key, q->flags & 1, encode);
	struct ufs_sigv4_req r = {
	    .method = fuzz_methods[(q->flags >> 5) & 7],
	    .path = path,
	    .query = q->query,
	    .headers = &q->hdrs,
	    .payload_hash = q->flags & 16 ? UFS_SIGV4_UNSIGNED : UFS_SIGV4_EMPTY_HASH,
	    .amz_date = "20261202T081500Z",
	    .normalize_path = (q->flags & 2) != 0,
	    .content_sha_header = (q->flags & 4) != 0,
	    .omit_token = (q->flags & 8) != 0,
	};
	struct ufs_http_hdrs auth = {0};
	int rc = ufs_sigv4_sign(&r, &q->k, o);

	if (rc == 0 && ufs_sigv4_add_headers(&r, &q->k, &auth) == 0)
		UFS_FUZZ_CHECK(ufs_http_hdrs_get(&auth, "Authorization") != NULL,
			       "sign hook adds Authorization");
	ufs_http_hdrs_clear(&auth);
	free(path);
	return rc;
}

static void fuzz_s3(const struct fuzz_req *q)
{
	struct ufs_sigv4_out enc, raw;
	char *url = ufs_s3_url("http://" FUZZ_HOST, FUZZ_BUCKET, q->flags & 1, q->key, q->query);

	free(url);
	if (fuzz_sign(q, 1, &enc) != 0)
		return;
	fuzz_check_canonical(&enc);
	if (!strchr(q->key, '%') && fuzz_sign(q, 0, &raw) == 0) {
		UFS_FUZZ_CHECK(strcmp(raw.canonical_request, enc.canonical_request) == 0 &&
				   strcmp(raw.signature, enc.signature) == 0,
			       "a raw key and its encoding sign the same");
		ufs_sigv4_out_free(&raw);
	}
	ufs_sigv4_out_free(&enc);
}

static void fuzz_azure(const struct fuzz_req *q)
{
	char *enc = ufs_uri_encode(q->key, strlen(q->key), 1), *url = NULL, *sts;
	char sig[UFS_AZ_SIG_LEN];

	if (!enc ||
	    asprintf(&url, "http://127.0.0.1:10000/devstoreaccount1/ctr/%s?%s", enc, q->query) < 0)
		abort();
	sts = ufs_az_string_to_sign(fuzz_methods[(q->flags >> 5) & 7], url, "devstoreaccount1",
				    q->flags, &q->hdrs, NULL);
	if (sts)
		UFS_FUZZ_CHECK(ufs_az_signature("k3y", 3, sts, sig) == 0, "SharedKey signature");
	free(sts);
	free(url);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[5];
	struct fuzz_req q = {
	    .k = {.access_key = "AKIDEXAMPLE",
		  .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		  .region = "us-east-1",
		  .service = "s3"},
	};

	ufs_fuzz_fields(data, size, '\0', f, 5);
	q.flags = (unsigned char)f[0][0];
	q.key = f[1];
	q.query = f[2];
	q.k.session_token = f[3][0] ? f[3] : NULL;
	if (ufs_http_hdrs_add(&q.hdrs, "Host: %s", FUZZ_HOST) != 0)
		abort();
	for (char *l = f[4], *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		if (*l && ufs_http_hdrs_add(&q.hdrs, "%s", l) != 0)
			abort();
		if (!nl)
			break;
	}
	fuzz_s3(&q);
	fuzz_azure(&q);
	ufs_http_hdrs_clear(&q.hdrs);
	free(f[0]);
	return 0;
}
