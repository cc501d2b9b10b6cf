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
 *
 * Resumable uploads (unifs cp --journal): stored[i] is set (release) by the
 * pipeline thread once part i+1 and its ETag are stored, so stored_parts()
 * reads the contiguous prefix without waiting. Every part handed over before
 * close is full, so part n's size is part_len(n): a later process with the
 * same part size resume()s the upload after checking with the store's
 * mpu_list primitive that each part is still there with its size and ETag,
 * and streams on from the end of the prefix. After a multipart commit the
 * object is HEADed: its size must be what was written and a multipart ETag
 * ("md5-N") must count the parts committed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "protocols/objstore/objstore.h"
#include "protocols/objstore/upload.h"

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
	atomic_uchar *stored;	     /* max_parts flags: part i+1 is stored */
	struct ufs_attr meta;	     /* stored after the commit when has_meta */
	int has_meta;
	int err;
};

/* Pipeline callback: store part index+1 (runs on a pipeline thread). */
static int os_part_put(void *arg, uint32_t index, const void *buf, size_t len)
{
	struct os_writer *w = arg;
	char scratch[UFS_ETAG_MAX];
	int rc = w->os->prims->mpu_part(w->os, w->key, w->id, index + 1, buf, len,
					w->etags ? w->etags[index] : scratch);

	if (!rc)
		atomic_store_explicit(&w->stored[index], 1, memory_order_release);
	return rc;
}

/* The per-part tables of a multipart upload (ETags, stored flags). */
static int os_part_tables(struct os_writer *w)
{
	unsigned max = w->os->prims->max_parts;

	if (!w->etags && w->os->prims->part_etags)
		w->etags = calloc(max, UFS_ETAG_MAX);
	if (!w->stored)
		w->stored = calloc(max, sizeof(*w->stored));
	return w->stored && (w->etags || !w->os->prims->part_etags) ? 0 : -ENOMEM;
}

