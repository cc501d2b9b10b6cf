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
#include "common/ratelimit.h"
#include "protocols/backend.h"

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
	int rc = ufs_config_load(write_conf(text, mode), &ufs_backend_schema, pcfg, err, 512);

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

/* Found by tests/fuzz/fuzz_config: the section line of a mount without url
 * was looked up with an overlapping memcpy() once the prefix was longer
 * than 'mount "' (ASan: memcpy-param-overlap). */
static void test_missing_url_long_prefix(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    load("; c\n[mount \"/datasets/imagenet/train\"]\nreadonly = true\n", 0644, &cfg, err),
	    -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "[mount \"/datasets/imagenet/train\"] has no url"));
}

static void test_unknown_scheme(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(load("[mount \"/x\"]\nurl = ftp://host/x\n", 0644, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "unknown URL scheme 'ftp'"));
	assert_int_equal(
	    ufs_config_from_url("gopher://x", &ufs_backend_schema, &cfg, err, sizeof(err)),
	    -EINVAL);
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

		snprintf(t, sizeof(t), "[mount \"/b\"]\n%s = VALUE42\nurl = %s://bkt/p\n", keys[i],
			 i < 3 ? "s3" : "az");
		cfg = NULL;
		assert_int_equal(load(t, 0640, &cfg, err), -EPERM);
		assert_null(strstr(err, "VALUE42"));
		assert_int_equal(load(t, 0600, &cfg, err), 0);
		assert_string_equal(ufs_mcfg_get(&cfg->mounts[0], keys[i]), "VALUE42");
		ufs_config_destroy(cfg);
	}
}

static void test_unknown_key_lists_scheme_keys(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[1024] = "";

	(void)state;
	/* an Azure key in an S3 section (url after it): unknown for s3, value not shown */
	assert_int_equal(
	    load("[mount \"/b\"]\naccount_key = SECRETVALUE\nurl = s3://bkt\n", 0600, &cfg, err),
	    -EINVAL);
	assert_non_null(strstr(err, ":2: unknown key 'account_key'"));
	assert_non_null(strstr(err, "s3://"));
	assert_non_null(strstr(err, "session_token"));
	assert_non_null(strstr(err, "endpoint"));
	assert_null(strstr(err, "sas_token"));
	assert_null(strstr(err, "SECRETVALUE"));
	assert_null(strchr(err, '\n'));
	/* the same key is fine for az */
	assert_int_equal(
	    load("[mount \"/b\"]\naccount_key = SECRETVALUE\nurl = az://c\n", 0600, &cfg, err), 0);
	ufs_config_destroy(cfg);
	/* nfs and file accept only the common keys, and nfs its own */
	assert_int_equal(load("[mount \"/n\"]\nurl = nfs://h/e\nregion = x\n", 0644, &cfg, err),
			 -EINVAL);
	assert_non_null(strstr(err, ":3: unknown key 'region'"));
	assert_non_null(strstr(err, "op_timeout"));
	assert_non_null(strstr(err, "nfs_connections"));
	assert_int_equal(
	    load("[mount \"/n\"]\nurl = nfs://h/e\nnfs_connections = 4\n", 0644, &cfg, err), 0);
	assert_string_equal(ufs_mcfg_get(&cfg->mounts[0], "nfs_connections"), "4");
	ufs_config_destroy(cfg);
	assert_int_equal(
	    load("[mount \"/f\"]\nurl = file:///tmp\nnfs_connections = 4\n", 0644, &cfg, err),
	    -EINVAL);
	assert_non_null(strstr(err, ":3: unknown key 'nfs_connections'"));
}

/* Does the .SS section of man page text whose heading holds word mention key? */
static int man_section_has(const char *text, const char *word, const char *key)
{
	for (const char *ss = strstr(text, "\n.SS "); ss; ss = strstr(ss + 1, "\n.SS ")) {
		const char *head = ss + 5, *eol = strchr(head, '\n');
		const char *end = eol ? strstr(eol, "\n.S") : NULL;
		size_t wl = strlen(word), kl = strlen(key);
		int in_head = 0;

		if (!eol)
			return 0;
		for (const char *p = head; p + wl <= eol; p++)
			if (strncmp(p, word, wl) == 0 && (p == head || p[-1] == ' ') &&
			    (p[wl] == ' ' || p[wl] == ':' || p[wl] == '\n'))
				in_head = 1;
		if (!end)
			end = eol + strlen(eol);
		for (const char *p = eol; in_head && (p = strstr(p, key)) && p < end; p++)
			if ((p[-1] == ' ' || p[-1] == '"') &&
			    (p[kl] == ' ' || p[kl] == '\n' || p[kl] == '"'))
				return 1;
	}
	return 0;
}

