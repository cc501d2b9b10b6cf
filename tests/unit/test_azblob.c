/*
 * test_azblob.c — the pure parts of the Azure Blob backend: az:// URL and
 * endpoint parsing, block ids, connection strings and the List Blobs page
 * parser (names, dates and ETags: test_objstore.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/config.h"
#include "protocols/azure/azblob_i.h"
#include "protocols/backend.h"

static void test_parse_url(void **state)
{
	char *c = NULL, *p = NULL, err[256];

	(void)state;
	assert_int_equal(ufs_az_parse_url("az://data/", &c, &p, err, sizeof(err)), 0);
	assert_string_equal(c, "data");
	assert_string_equal(p, "");
	free(c);
	free(p);
	assert_int_equal(ufs_az_parse_url("az://my-data//a//b c/", &c, &p, err, sizeof(err)), 0);
	assert_string_equal(c, "my-data");
	assert_string_equal(p, "a/b c/");
	free(c);
	free(p);
	assert_int_equal(ufs_az_parse_url("az://box/x", &c, &p, err, sizeof(err)), 0);
	assert_string_equal(p, "x/");
	free(c);
	free(p);
	assert_int_equal(ufs_az_parse_url("az://Upper/", &c, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'Upper' is not a valid container name"));
	assert_int_equal(ufs_az_parse_url("az://ab", &c, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(ufs_az_parse_url("az://a--b", &c, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(ufs_az_parse_url("s3://abc", &c, &p, err, sizeof(err)), -EINVAL);
}

static void expect_endpoint(const char *ep, const char *acct, const char *base, const char *want)
{
	char *b = NULL, *a = NULL, err[256];

	assert_int_equal(ufs_az_parse_endpoint(ep, acct, &b, &a, err, sizeof(err)), 0);
	assert_string_equal(b, base);
	assert_string_equal(a, want);
	free(b);
	free(a);
}

static void test_parse_endpoint(void **state)
{
	char *b = NULL, *a = NULL, err[256];

	(void)state;
	expect_endpoint(NULL, "acct", "https://acct.blob.core.windows.net", "acct");
	expect_endpoint("http://127.0.0.1:10000/devstoreaccount1/", NULL,
			"http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1");
	expect_endpoint("http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1",
			"http://127.0.0.1:10000/devstoreaccount1", "devstoreaccount1");
	expect_endpoint("https://foo.blob.core.windows.net/", NULL,
			"https://foo.blob.core.windows.net", "foo");
	expect_endpoint("http://10.0.0.1:8080", "bar", "http://10.0.0.1:8080", "bar");

	assert_int_equal(
	    ufs_az_parse_endpoint("http://h:1/acct1", "acct2", &b, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not match"));
	assert_int_equal(ufs_az_parse_endpoint("http://h:1", NULL, &b, &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "no account"));
	assert_int_equal(ufs_az_parse_endpoint("ftp://h/a", NULL, &b, &a, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ufs_az_parse_endpoint("http://h/a/b", NULL, &b, &a, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ufs_az_parse_endpoint(NULL, NULL, &b, &a, err, sizeof(err)), -EINVAL);
	/* found by tests/fuzz/fuzz_url: no host gave the base "http://", and a
	 * host ".blob..." the account "" */
	assert_int_equal(ufs_az_parse_endpoint("http:///", "acct", &b, &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "no host"));
	assert_int_equal(ufs_az_parse_endpoint("http:///acct", NULL, &b, &a, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
	    ufs_az_parse_endpoint("https://.blob.core.windows.net", NULL, &b, &a, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "no account"));
	assert_null(b);
	assert_null(a);
}

static void test_block_id(void **state)
{
	char id0[UFS_AZ_BLOCK_ID_MAX], id1[UFS_AZ_BLOCK_ID_MAX];
	unsigned char raw[32];

	(void)state;
	ufs_az_block_id(0, id0);
	ufs_az_block_id(49999, id1);
	assert_int_equal(strlen(id0), 16);
	assert_int_equal(strlen(id1), 16);
	assert_string_not_equal(id0, id1);
	assert_int_equal(EVP_DecodeBlock(raw, (unsigned char *)id1, 16), 12);
	raw[12] = '\0';
	assert_string_equal((char *)raw, "ufsb00049999");
}

