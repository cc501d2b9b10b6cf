/*
 * s3_req.c — S3 requests: the URL and Host header of a call, SigV4 signing
 * per attempt (fresh date on retries), and the body-borne errors of 200
 * answers. Every S3 primitive (s3.c, s3_mpu.c) sends through here; http.c
 * is the transport and owns the status -> errno map.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "protocols/s3/s3_i.h"
#include "protocols/sign.h"

#define S3_SMALL_BODY (64 * 1024) /* bodies up to this size are hashed, not UNSIGNED */

/* ---- requests ---- */

/* Region and endpoint as other threads see them: a redirect may move them
 * once (s3_move_region), the old strings staying valid. */
static const char *s3_region(struct s3_be *sb)
{
	return __atomic_load_n(&sb->region, __ATOMIC_ACQUIRE);
}

static const char *s3_endpoint(struct s3_be *sb)
{
	return __atomic_load_n(&sb->endpoint, __ATOMIC_ACQUIRE);
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
	char why[300];
	struct ufs_cred_set *set = ufs_credsrc_get(sb->id.cred, why, sizeof(why));

	if (set) {
		struct ufs_sigv4_key k = {set->id, set->secret, set->token, s3_region(sb), "s3"};

		rc = ufs_sigv4_add_headers(&r, &k, pauth);
		ufs_cred_set_put(set);
	} else {
		ufs_be_set_error(&sb->os.base, "%s", why);
		rc = -EACCES;
	}
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
	c->url = ufs_s3_url(s3_endpoint(sb), sb->bucket, sb->path_style, key, query);
	if (!c->url)
		return -ENOMEM;
	rc = s3_url_parts(c->url, &host, &path, &q);
	if (rc) {
		free(c->url);
		c->url = NULL;
		return rc;
	}
	c->req.be = &sb->os.base;
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

/* host of "scheme://host[:port]..." as a pointer and length. */
static const char *s3_host_of(const char *url, size_t *plen)
{
	const char *h = strstr(url, "://");

	h = h ? h + 3 : url;
	*plen = strcspn(h, "/?");
	return h;
}

/* Move sb to region r (and its AWS endpoint when the endpoint was derived),
 * once per backend. The old strings stay allocated (readers on other
 * threads). 1 when moved. */
static int s3_move_region(struct s3_be *sb, const char *r)
{
	char *nr = strdup(r), *ne = NULL;

	if (!nr || (sb->endpoint_auto && asprintf(&ne, "https://s3.%s.amazonaws.com", r) < 0) ||
	    __atomic_exchange_n(&sb->region_moved, 1, __ATOMIC_ACQ_REL)) {
		free(nr);
		free(ne);
		return 0;
	}
	ufs_warn("mount %s: bucket '%s' is in region %s, not %s: using %s (set region = %s)",
		 sb->os.base.name, sb->bucket, nr, sb->region, nr, nr);
	sb->moved_from[0] = sb->region;
	__atomic_store_n(&sb->region, nr, __ATOMIC_RELEASE);
	sb->os.base.region = nr;
	if (ne) {
		sb->moved_from[1] = sb->endpoint;
		__atomic_store_n(&sb->endpoint, ne, __ATOMIC_RELEASE);
		sb->os.base.endpoint = ne;
	}
	return 1;
}

/* Point an initialised call at the moved endpoint: the new endpoint's
 * scheme, the URL's authority with the old host replaced (a virtual-hosted
 * "bucket." stays in front), the rest of the URL, and the Host header. 0 or
 * -ENOMEM. */
static int s3_call_rehost(struct s3_call *c, const char *old_ep, const char *new_ep)
{
	size_t ol, nl, al;
	const char *oh = s3_host_of(old_ep, &ol), *nh = s3_host_of(new_ep, &nl);
	const char *auth = s3_host_of(c->url, &al);
	const char *hit = memmem(auth, al, oh, ol);
	char *url = NULL, *line = NULL;

	if (!hit)
		return 0;
	if (asprintf(&url, "%.*s%.*s%.*s%s", (int)(nh - new_ep), new_ep, (int)(hit - auth), auth,
		     (int)nl, nh, hit + ol) < 0)
		return -ENOMEM;
	free(c->url);
	c->url = url;
	c->req.url = url;
	auth = s3_host_of(url, &al);
	if (asprintf(&line, "Host: %.*s", (int)al, auth) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->req.headers.n; i++) {
		if (strncasecmp(c->req.headers.line[i], "Host:", 5) == 0) {
			free(c->req.headers.line[i]);
			c->req.headers.line[i] = line;
			return 0;
		}
	}
	free(line);
	return 0;
}

int s3_call_perform(struct s3_call *c)
{
	struct s3_be *sb = c->req.sign_arg;
	int rc = ufs_http_perform(&c->req, &c->resp);
	const char *r = rc ? ufs_http_hdrs_get(&c->resp.hdrs, "x-amz-bucket-region") : NULL;
	const char *old_ep = s3_endpoint(sb);

	if (!r || !*r || strcmp(r, s3_region(sb)) == 0 || strlen(r) > 32 ||
	    strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(r) ||
	    (c->resp.status != 301 && c->resp.status != 400) || c->req.read_fn)
		return rc;
	if (!s3_move_region(sb, r))
		return rc;
	if (s3_endpoint(sb) != old_ep && s3_call_rehost(c, old_ep, s3_endpoint(sb)) != 0)
		return -ENOMEM;
	ufs_http_resp_clear(&c->resp);
	c->resp.content_length = -1;
	return ufs_http_perform(&c->req, &c->resp);
}

void s3_call_fini(struct s3_call *c)
{
	ufs_http_hdrs_clear(&c->req.headers);
	ufs_http_resp_clear(&c->resp);
	free(c->url);
	c->url = NULL;
}

int s3_simple(struct s3_be *sb, enum ufs_req_kind kind, const char *method, const char *key,
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

/* A 200 answer whose body is an <Error> (CopyObject, Complete...): -EIO. */
int s3_check_body(struct s3_be *sb, const struct ufs_strbuf *body, const char *what)
{
	char code[64];

	if (!ufs_s3_body_is_error(body->s, body->len, code, sizeof(code)))
		return 0;
	ufs_be_set_error(&sb->os.base, "%s failed: %s", what, code);
	ufs_be_count_error(&sb->os.base);
	return strcmp(code, "NoSuchKey") == 0 ? -ENOENT : -EIO;
}
