/*
 * s3_upload.c — S3 writers: sequential writes streamed into a multipart
 * upload whose parts are stored in parallel by the shared part-upload
 * pipeline (upload.c: its own threads, each with its own keep-alive
 * connection, part memory from the global budget).
 *
 * Writer states:
 *   FILLING    bytes accumulate in cur (one part buffer); no request yet.
 *   UPLOADING  after the first full part: CreateMultipartUpload done
 *              (upload_id set), full parts handed to the pipeline.
 *   closed     close(): nothing handed over -> one PutObject of cur; else the
 *              last part, wait for all, CompleteMultipartUpload. Any part
 *              error -> AbortMultipartUpload (no leftover parts) and the first
 *              error is returned. abort() always aborts the upload.
 * Invariants: written == bytes accepted; parts 1..nparts were handed over;
 * etags[i] is written only by the pipeline thread storing part i+1 (disjoint
 * slots, read after ufs_upload_wait()); err is the writer's first error and,
 * once set, every later pwrite/fsync/close returns it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "protocols/s3_i.h"
#include "protocols/upload.h"

/* ---- multipart requests ---- */

/* POST key?uploads -> *pid (owned). */
static int s3_mpu_create(struct s3_be *sb, const char *key, char **pid)
{
	struct ufs_http_buf body = {0};
	struct s3_call c;
	int rc = s3_call_init(&c, sb, UFS_REQ_POST, "POST", key, "uploads");

	c.req.out_grow = &body;
	if (!rc)
		rc = s3_call_perform(&c);
	if (!rc) {
		*pid = ufs_s3_parse_upload_id(body.data, body.len);
		if (!*pid) {
			ufs_be_set_error(&sb->base, "CreateMultipartUpload: no UploadId in answer");
			rc = -EIO;
		}
	}
	s3_call_fini(&c);
	free(body.data);
	return rc;
}

/* "partNumber=N&uploadId=ID" (or just the upload id when num == 0) */
static char *s3_mpu_query(const char *id, unsigned num)
{
	char *eid = ufs_uri_encode(id, strlen(id), 0), *q = NULL;
	int n;

	if (!eid)
		return NULL;
	if (num)
		n = asprintf(&q, "partNumber=%u&uploadId=%s", num, eid);
	else
		n = asprintf(&q, "uploadId=%s", eid);
	free(eid);
	return n < 0 ? NULL : q;
}

/* DELETE key?uploadId=ID: drop every stored part. */
static int s3_mpu_abort(struct s3_be *sb, const char *key, const char *id)
{
	char *q = s3_mpu_query(id, 0);
	struct s3_call c;
	int rc = q ? s3_call_init(&c, sb, UFS_REQ_DELETE, "DELETE", key, q) : -ENOMEM;

	if (!rc)
		rc = s3_call_perform(&c);
	if (q)
		s3_call_fini(&c);
	free(q);
	if (rc && rc != -ENOENT)
		ufs_warn("%s: could not abort multipart upload of '%s': %s", sb->base.name, key,
			 strerror(-rc));
	return rc;
}

/* POST key?uploadId=ID with the part list. */
static int s3_mpu_complete(struct s3_be *sb, const char *key, const char *id,
			   char (*etags)[UFS_ETAG_MAX], unsigned n)
{
	struct ufs_http_buf resp = {0};
	char *q = s3_mpu_query(id, 0), *xml = ufs_s3_complete_body(etags, n), code[64];
	struct s3_call c;
	int rc = q && xml ? s3_call_init(&c, sb, UFS_REQ_POST, "POST", key, q) : -ENOMEM;

	if (!rc) {
		c.req.body = xml;
		c.req.body_len = strlen(xml);
		c.req.out_grow = &resp;
		c.req.timeout_s = 300; /* the server assembles the parts before answering */
		rc = s3_call_perform(&c);
		s3_call_fini(&c);
	}
	if (!rc && ufs_s3_body_is_error(resp.data, resp.len, code, sizeof(code))) {
		ufs_be_set_error(&sb->base, "CompleteMultipartUpload of '%s': %s", key, code);
		ufs_be_count_error(&sb->base);
		rc = -EIO;
	}
	free(resp.data);
	free(q);
	free(xml);
	return rc;
}

/* ---- writers ---- */

