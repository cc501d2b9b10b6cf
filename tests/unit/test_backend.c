/* test_backend.c — scheme dispatch, NULL slots, readonly, and the health
 * state that isolates a dead server (fail fast, then retry, then recover). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocols/backend.h"

static int next_rc; /* what the fake getattr returns */
static int calls;

static int fake_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	(void)be;
	(void)path;
	(void)pattr;
	calls++;
	return next_rc;
}

static ssize_t fake_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off,
			 size_t len, void *buf)
{
	(void)be;
	(void)obj;
	(void)off;
	(void)buf;
	calls++;
	return next_rc < 0 ? next_rc : (ssize_t)len;
}

static const struct ufs_backend_ops fake_ops = {
    .scheme = "fake",
    .getattr = fake_getattr,
    .read = fake_read,
};

static void make(struct ufs_backend *be, struct ufs_mount_cfg *m, struct ufs_config *g)
{
	memset(be, 0, sizeof(*be));
	memset(m, 0, sizeof(*m));
	memset(g, 0, sizeof(*g));
	m->prefix = "/x";
	m->url = "fake://x";
	g->retry_down = 0.2;
	ufs_be_init(be, &fake_ops, m, g);
}

static void test_health_fail_fast_and_recover(void **state)
{
	struct ufs_backend be;
	struct ufs_mount_cfg m;
	struct ufs_config g;
	struct ufs_attr a;

	(void)state;
	make(&be, &m, &g);
	calls = 0;
	next_rc = -ENOENT; /* an answer: stays up */
	assert_int_equal(ufs_be_getattr(&be, "a", &a), -ENOENT);
	assert_false(be.down);
	next_rc = -ETIMEDOUT; /* unreachable: goes down */
	assert_int_equal(ufs_be_getattr(&be, "a", &a), -ETIMEDOUT);
	assert_true(be.down);
	assert_int_equal(calls, 2);
	next_rc = 0;
	assert_int_equal(ufs_be_getattr(&be, "a", &a), -EHOSTDOWN); /* fast, no call */
	assert_int_equal(calls, 2);
	usleep(250 * 1000);
	assert_int_equal(ufs_be_getattr(&be, "a", &a), 0); /* retried and recovered */
	assert_int_equal(calls, 3);
	assert_false(be.down);
	ufs_be_fini(&be);
}

/* One reader's call ends in a connection reset (the protocol's own retry
 * on a fresh connection did not get through): that call fails with EIO, the
 * backend stays up and another reader's calls reach the server at once;
 * only resets in a row with no answer between them mark it down. */
static void test_health_reset_is_not_down(void **state)
{
	struct ufs_backend be;
	struct ufs_mount_cfg m;
	struct ufs_config g;
	struct ufs_obj obj = {.path = "big", .size = 100};
	struct ufs_attr a;
	char buf[10];

	(void)state;
	make(&be, &m, &g);
	calls = 0;
	next_rc = -ECONNRESET;
	assert_int_equal(ufs_be_read(&be, &obj, 0, sizeof(buf), buf), -EIO);
	assert_false(be.down);
	next_rc = 0; /* the other reader */
	assert_int_equal(ufs_be_read(&be, &obj, 10, sizeof(buf), buf), (ssize_t)sizeof(buf));
	assert_int_equal(ufs_be_getattr(&be, "other", &a), 0);
	assert_int_equal(calls, 3);
	/* resets with answers between them never add up */
	for (int i = 0; i < 10; i++) {
		next_rc = -ECONNRESET;
		assert_int_equal(ufs_be_read(&be, &obj, 0, sizeof(buf), buf), -EIO);
		next_rc = 0;
		assert_int_equal(ufs_be_getattr(&be, "other", &a), 0);
	}
	assert_false(be.down);
	/* a server that drops every connection: down after a few in a row */
	next_rc = -ECONNRESET;
	for (int i = 0; i < 10 && !be.down; i++)
		assert_int_equal(ufs_be_getattr(&be, "other", &a), -EIO);
	assert_true(be.down);
	assert_int_equal(ufs_be_getattr(&be, "other", &a), -EHOSTDOWN);
	ufs_be_fini(&be);
}

