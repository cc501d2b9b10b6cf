/*
 * s3_upload.c — S3 writers: sequential writes streamed into a multipart
 * upload whose parts are sent in parallel by a small per-backend pool of
 * upload threads (each with its own keep-alive connection, see http.c).
 *
 * Writer states:
 *   FILLING  bytes accumulate in cur (one part buffer, memory reserved from
 *            the global budget); no request yet.
 *   UPLOADING  after the first full part: CreateMultipartUpload done
 *            (upload_id set), full parts handed to the pool; at most
 *            max_inflight parts in flight (pwrite waits for a slot).
 *   closed   close(): nothing uploaded yet -> one PutObject of cur; else the
 *            last part, wait for all, CompleteMultipartUpload. Any part error
 *            -> AbortMultipartUpload (no leftover parts) and the first error
 *            is returned. abort() always aborts the upload.
 * Invariants: written == bytes accepted; parts 1..nparts were handed over;
 * etags[i] is set when part i+1 succeeded; err is the first error and, once
 * set, every later pwrite/fsync/close returns it.
 *
 * Lock order: s3_writer.lock, then the budget's lock (release under it is
 * fine); s3_pool.lock is a leaf. Upload requests run with no lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/budget.h"
#include "common/log.h"
#include "protocols/s3_i.h"

/* ---- upload pool ---- */

struct s3_job {
	void (*run)(struct s3_job *j);
	struct s3_job *next;
};

struct s3_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct s3_job *head, *tail;
	int stop;
	unsigned n;
	pthread_t th[];
};

