/*
 * test_secret.c — common/secret.c: a secret file is checked on the opened
 * descriptor (mode and owner), read whole, and loading a secret makes the
 * process non-dumpable.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/secret.h"

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_mode_and_owner(void **state)
{
	char path[] = "/tmp/ufs-secretXXXXXX", err[256] = "";
	char *text = NULL;
	struct stat st;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "s3cr3t\n", 0600);
	assert_int_equal(ufs_secret_read(path, 64, &text, &st, err, sizeof(err)), 0);
	assert_string_equal(text, "s3cr3t\n");
	assert_true(S_ISREG(st.st_mode));
	ufs_secret_free(text);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(ufs_secret_open(path, NULL, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "readable by group/other (chmod 600"));
	assert_null(strstr(err, "s3cr3t"));
	assert_int_equal(chmod(path, 0600), 0);

	if (geteuid() == 0) { /* a file of another user: refused even at 0600 */
		assert_int_equal(chown(path, 4242, 4242), 0);
		assert_int_equal(ufs_secret_open(path, NULL, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "owned by uid 4242"));
	}
	unlink(path);
	assert_int_equal(ufs_secret_open(path, NULL, err, sizeof(err)), -ENOENT);
	assert_int_equal(ufs_secret_open("/tmp", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_no_dump(void **state)
{
	(void)state;
	unsetenv("UFS_ALLOW_COREDUMP");
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	ufs_secret_no_dump();
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	setenv("UFS_ALLOW_COREDUMP", "1", 1);
	ufs_secret_no_dump();
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode_and_owner),
	    cmocka_unit_test(test_no_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
