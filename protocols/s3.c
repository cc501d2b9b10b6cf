/*
 * s3.c — the S3 backend: s3://bucket/prefix/ (ufs_s3_ops, see backend.h).
 *
 * Mapping: a backend path p is the object key prefix+p. A directory is either
 * an explicit zero-byte marker "p/" (what mkdir writes) or implicit (some key
 * starts with "p/"). The root (prefix) is always a directory.
 *
 * Requests: every call builds an s3_call (URL, Host header), signed per
 * attempt with SigV4 by s3_sign() and sent by http.c on this thread's
 * connection. Errors are http.c's errno map; this file adds S3 meaning on
 * top (416 on a read = end of object, NoSuchBucket in check(), ...).
 *
 * Listings: ListObjectsV2 with delimiter '/', 1,000 keys a page, following
 * continuation tokens; entries carry size, mtime and ETag so `ls -l` costs
 * one request per page. Keys that are not valid POSIX names are skipped with
 * one log line each.
 *
 * Reads: a ranged GET pinned to the object's ETag with If-Match (changed ->
 * 412 -> -ESTALE), the body written straight into the caller's buffer.
 * Writes live in s3_upload.c (multipart uploads).
 *
 * Threads: the backend is shared by all threads; its fields are read-only
 * after create().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "protocols/s3_i.h"
#include "protocols/sign.h"

#define S3_SMALL_BODY (64 * 1024) /* bodies up to this size are hashed, not UNSIGNED */

/* ---- requests ---- */

char *s3_key(const struct s3_be *sb, const char *path)
{
	char *key;

	if (asprintf(&key, "%s%s", sb->prefix, path) < 0)
		return NULL;
	return key;
}

/* Split an absolute URL into authority, path and query (owned copies). */
static int s3_url_parts(const char *url, char **phost, char **ppath, const char **pquery)
{
	const char *a = strstr(url, "://");
	size_t hl, pl;

	if (!a)
		return -EINVAL;
	a += 3;
	hl = strcspn(a, "/?");
	pl = strcspn(a + hl, "?");
	*phost = strndup(a, hl);
	*ppath = strndup(a + hl, pl);
	*pquery = a[hl + pl] == '?' ? a + hl + pl + 1 : "";
	if (!*phost || !*ppath) {
		free(*phost);
		free(*ppath);
		return -ENOMEM;
	}
	return 0;
}

/* Payload hash: real for small in-memory bodies, UNSIGNED for big/streamed. */
static const char *s3_payload_hash(const struct ufs_http_req *req, char buf[UFS_SHA256_HEX_LEN])
{
	if (req->read_fn || (req->body && req->body_len > S3_SMALL_BODY))
		return UFS_SIGV4_UNSIGNED;
	if (!req->body || req->body_len == 0)
		return UFS_SIGV4_EMPTY_HASH;
	ufs_sha256_hex(req->body, (size_t)req->body_len, buf);
	return buf;
}

/* The sign hook: SigV4 header auth with a fresh date on every attempt. */
static int s3_sign(void *arg, const struct ufs_http_req *req, struct ufs_http_hdrs *pauth)
{
	struct s3_be *sb = arg;
	char *host, *path, date[UFS_AMZ_DATE_LEN], hash[UFS_SHA256_HEX_LEN];
	const char *query;
	int rc = s3_url_parts(req->url, &host, &path, &query);

	if (rc)
		return rc;
	ufs_amz_date(time(NULL), date);
	struct ufs_sigv4_req r = {
	    .method = req->method,
	    .path = path,
	    .query = query,
	    .headers = &req->headers,
	    .payload_hash = s3_payload_hash(req, hash),
	    .amz_date = date,
	    .content_sha_header = 1,
	};
	struct ufs_sigv4_key k = {sb->creds.access_key, sb->creds.secret_key,
				  sb->creds.session_token, sb->region, "s3"};

	rc = ufs_sigv4_add_headers(&r, &k, pauth);
	free(host);
	free(path);
	return rc;
}

