/*
 * s3_mpu.c — S3 multipart uploads and server-side copies, as object-store
 * primitives (objstore.h): CreateMultipartUpload / UploadPart /
 * CompleteMultipartUpload / AbortMultipartUpload / ListParts (resume) for
 * the shared writer
 * (os_writer.c), and CopyObject, or UploadPartCopy in 1 GiB parts for
 * objects above S3's 5 GiB single-copy limit, for rename; a metadata-only
 * self-copy for set_meta.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "protocols/s3/s3_i.h"
#include "protocols/sign.h"

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

/* POST key?uploads -> *pid (owned). */
int s3_mpu_begin(struct ufs_os *os, const char *key, char **pid)
{
	struct s3_be *sb = (struct s3_be *)os;
	struct ufs_strbuf body = {0};
	struct s3_call c;
	int rc = s3_call_init(&c, sb, UFS_REQ_POST, "POST", key, "uploads");

	c.req.out_grow = &body;
	if (!rc)
		rc = s3_call_perform(&c);
	if (!rc) {
		*pid = ufs_s3_parse_upload_id(body.s, body.len);
		if (!*pid) {
			ufs_be_set_error(&os->base, "CreateMultipartUpload: no UploadId in answer");
			rc = -EIO;
		}
	}
	s3_call_fini(&c);
	free(body.s);
	return rc;
}

/* DELETE key?uploadId=ID: drop every stored part. */
void s3_mpu_abort(struct ufs_os *os, const char *key, const char *id)
{
	struct s3_be *sb = (struct s3_be *)os;
	char *q = s3_mpu_query(id, 0);
	struct s3_call c;
	int rc = q ? s3_call_init(&c, sb, UFS_REQ_DELETE, "DELETE", key, q) : -ENOMEM;

	if (!rc)
		rc = s3_call_perform(&c);
	if (q)
		s3_call_fini(&c);
	free(q);
	if (rc && rc != -ENOENT)
		ufs_warn("%s: could not abort multipart upload of '%s': %s", os->base.name, key,
			 strerror(-rc));
}

/* ListParts: GET key?uploadId=ID, page by page; NoSuchUpload -> -ENOENT. */
int s3_mpu_list(struct ufs_os *os, const char *key, const char *id, ufs_upload_part_cb cb,
		void *arg)
{
	struct s3_be *sb = (struct s3_be *)os;
	unsigned marker = 0;
	int rc = 0;

	do {
		struct ufs_strbuf body = {0};
		char *eid = ufs_uri_encode(id, strlen(id), 0), *q = NULL;
		struct s3_call c;

		if (!eid || asprintf(&q, "part-number-marker=%u&uploadId=%s", marker, eid) < 0)
			q = NULL;
		free(eid);
		rc = q ? s3_call_init(&c, sb, UFS_REQ_LIST, "GET", key, q) : -ENOMEM;
		free(q);
		if (rc)
			return rc;
		c.req.out_grow = &body;
		rc = s3_call_perform(&c);
		s3_call_fini(&c);
		if (!rc) {
			rc = ufs_s3_parse_parts(body.s, body.len, cb, arg, &marker);
			if (rc == -EIO)
				ufs_be_set_error(&os->base, "ListParts: malformed answer");
		}
		free(body.s);
	} while (!rc && marker);
	return rc;
}

/* POST key?uploadId=ID with the part list. S3 has no conditional commit:
 * excl was checked when the writer opened. */
int s3_mpu_commit(struct ufs_os *os, const char *key, const char *id, char (*etags)[UFS_ETAG_MAX],
		  unsigned n, int excl)
{
	struct s3_be *sb = (struct s3_be *)os;
	struct ufs_strbuf resp = {0};
	char *q = s3_mpu_query(id, 0), *xml = ufs_s3_complete_body(etags, n);
	struct s3_call c;
	int rc = q && xml ? s3_call_init(&c, sb, UFS_REQ_POST, "POST", key, q) : -ENOMEM;

	(void)excl;
	if (!rc) {
		c.req.body = xml;
		c.req.body_len = strlen(xml);
		c.req.out_grow = &resp;
		c.req.timeout_s = 300; /* the server assembles the parts before answering */
		rc = s3_call_perform(&c);
		s3_call_fini(&c);
	}
	if (!rc)
		rc = s3_check_body(sb, &resp, "CompleteMultipartUpload");
	free(resp.s);
	free(q);
	free(xml);
	return rc == -ENOENT ? -EIO : rc;
}

/* PUT key?partNumber=N&uploadId=ID (runs on a pipeline thread). */
int s3_mpu_part(struct ufs_os *os, const char *key, const char *id, unsigned n, const void *buf,
		size_t len, char etag[UFS_ETAG_MAX])
{
	char *q = s3_mpu_query(id, n);
	const char *et;
	struct s3_call c;
	int rc = q ? s3_call_init(&c, (struct s3_be *)os, UFS_REQ_PUT, "PUT", key, q) : -ENOMEM;

	free(q);
	if (rc)
		return rc;
	rc = ufs_content_md5_add(&c.req.headers, buf, len);
	if (rc) {
		s3_call_fini(&c);
		return rc;
	}
	c.req.body = buf;
	c.req.body_len = len;
	rc = s3_call_perform(&c);
	et = ufs_http_hdrs_get(&c.resp.hdrs, "ETag");
	if (!rc && !et)
		rc = -EIO;
	if (!rc)
		ufs_os_etag_strip(et, strlen(et), etag);
	s3_call_fini(&c);
	return rc;
}

