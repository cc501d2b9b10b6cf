/*
 * test_cli.c — the CLI pieces that need no mount: the shared -o option
 * parser (unifs mount / mount.unifs), URL splitting of browse targets, and
 * target resolution over a real file:// tree and a config's namespace.
 *
 * The CLI sources are compiled into this test directly (their statics are
 * under test); they only need ufscore.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mount-helpers/cli_options.c"
#include "migrate/target.c"

static struct ufs_config *cfg_new(void)
{
	struct ufs_config *cfg = NULL;
	char err[256];

	assert_int_equal(
	    ufs_config_from_url("file:///tmp", &ufs_backend_schema, &cfg, err, sizeof(err)), 0);
	return cfg;
}

static void test_options_generic_ignored(void **state)
{
	struct ufs_config *cfg = cfg_new();
	uint64_t mem = cfg->memory;
	char err[256] = "";

	(void)state;
	assert_int_equal(cli_options_apply(cfg,
					   "defaults,_netdev,auto,noauto,user,nofail,exec,nosuid,"
					   "nodev,relatime,noatime,x-systemd.automount,comment=x",
					   0, "t", err, sizeof(err)),
			 0);
	assert_int_equal(cfg->readonly, 0);
	assert_int_equal(cfg->allow_other, 0);
	assert_int_equal(cfg->memory, mem);
	ufs_config_destroy(cfg);
}

static void test_options_flags_and_keys(void **state)
{
	struct ufs_config *cfg = cfg_new();
	char err[256] = "";

	(void)state;
	assert_int_equal(cli_options_apply(cfg, "ro,allow_other,memory=1G,log=debug,op_timeout=5",
					   0, "t", err, sizeof(err)),
			 0);
	assert_int_equal(cfg->readonly, 1);
	assert_int_equal(cfg->allow_other, 1);
	assert_true(cfg->memory == 1ULL << 30);
	assert_string_equal(cfg->log_level, "debug");
	assert_true(cfg->op_timeout == 5.0);
	/* later lists override earlier ones, like repeated -o */
	assert_int_equal(cli_options_apply(cfg, "rw", 0, "t", err, sizeof(err)), 0);
	assert_int_equal(cfg->readonly, 0);
	ufs_config_destroy(cfg);
}

static void test_options_unknown_refused(void **state)
{
	struct ufs_config *cfg = cfg_new();
	char err[256] = "";

	(void)state;
	assert_int_equal(cli_options_apply(cfg, "ro,bogus=1", 0, "t", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	err[0] = '\0';
	assert_int_equal(cli_options_apply(cfg, "memory=lots", 0, "t", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "memory"));
	assert_int_equal(cli_options_apply(cfg, "=1", 0, "t", err, sizeof(err)), -EINVAL);
	assert_int_equal(cli_options_apply(cfg, "frobnicate", 0, "t", err, sizeof(err)), -EINVAL);
	/* sloppy (mount.unifs -s): skipped, the rest still applies */
	assert_int_equal(cli_options_apply(cfg, "bogus=1,memory=512M", 1, "t", err, sizeof(err)),
			 0);
	assert_true(cfg->memory == 512ULL << 20);
	ufs_config_destroy(cfg);
}

/* Split url and check parent/base, or that it has no parent (NULL). */
static void check_split(const char *url, const char *parent, const char *base)
{
	char *p = NULL, *b = NULL;
	int rc = target_split_url(url, &p, &b);

	if (!parent) {
		assert_int_equal(rc, -EINVAL);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(p, parent);
	assert_string_equal(b, base);
	free(p);
	free(b);
}

static void test_split_url(void **state)
{
	(void)state;
	check_split("s3://bucket/key", "s3://bucket/", "key");
	check_split("s3://bucket/dir/sub/", "s3://bucket/dir", "sub");
	check_split("s3://bucket", NULL, NULL);
	check_split("s3://bucket/", NULL, NULL);
	check_split("az://c/p/blob.bin", "az://c/p", "blob.bin");
	check_split("file:///", NULL, NULL);
	check_split("file:///x", "file:///", "x");
	check_split("file:///tmp/a/b", "file:///tmp/a", "b");
	check_split("file:///tmp/sp%20ace%25", "file:///tmp", "sp ace%");
	check_split("nfs://h/export/dir?version=4", "nfs://h/export?version=4", "dir");
	check_split("nfs://h", NULL, NULL);
}

struct tree {
	char dir[PATH_MAX];
	char url[PATH_MAX + 16];
};

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(t->dir, sizeof(t->dir), "/tmp/unifs-test-cli-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->url, sizeof(t->url), "file://%s", t->dir);
	snprintf(path, sizeof(path), "%s/sub", t->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sub/f.txt", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("hello\n", f);
	fclose(f);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void test_target_url(void **state)
{
	struct tree *tr = *state;
	struct mig_target t = {.cmd = "test"};
	char url[PATH_MAX + 64];
	struct ufs_attr a;

	/* a file: served by its parent directory's backend */
	snprintf(url, sizeof(url), "%s/sub/f.txt", tr->url);
	assert_int_equal(mig_target_open(&t, NULL, url), CLI_OK);
	assert_string_equal(t.rel, "f.txt");
	assert_int_equal(mig_target_getattr(&t, &a), 0);
	assert_true(S_ISREG(a.mode));
	assert_int_equal(a.size, 6);
	mig_target_close(&t);

	/* a missing name below an existing directory: ENOENT */
	snprintf(url, sizeof(url), "%s/sub/nope", tr->url);
	assert_int_equal(mig_target_open(&t, NULL, url), CLI_OK);
	assert_int_equal(mig_target_getattr(&t, &a), -ENOENT);
	mig_target_close(&t);
}

static void test_target_namespace(void **state)
{
	struct tree *tr = *state;
	struct mig_target t = {.cmd = "test"};
	char conf[PATH_MAX + 16];
	struct ufs_attr a;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/ns.conf", tr->dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[mount \"/data/local\"]\nurl = %s/sub\n", tr->url);
	fclose(f);

	assert_int_equal(mig_target_open(&t, conf, "/data"), CLI_OK);
	assert_int_equal(t.synthetic, 1);
	assert_int_equal(mig_target_getattr(&t, &a), 0);
	assert_true(S_ISDIR(a.mode));
	mig_target_close(&t);

	assert_int_equal(mig_target_open(&t, conf, "/data/local/f.txt"), CLI_OK);
	assert_int_equal(t.synthetic, 0);
	assert_string_equal(t.rel, "f.txt");
	assert_int_equal(mig_target_getattr(&t, &a), 0);
	assert_int_equal(a.size, 6);
	mig_target_close(&t);

	/* outside every mount and not synthetic */
	assert_int_equal(mig_target_open(&t, conf, "/elsewhere"), CLI_FAIL);
	mig_target_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_generic_ignored),
	    cmocka_unit_test(test_options_flags_and_keys),
	    cmocka_unit_test(test_options_unknown_refused),
	    cmocka_unit_test(test_split_url),
	    cmocka_unit_test_setup_teardown(test_target_url, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_target_namespace, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
