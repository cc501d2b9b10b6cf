/*
 * writepath.c — the write side of one open file handle.
 *
 * States:
 *   POSIX  backend with UFS_CAP_POSIX_WRITE (file, nfs): every write,
 *          truncate and read goes to the server; the writer is closed on
 *          flush (its error is close(2)'s) and reopened by the next write.
 *   STREAM object store, new or truncated file written from offset 0 in
 *          order: bytes stream into one writer (multipart upload / blocks).
 *   CLEAN  object store, the server holds the file as this handle knows it
 *          (an existing object opened without O_TRUNC, or a committed stream).
 *   STAGE  object store, a local staging file holds the file; it is uploaded
 *          whole on flush/fsync when dirty.
 *
 * Transitions: STREAM -> CLEAN on flush (commit). STREAM -> STAGE on the
 * first out-of-order write, read-back, append past or truncate to a non-zero
 * size: the stream is committed first (the object then holds the bytes
 * written so far) and staged back from the server, so the rare case pays and
 * the common one does not. CLEAN -> STAGE on any write or non-zero truncate;
 * CLEAN -> STREAM on truncate to 0. STAGE stays STAGE.
 *
 * Errors: the first error of a writer is returned by the call that meets
 * it, and errors of a commit/upload by flush, fsync or close: never dropped.
 * Not thread-safe: the caller serialises calls per handle.
 */
#include "fs/io/io.h"
#include "fs/io/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

enum wf_state { WF_POSIX, WF_STREAM, WF_CLEAN, WF_STAGE };

struct fs_wfile {
	struct ufs_backend *be;
	char *rel;
	char *staging_dir;
	int flags;
	mode_t mode;
	enum wf_state state;
	struct ufs_writer *w; /* POSIX (may be NULL after a flush), STREAM */
	uint64_t streamed;    /* STREAM: bytes handed to w */
	uint64_t append_off;  /* POSIX + O_APPEND: where the next write goes */
	struct fs_stage *st;  /* STAGE */
	int dirty;	      /* POSIX: written since flush; STAGE: not uploaded */
	uint64_t known_size;  /* CLEAN: size of the object on the server */
};

/* Open a fresh writer on w->rel with flags. */
static int wf_open_writer(struct fs_wfile *w, int flags)
{
	return ufs_be_open_writer(w->be, w->rel, flags, w->mode, &w->w);
}

static void wf_free(struct fs_wfile *w)
{
	fs_stage_destroy(w->st);
	free(w->rel);
	free(w->staging_dir);
	free(w);
}

int fs_wfile_open(struct ufs_backend *be, const char *rel, int flags, mode_t mode,
		  const struct ufs_attr *cur, const char *staging_dir, struct fs_wfile **pw)
{
	struct fs_wfile *w = calloc(1, sizeof(*w));
	int keep = O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_ACCMODE;
	int rc = 0;

	if (!w)
		return -ENOMEM;
	w->be = be;
	w->flags = flags;
	w->mode = mode & 07777;
	w->rel = strdup(rel);
	w->staging_dir = staging_dir ? strdup(staging_dir) : NULL;
	if (!w->rel || (staging_dir && !w->staging_dir))
		rc = -ENOMEM;
	else if (be->ops->caps & UFS_CAP_POSIX_WRITE) {
		w->state = WF_POSIX;
		w->append_off = (cur && !(flags & O_TRUNC)) ? cur->size : 0;
		rc = wf_open_writer(w, flags & keep);
	} else if (!cur || (flags & O_TRUNC)) {
		w->state = WF_STREAM;
		rc = wf_open_writer(w, O_CREAT | O_TRUNC | O_WRONLY);
	} else {
		w->state = WF_CLEAN;
		w->known_size = cur->size;
	}
	if (rc < 0) {
		wf_free(w);
		return rc;
	}
	*pw = w;
	return 0;
}

/* Commit a stream: close its writer. STREAM -> CLEAN. */
static int wf_commit_stream(struct fs_wfile *w)
{
	int rc = w->w->ops->close(w->w);

	w->w = NULL;
	w->state = WF_CLEAN;
	w->known_size = w->streamed;
	return rc;
}

/* Fill a new staging file from the object as the server has it now. */
static int wf_stage_from_server(struct fs_wfile *w)
{
	struct ufs_attr a;
	struct ufs_obj obj;
	int rc = ufs_be_getattr(w->be, w->rel, &a);

	if (rc == -ENOENT)
		return 0; /* nothing there yet: start empty */
	if (rc < 0)
		return rc;
	fs_obj_from_attr(&obj, w->rel, &a);
	return fs_stage_fill(w->st, w->be, &obj);
}

/* Move to STAGE (from STREAM or CLEAN). */
static int wf_to_stage(struct fs_wfile *w)
{
	int rc = 0;

	if (w->state == WF_STAGE)
		return 0;
	if (w->state == WF_STREAM)
		rc = wf_commit_stream(w);
	if (rc == 0)
		rc = fs_stage_create(w->staging_dir, &w->st);
	if (rc == 0) {
		rc = wf_stage_from_server(w);
		if (rc < 0) {
			fs_stage_destroy(w->st);
			w->st = NULL;
		}
	}
	if (rc < 0) {
		ufs_err("mount %s: %s: cannot stage for a non-sequential write: %s", w->be->name,
			w->rel, strerror(-rc));
		return rc;
	}
	ufs_debug("mount %s: %s: staged locally (non-sequential write)", w->be->name, w->rel);
	w->state = WF_STAGE;
	w->dirty = 0;
	return 0;
}