int s3_call_init(struct s3_call *c, struct s3_be *sb, enum ufs_req_kind kind, const char *method,
		 const char *key, const char *query)
{
	char *host, *path;
	const char *q;
	int rc;

	memset(c, 0, sizeof(*c));
	c->resp.content_length = -1;
	c->url = ufs_s3_url(sb->endpoint, sb->bucket, sb->path_style, key, query);
	if (!c->url)
		return -ENOMEM;
	rc = s3_url_parts(c->url, &host, &path, &q);
	if (rc) {
		free(c->url);
		c->url = NULL;
		return rc;
	}
	c->req.be = &sb->base;
	c->req.kind = kind;
	c->req.method = method;
	c->req.url = c->url;
	c->req.sign = s3_sign;
	c->req.sign_arg = sb;
	rc = ufs_http_hdrs_add(&c->req.headers, "Host: %s", host);
	free(host);
	free(path);
	return rc;
}

int s3_call_perform(struct s3_call *c)
{
	return ufs_http_perform(&c->req, &c->resp);
}

void s3_call_fini(struct s3_call *c)
{
	ufs_http_hdrs_clear(&c->req.headers);
	ufs_http_resp_clear(&c->resp);
	free(c->url);
	c->url = NULL;
}

/* One request without a body whose answer body is dropped; 0 or -errno. */
static int s3_simple(struct s3_be *sb, enum ufs_req_kind kind, const char *method, const char *key,
		     const char *query, struct ufs_http_resp *presp)
{
	struct s3_call c;
	int rc = s3_call_init(&c, sb, kind, method, key, query);

	if (!rc)
		rc = s3_call_perform(&c);
	if (presp) {
		*presp = c.resp;
		memset(&c.resp, 0, sizeof(c.resp));
	}
	s3_call_fini(&c);
	return rc;
}

/* ---- listing ---- */

/* GET one ListObjectsV2 page of prefix into *pbody. delim: use '/' */
static int s3_list_page(struct s3_be *sb, const char *prefix, int delim, unsigned max_keys,
			const char *token, struct ufs_http_buf *pbody)
{
	char *ep = ufs_uri_encode(prefix, strlen(prefix), 0);
	char *et = token ? ufs_uri_encode(token, strlen(token), 0) : NULL;
	char *query = NULL;
	struct s3_call c;
	int rc = -ENOMEM;

	if (!ep || (token && !et))
		goto out;
	if (asprintf(&query, "list-type=2&prefix=%s&max-keys=%u%s%s%s", ep, max_keys,
		     delim ? "&delimiter=%2F" : "", et ? "&continuation-token=" : "",
		     et ? et : "") < 0) {
		query = NULL;
		goto out;
	}
	rc = s3_call_init(&c, sb, UFS_REQ_LIST, "GET", "", query);
	if (!rc) {
		pbody->len = 0;
		c.req.out_grow = pbody;
		rc = s3_call_perform(&c);
	}
	s3_call_fini(&c);
out:
	free(ep);
	free(et);
	free(query);
	return rc;
}

struct s3_list_ctx {
	struct s3_be *sb;
	const char *dir;
	ufs_list_cb cb;
	void *arg;
	unsigned seen; /* entries other than the directory's own marker */
};

static void s3_attr_fill(struct ufs_attr *a, int is_dir, uint64_t size, struct timespec mtime)
{
	memset(a, 0, sizeof(*a));
	a->mode = is_dir ? (S_IFDIR | 0755) : (S_IFREG | 0644);
	a->nlink = is_dir ? 2 : 1;
	a->uid = a->gid = UFS_UID_OWNER;
	a->size = is_dir ? 0 : size;
	a->atime = a->mtime = a->ctime = mtime;
}

static int s3_list_entry(void *arg, const struct ufs_s3_entry *e)
{
	struct s3_list_ctx *lc = arg;
	struct ufs_attr a;

	if (!e->is_dir && e->name[0] == '\0')
		return 0; /* the directory's own marker */
	lc->seen++;
	if (!ufs_os_name_ok(e->name, strlen(e->name))) {
		ufs_warn("%s: skipping S3 key '%s%s%s%s' (not a valid file name)",
			 lc->sb->base.name, lc->sb->prefix, lc->dir, *lc->dir ? "/" : "", e->name);
		return 0;
	}
	s3_attr_fill(&a, e->is_dir, e->size, e->is_dir ? lc->sb->created : e->mtime);
	snprintf(a.etag, sizeof(a.etag), "%s", e->etag);
	return lc->cb ? lc->cb(lc->arg, e->name, &a) : 0;
}

/* "prefix" + dir + "/" (or just the prefix for the root) */
static char *s3_dir_prefix(const struct s3_be *sb, const char *dir)
{
	char *p;

	if (asprintf(&p, "%s%s%s", sb->prefix, dir, *dir ? "/" : "") < 0)
		return NULL;
	return p;
}