static void test_connection_string(void **state)
{
	static const char cs[] = "DefaultEndpointsProtocol=http; AccountName=devstoreaccount1;"
				 "AccountKey=a2V5==;BlobEndpoint=http://127.0.0.1:10000/"
				 "devstoreaccount1;";
	char *v;

	(void)state;
	v = ufs_az_conn_get(cs, "accountname");
	assert_string_equal(v, "devstoreaccount1");
	free(v);
	v = ufs_az_conn_get(cs, "AccountKey"); /* '=' inside a value is kept */
	assert_string_equal(v, "a2V5==");
	free(v);
	v = ufs_az_conn_get(cs, "BlobEndpoint");
	assert_string_equal(v, "http://127.0.0.1:10000/devstoreaccount1");
	free(v);
	assert_null(ufs_az_conn_get(cs, "SharedAccessSignature"));
	assert_null(ufs_az_conn_get(cs, "Account"));
	assert_null(ufs_az_conn_get(NULL, "AccountKey"));
}

/* ---- List Blobs ---- */

struct seen {
	char names[32][64];
	struct ufs_attr attr[32];
	int n;
	int stop_at; /* return 7 on this entry (1-based), 0 = never */
};

static int collect(void *arg, const char *name, const struct ufs_attr *a)
{
	struct seen *s = arg;

	assert_true(s->n < 32);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	s->attr[s->n] = *a;
	s->n++;
	return s->n == s->stop_at ? 7 : 0;
}

static int find(const struct seen *s, const char *name)
{
	int hit = -1;

	for (int i = 0; i < s->n; i++) {
		if (strcmp(s->names[i], name) == 0) {
			assert_int_equal(hit, -1); /* reported once */
			hit = i;
		}
	}
	return hit;
}

#define BLOB(name, len, extra)                                                                     \
	"<Blob><Name>" name "</Name><Properties>"                                                  \
	"<Last-Modified>Sun, 06 Nov 1994 08:49:37 GMT</Last-Modified>"                             \
	"<Etag>\"0x1\"</Etag><Content-Length>" len "</Content-Length>"                             \
	"<BlobType>BlockBlob</BlobType></Properties>" extra "</Blob>"
#define FOLDER "<Metadata><hdi_isfolder>true</hdi_isfolder></Metadata>"