static void *s3_pool_main(void *arg)
{
	struct s3_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct s3_job *j = p->head;

		if (!j) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		j->run(j);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static struct s3_pool *s3_pool_create(unsigned n)
{
	struct s3_pool *p = calloc(1, sizeof(*p) + n * sizeof(pthread_t));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (; p->n < n; p->n++)
		if (pthread_create(&p->th[p->n], NULL, s3_pool_main, p) != 0)
			break;
	if (p->n == 0) {
		s3_pool_destroy(p);
		return NULL;
	}
	return p;
}

void s3_pool_destroy(struct s3_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void s3_pool_submit(struct s3_pool *p, struct s3_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* The backend's pool, started on first use; NULL on failure. */
static struct s3_pool *s3_pool_get(struct s3_be *sb)
{
	struct s3_pool *p;

	pthread_mutex_lock(&sb->pool_lock);
	if (!sb->pool)
		sb->pool = s3_pool_create(sb->upload_threads);
	p = sb->pool;
	pthread_mutex_unlock(&sb->pool_lock);
	return p;
}

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

struct s3_writer;

struct s3_part {
	struct s3_job job; /* first */
	struct s3_writer *w;
	unsigned num;
	char *buf;
	size_t len, cap;
};

struct s3_writer {
	struct ufs_writer base; /* first */
	struct s3_be *sb;
	char *key;
	uint64_t written;
	char *upload_id;
	struct s3_part *cur;
	unsigned nparts;
	char (*etags)[UFS_ETAG_MAX];
	unsigned etag_cap;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned inflight;
	int err;
};

static double s3_wait_ms(const struct s3_be *sb)
{
	return sb->base.gcfg && sb->base.gcfg->op_timeout > 0 ? sb->base.gcfg->op_timeout * 1000
							      : 20000;
}

static struct s3_part *s3_part_new(struct s3_writer *w, int *perr)
{
	struct s3_part *p = calloc(1, sizeof(*p));
	uint64_t cap = ufs_s3_part_len(w->sb->part_size, w->nparts + 1);

	*perr = p ? ufs_budget_acquire(w->sb->base.budget, cap, (int)s3_wait_ms(w->sb)) : -ENOMEM;
	if (*perr) {
		free(p);
		return NULL;
	}
	p->buf = malloc(cap);
	if (!p->buf) {
		ufs_budget_release(w->sb->base.budget, cap);
		free(p);
		*perr = -ENOMEM;
		return NULL;
	}
	p->w = w;
	p->cap = cap;
	return p;
}

static void s3_part_free(struct s3_writer *w, struct s3_part *p)
{
	if (!p)
		return;
	free(p->buf);
	ufs_budget_release(w->sb->base.budget, p->cap);
	free(p);
}

static void s3_set_err(struct s3_writer *w, int rc)
{
	if (rc && !w->err)
		w->err = rc;
}

/* Upload one part (pool thread). */
static int s3_part_put(struct s3_writer *w, struct s3_part *p, char etag[UFS_ETAG_MAX])
{
	char *q = s3_mpu_query(w->upload_id, p->num);
	const char *et;
	struct s3_call c;
	int rc = q ? s3_call_init(&c, w->sb, UFS_REQ_PUT, "PUT", w->key, q) : -ENOMEM;

	free(q);
	if (rc)
		return rc;
	c.req.body = p->buf;
	c.req.body_len = p->len;
	rc = s3_call_perform(&c);
	et = ufs_http_hdrs_get(&c.resp.hdrs, "ETag");
	if (!rc && !et)
		rc = -EIO;
	if (!rc)
		ufs_s3_etag_strip(et, strlen(et), etag);
	s3_call_fini(&c);
	return rc;
}

static void s3_part_run(struct s3_job *j)
{
	struct s3_part *p = (struct s3_part *)j;
	struct s3_writer *w = p->w;
	char etag[UFS_ETAG_MAX];
	int rc = s3_part_put(w, p, etag);

	pthread_mutex_lock(&w->lock);
	if (rc)
		s3_set_err(w, rc);
	else
		memcpy(w->etags[p->num - 1], etag, UFS_ETAG_MAX);
	s3_part_free(w, p);
	w->inflight--;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void s3_wait_idle(struct s3_writer *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->inflight > 0)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static int s3_etags_grow(struct s3_writer *w)
{
	unsigned cap = w->etag_cap ? w->etag_cap * 2 : 64;
	char(*n)[UFS_ETAG_MAX];

	if (w->nparts < w->etag_cap)
		return 0;
	n = realloc(w->etags, (size_t)cap * UFS_ETAG_MAX);
	if (!n)
		return -ENOMEM;
	w->etags = n;
	w->etag_cap = cap;
	return 0;
}

/* Hand cur to the pool (starting the upload first if needed). */
static int s3_submit(struct s3_writer *w)
{
	struct s3_pool *pool = s3_pool_get(w->sb);
	struct s3_part *p = w->cur;
	int rc = pool ? 0 : -ENOMEM;

	if (!rc && !w->upload_id)
		rc = s3_mpu_create(w->sb, w->key, &w->upload_id);
	if (!rc && w->nparts >= UFS_S3_MAX_PARTS)
		rc = -EFBIG;
	pthread_mutex_lock(&w->lock);
	while (!rc && w->inflight >= w->sb->max_inflight)
		pthread_cond_wait(&w->cond, &w->lock);
	if (!rc)
		rc = w->err ? w->err : s3_etags_grow(w);
	if (!rc) {
		w->cur = NULL;
		w->inflight++;
		p->num = ++w->nparts;
		w->etags[p->num - 1][0] = '\0';
		p->job.run = s3_part_run;
	}
	s3_set_err(w, rc);
	pthread_mutex_unlock(&w->lock);
	if (!rc)
		s3_pool_submit(pool, &p->job);
	return rc;
}

static int s3_first_err(struct s3_writer *w)
{
	int rc;

	pthread_mutex_lock(&w->lock);
	rc = w->err;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

static ssize_t s3_w_pwrite(struct ufs_writer *wr, const void *buf, size_t len, uint64_t off)
{
	struct s3_writer *w = (struct s3_writer *)wr;
	const char *src = buf;
	size_t done = 0;
	int rc = s3_first_err(w);

	if (rc)
		return rc;
	if (off != w->written)
		return -ESPIPE;
	while (done < len) {
		size_t n;

		if (!w->cur && !(w->cur = s3_part_new(w, &rc)))
			break;
		n = w->cur->cap - w->cur->len;
		if (n > len - done)
			n = len - done;
		memcpy(w->cur->buf + w->cur->len, src + done, n);
		w->cur->len += n;
		done += n;
		w->written += n;
		if (w->cur->len == w->cur->cap && (rc = s3_submit(w)) != 0)
			break;
	}
	if (rc) {
		pthread_mutex_lock(&w->lock);
		s3_set_err(w, rc);
		pthread_mutex_unlock(&w->lock);
		return rc;
	}
	return (ssize_t)len;
}

static int s3_w_fsync(struct ufs_writer *wr)
{
	struct s3_writer *w = (struct s3_writer *)wr;

	s3_wait_idle(w);
	return s3_first_err(w);
}

/* Nothing was handed over: store the object with one PUT. */
static int s3_put_whole(struct s3_writer *w)
{
	struct s3_call c;
	int rc = s3_call_init(&c, w->sb, UFS_REQ_PUT, "PUT", w->key, NULL);

	if (rc)
		return rc;
	c.req.body = w->cur ? w->cur->buf : "";
	c.req.body_len = w->cur ? w->cur->len : 0;
	rc = s3_call_perform(&c);
	s3_call_fini(&c);
	return rc;
}

static void s3_writer_free(struct s3_writer *w)
{
	s3_part_free(w, w->cur);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->upload_id);
	free(w->etags);
	free(w->key);
	free(w);
}

static void s3_w_abort(struct ufs_writer *wr)
{
	struct s3_writer *w = (struct s3_writer *)wr;

	s3_wait_idle(w);
	if (w->upload_id)
		s3_mpu_abort(w->sb, w->key, w->upload_id);
	s3_writer_free(w);
}

static int s3_w_close(struct ufs_writer *wr)
{
	struct s3_writer *w = (struct s3_writer *)wr;
	int rc = s3_first_err(w);

	if (!rc && !w->upload_id) {
		rc = s3_put_whole(w);
		s3_writer_free(w);
		return rc;
	}
	if (!rc && w->cur && w->cur->len > 0)
		rc = s3_submit(w);
	s3_wait_idle(w);
	if (!rc)
		rc = s3_first_err(w);
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
	struct s3_writer *w;
	struct ufs_attr a;

	(void)mode;
	if ((flags & O_EXCL) && be->ops->getattr(be, path, &a) == 0)
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->key = s3_key(sb, path);
	if (!w->key) {
		free(w);
		return -ENOMEM;
	}
	w->base.ops = &s3_writer_ops;
	w->base.be = be;
	w->sb = sb;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
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
		ufs_s3_etag_strip(ef, strlen(ef), etag);
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
