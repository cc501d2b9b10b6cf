/*
 * direct_stage.c — libunifs: reads into the caller's own memory
 * (ufs_read_into), pipelined through staging buffers.
 *
 * The daemon writes only into memory shared with it (a ufs_buf). Memory of
 * the caller's (a numpy array, a bytearray, a tensor) is filled through a
 * staging buffer of STAGE_DEPTH slots of STAGE_CHUNK bytes: each slot holds
 * one read entry in flight (a batch of STAGE_DEPTH), and as soon as one
 * completes its bytes are copied out and the slot goes back to the ring
 * with the next chunk, so the daemon always has up to STAGE_DEPTH entries
 * (each split into block-size jobs) to work on while the previous ones are
 * copied. Chunks are aligned to STAGE_CHUNK multiples of the file offset
 * (the cache block size by default), so no chunk straddles two blocks.
 *
 * Memory is bounded: one staging buffer per call in progress, taken from
 * the library's pool (lib_stage_get in direct.c: a few kept between calls,
 * none across ufs_driver_close or into a forked child).
 *
 * The copy-out prefaults the destination range once per chunk
 * (MADV_POPULATE_WRITE; best effort), which costs less than a page fault
 * per page of a fresh numpy array.
 */
#include "lib/direct_i.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STAGE_CHUNK ((size_t)8 << 20) /* bytes per entry in flight */
#define STAGE_DEPTH 8		      /* entries in flight per call */

/* One call in progress: the range, the window of chunks in flight. */
struct pipe {
	ufs_handle_t h;
	uint8_t *dst;
	size_t size; /* bytes wanted */
	int64_t off; /* file offset of dst[0] */
	size_t next; /* bytes of the range submitted so far */
	size_t end;  /* bytes up to the end of file seen (short chunk) */
	unsigned inflight;
	ssize_t err; /* the first -errno */
	struct ufs_buf *stage;
	ufs_batch_t batch;
	struct {
		size_t at, len; /* of the range */
	} slot[STAGE_DEPTH];
	unsigned free[STAGE_DEPTH], nfree;
};

/* Submit the next chunk into a free slot. 0, or -errno (-EAGAIN: the ring
 * is full; nothing submitted). */
static int pipe_submit(struct pipe *p)
{
	unsigned k = p->free[p->nfree - 1];
	uint64_t pos = (uint64_t)p->off + p->next;
	size_t len = STAGE_CHUNK - (size_t)(pos % STAGE_CHUNK);
	struct ufs_io_entry e = {.handle = p->h, .op = UFS_OP_READ, .buf = p->stage};
	int rc;

	if (len > p->size - p->next)
		len = p->size - p->next;
	e.file_off = (int64_t)pos;
	e.len = len;
	e.buf_off = (size_t)k * STAGE_CHUNK;
	e.user_data = (void *)(uintptr_t)k;
	rc = ufs_batch_submit(p->batch, &e, 1);
	if (rc < 0)
		return rc;
	p->slot[k].at = p->next;
	p->slot[k].len = len;
	p->next += len;
	p->nfree--;
	p->inflight++;
	return 0;
}

/* Prefault [p, p + len) of the caller's memory for writing (best effort). */
static void pipe_populate(uint8_t *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(page - 1);

	(void)madvise((void *)a, (uintptr_t)p + len - a, MADV_POPULATE_WRITE);
}

/* Account for one completed entry: copy its bytes out, free its slot. */
static void pipe_complete(struct pipe *p, const struct ufs_io_event *ev)
{
	unsigned k = (unsigned)(uintptr_t)ev->user_data;
	size_t at = p->slot[k].at;

	p->inflight--;
	p->free[p->nfree++] = k;
	if (ev->res < 0) {
		if (p->err == 0)
			p->err = ev->res;
		return;
	}
	if ((size_t)ev->res < p->slot[k].len && at + (size_t)ev->res < p->end)
		p->end = at + (size_t)ev->res; /* end of file */
	if (at < p->end) {
		size_t n = (size_t)ev->res < p->end - at ? (size_t)ev->res : p->end - at;

		if (n) {
			pipe_populate(p->dst + at, n);
			memcpy(p->dst + at,
			       (uint8_t *)ufs_buf_ptr(p->stage) + (size_t)k * STAGE_CHUNK, n);
		}
	}
}

/* Keep the window full and drain it; the result of the call. */
static ssize_t pipe_run(struct pipe *p)
{
	struct ufs_io_event ev[STAGE_DEPTH];
	int n;

	for (;;) {
		while (p->err == 0 && p->nfree && p->next < p->end) {
			int rc = pipe_submit(p);

			if (rc == -EAGAIN && p->inflight)
				break; /* the ring is full: wait for one of ours */
			if (rc < 0) {
				p->err = rc;
				break;
			}
		}
		if (p->inflight == 0)
			return p->err ? p->err : (ssize_t)p->end;
		n = ufs_batch_wait(p->batch, 1, STAGE_DEPTH, ev, -1);

		if (n < 0)
			return n; /* the daemon went away: nothing completes */
		for (int i = 0; i < n; i++)
			pipe_complete(p, &ev[i]);
	}
}

ssize_t ufs_read_into(ufs_handle_t h, void *dst, size_t size, int64_t file_off)
{
	struct pipe p = {.h = h, .dst = dst, .size = size, .off = file_off, .end = size};
	ssize_t rc;

	if (!h || (!dst && size) || file_off < 0 || size > (size_t)SSIZE_MAX ||
	    (uint64_t)file_off + size < (uint64_t)file_off)
		return -EINVAL;
	if (size == 0)
		return 0;
	rc = lib_stage_get(STAGE_DEPTH * STAGE_CHUNK, &p.stage);
	if (rc < 0)
		return rc;
	rc = ufs_batch_setup(STAGE_DEPTH, &p.batch);
	if (rc == 0) {
		for (unsigned k = 0; k < STAGE_DEPTH; k++)
			p.free[p.nfree++] = STAGE_DEPTH - 1 - k;
		rc = pipe_run(&p);
		ufs_batch_destroy(p.batch); /* waits: the stage is idle after */
	}
	lib_stage_put(p.stage);
	return rc;
}