static void man_check_keys(const char *text, const char *word, const struct ufs_cfg_key *t)
{
	for (; t && t->name; t++) {
		if (!man_section_has(text, word, t->name))
			fail_msg("unifs.conf.5: key '%s' not documented under a .SS naming '%s'",
				 t->name, word);
	}
}

static void test_man_page_lists_every_key(void **state)
{
	const char *data = getenv("UFS_TEST_DATA");
	char path[512];
	char text[65536];
	size_t n_ops;
	const struct ufs_backend_ops *const *ops = ufs_backend_registry(&n_ops);
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/../../man/unifs.conf.5", data);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	man_check_keys(text, "Any", ufs_backend_common_keys);
	for (size_t i = 0; i < n_ops; i++) {
		man_check_keys(text, ops[i]->scheme, ops[i]->family_keys);
		man_check_keys(text, ops[i]->scheme, ops[i]->keys);
	}
	/* the check can fail */
	assert_false(man_section_has(text, "s3", "account_key"));
}

/* Is "      NAME " (a help row for key name) in text, marked secret when secret? */
static int help_has_row(const char *text, const struct ufs_cfg_key *k)
{
	char row[128];
	const char *p, *secret;

	snprintf(row, sizeof(row), "      %s ", k->name);
	p = strstr(text, row);
	if (!p)
		return 0;
	if (!(k->flags & UFS_CFGKEY_SECRET))
		return 1;
	secret = strstr(p, "(secret");
	return secret && secret < strchr(p, '\n');
}

static void test_help_lists_every_key(void **state)
{
	char *text = NULL;
	size_t len = 0, n_ops;
	const struct ufs_backend_ops *const *ops = ufs_backend_registry(&n_ops);
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	ufs_backend_print_help(f);
	fclose(f);
	for (const struct ufs_cfg_key *k = ufs_backend_common_keys; k->name; k++)
		assert_true(help_has_row(text, k));
	for (size_t i = 0; i < n_ops; i++) {
		assert_non_null(strstr(text, ops[i]->url_help));
		for (const struct ufs_cfg_key *k = ops[i]->keys; k && k->name; k++)
			assert_true(help_has_row(text, k));
		for (const struct ufs_cfg_key *k = ops[i]->family_keys; k && k->name; k++)
			assert_true(help_has_row(text, k));
	}
	free(text);
}

static void test_seconds_reject_nan_inf(void **state)
{
	static const char *const bad[] = {"nan", "inf", "-inf", "infinity", "NAN", "1e999", "-1"};
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    ufs_config_from_url("file:///tmp", &ufs_backend_schema, &cfg, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ufs_config_set_global(cfg, "attr_ttl", bad[i], err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "attr_ttl: expected seconds"));
	}
	assert_int_equal(ufs_config_set_global(cfg, "attr_ttl", "1.5", err, sizeof(err)), 0);
	assert_true(cfg->attr_ttl == 1.5);
	ufs_config_destroy(cfg);
	assert_int_equal(
	    load("[mount \"/x\"]\nurl = file:///tmp\nop_timeout = nan\n", 0644, &cfg, err),
	    -EINVAL);
	assert_non_null(strstr(err, ":3:"));
}

/* A config whose inline session token is tok_len bytes, then a bad line 5. */
static int load_long_token(size_t tok_len, mode_t mode, struct ufs_config **pcfg, char *err)
{
	char *text = malloc(tok_len + 256);
	size_t n;
	int rc;

	assert_non_null(text);
	n = (size_t)sprintf(text, "[mount \"/s\"]\nurl = s3://bkt\nsession_token = ");
	for (size_t i = 0; i < tok_len; i++)
		text[n++] = (char)('A' + i % 26);
	sprintf(text + n, "\naccess_key_id = AK\n%s", mode == 0600 ? "" : "colour = red\n");
	rc = load(text, mode, pcfg, err);
	free(text);
	return rc;
}

