/*
 * upload.h — the background part-upload pipeline of the object-store writers
 * (Azure Put Block, usable for S3 UploadPart): a writer fills part buffers
 * and submits them; up to `parallel` parts upload at once on the pipeline's
 * own threads (started lazily, so a small file never starts one), while the
 * writer keeps filling the next buffer. Part memory is reserved from the
 * shared budget before it is allocated and returned when the part is stored;
 * parts of the pool's size are recycled through the pool (common/bufpool.h)
 * instead, so a long upload does not fault and zero fresh pages per part.
 * The first upload error is kept and reported by submit/wait: never lost.
 */
#ifndef UFS_UPLOAD_H
#define UFS_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

struct ufs_budget;
struct ufs_bufpool;
struct ufs_upload;

/* Store one part: index as submitted, buf[0..len). 0 or -errno. Called on a
 * pipeline thread; must be safe to run concurrently for different parts. */
typedef int (*ufs_upload_part_fn)(void *arg, uint32_t index, const void *buf, size_t len);

/*
 * New pipeline running fn(arg, ...) for each submitted part, at most
 * parallel (>= 1) at a time. budget may be NULL (unbounded); a reservation
 * waits up to wait_ms for memory (-1: forever). pool (may be NULL; charged
 * to the same budget) recycles buffers of its size. 0 or -ENOMEM.
 */
int ufs_upload_create(struct ufs_budget *budget, struct ufs_bufpool *pool, unsigned parallel,
		      int wait_ms, ufs_upload_part_fn fn, void *arg, struct ufs_upload **pu);

/*
 * A part buffer of cap bytes, reserved from the budget (an idle pool buffer
 * when cap is the pool's size: already charged). Waits (bounded by wait_ms)
 * when the budget is exhausted. 0, or -ENOMEM.
 */
int ufs_upload_alloc(struct ufs_upload *u, size_t cap, char **pbuf);

/* Return a buffer of cap bytes that will not be submitted. */
void ufs_upload_free(struct ufs_upload *u, char *buf, size_t cap);

/*
 * Hand over part index: buf (cap bytes from ufs_upload_alloc, len used)
 * belongs to the pipeline from now on, whatever the result. Waits while
 * `parallel` parts are already queued or running. Returns 0, or the first
 * upload error seen so far (the part is then dropped).
 */
int ufs_upload_submit(struct ufs_upload *u, uint32_t index, char *buf, size_t cap, size_t len);

/* Wait until every submitted part is stored; returns the first error or 0. */
int ufs_upload_wait(struct ufs_upload *u);

/* Drop queued parts, wait for running ones, join the threads, free u and
 * every buffer it holds. NULL is a no-op. */
void ufs_upload_destroy(struct ufs_upload *u);

#endif