static const char page1[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<EnumerationResults ServiceEndpoint=\"http://x/\" ContainerName=\"c\">"
    "<Prefix>p/</Prefix><Delimiter>/</Delimiter><Blobs>" BLOB("p/", "0", FOLDER)
	BLOB("p/a b &amp; c+%?.txt", "1234", "") BLOB("p/empty", "0", FOLDER) BLOB(
	    "p/file", "5",
	    "<Metadata><other>x</other></Metadata>") "<BlobPrefix><Name>p/file/</Name></BlobPrefix>"
						     "<BlobPrefix><Name>p/sub/</Name></"
						     "BlobPrefix>" BLOB("p/..", "1", "") BLOB(
							 "p/zmark", "0",
							 FOLDER) "</Blobs><NextMarker>MARK1</"
								 "NextMarker></EnumerationResults>";

static const char page2[] = "<EnumerationResults><Blobs>"
			    "<BlobPrefix><Name>p/zmark/</Name></BlobPrefix>"
			    "<BlobPrefix><Name>p/zz/</Name></BlobPrefix>"
			    "<BlobPrefix><Name>p//</Name></BlobPrefix>"
			    "</Blobs><NextMarker /></EnumerationResults>";

static const struct ufs_os_prims fake_prims = {.store = "Azure Blob"};

/* The object-store head the listing de-duplicator reports through. */
static void fake_os(struct ufs_os *os)
{
	memset(os, 0, sizeof(*os));
	os->base.name = "/t";
	os->prims = &fake_prims;
	os->prefix = "p/";
	os->uid = os->gid = UFS_UID_OWNER;
	os->file_mode = 0644;
	os->dir_mode = 0755;
}

/* Parse pages through the shared de-duplicator, as ufs_os_list() does. */
static int list_pages(struct ufs_os_dedup *d, const char *const *pages, int n, char **pnext)
{
	int rc = 0;

	for (int i = 0; !rc && i < n; i++) {
		free(*pnext);
		rc = ufs_az_list_page(pages[i], strlen(pages[i]), "p/", ufs_os_dedup_entry, d,
				      pnext);
		if (!rc)
			rc = ufs_os_dedup_page(d);
	}
	return rc;
}

/* A listed Content-MD5 (base64 of 16 bytes) becomes the entry's MD5; a
 * malformed one is ignored. */
static void test_list_content_md5(void **state)
{
	static const char page[] =
	    "<EnumerationResults><Blobs>"
	    "<Blob><Name>p/m</Name><Properties><Content-Length>3</Content-Length>"
	    "<Content-MD5>rL0Y20zC+Fzt72VPzMSk2A==</Content-MD5></Properties></Blob>"
	    "<Blob><Name>p/bad</Name><Properties><Content-Length>3</Content-Length>"
	    "<Content-MD5>not base64!</Content-MD5></Properties></Blob>"
	    "<Blob><Name>p/none</Name><Properties><Content-Length>3</Content-Length>"
	    "</Properties></Blob></Blobs><NextMarker /></EnumerationResults>";
	static const unsigned char md5_foo[16] = {0xac, 0xbd, 0x18, 0xdb, 0x4c, 0xc2, 0xf8, 0x5c,
						  0xed, 0xef, 0x65, 0x4f, 0xcc, 0xc4, 0xa4, 0xd8};
	const char *const pages[] = {page};
	struct ufs_os_dedup d;
	struct ufs_os os;
	struct seen s = {0};
	char *next = NULL;
	int i;

	(void)state;
	fake_os(&os);
	ufs_os_dedup_init(&d, &os, "", collect, &s);
	assert_int_equal(list_pages(&d, pages, 1, &next), 0);
	i = find(&s, "m");
	assert_true(i >= 0 && s.attr[i].has_md5);
	assert_memory_equal(s.attr[i].md5, md5_foo, 16); /* MD5("foo") */
	i = find(&s, "bad");
	assert_true(i >= 0 && !s.attr[i].has_md5);
	i = find(&s, "none");
	assert_true(i >= 0 && !s.attr[i].has_md5);
	free(next);
	ufs_os_dedup_fini(&d);
}

static void test_list_pages(void **state)
{
	const char *const pages[] = {page1, page2};
	struct ufs_os_dedup d;
	struct ufs_os os;
	struct seen s = {0};
	char *next = NULL;
	int i;

	(void)state;
	fake_os(&os);
	ufs_os_dedup_init(&d, &os, "", collect, &s);
	assert_int_equal(list_pages(&d, pages, 1, &next), 0);
	assert_string_equal(next, "MARK1");
	assert_int_equal(list_pages(&d, pages + 1, 1, &next), 0);
	assert_null(next);
	assert_int_equal(d.skipped, 2); /* ".." and "p//" */

	assert_int_equal(s.n, 6);
	i = find(&s, "a b & c+%?.txt");
	assert_true(i >= 0);
	assert_int_equal(s.attr[i].mode, 0100644);
	assert_int_equal(s.attr[i].size, 1234);
	assert_int_equal(s.attr[i].mtime.tv_sec, 784111777);
	assert_string_equal(s.attr[i].etag, "0x1");
	i = find(&s, "empty");
	assert_true(i >= 0);
	assert_int_equal(s.attr[i].mode, 040755);
	i = find(&s, "file"); /* file and prefix of the same name: the file wins */
	assert_true(i >= 0);
	assert_int_equal(s.attr[i].mode, 0100644);
	assert_int_equal(s.attr[i].size, 5);
	i = find(&s, "sub");
	assert_true(i >= 0);
	assert_int_equal(s.attr[i].mode, 040755);
	i = find(&s, "zmark"); /* marker on page 1, prefix on page 2: once */
	assert_true(i >= 0);
	assert_int_equal(s.attr[i].mode, 040755);
	assert_true(find(&s, "zz") >= 0);
	ufs_os_dedup_fini(&d);
}

static void test_list_stop_and_errors(void **state)
{
	const char *const pages[] = {page1};
	struct ufs_os_dedup d;
	struct ufs_os os;
	struct seen s = {0};
	char *next = NULL;

	(void)state;
	fake_os(&os);
	s.stop_at = 2;
	ufs_os_dedup_init(&d, &os, "", collect, &s);
	assert_int_equal(list_pages(&d, pages, 1, &next), 7);
	assert_int_equal(s.n, 2);
	assert_null(next);
	ufs_os_dedup_fini(&d);

	assert_int_equal(
	    ufs_az_list_page("<EnumerationResults><Blobs>", 27, "", ufs_os_dedup_entry, &d, &next),
	    -EIO);
	assert_null(next);
}

/* Create an az backend from a section of url + endpoint + the given key. */
static int az_create_with(const char *key, const char *value, const char *key2, const char *value2,
			  char *err, size_t errlen)
{
	struct ufs_kv kv[] = {
	    {"url", "az://cont/p", 1},
	    {"endpoint", "http://127.0.0.1:10000/devstoreaccount1", 2},
	    {(char *)key, (char *)value, 3},
	    {(char *)key2, (char *)value2, 4},
	};
	struct ufs_mount_cfg m = {.prefix = "/az",
				  .url = "az://cont/p",
				  .kv = kv,
				  .n_kv = key2	? 4
					  : key ? 3
						: 2};
	struct ufs_config g = {.part_size = 8ULL << 20, .workers = 4, .op_timeout = 5};
	struct ufs_backend *be = NULL;
	int rc;

	err[0] = '\0';
	rc = ufs_az_ops.create(&m, &g, &be, err, errlen);
	if (rc == 0)
		ufs_az_ops.destroy(be);
	return rc;
}

static void test_creds_in_config(void **state)
{
	const char *key =
	    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
	    "KBHBeksoGMGw==";
	char err[512];

	(void)state;
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
	/* a broken key in the environment is not even read when the section has one */
	setenv("AZURE_STORAGE_KEY", "%%% not base64 %%%", 1);
	assert_int_equal(az_create_with("account_key", key, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(
	    az_create_with("sas_token", "?sv=2021&sig=abc", NULL, NULL, err, sizeof(err)), 0);
	/* ... whereas without one the environment's is used (and refused here) */
	assert_int_equal(az_create_with(NULL, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "AZURE_STORAGE_KEY"));

	/* the section's key wins over a good environment key; errors name the key,
	 * never its value */
	setenv("AZURE_STORAGE_KEY", key, 1);
	assert_int_equal(
	    az_create_with("account_key", "%%%SECRETVALUE%%%", NULL, NULL, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "account_key"));
	assert_null(strstr(err, "SECRETVALUE"));

	/* one explicit credential at most */
	assert_int_equal(az_create_with("account_key", key, "sas_token", "sv=1", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "only one"));
	assert_int_equal(
	    az_create_with("sas_token", "sv=1", "key_file", "/nonexistent", err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "only one"));
	unsetenv("AZURE_STORAGE_KEY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_url),
	    cmocka_unit_test(test_parse_endpoint),
	    cmocka_unit_test(test_block_id),
	    cmocka_unit_test(test_connection_string),
	    cmocka_unit_test(test_list_pages),
	    cmocka_unit_test(test_list_content_md5),
	    cmocka_unit_test(test_list_stop_and_errors),
	    cmocka_unit_test(test_creds_in_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
