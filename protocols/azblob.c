/*
 * azblob.c — the Azure Blob Storage backend ("az://container/prefix/").
 *
 * Namespace: blob "prefix/a/b" is file "a/b". Directories are implicit (a
 * name prefix "a/" that some blob has) or explicit: a zero-length blob "a"
 * with metadata hdi_isfolder=true (the BlobFuse convention), written by
 * mkdir() so that empty directories exist.
 *
 * Pure helpers (URL/endpoint parsing, List Blobs parsing, block ids) come
 * first; they are declared in azblob_i.h for the unit tests.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/budget.h"
#include "common/log.h"
#include "protocols/azblob_i.h"
#include "protocols/http.h"
#include "protocols/objstore.h"
#include "protocols/sign.h"
#include "protocols/upload.h"
#include "protocols/xml.h"

/* ---- URL and endpoint parsing ------------------------------------------ */

static int az_container_valid(const char *c, size_t len)
{
	if (len < 3 || len > 63 || c[0] == '-' || c[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!(islower((unsigned char)c[i]) || isdigit((unsigned char)c[i]) || c[i] == '-'))
			return 0;
		if (c[i] == '-' && i > 0 && c[i - 1] == '-')
			return 0;
	}
	return 1;
}

int ufs_az_parse_url(const char *url, char **pcontainer, char **pprefix, char *err, size_t errlen)
{
	const char *c, *slash;
	size_t clen;

	if (strncmp(url, "az://", 5) != 0) {
		snprintf(err, errlen, "'%s' is not an az:// URL", url);
		return -EINVAL;
	}
	c = url + 5;
	slash = strchr(c, '/');
	clen = slash ? (size_t)(slash - c) : strlen(c);
	if (!az_container_valid(c, clen)) {
		snprintf(err, errlen,
			 "'%.*s' is not a valid container name (3-63 of a-z, 0-9 and '-')",
			 (int)clen, c);
		return -EINVAL;
	}
	*pcontainer = strndup(c, clen);
	*pprefix = ufs_os_norm_prefix(slash ? slash + 1 : "");
	if (!*pcontainer || !*pprefix) {
		free(*pcontainer);
		free(*pprefix);
		*pcontainer = *pprefix = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Account from a host "ACCOUNT.blob.core.windows.net"-like name, or NULL. */
static char *az_account_from_host(const char *host, size_t len)
{
	const char *dot = memchr(host, '.', len);

	if (!dot || (size_t)(host + len - dot) < 6 || strncmp(dot, ".blob.", 6) != 0)
		return NULL;
	return strndup(host, (size_t)(dot - host));
}

/* Pick the account: the configured one must agree with the endpoint's. */
static int az_account_pick(const char *cfg, char *from_ep, char **paccount, char *err,
			   size_t errlen)
{
	if (cfg && from_ep && strcmp(cfg, from_ep) != 0) {
		snprintf(err, errlen, "account '%s' does not match the endpoint's account '%s'",
			 cfg, from_ep);
		free(from_ep);
		return -EINVAL;
	}
	if (from_ep) {
		*paccount = from_ep;
		return 0;
	}
	if (!cfg || !*cfg) {
		snprintf(err, errlen, "no account: set 'account' (or an endpoint naming it)");
		return -EINVAL;
	}
	*paccount = strdup(cfg);
	return *paccount ? 0 : -ENOMEM;
}

int ufs_az_parse_endpoint(const char *endpoint, const char *account, char **pbase, char **paccount,
			  char *err, size_t errlen)
{
	const char *host, *path;
	char *from_ep = NULL;
	size_t elen;
	int rc;

	*pbase = *paccount = NULL;
	if (!endpoint || !*endpoint) {
		rc = az_account_pick(account, NULL, paccount, err, errlen);
		if (rc)
			return rc;
		if (asprintf(pbase, "https://%s.blob.core.windows.net", *paccount) < 0) {
			free(*paccount);
			*paccount = *pbase = NULL;
			return -ENOMEM;
		}
		return 0;
	}
	host = strstr(endpoint, "://");
	if (!host || (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8))) {
		snprintf(err, errlen, "endpoint '%s' must start with http:// or https://",
			 endpoint);
		return -EINVAL;
	}
	host += 3;
	elen = strlen(endpoint);
	while (elen > (size_t)(host - endpoint) && endpoint[elen - 1] == '/')
		elen--;
	path = memchr(host, '/', elen - (size_t)(host - endpoint));
	if (path) {
		const char *seg = path + 1, *end = endpoint + elen;
		const char *next = memchr(seg, '/', (size_t)(end - seg));

		if (next || seg == end) {
			snprintf(err, errlen,
				 "endpoint '%s': a path-style endpoint has exactly one path "
				 "segment, the account",
				 endpoint);
			return -EINVAL;
		}
		from_ep = strndup(seg, (size_t)(end - seg));
	} else {
		from_ep = az_account_from_host(host, elen - (size_t)(host - endpoint));
	}
	rc = az_account_pick(account, from_ep, paccount, err, errlen);
	if (rc)
		return rc;
	*pbase = strndup(endpoint, elen);
	if (!*pbase) {
		free(*paccount);
		*paccount = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* ---- small pure helpers ----------------------------------------------- */

void ufs_az_block_id(uint32_t n, char out[UFS_AZ_BLOCK_ID_MAX])
{
	char raw[UFS_AZ_BLOCK_ID_RAW + 1];

	/* "ufsb" + 8 digits: 12 bytes -> 16 base64 characters, no padding */
	snprintf(raw, sizeof(raw), "ufsb%08u", n % 100000000u);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, UFS_AZ_BLOCK_ID_RAW);
}

char *ufs_az_conn_get(const char *cs, const char *name)
{
	size_t nl = strlen(name);

	while (cs && *cs) {
		size_t len = strcspn(cs, ";");

		while (len > 0 && (*cs == ' ' || *cs == '\t'))
			cs++, len--;
		if (len > nl && strncasecmp(cs, name, nl) == 0 && cs[nl] == '=')
			return strndup(cs + nl + 1, len - nl - 1);
		cs += len + (cs[len] == ';');
	}
	return NULL;
}

/* ---- List Blobs page parser -------------------------------------------- */

#define AZ_XB "EnumerationResults/Blobs/Blob"
#define AZ_XP "EnumerationResults/Blobs/BlobPrefix"

static int az_names_add(struct ufs_az_names *s, const char *name, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strndup(name, len);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static void az_names_clear(struct ufs_az_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void az_names_free(struct ufs_az_names *s)
{
	az_names_clear(s);
	free(s->v);
	s->v = NULL;
	s->cap = 0;
}

static int az_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int az_names_has(const struct ufs_az_names *s, const char *name)
{
	return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), az_names_cmp) != NULL;
}

void ufs_az_lister_init(struct ufs_az_lister *l, const char *prefix, ufs_list_cb cb, void *arg)
{
	memset(l, 0, sizeof(*l));
	l->prefix = prefix;
	l->prefix_len = strlen(prefix);
	l->cb = cb;
	l->arg = arg;
}

void ufs_az_lister_fini(struct ufs_az_lister *l)
{
	az_names_free(&l->cur);
	az_names_free(&l->prev);
	az_names_free(&l->dirs);
	free(l->name);
	free(l->next_marker);
	l->name = l->next_marker = NULL;
}

/* Name relative to the listing prefix (a trailing '/' dropped), or NULL when
 * the name is not usable (logged once here). */
static char *az_rel_name(struct ufs_az_lister *l, char *full, size_t *plen)
{
	size_t len = strlen(full);

	if (len < l->prefix_len || strncmp(full, l->prefix, l->prefix_len) != 0)
		return NULL;
	full += l->prefix_len;
	len -= l->prefix_len;
	if (len == 0)
		return NULL; /* the directory's own marker blob "dir/" */
	if (full[len - 1] == '/')
		len--;
	if (!ufs_os_name_ok(full, len)) {
		l->skipped++;
		ufs_warn("az: skipping blob '%s%.*s': not a valid file name", l->prefix, (int)len,
			 full);
		return NULL;
	}
	*plen = len;
	return full;
}

static void az_attr_dir(struct ufs_attr *a)
{
	a->mode = 040755;
	a->nlink = 2;
	a->size = 0;
}

static int az_emit(struct ufs_az_lister *l, const char *name, const struct ufs_attr *a)
{
	int rc = l->cb(l->arg, name, a);

	l->emitted++;
	if (rc)
		l->stop = rc;
	return rc;
}

static int az_emit_blob(struct ufs_az_lister *l)
{
	size_t len;
	char *rel = l->name ? az_rel_name(l, l->name, &len) : NULL;
	char *name;
	int rc;

	if (!rel)
		return 0;
	name = strndup(rel, len);
	if (!name || az_names_add(&l->cur, rel, len)) {
		free(name);
		return -ENOMEM;
	}
	l->attr.uid = l->attr.gid = UFS_UID_OWNER;
	if (l->is_dir) {
		az_attr_dir(&l->attr);
		l->attr.etag[0] = '\0';
	} else {
		l->attr.mode = 0100644;
		l->attr.nlink = 1;
	}
	l->attr.atime = l->attr.ctime = l->attr.mtime;
	rc = az_emit(l, name, &l->attr);
	free(name);
	return rc;
}

static int az_list_start(void *arg, const char *path, const char *text, size_t len)
{
	struct ufs_az_lister *l = arg;

	(void)text;
	(void)len;
	if (strcmp(path, AZ_XB) == 0) {
		free(l->name);
		l->name = NULL;
		memset(&l->attr, 0, sizeof(l->attr));
		l->is_dir = 0;
	}
	return 0;
}

static int az_is_true(const char *text, size_t len)
{
	return len == 4 && strncasecmp(text, "true", 4) == 0;
}

static int az_list_blob_field(struct ufs_az_lister *l, const char *f, const char *text, size_t len)
{
	if (strcmp(f, "/Name") == 0) {
		free(l->name);
		l->name = strndup(text, len);
		return l->name ? 0 : -ENOMEM;
	}
	if (strcmp(f, "/Properties/Content-Length") == 0)
		l->attr.size = strtoull(text, NULL, 10);
	else if (strcmp(f, "/Properties/Last-Modified") == 0)
		ufs_os_parse_http_date(text, &l->attr.mtime);
	else if (strcmp(f, "/Properties/Etag") == 0)
		ufs_os_etag_strip(text, len, l->attr.etag);
	else if (strcmp(f, "/Properties/ResourceType") == 0)
		l->is_dir |= len == 9 && strncmp(text, "directory", 9) == 0;
	else if (strcasecmp(f, "/Metadata/hdi_isfolder") == 0)
		l->is_dir |= az_is_true(text, len);
	return 0;
}

static int az_list_end(void *arg, const char *path, const char *text, size_t len)
{
	struct ufs_az_lister *l = arg;
	size_t xb = sizeof(AZ_XB) - 1;

	if (strcmp(path, AZ_XB) == 0)
		return az_emit_blob(l);
	if (strncmp(path, AZ_XB, xb) == 0 && path[xb] == '/')
		return az_list_blob_field(l, path + xb, text, len);
	if (strcmp(path, AZ_XP "/Name") == 0)
		return az_names_add(&l->dirs, text, len);
	if (strcmp(path, "EnumerationResults/NextMarker") == 0) {
		free(l->next_marker);
		l->next_marker = strndup(text, len);
		return l->next_marker ? 0 : -ENOMEM;
	}
	return 0;
}

/* Report the page's BlobPrefix directories that no blob already stands for. */
static int az_emit_prefixes(struct ufs_az_lister *l)
{
	struct ufs_attr a;

	memset(&a, 0, sizeof(a));
	az_attr_dir(&a);
	a.uid = a.gid = UFS_UID_OWNER;
	a.atime = a.mtime = a.ctime = l->dir_time;
	if (l->cur.n)
		qsort(l->cur.v, l->cur.n, sizeof(*l->cur.v), az_names_cmp);
	for (size_t i = 0; i < l->dirs.n; i++) {
		size_t len;
		char *rel = az_rel_name(l, l->dirs.v[i], &len);
		int rc;

		if (!rel)
			continue;
		rel[len] = '\0'; /* drop the trailing '/' in place */
		if (az_names_has(&l->cur, rel) || az_names_has(&l->prev, rel))
			continue;
		rc = az_emit(l, rel, &a);
		if (rc)
			return rc;
	}
	return 0;
}

int ufs_az_list_page(struct ufs_az_lister *l, const char *xml, size_t len)
{
	char err[128];
	struct ufs_az_names t;
	int rc;

	free(l->next_marker);
	l->next_marker = NULL;
	az_names_clear(&l->dirs);
	rc = ufs_xml_parse(xml, len, az_list_start, az_list_end, l, err, sizeof(err));
	if (rc == -EIO)
		ufs_warn("az: malformed List Blobs answer: %s", err);
	if (rc == 0)
		rc = az_emit_prefixes(l);
	if (rc == 0 && l->stop)
		rc = l->stop;
	/* this page's names become the previous page's */
	az_names_clear(&l->prev);
	t = l->prev;
	l->prev = l->cur;
	l->cur = t;
	return rc;
}

/* ==== the backend ======================================================= */

enum az_auth { AZ_AUTH_NONE, AZ_AUTH_KEY, AZ_AUTH_SAS, AZ_AUTH_BEARER };

struct az_backend {
	struct ufs_backend base; /* first: the common head */
	struct ufs_az_cred cred; /* account, key / bearer token */
	enum az_auth auth;
	char *account;
	char *container;
	char *prefix;	  /* "" or "dir/" */
	char *endpoint;	  /* base URL, no trailing '/' (path-style: ends with /account) */
	char *sas;	  /* SAS query without '?', NULL = none */
	char *token_file; /* owned copy behind cred.token_file */
	uint64_t block_size;
	unsigned parallel;	 /* blocks in flight per writer */
	struct timespec created; /* times of directories that have no blob */
};

static struct az_backend *az_of(struct ufs_backend *be)
{
	return (struct az_backend *)be;
}

/* "ENDPOINT/CONTAINER[/ENCODED-KEY][?QUERY][&SAS]"; NULL on ENOMEM. key is
 * the full blob name (prefix included) or NULL for the container. */
static char *az_url(const struct az_backend *az, const char *key, const char *query)
{
	char *enc = key ? ufs_uri_encode(key, strlen(key), 1) : NULL;
	char *url = NULL;
	int n;

	if (key && !enc)
		return NULL;
	n = asprintf(&url, "%s/%s%s%s%s%s%s%s", az->endpoint, az->container, enc ? "/" : "",
		     enc ? enc : "", query || az->sas ? "?" : "", query ? query : "",
		     query && az->sas ? "&" : "", az->sas ? az->sas : "");
	free(enc);
	return n < 0 ? NULL : url;
}

/* Full blob name of a backend-relative path; NULL on ENOMEM. */
static char *az_key(const struct az_backend *az, const char *path)
{
	char *key = NULL;

	return asprintf(&key, "%s%s", az->prefix, path) < 0 ? NULL : key;
}

static ufs_http_sign_fn az_signer(const struct az_backend *az)
{
	switch (az->auth) {
	case AZ_AUTH_KEY:
		return ufs_az_sign_sharedkey;
	case AZ_AUTH_BEARER:
		return ufs_az_sign_bearer;
	default:
		return ufs_az_sign_none;
	}
}

/* Perform req (url owned by the caller) with the version header and auth;
 * clears req->headers afterwards. 0 or -errno. */
static int az_perform(struct az_backend *az, struct ufs_http_req *req, struct ufs_http_resp *resp)
{
	int rc = ufs_http_hdrs_add(&req->headers, "x-ms-version: " UFS_AZ_VERSION);

	req->be = &az->base;
	req->sign = az_signer(az);
	req->sign_arg = &az->cred;
	if (rc == 0)
		rc = ufs_http_perform(req, resp);
	ufs_http_hdrs_clear(&req->headers);
	return rc;
}

/* One request without a body to send or keep. Takes url (freed here) and
 * the lines of hdrs (may be NULL; emptied); resp may be NULL. 0 or -errno. */
static int az_simple(struct az_backend *az, enum ufs_req_kind kind, const char *method, char *url,
		     struct ufs_http_hdrs *hdrs, struct ufs_http_resp *resp)
{
	struct ufs_http_req req = {.kind = kind, .method = method, .url = url};
	struct ufs_http_resp own = {.content_length = -1};
	int rc = -ENOMEM;

	if (hdrs) {
		req.headers = *hdrs;
		*hdrs = (struct ufs_http_hdrs){0};
	}
	if (url)
		rc = az_perform(az, &req, resp ? resp : &own);
	ufs_http_hdrs_clear(&req.headers);
	ufs_http_resp_clear(&own);
	free(url);
	return rc;
}

/* ---- attributes ---------------------------------------------------------- */

static void az_attr_init(struct ufs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->uid = a->gid = UFS_UID_OWNER;
}

/* Attributes from a Get Blob Properties answer. */
static void az_attr_from_headers(const struct ufs_http_hdrs *h, struct ufs_attr *a)
{
	const char *v;

	az_attr_init(a);
	v = ufs_http_hdrs_get(h, "Content-Length");
	a->size = v ? strtoull(v, NULL, 10) : 0;
	v = ufs_http_hdrs_get(h, "Last-Modified");
	if (v)
		ufs_os_parse_http_date(v, &a->mtime);
	a->atime = a->ctime = a->mtime;
	v = ufs_http_hdrs_get(h, "ETag");
	if (v)
		ufs_os_etag_strip(v, strlen(v), a->etag);
	v = ufs_http_hdrs_get(h, "x-ms-meta-hdi_isfolder");
	if (v && strcasecmp(v, "true") == 0) {
		az_attr_dir(a);
		a->etag[0] = '\0';
	} else {
		a->mode = 0100644;
		a->nlink = 1;
	}
}

/* Get Blob Properties of a full blob name. 0 or -errno. */
static int az_head(struct az_backend *az, const char *key, struct ufs_attr *pattr)
{
	struct ufs_http_resp resp = {.content_length = -1};
	int rc = az_simple(az, UFS_REQ_HEAD, "HEAD", az_url(az, key, NULL), NULL, &resp);

	if (rc == 0)
		az_attr_from_headers(&resp.hdrs, pattr);
	ufs_http_resp_clear(&resp);
	return rc;
}

/* Fetch one List Blobs page into body. delim: use '/' as delimiter. */
static int az_list_get(struct az_backend *az, const char *prefix, const char *marker, int delim,
		       unsigned max, struct ufs_http_buf *body)
{
	struct ufs_http_req req = {.kind = UFS_REQ_LIST, .method = "GET", .out_grow = body};
	struct ufs_http_resp resp = {.content_length = -1};
	char *ep = ufs_uri_encode(prefix, strlen(prefix), 0);
	char *em = marker ? ufs_uri_encode(marker, strlen(marker), 0) : NULL;
	char *q = NULL;
	int rc = -ENOMEM;

	if (ep && (em || !marker) &&
	    asprintf(
		&q, "restype=container&comp=list&include=metadata&maxresults=%u&prefix=%s%s%s%s",
		max, ep, delim ? "&delimiter=%2F" : "", em ? "&marker=" : "", em ? em : "") >= 0) {
		char *url = az_url(az, NULL, q);

		req.url = url;
		rc = url ? az_perform(az, &req, &resp) : -ENOMEM;
		free(url);
	}
	free(q);
	free(ep);
	free(em);
	ufs_http_resp_clear(&resp);
	return rc;
}

/* State of az_count(). */
struct az_counter {
	const char *self; /* a name that does not count (the prefix itself), or NULL */
	unsigned n;
};

static int az_count_end(void *arg, const char *path, const char *text, size_t len)
{
	struct az_counter *c = arg;

	if (strcmp(path, AZ_XB "/Name") != 0 && strcmp(path, AZ_XP "/Name") != 0)
		return 0;
	if (!c->self || strlen(c->self) != len || memcmp(c->self, text, len) != 0)
		c->n++;
	return 0;
}

/* How many names (at most max) start with prefix; a blob named exactly
 * prefix (a "dir/" marker) counts only when count_self. -errno on failure. */
static int az_count(struct az_backend *az, const char *prefix, unsigned max, int count_self)
{
	struct ufs_http_buf body = {0};
	struct az_counter c = {count_self ? NULL : prefix, 0};
	char err[128];
	int rc = az_list_get(az, prefix, NULL, 0, max, &body);

	if (rc == 0 && body.len)
		rc = ufs_xml_parse(body.data, body.len, NULL, az_count_end, &c, err, sizeof(err));
	free(body.data);
	return rc ? rc : (int)c.n;
}

/* Is key an implicit directory (some blob named "key/...")? 1, 0 or -errno. */
static int az_is_implicit_dir(struct az_backend *az, const char *key)
{
	char *dir = NULL;
	int rc;

	if (asprintf(&dir, "%s/", key) < 0)
		return -ENOMEM;
	rc = az_count(az, dir, 1, 1);
	free(dir);
	return rc < 0 ? rc : rc > 0;
}

static int az_getattr(struct ufs_backend *be, const char *path, struct ufs_attr *pattr)
{
	struct az_backend *az = az_of(be);
	char *key;
	int rc;

	az_attr_init(pattr);
	pattr->atime = pattr->mtime = pattr->ctime = az->created;
	if (!*path) {
		az_attr_dir(pattr);
		return 0;
	}
	key = az_key(az, path);
	if (!key)
		return -ENOMEM;
	rc = az_head(az, key, pattr);
	if (rc == -ENOENT) {
		rc = az_is_implicit_dir(az, key);
		if (rc == 1)
			az_attr_dir(pattr);
		rc = rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
	}
	free(key);
	return rc;
}

/* ---- list and read ------------------------------------------------------- */

static int az_list(struct ufs_backend *be, const char *dir, ufs_list_cb cb, void *arg)
{
	struct az_backend *az = az_of(be);
	struct ufs_az_lister l;
	char *prefix = NULL;
	char *marker = NULL;
	int rc;

	if (asprintf(&prefix, "%s%s%s", az->prefix, dir, *dir ? "/" : "") < 0)
		return -ENOMEM;
	ufs_az_lister_init(&l, prefix, cb, arg);
	l.dir_time = az->created;
	do {
		struct ufs_http_buf body = {0};

		rc = az_list_get(az, prefix, marker, 1, UFS_AZ_LIST_MAX, &body);
		if (rc == 0)
			rc = ufs_az_list_page(&l, body.data ? body.data : "", body.len);
		free(body.data);
		free(marker);
		marker = l.next_marker && *l.next_marker ? strdup(l.next_marker) : NULL;
		if (rc == 0 && l.next_marker && *l.next_marker && !marker)
			rc = -ENOMEM;
	} while (rc == 0 && marker);
	/* a directory that lists empty must still exist (marker or root) */
	if (rc == 0 && l.emitted == 0 && l.skipped == 0 && *dir) {
		struct ufs_attr a;

		rc = az_getattr(be, dir, &a);
		if (rc == 0 && !S_ISDIR(a.mode))
			rc = -ENOTDIR;
	}
	free(marker);
	ufs_az_lister_fini(&l);
	free(prefix);
	return rc;
}

static ssize_t az_read(struct ufs_backend *be, const struct ufs_obj *obj, uint64_t off, size_t len,
		       void *buf)
{
	struct az_backend *az = az_of(be);
	struct ufs_http_req req = {.kind = UFS_REQ_GET, .method = "GET", .out_buf = buf};
	struct ufs_http_resp resp = {.content_length = -1};
	char *key;
	int rc;

	if (off >= obj->size || len == 0)
		return 0;
	if (len > obj->size - off)
		len = (size_t)(obj->size - off);
	key = az_key(az, obj->path);
	req.url = key ? az_url(az, key, NULL) : NULL;
	req.out_cap = len;
	rc = req.url ? 0 : -ENOMEM;
	if (rc == 0)
		rc =
		    ufs_http_hdrs_add(&req.headers, "x-ms-range: bytes=%llu-%llu",
				      (unsigned long long)off, (unsigned long long)(off + len - 1));
	if (rc == 0 && obj->etag[0])
		rc = ufs_http_hdrs_add(&req.headers, "If-Match: \"%s\"", obj->etag);
	if (rc == 0)
		rc = az_perform(az, &req, &resp);
	if (rc == 0 && resp.body_len != len)
		rc = -EIO; /* the blob is shorter than its pinned size */
	if (rc == -ERANGE)
		rc = -ESTALE; /* shrank under a pin without an etag */
	ufs_http_hdrs_clear(&req.headers);
	ufs_http_resp_clear(&resp);
	free((char *)req.url);
	free(key);
	return rc ? rc : (ssize_t)len;
}

/* ---- writers --------------------------------------------------------------
 *
 * A writer fills one block buffer (block_size bytes, reserved from the
 * budget). A file that ends within its first block is stored with one Put
 * Blob at close. Otherwise each full block goes to the upload pipeline as a
 * Put Block (ids: ufs_az_block_id(n)), several in flight, and close commits
 * them in order with Put Block List. Azure has no abort for uncommitted
 * blocks: an aborted or failed writer commits nothing, the blob keeps its
 * old content, and the service discards the uncommitted blocks by itself
 * (after a week). Upload errors surface at fsync/close. */

struct az_writer {
	struct ufs_writer base;
	struct az_backend *az;
	char *key;	       /* full blob name */
	int excl;	       /* O_EXCL: the commit must not replace a blob */
	uint64_t written;      /* bytes accepted so far */
	char *buf;	       /* block being filled (block_size bytes), NULL when none */
	size_t fill;	       /* bytes in buf */
	uint32_t nblocks;      /* blocks handed to the pipeline */
	struct ufs_upload *up; /* NULL until the first full block */
	int err;	       /* first error of the writer's life */
};

static struct az_writer *az_writer_of(struct ufs_writer *w)
{
	return (struct az_writer *)w;
}

/* PUT a body (blob or block or block list) to url (owned). 0 or -errno. */
static int az_put(struct az_backend *az, char *url, struct ufs_http_hdrs *hdrs, const void *body,
		  size_t len)
{
	struct ufs_http_req req = {.kind = UFS_REQ_PUT, .method = "PUT", .url = url};
	struct ufs_http_resp resp = {.content_length = -1};
	int rc = url ? 0 : -ENOMEM;

	req.headers = *hdrs;
	*hdrs = (struct ufs_http_hdrs){0};
	req.body = body ? body : "";
	req.body_len = len;
	if (rc == 0)
		rc = az_perform(az, &req, &resp);
	ufs_http_hdrs_clear(&req.headers);
	ufs_http_resp_clear(&resp);
	free(url);
	return rc;
}

/* "Content-MD5: base64(MD5(body))": the service verifies what it received
 * (end-to-end integrity), and Azurite then skips its slow CRC64 of blocks. */
static int az_add_md5(struct ufs_http_hdrs *h, const void *buf, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char b64[32];

	if (!EVP_Digest(buf, len, md, &mdlen, EVP_md5(), NULL) ||
	    ufs_base64_encode(md, mdlen, b64, sizeof(b64)) < 0)
		return -EIO;
	return ufs_http_hdrs_add(h, "Content-MD5: %s", b64);
}

/* Pipeline callback: Put Block number index of the writer's blob. */
static int az_put_block(void *arg, uint32_t index, const void *buf, size_t len)
{
	struct az_writer *w = arg;
	struct ufs_http_hdrs h = {0};
	char id[UFS_AZ_BLOCK_ID_MAX], *eid, *q = NULL;
	int rc;

	ufs_az_block_id(index, id);
	eid = ufs_uri_encode(id, strlen(id), 0);
	rc = eid ? az_add_md5(&h, buf, len) : -ENOMEM;
	if (rc || asprintf(&q, "comp=block&blockid=%s", eid) < 0) {
		ufs_http_hdrs_clear(&h);
		free(eid);
		return rc ? rc : -ENOMEM;
	}
	rc = az_put(w->az, az_url(w->az, w->key, q), &h, buf, len);
	free(eid);
	free(q);
	return rc;
}

/* Conditional header of the commit: O_EXCL must not replace a blob. */
static int az_commit_headers(const struct az_writer *w, struct ufs_http_hdrs *h)
{
	int rc = ufs_http_hdrs_add(h, "x-ms-blob-content-type: application/octet-stream");

	if (rc == 0 && w->excl)
		rc = ufs_http_hdrs_add(h, "If-None-Match: *");
	return rc;
}

/* The whole file in one Put Blob. */
static int az_put_blob(struct az_writer *w)
{
	struct ufs_http_hdrs h = {0};
	int rc = ufs_http_hdrs_add(&h, "x-ms-blob-type: BlockBlob");

	if (rc == 0)
		rc = az_commit_headers(w, &h);
	if (rc == 0)
		rc = az_add_md5(&h, w->buf ? w->buf : "", w->fill);
	if (rc == 0)
		return az_put(w->az, az_url(w->az, w->key, NULL), &h, w->buf, w->fill);
	ufs_http_hdrs_clear(&h);
	return rc;
}

/* Put Block List body: every block id, in order. NULL on ENOMEM. */
static char *az_block_list_xml(uint32_t n, size_t *plen)
{
	static const char head[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
	static const char tail[] = "</BlockList>";
	size_t cap = sizeof(head) + sizeof(tail) + (size_t)n * (UFS_AZ_BLOCK_ID_MAX + 20);
	char *x = malloc(cap), id[UFS_AZ_BLOCK_ID_MAX];
	size_t o;

	if (!x)
		return NULL;
	o = (size_t)snprintf(x, cap, "%s", head);
	for (uint32_t i = 0; i < n; i++) {
		ufs_az_block_id(i, id);
		o += (size_t)snprintf(x + o, cap - o, "<Latest>%s</Latest>", id);
	}
	o += (size_t)snprintf(x + o, cap - o, "%s", tail);
	*plen = o;
	return x;
}

static int az_put_block_list(struct az_writer *w)
{
	struct ufs_http_hdrs h = {0};
	size_t len = 0;
	char *xml = az_block_list_xml(w->nblocks, &len);
	int rc = xml ? az_commit_headers(w, &h) : -ENOMEM;

	if (rc == 0)
		rc = az_put(w->az, az_url(w->az, w->key, "comp=blocklist"), &h, xml, len);
	ufs_http_hdrs_clear(&h);
	free(xml);
	return rc;
}

/* Hand the full buffer to the pipeline as the next block. */
static int az_writer_flush_block(struct az_writer *w)
{
	int rc;

	if (w->nblocks >= 50000)
		return -EFBIG; /* Azure's limit of blocks per blob */
	rc = ufs_upload_submit(w->up, w->nblocks++, w->buf, w->az->block_size, w->fill);
	w->buf = NULL;
	w->fill = 0;
	return rc;
}

/* Room to copy into: a fresh buffer, after handing a full one over. A full
 * buffer is kept until more data comes, so a file of exactly one block is
 * still one Put Blob. 0 or -errno. */
static int az_writer_room(struct az_writer *w)
{
	int rc = 0;

	if (w->buf && w->fill == w->az->block_size)
		rc = az_writer_flush_block(w);
	if (rc == 0 && !w->buf)
		rc = ufs_upload_alloc(w->up, w->az->block_size, &w->buf);
	return rc;
}

static ssize_t az_writer_pwrite(struct ufs_writer *wb, const void *data, size_t len, uint64_t off)
{
	struct az_writer *w = az_writer_of(wb);
	size_t done = 0;

	if (off != w->written)
		return -ESPIPE;
	while (done < len && w->err == 0) {
		size_t n = len - done;

		w->err = az_writer_room(w);
		if (w->err)
			break;
		if (n > w->az->block_size - w->fill)
			n = w->az->block_size - w->fill;
		memcpy(w->buf + w->fill, (const char *)data + done, n);
		w->fill += n;
		done += n;
		w->written += n;
	}
	return w->err ? w->err : (ssize_t)len;
}

static int az_writer_fsync(struct ufs_writer *wb)
{
	struct az_writer *w = az_writer_of(wb);
	int rc = ufs_upload_wait(w->up);

	if (rc && !w->err)
		w->err = rc;
	return w->err;
}

/* Commit what was written: one Put Blob, or the last block + Put Block List. */
static int az_writer_commit(struct az_writer *w)
{
	int rc;

	if (w->nblocks == 0)
		return az_put_blob(w);
	rc = w->fill ? az_writer_flush_block(w) : 0;
	if (rc == 0)
		rc = ufs_upload_wait(w->up);
	if (rc == 0)
		rc = az_put_block_list(w);
	return rc;
}

static void az_writer_free(struct az_writer *w)
{
	if (w->buf)
		ufs_upload_free(w->up, w->buf, w->az->block_size);
	ufs_upload_destroy(w->up); /* drops queued blocks, joins the threads */
	free(w->key);
	free(w);
}

static int az_writer_close(struct ufs_writer *wb)
{
	struct az_writer *w = az_writer_of(wb);
	int rc = w->err;

	if (rc == 0)
		rc = az_writer_commit(w);
	if (rc == -ESTALE && w->excl)
		rc = -EEXIST; /* If-None-Match: * refused */
	if (rc)
		ufs_warn("az %s: upload of '%s' failed: %s (nothing committed)", w->az->base.name,
			 w->key, strerror(-rc));
	az_writer_free(w);
	return rc;
}

static void az_writer_abort(struct ufs_writer *wb)
{
	az_writer_free(az_writer_of(wb));
}

static const struct ufs_writer_ops az_writer_ops = {
    .pwrite = az_writer_pwrite,
    .truncate = NULL,
    .fsync = az_writer_fsync,
    .close = az_writer_close,
    .abort = az_writer_abort,
};

static int az_open_writer(struct ufs_backend *be, const char *path, int flags, mode_t mode,
			  struct ufs_writer **pw)
{
	struct az_backend *az = az_of(be);
	struct az_writer *w = calloc(1, sizeof(*w));
	int wait_ms = (int)(be->gcfg ? be->gcfg->op_timeout * 1000 : 20000);
	int rc = w ? 0 : -ENOMEM;

	(void)mode;
	if (rc == 0) {
		w->base.ops = &az_writer_ops;
		w->base.be = be;
		w->az = az;
		w->excl = (flags & O_CREAT) && (flags & O_EXCL);
		w->key = az_key(az, path);
		rc = w->key ? 0 : -ENOMEM;
	}
	if (rc == 0)
		rc = ufs_upload_create(be->budget, az->parallel, wait_ms, az_put_block, w, &w->up);
	if (rc) {
		if (w)
			free(w->key);
		free(w);
		return rc;
	}
	*pw = &w->base;
	return 0;
}

/* ---- namespace operations ------------------------------------------------ */

static int az_unlink(struct ufs_backend *be, const char *path)
{
	struct az_backend *az = az_of(be);
	char *key = az_key(az, path);
	int rc = key ? az_simple(az, UFS_REQ_DELETE, "DELETE", az_url(az, key, NULL), NULL, NULL)
		     : -ENOMEM;

	free(key);
	return rc;
}

static int az_mkdir(struct ufs_backend *be, const char *path, mode_t mode)
{
	struct az_backend *az = az_of(be);
	struct ufs_http_hdrs h = {0};
	struct ufs_attr a;
	char *key;
	int rc;

	(void)mode;
	rc = az_getattr(be, path, &a);
	if (rc != -ENOENT)
		return rc == 0 ? -EEXIST : rc;
	key = az_key(az, path);
	rc = key ? ufs_http_hdrs_add(&h, "x-ms-blob-type: BlockBlob") : -ENOMEM;
	if (rc == 0)
		rc = ufs_http_hdrs_add(&h, "x-ms-meta-hdi_isfolder: true");
	if (rc == 0)
		rc = ufs_http_hdrs_add(&h, "If-None-Match: *");
	if (rc == 0)
		rc = az_put(az, az_url(az, key, NULL), &h, NULL, 0);
	ufs_http_hdrs_clear(&h);
	free(key);
	return rc == -ESTALE ? -EEXIST : rc;
}

static int az_rmdir(struct ufs_backend *be, const char *path)
{
	struct az_backend *az = az_of(be);
	struct ufs_attr a;
	char *key, *dir = NULL;
	int rc;

	if (!*path)
		return -EBUSY;
	rc = az_getattr(be, path, &a);
	if (rc == 0 && !S_ISDIR(a.mode))
		rc = -ENOTDIR;
	key = rc == 0 ? az_key(az, path) : NULL;
	if (rc == 0 && (!key || asprintf(&dir, "%s/", key) < 0))
		rc = -ENOMEM;
	if (rc == 0) {
		rc = az_count(az, dir, 2, 0);
		rc = rc > 0 ? -ENOTEMPTY : rc;
	}
	if (rc == 0) {
		/* the marker blob; an implicit directory has none (404 is fine) */
		rc = az_simple(az, UFS_REQ_DELETE, "DELETE", az_url(az, key, NULL), NULL, NULL);
		if (rc == -ENOENT)
			rc = 0;
		if (rc == 0)
			rc = az_simple(az, UFS_REQ_DELETE, "DELETE", az_url(az, dir, NULL), NULL,
				       NULL);
		if (rc == -ENOENT)
			rc = 0;
	}
	free(key);
	free(dir);
	return rc;
}

/* Poll the destination until a pending server-side copy ends. */
static int az_copy_wait(struct az_backend *az, const char *key)
{
	double limit = az->base.gcfg ? az->base.gcfg->op_timeout * 10 : 200;

	for (double waited = 0; waited < limit; waited += 0.05) {
		struct ufs_http_resp resp = {.content_length = -1};
		const char *st;
		int rc = az_simple(az, UFS_REQ_HEAD, "HEAD", az_url(az, key, NULL), NULL, &resp);

		st = rc == 0 ? ufs_http_hdrs_get(&resp.hdrs, "x-ms-copy-status") : NULL;
		if (rc == 0 && st && strncmp(st, "pending", 7) != 0)
			rc = strncmp(st, "success", 7) == 0 ? 0 : -EIO;
		else if (rc == 0 && st)
			rc = 1;
		ufs_http_resp_clear(&resp);
		if (rc <= 0)
			return rc;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

/* Copy Blob from -> to (full names); src_etag pins the source version. */
static int az_copy(struct az_backend *az, const char *from, const char *to, const char *src_etag,
		   int noreplace)
{
	struct ufs_http_resp resp = {.content_length = -1};
	struct ufs_http_hdrs h = {0};
	char *src = az_url(az, from, NULL);
	const char *st;
	int rc = src ? ufs_http_hdrs_add(&h, "x-ms-copy-source: %s", src) : -ENOMEM;

	if (rc == 0 && src_etag[0])
		rc = ufs_http_hdrs_add(&h, "x-ms-source-if-match: \"%s\"", src_etag);
	if (rc == 0 && noreplace)
		rc = ufs_http_hdrs_add(&h, "If-None-Match: *");
	if (rc == 0)
		rc = az_simple(az, UFS_REQ_COPY, "PUT", az_url(az, to, NULL), &h, &resp);
	st = rc == 0 ? ufs_http_hdrs_get(&resp.hdrs, "x-ms-copy-status") : NULL;
	if (st && strncmp(st, "success", 7) != 0)
		rc = az_copy_wait(az, to);
	ufs_http_hdrs_clear(&h);
	ufs_http_resp_clear(&resp);
	free(src);
	return rc;
}

static int az_rename(struct ufs_backend *be, const char *from, const char *to, unsigned flags)
{
	struct az_backend *az = az_of(be);
	struct ufs_attr a, b;
	char *kf = NULL, *kt = NULL;
	int rc;

	if (flags & ~1u) /* RENAME_NOREPLACE only; RENAME_EXCHANGE cannot be atomic here */
		return -EINVAL;
	rc = az_getattr(be, from, &a);
	if (rc == 0 && S_ISDIR(a.mode))
		rc = -EXDEV; /* a directory is many blobs: let mv copy them */
	if (rc == 0) {
		rc = az_getattr(be, to, &b);
		rc = rc == -ENOENT ? 0 : rc == 0 && S_ISDIR(b.mode) ? -EISDIR : rc;
		if (rc == 0 && (flags & 1u) && b.mode)
			rc = -EEXIST;
	}
	kf = rc == 0 ? az_key(az, from) : NULL;
	kt = rc == 0 ? az_key(az, to) : NULL;
	if (rc == 0 && (!kf || !kt))
		rc = -ENOMEM;
	if (rc == 0)
		rc = az_copy(az, kf, kt, a.etag, flags & 1u);
	if (rc == 0)
		rc = az_simple(az, UFS_REQ_DELETE, "DELETE", az_url(az, kf, NULL), NULL, NULL);
	free(kf);
	free(kt);
	return rc == -ESTALE && (flags & 1u) ? -EEXIST : rc;
}

static int az_statfs(struct ufs_backend *be, struct statvfs *pst)
{
	(void)be;
	memset(pst, 0, sizeof(*pst));
	pst->f_bsize = 1 << 20;
	pst->f_frsize = 1 << 20;
	pst->f_blocks = pst->f_bfree = pst->f_bavail = 1ULL << 30; /* 1 EiB: no quota */
	pst->f_files = pst->f_ffree = pst->f_favail = 1ULL << 32;
	pst->f_namemax = NAME_MAX;
	return 0;
}

/* ---- create, check, destroy ---------------------------------------------- */

/* Read a secret file (refused when group/other may read it), trimmed. */
static int az_read_secret(const char *path, char **pout, char *err, size_t errlen)
{
	char buf[8192];
	size_t n, b = 0;
	FILE *f;
	int rc = ufs_check_secret_file(path, err, errlen);

	if (rc)
		return rc;
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	while (b < n && isspace((unsigned char)buf[b]))
		b++;
	*pout = strndup(buf + b, n - b);
	OPENSSL_cleanse(buf, sizeof(buf));
	return *pout ? 0 : -ENOMEM;
}

static int az_set_key(struct az_backend *az, const char *b64, const char *from, char *err,
		      size_t errlen)
{
	int n = ufs_base64_decode(b64, az->cred.key, sizeof(az->cred.key));

	if (n <= 0) {
		snprintf(err, errlen, "%s is not a base64 account key", from);
		return -EINVAL;
	}
	az->cred.key_len = (size_t)n;
	az->auth = AZ_AUTH_KEY;
	return 0;
}

static int az_set_sas(struct az_backend *az, const char *sas)
{
	az->sas = strdup(sas[0] == '?' ? sas + 1 : sas);
	az->auth = AZ_AUTH_SAS;
	return az->sas ? 0 : -ENOMEM;
}

/* AccountKey or SharedAccessSignature of AZURE_STORAGE_CONNECTION_STRING. */
static int az_conn_creds(struct az_backend *az, char *err, size_t errlen)
{
	const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
	char *key = ufs_az_conn_get(cs, "AccountKey");
	char *sas = key ? NULL : ufs_az_conn_get(cs, "SharedAccessSignature");
	int rc = 0;

	if (key)
		rc = az_set_key(az, key, "AZURE_STORAGE_CONNECTION_STRING's AccountKey", err,
				errlen);
	else if (sas)
		rc = az_set_sas(az, sas);
	if (key)
		OPENSSL_cleanse(key, strlen(key));
	if (sas)
		OPENSSL_cleanse(sas, strlen(sas));
	free(key);
	free(sas);
	return rc;
}

/* Credentials from one of account_key / sas_token / key_file / sas_file /
 * token_file (explicit config first), else from AZURE_STORAGE_KEY /
 * AZURE_STORAGE_SAS_TOKEN, else from the connection string, else anonymous.
 * Secret values never reach err or the log. */
static int az_load_creds(struct az_backend *az, const struct ufs_mount_cfg *m, char *err,
			 size_t errlen)
{
	const char *ak = ufs_mcfg_get(m, "account_key"), *st = ufs_mcfg_get(m, "sas_token");
	const char *kf = ufs_mcfg_get(m, "key_file"), *sf = ufs_mcfg_get(m, "sas_file");
	const char *tf = ufs_mcfg_get(m, "token_file"), *env;
	char *text = NULL;
	int rc = 0;

	if (!!ak + !!st + !!kf + !!sf + !!tf > 1) {
		snprintf(err, errlen,
			 "set only one of account_key, sas_token, key_file, sas_file and "
			 "token_file");
		return -EINVAL;
	}
	if (kf || sf)
		rc = az_read_secret(kf ? kf : sf, &text, err, errlen);
	if (rc == 0 && ak)
		rc = az_set_key(az, ak, "account_key", err, errlen);
	else if (rc == 0 && st)
		rc = az_set_sas(az, st);
	else if (rc == 0 && kf)
		rc = az_set_key(az, text, kf, err, errlen);
	else if (rc == 0 && sf)
		rc = az_set_sas(az, text);
	else if (rc == 0 && tf) {
		rc = ufs_check_secret_file(tf, err, errlen);
		az->token_file = rc ? NULL : strdup(tf);
		az->cred.token_file = az->token_file;
		az->auth = AZ_AUTH_BEARER;
		rc = rc ? rc : az->token_file ? 0 : -ENOMEM;
	} else if (rc == 0 && (env = getenv("AZURE_STORAGE_KEY")) && *env) {
		rc = az_set_key(az, env, "AZURE_STORAGE_KEY", err, errlen);
	} else if (rc == 0 && (env = getenv("AZURE_STORAGE_SAS_TOKEN")) && *env) {
		rc = az_set_sas(az, env);
	} else if (rc == 0) {
		rc = az_conn_creds(az, err, errlen);
	}
	if (text)
		OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

/* Location and tuning keys of the section. */
static int az_parse_cfg(struct az_backend *az, const struct ufs_mount_cfg *m,
			const struct ufs_config *g, char *err, size_t errlen)
{
	const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
	const char *account = ufs_mcfg_get(m, "account"), *endpoint = ufs_mcfg_get(m, "endpoint");
	char *cs_account = ufs_az_conn_get(cs, "AccountName");
	char *cs_endpoint = ufs_az_conn_get(cs, "BlobEndpoint");
	uint64_t def = g && g->part_size ? g->part_size : 8ULL << 20;
	int rc;

	if (!account)
		account = getenv("AZURE_STORAGE_ACCOUNT");
	if (!account)
		account = cs_account;
	if (!endpoint)
		endpoint = cs_endpoint;
	rc = ufs_az_parse_url(m->url, &az->container, &az->prefix, err, errlen);
	if (rc == 0)
		rc = ufs_az_parse_endpoint(endpoint, account, &az->endpoint, &az->account, err,
					   errlen);
	free(cs_account);
	free(cs_endpoint);
	if (rc == 0 && ufs_mcfg_get_size(m, "block_size", def, &az->block_size) != 0) {
		snprintf(err, errlen, "block_size: not a size");
		rc = -EINVAL;
	}
	if (rc == 0 && (az->block_size < (64 << 10) || az->block_size > (4000ULL << 20))) {
		snprintf(err, errlen, "block_size must be between 64K and 4000M");
		rc = -EINVAL;
	}
	az->parallel = g && g->workers ? (g->workers < 8 ? g->workers : 8) : 4;
	return rc;
}

static void az_destroy(struct ufs_backend *be)
{
	struct az_backend *az = az_of(be);

	if (!az)
		return;
	OPENSSL_cleanse(az->cred.key, sizeof(az->cred.key));
	if (az->sas)
		OPENSSL_cleanse(az->sas, strlen(az->sas));
	if (az->cred.token)
		OPENSSL_cleanse(az->cred.token, strlen(az->cred.token));
	free(az->cred.token);
	pthread_mutex_destroy(&az->cred.lock);
	free(az->sas);
	free(az->token_file);
	free(az->account);
	free(az->container);
	free(az->prefix);
	free(az->endpoint);
	ufs_be_fini(&az->base);
	free(az);
}

static int az_create(const struct ufs_mount_cfg *m, const struct ufs_config *g,
		     struct ufs_backend **pbe, char *err, size_t errlen)
{
	struct az_backend *az = calloc(1, sizeof(*az));
	char msg[384] = "out of memory";
	int rc;

	if (!az) {
		snprintf(err, errlen, "mount %s: out of memory", m->prefix);
		return -ENOMEM;
	}
	ufs_be_init(&az->base, &ufs_az_ops, m, g);
	pthread_mutex_init(&az->cred.lock, NULL);
	rc = az_parse_cfg(az, m, g, msg, sizeof(msg));
	if (rc == 0)
		rc = az_load_creds(az, m, msg, sizeof(msg));
	if (rc) {
		snprintf(err, errlen, "mount %s: %s", m->prefix, msg);
		az_destroy(&az->base);
		return rc;
	}
	az->cred.account = az->account;
	clock_gettime(CLOCK_REALTIME, &az->created);
	if (az->auth == AZ_AUTH_NONE)
		ufs_info("az %s: no credentials (account_key, sas_token, key_file, sas_file, "
			 "token_file, AZURE_STORAGE_KEY): anonymous access",
			 m->prefix);
	*pbe = &az->base;
	return 0;
}

static const char *az_auth_hint(const struct az_backend *az)
{
	switch (az->auth) {
	case AZ_AUTH_KEY:
		return "check account_key / key_file / AZURE_STORAGE_KEY";
	case AZ_AUTH_SAS:
		return "check sas_token / sas_file / AZURE_STORAGE_SAS_TOKEN: invalid, expired or "
		       "lacking "
		       "permissions";
	case AZ_AUTH_BEARER:
		return "check token_file";
	default:
		return "no credentials: set account_key, key_file or AZURE_STORAGE_KEY";
	}
}

static int az_check(struct ufs_backend *be, char *err, size_t errlen)
{
	struct az_backend *az = az_of(be);
	struct ufs_http_resp resp = {.content_length = -1};
	char *q = az->auth == AZ_AUTH_SAS || az->auth == AZ_AUTH_NONE
		      ? "restype=container&comp=list&maxresults=1"
		      : "restype=container";
	int rc = az_simple(az, UFS_REQ_OTHER, "GET", az_url(az, NULL, q), NULL, &resp);

	if (rc == -ENOENT && strcmp(resp.err_code, "ResourceNotFound") != 0)
		snprintf(err, errlen, "mount %s: container '%s' does not exist in account '%s'",
			 be->name, az->container, az->account);
	else if (rc == -EACCES || rc == -ENOENT)
		snprintf(err, errlen, "mount %s: authentication failed for account '%s' (%s)%s%s",
			 be->name, az->account, az_auth_hint(az), resp.err_code[0] ? ": " : "",
			 resp.err_code);
	else if (rc)
		snprintf(err, errlen, "mount %s: %s: %s", be->name, az->endpoint, strerror(-rc));
	if (rc == -ENOENT && strcmp(resp.err_code, "ResourceNotFound") == 0)
		rc = -EACCES; /* anonymous access to a private container */
	ufs_http_resp_clear(&resp);
	return rc;
}

const struct ufs_backend_ops ufs_az_ops = {
    .scheme = "az",
    .caps = 0,
    .create = az_create,
    .check = az_check,
    .getattr = az_getattr,
    .list = az_list,
    .read = az_read,
    .open_writer = az_open_writer,
    .unlink = az_unlink,
    .mkdir = az_mkdir,
    .rmdir = az_rmdir,
    .rename = az_rename,
    .statfs = az_statfs,
    .destroy = az_destroy,
};