struct s3_writer {
	struct ufs_writer base; /* first */
	struct s3_be *sb;
	char *key;
	uint64_t written;
	char *upload_id;
	struct ufs_upload *up;
	char *cur; /* part being filled, cur_cap bytes from ufs_upload_alloc */
	size_t cur_len, cur_cap;
	unsigned nparts;
	char (*etags)[UFS_ETAG_MAX]; /* UFS_S3_MAX_PARTS slots, from the first part on */
	int err;
};

/* Pipeline callback: store part index+1 (runs on a pipeline thread). */
static int s3_part_put(void *arg, uint32_t index, const void *buf, size_t len)
{
	struct s3_writer *w = arg;
	char *q = s3_mpu_query(w->upload_id, index + 1);
	const char *et;
	struct s3_call c;
	int rc = q ? s3_call_init(&c, w->sb, UFS_REQ_PUT, "PUT", w->key, q) : -ENOMEM;

	free(q);
	if (rc)
		return rc;
	c.req.body = buf;
	c.req.body_len = len;
	rc = s3_call_perform(&c);
	et = ufs_http_hdrs_get(&c.resp.hdrs, "ETag");
	if (!rc && !et)
		rc = -EIO;
	if (!rc)
		ufs_os_etag_strip(et, strlen(et), w->etags[index]);
	s3_call_fini(&c);
	return rc;
}

/* Start the multipart upload on the first full part. */
static int s3_begin_upload(struct s3_writer *w)
{
	w->etags = calloc(UFS_S3_MAX_PARTS, UFS_ETAG_MAX);
	if (!w->etags)
		return -ENOMEM;
	return s3_mpu_create(w->sb, w->key, &w->upload_id);
}

/* Hand cur to the pipeline. */
static int s3_submit(struct s3_writer *w)
{
	int rc = w->upload_id ? 0 : s3_begin_upload(w);
	char *buf = w->cur;

	if (!rc && w->nparts >= UFS_S3_MAX_PARTS)
		rc = -EFBIG;
	if (rc)
		return rc;
	w->cur = NULL;
	return ufs_upload_submit(w->up, w->nparts++, buf, w->cur_cap, w->cur_len);
}

static int s3_fill(struct s3_writer *w, const char *src, size_t len, size_t *pdone)
{
	int rc = 0;

	*pdone = 0;
	while (!rc && *pdone < len) {
		size_t n;

		if (!w->cur) {
			w->cur_cap = ufs_s3_part_len(w->sb->part_size, w->nparts + 1);
			w->cur_len = 0;
			rc = ufs_upload_alloc(w->up, w->cur_cap, &w->cur);
			if (rc)
				break;
		}
		n = w->cur_cap - w->cur_len;
		if (n > len - *pdone)
			n = len - *pdone;
		memcpy(w->cur + w->cur_len, src + *pdone, n);
		w->cur_len += n;
		*pdone += n;
		if (w->cur_len == w->cur_cap)
			rc = s3_submit(w);
	}
	return rc;
}

static ssize_t s3_w_pwrite(struct ufs_writer *wr, const void *buf, size_t len, uint64_t off)
{
	struct s3_writer *w = (struct s3_writer *)wr;
	size_t done;

	if (w->err)
		return w->err;
	if (off != w->written)
		return -ESPIPE;
	w->err = s3_fill(w, buf, len, &done);
	w->written += done;
	return w->err ? w->err : (ssize_t)len;
}

static int s3_w_fsync(struct ufs_writer *wr)
{
	struct s3_writer *w = (struct s3_writer *)wr;

	if (!w->err)
		w->err = ufs_upload_wait(w->up);
	return w->err;
}

/* Nothing was handed over: store the object with one PUT. */
static int s3_put_whole(struct s3_writer *w)
{
	struct s3_call c;
	int rc = s3_call_init(&c, w->sb, UFS_REQ_PUT, "PUT", w->key, NULL);

	if (rc)
		return rc;
	c.req.body = w->cur ? w->cur : "";
	c.req.body_len = w->cur ? w->cur_len : 0;
	rc = s3_call_perform(&c);
	s3_call_fini(&c);
	return rc;
}

static void s3_writer_free(struct s3_writer *w)
{
	if (w->cur)
		ufs_upload_free(w->up, w->cur, w->cur_cap);
	ufs_upload_destroy(w->up);
	free(w->upload_id);
	free(w->etags);
	free(w->key);
	free(w);
}

static void s3_w_abort(struct ufs_writer *wr)
{
	struct s3_writer *w = (struct s3_writer *)wr;

	ufs_upload_destroy(w->up); /* drops queued parts, waits for running ones */
	w->up = NULL;
	if (w->upload_id)
		s3_mpu_abort(w->sb, w->key, w->upload_id);
	s3_writer_free(w);
}

