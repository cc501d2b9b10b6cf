/* test_file.c — the file:// backend through its vtable, in a temporary dir. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "protocols/backend.h"

struct fixture {
	char dir[PATH_MAX]; /* the backend root (its name holds a space) */
	char url[PATH_MAX + 32];
	struct ufs_mount_cfg m;
	struct ufs_config g;
	struct ufs_backend *be;
};

static const struct ufs_backend_ops *ops = &ufs_file_ops;

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* The URL of dir with ' ' written as %20 (decoding is part of the test). */
static void url_of(const char *dir, char *url, size_t size)
{
	size_t j = (size_t)snprintf(url, size, "file://");

	for (const char *p = dir; *p && j + 4 < size; p++)
		j += (size_t)(*p == ' ' ? snprintf(url + j, size - j, "%%20")
					: snprintf(url + j, size - j, "%c", *p));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/ufs-file-XXXXXX";
	char err[256] = "";

	assert_non_null(mkdtemp(tmpl));
	snprintf(f->dir, sizeof(f->dir), "%s/root dir", tmpl);
	assert_int_equal(mkdir(f->dir, 0755), 0);
	url_of(f->dir, f->url, sizeof(f->url));
	f->m.prefix = "/local";
	f->m.url = f->url;
	f->g.op_timeout = 20;
	assert_int_equal(ops->create(&f->m, &f->g, &f->be, err, sizeof(err)), 0);
	assert_int_equal(ops->check(f->be, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *slash;

	ops->destroy(f->be);
	slash = strrchr(f->dir, '/');
	*slash = '\0';
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* Write data to path through a writer, closing it. */
static void put(struct ufs_backend *be, const char *path, const char *data)
{
	struct ufs_writer *w = NULL;
	size_t len = strlen(data);

	assert_int_equal(ops->open_writer(be, path, O_CREAT | O_TRUNC | O_WRONLY, 0644, &w), 0);
	assert_int_equal(w->ops->pwrite(w, data, len, 0), (ssize_t)len);
	assert_int_equal(w->ops->close(w), 0);
}

static void obj_of(struct ufs_backend *be, const char *path, struct ufs_obj *obj)
{
	struct ufs_attr a;

	assert_int_equal(ops->getattr(be, path, &a), 0);
	memset(obj, 0, sizeof(*obj));
	obj->path = path;
	obj->size = a.size;
	obj->mtime = a.mtime;
}

static void test_create_errors(void **state)
{
	struct fixture *f = *state;
	struct ufs_mount_cfg m = {.prefix = "/x"};
	struct ufs_backend *be = NULL;
	char err[256] = "";
	char url[PATH_MAX + 64];

	m.url = "file://relative/dir";
	assert_int_equal(ops->create(&m, &f->g, &be, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "mount /x"));
	m.url = "file:///tmp/bad%zzescape";
	assert_int_equal(ops->create(&m, &f->g, &be, err, sizeof(err)), -EINVAL);

	m.url = "file:///nonexistent/unifs/dir";
	assert_int_equal(ops->create(&m, &f->g, &be, err, sizeof(err)), 0);
	assert_int_equal(ops->check(be, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/unifs/dir"));
	ops->destroy(be);

	put(f->be, "plain", "x");
	url_of(f->dir, url, sizeof(url) - 8);
	strcat(url, "/plain");
	m.url = url;
	assert_int_equal(ops->create(&m, &f->g, &be, err, sizeof(err)), 0);
	assert_int_equal(ops->check(be, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, "not a directory"));
	ops->destroy(be);
}

static void test_write_read_getattr(void **state)
{
	struct fixture *f = *state;
	struct ufs_writer *w = NULL;
	struct ufs_attr a;
	struct ufs_obj obj;
	char buf[64] = "";

	assert_int_equal(ops->open_writer(f->be, "f", O_CREAT | O_EXCL | O_RDWR, 0640, &w), 0);
	assert_int_equal(w->ops->pwrite(w, "hello world", 11, 0), 11);
	assert_int_equal(w->ops->pwrite(w, "W", 1, 6), 1); /* random write */
	assert_int_equal(w->ops->truncate(w, 9), 0);
	assert_int_equal(w->ops->fsync(w), 0);
	assert_int_equal(w->ops->close(w), 0);
	assert_int_equal(ops->open_writer(f->be, "f", O_CREAT | O_EXCL | O_WRONLY, 0640, &w),
			 -EEXIST);

	assert_int_equal(ops->getattr(f->be, "f", &a), 0);
	assert_true(S_ISREG(a.mode));
	assert_int_equal(a.mode & 0777, 0640); /* umask 022 set in main */
	assert_int_equal(a.size, 9);
	assert_int_equal(a.nlink, 1);
	assert_string_equal(a.etag, "");

	obj_of(f->be, "f", &obj);
	assert_int_equal(ops->read(f->be, &obj, 0, sizeof(buf), buf), 9);
	assert_memory_equal(buf, "hello Wor", 9);
	assert_int_equal(ops->read(f->be, &obj, 6, 2, buf), 2); /* through the cached fd */
	assert_memory_equal(buf, "Wo", 2);
	assert_int_equal(ops->read(f->be, &obj, 9, 4, buf), 0); /* at end */

	assert_int_equal(ops->getattr(f->be, "", &a), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(ops->getattr(f->be, "missing", &a), -ENOENT);
	assert_int_equal(ops->getattr(f->be, "f/sub", &a), -ENOTDIR);
	assert_true(f->be->stats.bytes_in >= 11);
	assert_true(f->be->stats.bytes_out >= 12);
}

static void test_read_estale(void **state)
{
	struct fixture *f = *state;
	struct ufs_obj obj, obj2;
	char buf[16];

	put(f->be, "v", "version-one");
	obj_of(f->be, "v", &obj);
	assert_int_equal(ops->read(f->be, &obj, 0, 4, buf), 4); /* fd now cached */

	/* replaced behind the backend's back (a new inode, a new size) */
	put(f->be, "v.tmp", "version-two!");
	{
		char from[PATH_MAX + 8], to[PATH_MAX + 8];
		snprintf(from, sizeof(from), "%s/v.tmp", f->dir);
		snprintf(to, sizeof(to), "%s/v", f->dir);
		assert_int_equal(rename(from, to), 0);
	}
	assert_int_equal(ops->read(f->be, &obj, 0, 4, buf), -ESTALE);
	obj_of(f->be, "v", &obj2);
	assert_int_equal(ops->read(f->be, &obj2, 8, 8, buf), 4);
	assert_memory_equal(buf, "two!", 4);

	/* same inode modified in place: mtime changes */
	obj.mtime.tv_sec -= 100;
	obj.size = obj2.size;
	assert_int_equal(ops->read(f->be, &obj, 0, 4, buf), -ESTALE);
	obj.path = "gone";
	assert_int_equal(ops->read(f->be, &obj, 0, 4, buf), -ENOENT);
}

struct listing {
	char names[16][64];
	struct ufs_attr attrs[16];
	int n;
	int stop_after; /* 0 = never */
};

static int list_cb(void *arg, const char *name, const struct ufs_attr *attr)
{
	struct listing *l = arg;

	assert_true(l->n < 16);
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	l->attrs[l->n++] = *attr;
	return l->stop_after && l->n == l->stop_after ? 7 : 0;
}

static int list_find(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->names[i], name) == 0)
			return i;
	return -1;
}

static void test_list_odd_names(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {"with space", "ünïcødé ✓", "100%",
					    "a+b",	  "what?",     "#hash&amp"};
	struct listing l = {.n = 0};
	char path[128];
	int i;

	assert_int_equal(ops->mkdir(f->be, "d", 0755), 0);
	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "d/%s", names[i]);
		put(f->be, path, names[i]);
	}
	assert_int_equal(ops->mkdir(f->be, "d/sub dir", 0700), 0);
	assert_int_equal(ops->list(f->be, "d", list_cb, &l), 0);
	assert_int_equal(l.n, 7);
	for (i = 0; i < 6; i++) {
		int k = list_find(&l, names[i]);
		assert_true(k >= 0);
		assert_true(S_ISREG(l.attrs[k].mode));
		assert_int_equal(l.attrs[k].size, strlen(names[i]));
	}
	assert_true(S_ISDIR(l.attrs[list_find(&l, "sub dir")].mode));

	l.n = 0;
	l.stop_after = 2;
	assert_int_equal(ops->list(f->be, "d", list_cb, &l), 7);
	assert_int_equal(l.n, 2);

	l.n = 0;
	l.stop_after = 0;
	assert_int_equal(ops->list(f->be, "", list_cb, &l), 0);
	assert_true(list_find(&l, "d") >= 0);
	assert_int_equal(ops->list(f->be, "nope", list_cb, &l), -ENOENT);
}

static void test_escape_refused(void **state)
{
	struct fixture *f = *state;
	struct listing l = {.n = 0};
	struct ufs_attr a;
	struct ufs_obj obj = {.path = "../x"};
	char buf[8];

	assert_int_equal(ops->getattr(f->be, "..", &a), -EINVAL);
	assert_int_equal(ops->getattr(f->be, "../root dir", &a), -EINVAL);
	assert_int_equal(ops->getattr(f->be, "a/../../x", &a), -EINVAL);
	assert_int_equal(ops->getattr(f->be, "/etc/passwd", &a), -EINVAL);
	assert_int_equal(ops->list(f->be, "..", list_cb, &l), -EINVAL);
	assert_int_equal(ops->read(f->be, &obj, 0, 1, buf), -EINVAL);
	assert_int_equal(ops->mkdir(f->be, "../evil", 0755), -EINVAL);
	assert_int_equal(ops->unlink(f->be, "../root dir"), -EINVAL);
	assert_int_equal(ops->rename(f->be, "x", "../x", 0), -EINVAL);

	/* a symlink inside the tree cannot lead outside it */
	assert_int_equal(ops->symlink(f->be, "/etc", "esc"), 0);
	assert_int_equal(ops->getattr(f->be, "esc", &a), 0);
	assert_true(S_ISLNK(a.mode));
	assert_int_not_equal(ops->getattr(f->be, "esc/passwd", &a), 0);
	assert_int_not_equal(ops->list(f->be, "esc", list_cb, &l), 0);
	assert_int_equal(l.n, 0);
	/* a name that merely starts with dots is fine */
	put(f->be, "..hidden", "ok");
	assert_int_equal(ops->getattr(f->be, "..hidden", &a), 0);
}

/* A kernel without openat2 (ENOSYS, forced with a seccomp filter): the
 * fallback still confines -- the symlink escape and nested paths behave as
 * with openat2. Last test: the filter cannot be removed. */
static void test_no_openat2(void **state)
{
	struct fixture *f = *state;
	struct sock_filter filt[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 4, .filter = filt};
	struct listing l = {.n = 0};
	struct ufs_attr a;

	assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	assert_int_equal(syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0), -1);
	assert_int_equal(errno, ENOSYS);
	assert_int_equal(ops->symlink(f->be, "/etc", "esc"), 0);
	assert_int_not_equal(ops->getattr(f->be, "esc/passwd", &a), 0);
	assert_int_not_equal(ops->list(f->be, "esc", list_cb, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(ops->mkdir(f->be, "d", 0755), 0);
	assert_int_equal(ops->mkdir(f->be, "d/e", 0755), 0);
	put(f->be, "d/e/x", "ok");
	assert_int_equal(ops->getattr(f->be, "d/e/x", &a), 0);
	assert_int_equal(a.size, 2);
	assert_int_equal(ops->list(f->be, "d/e", list_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(ops->symlink(f->be, "/etc", "d/esc"), 0);
	assert_int_not_equal(ops->getattr(f->be, "d/esc/passwd", &a), 0);
}

static void test_namespace_ops(void **state)
{
	struct fixture *f = *state;
	struct ufs_attr a;
	char buf[64];

	assert_int_equal(ops->mkdir(f->be, "dir", 0755), 0);
	assert_int_equal(ops->mkdir(f->be, "dir", 0755), -EEXIST);
	put(f->be, "dir/a", "aaa");
	put(f->be, "dir/b", "bb");
	assert_int_equal(ops->rmdir(f->be, "dir"), -ENOTEMPTY);

	assert_int_equal(ops->rename(f->be, "dir/a", "dir/b", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(ops->rename(f->be, "dir/a", "dir/c", 0), 0);
	assert_int_equal(ops->getattr(f->be, "dir/a", &a), -ENOENT);
	assert_int_equal(ops->rename(f->be, "dir/b", "dir/c", RENAME_EXCHANGE), 0);
	assert_int_equal(ops->getattr(f->be, "dir/c", &a), 0);
	assert_int_equal(a.size, 2);

	assert_int_equal(ops->link(f->be, "dir/c", "hard"), 0);
	assert_int_equal(ops->getattr(f->be, "hard", &a), 0);
	assert_int_equal(a.nlink, 2);

	assert_int_equal(ops->symlink(f->be, "dir/c", "sym"), 0);
	assert_int_equal(ops->readlink(f->be, "sym", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "dir/c");
	assert_int_equal(ops->readlink(f->be, "sym", buf, 4), 3); /* truncated */
	assert_string_equal(buf, "dir");
	assert_int_equal(ops->readlink(f->be, "hard", buf, sizeof(buf)), -EINVAL);

	assert_int_equal(ops->unlink(f->be, "hard"), 0);
	assert_int_equal(ops->unlink(f->be, "hard"), -ENOENT);
	assert_int_equal(ops->unlink(f->be, "dir/b"), 0);
	assert_int_equal(ops->unlink(f->be, "dir/c"), 0);
	assert_int_equal(ops->rmdir(f->be, "dir"), 0);
	assert_int_equal(ops->getattr(f->be, "dir", &a), -ENOENT);
}

static void test_setattr_statfs(void **state)
{
	struct fixture *f = *state;
	struct ufs_attr set = {.mode = 0600, .size = 3}, a;
	struct statvfs st;

	put(f->be, "s", "123456");
	assert_int_equal(
	    ops->setattr(f->be, "s", &set, UFS_SET_MODE | UFS_SET_SIZE | UFS_SET_MTIME), 0);
	assert_int_equal(ops->getattr(f->be, "s", &a), 0);
	assert_int_equal(a.mode & 07777, 0600);
	assert_int_equal(a.size, 3);
	assert_int_equal(a.mtime.tv_sec, 0); /* set.mtime is the epoch */

	set.uid = getuid();
	set.gid = getgid();
	set.atime.tv_sec = 12345;
	assert_int_equal(
	    ops->setattr(f->be, "s", &set,
			 UFS_SET_UID | UFS_SET_GID | UFS_SET_ATIME | UFS_SET_MTIME_NOW),
	    0);
	assert_int_equal(ops->getattr(f->be, "s", &a), 0);
	assert_int_equal(a.atime.tv_sec, 12345);
	assert_true(a.mtime.tv_sec > 1000000000);
	assert_int_equal(a.uid, getuid());
	assert_int_equal(ops->setattr(f->be, "nope", &set, UFS_SET_MODE), -ENOENT);

	assert_int_equal(ops->statfs(f->be, &st), 0);
	assert_true(st.f_bsize > 0);
	assert_true(st.f_blocks > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_read_getattr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_estale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_odd_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escape_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_namespace_ops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setattr_statfs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_openat2, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
