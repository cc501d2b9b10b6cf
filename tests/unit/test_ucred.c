/* test_ucred.c — the per-thread caller identity: set/clear, clamping of
 * the group count, per-thread isolation, and (as root) the per-thread
 * switch of the filesystem identity: a file created while switched belongs
 * to the caller, the daemon's identity is back afterwards, and another
 * thread never sees the switch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/ucred.h"

static uid_t fsuid_now(void)
{
	return (uid_t)syscall(SYS_setfsuid, -1);
}

static void test_set_clear(void **state)
{
	struct ufs_cred c = {.uid = 12, .gid = 34, .ngroups = 2, .groups = {5, 6}};
	const struct ufs_cred *got;

	(void)state;
	assert_null(ufs_cred_current());
	ufs_cred_set(&c);
	c.uid = 99; /* copied, not referenced */
	got = ufs_cred_current();
	assert_non_null(got);
	assert_int_equal(got->uid, 12);
	assert_int_equal(got->gid, 34);
	assert_int_equal(got->ngroups, 2);
	assert_int_equal(got->groups[1], 6);
	ufs_cred_set(NULL);
	assert_null(ufs_cred_current());
}

static void test_clamp(void **state)
{
	struct ufs_cred c = {.uid = 1, .gid = 1, .ngroups = UFS_CRED_GROUPS_MAX + 50};

	(void)state;
	ufs_cred_set(&c);
	assert_int_equal(ufs_cred_current()->ngroups, UFS_CRED_GROUPS_MAX);
	c.ngroups = -3;
	ufs_cred_set(&c);
	assert_int_equal(ufs_cred_current()->ngroups, 0);
	ufs_cred_set(NULL);
}

static void *thread_sees(void *arg)
{
	*(int *)arg = ufs_cred_current() != NULL;
	return NULL;
}

static void test_per_thread(void **state)
{
	struct ufs_cred c = {.uid = 1, .gid = 1};
	pthread_t th;
	int seen = -1;

	(void)state;
	ufs_cred_set(&c);
	assert_int_equal(pthread_create(&th, NULL, thread_sees, &seen), 0);
	pthread_join(th, NULL);
	assert_int_equal(seen, 0);
	ufs_cred_set(NULL);
}

/* Without a caller, enter is a no-op and leave restores nothing. */
static void test_enter_without_caller(void **state)
{
	struct ufs_cred_saved s;
	uid_t before = fsuid_now();

	(void)state;
	assert_int_equal(ufs_cred_fs_enter(&s), 0);
	assert_int_equal(s.switched, 0);
	assert_int_equal(fsuid_now(), before);
	ufs_cred_fs_leave(&s);
	assert_int_equal(fsuid_now(), before);
}

static pthread_barrier_t bar;

/* Started before the switch (a new thread would inherit the creating
 * thread's credentials): measures once the main thread has switched. */
static void *thread_fsuid(void *arg)
{
	pthread_barrier_wait(&bar);
	*(uid_t *)arg = fsuid_now();
	return NULL;
}

static void test_enter_creates_as_caller(void **state)
{
	struct ufs_cred c = {.uid = 65534, .gid = 65534, .ngroups = 1, .groups = {4242}};
	char dir[] = "/tmp/ufs-test-ucred-XXXXXX", path[64];
	struct ufs_cred_saved s;
	uid_t other = 1;
	struct stat st;
	pthread_t th;
	int fd;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	chmod(dir, 01777);
	snprintf(path, sizeof(path), "%s/f", dir);
	pthread_barrier_init(&bar, NULL, 2);
	assert_int_equal(pthread_create(&th, NULL, thread_fsuid, &other), 0);
	ufs_cred_set(&c);
	assert_int_equal(ufs_cred_fs_enter(&s), 0);
	assert_int_equal(s.switched, 1);
	assert_int_equal(fsuid_now(), 65534);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(other, 0); /* other threads keep the daemon's identity */
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getgroups(0, NULL), 1);
	ufs_cred_fs_leave(&s);
	ufs_cred_set(NULL);
	assert_int_equal(fsuid_now(), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_clear),
	    cmocka_unit_test(test_clamp),
	    cmocka_unit_test(test_per_thread),
	    cmocka_unit_test(test_enter_without_caller),
	    cmocka_unit_test(test_enter_creates_as_caller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
