/*
 * test_s3.c — the pure parts of the S3 backend (protocols/s3_i.h): URL
 * parsing, request URLs, ISO 8601 times, the ListObjectsV2 page parser,
 * multipart documents, and AWS shared-credentials files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "protocols/s3/creds.h"
#include "protocols/s3/s3_i.h"

static void check_url(const char *url, const char *bucket, const char *prefix)
{
	char *b = NULL, *p = NULL, err[200];

	assert_int_equal(ufs_s3_parse_url(url, &b, &p, err, sizeof(err)), 0);
	assert_string_equal(b, bucket);
	assert_string_equal(p, prefix);
	free(b);
	free(p);
}

static void test_parse_url(void **state)
{
	const char *bad[] = {"s3://",	    "s3://ab",	 "s3://Upper/x", "s3://-bkt/",
			     "s3://bkt_x/", "file:///x", "s3://bkt./"};
	char *b, *p, err[200];

	(void)state;
	check_url("s3://bkt", "bkt", "");
	check_url("s3://bkt/", "bkt", "");
	check_url("s3://my.bucket-1/ckpt", "my.bucket-1", "ckpt/");
	check_url("s3://bkt//a//b/", "bkt", "a/b/");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ufs_s3_parse_url(bad[i], &b, &p, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
}

static void test_url(void **state)
{
	char *u;

	(void)state;
	u = ufs_s3_url("http://127.0.0.1:4568", "bkt", 1, "pfx/a b+c?d", NULL);
	assert_string_equal(u, "http://127.0.0.1:4568/bkt/pfx/a%20b%2Bc%3Fd");
	free(u);
	u = ufs_s3_url("https://s3.us-east-1.amazonaws.com", "bkt", 0, "k", "uploads");
	assert_string_equal(u, "https://bkt.s3.us-east-1.amazonaws.com/k?uploads");
	free(u);
	u = ufs_s3_url("http://h", "bkt", 1, "", "list-type=2");
	assert_string_equal(u, "http://h/bkt/?list-type=2");
	free(u);
}

static void test_iso8601(void **state)
{
	struct timespec ts;
	const char *iso = "2024-01-02T03:04:05.678Z";

	(void)state;
	assert_int_equal(ufs_s3_parse_iso8601(iso, strlen(iso), &ts), 0);
	assert_int_equal(ts.tv_sec, 1704164645);
	assert_int_equal(ts.tv_nsec, 678000000);
	assert_int_equal(ufs_s3_parse_iso8601("2024-01-02T03:04:05Z", 20, &ts), 0);
	assert_int_equal(ts.tv_nsec, 0);
	assert_int_equal(ufs_s3_parse_iso8601("2024-01-02", 10, &ts), -EINVAL);
	assert_int_equal(ufs_s3_parse_iso8601("2024-01-02T03:04:05+02:00", 25, &ts), -EINVAL);
}

struct collect {
	char names[16][64];
	int dirs[16];
	uint64_t sizes[16];
	char etags[16][UFS_ETAG_MAX];
	long mtimes[16];
	int n;
	int stop_at;
};

static int collect_cb(void *arg, const struct ufs_s3_entry *e)
{
	struct collect *c = arg;

	snprintf(c->names[c->n], 64, "%s", e->name);
	c->dirs[c->n] = e->is_dir;
	c->sizes[c->n] = e->size;
	snprintf(c->etags[c->n], UFS_ETAG_MAX, "%s", e->etag);
	c->mtimes[c->n] = (long)e->mtime.tv_sec;
	c->n++;
	return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static const char page1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bkt</Name><Prefix>p/</Prefix><KeyCount>4</KeyCount><MaxKeys>1000</MaxKeys>"
    "<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>tok+/=</NextContinuationToken>"
    "<Contents><Key>p/</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>"
    "<ETag>&quot;d41d&quot;</ETag><Size>0</Size></Contents>"
    "<Contents><Key>p/a &amp; b</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>"
    "<ETag>&quot;e1&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>p/caf\xc3\xa9</Key><LastModified>2024-01-02T03:04:06.000Z</LastModified>"
    "<ETag>&quot;e2-3&quot;</ETag><Size>17179869184</Size></Contents>"
    "<CommonPrefixes><Prefix>p/sub/</Prefix></CommonPrefixes>"
    "<CommonPrefixes><Prefix>p//</Prefix></CommonPrefixes>"
    "</ListBucketResult>";

static void test_list_page(void **state)
{
	struct collect c = {0};
	struct ufs_s3_page page;
	char err[128];

	(void)state;
	assert_int_equal(
	    ufs_s3_parse_list(page1, strlen(page1), "p/", collect_cb, &c, &page, err, sizeof(err)),
	    0);
	assert_true(page.truncated);
	assert_string_equal(page.next_token, "tok+/=");
	assert_int_equal(page.n_entries, 5);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.names[0], ""); /* the marker: the caller skips it */
	assert_string_equal(c.names[1], "a & b");
	assert_int_equal(c.sizes[1], 12);
	assert_string_equal(c.etags[1], "e1");
	assert_int_equal(c.mtimes[1], 1704164645);
	assert_string_equal(c.names[2], "caf\xc3\xa9");
	assert_int_equal(c.sizes[2], 17179869184ULL);
	assert_string_equal(c.etags[2], "e2-3");
	assert_string_equal(c.names[3], "sub");
	assert_true(c.dirs[3]);
	assert_string_equal(c.names[4], ""); /* "p//": empty component, caller skips */
	assert_true(c.dirs[4]);
	free(page.next_token);
}