static int s3_w_close(struct ufs_writer *wr)
{
	struct s3_writer *w = (struct s3_writer *)wr;
	int rc = w->err;

	if (!rc && !w->upload_id) {
		rc = s3_put_whole(w);
		s3_writer_free(w);
		return rc;
	}
	if (!rc && w->cur && w->cur_len > 0)
		rc = s3_submit(w);
	if (!rc)
		rc = ufs_upload_wait(w->up);
	if (!rc)
		rc = s3_mpu_complete(w->sb, w->key, w->upload_id, w->etags, w->nparts);
	if (rc) {
		ufs_err("%s: upload of '%s' failed: %s", w->sb->base.name, w->key, strerror(-rc));
		s3_w_abort(wr);
		return rc;
	}
	s3_writer_free(w);
	return 0;
}

static const struct ufs_writer_ops s3_writer_ops = {
    .pwrite = s3_w_pwrite,
    .fsync = s3_w_fsync,
    .close = s3_w_close,
    .abort = s3_w_abort,
};

int s3_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
		   struct ufs_writer **pw)
{
	struct s3_be *sb = (struct s3_be *)be;
	double wait_ms = be->gcfg && be->gcfg->op_timeout > 0 ? be->gcfg->op_timeout * 1000 : 20000;
	struct s3_writer *w;
	struct ufs_attr a;
	int rc;

	(void)mode;
	if ((flags & O_EXCL) && be->ops->getattr(be, path, &a) == 0)
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->base.ops = &s3_writer_ops;
	w->base.be = be;
	w->sb = sb;
	w->key = s3_key(sb, path);
	rc = w->key ? ufs_upload_create(be->budget, sb->max_inflight, (int)wait_ms, s3_part_put, w,
					&w->up)
		    : -ENOMEM;
	if (rc) {
		free(w->key);
		free(w);
		return rc;
	}
	*pw = &w->base;
	return 0;
}

/* ---- server-side copy of objects above 5 GiB (UploadPartCopy) ---- */

static int s3_copy_part(struct s3_be *sb, const char *to_key, const char *id, const char *src,
			unsigned num, uint64_t first, uint64_t last, char etag[UFS_ETAG_MAX])
{
	struct ufs_http_buf body = {0};
	char *q = s3_mpu_query(id, num), *ef;
	struct s3_call c;
	int rc = q ? s3_call_init(&c, sb, UFS_REQ_COPY, "PUT", to_key, q) : -ENOMEM;

	free(q);
	if (rc)
		return rc;
	rc = ufs_http_hdrs_add(&c.req.headers, "x-amz-copy-source: %s", src);
	if (!rc)
		rc = ufs_http_hdrs_add(&c.req.headers, "x-amz-copy-source-range: bytes=%llu-%llu",
				       (unsigned long long)first, (unsigned long long)last);
	c.req.out_grow = &body;
	c.req.timeout_s = 600;
	if (!rc)
		rc = s3_call_perform(&c);
	ef = rc ? NULL : ufs_s3_xml_text(body.data, body.len, "CopyPartResult/ETag");
	if (!rc && !ef)
		rc = -EIO;
	if (!rc)
		ufs_os_etag_strip(ef, strlen(ef), etag);
	free(ef);
	s3_call_fini(&c);
	free(body.data);
	return rc;
}

int s3_copy_multipart(struct s3_be *sb, const char *from_key, const char *to_key, uint64_t size)
{
	const uint64_t chunk = 1ULL << 30;
	unsigned n = (unsigned)((size + chunk - 1) / chunk);
	char(*etags)[UFS_ETAG_MAX] = calloc(n, UFS_ETAG_MAX);
	char *id = NULL, *src = s3_copy_source(sb, from_key);
	int rc = etags && src ? 0 : -ENOMEM;

	if (!rc)
		rc = s3_mpu_create(sb, to_key, &id);
	for (unsigned i = 0; !rc && i < n; i++) {
		uint64_t last = (i + 1) * chunk > size ? size - 1 : (i + 1) * chunk - 1;

		rc = s3_copy_part(sb, to_key, id, src, i + 1, i * chunk, last, etags[i]);
	}
	if (!rc)
		rc = s3_mpu_complete(sb, to_key, id, etags, n);
	else if (id)
		s3_mpu_abort(sb, to_key, id);
	free(id);
	free(etags);
	free(src);
	return rc;
}
