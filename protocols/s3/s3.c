/*
 * s3.c — the S3 store: s3://bucket/prefix/ (ufs_s3_ops). The POSIX side is
 * the shared object-store layer (protocols/objstore/); this file supplies its
 * primitives (struct ufs_os_prims) in S3's wire form, plus the bucket check
 * and the configuration. Requests are built and SigV4-signed by s3_req.c;
 * multipart uploads and copies live in s3_mpu.c.
 *
 * Directory markers are zero-byte "p/" objects. Listings are ListObjectsV2
 * pages (continuation tokens) whose entries carry size, mtime and ETag, so
 * `ls -l` costs one request per page. Reads are ranged GETs pinned to the
 * ETag with If-Match (changed -> 412 -> -ESTALE), the body written straight
 * into the caller's buffer.
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
#include "protocols/s3/s3_i.h"
#include "protocols/sign.h"

/* ---- primitives ---- */

static int s3_p_head(struct ufs_os *os, const char *key, struct ufs_attr *pattr)
{
	struct ufs_http_resp resp = {0};
	int rc = s3_simple((struct s3_be *)os, UFS_REQ_HEAD, "HEAD", key, NULL, &resp);
	const char *lm, *et;

	if (rc == 0) {
		lm = ufs_http_hdrs_get(&resp.hdrs, "Last-Modified");
		et = ufs_http_hdrs_get(&resp.hdrs, "ETag");
		pattr->mode = S_IFREG;
		pattr->size = resp.content_length > 0 ? (uint64_t)resp.content_length : 0;
		pattr->mtime = os->created;
		if (lm)
			ufs_os_parse_http_date(lm, &pattr->mtime);
		if (et)
			ufs_os_etag_strip(et, strlen(et), pattr->etag);
		(void)ufs_os_meta_apply(ufs_http_hdrs_get(&resp.hdrs, "x-amz-meta-mtime"),
					ufs_http_hdrs_get(&resp.hdrs, "x-amz-meta-unifs-xxh3"),
					pattr);
	}
	ufs_http_resp_clear(&resp);
	return rc;
}

/* A listing answer the client refused (e.g. a body over the bound). */
static void s3_list_refused(struct s3_be *sb, const char *prefix, const char *why)
{
	ufs_be_set_error(&sb->os.base, "ListObjectsV2 of '%s' refused: %s", prefix, why);
	ufs_err("%s: ListObjectsV2 of '%s' refused: %s", sb->os.base.name, prefix, why);
}

/* GET one ListObjectsV2 page of prefix into *pbody. */
static int s3_list_get(struct s3_be *sb, const char *prefix, int delim, unsigned max_keys,
		       const char *token, struct ufs_strbuf *pbody)
{
	char *ep = ufs_uri_encode(prefix, strlen(prefix), 0);
	char *et = token ? ufs_uri_encode(token, strlen(token), 0) : NULL;
	char *query = NULL;
	struct s3_call c;
	int rc = -ENOMEM;

	if (!ep || (token && !et))
		goto out;
	if (asprintf(&query, "list-type=2&encoding-type=url&prefix=%s&max-keys=%u%s%s%s", ep,
		     max_keys, delim ? "&delimiter=%2F" : "", et ? "&continuation-token=" : "",
		     et ? et : "") < 0) {
		query = NULL;
		goto out;
	}
	rc = s3_call_init(&c, sb, UFS_REQ_LIST, "GET", "", query);
	if (!rc) {
		pbody->len = 0;
		c.req.out_grow = pbody;
		rc = s3_call_perform(&c);
		if (rc == -EIO && c.resp.err_msg[0] && c.resp.status / 100 == 2)
			s3_list_refused(sb, prefix, c.resp.err_msg);
	}
	s3_call_fini(&c);
out:
	free(ep);
	free(et);
	free(query);
	return rc;
}

struct s3_list_fwd {
	ufs_os_entry_cb cb;
	void *arg;
};

/* The MD5 an ETag of 32 hex digits stands for (a single-part upload's;
 * multipart ETags end in "-N"). 1 when md5 was filled. */
static int s3_etag_md5(const char *etag, unsigned char md5[16])
{
	if (!etag || strlen(etag) != 32 || strspn(etag, "0123456789abcdefABCDEF") != 32)
		return 0;
	for (int i = 0; i < 16; i++)
		sscanf(etag + 2 * i, "%2hhx", &md5[i]);
	return 1;
}

/* A parsed S3 entry as an object-store entry. */
static int s3_list_entry(void *arg, const struct ufs_s3_entry *e)
{
	struct s3_list_fwd *f = arg;
	unsigned char md5[16];
	struct ufs_os_entry oe = {
	    .name = e->name,
	    .name_len = strlen(e->name),
	    .kind = e->is_dir ? UFS_OS_PREFIX : UFS_OS_FILE,
	    .size = e->size,
	    .mtime = e->mtime,
	    .etag = e->etag,
	};

	if (!e->is_dir && s3_etag_md5(e->etag, md5))
		oe.md5 = md5;
	return f->cb(f->arg, &oe);
}

