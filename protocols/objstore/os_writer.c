/*
 * os_writer.c — the object-store writer, written once over a store's
 * multipart primitives: sequential writes streamed into parts that the
 * shared part-upload pipeline (upload.c: its own threads and connections,
 * part memory from the global budget) stores in parallel.
 *
 * Writer states:
 *   FILLING    bytes accumulate in cur (one part buffer); no request yet. A
 *              full buffer is kept until more data comes, so a file of
 *              exactly one part is still one plain put.
 *   UPLOADING  from the second part on: mpu_begin done (id set), full parts
 *              handed to the pipeline.
 *   closed     close(): nothing handed over -> one put of cur; else the last
 *              part, wait for all, mpu_commit. Any error -> mpu_abort (no
 *              leftover parts) and the first error is returned. abort()
 *              always aborts.
 * Invariants: written == bytes accepted; parts 1..nparts were handed over;
 * etags[i] is written only by the pipeline thread storing part i+1
 * (disjoint slots, read after ufs_upload_wait()); err is the writer's first
 * error and, once set, every later pwrite/fsync/close returns it.
 *
 * Metadata (set_meta: source mtime, content hash) goes with the single put;
 * for a multipart upload the hash is known only once every part was
 * streamed, so it is stored after the commit by the store's set_meta
 * primitive: one extra request per large file (S3: a metadata-only
 * self-copy, Azure: Set Blob Metadata).
 *
 * O_CREAT|O_EXCL: refused at open when the name exists, and the final put or
 * commit is conditional where the store can make it so (-ESTALE -> -EEXIST).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "protocols/objstore/objstore.h"
#include "protocols/upload.h"

struct os_writer {
	struct ufs_writer base; /* first */
	struct ufs_os *os;
	char *key;
	int excl;
	uint64_t written;
	char *id; /* multipart upload id, NULL while FILLING */
	struct ufs_upload *up;
	char *cur; /* part being filled, cur_cap bytes from ufs_upload_alloc */
	size_t cur_len, cur_cap;
	unsigned nparts;
	char (*etags)[UFS_ETAG_MAX]; /* max_parts slots when the store needs them */
	struct ufs_attr meta;	     /* stored after the commit when has_meta */
	int has_meta;
	int err;
};

/* Pipeline callback: store part index+1 (runs on a pipeline thread). */
static int os_part_put(void *arg, uint32_t index, const void *buf, size_t len)
{
	struct os_writer *w = arg;
	char scratch[UFS_ETAG_MAX];

	return w->os->prims->mpu_part(w->os, w->key, w->id, index + 1, buf, len,
				      w->etags ? w->etags[index] : scratch);
}

/* Start the multipart upload when the second part begins. */
static int os_begin_upload(struct os_writer *w)
{
	if (w->os->prims->part_etags) {
		w->etags = calloc(w->os->prims->max_parts, UFS_ETAG_MAX);
		if (!w->etags)
			return -ENOMEM;
	}
	return w->os->prims->mpu_begin(w->os, w->key, &w->id);
}

/* Hand cur to the pipeline as the next part. */
static int os_submit(struct os_writer *w)
{
	int rc = w->id ? 0 : os_begin_upload(w);
	char *buf = w->cur;

	if (!rc && w->nparts >= w->os->prims->max_parts)
		rc = -EFBIG;
	if (rc)
		return rc;
	w->cur = NULL;
	return ufs_upload_submit(w->up, w->nparts++, buf, w->cur_cap, w->cur_len);
}

/* Room to copy into: a fresh buffer, after handing a full one over. */
static int os_room(struct os_writer *w)
{
	int rc = 0;

	if (w->cur && w->cur_len == w->cur_cap)
		rc = os_submit(w);
	if (!rc && !w->cur) {
		w->cur_cap = (size_t)w->os->prims->part_len(w->os, w->nparts + 1);
		w->cur_len = 0;
		rc = ufs_upload_alloc(w->up, w->cur_cap, &w->cur);
	}
	return rc;
}

static ssize_t os_w_pwrite(struct ufs_writer *wr, const void *buf, size_t len, uint64_t off)
{
	struct os_writer *w = (struct os_writer *)wr;
	size_t done = 0;

	if (w->err)
		return w->err;
	if (off != w->written)
		return -ESPIPE;
	while (done < len && !w->err) {
		size_t n = len - done;

		w->err = os_room(w);
		if (w->err)
			break;
		if (n > w->cur_cap - w->cur_len)
			n = w->cur_cap - w->cur_len;
		memcpy(w->cur + w->cur_len, (const char *)buf + done, n);
		w->cur_len += n;
		done += n;
		w->written += n;
	}
	return w->err ? w->err : (ssize_t)len;
}

