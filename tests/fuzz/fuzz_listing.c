/*
 * fuzz_listing.c — libFuzzer target: the XML answers an object store sends,
 * parsed by the daemon's own code (protocols/xml.c over expat,
 * protocols/s3/s3_parse.c, protocols/azure/az_parse.c, protocols/http/).
 *
 * Input: one response body, fed to every parser the daemon runs on a body:
 * S3 ListObjectsV2 pages (under "" and under a prefix), Azure List Blobs
 * pages, InitiateMultipartUpload, error documents and 200-with-<Error>
 * bodies. Each entry reported is checked: a name is a C string under the
 * listed prefix's rules, a truncated S3 page has a token, a failed parse
 * leaves no token behind.
 *
 * Run by hand: build-fuzz/fuzz_listing tests/fuzz/corpus/listing
 *   (scripts/build.sh --fuzz first; see tests/fuzz/README).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/azure/azblob_i.h"
#include "protocols/http/http.h"
#include "protocols/objstore/objstore.h"
#include "protocols/s3/s3_i.h"
#include "tests/fuzz/helper_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_s3_entry(void *arg, const struct ufs_s3_entry *e)
{
	unsigned *n = arg;

	UFS_FUZZ_CHECK(e->name && e->etag, "S3 entry has a name and an etag");
	(void)ufs_os_name_ok(e->name, strlen(e->name));
	UFS_FUZZ_CHECK(strlen(e->etag) < UFS_ETAG_MAX, "S3 etag bounded");
	return ++*n > 100000; /* the daemon's callbacks may stop a page too */
}

static void fuzz_s3_list(const char *xml, size_t len, const char *prefix)
{
	struct ufs_s3_page page;
	unsigned n = 0;
	char err[128] = "";
	int rc = ufs_s3_parse_list(xml, len, prefix, fuzz_s3_entry, &n, &page, err, sizeof(err));

	if (rc != 0) {
		UFS_FUZZ_CHECK(!page.next_token, "a failed S3 page leaves no token");
		return;
	}
	UFS_FUZZ_CHECK(!page.truncated || page.next_token, "a truncated S3 page has a token");
	UFS_FUZZ_CHECK(page.n_entries >= n, "S3 entries counted");
	free(page.next_token);
}

static int fuzz_az_entry(void *arg, const struct ufs_os_entry *e)
{
	unsigned *n = arg;

	UFS_FUZZ_CHECK(e->name && e->etag, "Azure entry has a name and an etag");
	UFS_FUZZ_CHECK(e->name_len == strlen(e->name), "Azure name_len is the name's length");
	(void)ufs_os_name_ok(e->name, e->name_len);
	return ++*n > 100000;
}

static void fuzz_az_list(const char *xml, size_t len, const char *prefix)
{
	char *next = (char *)"unset";
	unsigned n = 0;
	int rc = ufs_az_list_page(xml, len, prefix, fuzz_az_entry, &n, &next);

	UFS_FUZZ_CHECK(rc == 0 || !next, "a failed Azure page leaves no marker");
	free(next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Bodies are not NUL-terminated on the wire: parse an exact-size copy
	 * so ASan sees any read past the end. */
	char *xml = malloc(size ? size : 1);
	char code[64], msg[256], *s;

	if (!xml)
		return 0;
	memcpy(xml, data, size);
	fuzz_s3_list(xml, size, "");
	fuzz_s3_list(xml, size, "d/");
	fuzz_az_list(xml, size, "");
	fuzz_az_list(xml, size, "d/");
	free(ufs_s3_parse_upload_id(xml, size));
	s = ufs_s3_xml_text(xml, size, "ListBucketResult/NextContinuationToken");
	free(s);
	(void)ufs_s3_body_is_error(xml, size, code, sizeof(code));
	if (ufs_http_parse_error(xml, size, code, sizeof(code), msg, sizeof(msg)) == 0)
		UFS_FUZZ_CHECK(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg),
			       "error code and message bounded");
	free(xml);
	return 0;
}