static ssize_t wf_write_posix(struct fs_wfile *w, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (!w->w) {
		int rc = wf_open_writer(w, w->flags & (O_APPEND | O_ACCMODE));

		if (rc < 0)
			return rc;
	}
	if (w->flags & O_APPEND)
		off = w->append_off;
	n = w->w->ops->pwrite(w->w, buf, len, off);
	if (n > 0 && (w->flags & O_APPEND))
		w->append_off += (uint64_t)n;
	if (n > 0)
		w->dirty = 1;
	return n;
}

static ssize_t wf_write_stage(struct fs_wfile *w, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (w->flags & O_APPEND)
		off = fs_stage_size(w->st);
	n = fs_stage_pwrite(w->st, buf, len, off);
	if (n > 0)
		w->dirty = 1;
	return n;
}

ssize_t fs_wfile_write(struct fs_wfile *w, const void *buf, size_t len, uint64_t off)
{
	if (w->state == WF_POSIX)
		return wf_write_posix(w, buf, len, off);
	if (w->state == WF_STREAM && (off == w->streamed || (w->flags & O_APPEND))) {
		ssize_t n = w->w->ops->pwrite(w->w, buf, len, w->streamed);

		if (n != -ESPIPE) {
			if (n > 0)
				w->streamed += (uint64_t)n;
			return n;
		}
	}
	if (w->state != WF_STAGE) {
		int rc = wf_to_stage(w);

		if (rc < 0)
			return rc;
	}
	return wf_write_stage(w, buf, len, off);
}

ssize_t fs_wfile_read(struct fs_wfile *w, void *buf, size_t len, uint64_t off, int *phandled)
{
	*phandled = 0;
	if (w->state == WF_POSIX || w->state == WF_CLEAN)
		return 0;
	*phandled = 1;
	if (w->state == WF_STREAM && w->streamed == 0)
		return 0; /* an empty new file */
	if (w->state == WF_STREAM) {
		int rc = wf_to_stage(w);

		if (rc < 0)
			return rc;
	}
	return fs_stage_pread(w->st, buf, len, off);
}

/* Object store: restart as an empty stream (truncate to 0). */
static int wf_restart_stream(struct fs_wfile *w)
{
	if (w->w)
		w->w->ops->abort(w->w);
	w->w = NULL;
	fs_stage_destroy(w->st);
	w->st = NULL;
	w->streamed = 0;
	w->state = WF_STREAM;
	return wf_open_writer(w, O_CREAT | O_TRUNC | O_WRONLY);
}

int fs_wfile_truncate(struct fs_wfile *w, uint64_t size)
{
	struct ufs_attr a = {.size = size};
	int rc;

	if (w->state == WF_POSIX) {
		if (w->w && w->w->ops->truncate)
			return w->w->ops->truncate(w->w, size);
		return ufs_be_setattr(w->be, w->rel, &a, UFS_SET_SIZE);
	}
	if (w->state == WF_STREAM && size == w->streamed)
		return 0;
	if (size == 0)
		return wf_restart_stream(w);
	rc = wf_to_stage(w);
	if (rc == 0)
		rc = fs_stage_truncate(w->st, size);
	if (rc == 0)
		w->dirty = 1;
	return rc;
}

int fs_wfile_flush(struct fs_wfile *w)
{
	int rc = 0;

	switch (w->state) {
	case WF_POSIX:
		if (w->w)
			rc = w->w->ops->close(w->w);
		w->w = NULL;
		w->dirty = 0;
		break;
	case WF_STREAM:
		rc = wf_commit_stream(w);
		break;
	case WF_STAGE:
		if (w->dirty)
			rc = fs_stage_upload(w->st, w->be, w->rel);
		if (rc == 0)
			w->dirty = 0;
		break;
	case WF_CLEAN:
		break;
	}
	if (rc < 0)
		ufs_err("mount %s: %s: write failed: %s", w->be->name, w->rel, strerror(-rc));
	return rc;
}

int fs_wfile_fsync(struct fs_wfile *w)
{
	if (w->state == WF_POSIX || w->state == WF_STREAM)
		return w->w && w->w->ops->fsync ? w->w->ops->fsync(w->w) : 0;
	return fs_wfile_flush(w);
}

int fs_wfile_close(struct fs_wfile *w)
{
	int rc = fs_wfile_flush(w);

	wf_free(w);
	return rc;
}

int64_t fs_wfile_size(const struct fs_wfile *w)
{
	switch (w->state) {
	case WF_STREAM:
		return (int64_t)w->streamed;
	case WF_STAGE:
		return (int64_t)fs_stage_size(w->st);
	case WF_CLEAN:
		return (int64_t)w->known_size;
	default:
		return -1;
	}
}

int fs_wfile_rename(struct fs_wfile *w, const char *rel)
{
	char *r = strdup(rel);

	if (!r)
		return -ENOMEM;
	free(w->rel);
	w->rel = r;
	return 0;
}
