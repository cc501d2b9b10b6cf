/*
 * fuzz_http.c — libFuzzer target: what the daemon parses of an HTTP answer
 * (protocols/http/, protocols/objstore/objstore.c, protocols/s3/s3_parse.c):
 * raw header lines as curl hands them over (ufs_http_hdrs_take_line()),
 * header look-up, Content-Range against the request's Range
 * (ufs_http_range_ok()), the HEAD fields an object's attributes come from
 * (Content-Length, Last-Modified, ETag, x-amz-meta-mtime / -xxh3), the
 * XML error body, the percent-encoding of keys and base64 (an Azure
 * account_key, protocols/azure/az_sign.c).
 *
 * Input: "RANGE\nSTATUS\nHEADER LINES...\n\nBODY": the request's Range
 * value, the status code, the answer's header block, its body.
 *
 * Checked: a 206 is accepted only with a well-formed "bytes A-B" starting at
 * the asked offset and exactly as long as the body (never for an empty
 * body); decode(encode(x)) == x for every byte string.
 *
 * Run by hand: build-fuzz/fuzz_http tests/fuzz/corpus/http
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http/http.h"
#include "protocols/objstore/objstore.h"
#include "protocols/s3/s3_i.h"
#include "protocols/sign.h"
#include "tests/fuzz/helper_fuzz.h"

/* Base64 as an Azure account_key / Content-MD5 value is decoded. */
static void fuzz_base64(const char *s)
{
	unsigned char out[64];
	int n = ufs_base64_decode(s, out, sizeof(out));

	UFS_FUZZ_CHECK(n < 0 || (size_t)n <= sizeof(out), "base64 decode stays in its buffer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Header block: one line at a time, as curl's header callback gets them. */
static void fuzz_headers(struct ufs_http_hdrs *h, const char *block)
{
	while (*block) {
		size_t len = strcspn(block, "\n");

		len += block[len] == '\n';
		if (ufs_http_hdrs_take_line(h, block, len) != 0)
			abort();
		block += len;
	}
}

/* What an object's HEAD answer feeds into its attributes. */
static void fuzz_head_fields(const struct ufs_http_hdrs *h)
{
	struct ufs_attr a = {0};
	const char *v;

	v = ufs_http_hdrs_get(h, "Content-Length");
	a.size = v ? strtoull(v, NULL, 10) : 0;
	v = ufs_http_hdrs_get(h, "Last-Modified");
	if (v)
		(void)ufs_os_parse_http_date(v, &a.mtime);
	v = ufs_http_hdrs_get(h, "ETag");
	if (v) {
		ufs_os_etag_strip(v, strlen(v), a.etag);
		UFS_FUZZ_CHECK(strlen(a.etag) < UFS_ETAG_MAX, "etag bounded");
	}
	(void)ufs_os_meta_apply(ufs_http_hdrs_get(h, "x-amz-meta-mtime"),
				ufs_http_hdrs_get(h, "x-amz-meta-unifs-xxh3"), &a);
	v = ufs_http_hdrs_get(h, "x-amz-meta-mtime");
	if (v)
		(void)ufs_s3_parse_iso8601(v, strlen(v), &a.mtime);
}

/* "bytes A-B" with A equal to the asked start: digits only, B >= A. */
static int fuzz_range_sane(const char *range, const char *cr, uint64_t body_len)
{
	uint64_t want, a, b;
	char *end;

	if (strncmp(range, "bytes=", 6) != 0 || !isdigit((unsigned char)range[6]))
		return 1; /* not a range of ours: nothing to hold the answer to */
	errno = 0;
	want = strtoull(range + 6, &end, 10);
	if (*end != '-' || errno == ERANGE)
		return 1;
	if (!cr || strncmp(cr, "bytes ", 6) != 0 || !isdigit((unsigned char)cr[6]))
		return 0;
	a = strtoull(cr + 6, &end, 10);
	if (*end != '-' || !isdigit((unsigned char)end[1]))
		return 0;
	b = strtoull(end + 1, NULL, 10);
	return a == want && b >= a && body_len > 0 && b - a == body_len - 1;
}

static void fuzz_range(const char *range, long status, const struct ufs_http_hdrs *h,
		       uint64_t body_len)
{
	const char *cr = ufs_http_hdrs_get(h, "Content-Range");

	if (ufs_http_range_ok(range, status, cr, body_len) && status == 206)
		UFS_FUZZ_CHECK(fuzz_range_sane(range, cr, body_len),
			       "a 206 accepted only for a well-formed range of the body's length");
}

static void fuzz_uri(const char *s, size_t len)
{
	char *enc = ufs_uri_encode(s, len, len & 1), *dec;

	if (!enc)
		abort();
	dec = ufs_uri_decode(enc, strlen(enc));
	UFS_FUZZ_CHECK(dec && memcmp(dec, s, len) == 0, "decode(encode(x)) == x");
	free(dec);
	free(enc);
	free(ufs_uri_decode(s, len));
	free(ufs_s3_url_key_decode(s, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ufs_http_hdrs h = {0};
	char *f[3], code[64], msg[256], *body;
	size_t blen;
	long status;

	ufs_fuzz_fields(data, size, '\n', f, 3);
	body = strstr(f[2], "\n\n");
	if (body) {
		body[1] = '\0'; /* the header block ends at the blank line */
		body += 2;
	} else {
		body = f[2] + strlen(f[2]);
	}
	blen = strlen(body);
	status = strtol(f[1], NULL, 10);
	fuzz_headers(&h, f[2]);
	fuzz_head_fields(&h);
	fuzz_range(f[0], status, &h, blen);
	fuzz_range(f[0], 206, &h, blen);
	(void)ufs_http_status_errno(status);
	(void)ufs_http_status_retryable(status, ufs_http_hdrs_get(&h, "x-amz-error-code"));
	if (ufs_http_parse_error(body, blen, code, sizeof(code), msg, sizeof(msg)) == 0)
		UFS_FUZZ_CHECK(strlen(code) < sizeof(code), "error code bounded");
	fuzz_uri((const char *)data, size);
	fuzz_base64(body);
	ufs_http_hdrs_clear(&h);
	free(f[0]);
	return 0;
}
