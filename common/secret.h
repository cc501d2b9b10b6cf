/*
 * secret.h — reading files that hold secrets (credentials, keys, tokens)
 * safely, and keeping secrets out of core dumps.
 *
 * A secret file is opened first and checked on the open descriptor (fstat),
 * so the file checked is the file read: it must be a regular file owned by
 * the caller's effective uid (or root) with no group/other permission bits.
 */
#ifndef UFS_SECRET_H
#define UFS_SECRET_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Open path read-only and check it as above. Returns the fd (fill *pst when
 * pst != NULL) or -errno with a one-line message in err: -EPERM "FILE: holds
 * a secret but is readable by group/other (chmod 600 FILE)" or "FILE: holds a
 * secret but is owned by uid N, not by uid M or root", -EINVAL for a
 * non-regular file.
 */
int ufs_secret_open(const char *path, struct stat *pst, char *err, size_t errlen);

/*
 * ufs_secret_open() then read up to max bytes into a malloc'd NUL-terminated
 * *ptext (free with ufs_secret_free()). 0 or -errno with a message in err.
 */
int ufs_secret_read(const char *path, size_t max, char **ptext, struct stat *pst, char *err,
		    size_t errlen);

/* Wipe and free a secret string (NULL is fine). */
void ufs_secret_free(char *s);

/*
 * The process holds a secret: make it non-dumpable (no core dump, no ptrace
 * by other processes of the user) unless UFS_ALLOW_COREDUMP=1. Idempotent.
 */
void ufs_secret_no_dump(void);

#endif