/* encoding-type=url: a key with a control character (legal in S3, not in
 * XML) comes %-encoded and is decoded; '+' is a space, %2B a plus. */
static const char page_url[] = "<ListBucketResult><Name>bkt</Name><Prefix>p%2Fd%2F</Prefix>"
			       "<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
			       "<Contents><Key>p/d/x%01y</Key><Size>3</Size></Contents>"
			       "<Contents><Key>p/d/a+b%2Bc%25</Key><Size>4</Size></Contents>"
			       "<CommonPrefixes><Prefix>p%2Fd%2Fsub%0A%2F</Prefix></CommonPrefixes>"
			       "</ListBucketResult>";

static void test_list_url_encoded(void **state)
{
	const char *bad = "<ListBucketResult><EncodingType>url</EncodingType>"
			  "<Contents><Key>p/%zz</Key></Contents></ListBucketResult>";
	const char *nul = "<ListBucketResult><EncodingType>url</EncodingType>"
			  "<Contents><Key>p/a%00b</Key></Contents></ListBucketResult>";
	const char *raw = "<ListBucketResult><Contents><Key>p/a%41+</Key></Contents>"
			  "</ListBucketResult>";
	struct collect c = {0};
	struct ufs_s3_page page;
	char err[128] = "";

	(void)state;
	assert_int_equal(ufs_s3_parse_list(page_url, strlen(page_url), "p/d/", collect_cb, &c,
					   &page, err, sizeof(err)),
			 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.names[0], "x\001y");
	assert_string_equal(c.names[1], "a b+c%");
	assert_string_equal(c.names[2], "sub\n");
	assert_true(c.dirs[2]);
	/* without EncodingType the same text is taken as it is */
	c.n = 0;
	assert_int_equal(
	    ufs_s3_parse_list(raw, strlen(raw), "p/", collect_cb, &c, &page, err, sizeof(err)), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.names[0], "a%41+");
	assert_int_equal(
	    ufs_s3_parse_list(bad, strlen(bad), "p/", NULL, NULL, &page, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "url-encoded key"));
	assert_int_equal(
	    ufs_s3_parse_list(nul, strlen(nul), "p/", NULL, NULL, &page, err, sizeof(err)), -EIO);
}