static int s3_p_list_page(struct ufs_os *os, const char *prefix, int delim, unsigned max,
			  char **ptoken, ufs_os_entry_cb cb, void *arg)
{
	struct s3_be *sb = (struct s3_be *)os;
	struct ufs_strbuf body = {0};
	struct ufs_s3_page page = {0};
	struct s3_list_fwd f = {cb, arg};
	char err[160];
	int rc = s3_list_get(sb, prefix, delim, max, *ptoken, &body);

	free(*ptoken);
	*ptoken = NULL;
	if (!rc)
		rc = ufs_s3_parse_list(body.s, body.len, prefix, s3_list_entry, &f, &page, err,
				       sizeof(err));
	if (rc == -EIO)
		ufs_err("%s: bad ListObjectsV2 answer for '%s': %s", os->base.name, prefix, err);
	if (!rc && page.truncated)
		*ptoken = page.next_token;
	else
		free(page.next_token);
	free(body.s);
	return rc;
}

/* The answer is of another version than the pin (servers that ignore If-Match). */
static int s3_etag_changed(const char *etag, const struct ufs_http_resp *resp)
{
	const char *et = ufs_http_hdrs_get(&resp->hdrs, "ETag");
	char tag[UFS_ETAG_MAX];

	if (!etag[0] || !et)
		return 0;
	ufs_os_etag_strip(et, strlen(et), tag);
	return strcmp(tag, etag) != 0;
}

static ssize_t s3_p_get(struct ufs_os *os, const char *key, const char *etag, uint64_t off,
			size_t len, void *buf)
{
	struct s3_call c;
	ssize_t n;
	int rc = s3_call_init(&c, (struct s3_be *)os, UFS_REQ_GET, "GET", key, NULL);

	if (rc)
		return rc;
	rc = ufs_http_hdrs_add(&c.req.headers, "Range: bytes=%llu-%llu", (unsigned long long)off,
			       (unsigned long long)(off + len - 1));
	if (!rc && etag[0])
		rc = ufs_http_hdrs_add(&c.req.headers, "If-Match: \"%s\"", etag);
	c.req.out_buf = buf;
	c.req.out_cap = len;
	if (!rc)
		rc = s3_call_perform(&c);
	if (rc == 0 && s3_etag_changed(etag, &c.resp))
		rc = -ESTALE;
	n = rc ? rc : (ssize_t)c.resp.body_len;
	s3_call_fini(&c);
	return n;
}

/* S3 has no conditional PUT here: O_EXCL was checked when the writer opened. */
static int s3_p_put(struct ufs_os *os, const char *key, const void *buf, size_t len, int excl,
		    const struct ufs_attr *meta)
{
	struct s3_call c;
	int rc = s3_call_init(&c, (struct s3_be *)os, UFS_REQ_PUT, "PUT", key, NULL);

	(void)excl;
	if (!rc)
		rc = ufs_content_md5_add(&c.req.headers, buf, len);
	if (!rc && meta)
		rc = s3_meta_add(&c.req.headers, meta);
	if (rc) {
		s3_call_fini(&c);
		return rc;
	}
	c.req.body = buf;
	c.req.body_len = len;
	rc = s3_call_perform(&c);
	s3_call_fini(&c);
	return rc;
}

/* The zero-byte marker "dirkey/". */
static int s3_p_put_marker(struct ufs_os *os, const char *dirkey)
{
	char *key;
	int rc;

	if (asprintf(&key, "%s/", dirkey) < 0)
		return -ENOMEM;
	rc = s3_p_put(os, key, "", 0, 0, NULL);
	free(key);
	return rc;
}

static int s3_p_del(struct ufs_os *os, const char *key)
{
	return s3_simple((struct s3_be *)os, UFS_REQ_DELETE, "DELETE", key, NULL, NULL);
}

static uint64_t s3_p_part_len(struct ufs_os *os, unsigned n)
{
	return ufs_s3_part_len(((struct s3_be *)os)->part_size, n);
}

static const struct ufs_os_prims s3_prims = {
    .store = "S3",
    .max_parts = UFS_S3_MAX_PARTS,
    .part_etags = 1,
    .part_len = s3_p_part_len,
    .head = s3_p_head,
    .list_page = s3_p_list_page,
    .get = s3_p_get,
    .put = s3_p_put,
    .put_marker = s3_p_put_marker,
    .copy = s3_copy,
    .del = s3_p_del,
    .set_meta = s3_set_meta,
    .mpu_begin = s3_mpu_begin,
    .mpu_part = s3_mpu_part,
    .mpu_commit = s3_mpu_commit,
    .mpu_abort = s3_mpu_abort,
    .mpu_list = s3_mpu_list,
};

/* ---- lifecycle ---- */

