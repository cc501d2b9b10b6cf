/* test_config.c — config parsing: keys, errors with file:line, secrets, overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"

static char tmp_path[256];

/* Write text to a fresh temp file with the given mode; returns its path. */
static const char *write_conf(const char *text, mode_t mode)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/ufs-test-config-XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
	return tmp_path;
}

static int load(const char *text, mode_t mode, struct ufs_config **pcfg, char *err)
{
	int rc = ufs_config_load(write_conf(text, mode), pcfg, err, 512);

	unlink(tmp_path);
	return rc;
}

static void test_full_example(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";
	const char *text = "[global]\n"
			   "memory     = 2G                  # total budget\n"
			   "cache_dir  = /var/cache/unifs\n"
			   "cache_size = 100G\n"
			   "log        = info\n\n"
			   "[mount \"/datasets\"]\n"
			   "url = nfs://filer.example/export/datasets\n\n"
			   "[mount \"/ckpt/\"]\n"
			   "url        = s3://my-bucket/checkpoints/\n"
			   "region     = us-east-1\n"
			   "path_style = false\n"
			   "readonly   = true\n";

	(void)state;
	assert_int_equal(load(text, 0644, &cfg, err), 0);
	assert_int_equal(cfg->memory, 2ULL << 30);
	assert_int_equal(cfg->cache_size, 100ULL << 30);
	assert_string_equal(cfg->cache_dir, "/var/cache/unifs");
	assert_int_equal(cfg->n_mounts, 2);
	assert_string_equal(cfg->mounts[0].prefix, "/datasets");
	assert_string_equal(cfg->mounts[1].prefix, "/ckpt");
	assert_string_equal(cfg->mounts[1].url, "s3://my-bucket/checkpoints/");
	assert_string_equal(ufs_mcfg_get(&cfg->mounts[1], "region"), "us-east-1");
	assert_true(cfg->mounts[1].readonly);
	assert_false(cfg->mounts[0].readonly);
	assert_null(ufs_mcfg_get(&cfg->mounts[0], "region"));
	ufs_config_destroy(cfg);
}

static void test_unknown_key_names_line(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(load("[mount \"/a\"]\nurl = file:///tmp\nfoo = 1\n", 0644, &cfg, err),
			 -EINVAL);
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "unknown key 'foo'"));
}

static void test_bad_section(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    load("[global]\nmemory=1G\n[mnt \"/a\"]\nurl = file:///tmp\n", 0644, &cfg, err),
	    -EINVAL);
	assert_non_null(strstr(err, ":4:"));
	assert_non_null(strstr(err, "unknown section"));
}

static void test_missing_url(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    load("[global]\nlog=info\n\n[mount \"/x\"]\nreadonly = true\n", 0644, &cfg, err),
	    -EINVAL);
	assert_non_null(strstr(err, ":4:"));
	assert_non_null(strstr(err, "has no url"));
}

static void test_unknown_scheme(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(load("[mount \"/x\"]\nurl = ftp://host/x\n", 0644, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "unknown URL scheme 'ftp'"));
	assert_int_equal(ufs_config_from_url("gopher://x", &cfg, err, sizeof(err)), -EINVAL);
}

static void test_bad_values(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    load("[global]\nmemory = lots\n[mount \"/x\"]\nurl=file:///\n", 0644, &cfg, err),
	    -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_int_equal(load("[mount \"/x\"]\nurl=file:///\nreadonly = maybe\n", 0644, &cfg, err),
			 -EINVAL);
	assert_non_null(strstr(err, ":3:"));
	assert_int_equal(load("[mount \"../x\"]\nurl=file:///\n", 0644, &cfg, err), -EINVAL);
	assert_int_equal(load("[global]\nmemory=1G\n", 0644, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "no [mount"));
	assert_int_equal(load("garbage line\n", 0644, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, ":1:"));
}

static void test_secret_permissions(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";
	const char *text = "[mount \"/b\"]\nurl = az://c/p\naccount_key = c2VjcmV0\n";

	(void)state;
	assert_int_equal(load(text, 0644, &cfg, err), -EPERM);
	assert_non_null(strstr(err, "readable by group/other"));
	assert_null(strstr(err, "c2VjcmV0"));
	assert_int_equal(load(text, 0600, &cfg, err), 0);
	ufs_config_destroy(cfg);

	/* every credential key makes the file sensitive */
	static const char *const keys[] = {"access_key_id", "secret_access_key", "session_token",
					   "account_key", "sas_token"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char t[128];

		snprintf(t, sizeof(t), "[mount \"/b\"]\nurl = s3://bkt/p\n%s = VALUE42\n", keys[i]);
		cfg = NULL;
		assert_int_equal(load(t, 0640, &cfg, err), -EPERM);
		assert_null(strstr(err, "VALUE42"));
		assert_int_equal(load(t, 0600, &cfg, err), 0);
		assert_string_equal(ufs_mcfg_get(&cfg->mounts[0], keys[i]), "VALUE42");
		ufs_config_destroy(cfg);
	}
}

static void test_overrides(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(ufs_config_from_url("s3://bucket/prefix/", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->mounts[0].prefix, "/");
	assert_int_equal(ufs_config_set_global(cfg, "memory", "1G", err, sizeof(err)), 0);
	assert_int_equal(cfg->memory, 1ULL << 30);
	assert_int_equal(ufs_config_set_global(cfg, "ro", NULL, err, sizeof(err)), 0);
	assert_true(cfg->readonly);
	assert_int_equal(ufs_config_set_global(cfg, "bogus", "1", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	assert_int_equal(ufs_config_set_global(cfg, "log", "loud", err, sizeof(err)), -EINVAL);
	assert_int_equal(ufs_config_validate(cfg, err, sizeof(err)), 0);
	ufs_config_destroy(cfg);
}

static void test_sizes(void **state)
{
	uint64_t v;
	int b;

	(void)state;
	assert_int_equal(ufs_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ufs_parse_size("8M", &v), 0);
	assert_int_equal(v, 8ULL << 20);
	assert_int_equal(ufs_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(ufs_parse_size("1t", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(ufs_parse_size("-1", &v), -EINVAL);
	assert_int_equal(ufs_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(ufs_parse_size("", &v), -EINVAL);
	assert_int_equal(ufs_parse_bool("yes", &b), 0);
	assert_true(b);
	assert_int_equal(ufs_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(ufs_parse_bool("maybe", &b), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_example),
	    cmocka_unit_test(test_unknown_key_names_line),
	    cmocka_unit_test(test_bad_section),
	    cmocka_unit_test(test_missing_url),
	    cmocka_unit_test(test_unknown_scheme),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_secret_permissions),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