/* Walk every page of dir; entries go to lc. 0, a callback's value, -errno. */
static int s3_list_walk(struct s3_list_ctx *lc, int delim, unsigned max_keys, int one_page)
{
	struct ufs_http_buf body = {0};
	struct ufs_s3_page page = {0};
	char *prefix = s3_dir_prefix(lc->sb, lc->dir), *token = NULL, err[160];
	int rc = prefix ? 0 : -ENOMEM;

	while (rc == 0) {
		rc = s3_list_page(lc->sb, prefix, delim, max_keys, token, &body);
		if (rc)
			break;
		rc = ufs_s3_parse_list(body.data, body.len, prefix, s3_list_entry, lc, &page, err,
				       sizeof(err));
		if (rc == -EIO)
			ufs_err("%s: bad ListObjectsV2 answer for '%s': %s", lc->sb->base.name,
				prefix, err);
		free(token);
		token = page.next_token;
		if (rc || !page.truncated || one_page)
			break;
	}
	free(token);
	free(prefix);
	free(body.data);
	return rc;
}

static int s3_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	struct s3_list_ctx lc = {(struct s3_be *)be, dir, cb, arg, 0};

	return s3_list_walk(&lc, 1, UFS_S3_LIST_MAX, 0);
}

/* Does dir hold anything (besides its marker)? 1, 0 or -errno. exists: any key at all. */
static int s3_dir_probe(struct s3_be *sb, const char *dir, unsigned max_keys, int *pexists)
{
	struct s3_list_ctx lc = {sb, dir, NULL, NULL, 0};
	struct ufs_http_buf body = {0};
	struct ufs_s3_page page = {0};
	char *prefix = s3_dir_prefix(sb, dir), err[160];
	int rc = prefix ? s3_list_page(sb, prefix, 0, max_keys, NULL, &body) : -ENOMEM;

	if (!rc)
		rc = ufs_s3_parse_list(body.data, body.len, prefix, s3_list_entry, &lc, &page, err,
				       sizeof(err));
	free(page.next_token);
	free(prefix);
	free(body.data);
	if (rc)
		return rc;
	if (pexists)
		*pexists = page.n_entries > 0;
	return lc.seen > 0;
}

/* Is path a directory (marker or implicit)? 1, 0 or -errno. */
static int s3_dir_exists(struct s3_be *sb, const char *path)
{
	int exists = 0, rc = s3_dir_probe(sb, path, 1, &exists);

	return rc < 0 ? rc : exists;
}

/* ---- attributes ---- */

static void s3_attr_from_head(struct s3_be *sb, const struct ufs_http_resp *r, struct ufs_attr *a)
{
	const char *lm = ufs_http_hdrs_get(&r->hdrs, "Last-Modified");
	const char *et = ufs_http_hdrs_get(&r->hdrs, "ETag");
	struct timespec mtime = sb->created;

	if (lm)
		ufs_os_parse_http_date(lm, &mtime);
	s3_attr_fill(a, 0, r->content_length > 0 ? (uint64_t)r->content_length : 0, mtime);
	if (et)
		ufs_os_etag_strip(et, strlen(et), a->etag);
}

/* HEAD the object at path: 0 with *pattr, or -errno (-ENOENT: no such object). */
static int s3_head(struct s3_be *sb, const char *path, struct ufs_attr *pattr)
{
	struct ufs_http_resp resp = {0};
	char *key = s3_key(sb, path);
	int rc = key ? s3_simple(sb, UFS_REQ_HEAD, "HEAD", key, NULL, &resp) : -ENOMEM;

	if (rc == 0 && pattr)
		s3_attr_from_head(sb, &resp, pattr);
	ufs_http_resp_clear(&resp);
	free(key);
	return rc;
}

static int s3_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	struct s3_be *sb = (struct s3_be *)be;
	int rc;

	if (!*path) {
		s3_attr_fill(pattr, 1, 0, sb->created);
		return 0;
	}
	rc = s3_head(sb, path, pattr);
	if (rc != -ENOENT)
		return rc;
	rc = s3_dir_exists(sb, path);
	if (rc <= 0)
		return rc < 0 ? rc : -ENOENT;
	s3_attr_fill(pattr, 1, 0, sb->created);
	return 0;
}

/* ---- reads ---- */