/* Start the multipart upload when the second part begins. */
static int os_begin_upload(struct os_writer *w)
{
	int rc = os_part_tables(w);

	return rc ? rc : w->os->prims->mpu_begin(w->os, w->key, &w->id);
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
	free(w->stored);
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

/* A committed multipart upload must be what was written: its size, and a
 * multipart ETag ("md5-N", S3) must count the parts committed. */
static int os_check_commit(struct os_writer *w)
{
	struct ufs_attr a;
	const char *dash;
	int rc = w->os->prims->head(w->os, w->key, &a);

	if (rc)
		return rc;
	dash = strrchr(a.etag, '-');
	if (a.size != w->written) {
		ufs_be_set_error(&w->os->base,
				 "committed object has %" PRIu64 " bytes, %" PRIu64 " were written",
				 a.size, w->written);
		return -EIO;
	}
	if (dash && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1) &&
	    strtoul(dash + 1, NULL, 10) != w->nparts) {
		ufs_be_set_error(&w->os->base, "committed object's ETag %s does not count %u parts",
				 a.etag, w->nparts);
		return -EIO;
	}
	return 0;
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
	if (!rc && w->id)
		rc = os_check_commit(w);
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

static int os_w_stored_parts(struct ufs_writer *wr, unsigned from, ufs_upload_part_cb cb, void *arg)
{
	struct os_writer *w = (struct os_writer *)wr;
	int rc = 0;

	if (w->id && from == 0 && !atomic_load_explicit(&w->stored[0], memory_order_acquire))
		return cb(arg, w->id, 0, NULL); /* begun, nothing stored yet */
	for (unsigned i = from; !rc && w->id && i < w->nparts; i++) {
		struct ufs_upload_part p = {.len = w->os->prims->part_len(w->os, i + 1)};

		if (!atomic_load_explicit(&w->stored[i], memory_order_acquire))
			break;
		snprintf(p.etag, sizeof(p.etag), "%s", w->etags ? w->etags[i] : "");
		rc = cb(arg, w->id, i + 1, &p);
	}
	return rc;
}

/* What the store lists of an upload, against the parts a resume expects. */
struct os_resume_chk {
	const struct ufs_upload_part *want;
	unsigned n;
	unsigned char *seen;
	char *why;
	size_t whylen;
};

static int os_resume_seen(void *arg, const char *id, unsigned n, const struct ufs_upload_part *p)
{
	struct os_resume_chk *c = arg;
	const struct ufs_upload_part *want;

	(void)id;
	if (n == 0 || n > c->n)
		return 0; /* a part in flight at the crash: sent again */
	want = &c->want[n - 1];
	if (p->len != want->len || (p->etag[0] && want->etag[0] && strcmp(p->etag, want->etag))) {
		snprintf(c->why, c->whylen,
			 "part %u is stored with %" PRIu64 " bytes, ETag '%s' (journal: %" PRIu64
			 ", '%s')",
			 n, p->len, p->etag, want->len, want->etag);
		return -ESTALE;
	}
	c->seen[n - 1] = 1;
	return 0;
}

/* "listing the upload's parts failed: strerror (server's message)" */
static void os_list_failed(struct os_writer *w, int rc, char *why, size_t whylen)
{
	char last[160] = "";

	ufs_be_last_error(&w->os->base, last, sizeof(last));
	snprintf(why, whylen, "listing the upload's parts failed: %s%s%s%s", strerror(-rc),
		 last[0] ? " (" : "", last, last[0] ? ")" : "");
}

/* Ask the store for upload id's parts; 0 when parts 1..n are as expected. */
static int os_resume_check(struct os_writer *w, const char *id, unsigned n,
			   const struct ufs_upload_part *parts, char *why, size_t whylen)
{
	struct os_resume_chk c = {parts, n, calloc(n ? n : 1, 1), why, whylen};
	int rc = c.seen ? 0 : -ENOMEM;

	for (unsigned i = 0; !rc && i < n; i++) {
		if (parts[i].len != w->os->prims->part_len(w->os, i + 1)) {
			snprintf(why, whylen,
				 "part %u has %" PRIu64 " bytes, the part size is now %" PRIu64,
				 i + 1, parts[i].len, w->os->prims->part_len(w->os, i + 1));
			rc = -ESTALE;
		}
	}
	if (!rc)
		rc = w->os->prims->mpu_list(w->os, w->key, id, os_resume_seen, &c);
	if (rc == -ENOENT)
		snprintf(why, whylen, "the upload no longer exists");
	else if (rc && rc != -ESTALE && !why[0])
		os_list_failed(w, rc, why, whylen);
	for (unsigned i = 0; !rc && i < n; i++) {
		if (!c.seen[i]) {
			snprintf(why, whylen, "part %u is no longer stored", i + 1);
			rc = -ESTALE;
		}
	}
	free(c.seen);
	return rc;
}

static void os_w_drop(struct ufs_writer *wr, const char *id)
{
	struct os_writer *w = (struct os_writer *)wr;

	if (id[0] && w->os->prims->mpu_abort)
		w->os->prims->mpu_abort(w->os, w->key, id);
}

static int os_w_resume(struct ufs_writer *wr, const char *id, unsigned n,
		       const struct ufs_upload_part *parts, char *why, size_t whylen)
{
	struct os_writer *w = (struct os_writer *)wr;
	int rc;

	why[0] = '\0';
	if (w->id || w->written || n == 0 || n >= w->os->prims->max_parts) {
		snprintf(why, whylen, "nothing to resume");
		return -EINVAL;
	}
	if (!w->os->prims->mpu_list) {
		snprintf(why, whylen, "%s cannot list an upload's parts", w->os->prims->store);
		os_w_drop(wr, id);
		return -ENOTSUP;
	}
	rc = os_resume_check(w, id, n, parts, why, whylen);
	if (!rc)
		rc = os_part_tables(w);
	if (!rc)
		w->id = strdup(id);
	if (!rc && !w->id)
		rc = -ENOMEM;
	if (rc) {
		if (rc != -ENOENT && rc != -ENOMEM)
			os_w_drop(wr, id);
		return rc == -ENOENT ? -ESTALE : rc;
	}
	for (unsigned i = 0; i < n; i++) {
		atomic_store(&w->stored[i], 1);
		if (w->etags)
			memcpy(w->etags[i], parts[i].etag, UFS_ETAG_MAX);
		w->written += parts[i].len;
	}
	w->nparts = n;
	return 0;
}

static const struct ufs_writer_ops os_writer_ops = {
    .pwrite = os_w_pwrite,
    .fsync = os_w_fsync,
    .close = os_w_close,
    .abort = os_w_abort,
    .set_meta = os_w_set_meta,
    .stored_parts = os_w_stored_parts,
    .resume = os_w_resume,
    .drop = os_w_drop,
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
