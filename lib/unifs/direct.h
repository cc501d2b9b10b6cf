/*
 * unifs/direct.h — libunifs, the direct path of a unifs mount for bulk loads
 * and checkpoint saves, shaped after NVIDIA cuFile.
 *
 *   ufs_driver_open();
 *   int fd = open("/mnt/ckpt/model.bin", O_RDONLY);   // the kernel checks access
 *   ufs_handle_t h;  ufs_buf_t b;
 *   ufs_handle_register(fd, &h);                      // read-only fd: read-only handle
 *   ufs_buf_alloc(1 << 30, &b);                       // sealed memfd, shared with the daemon
 *   ssize_t n = ufs_read(h, b, 1 << 30, 0, 0);         // bytes land in ufs_buf_ptr(b)
 *   ufs_handle_deregister(h); close(fd); ufs_buf_free(b); ufs_driver_close();
 *
 * Who may use it: whoever opened the file, with exactly the access open(2)
 * gave: reads need an fd opened for reading, writes one opened for writing,
 * and writes run with the opener's identity (any user of an allow_other
 * mount; see unifs_direct(3)).
 *
 * Every call returns 0 / bytes on success and -errno on failure. Errors:
 * -EACCES (token of another uid, or forged), -EBADF (handle revoked because
 * its fd was closed, a write through an fd not opened for writing, or a
 * read through one not opened for reading), -EINVAL (buffer range outside
 * the buffer, negative or overflowing offsets), -EAGAIN (ring full: more
 * entries in flight than UFS_RING_ENTRIES), -ENOTCONN (the daemon went
 * away), -ENOTTY (the fd is not a regular file on a unifs mount with the
 * direct path), -EFBIG (a buffer over UFS_BUF_MAX), and the daemon's bounds
 * per user: -EMFILE (too many registered open files), -EUSERS (too many
 * processes with a session on the mount), -ENOSPC (too many buffers).
 *
 * Writes: on object stores, bytes written in order from offset 0 stream into
 * the same multipart / Put Block upload as writes through the mount (parts
 * upload in parallel); the object appears when the upload is committed: at
 * ufs_handle_deregister() (which returns the upload's error), or at
 * fsync(fd)/close(fd) when that comes first. Other write patterns stage
 * locally and upload whole at that commit. On file:// and nfs:// mounts
 * writes go to the server at once.
 *
 * Thread safety: all calls may be made from several threads at once.
 * fork(): the child starts with no session (it opens its own on first use);
 * handles and batches of the parent fail there with -ENOTCONN.
 */
#ifndef UNIFS_DIRECT_H
#define UNIFS_DIRECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UFS_RING_ENTRIES 256	       /* entries in flight per process */
#define UFS_BUF_MAX ((size_t)16 << 30) /* bytes of one buffer */

typedef struct ufs_handle *ufs_handle_t;
typedef struct ufs_buf *ufs_buf_t;
typedef struct ufs_batch *ufs_batch_t;

enum ufs_op { UFS_OP_READ = 1, UFS_OP_WRITE = 2 };

struct ufs_io_entry {
	ufs_handle_t handle;
	enum ufs_op op;
	int64_t file_off;
	size_t len;
	ufs_buf_t buf;
	size_t buf_off;
	void *user_data;
};

struct ufs_io_event {
	void *user_data;
	ssize_t res; /* bytes or -errno */
};

/* Initialise the library (idempotent, reference counted). 0 or -errno. */
int ufs_driver_open(void);
/* Drop one reference; the last one closes every session, handle and buffer. */
void ufs_driver_close(void);

/* Register fd, a file opened on a unifs mount. The daemon checks that the
 * caller's uid is the one that opened it; a read-only fd gives a read-only
 * handle. *ph set; 0 or -errno. The handle is revoked when fd is closed. */
int ufs_handle_register(int fd, ufs_handle_t *ph);
/* Commit and release h: returns the first error of its writes (upload). */
int ufs_handle_deregister(ufs_handle_t h);
/* Size of the file when h was registered. */
uint64_t ufs_handle_size(ufs_handle_t h);

/* Allocate size bytes (at most UFS_BUF_MAX, else -EFBIG) of memory shared
 * with the daemon (memfd, sealed; hugepages when available). *pb set; 0 or
 * -errno. */
int ufs_buf_alloc(size_t size, ufs_buf_t *pb);
/* Address and size of b in this process. */
void *ufs_buf_ptr(ufs_buf_t b);
size_t ufs_buf_size(ufs_buf_t b);
/* Release b (unmapped in the daemon too); NULL is a no-op. */
void ufs_buf_free(ufs_buf_t b);

/* Read size bytes of h at file_off into b at buf_off: bytes (short only at
 * end of file) or -errno. */
ssize_t ufs_read(ufs_handle_t h, ufs_buf_t b, size_t size, int64_t file_off, size_t buf_off);
/* Read size bytes of h at file_off into dst, memory of the caller's (not a
 * ufs_buf): staged through shared memory of the library's, 8 MiB entries, 8
 * in flight while the completed ones are copied out (64 MiB per call in
 * progress, 2 kept between calls until ufs_driver_close). Bytes (short only
 * at end of file) or -errno (the first error of an entry; dst then holds
 * part of the range). */
ssize_t ufs_read_into(ufs_handle_t h, void *dst, size_t size, int64_t file_off);
/* Write size bytes of b at buf_off to h at file_off: bytes or -errno. */
ssize_t ufs_write(ufs_handle_t h, ufs_buf_t b, size_t size, int64_t file_off, size_t buf_off);

/* A batch of at most max entries in flight. *pbatch set; 0 or -errno. */
int ufs_batch_setup(unsigned max, ufs_batch_t *pbatch);
/* Submit n entries (all handles of one mount). 0, or -errno with nothing
 * submitted (-EAGAIN: the batch or the ring is full). */
int ufs_batch_submit(ufs_batch_t batch, const struct ufs_io_entry *entries, unsigned n);
/* Wait until at least min entries completed (or timeout_ms passed; -1:
 * forever) and copy up to max of them into events. Count or -errno
 * (-ETIMEDOUT with none ready, -ENOTCONN if the daemon went away). */
int ufs_batch_wait(ufs_batch_t batch, unsigned min, unsigned max, struct ufs_io_event *events,
		   int timeout_ms);
/* Wait for everything in flight, then free the batch; NULL is a no-op. */
void ufs_batch_destroy(ufs_batch_t batch);

/* Warm the cache with the files at paths (absolute, on one unifs mount), in
 * that order, with bounded concurrency, up to half the memory budget ahead.
 * Returns at once: 0 or -errno. The prefetches belong to this process's
 * session: they stop at ufs_driver_close() or exit. */
int ufs_prefetch(const char *const *paths, size_t n);
/* Drop the prefetches not yet started of the mount holding path. */
int ufs_prefetch_cancel(const char *path);

#ifdef __cplusplus
}
#endif
#endif
