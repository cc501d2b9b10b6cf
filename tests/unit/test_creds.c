/*
 * test_creds.c — the pure parts of the cloud credential chains: the JSON
 * member reader (common/json.c), the shared config/credentials profile
 * parser (creds.c), the token answers of IMDS / container / STS / Azure AD
 * (creds_aws_src.c, creds_azure.c), and the self-renewing credential
 * (credsrc.c) driven by a fake source with lifetimes of a few seconds:
 * refresh before expiry, readers never blocked, a failing refresh keeping
 * the old set until it expires, already-expired answers refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/json.h"
#include "protocols/creds_http.h"
#include "protocols/s3/creds.h"
#include "protocols/s3/creds_aws_i.h"
#include "protocols/azure/creds_azure.h"
#include "protocols/credsrc.h"

/* ---- JSON ---- */

static void test_json_members(void **state)
{
	const char *j =
	    " { \"a\" : \"x\\\"y\\\\z\\u00e9\\ud83d\\ude00\", \"n\": -12.5e3, \"t\":true,"
	    "\"o\":{\"a\":\"inner\"},\"arr\":[1,{\"x\":[]}],\"nul\":null } ";
	char *v = NULL;

	(void)state;
	assert_int_equal(ufs_json_get(j, strlen(j), "a", &v), 0);
	assert_string_equal(v, "x\"y\\z\xc3\xa9\xf0\x9f\x98\x80");
	free(v);
	assert_int_equal(ufs_json_get(j, strlen(j), "n", &v), 0);
	assert_string_equal(v, "-12.5e3");
	free(v);
	assert_int_equal(ufs_json_get(j, strlen(j), "t", &v), 0);
	assert_string_equal(v, "true");
	free(v);
	/* only top-level members; null, objects and arrays are "absent" */
	assert_int_equal(ufs_json_get(j, strlen(j), "x", &v), -ENOENT);
	assert_int_equal(ufs_json_get(j, strlen(j), "o", &v), -ENOENT);
	assert_int_equal(ufs_json_get(j, strlen(j), "nul", &v), -ENOENT);
	assert_null(v);
}

static void test_json_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"a\":\"x\"",
	    "{\"a\":\"x\",}",
	    "{\"a\" \"x\"}",
	    "{\"a\":\"\\q\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":tru}",
	    "{\"a\":\"x\"} trailing",
	    "{\"AccessKeyId\": \"ASIA, \"access_token\": tr",
	    "{\"a\":\"raw\ncontrol\"}",
	};
	char deep[200];
	char *v = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ufs_json_get(bad[i], strlen(bad[i]), "a", &v), -EINVAL);
	/* nesting beyond the bound is refused, not recursed into */
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"a\":", 5);
	assert_int_equal(ufs_json_get(deep, sizeof(deep), "a", &v), -EINVAL);
	/* the length bounds the text (no NUL needed) */
	assert_int_equal(ufs_json_get("{\"a\":\"b\"}xxxx", 9, "a", &v), 0);
	assert_string_equal(v, "b");
	free(v);
}

/* ---- profiles ---- */

static void test_profile_parse(void **state)
{
	const char *config = "[default]\nregion = us-west-2\n"
			     "[profile app]\nrole_arn = arn:aws:iam::1:role/app\n"
			     "source_profile = base\nregion = eu-west-3\n"
			     "credential_process = /bin/creds --x\n"
			     "[app]\nregion = not-this-one\n"
			     "[profile empty]\n";
	const char *creds = "[app]\naws_access_key_id = AK\naws_secret_access_key = SK\n"
			    "[profile app]\naws_access_key_id = wrong\n";
	struct ufs_aws_profile p = {0};

	(void)state;
	assert_int_equal(ufs_aws_profile_parse(config, 1, "app", &p), 0);
	assert_true(p.found);
	assert_string_equal(p.v[UFS_AWSP_REGION], "eu-west-3");
	assert_string_equal(p.v[UFS_AWSP_ROLE_ARN], "arn:aws:iam::1:role/app");
	assert_string_equal(p.v[UFS_AWSP_SOURCE_PROFILE], "base");
	assert_string_equal(p.v[UFS_AWSP_CREDENTIAL_PROCESS], "/bin/creds --x");
	assert_null(p.v[UFS_AWSP_ACCESS_KEY]);
	assert_int_equal(ufs_aws_profile_parse(creds, 0, "app", &p), 0);
	assert_string_equal(p.v[UFS_AWSP_ACCESS_KEY], "AK");
	assert_string_equal(p.v[UFS_AWSP_SECRET_KEY], "SK");
	ufs_aws_profile_clear(&p);

	assert_int_equal(ufs_aws_profile_parse(config, 1, "default", &p), 0);
	assert_true(p.found);
	assert_string_equal(p.v[UFS_AWSP_REGION], "us-west-2");
	ufs_aws_profile_clear(&p);
	/* a section with no key still exists */
	assert_int_equal(ufs_aws_profile_parse(config, 1, "empty", &p), 0);
	assert_true(p.found);
	ufs_aws_profile_clear(&p);
	assert_int_equal(ufs_aws_profile_parse(config, 1, "nope", &p), 0);
	assert_false(p.found);
	ufs_aws_profile_clear(&p);
	assert_string_equal(ufs_aws_profile_key_name(UFS_AWSP_WEB_IDENTITY_TOKEN_FILE),
			    "web_identity_token_file");
}

