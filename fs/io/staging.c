/*
 * staging.c — the local staging file of an object-store write that is not a
 * plain sequential stream (random writes, O_RDWR on an existing object,
 * append, truncate to a non-zero size).
 *
 * The file is created in the staging directory with mode 0600 and unlinked
 * at once, so nothing is left behind whatever happens to the daemon. It is
 * filled with the object's current content when needed, takes every write
 * and read of its handle, and is uploaded whole as a new object version with
 * a fresh writer (sequential part_size writes, then close, whose error is
 * the upload's). Not thread-safe: the caller serialises calls.
 */
#include "common/fdio.h"
#include "fs/io/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define STAGE_CHUNK (8u << 20)

struct fs_stage {
	int fd;
	uint64_t size;
};

int fs_stage_create(const char *dir, struct fs_stage **ps)
{
	struct fs_stage *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->fd = open(dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		char tmpl[4096];

		snprintf(tmpl, sizeof(tmpl), "%s/unifs-stage-XXXXXX", dir ? dir : "/tmp");
		st->fd = mkostemp(tmpl, O_CLOEXEC);
		if (st->fd >= 0)
			unlink(tmpl);
	}
	if (st->fd < 0) {
		int err = errno;

		ufs_err("staging: cannot create a file in %s: %s", dir ? dir : "/tmp",
			strerror(err));
		free(st);
		return -err;
	}
	*ps = st;
	return 0;
}

/* Size of one read/write chunk: min(left, STAGE_CHUNK). */
static size_t stage_chunk(uint64_t left)
{
	return left < STAGE_CHUNK ? (size_t)left : STAGE_CHUNK;
}

/* One side of a copy: moves up to len bytes at off into or out of buf. */
typedef ssize_t (*stage_io_fn)(void *arg, void *buf, size_t len, uint64_t off);

/* Copy size bytes from src to dst in STAGE_CHUNK pieces. 0 or -errno (a
 * source that ends early changed under us: -EIO). */
static int stage_pump(uint64_t size, stage_io_fn src, void *src_arg, stage_io_fn dst, void *dst_arg)
{
	char *buf = malloc(STAGE_CHUNK);
	uint64_t off = 0;
	int rc = buf ? 0 : -ENOMEM;

	while (rc == 0 && off < size) {
		ssize_t n = src(src_arg, buf, stage_chunk(size - off), off);

		if (n <= 0) {
			rc = n < 0 ? (int)n : -EIO;
			break;
		}
		n = dst(dst_arg, buf, (size_t)n, off);
		if (n < 0)
			rc = (int)n;
		else
			off += (uint64_t)n;
	}
	free(buf);
	return rc;
}

struct stage_src {
	struct ufs_backend *be;
	const struct ufs_obj *obj;
};

static ssize_t stage_io_backend(void *arg, void *buf, size_t len, uint64_t off)
{
	struct stage_src *s = arg;

	return ufs_be_read(s->be, s->obj, off, len, buf);
}

static ssize_t stage_io_file_in(void *arg, void *buf, size_t len, uint64_t off)
{
	return fs_stage_pwrite(arg, buf, len, off);
}

static ssize_t stage_io_file_out(void *arg, void *buf, size_t len, uint64_t off)
{
	return fs_stage_pread(arg, buf, len, off);
}

static ssize_t stage_io_writer(void *arg, void *buf, size_t len, uint64_t off)
{
	struct ufs_writer *w = arg;

	return w->ops->pwrite(w, buf, len, off);
}

int fs_stage_fill(struct fs_stage *st, struct ufs_backend *be, const struct ufs_obj *obj)
{
	struct stage_src src = {be, obj};

	return stage_pump(obj->size, stage_io_backend, &src, stage_io_file_in, st);
}

ssize_t fs_stage_pwrite(struct fs_stage *st, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = ufs_pwrite_full(st->fd, buf, len, off);

	if (n < 0)
		return n;
	if (off + len > st->size)
		st->size = off + len;
	return n;
}

ssize_t fs_stage_pread(struct fs_stage *st, void *buf, size_t len, uint64_t off)
{
	return ufs_pread_full(st->fd, buf, len, off);
}

int fs_stage_truncate(struct fs_stage *st, uint64_t size)
{
	if (ftruncate(st->fd, (off_t)size) < 0)
		return -errno;
	st->size = size;
	return 0;
}

uint64_t fs_stage_size(const struct fs_stage *st)
{
	return st->size;
}

int fs_stage_upload(struct fs_stage *st, struct ufs_backend *be, const char *rel)
{
	struct ufs_writer *w;
	int rc = ufs_be_open_writer(be, rel, O_CREAT | O_TRUNC | O_WRONLY, 0644, &w);

	if (rc < 0)
		return rc;
	rc = stage_pump(st->size, stage_io_file_out, st, stage_io_writer, w);
	if (rc < 0) {
		w->ops->abort(w);
		return rc;
	}
	return w->ops->close(w);
}

void fs_stage_destroy(struct fs_stage *st)
{
	if (!st)
		return;
	close(st->fd);
	free(st);
}