static void test_null_slots_and_readonly(void **state)
{
	struct ufs_backend be;
	struct ufs_mount_cfg m;
	struct ufs_config g;
	char buf[8];

	(void)state;
	make(&be, &m, &g);
	assert_int_equal(ufs_be_readlink(&be, "a", buf, sizeof(buf)), -ENOTSUP);
	assert_int_equal(ufs_be_unlink(&be, "a"), -ENOTSUP);
	be.readonly = 1;
	assert_int_equal(ufs_be_mkdir(&be, "a", 0755), -EROFS);
	ufs_be_fini(&be);
}

static void test_unknown_scheme(void **state)
{
	struct ufs_mount_cfg m = {.prefix = "/x", .url = "ftp://host/x"};
	struct ufs_config g = {0};
	struct ufs_backend *be = NULL;
	char err[256];

	(void)state;
	assert_int_equal(ufs_backend_create(&m, &g, &be, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "mount /x"));
	assert_non_null(strstr(err, "unknown URL scheme"));
}

/* What doctor shows comes from each backend's describe slot. */
static void test_describe(void **state)
{
	struct ufs_mount_cfg nfs = {.prefix = "/n", .url = "nfs://filer:2050/export"};
	struct ufs_mount_cfg nfs2 = {.prefix = "/n", .url = "nfs://filer/export"};
	struct ufs_mount_cfg file = {.prefix = "/f", .url = "file:///tmp"};
	struct ufs_mount_cfg s3 = {.prefix = "/s", .url = "s3://bucket"};
	struct ufs_mount_cfg ftp = {.prefix = "/x", .url = "ftp://host/x"};
	struct ufs_be_desc d;

	(void)state;
	assert_int_equal(ufs_be_describe(&nfs, NULL, &d), 0);
	assert_string_equal(d.host, "filer");
	assert_string_equal(d.port, "2050");
	assert_string_equal(d.server, "");
	assert_non_null(strstr(d.cred, "AUTH_SYS uid "));
	assert_int_equal(ufs_be_describe(&nfs2, NULL, &d), 0);
	assert_string_equal(d.port, "2049");
	assert_int_equal(ufs_be_describe(&file, NULL, &d), 0);
	assert_true(d.cred_na);
	assert_string_equal(d.cred, "local file permissions");
	assert_string_equal(d.host, "");
	assert_int_equal(ufs_be_describe(&s3, NULL, &d), 0);
	assert_true(d.cred_unknown); /* no backend: nothing to show */
	assert_int_equal(ufs_be_describe(&ftp, NULL, &d), -EPROTONOSUPPORT);
}

static void test_path_join(void **state)
{
	char *p;

	(void)state;
	p = ufs_path_join("", "a b");
	assert_string_equal(p, "a b");
	free(p);
	p = ufs_path_join("d/e", "f%+?");
	assert_string_equal(p, "d/e/f%+?");
	free(p);
}

static void test_unreachable_errnos(void **state)
{
	(void)state;
	assert_true(ufs_errno_is_unreachable(-ETIMEDOUT));
	assert_true(ufs_errno_is_unreachable(ECONNREFUSED));
	assert_true(ufs_errno_is_unreachable(-EHOSTDOWN));
	assert_false(ufs_errno_is_unreachable(-ENOENT));
	assert_false(ufs_errno_is_unreachable(-EACCES));
	assert_false(ufs_errno_is_unreachable(-EIO));
	assert_false(ufs_errno_is_unreachable(-ECONNRESET)); /* one connection, not the server */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health_fail_fast_and_recover),
	    cmocka_unit_test(test_health_reset_is_not_down),
	    cmocka_unit_test(test_null_slots_and_readonly),
	    cmocka_unit_test(test_unknown_scheme),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_path_join),
	    cmocka_unit_test(test_unreachable_errnos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