/* ---- server-side copies ---- */

/* "/bucket/encoded-key" for x-amz-copy-source */
static char *s3_copy_source(const struct s3_be *sb, const char *key)
{
	char *ek = ufs_uri_encode(key, strlen(key), 1), *src = NULL;

	if (ek && asprintf(&src, "/%s/%s", sb->bucket, ek) < 0)
		src = NULL;
	free(ek);
	return src;
}

int s3_meta_add(struct ufs_http_hdrs *h, const struct ufs_attr *meta)
{
	char mtime[UFS_OS_META_LEN], xxh3[UFS_OS_META_LEN];
	int rc;

	ufs_os_meta_format(meta, mtime, xxh3);
	rc = ufs_http_hdrs_add(h, "x-amz-meta-mtime: %s", mtime);
	if (!rc && xxh3[0])
		rc = ufs_http_hdrs_add(h, "x-amz-meta-unifs-xxh3: %s", xxh3);
	return rc;
}

/* CopyObject from -> to, one request (size <= 5 GiB); with meta (may be
 * NULL) the copy's metadata is replaced by meta's. */
static int s3_copy_object(struct s3_be *sb, const char *src, const char *to_key,
			  const struct ufs_attr *meta)
{
	struct ufs_strbuf body = {0};
	struct s3_call c;
	int rc = s3_call_init(&c, sb, UFS_REQ_COPY, "PUT", to_key, NULL);

	if (rc)
		return rc;
	rc = ufs_http_hdrs_add(&c.req.headers, "x-amz-copy-source: %s", src);
	if (!rc && meta)
		rc = ufs_http_hdrs_add(&c.req.headers, "x-amz-metadata-directive: REPLACE");
	if (!rc && meta)
		rc = s3_meta_add(&c.req.headers, meta);
	c.req.out_grow = &body;
	c.req.timeout_s = 600;
	if (!rc)
		rc = s3_call_perform(&c);
	if (!rc)
		rc = s3_check_body(sb, &body, "CopyObject");
	s3_call_fini(&c);
	free(body.s);
	return rc;
}

static int s3_copy_part(struct s3_be *sb, const char *to_key, const char *id, const char *src,
			unsigned num, uint64_t first, uint64_t last, char etag[UFS_ETAG_MAX])
{
	struct ufs_strbuf body = {0};
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
	ef = rc ? NULL : ufs_s3_xml_text(body.s, body.len, "CopyPartResult/ETag");
	if (!rc && !ef)
		rc = -EIO;
	if (!rc)
		ufs_os_etag_strip(ef, strlen(ef), etag);
	free(ef);
	s3_call_fini(&c);
	free(body.s);
	return rc;
}

/* UploadPartCopy in 1 GiB parts. */
static int s3_copy_multipart(struct s3_be *sb, const char *src, const char *to_key, uint64_t size)
{
	const uint64_t chunk = 1ULL << 30;
	unsigned n = (unsigned)((size + chunk - 1) / chunk);
	char(*etags)[UFS_ETAG_MAX] = calloc(n, UFS_ETAG_MAX);
	char *id = NULL;
	int rc = etags ? 0 : -ENOMEM;

	if (!rc)
		rc = s3_mpu_begin(&sb->os, to_key, &id);
	for (unsigned i = 0; !rc && i < n; i++) {
		uint64_t last = (i + 1) * chunk > size ? size - 1 : (i + 1) * chunk - 1;

		rc = s3_copy_part(sb, to_key, id, src, i + 1, i * chunk, last, etags[i]);
	}
	if (!rc)
		rc = s3_mpu_commit(&sb->os, to_key, id, etags, n, 0);
	else if (id)
		s3_mpu_abort(&sb->os, to_key, id);
	free(id);
	free(etags);
	return rc;
}

int s3_copy(struct ufs_os *os, const char *from, const char *to, uint64_t size, const char *etag,
	    int noreplace)
{
	struct s3_be *sb = (struct s3_be *)os;
	char *src = s3_copy_source(sb, from);
	int rc;

	(void)etag;	 /* the source was HEADed just before */
	(void)noreplace; /* no conditional copy: the destination was checked */
	if (!src)
		return -ENOMEM;
	rc = size > UFS_S3_MAX_PART ? s3_copy_multipart(sb, src, to, size)
				    : s3_copy_object(sb, src, to, NULL);
	free(src);
	return rc;
}

/* A metadata-only self-copy (S3 cannot change the metadata of an object in
 * place). Above the single-copy limit the object keeps no metadata. */
int s3_set_meta(struct ufs_os *os, const char *key, uint64_t size, const struct ufs_attr *meta)
{
	struct s3_be *sb = (struct s3_be *)os;
	char *src;
	int rc;

	if (size > UFS_S3_MAX_PART)
		return 0;
	src = s3_copy_source(sb, key);
	rc = src ? s3_copy_object(sb, src, key, meta) : -ENOMEM;
	free(src);
	return rc;
}