static int os_w_fsync(struct ufs_writer *wr)
{
	struct os_writer *w = (struct os_writer *)wr;

	if (!w->err)
		w->err = ufs_upload_wait(w->up);
	return w->err;
}

static void os_writer_free(struct os_writer *w)
{
	if (w->cur)
		ufs_upload_free(w->up, w->cur, w->cur_cap);
	ufs_upload_destroy(w->up); /* drops queued parts, waits for running ones */
	free(w->id);
	free(w->etags);
	free(w->key);
	free(w);
}

static void os_w_abort(struct ufs_writer *wr)
{
	struct os_writer *w = (struct os_writer *)wr;

	/* cur's memory goes back through the pipeline's budget: before it is gone */
	ufs_upload_free(w->up, w->cur, w->cur_cap);
	w->cur = NULL;
	ufs_upload_destroy(w->up);
	w->up = NULL;
	if (w->id && w->os->prims->mpu_abort)
		w->os->prims->mpu_abort(w->os, w->key, w->id);
	os_writer_free(w);
}

/* Store what was written: one put, or the last part and the commit. */
static int os_commit(struct os_writer *w)
{
	int rc = 0;

	if (!w->id)
		return w->os->prims->put(w->os, w->key, w->cur ? w->cur : "", w->cur_len, w->excl,
					 w->has_meta ? &w->meta : NULL);
	if (w->cur && w->cur_len > 0)
		rc = os_submit(w);
	if (!rc)
		rc = ufs_upload_wait(w->up);
	if (!rc)
		rc = w->os->prims->mpu_commit(w->os, w->key, w->id, w->etags, w->nparts, w->excl);
	return rc;
}

/* A multipart upload: store the metadata given by set_meta now that the
 * object exists (a single put carried it). */
static int os_store_meta(struct os_writer *w)
{
	if (!w->id || !w->has_meta || !w->os->prims->set_meta)
		return 0;
	return w->os->prims->set_meta(w->os, w->key, w->written, &w->meta);
}

static int os_w_set_meta(struct ufs_writer *wr, const struct ufs_attr *meta)
{
	struct os_writer *w = (struct os_writer *)wr;

	w->meta = *meta;
	w->has_meta = 1;
	return 0;
}

static int os_w_close(struct ufs_writer *wr)
{
	struct os_writer *w = (struct os_writer *)wr;
	int rc = w->err ? w->err : os_commit(w);

	if (rc == -ESTALE && w->excl)
		rc = -EEXIST; /* the conditional commit found the name taken */
	if (!rc)
		rc = os_store_meta(w);
	if (rc) {
		ufs_err("%s: upload of '%s' failed: %s", w->os->base.name, w->key, strerror(-rc));
		os_w_abort(wr);
		return rc;
	}
	os_writer_free(w);
	return 0;
}

static const struct ufs_writer_ops os_writer_ops = {
    .pwrite = os_w_pwrite,
    .fsync = os_w_fsync,
    .close = os_w_close,
    .abort = os_w_abort,
    .set_meta = os_w_set_meta,
};

int ufs_os_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
		       struct ufs_writer **pw)
{
	struct ufs_os *os = (struct ufs_os *)be;
	double wait_ms = be->gcfg && be->gcfg->op_timeout > 0 ? be->gcfg->op_timeout * 1000 : 20000;
	struct os_writer *w;
	struct ufs_attr a;
	int rc;

	(void)mode; /* objects keep no mode: file_mode says what is shown */
	if ((flags & O_CREAT) && (flags & O_EXCL) && ufs_os_getattr(be, path, &a) == 0)
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->base.ops = &os_writer_ops;
	w->base.be = be;
	w->os = os;
	w->excl = (flags & O_CREAT) && (flags & O_EXCL);
	w->key = ufs_os_key(os, path);
	rc = w->key ? ufs_upload_create(be->budget, be->bufpool, os->parallel, (int)wait_ms,
					os_part_put, w, &w->up)
		    : -ENOMEM;
	if (rc) {
		free(w->key);
		free(w);
		return rc;
	}
	*pw = &w->base;
	return 0;
}
