/* test_xml.c — ufs_xml_parse(): element paths, text, entities, stop, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/xml.h"

struct rec {
	char log[2048];
	int stop_at; /* stop with 42 at the n-th end event, 0 = never */
	int n_end;
};

static int rec_start(void *arg, const char *path, const char *text, size_t len)
{
	struct rec *r = arg;
	size_t l = strlen(r->log);

	assert_null(text);
	assert_int_equal(len, 0);
	snprintf(r->log + l, sizeof(r->log) - l, "<%s>", path);
	return 0;
}

static int rec_end(void *arg, const char *path, const char *text, size_t len)
{
	struct rec *r = arg;
	size_t l = strlen(r->log);

	snprintf(r->log + l, sizeof(r->log) - l, "[%s=%.*s]", path, (int)len, text);
	r->n_end++;
	return r->stop_at && r->n_end == r->stop_at ? 42 : 0;
}

static void test_paths_and_text(void **state)
{
	const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			  "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
			  "<Name>bkt</Name><Contents><Key>a &amp; b&lt;c&gt;</Key>"
			  "<Size>12</Size></Contents></ListBucketResult>";
	struct rec r = {0};
	char err[128] = "";

	(void)state;
	assert_int_equal(ufs_xml_parse(doc, strlen(doc), rec_start, rec_end, &r, err, sizeof(err)),
			 0);
	assert_string_equal(r.log, "<ListBucketResult><ListBucketResult/Name>"
				   "[ListBucketResult/Name=bkt]"
				   "<ListBucketResult/Contents><ListBucketResult/Contents/Key>"
				   "[ListBucketResult/Contents/Key=a & b<c>]"
				   "<ListBucketResult/Contents/Size>"
				   "[ListBucketResult/Contents/Size=12]"
				   "[ListBucketResult/Contents=][ListBucketResult=]");
}

static void test_unicode_and_cdata(void **state)
{
	const char *doc = "<E><K>caf\xc3\xa9 <![CDATA[<x>]]> &#x263A;</K></E>";
	struct rec r = {0};
	char err[128];

	(void)state;
	assert_int_equal(ufs_xml_parse(doc, strlen(doc), NULL, rec_end, &r, err, sizeof(err)), 0);
	assert_string_equal(r.log, "[E/K=caf\xc3\xa9 <x> \xe2\x98\xba][E=]");
}

static void test_stop(void **state)
{
	const char *doc = "<a><b>1</b><b>2</b><b>3</b></a>";
	struct rec r = {.stop_at = 2};
	char err[128];

	(void)state;
	assert_int_equal(ufs_xml_parse(doc, strlen(doc), NULL, rec_end, &r, err, sizeof(err)), 42);
	assert_string_equal(r.log, "[a/b=1][a/b=2]");
}

static void test_malformed(void **state)
{
	const char *docs[] = {"<a><b>1</a>", "<a>", "", "not xml", "<a></a><b/>"};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct rec r = {0};

		err[0] = '\0';
		assert_int_equal(ufs_xml_parse(docs[i], strlen(docs[i]), rec_start, rec_end, &r,
					       err, sizeof(err)),
				 -EIO);
		assert_non_null(strstr(err, "line "));
	}
}

static void test_deep_and_long(void **state)
{
	size_t n = 200, cap = n * 8 + 200000;
	char *doc = malloc(cap);
	size_t len = 0;
	struct rec r = {0};
	char err[128];

	(void)state;
	assert_non_null(doc);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(doc + len, "<x>");
	memset(doc + len, 'y', 100000);
	len += 100000;
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(doc + len, "</x>");
	assert_int_equal(ufs_xml_parse(doc, len, NULL, rec_end, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_end, (int)n);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths_and_text), cmocka_unit_test(test_unicode_and_cdata),
	    cmocka_unit_test(test_stop),	   cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_deep_and_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