/* The answer is of another version than the pin (servers that ignore If-Match). */
static int s3_etag_changed(const struct ufs_obj *obj, const struct ufs_http_resp *resp)
{
	const char *et = ufs_http_hdrs_get(&resp->hdrs, "ETag");
	char tag[UFS_ETAG_MAX];

	if (!obj->etag[0] || !et)
		return 0;
	ufs_os_etag_strip(et, strlen(et), tag);
	return strcmp(tag, obj->etag) != 0;
}

static ssize_t s3_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		       void *buf)
{
	struct s3_be *sb = (struct s3_be *)be;
	char *key;
	struct s3_call c;
	int rc;

	if (len == 0 || off >= obj->size)
		return 0;
	if (len > obj->size - off)
		len = (size_t)(obj->size - off);
	key = s3_key(sb, obj->path);
	rc = key ? s3_call_init(&c, sb, UFS_REQ_GET, "GET", key, NULL) : -ENOMEM;
	free(key);
	if (rc)
		return rc;
	rc = ufs_http_hdrs_add(&c.req.headers, "Range: bytes=%llu-%llu", (unsigned long long)off,
			       (unsigned long long)(off + len - 1));
	if (!rc && obj->etag[0])
		rc = ufs_http_hdrs_add(&c.req.headers, "If-Match: \"%s\"", obj->etag);
	c.req.out_buf = buf;
	c.req.out_cap = len;
	if (!rc)
		rc = s3_call_perform(&c);
	if (rc == -ERANGE)
		rc = obj->etag[0] ? -ESTALE : 0; /* the object shrank under the pin */
	if (rc == 0 && s3_etag_changed(obj, &c.resp))
		rc = -ESTALE;
	if (rc == 0 && c.resp.body_len < len && obj->etag[0])
		rc = -EIO; /* same version, fewer bytes than its size: never short data */
	if (rc == 0)
		rc = (int)c.resp.body_len;
	s3_call_fini(&c);
	return rc;
}

/* ---- namespace changes ---- */

static int s3_put_empty(struct s3_be *sb, const char *key)
{
	return s3_simple(sb, UFS_REQ_PUT, "PUT", key, NULL, NULL);
}

static int s3_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	struct s3_be *sb = (struct s3_be *)be;
	struct ufs_attr a;
	char *key;
	int rc;

	(void)mode;
	rc = s3_getattr(be, path, &a);
	if (rc != -ENOENT)
		return rc == 0 ? -EEXIST : rc;
	if (asprintf(&key, "%s%s/", sb->prefix, path) < 0)
		return -ENOMEM;
	rc = s3_put_empty(sb, key);
	free(key);
	return rc;
}

static int s3_rmdir(struct ufs_backend *be, const char *path)
{
	struct s3_be *sb = (struct s3_be *)be;
	int exists = 0, rc = s3_dir_probe(sb, path, 2, &exists);
	char *key;

	if (rc < 0)
		return rc;
	if (rc > 0)
		return -ENOTEMPTY;
	if (!exists)
		return s3_head(sb, path, NULL) == 0 ? -ENOTDIR : -ENOENT;
	if (asprintf(&key, "%s%s/", sb->prefix, path) < 0)
		return -ENOMEM;
	rc = s3_simple(sb, UFS_REQ_DELETE, "DELETE", key, NULL, NULL);
	free(key);
	return rc;
}

static int s3_delete_key(struct s3_be *sb, const char *path)
{
	char *key = s3_key(sb, path);
	int rc = key ? s3_simple(sb, UFS_REQ_DELETE, "DELETE", key, NULL, NULL) : -ENOMEM;

	free(key);
	return rc;
}

static int s3_unlink(struct ufs_backend *be, const char *path)
{
	struct s3_be *sb = (struct s3_be *)be;
	int rc = s3_head(sb, path, NULL);

	if (rc == -ENOENT && s3_dir_exists(sb, path) > 0)
		return -EISDIR;
	if (rc)
		return rc;
	return s3_delete_key(sb, path);
}

/* A 200 answer whose body is an <Error> (CopyObject, Complete...): -EIO. */
static int s3_check_body(struct s3_be *sb, const struct ufs_http_buf *body, const char *what)
{
	char code[64];

	if (!ufs_s3_body_is_error(body->data, body->len, code, sizeof(code)))
		return 0;
	ufs_be_set_error(&sb->base, "%s failed: %s", what, code);
	ufs_be_count_error(&sb->base);
	return strcmp(code, "NoSuchKey") == 0 ? -ENOENT : -EIO;
}