static void test_long_lines(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[1024] = "";

	(void)state;
	assert_int_equal(load_long_token(9000, 0600, &cfg, err), 0);
	assert_int_equal(strlen(ufs_mcfg_get(&cfg->mounts[0], "session_token")), 9000);
	assert_string_equal(ufs_mcfg_get(&cfg->mounts[0], "access_key_id"), "AK");
	ufs_config_destroy(cfg);
	/* an error after the long line names the right line, and no secret */
	assert_int_equal(load_long_token(2000, 0640, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, ":5: unknown key 'colour'"));
	assert_null(strstr(err, "ABCDEFGH"));
	/* a long garbage line (a token without its key) never shows itself */
	assert_int_equal(load("[mount \"/s\"]\nurl = s3://bkt\n"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOP"
			      "QRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF"
			      "GHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ\n",
			      0600, &cfg, err),
			 -EINVAL);
	assert_non_null(strstr(err, ":3:"));
	assert_null(strstr(err, "ABCDEFGH"));
}

static void test_overrides(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    ufs_config_from_url("s3://bucket/prefix/", &ufs_backend_schema, &cfg, err, sizeof(err)),
	    0);
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

/* Durations of --min-age/--max-age: seconds, units s m h d w, sums. */
static void test_durations(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(ufs_parse_duration("90", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(ufs_parse_duration("30s", &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(ufs_parse_duration("10m", &v), 0);
	assert_int_equal(v, 600);
	assert_int_equal(ufs_parse_duration("2h", &v), 0);
	assert_int_equal(v, 7200);
	assert_int_equal(ufs_parse_duration("7d", &v), 0);
	assert_int_equal(v, 7 * 86400);
	assert_int_equal(ufs_parse_duration("1w", &v), 0);
	assert_int_equal(v, 7 * 86400);
	assert_int_equal(ufs_parse_duration("1h30m", &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(ufs_parse_duration("", &v), -EINVAL);
	assert_int_equal(ufs_parse_duration("-1d", &v), -EINVAL);
	assert_int_equal(ufs_parse_duration("3x", &v), -EINVAL);
	assert_int_equal(ufs_parse_duration("d", &v), -EINVAL);
	assert_int_equal(ufs_parse_duration("1hm", &v), -EINVAL);
	assert_int_equal(ufs_parse_duration("99999999999999999999d", &v), -EINVAL);
}

/* bwlimit: [global] makes the shared bucket (0: unlimited), [mount]
 * accepts a size, anything else is refused naming the key. */
static void test_bwlimit_keys(void **state)
{
	struct ufs_config *cfg = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(load("[global]\nbwlimit = 8M\n[mount \"/\"]\nurl = file:///tmp\n"
			      "bwlimit = 0\n",
			      0600, &cfg, err),
			 0);
	assert_int_equal(cfg->bwlimit, 8ULL << 20);
	assert_non_null(cfg->bw);
	assert_int_equal(ufs_ratelimit_rate(cfg->bw), 8ULL << 20);
	assert_string_equal(ufs_mcfg_get(&cfg->mounts[0], "bwlimit"), "0");
	assert_int_equal(ufs_config_set_global(cfg, "bwlimit", "0", err, sizeof(err)), 0);
	assert_int_equal(ufs_ratelimit_rate(cfg->bw), 0);
	assert_int_equal(ufs_config_set_global(cfg, "bwlimit", "fast", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bwlimit"));
	ufs_config_destroy(cfg);
	cfg = NULL;
	assert_int_equal(
	    load("[mount \"/\"]\nurl = file:///tmp\nbwlimit = lots\n", 0600, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "bwlimit"));
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
	    cmocka_unit_test(test_missing_url_long_prefix),
	    cmocka_unit_test(test_unknown_scheme),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_secret_permissions),
	    cmocka_unit_test(test_unknown_key_lists_scheme_keys),
	    cmocka_unit_test(test_man_page_lists_every_key),
	    cmocka_unit_test(test_help_lists_every_key),
	    cmocka_unit_test(test_seconds_reject_nan_inf),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_bwlimit_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