static void test_profile_load_files(void **state)
{
	char dir[] = "/tmp/test_creds.XXXXXX", cf[300], kf[300], err[300];
	struct ufs_aws_profile p;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cf, sizeof(cf), "%s/config", dir);
	snprintf(kf, sizeof(kf), "%s/credentials", dir);
	f = fopen(cf, "w");
	fputs("[profile p]\nregion = ap-south-1\naws_secret_access_key = leaked\n", f);
	fclose(f);
	chmod(cf, 0644);
	setenv("AWS_CONFIG_FILE", cf, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", kf, 1);
	/* a config file holding a secret must not be readable by others */
	assert_int_equal(ufs_aws_profile_load("p", &p, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(strstr(err, "leaked"));
	chmod(cf, 0600);
	assert_int_equal(ufs_aws_profile_load("p", &p, err, sizeof(err)), 0);
	assert_string_equal(p.v[UFS_AWSP_REGION], "ap-south-1");
	ufs_aws_profile_clear(&p);
	assert_int_equal(ufs_aws_profile_load("q", &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "'q' is in neither"));
	unlink(cf);
	rmdir(dir);
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

/* ---- token answers ---- */

static void test_aws_json_answers(void **state)
{
	const char *imds = "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\","
			   "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIA1\","
			   "\"SecretAccessKey\":\"s3cr3t\",\"Token\":\"tok\","
			   "\"Expiration\":\"2030-01-02T03:04:05Z\"}";
	const char *proc = "{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\","
			   "\"SessionToken\":\"ST\"}";
	struct ufs_cred_set *s = NULL;
	char err[200];

	(void)state;
	assert_int_equal(ufs_aws_parse_json_creds("IMDS", imds, strlen(imds), &s, err, sizeof(err)),
			 0);
	assert_string_equal(s->id, "ASIA1");
	assert_string_equal(s->secret, "s3cr3t");
	assert_string_equal(s->token, "tok");
	assert_int_equal(s->expires, 1893553445);
	ufs_cred_set_put(s);
	assert_int_equal(ufs_aws_parse_json_creds("proc", proc, strlen(proc), &s, err, sizeof(err)),
			 0);
	assert_string_equal(s->token, "ST");
	assert_int_equal(s->expires, 0); /* no Expiration: never */
	ufs_cred_set_put(s);

	const char *fail = "{\"Code\":\"Failure\"}", *half = "{\"AccessKeyId\":\"a\"}";

	assert_int_equal(ufs_aws_parse_json_creds("IMDS", fail, strlen(fail), &s, err, sizeof(err)),
			 -EACCES);
	assert_int_equal(ufs_aws_parse_json_creds("X", half, strlen(half), &s, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "lacks"));
	assert_int_equal(ufs_aws_parse_json_creds("X", "not json", 8, &s, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "X: malformed answer (not a JSON object)");
	const char *badexp =
	    "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\",\"Expiration\":\"soon\"}";
	assert_int_equal(
	    ufs_aws_parse_json_creds("X", badexp, strlen(badexp), &s, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "\"b\""));
}

static void test_sts_answer(void **state)
{
	const char *xml =
	    "<AssumeRoleWithWebIdentityResponse "
	    "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	    "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>x"
	    "</SubjectFromWebIdentityToken><Credentials><SessionToken>ST</SessionToken>"
	    "<SecretAccessKey>SK</SecretAccessKey><Expiration>2030-01-02T03:04:05.123Z</Expiration>"
	    "<AccessKeyId>ASIA2</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>"
	    "</AssumeRoleWithWebIdentityResponse>";
	struct ufs_cred_set *s = NULL;
	char err[200];

	(void)state;
	assert_int_equal(
	    ufs_aws_parse_sts("AssumeRoleWithWebIdentity", xml, strlen(xml), &s, err, sizeof(err)),
	    0);
	assert_string_equal(s->id, "ASIA2");
	assert_string_equal(s->token, "ST");
	assert_int_equal(s->expires, 1893553445);
	ufs_cred_set_put(s);
	/* the wrong action's document, or a truncated one, is refused */
	assert_int_equal(ufs_aws_parse_sts("AssumeRole", xml, strlen(xml), &s, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
	    ufs_aws_parse_sts("AssumeRoleWithWebIdentity", xml, 100, &s, err, sizeof(err)),
	    -EINVAL);
}

static void test_sts_endpoint(void **state)
{
	char *u;

	(void)state;
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_ENDPOINT_URL");
	u = ufs_aws_sts_endpoint(NULL, NULL, "eu-west-1");
	assert_string_equal(u, "https://sts.eu-west-1.amazonaws.com");
	free(u);
	u = ufs_aws_sts_endpoint(NULL, "http://profile:1/", "eu-west-1");
	assert_string_equal(u, "http://profile:1");
	free(u);
	setenv("AWS_ENDPOINT_URL_STS", "http://env:2//", 1);
	u = ufs_aws_sts_endpoint(NULL, "http://profile:1/", "eu-west-1");
	assert_string_equal(u, "http://env:2");
	free(u);
	u = ufs_aws_sts_endpoint("http://mount:3", NULL, "x");
	assert_string_equal(u, "http://mount:3");
	free(u);
	unsetenv("AWS_ENDPOINT_URL_STS");
}

static void test_azure_token_answers(void **state)
{
	const char *aad =
	    "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"eyJ.x.y\"}";
	const char *imds =
	    "{\"access_token\":\"eyJ.a.b\",\"expires_in\":\"86399\","
	    "\"expires_on\":\"1893553445\",\"resource\":\"https://storage.azure.com/\"}";
	struct ufs_cred_set *s = NULL;
	char err[200];

	(void)state;
	assert_int_equal(ufs_az_parse_token("AAD", aad, strlen(aad), 1000, &s, err, sizeof(err)),
			 0);
	assert_string_equal(s->token, "eyJ.x.y");
	assert_null(s->id);
	assert_int_equal(s->expires, 1000 + 3599);
	ufs_cred_set_put(s);
	assert_int_equal(ufs_az_parse_token("MI", imds, strlen(imds), 1000, &s, err, sizeof(err)),
			 0);
	assert_int_equal(s->expires, 1893553445); /* expires_on wins */
	ufs_cred_set_put(s);
	assert_int_equal(
	    ufs_az_parse_token("MI", "{\"access_token\":\"t\"}", 20, 0, &s, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "expires_on"));
	assert_int_equal(
	    ufs_az_parse_token("MI", "{\"expires_in\":5}", 16, 0, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "access_token"));
}

/* ---- the self-renewing credential ---- */

struct fake_src {
	int n;	      /* fetches so far */
	int fail;     /* fail the next fetches */
	int lifetime; /* seconds; <= 0: already expired */
};

static int fake_fetch(void *arg, struct ufs_cred_set **pset, char *err, size_t errlen)
{
	struct fake_src *f = arg;
	char id[32];
	int n = __atomic_add_fetch(&f->n, 1, __ATOMIC_SEQ_CST);

	if (__atomic_load_n(&f->fail, __ATOMIC_SEQ_CST)) {
		snprintf(err, errlen, "fake: HTTP 500");
		return -EIO;
	}
	snprintf(id, sizeof(id), "AK%d", n);
	*pset = ufs_cred_set_new(id, "secret", NULL, time(NULL) + f->lifetime);
	return *pset ? 0 : -ENOMEM;
}

static void test_credsrc_margin(void **state)
{
	(void)state;
	assert_int_equal(ufs_credsrc_margin(0, 3600), UFS_CREDSRC_MARGIN);
	assert_int_equal(ufs_credsrc_margin(0, 60), 20);
	assert_int_equal(ufs_credsrc_margin(100, 50), 0);
}

static void test_credsrc_refresh(void **state)
{
	struct fake_src f = {0, 0, 3};
	struct ufs_credsrc *src = NULL;
	struct ufs_credsrc_info ci;
	struct ufs_cred_set *held, *s;
	char err[200];

	(void)state;
	assert_int_equal(ufs_credsrc_create("fake", fake_fetch, &f, NULL, &src, err, sizeof(err)),
			 0);
	held = ufs_credsrc_get(src, err, sizeof(err));
	assert_string_equal(held->id, "AK1");
	/* lifetime 3 s: renewed after 2 s, twice within 5 s */
	sleep(5);
	s = ufs_credsrc_get(src, err, sizeof(err));
	assert_non_null(s);
	assert_true(f.n >= 3);
	assert_string_not_equal(s->id, "AK1");
	/* a set a reader holds stays intact after the swap */
	assert_string_equal(held->id, "AK1");
	ufs_cred_set_put(held);
	ufs_cred_set_put(s);
	ufs_credsrc_info(src, &ci);
	assert_string_equal(ci.source, "fake");
	assert_true(ci.refreshes >= 2);
	assert_int_equal(ci.refresh_failures, 0);
	assert_true(ci.expires > time(NULL));

	/* failing: counted, the current set served until it expires, then refused */
	__atomic_store_n(&f.fail, 1, __ATOMIC_SEQ_CST);
	s = ufs_credsrc_get(src, err, sizeof(err));
	assert_non_null(s);
	ufs_cred_set_put(s);
	sleep(4);
	s = ufs_credsrc_get(src, err, sizeof(err));
	assert_null(s);
	assert_non_null(
	    strstr(err, "credentials from fake expired; refresh failing: fake: HTTP 500"));
	ufs_credsrc_info(src, &ci);
	assert_true(ci.refresh_failures >= 1);
	assert_string_equal(ci.last_error, "fake: HTTP 500");
	/* recovery: the refresher retries at most 5 s apart once expired */
	__atomic_store_n(&f.fail, 0, __ATOMIC_SEQ_CST);
	sleep(6);
	s = ufs_credsrc_get(src, err, sizeof(err));
	assert_non_null(s);
	ufs_cred_set_put(s);
	ufs_credsrc_destroy(src);
}

static void test_credsrc_refuses(void **state)
{
	struct fake_src expired = {0, 0, -10}, failing = {0, 1, 10};
	struct ufs_credsrc *src = NULL;
	struct ufs_cred_set *s;
	char err[200];

	(void)state;
	assert_int_equal(
	    ufs_credsrc_create("old", fake_fetch, &expired, NULL, &src, err, sizeof(err)),
	    -EKEYEXPIRED);
	assert_non_null(strstr(err, "credentials from old expired at "));
	assert_null(src);
	assert_int_equal(
	    ufs_credsrc_create("bad", fake_fetch, &failing, NULL, &src, err, sizeof(err)), -EIO);
	assert_string_equal(err, "fake: HTTP 500");
	/* static: never expires, no thread */
	s = ufs_cred_set_new("AK", "SK", "", 0);
	assert_null(s->token);
	assert_int_equal(ufs_credsrc_static("environment", s, &src), 0);
	s = ufs_credsrc_get(src, NULL, 0);
	assert_string_equal(s->id, "AK");
	ufs_cred_set_put(s);
	ufs_credsrc_destroy(src);
	ufs_credsrc_destroy(NULL);
}

static void test_token_file(void **state)
{
	char path[] = "/tmp/test_creds_tok.XXXXXX", err[300], *t = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(write(fd, "  eyJtoken\n\n", 12) == 12);
	fchmod(fd, 0644); /* Kubernetes projects these world-readable */
	close(fd);
	assert_int_equal(ufs_creds_read_token(path, &t, err, sizeof(err)), 0);
	assert_string_equal(t, "eyJtoken");
	free(t);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(write(fd, " \n", 2) == 2);
	close(fd);
	assert_int_equal(ufs_creds_read_token(path, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "it is empty"));
	unlink(path);
	assert_int_equal(ufs_creds_read_token(path, &t, err, sizeof(err)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_members),     cmocka_unit_test(test_json_malformed),
	    cmocka_unit_test(test_profile_parse),    cmocka_unit_test(test_profile_load_files),
	    cmocka_unit_test(test_aws_json_answers), cmocka_unit_test(test_sts_answer),
	    cmocka_unit_test(test_sts_endpoint),     cmocka_unit_test(test_azure_token_answers),
	    cmocka_unit_test(test_credsrc_margin),   cmocka_unit_test(test_credsrc_refresh),
	    cmocka_unit_test(test_credsrc_refuses),  cmocka_unit_test(test_token_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