/* "/bucket/encoded-key" for x-amz-copy-source */
char *s3_copy_source(const struct s3_be *sb, const char *key)
{
	char *ek = ufs_uri_encode(key, strlen(key), 1), *src = NULL;

	if (ek && asprintf(&src, "/%s/%s", sb->bucket, ek) < 0)
		src = NULL;
	free(ek);
	return src;
}

/* Server-side copy of from (size bytes) to to, one request (size <= 5 GiB). */
static int s3_copy_object(struct s3_be *sb, const char *from_key, const char *to_key)
{
	struct ufs_http_buf body = {0};
	char *src = s3_copy_source(sb, from_key);
	struct s3_call c;
	int rc = src ? s3_call_init(&c, sb, UFS_REQ_COPY, "PUT", to_key, NULL) : -ENOMEM;

	if (rc) {
		free(src);
		return rc;
	}
	rc = ufs_http_hdrs_add(&c.req.headers, "x-amz-copy-source: %s", src);
	c.req.out_grow = &body;
	c.req.timeout_s = 600;
	if (!rc)
		rc = s3_call_perform(&c);
	if (!rc)
		rc = s3_check_body(sb, &body, "CopyObject");
	s3_call_fini(&c);
	free(body.data);
	free(src);
	return rc;
}

static int s3_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	struct s3_be *sb = (struct s3_be *)be;
	struct ufs_attr a;
	char *fk, *tk;
	int rc;

	if (flags & ~1u) /* only RENAME_NOREPLACE (1) */
		return -EINVAL;
	rc = s3_head(sb, from, &a);
	if (rc == -ENOENT && s3_dir_exists(sb, from) > 0)
		return -EXDEV; /* directories are not renamed server-side; mv copies */
	if (rc)
		return rc;
	if ((flags & 1u) && s3_getattr(be, to, &a) == 0)
		return -EEXIST;
	fk = s3_key(sb, from);
	tk = s3_key(sb, to);
	rc = fk && tk ? 0 : -ENOMEM;
	if (!rc)
		rc = a.size > UFS_S3_MAX_PART ? s3_copy_multipart(sb, fk, tk, a.size)
					      : s3_copy_object(sb, fk, tk);
	if (!rc)
		rc = s3_delete_key(sb, from);
	free(fk);
	free(tk);
	return rc;
}

static int s3_statfs(struct ufs_backend *be, struct statvfs *pst)
{
	(void)be;
	memset(pst, 0, sizeof(*pst));
	pst->f_bsize = pst->f_frsize = 1 << 20;
	pst->f_blocks = pst->f_bfree = pst->f_bavail = 1ULL << 30; /* 1 PiB */
	pst->f_files = pst->f_ffree = pst->f_favail = 1ULL << 32;
	pst->f_namemax = 1024;
	return 0;
}

/* ---- lifecycle ---- */

static int s3_check(struct ufs_backend *be, char *err, size_t errlen)
{
	struct s3_be *sb = (struct s3_be *)be;
	struct ufs_http_resp resp = {0};
	int rc = s3_simple(sb, UFS_REQ_LIST, "GET", "", "list-type=2&max-keys=1", &resp);

	if (rc == -ENOENT)
		snprintf(err, errlen, "mount %s: bucket '%s' does not exist", be->name, sb->bucket);
	else if (rc == -EACCES)
		snprintf(err, errlen,
			 "mount %s: access denied to bucket '%s' (check AWS_ACCESS_KEY_ID / "
			 "credentials from %s)%s%s",
			 be->name, sb->bucket, sb->creds.source, resp.err_code[0] ? ": " : "",
			 resp.err_code);
	else if (rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ETIMEDOUT)
		snprintf(err, errlen, "mount %s: cannot reach S3 endpoint %s: %s", be->name,
			 sb->endpoint, strerror(-rc));
	else if (rc)
		snprintf(err, errlen, "mount %s: bucket '%s': HTTP %ld %s", be->name, sb->bucket,
			 resp.status, resp.err_code[0] ? resp.err_code : strerror(-rc));
	ufs_http_resp_clear(&resp);
	return rc;
}

static void s3_destroy(struct ufs_backend *be)
{
	struct s3_be *sb = (struct s3_be *)be;

	if (!sb)
		return;
	ufs_aws_creds_clear(&sb->creds);
	free(sb->bucket);
	free(sb->prefix);
	free(sb->endpoint);
	free(sb->region);
	ufs_be_fini(be);
	free(sb);
}