static void test_list_errors(void **state)
{
	const char *notlist = "<Error><Code>X</Code></Error>";
	const char *truncated_no_token = "<ListBucketResult><IsTruncated>true</IsTruncated>"
					 "</ListBucketResult>";
	struct collect c = {0};
	struct ufs_s3_page page;
	char err[128];

	(void)state;
	assert_int_equal(ufs_s3_parse_list(page1, strlen(page1) - 30, "p/", collect_cb, &c, &page,
					   err, sizeof(err)),
			 -EIO);
	free(page.next_token);
	assert_int_equal(
	    ufs_s3_parse_list(notlist, strlen(notlist), "", NULL, NULL, &page, err, sizeof(err)),
	    -EIO);
	assert_int_equal(ufs_s3_parse_list(truncated_no_token, strlen(truncated_no_token), "", NULL,
					   NULL, &page, err, sizeof(err)),
			 -EIO);
	c.n = 0;
	c.stop_at = 2;
	assert_int_equal(
	    ufs_s3_parse_list(page1, strlen(page1), "p/", collect_cb, &c, &page, err, sizeof(err)),
	    7);
	assert_int_equal(c.n, 2);
	free(page.next_token);
}

static void test_multipart_docs(void **state)
{
	const char *init =
	    "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket>"
	    "<Key>k</Key><UploadId>abc/+=</UploadId></InitiateMultipartUploadResult>";
	const char *err200 = "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code>"
			     "<Message>x</Message></Error>";
	const char *ok = "<CompleteMultipartUploadResult><ETag>&quot;x-2&quot;</ETag>"
			 "</CompleteMultipartUploadResult>";
	char etags[2][UFS_ETAG_MAX] = {"e1", "e2"};
	char code[32], *id, *body, *t;

	(void)state;
	id = ufs_s3_parse_upload_id(init, strlen(init));
	assert_string_equal(id, "abc/+=");
	free(id);
	assert_null(ufs_s3_parse_upload_id(ok, strlen(ok)));
	assert_true(ufs_s3_body_is_error(err200, strlen(err200), code, sizeof(code)));
	assert_string_equal(code, "InternalError");
	assert_false(ufs_s3_body_is_error(ok, strlen(ok), code, sizeof(code)));
	assert_false(ufs_s3_body_is_error(NULL, 0, code, sizeof(code)));
	t = ufs_s3_xml_text(ok, strlen(ok), "CompleteMultipartUploadResult/ETag");
	assert_string_equal(t, "\"x-2\"");
	free(t);
	body = ufs_s3_complete_body(etags, 2);
	assert_string_equal(body, "<CompleteMultipartUpload>"
				  "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
				  "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"
				  "</CompleteMultipartUpload>");
	free(body);
	assert_int_equal(ufs_s3_part_len(8 << 20, 1), 8 << 20);
	assert_int_equal(ufs_s3_part_len(8 << 20, 1000), 8 << 20);
	assert_int_equal(ufs_s3_part_len(8 << 20, 1001), 16 << 20);
	assert_int_equal(ufs_s3_part_len(8 << 20, 10000), 80 << 20);
}

static void test_creds_file(void **state)
{
	const char *text = "[default]\naws_access_key_id = AK1\naws_secret_access_key = SK1\n"
			   "[other]\naws_access_key_id=AK2\naws_secret_access_key=SK2\n"
			   "aws_session_token=TOK2\n[broken]\naws_access_key_id=AK3\n";
	struct ufs_aws_creds c;

	(void)state;
	assert_int_equal(ufs_aws_creds_parse(text, "default", &c), 0);
	assert_string_equal(c.access_key, "AK1");
	assert_string_equal(c.secret_key, "SK1");
	assert_null(c.session_token);
	ufs_aws_creds_clear(&c);
	assert_int_equal(ufs_aws_creds_parse(text, "other", &c), 0);
	assert_string_equal(c.session_token, "TOK2");
	ufs_aws_creds_clear(&c);
	assert_null(c.access_key);
	assert_int_equal(ufs_aws_creds_parse(text, "broken", &c), -EINVAL);
	assert_int_equal(ufs_aws_creds_parse(text, "missing", &c), -EINVAL);
}