static int s3_check(struct ufs_backend *be, char *err, size_t errlen)
{
	struct s3_be *sb = (struct s3_be *)be;
	struct ufs_http_resp resp = {0};
	struct ufs_credsrc_info ci;
	int rc = s3_simple(sb, UFS_REQ_LIST, "GET", "", "list-type=2&max-keys=1", &resp);

	ufs_credsrc_info(sb->id.cred, &ci);
	if (rc == -ENOENT)
		snprintf(err, errlen, "mount %s: bucket '%s' does not exist", be->name, sb->bucket);
	else if (rc == -EACCES)
		snprintf(err, errlen,
			 "mount %s: access denied to bucket '%s' (credentials from %s, region "
			 "%s)%s%s",
			 be->name, sb->bucket, ci.source, sb->region,
			 resp.err_code[0] || ci.last_error[0] ? ": " : "",
			 resp.err_code[0] ? resp.err_code : ci.last_error);
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
	ufs_aws_ident_clear(&sb->id);
	free(sb->moved_from[0]);
	free(sb->moved_from[1]);
	free(sb->bucket);
	free(sb->endpoint);
	free(sb->region);
	ufs_os_fini(&sb->os);
	free(sb);
}

/* endpoint without trailing '/': the config key, else $AWS_ENDPOINT_URL_S3 or
 * $AWS_ENDPOINT_URL, else the profile's endpoint_url, else
 * https://s3.REGION.amazonaws.com */
static int s3_cfg_endpoint(struct s3_be *sb, const struct ufs_mount_cfg *m, char *err,
			   size_t errlen)
{
	const char *ep = ufs_mcfg_get(m, "endpoint");
	size_t n;

	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL_S3");
	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL");
	if (!ep || !*ep)
		ep = sb->id.endpoint_url;
	if (ep && !*ep)
		ep = NULL;

	if (ep && strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) {
		snprintf(err, errlen, "mount %s: endpoint '%s' must start with http:// or https://",
			 m->prefix, ep);
		return -EINVAL;
	}
	sb->endpoint_auto = !ep;
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
	char cerr[400];
	int rc;

	rc = ufs_s3_parse_url(m->url, &sb->bucket, &sb->os.prefix, cerr, sizeof(cerr));
	if (rc) {
		snprintf(err, errlen, "mount %s: %s", m->prefix, cerr);
		return rc;
	}
	rc = ufs_aws_identity(m, &sb->id, cerr, sizeof(cerr));
	if (rc) {
		snprintf(err, errlen, "mount %s: %s", m->prefix, cerr);
		return rc;
	}
	sb->region = strdup(sb->id.region);
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
	sb->os.base.endpoint = sb->endpoint;
	sb->os.base.region = sb->region;
	sb->os.base.cred = sb->id.cred;
	return 0;
}

static int s3_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		     struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct s3_be *sb = calloc(1, sizeof(*sb));
	int rc;

	if (!sb)
		return -ENOMEM;
	if (err && errlen)
		err[0] = '\0';
	rc = ufs_os_init(&sb->os, &ufs_s3_ops, &s3_prims, m, g, err, errlen);
	sb->os.parallel = g->workers ? (g->workers < 16 ? g->workers : 16) : 8;
	if (!rc)
		rc = s3_cfg(sb, m, g, err, errlen);
	if (rc) {
		if (err && !err[0])
			snprintf(err, errlen, "mount %s: %s", m->prefix, strerror(-rc));
		s3_destroy(&sb->os.base);
		return rc;
	}
	*pbe = &sb->os.base;
	return 0;
}

static const struct ufs_cfg_key s3_keys[] = {
    {"endpoint", 0, "service URL (default: AWS_ENDPOINT_URL[_S3], else AWS for region)"},
    {"region", 0,
     "signing region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, IMDS, "
     "us-east-1)"},
    {"path_style", 0, "true: endpoint/bucket/key (default: true for an IP address host)"},
    {"credentials_file", 0, "AWS shared credentials file (mode 0600)"},
    {"profile", 0, "profile of the shared config/credentials files (default $AWS_PROFILE)"},
    {"role_arn", 0, "IAM role assumed with the credentials the chain finds"},
    {"role_session_name", 0, "RoleSessionName of role_arn (default unifs-PID-TIME)"},
    {"role_duration", 0, "DurationSeconds of assumed roles (default: the service's)"},
    {"sts_endpoint", 0, "STS URL (default: AWS_ENDPOINT_URL_STS, https://sts.REGION...)"},
    {"access_key_id", UFS_CFGKEY_SECRET, "inline access key id"},
    {"secret_access_key", UFS_CFGKEY_SECRET, "inline secret access key"},
    {"session_token", UFS_CFGKEY_SECRET, "inline session token"},
    {NULL, 0, NULL},
};

const struct ufs_backend_ops ufs_s3_ops =
    UFS_OS_OPS("s3", "s3://bucket[/prefix]    Amazon S3 or an S3-compatible store", s3_keys,
	       s3_create, s3_check, s3_destroy);
