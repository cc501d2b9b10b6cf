/*
 * fdio.h — whole-buffer positional I/O on file descriptors, retrying short
 * transfers and EINTR. Used by the file backend, the staging files and the
 * disk tier, so the loop exists once.
 */
#ifndef UFS_FDIO_H
#define UFS_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read len bytes at off into buf; returns bytes read (short only at end of
 * file) or -errno. */
ssize_t ufs_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* Write all len bytes of buf at off; returns len or -errno. */
ssize_t ufs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#endif