static void test_creds_file_mode(void **state)
{
	char path[] = "/tmp/ufs-test-creds-XXXXXX", err[256];
	struct ufs_aws_creds c;
	FILE *f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("[p]\naws_access_key_id=AKF\naws_secret_access_key=SKF\n", f);
	fclose(f);
	chmod(path, 0644);
	assert_int_equal(ufs_aws_creds_load(path, "p", &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, path));
	chmod(path, 0600);
	assert_int_equal(ufs_aws_creds_load(path, "p", &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "AKF");
	assert_string_equal(c.source, path);
	ufs_aws_creds_clear(&c);
	assert_int_equal(ufs_aws_creds_load(path, "nope", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "[nope]"));
	unlink(path);
	assert_int_equal(ufs_aws_creds_load(path, "p", &c, err, sizeof(err)), -ENOENT);
}

/* A mount section holding the given key/value pairs (NULL-terminated). */
static struct ufs_mount_cfg *creds_mount(struct ufs_kv *kv, size_t n)
{
	static struct ufs_mount_cfg m;

	m = (struct ufs_mount_cfg){.prefix = "/s3", .url = "s3://bkt/p", .kv = kv, .n_kv = n};
	return &m;
}

static void test_creds_in_config(void **state)
{
	struct ufs_kv kv[] = {
	    {"url", "s3://bkt/p", 1},
	    {"access_key_id", "AKIDCONFIG", 2},
	    {"secret_access_key", "SECRETCONFIG", 3},
	    {"session_token", "TOKCONFIG", 4},
	    {"credentials_file", "/nonexistent/creds", 5},
	};
	struct ufs_aws_creds c;
	char err[256] = "";

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
	setenv("AWS_SESSION_TOKEN", "TOKENV", 1);

	/* the section's keys win over the environment and credentials_file */
	assert_int_equal(ufs_aws_creds_for_mount(creds_mount(kv, 5), &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "AKIDCONFIG");
	assert_string_equal(c.secret_key, "SECRETCONFIG");
	assert_string_equal(c.session_token, "TOKCONFIG");
	assert_string_equal(c.source, "config file");
	ufs_aws_creds_clear(&c);

	/* session_token is optional */
	assert_int_equal(ufs_aws_creds_for_mount(creds_mount(kv, 3), &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "AKIDCONFIG");
	assert_null(c.session_token);
	ufs_aws_creds_clear(&c);

	/* without them: the environment, as before */
	assert_int_equal(ufs_aws_creds_for_mount(creds_mount(kv, 1), &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key, "AKIDENV");
	assert_string_equal(c.session_token, "TOKENV");
	assert_string_equal(c.source, "environment");
	ufs_aws_creds_clear(&c);

	/* incomplete: refused, and no value in the message */
	assert_int_equal(ufs_aws_creds_for_mount(creds_mount(kv, 2), &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "secret_access_key"));
	assert_null(strstr(err, "AKIDCONFIG"));
	kv[1] = (struct ufs_kv){"secret_access_key", "SECRETCONFIG", 2};
	assert_int_equal(ufs_aws_creds_for_mount(creds_mount(kv, 2), &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "access_key_id"));
	assert_null(strstr(err, "SECRETCONFIG"));
	kv[1] = (struct ufs_kv){"session_token", "TOKCONFIG", 2};
	assert_int_equal(ufs_aws_creds_for_mount(creds_mount(kv, 2), &c, err, sizeof(err)),
			 -EINVAL);
	assert_null(strstr(err, "TOKCONFIG"));

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_url),	     cmocka_unit_test(test_url),
	    cmocka_unit_test(test_iso8601),	     cmocka_unit_test(test_list_page),
	    cmocka_unit_test(test_list_url_encoded), cmocka_unit_test(test_list_errors),
	    cmocka_unit_test(test_multipart_docs),   cmocka_unit_test(test_creds_file),
	    cmocka_unit_test(test_creds_file_mode),  cmocka_unit_test(test_creds_in_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
