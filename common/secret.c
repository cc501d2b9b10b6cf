/*
 * secret.c — secret files opened then checked with fstat, secrets wiped on
 * free, and the process made non-dumpable once it holds one; see secret.h.
 */
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Why st (of path) may not hold a secret: 0, or -errno with a message. */
static int secret_check(const char *path, const struct stat *st, char *err, size_t errlen)
{
	uid_t me = geteuid();

	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: holds a secret but is not a regular file", path);
		return -EINVAL;
	}
	if (st->st_uid != me && st->st_uid != 0) {
		snprintf(err, errlen,
			 "%s: holds a secret but is owned by uid %u, not by uid %u or root", path,
			 (unsigned)st->st_uid, (unsigned)me);
		return -EPERM;
	}
	if (st->st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "%s: holds a secret but is readable by group/other (chmod 600 %s)", path,
			 path);
		return -EPERM;
	}
	return 0;
}

int ufs_secret_open(const char *path, struct stat *pst, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	int rc;

	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rc = secret_check(path, &st, err, errlen);
	if (rc) {
		close(fd);
		return rc;
	}
	if (pst)
		*pst = st;
	return fd;
}

int ufs_secret_read(const char *path, size_t max, char **ptext, struct stat *pst, char *err,
		    size_t errlen)
{
	int fd = ufs_secret_open(path, pst, err, errlen);
	char *text;
	size_t n = 0;
	ssize_t got = 1;

	if (fd < 0)
		return fd;
	text = calloc(1, max + 1);
	while (text && n < max && (got = read(fd, text + n, max - n)) > 0)
		n += (size_t)got;
	close(fd);
	if (!text || got < 0) {
		int rc = text ? -errno : -ENOMEM;

		ufs_secret_free(text);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	ufs_secret_no_dump();
	*ptext = text;
	return 0;
}

void ufs_secret_free(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void ufs_secret_no_dump(void)
{
	const char *allow = getenv("UFS_ALLOW_COREDUMP");

	if (!allow || strcmp(allow, "1") != 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