/* endpoint without trailing '/': the config key, else $AWS_ENDPOINT_URL_S3 or
 * $AWS_ENDPOINT_URL, else https://s3.REGION.amazonaws.com */
static int s3_cfg_endpoint(struct s3_be *sb, const struct ufs_mount_cfg *m, char *err,
			   size_t errlen)
{
	const char *ep = ufs_mcfg_get(m, "endpoint");
	size_t n;

	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL_S3");
	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL");
	if (ep && !*ep)
		ep = NULL;

	if (ep && strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) {
		snprintf(err, errlen, "mount %s: endpoint '%s' must start with http:// or https://",
			 m->prefix, ep);
		return -EINVAL;
	}
	if (ep)
		sb->endpoint = strdup(ep);
	else if (asprintf(&sb->endpoint, "https://s3.%s.amazonaws.com", sb->region) < 0)
		sb->endpoint = NULL;
	if (!sb->endpoint)
		return -ENOMEM;
	n = strlen(sb->endpoint);
	while (n > 0 && sb->endpoint[n - 1] == '/')
		sb->endpoint[--n] = '\0';
	return 0;
}

/* An endpoint named by IP address or localhost cannot host virtual buckets. */
static int s3_host_is_address(const char *endpoint)
{
	const char *h = strstr(endpoint, "://");

	h = h ? h + 3 : endpoint;
	return (*h >= '0' && *h <= '9') || *h == '[' || strncmp(h, "localhost", 9) == 0;
}

static int s3_cfg(struct s3_be *sb, const struct ufs_mount_cfg *m, const struct ufs_config *g,
		  char *err, size_t errlen)
{
	const char *region = ufs_mcfg_get(m, "region");
	char cerr[200];
	int rc;

	rc = ufs_s3_parse_url(m->url, &sb->bucket, &sb->prefix, cerr, sizeof(cerr));
	if (rc) {
		snprintf(err, errlen, "mount %s: %s", m->prefix, cerr);
		return rc;
	}
	sb->region = strdup(region ? region : "us-east-1");
	if (!sb->region)
		return -ENOMEM;
	rc = s3_cfg_endpoint(sb, m, err, errlen);
	if (!rc && ufs_mcfg_get_bool(m, "path_style", s3_host_is_address(sb->endpoint),
				     &sb->path_style) != 0)
		rc = -EINVAL;
	if (!rc && (ufs_mcfg_get_size(m, "part_size", g->part_size, &sb->part_size) != 0 ||
		    sb->part_size < UFS_S3_MIN_PART || sb->part_size > UFS_S3_MAX_PART)) {
		snprintf(err, errlen, "mount %s: part_size must be between 5M and 5G", m->prefix);
		rc = -EINVAL;
	} else if (rc == -EINVAL && !*err) {
		snprintf(err, errlen, "mount %s: path_style must be true or false", m->prefix);
	}
	if (rc)
		return rc;
	rc = ufs_aws_creds_for_mount(m, &sb->creds, cerr, sizeof(cerr));
	if (rc)
		snprintf(err, errlen, "mount %s: %s", m->prefix, cerr);
	return rc;
}

static int s3_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		     struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct s3_be *sb = calloc(1, sizeof(*sb));
	int rc;

	if (!sb)
		return -ENOMEM;
	ufs_be_init(&sb->base, &ufs_s3_ops, m, g);
	clock_gettime(CLOCK_REALTIME, &sb->created);
	sb->max_inflight = g->workers ? (g->workers < 16 ? g->workers : 16) : 8;
	if (err && errlen)
		err[0] = '\0';
	rc = s3_cfg(sb, m, g, err, errlen);
	if (rc) {
		if (err && !err[0])
			snprintf(err, errlen, "mount %s: %s", m->prefix, strerror(-rc));
		s3_destroy(&sb->base);
		return rc;
	}
	*pbe = &sb->base;
	return 0;
}

const struct ufs_backend_ops ufs_s3_ops = {
    .scheme = "s3",
    .caps = 0,
    .create = s3_create,
    .check = s3_check,
    .getattr = s3_getattr,
    .list = s3_list,
    .read = s3_read,
    .open_writer = s3_open_writer,
    .unlink = s3_unlink,
    .mkdir = s3_mkdir,
    .rmdir = s3_rmdir,
    .rename = s3_rename,
    .statfs = s3_statfs,
    .destroy = s3_destroy,
};
